//! Workspace operations end to end against the emulator (real HTTP): the diagnostic reads,
//! the write tools under each confirmation mode, the read-only gate and the audit log.

use databricks_emulator::EmulatorConfig;
use databricks_mcp::Settings;
use databricks_mcp::confirm::ConfirmMode;
use serde_json::{Value, json};

use crate::support::{Harness, is_error, requests, structured, text};

const JOB: i64 = 11223344;
const RUN: i64 = 455600001;
const CLUSTER: &str = "1108-090412-ab12cd34";
const PIPELINE: &str = "a12cd3e4-0ab1-1abc-1a2b-1a2bcd3e4fg5";

async fn writes(mode: ConfirmMode, audit: Option<std::path::PathBuf>) -> Harness {
    let settings = Settings {
        allow_writes: true,
        confirm_writes: mode,
        audit_log: audit.clone(),
        tools: databricks_mcp::tools::ToolSelection::all(),
        ..Settings::default()
    };
    let emulator = databricks_emulator::Emulator::start_with(EmulatorConfig::default()).await;
    let config = databricks_client::Config::resolve(
        &Default::default(),
        &crate::support::env_for(&emulator),
    )
    .unwrap();
    let client =
        databricks_client::DatabricksClient::with_options(&config, crate::support::fast_options())
            .unwrap();
    let mut state = databricks_mcp::AppState::new(client, settings);
    // What startup does with --audit-log.
    state.writes.audit = audit.map(|path| databricks_mcp::audit::AuditLog::open(&path).unwrap());
    Harness::connect(
        emulator,
        databricks_mcp::DatabricksMcp::new(std::sync::Arc::new(state)),
    )
    .await
}

#[tokio::test]
async fn a_failed_run_is_diagnosed_from_its_output() {
    let h = Harness::start().await;
    let r = h.call("get_run", json!({"run_id": RUN})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("TERMINATED / FAILED"), "{t}");
    assert!(t.contains("- ingest (run 2112892)"), "{t}");
    assert_eq!(structured(&r)["run_id"], json!(RUN));

    let r = h.call("get_run_output", json!({"run_id": RUN})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("Output of task ingest (run 2112892)"), "{t}");
    assert!(t.contains("Error:"), "{t}");
    // Only the asked task.
    let r = h
        .call("get_run_output", json!({"run_id": RUN, "task_key": "nope"}))
        .await;
    assert!(
        is_error(&r) && text(&r).contains("ingest, publish"),
        "{}",
        text(&r)
    );

    let r = h.call("get_job", json!({"job_id": JOB})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("Tasks:"), "{}", text(&r));
    let r = h.call("get_job", json!({"job_id": 999})).await;
    assert!(
        is_error(&r) && text(&r).contains("list_jobs"),
        "{}",
        text(&r)
    );
}

