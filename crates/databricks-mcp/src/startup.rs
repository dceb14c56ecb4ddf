//! From command-line options to a ready server state.

use std::path::PathBuf;
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

pub fn settings(common: &CommonArgs, config: Option<&Config>) -> Result<Settings, StartupError> {
    Ok(Settings {
        default_warehouse_id: config.and_then(|c| c.warehouse_id.clone()),
        allow_writes: common.allow_writes,
        confirm_writes: common.confirm_writes,
        audit_log: common.audit_log.clone(),
        allow_side_effect_functions: common.allow_side_effect_functions,
        sql_timeout: Duration::from_secs(common.sql_timeout.clamp(1, 3600)),
        max_rows: common.max_rows.clamp(1, MAX_ROWS_PER_ANSWER as usize),
        max_chars: common.max_chars.clamp(1000, 1_000_000),
        sql_disposition: common.sql_disposition,
        tools: crate::tools::ToolSelection::parse(&common.toolsets, &common.tools)?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Databricks(#[from] databricks_client::Error),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error("the local workspace could not start: {0}")]
    Local(String),
    #[error(transparent)]
    Selection(#[from] crate::tools::SelectionError),
}

impl From<databricks_client::ConfigError> for StartupError {
    fn from(e: databricks_client::ConfigError) -> StartupError {
        StartupError::Databricks(e.into())
    }
}

/// Where the tools' Databricks calls go.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A Databricks workspace, as configured.
    Remote,
    /// The embedded local workspace in this directory.
    Local(PathBuf),
}

/// `--local DIR` wins; otherwise any Databricks configuration at all means a real
/// workspace (a broken one is an error, never a silent fall-back); with none, the local
/// workspace in its default directory (when built with the `local` feature).
pub fn choose_backend(common: &CommonArgs, env: &dyn EnvSource) -> Backend {
    if let Some(dir) = &common.local {
        return Backend::Local(dir.clone());
    }
    let overridden =
        common.host.is_some() || common.profile.is_some() || common.config_file.is_some();
    if overridden || Config::is_configured(env) || !cfg!(feature = "local") {
        return Backend::Remote;
    }
    Backend::Local(default_local_dir())
}

fn default_local_dir() -> PathBuf {
    #[cfg(feature = "local")]
    {
        local_workspace::LocalWorkspace::default_dir()
    }
    #[cfg(not(feature = "local"))]
    {
        PathBuf::from("databricks-mcp-local")
    }
}

/// Builds the shared state for the chosen backend. Fails (rather than starting a server
/// whose every call would fail) when the configuration is missing or broken.
pub async fn build_state(
    common: &CommonArgs,
    env: &dyn EnvSource,
) -> Result<Arc<AppState>, StartupError> {
    match choose_backend(common, env) {
        Backend::Remote => {
            let config = Config::resolve(&overrides(common), env)?;
            Ok(Arc::new(state_for(&config, common, None)?))
        }
        Backend::Local(dir) => start_local(common, &dir, env).await,
    }
}

fn state_for(
    config: &Config,
    common: &CommonArgs,
    local: Option<crate::state::LocalBackend>,
) -> Result<AppState, StartupError> {
    let client = DatabricksClient::with_options(
        config,
        ClientOptions {
            product: format!("databricks-mcp/{}", env!("CARGO_PKG_VERSION")),
            ..ClientOptions::from_config(config)
        },
    )?;
    let settings = settings(common, Some(config))?;
    let audit = settings
        .audit_log
        .as_deref()
        .map(crate::audit::AuditLog::open)
        .transpose()?;
    let mut state = AppState::new(client, settings);
    state.writes.audit = audit;
    state.local = local;
    Ok(state)
}

#[cfg(feature = "local")]
fn local_options(common: &CommonArgs) -> local_workspace::LocalOptions {
    use std::io::IsTerminal;
    local_workspace::LocalOptions {
        scale_factor: common.local_scale_factor,
        allow_writes: common.allow_writes,
        progress: std::io::stderr().is_terminal(),
    }
}

#[cfg(feature = "local")]
async fn start_local(
    common: &CommonArgs,
    dir: &std::path::Path,
    process_env: &dyn EnvSource,
) -> Result<Arc<AppState>, StartupError> {
    use databricks_client::MapEnv;
    use local_workspace::LocalWorkspace;

    eprintln!(
        "databricks-mcp: {} — using the local workspace in {} (DataFusion + Delta Lake, samples.tpch). Set DATABRICKS_HOST and DATABRICKS_TOKEN, or a ~/.databrickscfg profile, to use a Databricks workspace.",
        if common.local.is_some() {
            "--local given"
        } else {
            "no Databricks configuration found"
        },
        dir.display()
    );
    let workspace = LocalWorkspace::open(dir, local_options(common))
        .await
        .map_err(|e| StartupError::Local(e.to_string()))?;
    configure_model(&workspace, common)?;
    let api = serve_workspace(&workspace, std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    // The tools reach the local workspace through the REST client like any workspace.
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", api.base_url.as_str())
        .with("DATABRICKS_TOKEN", api.token.as_str());
    // The default warehouse is honoured as for any workspace: the flag, then the
    // environment. The local workspace has one warehouse; another id gets its clear
    // "does not exist, the local workspace has one warehouse: …" from the call.
    let config = Config::resolve(
        &ConfigOverrides {
            warehouse_id: common
                .warehouse_id
                .clone()
                .or_else(|| process_env.var("DATABRICKS_WAREHOUSE_ID")),
            ..ConfigOverrides::default()
        },
        &env,
    )?;
    let local = crate::state::LocalBackend {
        dir: workspace.dir().to_path_buf(),
        keep_alive: Box::new((workspace, api)),
    };
    Ok(Arc::new(state_for(&config, common, Some(local))?))
}

/// The one place a backend meets the server: the local workspace's services served on
/// `addr` (loopback) by the shared workspace server, with a fresh token.
#[cfg(feature = "local")]
async fn serve_workspace(
    workspace: &local_workspace::LocalWorkspace,
    addr: std::net::SocketAddr,
) -> Result<workspace_server::front::RunningApi, StartupError> {
    workspace_server::front::serve(addr, |base_url| workspace.backends(base_url))
        .await
        .map_err(|e| StartupError::Local(e.to_string()))
}

/// `--local-model-url`: the local workspace's Model Serving chat endpoint forwards to it.
#[cfg(feature = "local")]
fn configure_model(
    workspace: &local_workspace::LocalWorkspace,
    common: &CommonArgs,
) -> Result<(), StartupError> {
    let Some(url) = &common.local_model_url else {
        return Ok(());
    };
    let mut model = local_workspace::ChatModel::new(url.clone());
    model.name.clone_from(&common.local_model);
    model.token = std::env::var("DATABRICKS_MCP_LOCAL_MODEL_TOKEN").ok();
    workspace
        .set_chat_model(Some(model))
        .map_err(|e| StartupError::Local(format!("--local-model-url: {e}")))
}

#[cfg(not(feature = "local"))]
async fn start_local(
    _common: &CommonArgs,
    dir: &std::path::Path,
    _process_env: &dyn EnvSource,
) -> Result<Arc<AppState>, StartupError> {
    Err(StartupError::Local(format!(
        "this build has no local workspace (built without the `local` feature); cannot serve {}",
        dir.display()
    )))
}

/// `databricks-mcp local api`: the local workspace's REST API alone, until ctrl-c.
#[cfg(feature = "local")]
pub async fn serve_local_api(
    common: &CommonArgs,
    listen: std::net::SocketAddr,
) -> Result<(), StartupError> {
    use local_workspace::LocalWorkspace;

    let dir = common.local.clone().unwrap_or_else(default_local_dir);
    let workspace = LocalWorkspace::open(&dir, local_options(common))
        .await
        .map_err(|e| StartupError::Local(e.to_string()))?;
    configure_model(&workspace, common)?;
    let api = serve_workspace(&workspace, listen).await?;
    // The one line a script reads; the token is the local workspace's own random token.
    println!(
        "{}",
        serde_json::json!({
            "host": api.base_url,
            "token": api.token,
            "warehouse_id": local_workspace::WAREHOUSE_ID,
            "dir": workspace.dir(),
        })
    );
    eprintln!(
        "databricks-mcp: local workspace {} serving the Databricks REST API at {} (ctrl-c to stop)",
        workspace.dir().display(),
        api.base_url
    );
    let _ = tokio::signal::ctrl_c().await;
    api.shutdown().await;
    Ok(())
}

#[cfg(not(feature = "local"))]
pub async fn serve_local_api(
    _common: &CommonArgs,
    _listen: std::net::SocketAddr,
) -> Result<(), StartupError> {
    Err(StartupError::Local(
        "this build has no local workspace (built without the `local` feature)".into(),
    ))
}
