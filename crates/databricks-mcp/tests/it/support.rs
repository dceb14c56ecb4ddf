//! Test harness: an emulator, a server wired to it, and an rmcp client connected to
//! the server over an in-memory duplex pipe (the full MCP protocol, no mocks).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use databricks_client::{ClientOptions, Config, ConfigOverrides, DatabricksClient, MapEnv};
use databricks_emulator::{Emulator, EmulatorConfig};
use databricks_mcp::{AppState, DatabricksMcp, Settings};
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub struct Harness {
    pub emulator: Emulator,
    pub client: RunningService<RoleClient, ()>,
    #[allow(dead_code)]
    pub server: DatabricksMcp,
}

pub fn env_for(emulator: &Emulator) -> MapEnv {
    let mut vars = HashMap::new();
    vars.insert("DATABRICKS_HOST".to_string(), emulator.base_url());
    vars.insert("DATABRICKS_TOKEN".to_string(), emulator.pat().to_string());
    MapEnv { vars, home: None }
}

pub fn fast_options() -> ClientOptions {
    ClientOptions {
        backoff_base: Duration::from_millis(20),
        http_timeout: Duration::from_secs(5),
        retry_timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    }
}

pub fn state_for(emulator: &Emulator, settings: Settings, options: ClientOptions) -> Arc<AppState> {
    let config = Config::resolve(&ConfigOverrides::default(), &env_for(emulator)).unwrap();
    let client = DatabricksClient::with_options(&config, options).unwrap();
    Arc::new(AppState::new(client, settings))
}

impl Harness {
    pub async fn start() -> Harness {
        // Every toolset, the opt-in ones (genie, vector_search) too.
        let settings = Settings {
            tools: databricks_mcp::tools::ToolSelection::all(),
            ..Settings::default()
        };
        Self::start_with(EmulatorConfig::default(), settings).await
    }

    pub async fn start_with(config: EmulatorConfig, settings: Settings) -> Harness {
        let emulator = Emulator::start_with(config).await;
        let state = state_for(&emulator, settings, fast_options());
        Self::connect(emulator, DatabricksMcp::new(state)).await
    }

    pub async fn connect(emulator: Emulator, server: DatabricksMcp) -> Harness {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let serving = server.clone();
        tokio::spawn(async move {
            let (read, write) = tokio::io::split(server_io);
            let transport = databricks_mcp::transport::line_transport(read, write);
            if let Ok(running) = serving.serve(transport).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.unwrap();
        Harness {
            emulator,
            client,
            server,
        }
    }

    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        self.call_with_meta(tool, args, None).await
    }

    pub async fn call_with_meta(
        &self,
        tool: &str,
        args: Value,
        meta: Option<Value>,
    ) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        let mut params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        if let Some(Value::Object(m)) = meta {
            let meta: JsonObject = m;
            params.meta = Some(rmcp::model::RequestMetaObject(rmcp::model::MetaObject(
                meta,
            )));
        }
        self.client.call_tool(params).await.unwrap()
    }
}

/// The text of a result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

pub fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(Value::Null)
}

/// Recorded upstream requests with this method whose path contains `fragment`.
pub fn requests(
    emulator: &Emulator,
    method: &str,
    fragment: &str,
) -> Vec<databricks_emulator::RecordedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.contains(fragment))
        .collect()
}

/// The stderr lines of a spawned server, collected as they arrive.
pub type StderrLog = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Reads the stderr of a `serve --transport http` child until it prints its listening
/// line; returns the `/mcp` URL and the stderr collected so far and from then on.
pub async fn wait_for_listening(child: &mut tokio::process::Child) -> (String, StderrLog) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let log: StderrLog = Default::default();
    let (url_tx, url_rx) = tokio::sync::oneshot::channel::<String>();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let kept = log.clone();
    tokio::spawn(async move {
        let mut url_tx = Some(url_tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("databricks-mcp: listening on ")
                && let Some(tx) = url_tx.take()
            {
                let _ = tx.send(rest.trim().to_string());
            }
            kept.lock().unwrap().push(line);
        }
    });
    match tokio::time::timeout(Duration::from_secs(60), url_rx).await {
        Ok(Ok(url)) => (url, log),
        _ => panic!(
            "the HTTP server did not print its listening line; stderr:\n{}",
            log.lock().unwrap().join("\n")
        ),
    }
}

/// The real binary serving stdio against `emulator`, with piped stdin and stdout.
pub fn spawn_stdio_server(
    emulator: &Emulator,
    stderr: std::process::Stdio,
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}