#[tokio::test]
async fn clusters_pipelines_and_history_are_read() {
    let h = Harness::start().await;
    let r = h.call("get_cluster", json!({"cluster_id": CLUSTER})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("Termination reason:"), "{}", text(&r));
    let r = h
        .call(
            "get_cluster_events",
            json!({"cluster_id": CLUSTER, "limit": 2}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let events = structured(&r)["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!events.is_empty() && events.len() <= 2, "{}", text(&r));

    let r = h
        .call("get_pipeline", json!({"pipeline_id": PIPELINE}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("orders_dlt"), "{}", text(&r));
    let r = h
        .call(
            "get_pipeline_events",
            json!({"pipeline_id": PIPELINE, "level": "ERROR"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    for e in structured(&r)["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(e["level"], json!("ERROR"), "{e}");
    }
    let r = h
        .call(
            "get_pipeline_events",
            json!({"pipeline_id": PIPELINE, "level": "LOUD"}),
        )
        .await;
    assert!(is_error(&r), "{}", text(&r));

    let r = h.call("get_query_history", json!({"limit": 5})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("SELEC 1"), "{}", text(&r));
    let r = h
        .call(
            "get_query_history",
            json!({"status": "FAILED", "since": "2024-01-01T00:00:00Z"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let sent = requests(&h.emulator, "GET", "/api/2.0/sql/history/queries");
    let last = sent.last().unwrap();
    assert!(
        last.query
            .contains(&("filter_by.statuses".to_string(), "FAILED".to_string())),
        "{:?}",
        last.query
    );

    let r = h
        .call(
            "list_volumes",
            json!({"catalog": "main", "schema": "sales"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("/Volumes/main/sales/landing"),
        "{}",
        text(&r)
    );
    let r = h
        .call(
            "list_volume_files",
            json!({"path": "/Volumes/main/sales/landing"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    for bad in [
        "/etc",
        "/Volumes/main/sales/landing/../../x",
        "/Volumes/main",
    ] {
        let r = h.call("list_volume_files", json!({"path": bad})).await;
        assert!(is_error(&r), "{bad}: {}", text(&r));
    }
    assert!(
        requests(&h.emulator, "GET", "/api/2.0/fs/directories/etc").is_empty(),
        "a bad path never reaches the workspace"
    );
}

#[tokio::test]
async fn a_read_only_server_refuses_write_tools_by_name() {
    let h = Harness::start().await;
    let listed = h.client.list_all_tools().await.unwrap();
    assert!(!listed.iter().any(|t| t.name == "terminate_cluster"));
    let r = h
        .call(
            "terminate_cluster",
            json!({"cluster_id": CLUSTER, "confirmation_code": "X"}),
        )
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("--allow-writes"), "{}", text(&r));
    assert!(requests(&h.emulator, "POST", "/clusters/delete").is_empty());
}

#[tokio::test]
async fn without_elicitation_a_write_needs_the_code_bound_to_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let h = writes(ConfirmMode::Elicit, Some(audit.clone())).await;
    // The rmcp test client declares no elicitation: the code flow.
    let first = h.call("cancel_run", json!({"run_id": RUN})).await;
    assert!(!is_error(&first), "{}", text(&first));
    let t = text(&first);
    assert!(
        t.contains("Ask the user") && t.contains(&format!("run {RUN}")),
        "{t}"
    );
    let code = t
        .split("confirmation_code: \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(requests(&h.emulator, "POST", "/runs/cancel").is_empty());
    // Another tool with the same code: refused, and the code is spent.
    let other = h
        .call(
            "repair_run",
            json!({"run_id": RUN, "confirmation_code": code}),
        )
        .await;
    assert!(is_error(&other), "{}", text(&other));
    assert!(requests(&h.emulator, "POST", "/runs/cancel").is_empty());
    let first = h.call("cancel_run", json!({"run_id": RUN})).await;
    let code = text(&first)
        .split("confirmation_code: \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let done = h
        .call(
            "cancel_run",
            json!({"run_id": RUN, "confirmation_code": code}),
        )
        .await;
    assert!(!is_error(&done), "{}", text(&done));
    let sent = requests(&h.emulator, "POST", "/runs/cancel");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["run_id"], json!(RUN));

    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["confirmation"].as_str().unwrap().to_string(),
                l["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("code_issued", "not_done"),
            ("code_refused", "failed"),
            ("code_issued", "not_done"),
            ("code_accepted", "done")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(
        lines
            .iter()
            .all(|l| l["arguments"]["confirmation_code"].is_null()
                || l["arguments"]["confirmation_code"] == json!("[redacted]"))
    );
}

#[tokio::test]
async fn unattended_writes_reach_the_workspace() {
    let h = writes(ConfirmMode::Never, None).await;
    let r = h
        .call(
            "run_job_now",
            json!({"job_id": JOB, "job_parameters": {"day": "2024-03-01"}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(structured(&r)["run_id"].as_i64().is_some(), "{}", text(&r));
    let sent = requests(&h.emulator, "POST", "/jobs/run-now");
    assert_eq!(sent[0].body["job_parameters"]["day"], json!("2024-03-01"));

    let r = h
        .call("start_cluster", json!({"cluster_id": CLUSTER}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = h
        .call(
            "start_pipeline_update",
            json!({"pipeline_id": PIPELINE, "full_refresh": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let sent = requests(
        &h.emulator,
        "POST",
        &format!("/pipelines/{PIPELINE}/updates"),
    );
    assert_eq!(sent[0].body["full_refresh"], json!(true));

    let r = h
        .call(
            "upload_volume_file",
            json!({"path": "/Volumes/main/sales/landing/new.csv", "content": "a,b\n1,2\n"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = h
        .call(
            "read_volume_file",
            json!({"path": "/Volumes/main/sales/landing/new.csv"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("CSV"), "{}", text(&r));

    // Over 10 MiB: refused with the limit named, nothing sent. (A 50 MB message is
    // refused by the transports first: over stdio's 20 MiB line and HTTP's body limit.)
    let big = "x".repeat(11 * 1024 * 1024);
    let r = h
        .call(
            "upload_volume_file",
            json!({"path": "/Volumes/main/sales/landing/big.txt", "content": big}),
        )
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("10 MiB"), "{}", text(&r));
    assert!(requests(&h.emulator, "PUT", "big.txt").is_empty());
}

#[tokio::test]
async fn serving_endpoints_are_listed_and_queried() {
    let h = Harness::start().await;
    let r = h.call("list_serving_endpoints", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("databricks-claude-sonnet-4"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("llm/v1/chat"), "{}", text(&r));
    let r = h
        .call(
            "query_serving_endpoint",
            json!({"name": "databricks-claude-sonnet-4", "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(text(&r), "Hello from the scripted model.");
    let r = h
        .call(
            "query_serving_endpoint",
            json!({"name": "databricks-claude-sonnet-4"}),
        )
        .await;
    assert!(
        is_error(&r) && text(&r).contains("pass messages"),
        "{}",
        text(&r)
    );
    let r = h
        .call(
            "query_serving_endpoint",
            json!({"name": "../etc", "input": "x"}),
        )
        .await;
    assert!(is_error(&r), "{}", text(&r));
    let r = h
        .call(
            "query_serving_endpoint",
            json!({"name": "no-such-endpoint", "input": "x"}),
        )
        .await;
    assert!(
        is_error(&r) && text(&r).contains("list_serving_endpoints"),
        "{}",
        text(&r)
    );
}
