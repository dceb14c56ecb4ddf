//! Integration tests of the local workspace: real HTTP on loopback against `serve()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod smoke;
mod explore;
mod dialect;
mod writes;
mod bad_input;
mod api;
