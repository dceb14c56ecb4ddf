//! Jobs API 2.2 (REFERENCE.md §4). Jobs are JSON files `<dir>/jobs/<job_id>.json` holding
//! the job settings; `run-now` runs their tasks on the local engine — `sql_task.file`
//! (a SQL file of the workspace), `notebook_task` on a SQL notebook, `pipeline_task` — and
//! any other task kind fails its run with a message saying so. Runs and their output are
//! kept in `<dir>/runs/<run_id>.json`, so they survive restarts.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, FoundRun, Jobs as JobsBackend, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::jobs::{
    Job, JobSettings, RepairRunRequest, RepairRunResponse, Run, RunNowRequest, RunNowResponse,
    RunOutput, record_repair, run_not_found,
};
use serde_json::{Map, Value, json};

use super::{Shared, lock};
use crate::WAREHOUSE_ID;
use crate::dialect::Param;
use crate::engine::ExecOptions;
use crate::error::LocalError;
use crate::json;
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
    fn jobs(&self) -> BTreeMap<i64, Job> {
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
                Job {
                    job_id: id,
                    creator_user_name: Some(layout::user_name()),
                    run_as_user_name: Some(layout::user_name()),
                    created_time: Some(layout::mtime_ms(&path)),
                    settings: Some(JobSettings::from_stored(settings)),
                    ..Job::default()
                },
            );
        }
        out
    }
}

fn persist(dir: &std::path::Path, id: i64, rec: &RunRecord) -> std::io::Result<()> {
    let mut v = json!({"run": rec.run, "outputs": rec.outputs});
    if !rec.earlier_attempts.is_empty() {
        json::set(&mut v, "earlier_attempts", json!(rec.earlier_attempts));
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
        json::set(&mut state, "result_state", json!(r));
    }
    let status = match (life, result) {
        ("PENDING", _) => json!({"state": "PENDING"}),
        ("RUNNING", _) => json!({"state": "RUNNING"}),
        (_, Some("SUCCESS")) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": message}})
        }
        (_, Some("CANCELED")) => {
            json!({"state": "TERMINATED", "termination_details": {"code": "USER_CANCELED", "type": "SUCCESS", "message": message}})
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
    json::set(v, "state", state);
    json::set(v, "status", status);
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
    json::set(run, "end_time", json!(end));
    let start = run.get("start_time").and_then(Value::as_i64).unwrap_or(end);
    // A run file edited by hand may hold any start time: no overflow.
    json::set(run, "run_duration", json!(end.saturating_sub(start)));
    if let Some(tasks) = run.get_mut("tasks").and_then(Value::as_array_mut) {
        for t in tasks {
            if !is_terminal(t) {
                set_state(t, life, Some(res), message);
                json::set(t, "end_time", json!(end));
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
        json::set(repair, "end_time", json!(end));
        json::set(repair, "state", state);
        json::set(repair, "status", status);
    }
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
    // The tasks to run, with their indices in the run.
    let mut remaining: Vec<(usize, &Value)> = match &rerun {
        Some(indices) => {
            for (i, t) in tasks.iter().enumerate() {
                if !indices.contains(&i) {
                    let success =
                        t.pointer("/state/result_state").and_then(Value::as_str) == Some("SUCCESS");
                    outcome.insert(task_key(t), success);
                }
            }
            indices
                .iter()
                .filter_map(|&i| tasks.get(i).map(|t| (i, t)))
                .collect()
        }
        None => tasks.iter().enumerate().collect(),
    };
    let mut failures: Vec<String> = tasks
        .iter()
        .enumerate()
        .filter(|(i, _)| !remaining.iter().any(|(r, _)| r == i))
        .filter(|(_, t)| outcome.get(&task_key(t)) == Some(&false))
        .map(|(_, t)| format!("{}: did not succeed in an earlier attempt", task_key(t)))
        .collect();
    while !remaining.is_empty() {
        // The next task whose dependencies have all finished (declaration order otherwise).
        let Some(pos) = remaining
            .iter()
            .position(|(_, t)| deps(t).iter().all(|d| outcome.contains_key(d)))
        else {
            for &(i, t) in &remaining {
                let key = task_key(t);
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
        let (i, task) = remaining.remove(pos);
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
                    json::set(t, "end_time", json!(now_ms()));
                }
            });
            outcome.insert(key, false);
            continue;
        }
        let context = TaskContext {
            job_id,
            run_id,
            task_run_id,
        };
        let result = run_and_record(sh, i, task, &params, &context).await;
        if let Err(message) = &result {
            failures.push(format!("{key}: {message}"));
        }
        outcome.insert(key, result.is_ok());
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
        json::set(
            &mut rec.run,
            "execution_duration",
            json!(end.saturating_sub(start)),
        );
    });
}

