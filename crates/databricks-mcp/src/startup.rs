//! From command-line options to a ready server state.

use std::sync::Arc;
use std::time::Duration;

use databricks_client::{ClientOptions, Config, ConfigOverrides, DatabricksClient, EnvSource};

use crate::cli::CommonArgs;
use crate::settings::Settings;
use crate::state::AppState;
use crate::tools::sql::MAX_ROWS_PER_ANSWER;

pub fn overrides(common: &CommonArgs) -> ConfigOverrides {
    ConfigOverrides {
        host: common.host.clone(),
        profile: common.profile.clone(),
        config_file: common.config_file.clone(),
        auth_type: common.auth_type.clone(),
        warehouse_id: common.warehouse_id.clone(),
    }
}

pub fn settings(common: &CommonArgs, config: Option<&Config>) -> Settings {
    Settings {
        default_warehouse_id: config.and_then(|c| c.warehouse_id.clone()),
        allow_writes: common.allow_writes,
        sql_timeout: Duration::from_secs(common.sql_timeout.clamp(1, 3600)),
        max_rows: common.max_rows.clamp(1, MAX_ROWS_PER_ANSWER as usize),
        max_chars: common.max_chars.clamp(1000, 1_000_000),
        sql_disposition: common.sql_disposition,
    }
}

/// Resolves the Databricks configuration and builds the shared state. Fails (rather
/// than starting a server whose every call would fail) when the configuration is
/// missing or broken.
pub fn build_state(
    common: &CommonArgs,
    env: &dyn EnvSource,
) -> Result<Arc<AppState>, databricks_client::Error> {
    let config = Config::resolve(&overrides(common), env)?;
    let client = DatabricksClient::with_options(
        &config,
        ClientOptions {
            product: format!("databricks-mcp/{}", env!("CARGO_PKG_VERSION")),
            ..ClientOptions::from_config(&config)
        },
    )?;
    Ok(Arc::new(AppState::new(
        client,
        settings(common, Some(&config)),
    )))
}
