//! Jobs API 2.2 and 2.1 (REFERENCE.md §4): jobs, run-now, runs.

use std::time::{Duration, Instant};

use base64::Engine as _;
use databricks_api::jobs::{Job, JobsPage, Run, RunOutput, RunsPage};
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

conformance! {
    jobs_are_listed_in_token_pages => super::jobs_are_listed_in_token_pages;
    a_job_is_read_by_id => super::a_job_is_read_by_id;
    unknown_jobs_and_runs_are_invalid_parameters => super::unknown_jobs_and_runs_are_invalid_parameters;
    parameters_are_checked => super::parameters_are_checked;
    a_run_goes_from_run_now_to_its_end => super::a_run_goes_from_run_now_to_its_end;
    a_run_is_cancelled => super::a_run_is_cancelled;
    run_now_is_idempotent_and_runs_only_what_it_names => super::run_now_is_idempotent_and_runs_only_what_it_names;
    arrays_are_paged_under_2_2_only => super::arrays_are_paged_under_2_2_only;
    jobs_are_created_and_deleted => super::jobs_are_created_and_deleted;
    a_finished_run_is_repaired => super::a_finished_run_is_repaired;
}

const ABSENT: i64 = 987_654_321;

fn ids(items: &[Value], key: &str) -> Vec<i64> {
    items.iter().filter_map(|i| i[key].as_i64()).collect()
}

/// Creates a job: its id.
async fn create(t: &Target, settings: Value) -> i64 {
    let (status, v) = t.post("/api/2.2/jobs/create", &settings).await;
    assert_eq!(status, 200, "{v}");
    v["job_id"].as_i64().expect("job_id")
}

/// A SQL file task on a workspace file.
fn sql_task(key: &str, path: &str) -> Value {
    json!({
        "task_key": key,
        "sql_task": {"file": {"path": path, "source": "WORKSPACE"}, "warehouse_id": "any"},
    })
}

