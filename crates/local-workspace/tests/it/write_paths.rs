//! The write paths end to end over HTTP: jobs (run, cancel, repair), the lifecycles of
//! the cluster and the warehouse, pipeline updates and stops, workspace and volume
//! round trips, and what they leave in the query history and the lineage.

use std::time::{Duration, Instant};

use base64::Engine as _;
use local_workspace::{CLUSTER_ID, WAREHOUSE_ID};
use serde_json::{Value, json};

use crate::support::*;

/// A statement that runs for many seconds on the test samples: what cancels cancel.
const SLOW_SQL: &str = "SELECT count(*) AS n FROM samples.tpch.lineitem a CROSS JOIN samples.tpch.lineitem b CROSS JOIN samples.tpch.nation c";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Writes a workspace file (format AUTO: a plain file whatever its name), making its
/// folder.
async fn put_file(s: &Server, path: &str, text: &str) {
    let parent = path.rsplit_once('/').map_or("/", |(p, _)| p);
    let (status, v) = s
        .post("/api/2.0/workspace/mkdirs", json!({"path": parent}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = s
        .post(
            "/api/2.0/workspace/import",
            json!({"path": path, "content": b64(text.as_bytes()), "format": "AUTO", "overwrite": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

async fn create_job(s: &Server, settings: Value) -> i64 {
    let (status, v) = s.post("/api/2.2/jobs/create", settings).await;
    assert_eq!(status, 200, "{v}");
    v["job_id"].as_i64().unwrap()
}

fn sql_task(key: &str, path: &str, depends_on: &[&str]) -> Value {
    let mut t = json!({
        "task_key": key,
        "sql_task": {"file": {"path": path, "source": "WORKSPACE"}, "warehouse_id": WAREHOUSE_ID},
    });
    if !depends_on.is_empty() {
        t["depends_on"] = json!(
            depends_on
                .iter()
                .map(|d| json!({"task_key": d}))
                .collect::<Vec<_>>()
        );
    }
    t
}

async fn run_now(s: &Server, job_id: i64) -> i64 {
    let (status, v) = s
        .post("/api/2.2/jobs/run-now", json!({"job_id": job_id}))
        .await;
    assert_eq!(status, 200, "{v}");
    v["run_id"].as_i64().unwrap()
}

async fn get_run(s: &Server, run_id: i64) -> Value {
    s.get(&format!("/api/2.2/jobs/runs/get?run_id={run_id}"))
        .await
        .1
}

async fn wait_run(s: &Server, run_id: i64) -> Value {
    for _ in 0..1200 {
        let v = get_run(s, run_id).await;
        if matches!(
            v["state"]["life_cycle_state"].as_str(),
            Some("TERMINATED" | "INTERNAL_ERROR")
        ) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {run_id} did not finish");
}

/// Polls `path` until `field` equals `want` (transitions settle within a second).
async fn wait_state(s: &Server, path: &str, field: &str, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = s.get(path).await.1;
        if last[field] == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path}: {field} never became {want}: {last}");
}

/// Right after an action: the transitional state, or (on a loaded machine, a moment later)
/// the state it settles into.
fn assert_state(v: &Value, transitional: &str, settled: &str) {
    let state = v["state"].as_str().unwrap_or_default();
    assert!(state == transitional || state == settled, "{v}");
}

async fn history(s: &Server, query: &str) -> Vec<Value> {
    let (status, v) = s
        .get(&format!("/api/2.0/sql/history/queries?{query}"))
        .await;
    assert_eq!(status, 200, "{v}");
    v["res"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_runs_show_their_output_cancel_fast_and_repair() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    put_file(&s, "/Shared/it/ok.sql", "SELECT 40 + 2 AS answer;").await;
    put_file(
        &s,
        "/Shared/it/flaky.sql",
        "SELECT * FROM main.default.not_yet;",
    )
    .await;
    put_file(&s, "/Shared/it/slow.sql", SLOW_SQL).await;

    // run-now executes the SQL tasks; get-output shows their output.
    let ok_job = create_job(
        &s,
        json!({"name": "ok", "tasks": [sql_task("answer", "/Shared/it/ok.sql", &[])]}),
    )
    .await;
    let run = wait_run(&s, run_now(&s, ok_job).await).await;
    assert_eq!(run["state"]["result_state"], "SUCCESS", "{run}");
    let task_run = run["tasks"][0]["run_id"].as_i64().unwrap();
    let (_, out) = s
        .get(&format!("/api/2.2/jobs/runs/get-output?run_id={task_run}"))
        .await;
    assert!(out["logs"].as_str().unwrap().contains("42"), "{out}");
    assert!(
        out["sql_output"]["query_output"]["query_text"]
            .as_str()
            .unwrap()
            .contains("40 + 2"),
        "{out}"
    );
    // The task's statement is in the query history, with its job.
    let from_job: Vec<Value> = history(&s, "filter_by.statuses=FINISHED")
        .await
        .into_iter()
        .filter(|q| q["query_source"]["job_info"]["job_id"].as_str() == Some(&ok_job.to_string()))
        .collect();
    assert_eq!(from_job.len(), 1, "{from_job:?}");
    assert_eq!(from_job[0]["statement_type"], "SELECT");
    assert_eq!(from_job[0]["rows_produced"], 1);

    // runs/cancel stops a long-running run at once, and its statement.
    let slow_job = create_job(
        &s,
        json!({"name": "slow", "tasks": [sql_task("slow", "/Shared/it/slow.sql", &[])]}),
    )
    .await;
    let slow_run = run_now(&s, slow_job).await;
    for _ in 0..200 {
        let v = get_run(&s, slow_run).await;
        if v["tasks"][0]["state"]["life_cycle_state"] == "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A running run cannot be repaired.
    let (status, v) = s
        .post(
            "/api/2.2/jobs/runs/repair",
            json!({"run_id": slow_run, "rerun_all_failed_tasks": true}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_STATE")),
        "{v}"
    );
    let asked = Instant::now();
    let (status, _) = s
        .post("/api/2.2/jobs/runs/cancel", json!({"run_id": slow_run}))
        .await;
    assert_eq!(status, 200);
    let canceled = wait_run(&s, slow_run).await;
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(canceled["state"]["result_state"], "CANCELED", "{canceled}");
    assert_eq!(canceled["tasks"][0]["state"]["result_state"], "CANCELED");
    let mut cancelled_statement = Vec::new();
    for _ in 0..100 {
        cancelled_statement = history(&s, "filter_by.statuses=CANCELED").await;
        if !cancelled_statement.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cancelled_statement.len(), 1, "{cancelled_statement:?}");
    assert_eq!(cancelled_statement[0]["query_text"], SLOW_SQL);
    // The engine is free again: a statement answers at once.
    let quick = Instant::now();
    assert_eq!(s.scalar("SELECT 1").await, json!("1"));
    assert!(
        quick.elapsed() < Duration::from_secs(2),
        "{:?}",
        quick.elapsed()
    );

    // Repair: the failed task and the one it skipped run again, for real.
    let flaky_job = create_job(
        &s,
        json!({"name": "flaky", "tasks": [
            sql_task("load", "/Shared/it/flaky.sql", &[]),
            sql_task("after", "/Shared/it/ok.sql", &["load"]),
            sql_task("alone", "/Shared/it/ok.sql", &[]),
        ]}),
    )
    .await;
    let run_id = run_now(&s, flaky_job).await;
    let failed = wait_run(&s, run_id).await;
    assert_eq!(failed["state"]["result_state"], "FAILED", "{failed}");
    let alone_before = failed["tasks"][2]["run_id"].clone();
    let (status, v) = s
        .post(
            "/api/2.2/jobs/runs/repair",
            json!({"run_id": run_id, "rerun_tasks": ["nope"]}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
    s.rows("CREATE TABLE main.default.not_yet AS SELECT 1 AS id")
        .await;
    let (status, v) = s
        .post(
            "/api/2.1/jobs/runs/repair",
            json!({"run_id": run_id, "rerun_all_failed_tasks": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let repair_id = v["repair_id"].as_i64().unwrap();
    let repaired = wait_run(&s, run_id).await;
    assert_eq!(repaired["state"]["result_state"], "SUCCESS", "{repaired}");
    let tasks = repaired["tasks"].as_array().unwrap();
    assert!(
        tasks
            .iter()
            .all(|t| t["state"]["result_state"] == "SUCCESS")
    );
    assert_eq!(tasks[0]["attempt_number"], 1);
    assert_ne!(tasks[0]["run_id"], failed["tasks"][0]["run_id"]);
    assert_eq!(
        tasks[2]["run_id"], alone_before,
        "a task that succeeded is not re-run"
    );
    let history = repaired["repair_history"].as_array().unwrap();
    assert_eq!(history[0]["type"], "ORIGINAL");
    assert_eq!(history[1]["id"], repair_id);
    assert_eq!(history[1]["state"]["result_state"], "SUCCESS");
    let (_, out) = s
        .get(&format!(
            "/api/2.2/jobs/runs/get-output?run_id={}",
            tasks[0]["run_id"]
        ))
        .await;
    assert!(out["logs"].as_str().unwrap().contains("id"), "{out}");
    // The first attempt's output is still there.
    let (_, first) = s
        .get(&format!(
            "/api/2.2/jobs/runs/get-output?run_id={}",
            failed["tasks"][0]["run_id"]
        ))
        .await;
    assert!(
        first["error"].as_str().unwrap().contains("not_yet"),
        "{first}"
    );
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_and_warehouse_lifecycles() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let get = format!("/api/2.1/clusters/get?cluster_id={CLUSTER_ID}");
    let action = |name: &str| format!("/api/2.1/clusters/{name}");
    let body = json!({"cluster_id": CLUSTER_ID});
    let events = || async {
        let (status, v) = s
            .post(
                "/api/2.1/clusters/events",
                json!({"cluster_id": CLUSTER_ID, "order": "ASC"}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(events().await, ["STARTING", "RUNNING"]);
    let (status, v) = s.post(&action("start"), body.clone()).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_STATE"))
    );

    let (status, _) = s.post(&action("restart"), body.clone()).await;
    assert_eq!(status, 200);
    assert_state(&s.get(&get).await.1, "RESTARTING", "RUNNING");
    wait_state(&s, &get, "state", "RUNNING").await;

    let (status, _) = s.post(&action("delete"), body.clone()).await;
    assert_eq!(status, 200);
    assert_state(&s.get(&get).await.1, "TERMINATING", "TERMINATED");
    let terminated = wait_state(&s, &get, "state", "TERMINATED").await;
    assert_eq!(terminated["termination_reason"]["code"], "USER_REQUEST");
    let (_, listed) = s
        .get("/api/2.1/clusters/list?filter_by.cluster_states=RUNNING")
        .await;
    assert_eq!(listed, json!({}));
    let (status, v) = s.post(&action("restart"), body.clone()).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_STATE"))
    );
    let (status, _) = s.post(&action("delete"), body.clone()).await;
    assert_eq!(status, 200, "terminating is idempotent");

    let (status, _) = s.post(&action("start"), body.clone()).await;
    assert_eq!(status, 200);
    assert_state(&s.get(&get).await.1, "PENDING", "RUNNING");
    wait_state(&s, &get, "state", "RUNNING").await;
    assert_eq!(
        events().await,
        [
            "STARTING",
            "RUNNING",
            "RESTARTING",
            "RUNNING",
            "TERMINATING",
            "TERMINATED",
            "STARTING",
            "RUNNING"
        ]
    );
    let (_, newest) = s
        .post(
            "/api/2.0/clusters/events",
            json!({"cluster_id": CLUSTER_ID, "event_types": ["TERMINATED"], "page_size": 1}),
        )
        .await;
    assert_eq!(
        newest["events"][0]["details"]["reason"]["code"],
        "USER_REQUEST"
    );
    let (status, _) = s
        .post("/api/2.1/clusters/events", json!({"cluster_id": "nope"}))
        .await;
    assert_eq!(status, 400);

    // The warehouse: stop, start, and a statement starts a stopped one.
    let wh = format!("/api/2.0/sql/warehouses/{WAREHOUSE_ID}");
    let (status, _) = s.post(&format!("{wh}/stop"), json!({})).await;
    assert_eq!(status, 200);
    assert_state(&s.get(&wh).await.1, "STOPPING", "STOPPED");
    wait_state(&s, &wh, "state", "STOPPED").await;
    let (status, _) = s.post(&format!("{wh}/stop"), json!({})).await;
    assert_eq!(status, 200, "stopping is idempotent");
    let (status, _) = s.post(&format!("{wh}/start"), json!({})).await;
    assert_eq!(status, 200);
    assert_state(&s.get(&wh).await.1, "STARTING", "RUNNING");
    wait_state(&s, &wh, "state", "RUNNING").await;
    s.post(&format!("{wh}/stop"), json!({})).await;
    wait_state(&s, &wh, "state", "STOPPED").await;
    assert_eq!(s.scalar("SELECT 7").await, json!("7"));
    assert_ne!(s.get(&wh).await.1["state"], "STOPPED");
    wait_state(&s, &wh, "state", "RUNNING").await;
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_updates_recompute_and_stop() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    let (_, v) = s.get("/api/2.0/pipelines").await;
    let id = v["statuses"][0]["pipeline_id"]
        .as_str()
        .unwrap()
        .to_string();
    let update = |full: bool| {
        let s = &s;
        let id = id.clone();
        async move {
            let (status, v) = s
                .post(
                    &format!("/api/2.0/pipelines/{id}/updates"),
                    json!({"full_refresh": full}),
                )
                .await;
            assert_eq!(status, 200, "{v}");
            v["update_id"].as_str().unwrap().to_string()
        }
    };
    let first = update(true).await;
    let done = |uid: String| {
        let s = &s;
        let id = id.clone();
        async move {
            for _ in 0..400 {
                let (_, v) = s
                    .get(&format!("/api/2.0/pipelines/{id}/updates/{uid}"))
                    .await;
                let state = v["update"]["state"].as_str().unwrap_or("").to_string();
                if matches!(state.as_str(), "COMPLETED" | "FAILED" | "CANCELED") {
                    return state;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("update {uid} did not finish");
        }
    };
    assert_eq!(done(first.clone()).await, "COMPLETED");
    let second = update(false).await;
    assert_eq!(done(second.clone()).await, "COMPLETED");
    // Each update recomputes: a new version of each dataset.
    let versions = s
        .rows("DESCRIBE HISTORY main.default.orders_by_status")
        .await;
    assert_eq!(versions.len(), 2, "{versions:?}");
    let (_, events) = s
        .get(&format!("/api/2.0/pipelines/{id}/events?max_results=100"))
        .await;
    let events = events["events"].as_array().unwrap();
    let of = |uid: &str, kind: &str| {
        events
            .iter()
            .filter(|e| e["origin"]["update_id"] == uid && e["event_type"] == kind)
            .count()
    };
    assert!(of(&second, "flow_progress") >= 4, "{events:?}");
    assert!(
        events.iter().any(|e| e["origin"]["update_id"] == second
            && e["message"].as_str().unwrap_or("").contains("COMPLETED")),
        "{events:?}"
    );
    // The pipeline's lineage: sample orders → orders_by_status → top_status.
    let (_, lineage) = s
        .get("/api/2.0/lineage-tracking/table-lineage?table_name=main.default.orders_by_status&include_entity_lineage=true")
        .await;
    assert_eq!(
        lineage["upstreams"][0]["tableInfo"]["name"], "orders",
        "{lineage}"
    );
    assert_eq!(
        lineage["downstreams"][0]["tableInfo"]["name"], "top_status",
        "{lineage}"
    );
    assert_eq!(
        lineage["downstreams"][0]["pipelineInfos"][0]["pipeline_update_id"],
        second.as_str()
    );

    // A slow pipeline, stopped while it runs.
    put_file(
        &s,
        "/Shared/it/slow_pipeline.sql",
        &format!("CREATE MATERIALIZED VIEW slow AS {SLOW_SQL};"),
    )
    .await;
    let (status, v) = s
        .post(
            "/api/2.0/pipelines",
            json!({"name": "slow", "catalog": "main", "schema": "default",
                   "libraries": [{"file": {"path": "/Shared/it/slow_pipeline.sql"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let slow = v["pipeline_id"].as_str().unwrap().to_string();
    let (_, v) = s
        .post(&format!("/api/2.0/pipelines/{slow}/updates"), json!({}))
        .await;
    let uid = v["update_id"].as_str().unwrap().to_string();
    wait_state(
        &s,
        &format!("/api/2.0/pipelines/{slow}"),
        "state",
        "RUNNING",
    )
    .await;
    let (status, _) = s
        .post(&format!("/api/2.0/pipelines/{slow}/stop"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, v) = s
        .get(&format!("/api/2.0/pipelines/{slow}/updates/{uid}"))
        .await;
    assert_eq!(v["update"]["state"], "CANCELED", "{v}");
    let (_, v) = s.get(&format!("/api/2.0/pipelines/{slow}")).await;
    assert_eq!(v["state"], "IDLE", "{v}");
    let (_, events) = s.get(&format!("/api/2.0/pipelines/{slow}/events")).await;
    assert!(
        events["events"][0]["message"]
            .as_str()
            .unwrap()
            .contains("CANCELED"),
        "{events}"
    );
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_and_volume_files_round_trip_exactly() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    s.post("/api/2.0/workspace/mkdirs", json!({"path": "/Users/me"}))
        .await;
    let export = |path: &str| {
        let s = &s;
        let path = path.to_string();
        async move {
            let (status, v) = s
                .get(&format!(
                    "/api/2.0/workspace/export?path={path}&format=SOURCE"
                ))
                .await;
            assert_eq!(status, 200, "{v}");
            base64::engine::general_purpose::STANDARD
                .decode(v["content"].as_str().unwrap())
                .unwrap()
        }
    };
    // Notebooks in SOURCE format, with CRLF and non-ASCII text.
    let python = "# Databricks notebook source\r\nprint('é')\r\n";
    let sql = "-- Databricks notebook source\r\nSELECT 'é' AS e;\r\n\r\n-- COMMAND ----------\r\nSELECT 2\r\n";
    let import = |content: &str, language: &str, overwrite: bool| {
        let s = &s;
        let body = json!({"path": "/Users/me/nb", "content": b64(content.as_bytes()),
                          "format": "SOURCE", "language": language, "overwrite": overwrite});
        async move { s.post("/api/2.0/workspace/import", body).await }
    };
    let (status, v) = import(python, "PYTHON", false).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(export("/Users/me/nb").await, python.as_bytes());
    let (status, v) = import(sql, "SQL", false).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("RESOURCE_ALREADY_EXISTS"))
    );
    // Overwriting with another language replaces the notebook: the old one (which
    // would be found first) is gone.
    let (status, v) = import(sql, "SQL", true).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(export("/Users/me/nb").await, sql.as_bytes());
    let (_, v) = s
        .get("/api/2.0/workspace/get-status?path=/Users/me/nb")
        .await;
    assert_eq!(v["language"], "SQL");
    let (_, v) = s.get("/api/2.0/workspace/list?path=/Users/me").await;
    assert_eq!(v["objects"].as_array().unwrap().len(), 1, "{v}");
    // Any bytes as a workspace file.
    let bytes: Vec<u8> = (0..=255u8).chain([0, 13, 10, 255]).collect();
    let (status, v) = s
        .post(
            "/api/2.0/workspace/import",
            json!({"path": "/Users/me/data.bin", "content": b64(&bytes), "format": "AUTO"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(export("/Users/me/data.bin").await, bytes);
    let r = s
        .http
        .get(s.url("/api/2.0/workspace/export?path=/Users/me/data.bin&direct_download=true"))
        .bearer_auth(&s.api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Volumes: PUT then GET gives the same bytes; overwrite=false refuses.
    let url = s.url("/api/2.0/fs/files/Volumes/main/default/files/bin/all%20bytes.bin");
    for body in [bytes.clone(), b"second".to_vec()] {
        let r = s
            .http
            .put(format!("{url}?overwrite=true"))
            .bearer_auth(&s.api.token)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        let r = s
            .http
            .get(&url)
            .bearer_auth(&s.api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["content-length"].to_str().unwrap(),
            body.len().to_string()
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), body.as_slice());
    }
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_lineage_record_what_statements_do() {
    let dir = fresh_dir().await;
    {
        let s = Server::start(dir.path(), true).await;
        s.rows("CREATE TABLE main.default.src AS SELECT n_nationkey AS k, n_name AS name FROM samples.tpch.nation")
            .await;
        s.rows("INSERT INTO main.default.src VALUES (100, 'x')")
            .await;
        s.rows("INSERT INTO main.default.src SELECT * FROM main.default.src WHERE k < 2")
            .await;
        s.rows("CREATE TABLE main.default.dst AS WITH c AS (SELECT k FROM main.default.src) SELECT c.k, r.r_name FROM c JOIN samples.tpch.region r ON c.k = r.r_regionkey")
            .await;
        s.rows("INSERT INTO main.default.dst SELECT n_nationkey, n_name FROM samples.tpch.nation")
            .await;
        // DESCRIBE HISTORY through the statements API: a version per write.
        let versions = s.rows("DESCRIBE HISTORY main.default.src").await;
        let numbers: Vec<&str> = versions.iter().map(|r| r[0].as_str().unwrap()).collect();
        assert_eq!(numbers, ["2", "1", "0"], "{versions:?}");
        // A failure, from a client that names itself.
        let failed: Value = s
            .http
            .post(s.url("/api/2.0/sql/statements"))
            .bearer_auth(&s.api.token)
            .header("user-agent", "it-client/1.0 (tests)")
            .json(&json!({"statement": "SELECT * FROM main.default.nope", "warehouse_id": WAREHOUSE_ID}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(failed["status"]["state"], "FAILED", "{failed}");

        // The history: newest first, typed, with the failure and the client.
        let all = history(&s, "max_results=50").await;
        let types: Vec<&str> = all
            .iter()
            .map(|q| q["statement_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "SELECT", "DESCRIBE", "INSERT", "CREATE", "INSERT", "INSERT", "CREATE"
            ]
        );
        assert_eq!(all[0]["status"], "FAILED");
        assert!(all[0]["error_message"].as_str().unwrap().contains("nope"));
        assert_eq!(all[1]["rows_produced"], 3);
        assert!(all.iter().all(|q| q["warehouse_id"] == WAREHOUSE_ID
            && q["user_id"] == 1
            && q["is_final"] == true
            && q["duration"].is_i64()));
        assert_eq!(all[0]["client_application"], "it-client/1.0");
        let with_metrics = history(&s, "max_results=1&include_metrics=true").await;
        assert_eq!(with_metrics[0]["metrics"]["rows_produced_count"], 0);
        s.api.shutdown().await;
    }
    // Lineage survives a restart; the history does not (it is in memory).
    let s = Server::start(dir.path(), false).await;
    assert!(history(&s, "").await.is_empty());
    let (status, v) = s
        .get("/api/2.0/lineage-tracking/table-lineage?table_name=MAIN.default.DST&include_entity_lineage=true")
        .await;
    assert_eq!(status, 200, "{v}");
    let names = |nodes: &Value| -> Vec<String> {
        let mut n: Vec<String> = nodes
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                let t = &n["tableInfo"];
                format!(
                    "{}.{}.{}",
                    t["catalog_name"].as_str().unwrap(),
                    t["schema_name"].as_str().unwrap(),
                    t["name"].as_str().unwrap()
                )
            })
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(&v["upstreams"]),
        [
            "main.default.src",
            "samples.tpch.nation",
            "samples.tpch.region"
        ]
    );
    assert!(v.get("downstreams").is_none(), "{v}");
    assert!(
        v["upstreams"][0]["queryInfos"][0]["query_id"].is_string(),
        "{v}"
    );
    let (_, v) = s
        .get("/api/2.0/lineage-tracking/table-lineage?table_name=main.default.src")
        .await;
    assert_eq!(
        names(&v["upstreams"]),
        ["samples.tpch.nation"],
        "no self edge: {v}"
    );
    assert_eq!(names(&v["downstreams"]), ["main.default.dst"]);
    s.api.shutdown().await;
}
