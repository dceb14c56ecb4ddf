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
    /// How long `run_sql_query` waits for a statement before handing back its id.
    pub sql_timeout: Duration,
    /// Most rows a SQL answer shows.
    pub max_rows: usize,
    /// Most characters of a tool answer's text.
    pub max_chars: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_warehouse_id: None,
            allow_writes: false,
            sql_timeout: Duration::from_secs(50),
            max_rows: 100,
            max_chars: 20_000,
        }
    }
}
