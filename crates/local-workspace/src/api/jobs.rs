//! Jobs API 2.2 (REFERENCE.md §4). Jobs are JSON files `<dir>/jobs/<job_id>.json` holding
//! the job settings; `run-now` runs their tasks on the local engine — `sql_task.file`
//! (a SQL file of the workspace), `notebook_task` on a SQL notebook, `pipeline_task` — and
//! any other task kind fails its run with a message saying so. Runs and their output are
//! kept in `<dir>/runs/<run_id>.json`, so they survive restarts.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use super::{HandlerResult, Req, Shared, bad_request, error, lock, ok, read_only};
use crate::WAREHOUSE_ID;
use crate::dialect::Param;
use crate::engine::ExecOptions;
use crate::error::LocalError;
use crate::layout::{self, Layout, now_ms};

/// A stored run: the Run object, the output of each task run, and the task runs that
/// repairs replaced (still readable by their ids).
#[derive(Debug, Clone)]
struct RunRecord {
    run: Value,
    outputs: Map<String, Value>,
    earlier_attempts: Vec<Value>,
}

pub(crate) struct Jobs {
    jobs_dir: PathBuf,
    runs_dir: PathBuf,
    runs: Mutex<BTreeMap<i64, RunRecord>>,
    next_id: Mutex<i64>,
    active: Mutex<HashMap<i64, tokio::task::AbortHandle>>,
}

impl Jobs {
    pub fn load(layout: &Layout) -> Result<Jobs, LocalError> {
        let runs_dir = layout.runs();
        std::fs::create_dir_all(&runs_dir).map_err(|e| LocalError::io(&runs_dir, e))?;
        let mut runs = BTreeMap::new();
        let mut max_id = 0;
        for f in layout::files(&runs_dir) {
            let Some(stem) = f.strip_suffix(".json") else {
                continue;
            };
            let Ok(id) = stem.parse::<i64>() else {
                continue;
            };
            let path = runs_dir.join(&f);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                tracing::warn!("ignoring unreadable run file {}", path.display());
                continue;
            };
            let mut rec = RunRecord {
                run: v.get("run").cloned().unwrap_or(Value::Null),
                outputs: v
                    .get("outputs")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
                earlier_attempts: v
                    .get("earlier_attempts")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            };
            max_id = max_id.max(id);
            if let Some(tasks) = rec.run.get("tasks").and_then(Value::as_array) {
                for t in tasks {
                    max_id = max_id.max(t.get("run_id").and_then(Value::as_i64).unwrap_or(0));
                }
            }
            // A run that was in progress when the process stopped did not finish.
            if !is_terminal(&rec.run) {
                finish_run(
                    &mut rec.run,
                    "INTERNAL_ERROR",
                    "The local workspace stopped while this run was in progress.",
                );
                let _ = persist(&runs_dir, id, &rec);
            }
            runs.insert(id, rec);
        }
        Ok(Jobs {
            jobs_dir: layout.jobs(),
            runs_dir,
            runs: Mutex::new(runs),
            next_id: Mutex::new(max_id.max(1000) + 1),
            active: Mutex::new(HashMap::new()),
        })
    }

    fn alloc(&self, n: i64) -> i64 {
        let mut next = lock(&self.next_id);
        let id = *next;
        *next += n;
        id
    }

    /// Job definitions, by id.
    fn jobs(&self) -> BTreeMap<i64, Value> {
        let mut out = BTreeMap::new();
        for f in layout::files(&self.jobs_dir) {
            let Some(stem) = f.strip_suffix(".json") else {
                continue;
            };
            let Ok(id) = stem.parse::<i64>() else {
                continue;
            };
            let path = self.jobs_dir.join(&f);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let v: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => json!({"name": format!("{f} (invalid JSON: {e})"), "tasks": []}),
            };
            let settings = v.get("settings").cloned().unwrap_or(v);
            out.insert(
                id,
                json!({
                    "job_id": id,
                    "creator_user_name": layout::user_name(),
                    "run_as_user_name": layout::user_name(),
                    "created_time": layout::mtime_ms(&path),
                    "settings": settings,
                }),
            );
        }
        out
    }
}

fn persist(dir: &std::path::Path, id: i64, rec: &RunRecord) -> std::io::Result<()> {
    let mut v = json!({"run": rec.run, "outputs": rec.outputs});
    if !rec.earlier_attempts.is_empty() {
        v["earlier_attempts"] = json!(rec.earlier_attempts);
    }
    layout::write_atomic(
        &dir.join(format!("{id}.json")),
        serde_json::to_string_pretty(&v)
            .unwrap_or_default()
            .as_bytes(),
    )
}

