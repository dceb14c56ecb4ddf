//! Jobs API 2.2 (and 2.1, same shapes here) — REFERENCE §4. The job list is static (the
//! fixture plus synthesised jobs); runs are stateful: `run-now` creates runs that progress
//! PENDING → RUNNING → RUNNING → TERMINATED/SUCCESS as they are polled with `runs/get`,
//! `runs/cancel` terminates them, and `runs/repair` puts a finished run's failed (or
//! chosen) tasks through the same progression again.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::response::Response;
use serde_json::{Value, json};

use workspace_server::jobs::{is_finished, is_unsuccessful};

use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{
    R, Req, bad_param, decode_token, empty, encode_token, items, lock, not_found, now_ms, ok,
    remove, set,
};

/// The id of the fixture job that has tasks (jobs_get.json).
const DETAILED_JOB: i64 = 11_223_344;

/// Number of jobs in `jobs_list.json`.
pub(crate) fn fixture_job_count() -> usize {
    items(&fixture_json("jobs_list.json"), "jobs").len()
}

pub(crate) struct Jobs {
    jobs: Vec<Value>,
    runs: Mutex<Runs>,
}

struct Runs {
    /// Newest first, full Run objects (tasks included).
    list: Vec<Value>,
    /// run_id → number of `runs/get` reads so far, for runs created by run-now.
    progress: HashMap<i64, u32>,
    idempotency: HashMap<String, i64>,
    next_run_id: i64,
    next_task_run_id: i64,
    next_repair_id: i64,
}

fn job_id_of(v: &Value) -> i64 {
    v.get("job_id").and_then(Value::as_i64).unwrap_or_default()
}

fn run_id_of(v: &Value) -> i64 {
    v.get("run_id").and_then(Value::as_i64).unwrap_or_default()
}

fn synthetic_task(i: usize) -> Value {
    json!({
        "task_key": "main",
        "notebook_task": {
            "notebook_path": format!("/Workspace/Users/alice@example.com/job-{i}"),
            "source": "WORKSPACE"
        },
        "existing_cluster_id": "0923-164208-meows279",
        "timeout_seconds": 0,
        "run_if": "ALL_SUCCESS"
    })
}

impl Jobs {
    pub fn new(count: usize) -> Jobs {
        let fixture = items(&fixture_json("jobs_list.json"), "jobs");
        let mut jobs: Vec<Value> = fixture.iter().take(count).cloned().collect();
        for i in jobs.len()..count {
            jobs.push(json!({
                "job_id": 1000 + i as i64,
                "creator_user_name": "alice@example.com",
                "created_time": 1_701_370_337_343_i64 + i as i64 * 1000,
                "settings": {
                    "name": format!("job-{i}"),
                    "format": "MULTI_TASK",
                    "max_concurrent_runs": 1,
                    "timeout_seconds": 0,
                    "email_notifications": {}
                }
            }));
        }
        let mut runs = items(&fixture_json("runs_list.json"), "runs");
        let detailed = fixture_json("runs_get.json");
        for r in &mut runs {
            if run_id_of(r) == run_id_of(&detailed) {
                *r = detailed.clone();
            }
        }
        Jobs {
            jobs,
            runs: Mutex::new(Runs {
                list: runs,
                progress: HashMap::new(),
                idempotency: HashMap::new(),
                next_run_id: 455_700_001,
                next_task_run_id: 3_000_001,
                next_repair_id: 734_650_001,
            }),
        }
    }

    /// The full Job object (as jobs/get returns it).
    fn full_job(&self, id: i64) -> Option<Value> {
        let (i, base) = self
            .jobs
            .iter()
            .enumerate()
            .find(|(_, j)| job_id_of(j) == id)?;
        if id == DETAILED_JOB {
            return Some(fixture_json("jobs_get.json"));
        }
        let mut job = base.clone();
        set(
            &mut job,
            "run_as_user_name",
            base.get("creator_user_name")
                .cloned()
                .unwrap_or(json!("alice@example.com")),
        );
        if let Some(settings) = job.get_mut("settings") {
            set(settings, "tasks", json!([synthetic_task(i)]));
        }
        Some(job)
    }
}

pub(crate) fn route(st: &Shared, req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", ["list"]) => list(st, req),
        ("GET", ["get"]) => get(st, req),
        ("POST", ["run-now"]) => run_now(st, req),
        ("GET", ["runs", "list"]) => runs_list(st, req),
        ("GET", ["runs", "get"]) => runs_get(st, req),
        ("GET", ["runs", "get-output"]) => runs_get_output(st, req),
        ("POST", ["runs", "cancel"]) => runs_cancel(st, req),
        ("POST", ["runs", "repair"]) => runs_repair(st, req),
        _ => return None,
    })
}

