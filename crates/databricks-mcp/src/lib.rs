//! databricks-mcp: a Model Context Protocol server for Databricks.
//!
//! Layers (see ARCHITECTURE.md): `databricks-client` talks to Databricks; this crate is
//! the only one that knows MCP. `tools` declares the tool surface, `server` adapts it to
//! rmcp, `transport` serves it over stdio or streamable HTTP, `render` keeps answers
//! within a context budget, `warehouse` chooses where SQL runs,
//! `view` shows SQL results as an MCP App (table + chart).

// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod audit;
pub mod chat;
pub mod cli;
pub mod completion;
pub mod confirm;
pub mod context;
pub mod doctor;
pub mod error;
pub mod http_auth;
pub mod logging;
pub mod lookup;
pub mod memory;
pub mod oauth;
pub mod prompts;
pub mod render;
pub mod resources;
pub mod server;
pub mod settings;
pub mod startup;
pub mod state;
pub mod surfaces;
pub mod tasks;
pub mod tools;
pub mod transport;
pub mod view;
pub mod warehouse;

pub use server::DatabricksMcp;
pub use settings::Settings;
pub use state::AppState;