fn is_terminal(run: &Value) -> bool {
    matches!(
        run.pointer("/state/life_cycle_state")
            .and_then(Value::as_str),
        Some("TERMINATED" | "SKIPPED" | "INTERNAL_ERROR")
    )
}

fn state_json(life: &str, result: Option<&str>, message: &str) -> (Value, Value) {
    let mut state = json!({
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": result == Some("CANCELED"),
    });
    if let Some(r) = result {
        state["result_state"] = json!(r);
    }
    let status = match (life, result) {
        ("PENDING", _) => json!({"state": "PENDING"}),
        ("RUNNING", _) => json!({"state": "RUNNING"}),
        (_, Some("SUCCESS")) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": message}})
        }
        (_, Some("CANCELED")) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "CANCELED", "type": "SUCCESS", "message": message}})
        }
        ("SKIPPED", _) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "SKIPPED", "type": "SUCCESS", "message": message}})
        }
        ("INTERNAL_ERROR", _) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "INTERNAL_ERROR", "type": "INTERNAL_ERROR", "message": message}})
        }
        _ => {
            json!({"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR", "type": "CLIENT_ERROR", "message": message}})
        }
    };
    (state, status)
}

fn set_state(v: &mut Value, life: &str, result: Option<&str>, message: &str) {
    let (state, status) = state_json(life, result, message);
    v["state"] = state;
    v["status"] = status;
}

fn finish_run(run: &mut Value, result: &str, message: &str) {
    let end = now_ms();
    let life = if result == "INTERNAL_ERROR" {
        "INTERNAL_ERROR"
    } else {
        "TERMINATED"
    };
    let res = if result == "INTERNAL_ERROR" {
        "FAILED"
    } else {
        result
    };
    set_state(run, life, Some(res), message);
    run["end_time"] = json!(end);
    let start = run.get("start_time").and_then(Value::as_i64).unwrap_or(end);
    run["run_duration"] = json!(end - start);
    if let Some(tasks) = run.get_mut("tasks").and_then(Value::as_array_mut) {
        for t in tasks {
            if !is_terminal(t) {
                set_state(t, life, Some(res), message);
                t["end_time"] = json!(end);
            }
        }
    }
    // The repair in progress, if any, ends with the run.
    let (state, status) = (run["state"].clone(), run["status"].clone());
    if let Some(repair) = run
        .get_mut("repair_history")
        .and_then(Value::as_array_mut)
        .and_then(|h| h.last_mut())
        .filter(|r| r["type"] == "REPAIR" && r["end_time"] == 0)
    {
        repair["end_time"] = json!(end);
        repair["state"] = state;
        repair["status"] = status;
    }
}

pub(crate) async fn route(
    sh: &Arc<Shared>,
    req: &Req,
    method: &str,
    rest: &[&str],
) -> HandlerResult {
    match (method, rest) {
        ("GET", ["list"]) => list_jobs(sh, req),
        ("GET", ["get"]) => get_job(sh, req),
        ("POST", ["run-now"]) => run_now(sh, req),
        ("POST", ["create"]) => create_job(sh, req),
        ("POST", ["delete"]) => delete_job(sh, req),
        ("GET", ["runs", "list"]) => list_runs(sh, req),
        ("GET", ["runs", "get"]) => get_run(sh, req),
        ("GET", ["runs", "get-output"]) => get_output(sh, req),
        ("POST", ["runs", "cancel"]) => cancel_run(sh, req),
        ("POST", ["runs", "cancel-all"]) => cancel_all(sh, req),
        ("POST", ["runs", "repair"]) => repair_run(sh, req),
        _ => Err(error(
            404,
            "ENDPOINT_NOT_FOUND",
            format!("No jobs API '{method} {}'.", rest.join("/")),
        )),
    }
}

fn job_id_param(req: &Req, from_body: bool) -> Result<i64, axum::response::Response> {
    let v = if from_body {
        req.json.get("job_id").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    } else {
        req.q_i64("job_id")?
    };
    v.ok_or_else(|| bad_request("Missing required parameter: job_id."))
}

fn no_job(id: i64) -> axum::response::Response {
    error(
        400,
        "INVALID_PARAMETER_VALUE",
        format!("Job {id} does not exist."),
    )
}

fn strip_tasks(mut job: Value) -> Value {
    if let Some(s) = job.get_mut("settings").and_then(Value::as_object_mut) {
        s.remove("tasks");
        s.remove("job_clusters");
    }
    job
}

