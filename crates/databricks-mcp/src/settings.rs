//! Server settings chosen by the person running the server (flags, environment), as
//! opposed to tool arguments chosen by the model. Nothing here can be changed by a call.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `--warehouse-id` / `DATABRICKS_WAREHOUSE_ID`.
    pub default_warehouse_id: Option<String>,
    /// `--allow-writes`: SQL other than reads, and tools that change state, are refused
    /// unless this is set.
    pub allow_writes: bool,
    /// `--confirm-writes`: how the person confirms each write.
    pub confirm_writes: crate::confirm::ConfirmMode,
    /// `--audit-log`: where write attempts are recorded.
    pub audit_log: Option<std::path::PathBuf>,
    /// `--allow-side-effect-functions`: in read-only mode, let queries call functions whose
    /// effect leaves the statement (`http_request`, `reflect`, `ai_query`, …).
    pub allow_side_effect_functions: bool,
    /// How long `run_sql_query` waits for a statement before handing back its id.
    pub sql_timeout: Duration,
    /// Most rows a SQL answer shows.
    pub max_rows: usize,
    /// Most characters of a tool answer's text.
    pub max_chars: usize,
    /// How statement results travel.
    pub sql_disposition: Disposition,
    /// `--toolsets` / `--tools`: which tools of the full surface are served.
    pub tools: crate::tools::ToolSelection,
}

/// How statement results travel from the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Disposition {
    /// `INLINE_OR_EXTERNAL_LINKS` with Arrow: the workspace answers small results inline
    /// (one round trip) and large ones as external links. A workspace that does not know
    /// the hybrid disposition gets `EXTERNAL_LINKS` instead (the client remembers).
    #[default]
    Auto,
    /// Pre-signed links to Arrow IPC chunks in cloud storage: any size (up to 100 GiB),
    /// typed, compact. Needs this machine to reach the workspace's cloud storage.
    ExternalLinks,
    /// JSON chunks inside the API responses: fails for results over 25 MiB, but needs
    /// nothing but the workspace host.
    Inline,
}

impl Disposition {
    pub fn api_name(self) -> &'static str {
        match self {
            Disposition::Auto => databricks_client::services::sql::HYBRID_DISPOSITION,
            Disposition::ExternalLinks => "EXTERNAL_LINKS",
            Disposition::Inline => "INLINE",
        }
    }

    pub fn format(self) -> &'static str {
        match self {
            Disposition::Auto | Disposition::ExternalLinks => "ARROW_STREAM",
            Disposition::Inline => "JSON_ARRAY",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_warehouse_id: None,
            allow_writes: false,
            confirm_writes: Default::default(),
            audit_log: None,
            allow_side_effect_functions: false,
            sql_timeout: Duration::from_secs(50),
            max_rows: 100,
            max_chars: 20_000,
            sql_disposition: Disposition::default(),
            tools: crate::tools::ToolSelection::default(),
        }
    }
}

impl Settings {
    /// The read-only policy's options for sql-guard.
    pub fn guard_options(&self) -> sql_guard::Options {
        sql_guard::Options {
            allow_side_effect_functions: self.allow_side_effect_functions,
        }
    }
}
