//! One conformance suite, run against both backends of the workspace server: the fixture
//! emulator and the DataFusion local workspace. Each check is one test per backend, over
//! real HTTP on loopback, and reads the answers both as JSON and as the contract's
//! models. Where a backend and the reference differ, the reference wins.

mod clusters;
mod files;
mod genie_one;
mod genie_spaces;
mod history;
mod identity;
mod jobs;
mod lineage;
mod pipelines;
mod serving;
mod statements;
mod support;
mod unity_catalog;
mod vector_search;
mod warehouses;
mod workspace;