fn job_not_found(id: i64) -> Response {
    not_found(format!("Job {id} does not exist."))
}

fn run_not_found(id: i64) -> Response {
    not_found(format!("Run {id} does not exist."))
}

/// A required int64 query parameter.
fn q_id(req: &Req, name: &str) -> Result<i64, Response> {
    match req.q(name) {
        None | Some("") => Err(bad_param(format!("Missing required field: {name}"))),
        Some(v) => v.trim().parse().map_err(|_| {
            bad_param(format!(
                "Invalid value '{v}' for parameter {name}: expected an integer"
            ))
        }),
    }
}

/// A required int64 body field.
fn b_id(req: &Req, name: &str) -> Result<i64, Response> {
    req.b_i64(name)?
        .ok_or_else(|| bad_param(format!("Missing required field: {name}")))
}

/// `(offset, limit)` from `page_token` / deprecated `offset` and `limit`.
fn paging(
    req: &Req,
    scope: &str,
    default: usize,
    max: usize,
    zero_is_max: bool,
) -> Result<(usize, usize), Response> {
    let limit = match req.q_i64("limit")? {
        None => default,
        Some(0) if zero_is_max => max,
        Some(0) => default,
        Some(n) if n < 0 || n as usize > max => {
            return Err(bad_param(format!(
                "Invalid value for limit: {n}. The limit must be between 1 and {max}."
            )));
        }
        Some(n) => n as usize,
    };
    let offset = match req.q("page_token").filter(|t| !t.is_empty()) {
        Some(t) => decode_token(scope, Some(t))?,
        None => match req.q_i64("offset")? {
            Some(n) if n < 0 => return Err(bad_param("offset must be non-negative")),
            Some(n) => n as usize,
            None => 0,
        },
    };
    Ok((offset, limit))
}

/// `{key: page, has_more, next_page_token?, prev_page_token?}`.
fn paged(key: &str, scope: &str, all: &[Value], offset: usize, limit: usize) -> Value {
    let (page, next) = crate::util::page(all, offset, limit);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, key, Value::Array(page));
    }
    set(&mut out, "has_more", json!(next.is_some()));
    if let Some(n) = next {
        set(&mut out, "next_page_token", json!(encode_token(scope, n)));
    }
    if offset > 0 {
        set(
            &mut out,
            "prev_page_token",
            json!(encode_token(scope, offset.saturating_sub(limit))),
        );
    }
    out
}

/// GET jobs/list
fn list(st: &Shared, req: &Req) -> R {
    let (offset, limit) = paging(req, "jobs", 20, 100, false)?;
    let expand = req.q_bool("expand_tasks")?;
    let name = req.q("name");
    let all: Vec<Value> = st
        .jobs
        .jobs
        .iter()
        .filter(|j| {
            name.is_none_or(|n| {
                j.pointer("/settings/name")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(n))
            })
        })
        .map(|j| {
            if expand {
                st.jobs
                    .full_job(job_id_of(j))
                    .map(|mut f| {
                        remove(&mut f, "run_as_user_name");
                        f
                    })
                    .unwrap_or_else(|| j.clone())
            } else {
                j.clone()
            }
        })
        .collect();
    ok(paged("jobs", "jobs", &all, offset, limit))
}

/// GET jobs/get?job_id= — a missing job is 400 INVALID_PARAMETER_VALUE on the real API
/// (not 404; the Go SDK keeps an override for exactly this).
fn get(st: &Shared, req: &Req) -> R {
    let id = q_id(req, "job_id")?;
    st.jobs
        .full_job(id)
        .ok_or_else(|| bad_param(format!("Job {id} does not exist.")))
        .and_then(ok)
}

fn is_active(run: &Value) -> bool {
    matches!(
        run.pointer("/state/life_cycle_state")
            .and_then(Value::as_str),
        Some("QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED" | "WAITING_FOR_RETRY")
    )
}

