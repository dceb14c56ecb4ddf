//! Integration tests of the MCP server: one test binary (fast to link), real HTTP on
//! loopback against the Databricks emulator, real MCP clients (rmcp in-process, the
//! binary over stdio and HTTP).
#![allow(clippy::unwrap_used)]

mod bad_input;
#[cfg(feature = "local")]
mod chat;
mod faults;
mod genie_one;
mod http;
mod http_hardening;
#[cfg(feature = "local")]
mod local_e2e;
#[cfg(feature = "local")]
mod local_surfaces;
mod managed_surfaces;
mod mcp_features;
mod oauth;
mod operations;
mod python_genie_one;
mod python_managed;
mod python_sdk;
#[cfg(feature = "local")]
mod result_view;
mod security;
mod sql_lifecycle;
mod stdio;
mod stdio_surface;
mod support;
mod surface_snapshots;
mod tool_surface;
mod tools_e2e;
