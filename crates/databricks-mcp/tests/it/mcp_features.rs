//! MCP beyond tools, through the rmcp client: resources, prompts, completions and
//! logging, against the emulator (jobs, runs, notebooks, faults) and the local
//! workspace (real tables).
#![allow(deprecated)] // logging/setLevel and LoggingLevel: rmcp marks them deprecated

use std::sync::{Arc, Mutex};
use std::time::Duration;

use databricks_emulator::{Emulator, FaultResponse, FaultRule, fixture};
use databricks_mcp::{DatabricksMcp, Settings};
use rmcp::model::{
    ErrorCode, GetPromptRequestParams, LoggingLevel, LoggingMessageNotificationParam,
    ReadResourceRequestParams, ResourceContents, SetLevelRequestParams,
};
use rmcp::service::{NotificationContext, RunningService, ServiceError};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{fast_options, state_for, structured};

/// A client that keeps the log messages it receives.
#[derive(Clone, Default)]
struct LogCollector(Arc<Mutex<Vec<String>>>);

impl ClientHandler for LogCollector {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_string(&params.level).unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(format!("{level} {}", params.data));
    }
}

impl LogCollector {
    fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

type Client = RunningService<RoleClient, LogCollector>;

async fn connect(server: DatabricksMcp) -> (Client, LogCollector) {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let logs = LogCollector::default();
    let client = logs.clone().serve(client_io).await.unwrap();
    (client, logs)
}

async fn on_emulator() -> (Emulator, Client, LogCollector) {
    let emulator = Emulator::start().await;
    let server = DatabricksMcp::new(state_for(&emulator, Settings::default(), fast_options()));
    let (client, logs) = connect(server).await;
    (emulator, client, logs)
}

async fn read(client: &Client, uri: &str) -> Result<String, ServiceError> {
    let result = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await?;
    assert_eq!(result.contents.len(), 1);
    match &result.contents[0] {
        ResourceContents::TextResourceContents {
            text,
            uri: u,
            mime_type,
            ..
        } => {
            assert_eq!(u, uri);
            assert!(mime_type.is_some());
            Ok(text.clone())
        }
        other => panic!("not text: {other:?}"),
    }
}

fn error_code(e: ServiceError) -> ErrorCode {
    match e {
        ServiceError::McpError(e) => e.code,
        other => panic!("not an MCP error: {other}"),
    }
}

async fn call(client: &Client, tool: &str, args: Value) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else { panic!() };
    client
        .call_tool(rmcp::model::CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

#[tokio::test]
async fn capabilities_offer_resources_prompts_completions_and_logging() {
    let (_emulator, client, _) = on_emulator().await;
    let info = client.peer_info().unwrap();
    let caps = &info.capabilities;
    assert!(caps.tools.is_some());
    assert!(caps.resources.is_some());
    assert!(caps.prompts.is_some());
    assert!(caps.completions.is_some());
    assert!(caps.logging.is_some());
    let templates = client.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    for t in [
        "databricks://tables/{catalog}/{schema}/{table}",
        "databricks://notebooks/{+path}",
        "databricks://jobs/{job_id}",
        "databricks://runs/{run_id}",
        "databricks://statements/{statement_id}",
    ] {
        assert!(uris.contains(&t), "{t} in {uris:?}");
    }
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    for p in [
        "explore_table",
        "diagnose_job_run",
        "optimize_query",
        "data_quality_report",
        "pipeline_health",
    ] {
        assert!(names.contains(&p), "{p} in {names:?}");
    }
}

#[tokio::test]
async fn jobs_runs_and_notebooks_read_as_resources() {
    let (_emulator, client, _) = on_emulator().await;
    let jobs = structured(&call(&client, "list_jobs", json!({})).await);
    let job_id = jobs["jobs"][0]["job_id"].as_i64().unwrap();
    let job = read(&client, &format!("databricks://jobs/{job_id}"))
        .await
        .unwrap();
    assert!(job.starts_with(&format!("Job {job_id}: ")), "{job}");
    assert!(
        job.contains("Recent runs") || job.contains("No runs yet"),
        "{job}"
    );

    let runs = structured(&call(&client, "get_job_runs", json!({"job_id": job_id})).await);
    if let Some(run_id) = runs["runs"][0]["run_id"].as_i64() {
        let run = read(&client, &format!("databricks://runs/{run_id}"))
            .await
            .unwrap();
        assert!(run.starts_with(&format!("Run {run_id}")), "{run}");
        assert!(run.contains("Output of task"), "{run}");
    }

    let notebook = read(
        &client,
        "databricks://notebooks/Users/bob%40example.com/etl/ingest",
    )
    .await
    .unwrap();
    assert!(
        notebook.contains("Databricks notebook source"),
        "{notebook}"
    );
    let folder = read(&client, "databricks://notebooks/Users/bob@example.com/etl")
        .await
        .unwrap();
    assert!(
        folder.starts_with("Folder /Users/bob@example.com/etl"),
        "{folder}"
    );
    assert!(
        folder.contains("/Users/bob@example.com/etl/ingest"),
        "{folder}"
    );
}

#[tokio::test]
async fn unknown_and_invalid_resources_fail_clearly() {
    let (_emulator, client, _) = on_emulator().await;
    for uri in [
        "file:///etc/passwd",
        "databricks://tables/a/b",
        "databricks://notebooks/Users/../etc",
        "databricks://jobs/abc",
        "databricks://tables/main/default/x%ZZ",
    ] {
        let e = read(&client, uri).await.unwrap_err();
        assert_eq!(error_code(e), ErrorCode::INVALID_PARAMS, "{uri}");
    }
    let e = read(&client, "databricks://tables/main/default/missing_table")
        .await
        .unwrap_err();
    assert_eq!(error_code(e), ErrorCode::RESOURCE_NOT_FOUND);
    let e = read(&client, "databricks://notebooks/Users/nobody/none")
        .await
        .unwrap_err();
    assert_eq!(error_code(e), ErrorCode::RESOURCE_NOT_FOUND);
    // The server keeps serving.
    assert!(client.list_all_resource_templates().await.is_ok());
}

#[tokio::test]
async fn prompts_check_their_arguments() {
    let (_emulator, client, _) = on_emulator().await;
    let get = |name: &str, args: Value| {
        let Value::Object(args) = args else { panic!() };
        client.get_prompt(GetPromptRequestParams::new(name).with_arguments(args))
    };
    let e = get("explore_table", json!({})).await.unwrap_err();
    assert_eq!(error_code(e), ErrorCode::INVALID_PARAMS);
    let e = get("explore_table", json!({"table": "nation"}))
        .await
        .unwrap_err();
    assert_eq!(error_code(e), ErrorCode::INVALID_PARAMS);
    let e = get("no_such_prompt", json!({})).await.unwrap_err();
    assert_eq!(error_code(e), ErrorCode::INVALID_PARAMS);
    let prompt = get("optimize_query", json!({"query": "SELECT 1"}))
        .await
        .unwrap();
    let text = serde_json::to_string(&prompt.messages).unwrap();
    assert!(text.contains("EXPLAIN FORMATTED"), "{text}");
    assert!(text.contains("SELECT 1"), "{text}");
}

#[tokio::test]
async fn log_messages_follow_the_level_the_client_set() {
    let (emulator, client, logs) = on_emulator().await;
    let fault = || {
        FaultRule::get(
            "/api/2.1/clusters/list",
            vec![
                FaultResponse::json(429, fixture("error_429_request_limit_exceeded.json"))
                    .with_header("Retry-After", "0"),
            ],
        )
    };
    // Before logging/setLevel: no messages.
    emulator.push_fault(fault());
    call(&client, "list_clusters", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(logs.messages().is_empty(), "{:?}", logs.messages());

    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    emulator.push_fault(fault());
    call(&client, "list_clusters", json!({})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while logs.messages().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let messages = logs.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("\"warning\""), "{messages:?}");
    assert!(
        messages[0].contains("/api/2.1/clusters/list"),
        "{messages:?}"
    );
    assert!(messages[0].contains("retrying"), "{messages:?}");
    assert!(
        !messages[0].contains(emulator.pat()),
        "no secret in {messages:?}"
    );

    // Above the level of the message: nothing more.
    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Error))
        .await
        .unwrap();
    emulator.push_fault(fault());
    call(&client, "list_clusters", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(logs.messages().len(), 1, "{:?}", logs.messages());
}

#[cfg(feature = "local")]
mod local {
    use rmcp::model::CompletionContext;
    use serde_json::Map;

    use super::*;

    async fn on_local() -> (tempfile::TempDir, Client) {
        let dir = tempfile::tempdir().unwrap();
        let cli = <databricks_mcp::cli::Cli as clap::Parser>::parse_from([
            "databricks-mcp",
            "--local",
            dir.path().to_str().unwrap(),
            "--local-scale-factor",
            "0.001",
        ]);
        let state =
            databricks_mcp::startup::build_state(&cli.common, &databricks_client::MapEnv::new())
                .await
                .unwrap();
        let (client, _) = connect(DatabricksMcp::new(state)).await;
        (dir, client)
    }

    #[tokio::test]
    async fn tables_read_prompt_and_complete_on_the_local_workspace() {
        let (_dir, client) = on_local().await;

        let nation = read(&client, "databricks://tables/samples/tpch/nation")
            .await
            .unwrap();
        assert!(nation.starts_with("samples.tpch.nation"), "{nation}");
        assert!(nation.contains("n_nationkey"), "{nation}");

        let schema = read(&client, "databricks://schemas/samples/tpch")
            .await
            .unwrap();
        assert!(schema.contains("lineitem"), "{schema}");

        let resources = client.list_all_resources().await.unwrap();
        let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
        assert!(uris.contains(&"databricks://catalogs/samples"), "{uris:?}");
        assert!(
            uris.contains(&"databricks://schemas/samples/tpch"),
            "{uris:?}"
        );
        for r in &resources {
            read(&client, &r.uri).await.unwrap();
        }

        let mut args = Map::new();
        args.insert("table".into(), json!("samples.tpch.nation"));
        let prompt = client
            .get_prompt(GetPromptRequestParams::new("explore_table").with_arguments(args))
            .await
            .unwrap();
        let text = serde_json::to_string(&prompt.messages).unwrap();
        assert!(text.contains("samples.tpch.nation"), "{text}");
        assert!(
            text.contains("n_nationkey"),
            "the metadata is embedded: {text}"
        );

        let values = client
            .complete_prompt_simple("explore_table", "table", "samples.tpch.na")
            .await
            .unwrap();
        assert!(
            values.contains(&"samples.tpch.nation".to_string()),
            "{values:?}"
        );
        let values = client
            .complete_prompt_simple("explore_table", "table", "sam")
            .await
            .unwrap();
        assert_eq!(values, vec!["samples".to_string()]);

        let context = CompletionContext::with_arguments(
            [("catalog".to_string(), "samples".to_string())].into(),
        );
        let started = std::time::Instant::now();
        let info = client
            .complete_resource_argument(
                "databricks://tables/{catalog}/{schema}/{table}",
                "schema",
                "tp",
                Some(context),
            )
            .await
            .unwrap();
        assert!(info.values.contains(&"tpch".to_string()), "{info:?}");
        assert_eq!(info.has_more, Some(false));
        // Cached: a second keystroke does not list again.
        let context = CompletionContext::with_arguments(
            [("catalog".to_string(), "samples".to_string())].into(),
        );
        client
            .complete_resource_argument(
                "databricks://tables/{catalog}/{schema}/{table}",
                "schema",
                "tpc",
                Some(context),
            )
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));

        let e = client
            .complete_prompt_simple("explore_table", "nonsense", "x")
            .await
            .unwrap_err();
        assert_eq!(error_code(e), ErrorCode::INVALID_PARAMS);
    }
}