/// GET jobs/runs/list
fn runs_list(st: &Shared, req: &Req) -> R {
    let active_only = req.q_bool("active_only")?;
    let completed_only = req.q_bool("completed_only")?;
    if active_only && completed_only {
        return Err(bad_param(
            "active_only and completed_only cannot both be true.",
        ));
    }
    let job_id = req.q_i64("job_id")?;
    let run_type = req.q("run_type");
    let from = req.q_i64("start_time_from")?;
    let to = req.q_i64("start_time_to")?;
    let expand = req.q_bool("expand_tasks")?;
    let (offset, limit) = paging(req, "runs", 20, 25, true)?;
    let runs = lock(&st.jobs.runs);
    let all: Vec<Value> = runs
        .list
        .iter()
        .filter(|r| job_id.is_none_or(|id| job_id_of(r) == id))
        .filter(|r| !active_only || is_active(r))
        .filter(|r| !completed_only || !is_active(r))
        .filter(|r| run_type.is_none_or(|t| r.get("run_type").and_then(Value::as_str) == Some(t)))
        .filter(|r| {
            let start = r.get("start_time").and_then(Value::as_i64).unwrap_or(0);
            from.is_none_or(|f| start >= f) && to.is_none_or(|t| start <= t)
        })
        .map(|r| {
            let mut r = r.clone();
            if !expand {
                remove(&mut r, "tasks");
                remove(&mut r, "job_clusters");
            }
            r
        })
        .collect();
    ok(paged("runs", "runs", &all, offset, limit))
}

fn set_state(run: &mut Value, life: &str, result: Option<&str>, message: &str, cancelled: bool) {
    let mut state = json!({
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": cancelled,
    });
    if let Some(r) = result {
        set(&mut state, "result_state", json!(r));
    }
    let status = match (life, result) {
        ("TERMINATED", Some("SUCCESS")) => json!({
            "state": "TERMINATED",
            "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": message}
        }),
        ("TERMINATED", Some("CANCELED")) => json!({
            "state": "TERMINATED",
            "termination_details": {"code": "USER_CANCELED", "type": "SUCCESS", "message": message}
        }),
        (life, _) => json!({ "state": life }),
    };
    set(run, "state", state);
    set(run, "status", status.clone());
    if life == "TERMINATED" {
        let now = now_ms();
        set(run, "end_time", json!(now));
        let start = run.get("start_time").and_then(Value::as_i64).unwrap_or(now);
        set(run, "run_duration", json!(now - start));
    }
    if let Some(tasks) = run.get_mut("tasks").and_then(Value::as_array_mut) {
        // Tasks that already finished keep their outcome (a repair re-runs some only).
        for t in tasks.iter_mut().filter(|t| !is_finished(t)) {
            let mut s = json!({
                "life_cycle_state": life,
                "state_message": message,
                "user_cancelled_or_timedout": cancelled,
            });
            if let Some(r) = result {
                set(&mut s, "result_state", json!(r));
            }
            set(t, "state", s);
            set(t, "status", status.clone());
            if life == "TERMINATED" {
                set(t, "end_time", json!(now_ms()));
            }
        }
    }
    if life == "TERMINATED" {
        settle_result(run, cancelled);
    }
}

/// A terminated run fails when one of its tasks did (after a repair that left a failed
/// task alone, say), and its latest repair records how it ended.
fn settle_result(run: &mut Value, cancelled: bool) {
    let failed = run
        .get("tasks")
        .and_then(Value::as_array)
        .is_some_and(|ts| ts.iter().any(is_unsuccessful));
    if failed && !cancelled {
        let message = "A task of this run did not succeed.";
        set(
            run,
            "state",
            json!({"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": message, "user_cancelled_or_timedout": false}),
        );
        set(
            run,
            "status",
            json!({"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR", "type": "CLIENT_ERROR", "message": message}}),
        );
    }
    let (state, status, end) = (
        run.get("state").cloned(),
        run.get("status").cloned(),
        run.get("end_time").cloned(),
    );
    if let Some(last) = run
        .get_mut("repair_history")
        .and_then(Value::as_array_mut)
        .and_then(|h| h.last_mut())
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("REPAIR"))
    {
        set(last, "state", state.unwrap_or(Value::Null));
        set(last, "status", status.unwrap_or(Value::Null));
        set(last, "end_time", end.unwrap_or(Value::Null));
    }
}

