//! An embedded, Databricks-compatible workspace: Apache DataFusion for SQL and delta-rs for
//! Delta tables over a directory, TPC-H sample data, and the Databricks REST API subset the
//! MCP server uses, served on loopback with a random bearer token.
//!
//! ```no_run
//! # async fn demo() -> Result<(), local_workspace::LocalError> {
//! use local_workspace::{LocalOptions, LocalWorkspace};
//! let ws = LocalWorkspace::open(&LocalWorkspace::default_dir(), LocalOptions::default()).await?;
//! let api = ws.serve("127.0.0.1:0".parse().expect("address")).await?;
//! println!("host {} token {}", api.base_url, api.token);
//! api.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The directory layout is described in `layout.rs`; the SQL dialect (what is rewritten,
//! what is refused) in `dialect.rs` and `commands.rs`; the REST surface in `api/`.

#![allow(clippy::result_large_err)]
// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod api;
mod delta;
mod delta_read;
mod dialect;
mod engine;
mod error;
mod functions;
mod genie;
mod info_schema;
mod json;
mod lakehouse;
mod layout;
mod render;
mod samples;
mod script;
mod sqlfn;
mod types;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api::serving::{ChatModel, DEFAULT_MODEL_ENDPOINT};
pub use engine::{session_config, session_context};
pub use error::LocalError;

/// The id of the one SQL warehouse, which represents the local engine.
pub const WAREHOUSE_ID: &str = "10ca1da7af051000";

/// The id of the one cluster, which also represents the local engine.
pub const CLUSTER_ID: &str = "0000-000000-local0000";

/// How a local workspace is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalOptions {
    /// TPC-H scale factor of `samples.tpch` when it is first generated (0.1 ≈ 100 MB of
    /// source data, 600k line items).
    pub scale_factor: f64,
    /// Whether SQL writes (CREATE TABLE [AS], INSERT), workspace imports, volume uploads and
    /// pipeline updates are allowed.
    pub allow_writes: bool,
    /// Show a progress bar on stderr while generating samples (only when it is a terminal).
    pub progress: bool,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            scale_factor: 0.1,
            allow_writes: false,
            progress: true,
        }
    }
}

/// A local workspace over a directory. Cheap to clone.
#[derive(Clone)]
pub struct LocalWorkspace {
    shared: Arc<api::Shared>,
}

impl std::fmt::Debug for LocalWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWorkspace")
            .field("dir", &self.shared.layout.root)
            .field("allow_writes", &self.shared.engine.allow_writes)
            .finish()
    }
}

impl LocalWorkspace {
    /// Opens (creating on first use) the workspace in `dir`: its layout, the starter objects
    /// and `samples.tpch`. Deterministic and idempotent.
    pub async fn open(dir: &Path, options: LocalOptions) -> Result<LocalWorkspace, LocalError> {
        if !options.scale_factor.is_finite()
            || options.scale_factor <= 0.0
            || options.scale_factor > 1000.0
        {
            return Err(LocalError::InvalidOptions(format!(
                "scale factor {} must be a number in (0, 1000]",
                options.scale_factor
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| LocalError::io(dir, e))?;
        let root = std::fs::canonicalize(dir).map_err(|e| LocalError::io(dir, e))?;
        let layout = layout::Layout::new(root);
        samples::ensure_starter(&layout).await?;
        api::genie_one::ensure_sample_space(&layout)?;
        // A fresh directory answers at once: the TPC-H samples are generated in the
        // background, and statements that read them are asked to retry until then.
        let samples = Arc::new(samples::SamplesStatus::ready());
        if !samples::tpch_ready(&layout) {
            samples::generate_tpch_in_background(
                layout.clone(),
                options.scale_factor,
                options.progress,
                samples.clone(),
            );
        }
        let lake = lakehouse::Lakehouse::new(layout.clone());
        let engine = engine::Engine::new(lake, options.allow_writes, layout::user_name());
        let shared = api::Shared::new(layout, engine, samples)?;
        Ok(LocalWorkspace {
            shared: Arc::new(shared),
        })
    }

    /// `$XDG_DATA_HOME/databricks-mcp/local`, or `~/.local/share/databricks-mcp/local`.
    pub fn default_dir() -> PathBuf {
        layout::default_dir()
    }

    /// Whether `samples.tpch` is ready (it is generated in the background on first use).
    pub fn samples_ready(&self) -> bool {
        self.shared.samples.is_ready()
    }

    /// Waits until `samples.tpch` is ready or could not be generated, at most `timeout`.
    pub async fn wait_for_samples(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.shared.samples.unavailable() {
                None => return true,
                Some((false, _)) => return false,
                Some((true, _)) if std::time::Instant::now() >= deadline => return false,
                Some((true, _)) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    /// Serves `model` as a Model Serving chat endpoint from now on (also on servers already
    /// started), or no endpoint with `None` (the default). Errors on a URL that is not
    /// http(s).
    pub fn set_chat_model(&self, model: Option<ChatModel>) -> Result<(), LocalError> {
        self.shared.serving.set(model)
    }

    /// The chat model served, if any.
    pub fn chat_model(&self) -> Option<ChatModel> {
        self.shared.serving.model()
    }

    /// The workspace directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.shared.layout.root
    }

    /// The workspace's services, for `workspace_server::front::serve` (or any server of the
    /// REST contract); `base_url` is the server's own URL, which the warehouse's JDBC URL
    /// and statements' links name.
    pub fn backends(&self, base_url: &str) -> databricks_api::backend::Backends {
        api::backends(&self.shared, base_url)
    }
}

/// The runtime local statements execute on, apart from the caller's: DataFusion keeps its
/// threads busy for the length of a heavy query, and the REST API and the MCP server must
/// still answer (a poll, a cancel, a metadata call) meanwhile. As many threads as cores;
/// the operating system shares the cores with the caller's threads.
pub fn engine_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    static FALLBACK: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("local-engine")
            .enable_all()
            .build()
            .map_err(
                |e| tracing::warn!(error = %e, "no engine runtime: statements share the caller's"),
            )
            .ok()
    });
    match built {
        Some(runtime) => runtime.handle(),
        None => FALLBACK.get_or_init(tokio::runtime::Handle::current),
    }
}