/// A raw 2026-07-28 (stateless) JSON-RPC peer over an in-memory stdio pipe, declaring
/// the tasks extension on every request.
struct ModernPeer {
    write: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    next_id: u64,
}

impl ModernPeer {
    async fn start(emulator: &Emulator) -> ModernPeer {
        let server = DatabricksMcp::new(state_for(emulator, Settings::default(), fast_options()));
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let (read, write) = tokio::io::split(client_io);
        ModernPeer {
            write,
            lines: tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(read)),
            next_id: 1,
        }
    }

    async fn request(&mut self, method: &str, mut params: Value) -> Value {
        use tokio::io::AsyncWriteExt;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {
                "extensions": {"io.modelcontextprotocol/tasks": {}}
            },
            "io.modelcontextprotocol/clientInfo": {"name": "task-test", "version": "0"}
        });
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }

    async fn run_sql(&mut self, query: &str) -> Value {
        self.request(
            "tools/call",
            json!({"name": "run_sql_query", "arguments": {"query": query}}),
        )
        .await
    }

    async fn wait_terminal(&mut self, task_id: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.request("tasks/get", json!({"taskId": task_id})).await;
            let status = got["result"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if ["completed", "failed", "cancelled"].contains(&status.as_str())
                || std::time::Instant::now() > deadline
            {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_slow_run_sql_query_runs_as_a_task_that_completes_or_cancels() {
    let emulator = Emulator::start().await;
    let mut peer = ModernPeer::start(&emulator).await;
    let discovered = peer.request("server/discover", json!({})).await;
    assert!(
        discovered["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"]
            .is_object(),
        "the server declares the tasks extension: {discovered}"
    );

    // A quick query answers at once (the extension's immediate-result shortcut).
    let quick = peer.run_sql("SELECT 1").await;
    assert!(
        quick["result"]["structuredContent"]["statement_id"].is_string(),
        "{quick}"
    );

    // One still running after a second becomes a task.
    emulator.script_statement(
        "slow",
        databricks_emulator::StatementScript::pending(
            8,
            databricks_emulator::StatementScript::rows(&[("x", "INT")], 3, 0),
        ),
    );
    let created = peer.run_sql("SELECT * FROM slow").await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let task_id = task_id_of(&created);
    let done = peer.wait_terminal(&task_id).await;
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["result"]["structuredContent"]["row_count"], 3,
        "{done}"
    );

    emulator.script_statement(
        "endless",
        databricks_emulator::StatementScript::pending(
            1_000_000,
            databricks_emulator::StatementScript::Canceled,
        ),
    );
    let created = peer.run_sql("SELECT * FROM endless").await;
    let task_id = task_id_of(&created);
    let running = peer.request("tasks/get", json!({"taskId": task_id})).await;
    assert_eq!(running["result"]["status"], "working", "{running}");
    let ack = peer
        .request("tasks/cancel", json!({"taskId": task_id}))
        .await;
    assert!(ack.get("error").is_none(), "{ack}");
    let done = peer.wait_terminal(&task_id).await;
    assert_eq!(done["result"]["status"], "cancelled", "{done}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while emulator.cancelled_statements().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        emulator.cancelled_statements().len(),
        1,
        "the warehouse saw the cancel"
    );

    let unknown = peer
        .request("tasks/get", json!({"taskId": "no-such-task"}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
}

fn task_id_of(created: &Value) -> String {
    created["result"]["task"]["taskId"]
        .as_str()
        .or_else(|| created["result"]["taskId"].as_str())
        .unwrap_or_else(|| panic!("no task id in {created}"))
        .to_string()
}
