//! A Databricks REST client: configuration and unified authentication, one HTTP
//! client (connection pool, retries, rate limit, deadlines, error parsing) and typed
//! service modules. It knows nothing of MCP.
//!
//! Entry point: [`Config::resolve`] then [`DatabricksClient::new`].

// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod auth;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod pagination;
pub mod poll;
pub mod pool;
pub mod services;
pub mod statements;

pub use auth::{AuthError, Credentials};
pub use config::{Config, ConfigError, ConfigOverrides, EnvSource, MapEnv, ProcessEnv};
pub use error::{ApiError, Error, ErrorKind};
pub use http::{ClientOptions, DatabricksClient};
