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

/// A server on a fresh local workspace started with `extra` flags, and an MCP client.
async fn start_local_with(
    extra: &[&str],
) -> (
    tempfile::TempDir,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "databricks-mcp",
        "--local",
        dir.path().to_str().unwrap(),
        "--local-scale-factor",
        "0.001",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::parse_from(args);
    let state = databricks_mcp::startup::build_state(&cli.common, &MapEnv::new())
        .await
        .unwrap();
    let server = DatabricksMcp::new(state);
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.unwrap();
    (dir, client)
}

/// Polls `get_run` until the run is terminated (bounded: 60 s).
async fn finished_run(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    run_id: i64,
) -> Value {
    for _ in 0..600 {
        let r = call(client, "get_run", json!({"run_id": run_id})).await;
        assert!(!is_error(&r), "{}", text(&r));
        let s = structured(&r);
        let state = s
            .pointer("/status/state")
            .or_else(|| s.pointer("/state/life_cycle_state"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if matches!(state.as_str(), "TERMINATED" | "INTERNAL_ERROR" | "SKIPPED") {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("run {run_id} did not finish within 60 s");
}

/// The operations really happen on the local workspace: a job run executes its SQL and
/// its output is what get_run_output shows; writes leave Delta versions and lineage;
/// clusters and pipelines change state and emit events; notebooks and volume files read
/// back.
#[tokio::test]
async fn operations_happen_on_the_local_workspace() {
    let (_dir, client) = start_local_with(&["--allow-writes", "--confirm-writes", "never"]).await;

    // A job run executes the job's SQL tasks.
    let r = call(&client, "get_job", json!({"job_id": 1})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("revenue_by_flag"), "{}", text(&r));
    let r = call(&client, "run_job_now", json!({"job_id": 1})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let run_id = structured(&r)["run_id"].as_i64().unwrap();
    let run = finished_run(&client, run_id).await;
    let r = call(&client, "get_run_output", json!({"run_id": run_id})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("Output of task revenue_by_flag"), "{t}\n{run}");
    assert!(t.contains("Output of task report"), "{t}");

    // Writes leave versions, lineage and history.
    for sql in [
        "CREATE TABLE main.default.flags AS SELECT l_returnflag, count(*) AS n FROM samples.tpch.lineitem GROUP BY l_returnflag",
        "INSERT INTO main.default.flags SELECT l_returnflag, count(*) AS n FROM samples.tpch.lineitem GROUP BY l_returnflag",
    ] {
        let r = call(&client, "run_sql_query", json!({"query": sql})).await;
        assert!(!is_error(&r), "{sql}: {}", text(&r));
    }
    let r = call(
        &client,
        "get_table_history",
        json!({"table": "main.default.flags"}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let versions = structured(&r)["versions"].as_array().cloned().unwrap();
    assert!(versions.len() >= 2, "{}", text(&r));
    let r = call(
        &client,
        "get_table_lineage",
        json!({"table": "main.default.flags"}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("samples.tpch.lineitem"), "{}", text(&r));
    let r = call(&client, "get_query_history", json!({"status": "FINISHED"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("INSERT INTO main.default.flags"),
        "{}",
        text(&r)
    );

    // Volumes and notebooks read back.
    let r = call(
        &client,
        "list_volumes",
        json!({"catalog": "main", "schema": "default"}),
    )
    .await;
    assert!(
        text(&r).contains("/Volumes/main/default/files"),
        "{}",
        text(&r)
    );
    let r = call(
        &client,
        "list_volume_files",
        json!({"path": "/Volumes/main/default/files"}),
    )
    .await;
    assert!(text(&r).contains("README.md"), "{}", text(&r));
    let r = call(
        &client,
        "read_volume_file",
        json!({"path": "/Volumes/main/default/files/README.md"}),
    )
    .await;
    assert!(text(&r).contains("Files API"), "{}", text(&r));
    #[cfg(feature = "parquet")]
    {
        use base64::Engine as _;
        let r = call(
            &client,
            "upload_volume_file",
            json!({
                "path": "/Volumes/main/default/files/n.parquet",
                "content": base64::engine::general_purpose::STANDARD.encode(parquet_file()),
                "encoding": "base64"
            }),
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
        let r = call(
            &client,
            "read_volume_file",
            json!({"path": "/Volumes/main/default/files/n.parquet"}),
        )
        .await;
        let t = text(&r);
        assert!(t.contains("Parquet") && t.contains("3 rows"), "{t}");
        assert!(t.contains("n (Int64)") && t.contains("three"), "{t}");
    }
    let r = call(
        &client,
        "export_notebook",
        json!({"path": "/Shared/samples/tpch_report"}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["cells"], json!(2), "{}", text(&r));

    // A cluster terminates and starts, with events.
    let r = call(&client, "list_clusters", json!({})).await;
    let cluster = structured(&r)["clusters"][0]["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(&client, "terminate_cluster", json!({"cluster_id": cluster})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = call(&client, "get_cluster", json!({"cluster_id": cluster})).await;
    let state = structured(&r)["state"].as_str().unwrap().to_string();
    assert!(
        matches!(state.as_str(), "TERMINATING" | "TERMINATED"),
        "{state}"
    );
    let r = call(
        &client,
        "get_cluster_events",
        json!({"cluster_id": cluster}),
    )
    .await;
    assert!(text(&r).contains("TERMINATING"), "{}", text(&r));

    // A pipeline update runs and emits events.
    let r = call(&client, "list_delta_pipelines", json!({})).await;
    let pipeline = structured(&r)["pipelines"][0]["pipeline_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(
        &client,
        "start_pipeline_update",
        json!({"pipeline_id": pipeline}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = call(&client, "get_pipeline", json!({"pipeline_id": pipeline})).await;
    assert!(text(&r).contains("Latest updates"), "{}", text(&r));
    let r = call(
        &client,
        "get_pipeline_events",
        json!({"pipeline_id": pipeline}),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        !structured(&r)["events"].as_array().unwrap().is_empty(),
        "{}",
        text(&r)
    );
}

/// A small Parquet file: `n` 1..3 and `name`.
#[cfg(feature = "parquet")]
fn parquet_file() -> Vec<u8> {
    use std::sync::Arc;
    let batch = arrow_array::RecordBatch::try_from_iter([
        (
            "n",
            Arc::new(arrow_array::Int64Array::from(vec![1, 2, 3])) as arrow_array::ArrayRef,
        ),
        (
            "name",
            Arc::new(arrow_array::StringArray::from(vec!["one", "two", "three"])) as _,
        ),
    ])
    .unwrap();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}