/// POST jobs/run-now
fn run_now(st: &Shared, req: &Req) -> R {
    let job_id = b_id(req, "job_id")?;
    let job = st
        .jobs
        .full_job(job_id)
        .ok_or_else(|| job_not_found(job_id))?;
    if let Some(p) = req
        .json
        .get("job_parameters")
        .filter(|p| !p.is_null() && !p.is_object())
    {
        return Err(bad_param(format!(
            "job_parameters must be a map of strings, got {p}"
        )));
    }
    let mut runs = lock(&st.jobs.runs);
    if let Some(token) = req.b_str("idempotency_token") {
        if token.len() > 64 {
            return Err(bad_param(
                "idempotency_token must be at most 64 characters.",
            ));
        }
        if let Some(id) = runs.idempotency.get(token) {
            return ok(json!({ "run_id": id, "number_in_job": id }));
        }
    }
    let run_id = runs.next_run_id;
    runs.next_run_id += 1;
    let now = now_ms();
    let overrides = req.json.get("job_parameters").and_then(Value::as_object);
    let params: Vec<Value> = job
        .pointer("/settings/parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                    let default = p.get("default").cloned().unwrap_or(json!(""));
                    let value = overrides
                        .and_then(|o| o.get(name))
                        .cloned()
                        .unwrap_or_else(|| default.clone());
                    json!({ "name": name, "default": default, "value": value })
                })
                .collect()
        })
        .unwrap_or_default();
    let only: Option<Vec<&str>> = req
        .json
        .get("only")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut tasks = Vec::new();
    for t in job
        .pointer("/settings/tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = t
            .get("task_key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if only.as_ref().is_some_and(|o| !o.contains(&key)) {
            continue;
        }
        let mut task = t.clone();
        let task_run_id = runs.next_task_run_id;
        runs.next_task_run_id += 1;
        set(&mut task, "run_id", json!(task_run_id));
        set(&mut task, "attempt_number", json!(0));
        set(&mut task, "start_time", json!(now));
        set(
            &mut task,
            "run_page_url",
            json!(format!(
                "{}/?o=1234567890123456#job/{job_id}/run/{task_run_id}",
                st.base_url
            )),
        );
        tasks.push(task);
    }
    let mut run = json!({
        "job_id": job_id,
        "run_id": run_id,
        "number_in_job": run_id,
        "original_attempt_run_id": run_id,
        "creator_user_name": "alice@example.com",
        "run_name": job.pointer("/settings/name").cloned().unwrap_or(json!("")),
        "run_type": "JOB_RUN",
        "trigger": "ONE_TIME",
        "attempt_number": 0,
        "start_time": now,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "end_time": 0,
        "run_duration": 0,
        "queue_duration": 0,
        "run_page_url": format!("{}/?o=1234567890123456#job/{job_id}/run/{run_id}", st.base_url),
        "tasks": tasks,
    });
    if !params.is_empty() {
        set(&mut run, "job_parameters", json!(params));
    }
    set_state(&mut run, "PENDING", None, "Waiting for cluster", false);
    runs.list.insert(0, run);
    runs.progress.insert(run_id, 0);
    if let Some(token) = req.b_str("idempotency_token") {
        runs.idempotency.insert(token.to_string(), run_id);
    }
    let mut out = fixture_json("jobs_run_now.json");
    set(&mut out, "run_id", json!(run_id));
    set(&mut out, "number_in_job", json!(run_id));
    ok(out)
}

/// Finds a run or a task run; task runs are presented as single-task runs.
fn find_run(runs: &Runs, id: i64) -> Option<(usize, Option<Value>)> {
    if let Some(i) = runs.list.iter().position(|r| run_id_of(r) == id) {
        return Some((i, None));
    }
    for (i, r) in runs.list.iter().enumerate() {
        for t in r
            .get("tasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if run_id_of(t) == id {
                let mut tr = t.clone();
                set(
                    &mut tr,
                    "job_id",
                    r.get("job_id").cloned().unwrap_or(Value::Null),
                );
                set(
                    &mut tr,
                    "job_run_id",
                    r.get("run_id").cloned().unwrap_or(Value::Null),
                );
                set(&mut tr, "number_in_job", json!(id));
                set(&mut tr, "original_attempt_run_id", json!(id));
                set(
                    &mut tr,
                    "creator_user_name",
                    r.get("creator_user_name").cloned().unwrap_or(Value::Null),
                );
                set(&mut tr, "run_type", json!("JOB_RUN"));
                set(
                    &mut tr,
                    "run_name",
                    t.get("task_key").cloned().unwrap_or(Value::Null),
                );
                set(&mut tr, "tasks", json!([t.clone()]));
                return Some((i, Some(tr)));
            }
        }
    }
    None
}

/// GET jobs/runs/get?run_id=
fn runs_get(st: &Shared, req: &Req) -> R {
    let id = q_id(req, "run_id")?;
    let mut runs = lock(&st.jobs.runs);
    let (i, task_run) = find_run(&runs, id).ok_or_else(|| run_not_found(id))?;
    if let Some(tr) = task_run {
        return ok(tr);
    }
    let current = runs.list[i].clone();
    // Runs created by run-now advance one step per read (unless cancelled meanwhile).
    if let Some(n) = runs.progress.get_mut(&id) {
        *n += 1;
        let step = *n;
        if is_active(&current) {
            let run = &mut runs.list[i];
            match step {
                1 => set_state(run, "RUNNING", None, "In run", false),
                2 => {}
                _ => set_state(run, "TERMINATED", Some("SUCCESS"), "", false),
            }
        }
    }
    ok(current)
}

