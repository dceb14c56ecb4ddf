//! The Databricks REST contract: the models of every endpoint this project calls or
//! serves, with no I/O. The client (`databricks-client`) deserializes them; the workspace
//! emulator and the embedded local workspace serialize them. One definition, so the three
//! cannot disagree on a shape.
//!
//! Models are tolerant, as the REST reference requires: every response field is optional
//! (`#[serde(default)]`), enums stay open (unknown values are kept as strings), and
//! unknown fields are ignored.
//!
//! `tests/fixtures.rs` is the oracle: every recorded response of
//! `shared/databricks-api/fixtures` deserializes into its model and serializes back
//! without losing a field the model declares.

// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod attachment;
pub mod backend;
pub mod catalog;
pub mod cells;
pub mod compute;
pub mod endpoints;
pub mod error;
pub mod files;
pub mod functions;
pub mod genie;
pub mod genie_one;
pub mod history;
pub mod iam;
pub mod jobs;
pub mod lineage;
pub mod paging;
pub mod pipelines;
pub mod serving;
pub mod sql;
pub mod vector_search;
pub mod workspace;
