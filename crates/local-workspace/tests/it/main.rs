//! Integration tests of the local workspace: real HTTP on loopback against `serve()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod bad_input;
mod dialect;
mod python_sdk;
mod serving;
mod smoke;
mod support;
mod write_paths;
mod writes;