/// GET jobs/runs/get-output?run_id=
fn runs_get_output(st: &Shared, req: &Req) -> R {
    let id = q_id(req, "run_id")?;
    let runs = lock(&st.jobs.runs);
    let (i, task_run) = find_run(&runs, id).ok_or_else(|| run_not_found(id))?;
    let metadata = match task_run {
        Some(tr) => tr,
        None => {
            let run = &runs.list[i];
            let n_tasks = run
                .get("tasks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if n_tasks > 1 {
                return Err(bad_param(
                    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.",
                ));
            }
            run.clone()
        }
    };
    let fixture_failed = fixture_json("runs_get_output.json");
    if fixture_failed
        .pointer("/metadata/run_id")
        .and_then(Value::as_i64)
        == Some(id)
    {
        return ok(fixture_failed);
    }
    let succeeded = metadata
        .pointer("/state/result_state")
        .and_then(Value::as_str)
        == Some("SUCCESS");
    if succeeded {
        let mut out = fixture_json("runs_get_output_notebook_success.json");
        set(&mut out, "metadata", metadata);
        return ok(out);
    }
    ok(json!({ "metadata": metadata }))
}

/// POST jobs/runs/cancel
fn runs_cancel(st: &Shared, req: &Req) -> R {
    let id = b_id(req, "run_id")?;
    let mut runs = lock(&st.jobs.runs);
    let i = runs
        .list
        .iter()
        .position(|r| run_id_of(r) == id)
        .ok_or_else(|| run_not_found(id))?;
    if is_active(&runs.list[i]) {
        set_state(
            &mut runs.list[i],
            "TERMINATED",
            Some("CANCELED"),
            "Run cancelled.",
            true,
        );
    }
    empty()
}

/// The task runs of a run, as a repair history entry lists them.
fn task_run_ids(run: &Value) -> Vec<i64> {
    run.get("tasks")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().map(run_id_of).collect())
        .unwrap_or_default()
}

/// POST jobs/runs/repair (checks and task choice: `workspace_server::jobs`). The re-run
/// tasks get new task run ids and go through the run-now progression again.
fn runs_repair(st: &Shared, req: &Req) -> R {
    let request = workspace_server::jobs::repair_request(Some(&req.json))
        .map_err(workspace_server::error_response)?;
    let id = request.run_id;
    let mut runs = lock(&st.jobs.runs);
    let i = runs
        .list
        .iter()
        .position(|r| run_id_of(r) == id)
        .ok_or_else(|| run_not_found(id))?;
    let keys = workspace_server::jobs::repair_plan(&runs.list[i], &request)
        .map_err(workspace_server::error_response)?;
    let key_of = |t: &Value| {
        t.get("task_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let repair_id = runs.next_repair_id;
    runs.next_repair_id += 1;
    let now = now_ms();
    let first_task_run = runs.next_task_run_id;
    runs.next_task_run_id += keys.len() as i64;
    let run = &mut runs.list[i];
    let original = json!({
        "type": "ORIGINAL",
        "start_time": run.get("start_time").cloned().unwrap_or(json!(0)),
        "end_time": run.get("end_time").cloned().unwrap_or(json!(0)),
        "state": run.get("state").cloned().unwrap_or(Value::Null),
        "status": run.get("status").cloned().unwrap_or(Value::Null),
        "task_run_ids": task_run_ids(run),
    });
    let mut next = first_task_run;
    let base_url = st.base_url.clone();
    let job_id = job_id_of(run);
    if let Some(ts) = run.get_mut("tasks").and_then(Value::as_array_mut) {
        for t in ts.iter_mut().filter(|t| keys.contains(&key_of(t))) {
            let attempt = t.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
            set(t, "run_id", json!(next));
            set(t, "attempt_number", json!(attempt + 1));
            set(t, "start_time", json!(now));
            set(t, "end_time", json!(0));
            set(
                t,
                "run_page_url",
                json!(format!(
                    "{base_url}/?o=1234567890123456#job/{job_id}/run/{next}"
                )),
            );
            // Not finished any more: the run's progression moves it again.
            set(t, "state", json!({"life_cycle_state": "PENDING"}));
            next += 1;
        }
    }
    workspace_server::jobs::record_repair(
        run,
        original,
        repair_id,
        now,
        (first_task_run..next).collect::<Vec<_>>(),
    );
    set(run, "end_time", json!(0));
    set_state(run, "PENDING", None, "Waiting for cluster", false);
    runs.progress.insert(id, 0);
    ok(json!({ "repair_id": repair_id }))
}