/// Runs task `i` of a run and records its state, times and output: `Err(message)` when
/// it failed.
async fn run_and_record(
    sh: &Arc<Shared>,
    i: usize,
    task: &Value,
    params: &BTreeMap<String, String>,
    context: &TaskContext,
) -> Result<(), String> {
    let (run_id, task_run_id) = (context.run_id, context.task_run_id);
    let started = now_ms();
    update(sh, run_id, |rec| {
        if let Some(t) = task_mut(&mut rec.run, i) {
            set_state(t, "RUNNING", None, "");
            json::set(t, "start_time", json!(started));
        }
    });
    let result = run_task(sh, task, params, context).await;
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
            json::set(t, "end_time", json!(end));
            json::set(t, "execution_duration", json!(end - started));
            json::set(t, "run_duration", json!(end - started));
        }
        rec.outputs.insert(task_run_id.to_string(), output);
    });
    if success { Ok(()) } else { Err(message) }
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

fn public(run: &Value) -> Value {
    let mut r = run.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("idempotency_token");
    }
    r
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

/// The local workspace's jobs as the [`JobsBackend`] of the shared workspace server: jobs
/// from their files, runs executed on the local engine.
pub(crate) struct LocalJobs {
    pub shared: Arc<Shared>,
}

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InternalError, format!("{what}: {e}"))
}

fn run_model(run: &Value) -> Result<Run, ApiError> {
    serde_json::from_value(public(run)).map_err(|e| internal("a stored run", e))
}

/// 403 for a write to a workspace opened read-only.
fn writable(sh: &Shared, what: &str) -> Result<(), ApiError> {
    if sh.allow_writes() {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::PermissionDenied,
        format!(
            "{what} is not allowed: the local workspace is read-only (start it with writes allowed, e.g. --allow-writes)."
        ),
    ))
}

#[async_trait]
impl JobsBackend for LocalJobs {
    async fn jobs(&self) -> Answer<Vec<Job>> {
        let jobs = self.shared.jobs.jobs().into_values().collect();
        Ok(jobs)
    }

    async fn job(&self, id: i64) -> Answer<Option<Job>> {
        let job = self.shared.jobs.jobs().remove(&id);
        Ok(job)
    }

    async fn create_job(&self, settings: &JobSettings) -> Answer<i64> {
        let sh = &self.shared;
        writable(sh, "Creating a job")?;
        let id = sh.jobs.jobs().keys().max().copied().unwrap_or(0) + 1;
        let path = sh.jobs.jobs_dir.join(format!("{id}.json"));
        let text = serde_json::to_string_pretty(settings).map_err(|e| internal("create job", e))?;
        layout::write_atomic(&path, text.as_bytes()).map_err(|e| internal("create job", e))?;
        Ok(id)
    }

    async fn delete_job(&self, id: i64) -> Answer<()> {
        let sh = &self.shared;
        writable(sh, "Deleting a job")?;
        let path = sh.jobs.jobs_dir.join(format!("{id}.json"));
        std::fs::remove_file(&path).map_err(|e| internal("delete job", e))
    }

    async fn run_now(&self, job: &Job, request: &RunNowRequest) -> Answer<RunNowResponse> {
        Ok(run_now(&self.shared, job, request))
    }

    async fn runs(&self) -> Answer<Vec<Run>> {
        let runs: Result<Vec<Run>, ApiError> = lock(&self.shared.jobs.runs)
            .values()
            .rev()
            .map(|r| run_model(&r.run))
            .collect();
        runs
    }