fn list_jobs(sh: &Shared, req: &Req) -> HandlerResult {
    let limit = req.q_i64("limit")?.unwrap_or(20);
    if !(0..=100).contains(&limit) {
        return Err(bad_request(format!(
            "limit must be between 1 and 100, got {limit}."
        )));
    }
    let limit = if limit == 0 { 20 } else { limit };
    let expand = req.q_bool("expand_tasks").unwrap_or(false);
    let name = req.q("name");
    let jobs: Vec<Value> = sh
        .jobs
        .jobs()
        .into_values()
        .filter(|j| {
            name.is_none_or(|n| {
                j.pointer("/settings/name")
                    .and_then(Value::as_str)
                    .is_some_and(|jn| jn.eq_ignore_ascii_case(n))
            })
        })
        .map(|j| if expand { j } else { strip_tasks(j) })
        .collect();
    let offset = match req.q_i64("offset")? {
        Some(o) if req.q("page_token").is_none() => usize::try_from(o).unwrap_or(0),
        _ => 0,
    };
    let jobs = if offset > 0 {
        jobs.into_iter().skip(offset).collect()
    } else {
        jobs
    };
    let (items, next) = super::page(&jobs, Some(limit), req.q("page_token"), 100)?;
    let mut v = json!({"has_more": next.is_some()});
    if !items.is_empty() {
        v["jobs"] = json!(items);
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn get_job(sh: &Shared, req: &Req) -> HandlerResult {
    let id = job_id_param(req, false)?;
    sh.jobs
        .jobs()
        .remove(&id)
        .map(json_ok)
        .unwrap_or_else(|| Err(no_job(id)))
}

fn json_ok(v: Value) -> HandlerResult {
    ok(v)
}

fn create_job(sh: &Shared, req: &Req) -> HandlerResult {
    if !sh.allow_writes() {
        return Err(read_only("Creating a job"));
    }
    if !req.json.is_object() {
        return Err(bad_request(
            "The request body must be the job settings (a JSON object).",
        ));
    }
    let id = sh.jobs.jobs().keys().max().copied().unwrap_or(0) + 1;
    let path = sh.jobs.jobs_dir.join(format!("{id}.json"));
    layout::write_atomic(
        &path,
        serde_json::to_string_pretty(&req.json)
            .unwrap_or_default()
            .as_bytes(),
    )
    .map_err(|e| error(500, "INTERNAL_ERROR", format!("create job: {e}")))?;
    ok(json!({"job_id": id}))
}

fn delete_job(sh: &Shared, req: &Req) -> HandlerResult {
    if !sh.allow_writes() {
        return Err(read_only("Deleting a job"));
    }
    let id = job_id_param(req, true)?;
    let path = sh.jobs.jobs_dir.join(format!("{id}.json"));
    if !path.is_file() {
        return Err(no_job(id));
    }
    std::fs::remove_file(&path)
        .map_err(|e| error(500, "INTERNAL_ERROR", format!("delete job: {e}")))?;
    ok(json!({}))
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn run_now(sh: &Arc<Shared>, req: &Req) -> HandlerResult {
    let job_id = job_id_param(req, true)?;
    let job = sh
        .jobs
        .jobs()
        .remove(&job_id)
        .ok_or_else(|| no_job(job_id))?;
    if let Some(token) = req.body_str("idempotency_token") {
        let runs = lock(&sh.jobs.runs);
        if let Some((id, _)) = runs
            .iter()
            .find(|(_, r)| r.run.get("idempotency_token").and_then(Value::as_str) == Some(token))
        {
            return ok(json!({"run_id": id, "number_in_job": id}));
        }
    }
    let settings = job.get("settings").cloned().unwrap_or(json!({}));
    let tasks: Vec<Value> = settings
        .get("tasks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Parameters: job defaults, overridden by job_parameters, plus legacy per-kind maps.
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    let defaults: Vec<(String, String)> = settings
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get("name")?.as_str()?.to_string(),
                        p.get("default")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in &defaults {
        params.insert(k.clone(), v.clone());
    }
    for key in ["job_parameters", "notebook_params", "sql_params"] {
        params.extend(string_map(req.json.get(key)));
    }
    let run_id = sh.jobs.alloc(tasks.len() as i64 + 1);
    let start = now_ms();
    let name = settings
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Untitled")
        .to_string();
    let mut run_tasks = Vec::new();
    for (i, t) in tasks.iter().enumerate() {
        let mut rt = t.clone();
        rt["run_id"] = json!(run_id + 1 + i as i64);
        rt["attempt_number"] = json!(0);
        rt["start_time"] = json!(0);
        rt["setup_duration"] = json!(0);
        rt["execution_duration"] = json!(0);
        rt["cleanup_duration"] = json!(0);
        rt["cluster_instance"] = json!({"cluster_id": crate::CLUSTER_ID, "spark_context_id": "1"});
        set_state(&mut rt, "PENDING", None, "");
        run_tasks.push(rt);
    }
    let mut run = json!({
        "job_id": job_id,
        "run_id": run_id,
        "number_in_job": run_id,
        "original_attempt_run_id": run_id,
        "creator_user_name": layout::user_name(),
        "run_name": name,
        "run_type": "JOB_RUN",
        "trigger": "ONE_TIME",
        "attempt_number": 0,
        "start_time": start,
        "end_time": 0,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_duration": 0,
        "queue_duration": 0,
        "format": "MULTI_TASK",
        "run_page_url": format!("local://jobs/{job_id}/runs/{run_id}"),
        "tasks": run_tasks,
        "job_parameters": params.iter().map(|(k, v)| {
            let default = defaults.iter().find(|(n, _)| n == k).map(|(_, d)| d.clone()).unwrap_or_default();
            json!({"name": k, "default": default, "value": v})
        }).collect::<Vec<_>>(),
        "cluster_instance": {"cluster_id": crate::CLUSTER_ID, "spark_context_id": "1"},
    });
    if let Some(token) = req.body_str("idempotency_token") {
        run["idempotency_token"] = json!(token);
    }
    set_state(&mut run, "RUNNING", None, "");
    let rec = RunRecord {
        run,
        outputs: Map::new(),
        earlier_attempts: Vec::new(),
    };
    let _ = persist(&sh.jobs.runs_dir, run_id, &rec);
    lock(&sh.jobs.runs).insert(run_id, rec);
    let shared = sh.clone();
    let handle = tokio::spawn(async move {
        execute_run(&shared, run_id, params, None).await;
        no_longer_active(&shared, run_id);
    });
    lock(&sh.jobs.active).insert(run_id, handle.abort_handle());
    ok(json!({"run_id": run_id, "number_in_job": run_id}))
}

/// Forgets the task of a run that ended, unless a repair has already started another.
fn no_longer_active(sh: &Shared, run_id: i64) {
    let me = tokio::task::id();
    let mut active = lock(&sh.jobs.active);
    if active.get(&run_id).is_some_and(|h| h.id() == me) {
        active.remove(&run_id);
    }
}

/// Updates a run record under the lock and persists it.
fn update(sh: &Shared, run_id: i64, f: impl FnOnce(&mut RunRecord)) {
    let mut runs = lock(&sh.jobs.runs);
    if let Some(rec) = runs.get_mut(&run_id) {
        f(rec);
        let _ = persist(&sh.jobs.runs_dir, run_id, rec);
    }
}

/// Runs the tasks of a run in dependency order; `rerun` (a repair) runs only the tasks
/// with those indices, the others keeping the outcome of their earlier attempt.
async fn execute_run(
    sh: &Arc<Shared>,
    run_id: i64,
    params: BTreeMap<String, String>,
    rerun: Option<Vec<usize>>,
) {
    let (job_id, tasks): (i64, Vec<Value>) = lock(&sh.jobs.runs)
        .get(&run_id)
        .map(|r| {
            (
                r.run.get("job_id").and_then(Value::as_i64).unwrap_or(0),
                r.run
                    .get("tasks")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let mut outcome: HashMap<String, bool> = HashMap::new();
    let mut remaining: Vec<usize> = match &rerun {
        Some(indices) => {
            for (i, t) in tasks.iter().enumerate() {
                if !indices.contains(&i) {
                    let success =
                        t.pointer("/state/result_state").and_then(Value::as_str) == Some("SUCCESS");
                    outcome.insert(task_key(t), success);
                }
            }
            indices.clone()
        }
        None => (0..tasks.len()).collect(),
    };
    let mut failures: Vec<String> = tasks
        .iter()
        .enumerate()
        .filter(|(i, _)| !remaining.contains(i))
        .filter(|(_, t)| outcome.get(&task_key(t)) == Some(&false))
        .map(|(_, t)| format!("{}: did not succeed in an earlier attempt", task_key(t)))
        .collect();
    while !remaining.is_empty() {
        // The next task whose dependencies have all finished (declaration order otherwise).
        let Some(pos) = remaining
            .iter()
            .position(|&i| deps(&tasks[i]).iter().all(|d| outcome.contains_key(d)))
        else {
            for &i in &remaining {
                let key = task_key(&tasks[i]);
                update(sh, run_id, |rec| {
                    if let Some(t) = task_mut(&mut rec.run, i) {
                        set_state(
                            t,
                            "SKIPPED",
                            Some("UPSTREAM_FAILED"),
                            "A dependency of this task does not exist or is part of a cycle.",
                        );
                    }
                });
                failures.push(key);
            }
            break;
        };
        let i = remaining.remove(pos);
        let task = &tasks[i];
        let key = task_key(task);
        let task_run_id = task.get("run_id").and_then(Value::as_i64).unwrap_or(0);
        if deps(task).iter().any(|d| outcome.get(d) == Some(&false)) {
            update(sh, run_id, |rec| {
                if let Some(t) = task_mut(&mut rec.run, i) {
                    set_state(
                        t,
                        "SKIPPED",
                        Some("UPSTREAM_FAILED"),
                        "An upstream task failed.",
                    );
                    t["end_time"] = json!(now_ms());
                }
            });
            outcome.insert(key, false);
            continue;
        }
        let started = now_ms();
        update(sh, run_id, |rec| {
            if let Some(t) = task_mut(&mut rec.run, i) {
                set_state(t, "RUNNING", None, "");
                t["start_time"] = json!(started);
            }
        });
        let context = TaskContext {
            job_id,
            run_id,
            task_run_id,
        };
        let result = run_task(sh, task, &params, &context).await;
        let end = now_ms();
        let success = result.is_ok();
        let output = match result {
            Ok(o) => o,
            Err(e) => json!({"error": e, "error_trace": e}),
        };
        let message = output
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default();
        update(sh, run_id, |rec| {
            if let Some(t) = task_mut(&mut rec.run, i) {
                set_state(
                    t,
                    "TERMINATED",
                    Some(if success { "SUCCESS" } else { "FAILED" }),
                    &message,
                );
                t["end_time"] = json!(end);
                t["execution_duration"] = json!(end - started);
                t["run_duration"] = json!(end - started);
            }
            rec.outputs.insert(task_run_id.to_string(), output);
        });
        if !success {
            failures.push(format!("{key}: {message}"));
        }
        outcome.insert(key, success);
    }
    update(sh, run_id, |rec| {
        if failures.is_empty() {
            finish_run(&mut rec.run, "SUCCESS", "");
        } else {
            finish_run(
                &mut rec.run,
                "FAILED",
                &format!("Task {} failed.", failures.join("; ")),
            );
        }
        let start = rec
            .run
            .get("start_time")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let end = rec.run.get("end_time").and_then(Value::as_i64).unwrap_or(0);
        rec.run["execution_duration"] = json!(end - start);
    });
}

/// The job run a task runs in: for query history and lineage.
struct TaskContext {
    job_id: i64,
    run_id: i64,
    task_run_id: i64,
}

fn task_key(t: &Value) -> String {
    t.get("task_key")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn deps(t: &Value) -> Vec<String> {
    t.get("depends_on")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    d.get("task_key")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn task_mut(run: &mut Value, i: usize) -> Option<&mut Value> {
    run.get_mut("tasks")?.as_array_mut()?.get_mut(i)
}

const TASK_KINDS: [&str; 12] = [
    "notebook_task",
    "sql_task",
    "pipeline_task",
    "spark_python_task",
    "python_wheel_task",
    "spark_jar_task",
    "spark_submit_task",
    "dbt_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
    "clean_rooms_notebook_task",
];

/// Runs one task; `Ok(output)` or `Err(message)`.
async fn run_task(
    sh: &Arc<Shared>,
    task: &Value,
    job_params: &BTreeMap<String, String>,
    context: &TaskContext,
) -> Result<Value, String> {
    if task.get("disabled").and_then(Value::as_bool) == Some(true) {
        return Ok(json!({}));
    }
    let root = sh.layout.workspace();
    if let Some(sql) = task.get("sql_task") {
        let mut params = job_params.clone();
        params.extend(string_map(sql.get("parameters")));
        let path = sql
            .pointer("/file/path")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                "sql_task: the local workspace runs SQL files (sql_task.file.path); saved queries, dashboards and alerts are not available locally".to_string()
            })?;
        let (source, _) = super::workspace::read_source(&root, path)?;
        let statements = crate::script::split_statements(&source);
        let (text, last) = run_statements(sh, &statements, &params, context, None).await?;
        let warehouse = sql
            .get("warehouse_id")
            .and_then(Value::as_str)
            .unwrap_or(WAREHOUSE_ID);
        return Ok(json!({
            "sql_output": {"query_output": {
                "query_text": last,
                "warehouse_id": warehouse,
                "endpoint_id": warehouse,
                "output_link": format!("local://workspace{path}"),
            }},
            "logs": text,
            "logs_truncated": false,
        }));
    }
    if let Some(nb) = task.get("notebook_task") {
        let mut params = job_params.clone();
        params.extend(string_map(nb.get("base_parameters")));
        let path = nb
            .get("notebook_path")
            .and_then(Value::as_str)
            .ok_or("notebook_task has no notebook_path")?;
        let (source, lang) = super::workspace::read_source(&root, path)?;
        match lang {
            Some(super::workspace::Language::Sql) => {}
            Some(other) => {
                return Err(format!(
                    "Notebook {path} is a {} notebook: the local workspace runs SQL notebooks only.",
                    other.as_str()
                ));
            }
            None => return Err(format!("{path} is a file, not a notebook.")),
        }
        let mut statements = Vec::new();
        for cell in crate::script::sql_notebook_cells(&source) {
            statements.extend(crate::script::split_statements(&cell));
        }
        let notebook_id = super::workspace::segments(path)
            .ok()
            .map(|segs| crate::layout::stable_id(&super::workspace::display_path(&segs)));
        let (text, _) = run_statements(sh, &statements, &params, context, notebook_id).await?;
        let truncated = text.len() > 5 * 1024 * 1024;
        let result: String = if truncated {
            text.chars().take(5 * 1024 * 1024).collect()
        } else {
            text
        };
        return Ok(json!({"notebook_output": {"result": result, "truncated": truncated}}));
    }
    if let Some(p) = task.get("pipeline_task") {
        let id = p
            .get("pipeline_id")
            .and_then(Value::as_str)
            .ok_or("pipeline_task has no pipeline_id")?;
        let full = p
            .get("full_refresh")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let update = super::pipelines::run_update_now(sh, id, full, "JOB_TASK").await?;
        return Ok(
            json!({"logs": format!("Pipeline {id} update {update} completed."), "logs_truncated": false}),
        );
    }
    let kind = TASK_KINDS
        .iter()
        .find(|k| task.get(**k).is_some())
        .copied()
        .unwrap_or("(unknown)");
    Err(format!(
        "Task type {kind} is not supported by the local workspace: only sql_task (SQL files), notebook_task (SQL notebooks) and pipeline_task run locally."
    ))
}

/// Runs statements in order on the warehouse, each recorded in the query history and, when
/// it writes a table from others, in the lineage; returns the text of every result and the
/// last statement.
async fn run_statements(
    sh: &Shared,
    statements: &[String],
    params: &BTreeMap<String, String>,
    context: &TaskContext,
    notebook_id: Option<i64>,
) -> Result<(String, String), String> {
    let opts = ExecOptions {
        params: params
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Param {
                        value: Some(v.clone()),
                        type_: None,
                    },
                )
            })
            .collect(),
        ..Default::default()
    };
    let mut text = String::new();
    let mut last = String::new();
    let origin = super::history::Origin {
        client: Some("Databricks Jobs".to_string()),
        job: Some((context.job_id, context.run_id, context.task_run_id)),
    };
    let entity = super::lineage::Entity {
        job_id: Some(context.job_id),
        job_run_id: Some(context.run_id),
        notebook_id,
        ..super::lineage::Entity::default()
    };
    for s in statements {
        // Dropped unfinished if the run is cancelled: the history then says CANCELED.
        let recording = sh
            .history
            .start(&uuid::Uuid::new_v4().to_string(), s, &origin);
        sh.compute.statement_starts();
        let result = sh.engine.execute(s, &opts).await;
        recording.finished(result.as_ref().map(|r| r.batch.num_rows()));
        if result.is_ok() {
            sh.record_lineage(sh.engine.lineage_of(s, &opts), &entity);
        }
        let r = result
            .map_err(|e| format!("{} (statement: {})", e.databricks_message(), abbreviate(s)))?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&crate::script::text_table(&r, 100));
        last = s.clone();
    }
    Ok((text, last))
}

fn abbreviate(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        format!("{}...", one.chars().take(120).collect::<String>())
    } else {
        one
    }
}

fn run_id_param(req: &Req, from_body: bool) -> Result<i64, axum::response::Response> {
    let v = if from_body {
        req.json.get("run_id").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    } else {
        req.q_i64("run_id")?
    };
    v.ok_or_else(|| bad_request("Missing required parameter: run_id."))
}

fn no_run(id: i64) -> axum::response::Response {
    error(
        400,
        "INVALID_PARAMETER_VALUE",
        format!("Run {id} does not exist."),
    )
}

/// The parent run id and the task run (current, or an attempt a repair replaced) of a
/// task run id.
fn find_task(runs: &BTreeMap<i64, RunRecord>, task_run: i64) -> Option<(i64, Value)> {
    let is_it = |t: &&Value| t.get("run_id").and_then(Value::as_i64) == Some(task_run);
    runs.iter().find_map(|(id, r)| {
        r.run
            .get("tasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(&r.earlier_attempts)
            .find(is_it)
            .map(|t| (*id, t.clone()))
    })
}

/// A task run presented as a run (for runs/get of a task run id and get-output metadata).
fn task_as_run(parent: &Value, task: &Value) -> Value {
    let mut run = parent.clone();
    for k in [
        "run_id",
        "state",
        "status",
        "start_time",
        "end_time",
        "setup_duration",
        "execution_duration",
        "cleanup_duration",
        "run_duration",
        "attempt_number",
    ] {
        if let Some(v) = task.get(k) {
            run[k] = v.clone();
        }
    }
    run["job_run_id"] = parent.get("run_id").cloned().unwrap_or(Value::Null);
    run["number_in_job"] = task.get("run_id").cloned().unwrap_or(Value::Null);
    run["original_attempt_run_id"] = task.get("run_id").cloned().unwrap_or(Value::Null);
    run["run_name"] = task.get("task_key").cloned().unwrap_or(Value::Null);
    run["tasks"] = json!([task]);
    if let Some(o) = run.as_object_mut() {
        o.remove("idempotency_token");
        o.remove("repair_history");
    }
    run
}

fn public(run: &Value) -> Value {
    let mut r = run.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("idempotency_token");
    }
    r
}

fn list_runs(sh: &Shared, req: &Req) -> HandlerResult {
    let job_id = req.q_i64("job_id")?;
    let active_only = req.q_bool("active_only").unwrap_or(false);
    let completed_only = req.q_bool("completed_only").unwrap_or(false);
    if active_only && completed_only {
        return Err(bad_request(
            "active_only and completed_only cannot both be true.",
        ));
    }
    let limit = req.q_i64("limit")?.unwrap_or(20);
    if !(0..=25).contains(&limit) {
        return Err(bad_request(format!(
            "limit must be between 1 and 25, got {limit}."
        )));
    }
    let limit = if limit == 0 { 25 } else { limit };
    let expand = req.q_bool("expand_tasks").unwrap_or(false);
    let from = req.q_i64("start_time_from")?;
    let to = req.q_i64("start_time_to")?;
    let runs: Vec<Value> = lock(&sh.jobs.runs)
        .values()
        .rev()
        .map(|r| public(&r.run))
        .filter(|r| job_id.is_none_or(|j| r.get("job_id").and_then(Value::as_i64) == Some(j)))
        .filter(|r| !active_only || !is_terminal(r))
        .filter(|r| !completed_only || is_terminal(r))
        .filter(|r| {
            let s = r.get("start_time").and_then(Value::as_i64).unwrap_or(0);
            from.is_none_or(|f| s >= f) && to.is_none_or(|t| s <= t)
        })
        .map(|mut r| {
            if !expand && let Some(o) = r.as_object_mut() {
                o.remove("tasks");
            }
            r
        })
        .collect();
    let offset = match req.q_i64("offset")? {
        Some(o) if req.q("page_token").is_none() => usize::try_from(o).unwrap_or(0),
        _ => 0,
    };
    let runs = if offset > 0 {
        runs.into_iter().skip(offset).collect()
    } else {
        runs
    };
    let (items, next) = super::page(&runs, Some(limit), req.q("page_token"), 25)?;
    let mut v = json!({"has_more": next.is_some()});
    if !items.is_empty() {
        v["runs"] = json!(items);
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn get_run(sh: &Shared, req: &Req) -> HandlerResult {
    let id = run_id_param(req, false)?;
    let runs = lock(&sh.jobs.runs);
    if let Some(r) = runs.get(&id) {
        return ok(public(&r.run));
    }
    if let Some((parent, task)) = find_task(&runs, id)
        && let Some(r) = runs.get(&parent)
    {
        return ok(task_as_run(&r.run, &task));
    }
    Err(no_run(id))
}

fn get_output(sh: &Shared, req: &Req) -> HandlerResult {
    let id = run_id_param(req, false)?;
    let runs = lock(&sh.jobs.runs);
    let (parent, task) = match runs.get(&id) {
        Some(r) => {
            let n = r
                .run
                .get("tasks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if n != 1 {
                return Err(bad_request(
                    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.",
                ));
            }
            let first = r.run.pointer("/tasks/0").cloned().unwrap_or(json!({}));
            (id, first)
        }
        None => find_task(&runs, id).ok_or_else(|| no_run(id))?,
    };
    let rec = runs.get(&parent).ok_or_else(|| no_run(id))?;
    let meta = task_as_run(&rec.run, &task);
    let task_run = meta.get("run_id").and_then(Value::as_i64).unwrap_or(id);
    let mut out = json!({"metadata": meta});
    if let Some(Value::Object(o)) = rec.outputs.get(&task_run.to_string()) {
        for (k, v) in o {
            out[k] = v.clone();
        }
    }
    ok(out)
}

fn cancel(sh: &Shared, run_id: i64) {
    if let Some(h) = lock(&sh.jobs.active).remove(&run_id) {
        h.abort();
    }
    update(sh, run_id, |rec| {
        if !is_terminal(&rec.run) {
            finish_run(&mut rec.run, "CANCELED", "Run cancelled by the user.");
        }
    });
}

fn cancel_run(sh: &Shared, req: &Req) -> HandlerResult {
    let id = run_id_param(req, true)?;
    if !lock(&sh.jobs.runs).contains_key(&id) {
        return Err(no_run(id));
    }
    cancel(sh, id);
    ok(json!({}))
}

fn cancel_all(sh: &Shared, req: &Req) -> HandlerResult {
    let job_id = req.json.get("job_id").and_then(Value::as_i64);
    let ids: Vec<i64> = lock(&sh.jobs.runs)
        .iter()
        .filter(|(_, r)| !is_terminal(&r.run))
        .filter(|(_, r)| {
            job_id.is_none_or(|j| r.run.get("job_id").and_then(Value::as_i64) == Some(j))
        })
        .map(|(id, _)| *id)
        .collect();
    for id in ids {
        cancel(sh, id);
    }
    ok(json!({}))
}

/// `POST jobs/runs/repair`: re-runs, for real, the tasks `workspace_server::jobs` chooses
/// (failed ones, or the listed ones, and what depends on them when asked) of a finished
/// run. They get new task run ids and attempt numbers; the earlier attempts' output stays
/// readable under their own ids. The run goes back to RUNNING and ends as its tasks do.
fn repair_run(sh: &Arc<Shared>, req: &Req) -> HandlerResult {
    let request = workspace_server::jobs::repair_request(Some(&req.json))
        .map_err(workspace_server::error_response)?;
    let run_id = request.run_id;
    let mut runs = lock(&sh.jobs.runs);
    let rec = runs.get(&run_id).ok_or_else(|| no_run(run_id))?;
    let keys = workspace_server::jobs::repair_plan(&rec.run, &request)
        .map_err(workspace_server::error_response)?;
    let tasks: Vec<Value> = rec
        .run
        .get("tasks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let indices: Vec<usize> = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| keys.contains(&task_key(t)))
        .map(|(i, _)| i)
        .collect();
    // Parameters as the run had them, overridden by the repair's.
    let mut params: BTreeMap<String, String> = rec
        .run
        .get("job_parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_string();
                    let value = p.get("value").or_else(|| p.get("default"))?;
                    Some((
                        name,
                        value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string()),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(overrides) = &request.job_parameters {
        params.extend(string_map(Some(&Value::Object(overrides.clone()))));
    }
    let first = sh.jobs.alloc(indices.len() as i64 + 1);
    let repair_id = first;
    let now = now_ms();
    let Some(rec) = runs.get_mut(&run_id) else {
        return Err(no_run(run_id));
    };
    let run = &rec.run;
    let original = json!({
        "type": "ORIGINAL",
        "start_time": run.get("start_time").cloned().unwrap_or(json!(0)),
        "end_time": run.get("end_time").cloned().unwrap_or(json!(0)),
        "state": run.get("state").cloned().unwrap_or(Value::Null),
        "status": run.get("status").cloned().unwrap_or(Value::Null),
        "task_run_ids": tasks.iter().filter_map(|t| t.get("run_id").and_then(Value::as_i64)).collect::<Vec<_>>(),
    });
    let mut new_ids = Vec::new();
    rec.earlier_attempts
        .extend(indices.iter().filter_map(|&i| tasks.get(i).cloned()));
    let run = &mut rec.run;
    for (n, &i) in indices.iter().enumerate() {
        if let Some(t) = task_mut(run, i) {
            let attempt = t.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
            let id = first + 1 + n as i64;
            t["run_id"] = json!(id);
            t["attempt_number"] = json!(attempt + 1);
            t["start_time"] = json!(0);
            t["end_time"] = json!(0);
            t["execution_duration"] = json!(0);
            t["run_duration"] = json!(0);
            set_state(t, "PENDING", None, "");
            new_ids.push(id);
        }
    }
    workspace_server::jobs::record_repair(run, original, repair_id, now, new_ids);
    run["end_time"] = json!(0);
    run["run_duration"] = json!(0);
    set_state(run, "RUNNING", None, "");
    let _ = persist(&sh.jobs.runs_dir, run_id, rec);
    drop(runs);
    let shared = sh.clone();
    let handle = tokio::spawn(async move {
        execute_run(&shared, run_id, params, Some(indices)).await;
        no_longer_active(&shared, run_id);
    });
    lock(&sh.jobs.active).insert(run_id, handle.abort_handle());
    ok(json!({"repair_id": repair_id}))
}