/// Writes a workspace file (the local workspace runs SQL files of its workspace).
async fn put_file(t: &Target, path: &str, text: &str) {
    let parent = path.rsplit_once('/').map_or("/", |(p, _)| p);
    let (status, v) = t
        .post("/api/2.0/workspace/mkdirs", &json!({"path": parent}))
        .await;
    assert_eq!(status, 200, "{v}");
    let content = base64::engine::general_purpose::STANDARD.encode(text);
    let (status, v) = t
        .post(
            "/api/2.0/workspace/import",
            &json!({"path": path, "content": content, "format": "AUTO", "overwrite": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

async fn run_now(t: &Target, body: Value) -> i64 {
    let (status, v) = t.post("/api/2.2/jobs/run-now", &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["number_in_job"], v["run_id"], "{v}");
    v["run_id"].as_i64().expect("run_id")
}

/// Reads a run until it has finished (the emulator's runs move as they are read).
async fn wait_run(t: &Target, run_id: i64) -> Run {
    let started = Instant::now();
    loop {
        let (status, v) = t
            .get(&format!("/api/2.2/jobs/runs/get?run_id={run_id}"))
            .await;
        assert_eq!(status, 200, "{v}");
        let run: Run = serde_json::from_value(v.clone()).expect("a run");
        if run.is_finished() {
            return run;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn result_state(run: &Run) -> Option<&str> {
    run.state.as_ref().and_then(|s| s.result_state.as_deref())
}

/// §4.1: token pages of `limit` with `has_more`, `next_page_token` and, after the first,
/// `prev_page_token`; the same jobs under 2.1; without `expand_tasks` no tasks.
async fn jobs_are_listed_in_token_pages(t: Target) {
    let t = t.writable().await;
    create(&t, json!({"name": "conformance one"})).await;
    create(&t, json!({"name": "conformance two"})).await;
    let (status, v) = t.get("/api/2.2/jobs/list?limit=100").await;
    assert_eq!(status, 200, "{v}");
    let all: JobsPage = serde_json::from_value(v.clone()).expect("jobs");
    assert_eq!(all.has_more, Some(false), "{v}");
    assert!(all.jobs.len() >= 3, "{v}");
    for job in &all.jobs {
        assert!(
            job.run_as_user_name.is_none(),
            "a listed job is a BaseJob: {v}"
        );
        let settings = job.settings.as_ref().expect("settings");
        assert!(settings.tasks.is_empty(), "{v}");
    }
    let expected: Vec<i64> = all.jobs.iter().map(|j| j.job_id).collect();
    for version in ["2.1", "2.2"] {
        let (paged, pages) = t
            .all_pages(&format!("/api/{version}/jobs/list?limit=1"), "jobs")
            .await;
        assert_eq!(ids(&paged, "job_id"), expected);
        assert_eq!(pages, expected.len());
    }
    let (_, first) = t.get("/api/2.2/jobs/list?limit=1").await;
    assert_eq!(first["has_more"], true, "{first}");
    assert!(first.get("prev_page_token").is_none(), "{first}");
    let token = first["next_page_token"].as_str().expect("next_page_token");
    let (_, second) = t
        .get(&format!(
            "/api/2.2/jobs/list?limit=1&page_token={}",
            encode(token)
        ))
        .await;
    let back = second["prev_page_token"].as_str().expect("prev_page_token");
    let (_, again) = t
        .get(&format!(
            "/api/2.2/jobs/list?limit=1&page_token={}",
            encode(back)
        ))
        .await;
    assert_eq!(again["jobs"], first["jobs"]);
    // The deprecated offset still pages.
    let (_, offset) = t.get("/api/2.2/jobs/list?limit=1&offset=1").await;
    assert_eq!(offset["jobs"], second["jobs"]);
    // A name filter is exact and case-insensitive.
    let (_, named) = t.get("/api/2.2/jobs/list?name=CONFORMANCE%20TWO").await;
    let named: JobsPage = serde_json::from_value(named).expect("jobs");
    assert_eq!(named.jobs.len(), 1);
    let (_, expanded) = t
        .get("/api/2.2/jobs/list?expand_tasks=true&limit=100")
        .await;
    let expanded: JobsPage = serde_json::from_value(expanded).expect("jobs");
    let known = expanded
        .jobs
        .iter()
        .find(|j| j.job_id == t.known.job)
        .expect("the known job");
    assert_eq!(known.settings.as_ref().map(|s| s.tasks.len()), Some(2));
}

/// §4.2: a job with its owner and whole settings, the same under 2.1 and 2.2.
async fn a_job_is_read_by_id(t: Target) {
    for version in ["2.1", "2.2"] {
        let (status, v) = t
            .get(&format!("/api/{version}/jobs/get?job_id={}", t.known.job))
            .await;
        assert_eq!(status, 200, "{v}");
        let job: Job = serde_json::from_value(v.clone()).expect("a job");
        assert_eq!(job.job_id, t.known.job);
        assert!(job.run_as_user_name.is_some(), "{v}");
        assert!(job.next_page_token.is_none(), "{v}");
        let settings = job.settings.expect("settings");
        assert!(settings.name.is_some(), "{v}");
        assert_eq!(settings.tasks.len(), 2, "{v}");
    }
}

/// The service answers 400 `INVALID_PARAMETER_VALUE` for a job or run that does not
/// exist, not a 404.
async fn unknown_jobs_and_runs_are_invalid_parameters(t: Target) {
    let invalid = |answer: (u16, Value)| assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    for version in ["2.1", "2.2"] {
        invalid(
            t.get(&format!("/api/{version}/jobs/get?job_id={ABSENT}"))
                .await,
        );
        invalid(
            t.get(&format!("/api/{version}/jobs/runs/get?run_id={ABSENT}"))
                .await,
        );
    }
    invalid(
        t.get(&format!("/api/2.2/jobs/runs/get-output?run_id={ABSENT}"))
            .await,
    );
    let posts = [
        ("run-now", json!({"job_id": ABSENT})),
        ("delete", json!({"job_id": ABSENT})),
        ("runs/cancel", json!({"run_id": ABSENT})),
        ("runs/cancel-all", json!({"job_id": ABSENT})),
        (
            "runs/repair",
            json!({"run_id": ABSENT, "rerun_all_failed_tasks": true}),
        ),
    ];
    for (path, body) in posts {
        invalid(t.post(&format!("/api/2.2/jobs/{path}"), &body).await);
    }
    assert_error(
        &t.get("/api/2.2/jobs/nothing-here").await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

/// Required ids, integers, `limit` bounds, the filters' values.
async fn parameters_are_checked(t: Target) {
    let invalid = |answer: (u16, Value)| assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    invalid(t.get("/api/2.2/jobs/get").await);
    invalid(t.get("/api/2.2/jobs/get?job_id=abc").await);
    invalid(t.get("/api/2.2/jobs/runs/get").await);
    invalid(t.get("/api/2.2/jobs/runs/get-output").await);
    invalid(t.get("/api/2.2/jobs/list?limit=101").await);
    invalid(t.get("/api/2.2/jobs/list?limit=-1").await);
    invalid(t.get("/api/2.2/jobs/list?offset=-1").await);
    invalid(t.get("/api/2.2/jobs/list?page_token=bogus").await);
    invalid(t.get("/api/2.2/jobs/list?expand_tasks=maybe").await);
    invalid(t.get("/api/2.2/jobs/runs/list?limit=26").await);
    invalid(
        t.get("/api/2.2/jobs/runs/list?active_only=true&completed_only=true")
            .await,
    );
    invalid(t.get("/api/2.2/jobs/runs/list?run_type=NIGHTLY").await);
    let (status, v) = t.get("/api/2.2/jobs/runs/list?limit=0").await;
    assert_eq!(status, 200, "limit 0 asks for the largest page: {v}");
    invalid(t.post("/api/2.2/jobs/run-now", &json!({})).await);
    invalid(
        t.post("/api/2.2/jobs/run-now", &json!({"job_id": "x"}))
            .await,
    );
    let long = "t".repeat(65);
    invalid(
        t.post(
            "/api/2.2/jobs/run-now",
            &json!({"job_id": t.known.job, "idempotency_token": long}),
        )
        .await,
    );
    invalid(
        t.post(
            "/api/2.2/jobs/run-now",
            &json!({"job_id": t.known.job, "job_parameters": ["a"]}),
        )
        .await,
    );
    invalid(
        t.post(
            "/api/2.2/jobs/run-now",
            &json!({"job_id": t.known.job, "only": ["no-such-task"]}),
        )
        .await,
    );
    invalid(t.post("/api/2.2/jobs/runs/cancel", &json!({})).await);
    invalid(t.post("/api/2.2/jobs/runs/cancel-all", &json!({})).await);
    invalid(
        t.post("/api/2.2/jobs/runs/repair", &json!({"rerun_tasks": ["a"]}))
            .await,
    );
}

/// §4.3–§4.6: run-now starts a run that runs/get follows to SUCCESS; runs/list shows it
/// newest first; the output belongs to a task run, which runs/get shows as a run.
async fn a_run_goes_from_run_now_to_its_end(t: Target) {
    let t = t.writable().await;
    let job = t.known.job;
    let run_id = run_now(&t, json!({"job_id": job})).await;
    let run = wait_run(&t, run_id).await;
    assert_eq!(run.job_id, Some(job));
    assert_eq!(result_state(&run), Some("SUCCESS"), "{run:?}");
    assert_eq!(run.tasks.len(), 2);
    assert!(run.tasks.iter().all(|task| task["run_id"].is_i64()));

    let (_, v) = t
        .get(&format!("/api/2.2/jobs/runs/list?job_id={job}"))
        .await;
    let page: RunsPage = serde_json::from_value(v.clone()).expect("runs");
    assert_eq!(page.runs.first().map(|r| r.run_id), Some(run_id), "{v}");
    assert!(page.runs.iter().all(|r| r.tasks.is_empty()), "{v}");
    let (_, v) = t
        .get(&format!(
            "/api/2.2/jobs/runs/list?job_id={job}&expand_tasks=true&completed_only=true"
        ))
        .await;
    let page: RunsPage = serde_json::from_value(v.clone()).expect("runs");
    assert_eq!(page.runs.first().map(|r| r.tasks.len()), Some(2), "{v}");
    let (_, v) = t
        .get(&format!(
            "/api/2.2/jobs/runs/list?job_id={job}&active_only=true"
        ))
        .await;
    let active: RunsPage = serde_json::from_value(v.clone()).expect("runs");
    assert!(
        active
            .runs
            .iter()
            .all(|r| !r.is_finished() && r.run_id != run_id),
        "{v}"
    );
    let (_, v) = t.get("/api/2.2/jobs/runs/list?limit=25").await;
    let expected = ids(v["runs"].as_array().expect("runs"), "run_id");
    let (paged, _) = t.all_pages("/api/2.1/jobs/runs/list?limit=1", "runs").await;
    assert_eq!(ids(&paged, "run_id"), expected);

    // A job run of several tasks has no output of its own.
    let answer = t
        .get(&format!("/api/2.2/jobs/runs/get-output?run_id={run_id}"))
        .await;
    assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    let task_run = run.tasks.first().and_then(|task| task["run_id"].as_i64());
    let task_run = task_run.expect("a task run id");
    let (status, v) = t
        .get(&format!("/api/2.2/jobs/runs/get-output?run_id={task_run}"))
        .await;
    assert_eq!(status, 200, "{v}");
    let output: RunOutput = serde_json::from_value(v.clone()).expect("an output");
    let metadata = output.metadata.expect("metadata");
    assert_eq!(metadata.run_id, task_run);
    assert_eq!(metadata.job_run_id, Some(run_id));
    assert!(output.error.is_none(), "{v}");
    let (status, v) = t
        .get(&format!("/api/2.2/jobs/runs/get?run_id={task_run}"))
        .await;
    assert_eq!(status, 200, "{v}");
    let shown: Run = serde_json::from_value(v.clone()).expect("a run");
    assert_eq!(shown.run_id, task_run);
    assert_eq!(shown.job_run_id, Some(run_id));
    assert_eq!(shown.job_id, Some(job));
    assert_eq!(shown.tasks.len(), 1, "{v}");
}

/// §4.7: a run cancelled before it ends ends `CANCELED`; cancelling a finished run
/// changes nothing; cancel-all cancels the active runs of a job.
async fn a_run_is_cancelled(t: Target) {
    let t = t.writable().await;
    let slow = "SELECT count(*) AS n FROM samples.tpch.lineitem a CROSS JOIN samples.tpch.lineitem b CROSS JOIN samples.tpch.nation c";
    put_file(&t, "/Shared/conformance/slow.sql", slow).await;
    let job = create(
        &t,
        json!({"name": "slow", "tasks": [sql_task("slow", "/Shared/conformance/slow.sql")]}),
    )
    .await;
    let run_id = run_now(&t, json!({"job_id": job})).await;
    let (status, v) = t
        .post("/api/2.2/jobs/runs/cancel", &json!({"run_id": run_id}))
        .await;
    assert_eq!((status, &v), (200, &json!({})));
    let run = wait_run(&t, run_id).await;
    assert_eq!(result_state(&run), Some("CANCELED"), "{run:?}");
    // A user's cancel is USER_CANCELED; CANCELED is the platform's (e.g. a time limit).
    let run_json = serde_json::to_value(&run).unwrap_or_default();
    assert_eq!(
        run_json.pointer("/status/termination_details/code"),
        Some(&json!("USER_CANCELED")),
        "{run_json}"
    );
    let (status, _) = t
        .post("/api/2.1/jobs/runs/cancel", &json!({"run_id": run_id}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(result_state(&wait_run(&t, run_id).await), Some("CANCELED"));

    let first = run_now(&t, json!({"job_id": job})).await;
    let second = run_now(&t, json!({"job_id": job})).await;
    let (status, v) = t
        .post("/api/2.2/jobs/runs/cancel-all", &json!({"job_id": job}))
        .await;
    assert_eq!(status, 200, "{v}");
    for id in [first, second] {
        assert_eq!(result_state(&wait_run(&t, id).await), Some("CANCELED"));
    }
}

/// §4.3: the same `idempotency_token` answers the same run; `only` runs the named tasks,
/// a `+` prefix adding those upstream.
async fn run_now_is_idempotent_and_runs_only_what_it_names(t: Target) {
    let t = t.writable().await;
    let job = t.known.job;
    let body = json!({"job_id": job, "idempotency_token": "conformance-token"});
    let first = run_now(&t, body.clone()).await;
    assert_eq!(run_now(&t, body).await, first);
    wait_run(&t, first).await;

    let (_, v) = t.get(&format!("/api/2.2/jobs/get?job_id={job}")).await;
    let keys: Vec<String> = v["settings"]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|task| task["task_key"].as_str().map(str::to_string))
        .collect();
    let [upstream, downstream] = keys.as_slice() else {
        panic!("two tasks: {v}");
    };
    let only = run_now(&t, json!({"job_id": job, "only": [upstream]})).await;
    let run = wait_run(&t, only).await;
    assert_eq!(run.tasks.len(), 1, "{run:?}");
    assert_eq!(run.tasks[0]["task_key"], upstream.as_str());
    let both = run_now(
        &t,
        json!({"job_id": job, "only": [format!("+{downstream}")]}),
    )
    .await;
    assert_eq!(wait_run(&t, both).await.tasks.len(), 2);
}

/// §4.8: 2.2 answers at most 100 tasks of a job, continued by `page_token`, and flags a
/// listed job with more; 2.1 answers them whole.
async fn arrays_are_paged_under_2_2_only(t: Target) {
    let t = t.writable().await;
    let tasks: Vec<Value> = (0..150)
        .map(|i| sql_task(&format!("t{i:03}"), "/Shared/none.sql"))
        .collect();
    let job = create(&t, json!({"name": "wide", "tasks": tasks})).await;
    let (_, whole) = t.get(&format!("/api/2.1/jobs/get?job_id={job}")).await;
    assert_eq!(
        whole["settings"]["tasks"].as_array().map(Vec::len),
        Some(150)
    );
    assert!(whole.get("next_page_token").is_none(), "{whole}");
    let (_, first) = t.get(&format!("/api/2.2/jobs/get?job_id={job}")).await;
    let first_tasks = first["settings"]["tasks"].as_array().expect("tasks");
    assert_eq!(first_tasks.len(), 100);
    let token = first["next_page_token"].as_str().expect("next_page_token");
    let (_, rest) = t
        .get(&format!(
            "/api/2.2/jobs/get?job_id={job}&page_token={}",
            encode(token)
        ))
        .await;
    let rest_tasks = rest["settings"]["tasks"].as_array().expect("tasks");
    assert_eq!(rest_tasks.len(), 50);
    assert_eq!(rest_tasks[0]["task_key"], "t100");
    assert!(rest.get("next_page_token").is_none(), "{rest}");

    let (_, listed) = t
        .get("/api/2.2/jobs/list?expand_tasks=true&name=wide")
        .await;
    assert_eq!(listed["jobs"][0]["has_more"], true, "{listed}");
    assert_eq!(
        listed["jobs"][0]["settings"]["tasks"]
            .as_array()
            .map(Vec::len),
        Some(100)
    );
    let (_, listed) = t
        .get("/api/2.1/jobs/list?expand_tasks=true&name=wide")
        .await;
    assert!(listed["jobs"][0].get("has_more").is_none(), "{listed}");
    assert_eq!(
        listed["jobs"][0]["settings"]["tasks"]
            .as_array()
            .map(Vec::len),
        Some(150)
    );
}

/// `jobs/create` answers the new id, which `jobs/get` reads back; tasks need distinct
/// keys; `jobs/delete` removes the job.
async fn jobs_are_created_and_deleted(t: Target) {
    let t = t.writable().await;
    let job = create(
        &t,
        json!({"name": "made here", "tags": {"k": "v"}, "tasks": [sql_task("a", "/Shared/a.sql")]}),
    )
    .await;
    let (status, v) = t.get(&format!("/api/2.2/jobs/get?job_id={job}")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["settings"]["name"], "made here");
    assert_eq!(v["settings"]["tags"]["k"], "v");
    assert_eq!(v["settings"]["tasks"][0]["task_key"], "a");
    let duplicate =
        json!({"name": "x", "tasks": [sql_task("a", "/a.sql"), sql_task("a", "/b.sql")]});
    assert_error(
        &t.post("/api/2.2/jobs/create", &duplicate).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    let (status, v) = t
        .post("/api/2.2/jobs/delete", &json!({"job_id": job}))
        .await;
    assert_eq!((status, &v), (200, &json!({})));
    assert_error(
        &t.get(&format!("/api/2.2/jobs/get?job_id={job}")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

/// `runs/repair`: a finished run's chosen task runs again under a new task run id and a
/// higher attempt number, recorded in `repair_history`; a stale `latest_repair_id` is
/// refused; the earlier attempt stays readable.
async fn a_finished_run_is_repaired(t: Target) {
    let t = t.writable().await;
    put_file(&t, "/Shared/conformance/ok.sql", "SELECT 1 AS one").await;
    let job = create(
        &t,
        json!({"name": "repairable", "tasks": [sql_task("only", "/Shared/conformance/ok.sql")]}),
    )
    .await;
    let run_id = run_now(&t, json!({"job_id": job})).await;
    let before = wait_run(&t, run_id).await;
    assert_eq!(result_state(&before), Some("SUCCESS"), "{before:?}");
    let repair = json!({"run_id": run_id, "rerun_tasks": ["only"]});
    let (status, v) = t.post("/api/2.2/jobs/runs/repair", &repair).await;
    assert_eq!(status, 200, "{v}");
    let repair_id = v["repair_id"].as_i64().expect("repair_id");
    let after = wait_run(&t, run_id).await;
    assert_eq!(result_state(&after), Some("SUCCESS"), "{after:?}");
    let (old, new) = (&before.tasks[0], &after.tasks[0]);
    assert_ne!(old["run_id"], new["run_id"]);
    assert_eq!(new["attempt_number"], 1);
    let kinds: Vec<&str> = after
        .repair_history
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert_eq!(kinds, ["ORIGINAL", "REPAIR"]);
    assert_eq!(after.repair_history[1]["id"], repair_id);
    let stale = json!({"run_id": run_id, "rerun_tasks": ["only"], "latest_repair_id": 1});
    assert_error(
        &t.post("/api/2.1/jobs/runs/repair", &stale).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    // The first attempt's output is still read by its id.
    let (status, v) = t
        .get(&format!(
            "/api/2.2/jobs/runs/get-output?run_id={}",
            old["run_id"]
        ))
        .await;
    assert_eq!(status, 200, "{v}");
}