    async fn run(&self, id: i64, _read: bool) -> Answer<Option<FoundRun>> {
        let found = {
            let runs = lock(&self.shared.jobs.runs);
            if let Some(r) = runs.get(&id) {
                Some((r.run.clone(), None))
            } else {
                find_task(&runs, id)
                    .and_then(|(parent, task)| Some((runs.get(&parent)?.run.clone(), Some(task))))
            }
        };

        Ok(match found {
            None => None,
            Some((run, None)) => Some(FoundRun::Job(run_model(&run)?)),
            Some((parent, Some(task))) => Some(FoundRun::Task {
                parent: run_model(&parent)?,
                task,
            }),
        })
    }

    async fn run_output(&self, task_run_id: i64) -> Answer<RunOutput> {
        let output = lock(&self.shared.jobs.runs)
            .values()
            .find_map(|r| r.outputs.get(&task_run_id.to_string()).cloned());

        match output {
            Some(o) => serde_json::from_value(o).map_err(|e| internal("a stored output", e)),
            None => Ok(RunOutput::default()),
        }
    }

    async fn cancel_run(&self, id: i64) -> Answer<()> {
        cancel(&self.shared, id);
        Ok(())
    }

    async fn repair_run(
        &self,
        request: &RepairRunRequest,
        tasks: &[String],
    ) -> Answer<RepairRunResponse> {
        repair_run(&self.shared, request, tasks)
    }
}

/// The parameters of a run: the job's defaults, overridden by `job_parameters` and the
/// legacy per-kind maps; and the defaults, for `job_parameters[].default`.
fn run_parameters(
    settings: &JobSettings,
    request: &RunNowRequest,
) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let defaults: Vec<(String, String)> = settings
        .parameters
        .iter()
        .filter_map(|p| {
            Some((
                p.get("name")?.as_str()?.to_string(),
                p.get("default")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ))
        })
        .collect();
    let mut params: BTreeMap<String, String> = defaults.iter().cloned().collect();
    for map in [
        &request.job_parameters,
        &request.notebook_params,
        &request.sql_params,
    ] {
        params.extend(string_map(map.clone().map(Value::Object).as_ref()));
    }
    (params, defaults)
}

/// Starts a run of `job`'s tasks (those of `only` when given) in the background.
fn run_now(sh: &Arc<Shared>, job: &Job, request: &RunNowRequest) -> RunNowResponse {
    if let Some(token) = &request.idempotency_token {
        let runs = lock(&sh.jobs.runs);
        if let Some((id, _)) = runs.iter().find(|(_, r)| {
            r.run.get("idempotency_token").and_then(Value::as_str) == Some(token.as_str())
        }) {
            return RunNowResponse {
                run_id: *id,
                number_in_job: Some(*id),
            };
        }
    }
    let job_id = job.job_id;
    let settings = job.settings.clone().unwrap_or_default();
    let tasks: Vec<&Value> = settings
        .tasks
        .iter()
        // A hand-written job file may hold anything: only task objects run.
        .filter(|t| t.is_object())
        .filter(|t| request.only.is_empty() || request.only.contains(&task_key(t)))
        .collect();
    let (params, defaults) = run_parameters(&settings, request);
    let run_id = sh.jobs.alloc(tasks.len() as i64 + 1);
    let mut run_tasks = Vec::new();
    for (i, t) in tasks.iter().enumerate() {
        let mut rt = (*t).clone();
        json::set(&mut rt, "run_id", json!(run_id + 1 + i as i64));
        json::set(&mut rt, "attempt_number", json!(0));
        json::set(&mut rt, "start_time", json!(0));
        json::set(&mut rt, "setup_duration", json!(0));
        json::set(&mut rt, "execution_duration", json!(0));
        json::set(&mut rt, "cleanup_duration", json!(0));
        json::set(
            &mut rt,
            "cluster_instance",
            json!({"cluster_id": crate::CLUSTER_ID, "spark_context_id": "1"}),
        );
        set_state(&mut rt, "PENDING", None, "");
        run_tasks.push(rt);
    }
    let mut run = json!({
        "job_id": job_id,
        "run_id": run_id,
        "number_in_job": run_id,
        "original_attempt_run_id": run_id,
        "creator_user_name": layout::user_name(),
        "run_name": settings.name.as_deref().unwrap_or("Untitled"),
        "run_type": "JOB_RUN",
        "trigger": "ONE_TIME",
        "attempt_number": 0,
        "start_time": now_ms(),
        "end_time": 0,
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_duration": 0,
        "queue_duration": 0,
        "run_page_url": format!("local://jobs/{job_id}/runs/{run_id}"),
        "tasks": run_tasks,
        "job_parameters": params.iter().map(|(k, v)| {
            let default = defaults.iter().find(|(n, _)| n == k).map(|(_, d)| d.clone()).unwrap_or_default();
            json!({"name": k, "default": default, "value": v})
        }).collect::<Vec<_>>(),
        "cluster_instance": {"cluster_id": crate::CLUSTER_ID, "spark_context_id": "1"},
    });
    if let Some(token) = &request.idempotency_token {
        json::set(&mut run, "idempotency_token", json!(token));
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
    RunNowResponse {
        run_id,
        number_in_job: Some(run_id),
    }
}

/// The parameters a repair runs with: the run's, overridden by the repair's.
fn repair_parameters(run: &Value, request: &RepairRunRequest) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = run
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
    params
}

