//! State shared by every session and call: one Databricks client (one connection
//! pool), the operator's settings and the warehouse cache.

use databricks_client::DatabricksClient;

use crate::settings::Settings;
use crate::warehouse::WarehouseSelector;

pub struct AppState {
    pub client: DatabricksClient,
    pub settings: Settings,
    pub warehouses: WarehouseSelector,
    /// Set when the server runs on the embedded local workspace.
    pub local: Option<LocalBackend>,
    /// Cancelled when the server stops serving (stdin closed): every call in flight is
    /// cancelled with it, so its statement is cancelled upstream and the process exits at
    /// once instead of waiting for long queries.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Tool failures by kind since start (logged with each failure).
    pub failures: crate::error::FailureCounts,
    /// Cached object names for completions and the resource list.
    pub lookup: crate::lookup::Lookup,
    /// How writes are confirmed, and the audit log.
    pub writes: crate::confirm::WriteGate,
}

/// The embedded local workspace this server started, kept alive as long as the state.
pub struct LocalBackend {
    pub dir: std::path::PathBuf,
    /// The workspace and its REST API server: dropped with the state.
    pub keep_alive: Box<dyn std::any::Any + Send + Sync>,
}

impl AppState {
    pub fn new(client: DatabricksClient, settings: Settings) -> AppState {
        let settings_mode = settings.confirm_writes;
        AppState {
            client,
            settings,
            warehouses: WarehouseSelector::default(),
            local: None,
            shutdown: tokio_util::sync::CancellationToken::new(),
            failures: Default::default(),
            lookup: Default::default(),
            writes: crate::confirm::WriteGate::new(settings_mode, None),
        }
    }
}
