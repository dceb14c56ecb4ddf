//! Every tool against the embedded local workspace (DataFusion + Delta Lake), through
//! the real startup path (`--local DIR`) and an MCP client: real data, no account.

use clap::Parser;
use databricks_client::MapEnv;
use databricks_mcp::DatabricksMcp;
use databricks_mcp::cli::Cli;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::support::{is_error, structured, text};

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else { panic!() };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

/// The server on a fresh local workspace (scale factor 0.001) through the real startup
/// path (`--local DIR`) with `env` as the process environment, and an MCP client of it.
async fn start_local(
    env: &MapEnv,
) -> (
    tempfile::TempDir,
    std::sync::Arc<databricks_mcp::AppState>,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::parse_from([
        "databricks-mcp",
        "--local",
        dir.path().to_str().unwrap(),
        "--local-scale-factor",
        "0.001",
    ]);
    let state = databricks_mcp::startup::build_state(&cli.common, env)
        .await
        .unwrap();
    let server = DatabricksMcp::new(state.clone());
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.unwrap();
    (dir, state, client)
}

#[tokio::test]
async fn every_tool_answers_from_the_local_workspace() {
    let (_dir, state, client) = start_local(&MapEnv::new()).await;
    assert!(state.local.is_some());

    let r = call(&client, "run_sql_query", json!({"query": "SELECT l_returnflag, count(*) AS n FROM samples.tpch.lineitem GROUP BY 1 ORDER BY 1"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).starts_with("l_returnflag,n\nA,"), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["rows"].as_array().unwrap().len(), 3, "{s}");
    let id = s["statement_id"].as_str().unwrap().to_string();
    let r = call(
        &client,
        "get_sql_result",
        json!({"statement_id": id, "offset": 1}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));

    let r = call(
        &client,
        "run_sql_query",
        json!({"query": "DELETE FROM samples.tpch.lineitem"}),
    )
    .await;
    assert!(is_error(&r), "read-only by default");

    for (tool, args, expect) in [
        ("list_warehouses", json!({}), ""),
        ("list_catalogs", json!({}), "samples"),
        ("list_schemas", json!({"catalog": "samples"}), "tpch"),
        (
            "list_tables",
            json!({"catalog": "samples", "schema": "tpch"}),
            "lineitem",
        ),
        ("list_databases", json!({}), "samples.tpch"),
        (
            "get_table_schema",
            json!({"database_name": "samples.tpch", "table_name": "orders"}),
            "o_orderkey",
        ),
        ("list_jobs", json!({}), ""),
        ("list_clusters", json!({}), ""),
        ("list_delta_pipelines", json!({}), ""),
        ("list_notebooks", json!({"path": "/"}), ""),
    ] {
        let r = call(&client, tool, args).await;
        assert!(!is_error(&r), "{tool}: {}", text(&r));
        assert!(text(&r).contains(expect), "{tool}: {}", text(&r));
    }
    let runs = call(&client, "list_jobs", json!({})).await;
    if let Some(job) = structured(&runs)["jobs"]
        .as_array()
        .and_then(|j| j.first())
        .cloned()
    {
        let r = call(&client, "get_job_runs", json!({"job_id": job["job_id"]})).await;
        assert!(!is_error(&r), "{}", text(&r));
    }
}

/// `DATABRICKS_WAREHOUSE_ID` is honoured by the local workspace like `--warehouse-id`: an id
/// the local workspace does not have is named in a clear error, never silently replaced.
#[tokio::test]
async fn the_warehouse_id_from_the_environment_is_honoured_locally() {
    let env = MapEnv::new().with("DATABRICKS_WAREHOUSE_ID", "0123456789abcdef");
    let (_dir, state, client) = start_local(&env).await;
    assert_eq!(
        state.settings.default_warehouse_id.as_deref(),
        Some("0123456789abcdef")
    );
    let r = call(&client, "run_sql_query", json!({"query": "SELECT 1"})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("0123456789abcdef"), "{}", text(&r));
}

/// The paging hint works from the command line: each `call` is its own process with its
/// own in-process workspace, and the second pages through what the first one ran (the
/// local workspace keeps finished results under its directory for their lifetime).
#[tokio::test]
async fn call_get_sql_result_pages_what_an_earlier_call_ran() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let local = dir.path().join("ws");
    let call = |args: Vec<String>| {
        let local = local.clone();
        let home = home.path().to_path_buf();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
                .arg("--local")
                .arg(&local)
                .args(["--local-scale-factor", "0.001", "call"])
                .args(args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", home)
                .kill_on_drop(true)
                .output();
            let out = tokio::time::timeout(std::time::Duration::from_secs(120), out)
                .await
                .unwrap()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                out.status.success(),
                "{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            text
        }
    };
    let first = call(vec![
        "run_sql_query".into(),
        r#"{"query": "SELECT * FROM range(1000000)", "max_rows": 5}"#.into(),
    ])
    .await;
    assert!(first.contains("Rows 1–5 of 1000000"), "{first}");
    let id = first
        .split("statement_id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no statement id in {first}"))
        .to_string();
    let second = call(vec![
        "get_sql_result".into(),
        json!({"statement_id": id, "offset": 5, "limit": 5}).to_string(),
    ])
    .await;
    assert!(second.contains("Rows 6–10 of 1000000"), "{second}");
    assert!(second.starts_with("value\n5\n6\n7\n8\n9\n"), "{second}");
}