/// Re-runs, for real, the tasks `keys` (chosen by the workspace server) of a finished
/// run. They get new task run ids and attempt numbers; the earlier attempts' output stays
/// readable under their own ids. The run goes back to RUNNING and ends as its tasks do.
fn repair_run(
    sh: &Arc<Shared>,
    request: &RepairRunRequest,
    keys: &[String],
) -> Result<RepairRunResponse, ApiError> {
    let run_id = request.run_id;
    let mut runs = lock(&sh.jobs.runs);
    let rec = runs.get_mut(&run_id).ok_or_else(|| run_not_found(run_id))?;
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
    let params = repair_parameters(&rec.run, request);
    let first = sh.jobs.alloc(indices.len() as i64 + 1);
    let repair_id = first;
    let now = now_ms();
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
            json::set(t, "run_id", json!(id));
            json::set(t, "attempt_number", json!(attempt + 1));
            json::set(t, "start_time", json!(0));
            json::set(t, "end_time", json!(0));
            json::set(t, "execution_duration", json!(0));
            json::set(t, "run_duration", json!(0));
            set_state(t, "PENDING", None, "");
            new_ids.push(id);
        }
    }
    // The run's document may have been edited into any shape: a history that is not an
    // array is left as it is.
    let history = run
        .as_object_mut()
        .map(|o| o.entry("repair_history").or_insert_with(|| json!([])));
    if let Some(Value::Array(history)) = history {
        record_repair(history, original, repair_id, now, new_ids);
    }
    json::set(run, "end_time", json!(0));
    json::set(run, "run_duration", json!(0));
    set_state(run, "RUNNING", None, "");
    let _ = persist(&sh.jobs.runs_dir, run_id, rec);
    drop(runs);
    let shared = sh.clone();
    let handle = tokio::spawn(async move {
        execute_run(&shared, run_id, params, Some(indices)).await;
        no_longer_active(&shared, run_id);
    });
    lock(&sh.jobs.active).insert(run_id, handle.abort_handle());
    Ok(RepairRunResponse { repair_id })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hand_edited_run_files_load_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().to_path_buf());
        let runs_dir = layout.runs();
        std::fs::create_dir_all(&runs_dir).unwrap();
        let files = [
            (1, r#"{"run": 5}"#),
            (2, r#"{"run": {"tasks": [1, "x", {"task_key": "t"}]}}"#),
            (3, r#"{"run": {"start_time": -9223372036854775808}}"#),
            (4, "{}"),
        ];
        for (id, text) in files {
            std::fs::write(runs_dir.join(format!("{id}.json")), text).unwrap();
        }
        let jobs = Jobs::load(&layout).unwrap();
        let runs = lock(&jobs.runs);
        // What is not an object is left as it is; a missing run becomes one that ended.
        assert_eq!(runs.get(&1).unwrap().run, json!(5));
        let tasks = runs.get(&2).unwrap().run.get("tasks").cloned().unwrap();
        assert_eq!(tasks.get(0), Some(&json!(1)));
        assert_eq!(
            tasks.pointer("/2/state/life_cycle_state"),
            Some(&json!("INTERNAL_ERROR"))
        );
        assert_eq!(
            runs.get(&3).unwrap().run.get("run_duration"),
            Some(&json!(i64::MAX))
        );
        assert_eq!(
            runs.get(&4).unwrap().run.pointer("/state/life_cycle_state"),
            Some(&json!("INTERNAL_ERROR"))
        );
    }
}
