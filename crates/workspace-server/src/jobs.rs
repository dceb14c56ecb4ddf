//! Jobs API 2.2 and 2.1 (REFERENCE.md §4): jobs (list, get, create, delete), run-now, and
//! runs (list, get, get-output, cancel, cancel-all, repair).
//!
//! The protocol lives here — required ids, `limit` bounds, token pages with
//! `prev_page_token` and `has_more`, the 400 `INVALID_PARAMETER_VALUE` the service sends
//! for an unknown job or run, what a list shows without `expand_tasks`, a task run shown as
//! a run, 2.2's arrays of at most 100 elements, which runs cancel and repair apply to —
//! and the jobs, the runs and their execution come from the backend.

use axum::response::Response;
use databricks_api::backend::{FoundRun, Jobs};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::jobs::{
    CreateJobResponse, Empty, JobSettings, JobsPage, RepairRunRequest, Run, RunNowRequest,
    RunsPage, is_unsuccessful, job_not_found, latest_repair_id, run_not_found,
};
use databricks_api::paging::slice;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// `jobs/list`: default and largest `limit` (§4.1).
const JOBS_PAGE: i64 = 20;
const JOBS_MAX: i64 = 100;
/// `runs/list`: default and largest `limit` (§4.4); 0 asks for the largest.
const RUNS_PAGE: i64 = 20;
const RUNS_MAX: i64 = 25;
/// 2.2: the most elements of one array field in one answer (§4.8).
const ARRAY_PAGE: usize = 100;
/// The longest `idempotency_token` (§4.3).
const TOKEN_MAX: usize = 64;
/// The largest JSON of one deprecated per-task-type parameter field (§4.3).
const PARAMS_MAX: usize = 10_000;

/// Which version a path is under: 2.2 pages the arrays of one job or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V21,
    V22,
}

/// `rest`: the path after `/api/2.{1,2}/jobs/`.
pub(crate) async fn route(
    backend: &dyn Jobs,
    req: &ApiRequest,
    version: Version,
    rest: &[&str],
) -> Answer {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["list"]) => list_jobs(backend, req, version).await,
        ("GET" | "HEAD", ["get"]) => get_job(backend, req, version).await,
        ("POST", ["create"]) => create_job(backend, req).await,
        ("POST", ["delete"]) => {
            let id = required_id(req, "job_id")?;
            backend.job(id).await?.ok_or_else(|| job_not_found(id))?;
            backend.delete_job(id).await?;
            Ok(json_response(200, &Empty {}))
        }
        ("POST", ["run-now"]) => run_now(backend, req).await,
        ("GET" | "HEAD", ["runs", "list"]) => list_runs(backend, req, version).await,
        ("GET" | "HEAD", ["runs", "get"]) => get_run(backend, req, version).await,
        ("GET" | "HEAD", ["runs", "get-output"]) => get_output(backend, req).await,
        ("POST", ["runs", "cancel"]) => {
            let id = required_id(req, "run_id")?;
            let run = job_run(backend, id).await?;
            // Cancelling a finished run changes nothing.
            if !run.is_finished() {
                backend.cancel_run(id).await?;
            }
            Ok(json_response(200, &Empty {}))
        }
        ("POST", ["runs", "cancel-all"]) => cancel_all(backend, req).await,
        ("POST", ["runs", "repair"]) => {
            let request = repair_request(req.body.as_ref())?;
            let run = job_run(backend, request.run_id).await?;
            let tasks = repair_plan(&run, &request)?;
            let repaired = backend.repair_run(&request, &tasks).await?;
            Ok(json_response(200, &repaired))
        }
        _ => Err(endpoint_not_found(req)),
    }
}

/// A required int64 parameter (query string, or body for POSTs).
fn required_id(req: &ApiRequest, name: &str) -> Result<i64, ApiError> {
    req.integer_param(name)?
        .ok_or_else(|| ApiError::missing_parameter(name))
}

/// The job run `id`; a task run's id names no job run here.
async fn job_run(backend: &dyn Jobs, id: i64) -> Result<Run, ApiError> {
    match backend.run(id, false).await? {
        Some(FoundRun::Job(run)) => Ok(run),
        _ => Err(run_not_found(id)),
    }
}

/// `(offset, size)` of a list page: `page_token`, else the deprecated `offset`; `limit`
/// within `1..=max` (0 is `zero`, absent is `default`).
fn page_of(
    req: &ApiRequest,
    scope: &str,
    default: i64,
    max: i64,
    zero: i64,
) -> Result<(usize, usize), ApiError> {
    let limit = match req.integer_param("limit")? {
        None => default,
        Some(0) => zero,
        Some(n) if (1..=max).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid value for limit: {n}. The limit must be between 1 and {max}."
            )));
        }
    };
    let offset = match req.param("page_token")? {
        Some(token) => decode_token(scope, Some(&token))?,
        None => match req.integer_param("offset")? {
            Some(n) if n < 0 => {
                return Err(ApiError::invalid_parameter(format!(
                    "offset must be greater than or equal to 0, got {n}."
                )));
            }
            n => usize::try_from(n.unwrap_or(0)).unwrap_or(usize::MAX),
        },
    };
    Ok((offset, usize::try_from(limit).unwrap_or(1)))
}

/// The tokens of a page at `offset` of `size`: next (when more follow) and previous.
fn tokens(
    scope: &str,
    offset: usize,
    size: usize,
    next: Option<usize>,
) -> (Option<String>, Option<String>) {
    (
        next.map(|n| encode_token(scope, n)),
        (offset > 0).then(|| encode_token(scope, offset.saturating_sub(size))),
    )
}

/// Keeps the elements `offset..offset + 100` of an array field; whether more follow.
fn array_page(items: &mut Vec<Value>, offset: usize) -> bool {
    let more = items.len() > offset.saturating_add(ARRAY_PAGE);
    *items = std::mem::take(items)
        .into_iter()
        .skip(offset)
        .take(ARRAY_PAGE)
        .collect();
    more
}

/// §4.1. Without `expand_tasks` a job's settings leave out `tasks` and `job_clusters`;
/// with it, 2.2 shows at most 100 of each and flags the job `has_more`.
async fn list_jobs(backend: &dyn Jobs, req: &ApiRequest, version: Version) -> Answer {
    let (offset, size) = page_of(req, "jobs", JOBS_PAGE, JOBS_MAX, JOBS_PAGE)?;
    let expand = req.flag_param("expand_tasks")?;
    let name = req.param("name")?;
    let mut jobs = backend.jobs().await?;
    jobs.retain(|job| {
        name.as_ref().is_none_or(|wanted| {
            job.settings
                .as_ref()
                .and_then(|s| s.name.as_ref())
                .is_some_and(|n| n.to_lowercase() == wanted.to_lowercase())
        })
    });
    let (mut jobs, next) = slice(jobs, offset, Some(size));
    for job in &mut jobs {
        // A listed job is a BaseJob.
        job.run_as_user_name = None;
        job.next_page_token = None;
        job.has_more = None;
        if let Some(settings) = job.settings.as_mut() {
            if !expand {
                settings.tasks.clear();
                settings.job_clusters.clear();
            } else if version == Version::V22 {
                let tasks = array_page(&mut settings.tasks, 0);
                let clusters = array_page(&mut settings.job_clusters, 0);
                job.has_more = (tasks || clusters).then_some(true);
            }
        }
    }
    let (next_page_token, prev_page_token) = tokens("jobs", offset, size, next);
    Ok(json_response(
        200,
        &JobsPage {
            jobs,
            has_more: Some(next_page_token.is_some()),
            next_page_token,
            prev_page_token,
        },
    ))
}

/// §4.2. 2.2 answers at most 100 elements of each array field, continued with
/// `page_token`; 2.1 answers them whole.
async fn get_job(backend: &dyn Jobs, req: &ApiRequest, version: Version) -> Answer {
    let id = required_id(req, "job_id")?;
    req.flag_param("include_trigger_state")?;
    let mut job = backend.job(id).await?.ok_or_else(|| job_not_found(id))?;
    job.has_more = None;
    job.next_page_token = None;
    if version == Version::V22 {
        let scope = format!("job/{id}");
        let offset = decode_token(&scope, req.param("page_token")?.as_deref())?;
        if let Some(settings) = job.settings.as_mut() {
            let more = [
                array_page(&mut settings.tasks, offset),
                array_page(&mut settings.job_clusters, offset),
                array_page(&mut settings.parameters, offset),
                array_page(&mut settings.environments, offset),
            ];
            if more.contains(&true) {
                job.next_page_token = Some(encode_token(&scope, offset + ARRAY_PAGE));
            }
        }
    }
    Ok(json_response(200, &job))
}

/// `POST jobs/create`: the body is the job's settings; every task names a distinct
/// `task_key`.
async fn create_job(backend: &dyn Jobs, req: &ApiRequest) -> Answer {
    let body = body_object(req)?;
    let settings: JobSettings = from_body(Value::Object(body.clone()), "job settings")?;
    let mut keys = std::collections::BTreeSet::new();
    for task in &settings.tasks {
        let key = task
            .get("task_key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::missing_parameter("tasks.task_key"))?;
        if !keys.insert(key) {
            return Err(ApiError::invalid_parameter(format!(
                "Task key '{key}' is used by more than one task."
            )));
        }
    }
    let job_id = backend.create_job(&settings).await?;
    Ok(json_response(200, &CreateJobResponse { job_id }))
}

/// The request body as a JSON object (absent is an empty one).
fn body_object(req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    match &req.body {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(body)) => Ok(body.clone()),
        Some(_) => Err(ApiError::invalid_parameter(
            "The request body must be a JSON object.",
        )),
    }
}

/// A model from a body, a type mismatch being the caller's 400.
fn from_body<T: DeserializeOwned>(body: Value, what: &str) -> Result<T, ApiError> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid {what}: {e}.")))
}

/// §4.3. The request checked (`job_id`, the token's length, the parameter fields' types
/// and sizes), the job found, and `only` resolved to the task keys it names: a key with a
/// `+` prefix adds the tasks upstream of it, a `+` suffix those downstream.
async fn run_now(backend: &dyn Jobs, req: &ApiRequest) -> Answer {
    let job_id = required_id(req, "job_id")?;
    let mut body = body_object(req)?;
    body.retain(|_, v| !v.is_null());
    body.insert("job_id".into(), Value::from(job_id));
    for field in [
        "notebook_params",
        "sql_params",
        "python_named_params",
        "jar_params",
        "python_params",
        "spark_submit_params",
        "dbt_commands",
    ] {
        let size = body.get(field).map_or(0, |v| v.to_string().len());
        if size > PARAMS_MAX {
            return Err(ApiError::invalid_parameter(format!(
                "{field} must be at most {PARAMS_MAX} bytes of JSON, got {size}."
            )));
        }
    }
    let mut request: RunNowRequest = from_body(Value::Object(body), "run-now request")?;
    if let Some(token) = &request.idempotency_token
        && token.chars().count() > TOKEN_MAX
    {
        return Err(ApiError::invalid_parameter(format!(
            "idempotency_token must be at most {TOKEN_MAX} characters."
        )));
    }
    let job = backend
        .job(job_id)
        .await?
        .ok_or_else(|| job_not_found(job_id))?;
    if !request.only.is_empty() {
        let tasks = job
            .settings
            .as_ref()
            .map(|s| s.tasks.as_slice())
            .unwrap_or_default();
        request.only = selected_tasks(tasks, &request.only)?;
    }
    let started = backend.run_now(&job, &request).await?;
    Ok(json_response(200, &started))
}

fn task_key(task: &Value) -> &str {
    task.get("task_key").and_then(Value::as_str).unwrap_or("")
}

fn dependencies(task: &Value) -> impl Iterator<Item = &str> {
    task.get("depends_on")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("task_key").and_then(Value::as_str))
}

/// The task keys `only` names, in the job's task order; an unknown key is a 400.
fn selected_tasks(tasks: &[Value], only: &[String]) -> Result<Vec<String>, ApiError> {
    let mut chosen: Vec<&str> = Vec::new();
    for entry in only {
        let upstream = entry.starts_with('+');
        let downstream = entry.len() > 1 && entry.ends_with('+');
        let key = entry.trim_matches('+');
        if !tasks.iter().any(|t| task_key(t) == key) {
            return Err(ApiError::invalid_parameter(format!(
                "Task key '{key}' in only does not exist in the job."
            )));
        }
        let mut added = vec![key];
        if upstream {
            added = closure(tasks, added, |t, keys| {
                keys.contains(&task_key(t))
                    .then(|| dependencies(t).collect())
            });
        }
        if downstream {
            let mut below = closure(tasks, vec![key], |t, keys| {
                dependencies(t)
                    .any(|d| keys.contains(&d))
                    .then(|| vec![task_key(t)])
            });
            added.append(&mut below);
        }
        chosen.extend(added);
    }
    Ok(tasks
        .iter()
        .map(task_key)
        .filter(|k| chosen.contains(k))
        .map(str::to_string)
        .collect())
}

/// `keys` grown by what `step` adds for a task given the keys so far, until nothing new.
fn closure<'a>(
    tasks: &'a [Value],
    mut keys: Vec<&'a str>,
    step: impl Fn(&'a Value, &[&'a str]) -> Option<Vec<&'a str>>,
) -> Vec<&'a str> {
    loop {
        let added: Vec<&str> = tasks
            .iter()
            .filter_map(|t| step(t, &keys))
            .flatten()
            .filter(|k| !keys.contains(k))
            .collect();
        if added.is_empty() {
            return keys;
        }
        for key in added {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
}

/// Whether a run has not finished (`active_only` of §4.4).
fn is_active(run: &Run) -> bool {
    !run.is_finished()
}

/// §4.4: newest first, filtered; without `expand_tasks` no `tasks` or `job_clusters`,
/// with it 2.2 shows at most 100 of each and flags the run `has_more`.
async fn list_runs(backend: &dyn Jobs, req: &ApiRequest, version: Version) -> Answer {
    let active_only = req.flag_param("active_only")?;
    let completed_only = req.flag_param("completed_only")?;
    if active_only && completed_only {
        return Err(ApiError::invalid_parameter(
            "active_only and completed_only cannot both be true.",
        ));
    }
    let job_id = req.integer_param("job_id")?;
    let run_type = req.param("run_type")?;
    if let Some(kind) = &run_type
        && !["JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN"].contains(&kind.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid value '{kind}' for run_type: expected one of JOB_RUN, WORKFLOW_RUN, SUBMIT_RUN."
        )));
    }
    let from = req.integer_param("start_time_from")?;
    let to = req.integer_param("start_time_to")?;
    let expand = req.flag_param("expand_tasks")?;
    let (offset, size) = page_of(req, "runs", RUNS_PAGE, RUNS_MAX, RUNS_MAX)?;
    let mut runs = backend.runs().await?;
    runs.retain(|r| {
        let start = r.start_time.unwrap_or(0);
        job_id.is_none_or(|id| r.job_id == Some(id))
            && (!active_only || is_active(r))
            && (!completed_only || !is_active(r))
            && run_type
                .as_ref()
                .is_none_or(|t| r.run_type.as_ref() == Some(t))
            && from.is_none_or(|f| start >= f)
            && to.is_none_or(|t| start <= t)
    });
    let (mut runs, next) = slice(runs, offset, Some(size));
    for run in &mut runs {
        run.next_page_token = None;
        run.has_more = None;
        if !expand {
            run.tasks.clear();
            run.job_clusters.clear();
        } else if version == Version::V22 {
            let tasks = array_page(&mut run.tasks, 0);
            let clusters = array_page(&mut run.job_clusters, 0);
            run.has_more = (tasks || clusters).then_some(true);
        }
    }
    let (next_page_token, prev_page_token) = tokens("runs", offset, size, next);
    Ok(json_response(
        200,
        &RunsPage {
            runs,
            has_more: Some(next_page_token.is_some()),
            next_page_token,
            prev_page_token,
        },
    ))
}

/// §4.5: a job run, or a task run shown as a run. 2.2 answers at most 100 elements of
/// each array field, continued with `page_token`.
async fn get_run(backend: &dyn Jobs, req: &ApiRequest, version: Version) -> Answer {
    let id = required_id(req, "run_id")?;
    req.flag_param("include_history")?;
    req.flag_param("include_resolved_values")?;
    let mut run = match backend.run(id, true).await? {
        Some(FoundRun::Job(run)) => run,
        Some(FoundRun::Task { parent, task }) => task_as_run(parent, task),
        None => return Err(run_not_found(id)),
    };
    run.has_more = None;
    run.next_page_token = None;
    if version == Version::V22 {
        let scope = format!("run/{id}");
        let offset = decode_token(&scope, req.param("page_token")?.as_deref())?;
        let mut parameters = run.job_parameters.take();
        let more = [
            array_page(&mut run.tasks, offset),
            array_page(&mut run.job_clusters, offset),
            array_page(&mut run.repair_history, offset),
            array_page(&mut run.iterations, offset),
            parameters.as_mut().is_some_and(|p| array_page(p, offset)),
        ];
        run.job_parameters = parameters;
        if more.contains(&true) {
            run.next_page_token = Some(encode_token(&scope, offset + ARRAY_PAGE));
        }
    }
    Ok(json_response(200, &run))
}

/// A field of a task run, when it is there and of the model's type.
fn field<T: DeserializeOwned>(task: &Value, name: &str) -> Option<T> {
    task.get(name)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// Task run `task` of job run `parent` shown as a run: the job's identity and parameters,
/// the task's own id, state and times, the task as its only task, `job_run_id` naming
/// the job run.
fn task_as_run(parent: Run, task: Value) -> Run {
    let id = field::<i64>(&task, "run_id").unwrap_or_default();
    Run {
        run_id: id,
        job_run_id: Some(parent.run_id),
        number_in_job: Some(id),
        original_attempt_run_id: Some(id),
        run_name: Some(task_key(&task).to_string()),
        attempt_number: field(&task, "attempt_number"),
        state: field(&task, "state"),
        status: field(&task, "status"),
        start_time: field(&task, "start_time"),
        end_time: field(&task, "end_time"),
        setup_duration: field(&task, "setup_duration"),
        execution_duration: field(&task, "execution_duration"),
        cleanup_duration: field(&task, "cleanup_duration"),
        run_duration: field(&task, "run_duration"),
        queue_duration: field(&task, "queue_duration"),
        run_page_url: field(&task, "run_page_url"),
        cluster_instance: task.get("cluster_instance").cloned(),
        tasks: vec![task],
        job_clusters: Vec::new(),
        repair_history: Vec::new(),
        iterations: Vec::new(),
        has_more: None,
        next_page_token: None,
        ..parent
    }
}

/// §4.6: the output of a task run (or of the only task of a job run), with the task run
/// as `metadata`; a job run of several tasks has none of its own (400).
async fn get_output(backend: &dyn Jobs, req: &ApiRequest) -> Answer {
    let id = required_id(req, "run_id")?;
    let metadata = match backend.run(id, false).await? {
        None => return Err(run_not_found(id)),
        Some(FoundRun::Task { parent, task }) => task_as_run(parent, task),
        Some(FoundRun::Job(mut run)) => match run.tasks.len() {
            0 => run,
            1 => {
                let task = run.tasks.remove(0);
                task_as_run(run, task)
            }
            _ => {
                return Err(ApiError::invalid_parameter(
                    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.",
                ));
            }
        },
    };
    let mut output = backend.run_output(metadata.run_id).await?;
    output.metadata = Some(metadata);
    Ok(json_response(200, &output))
}

/// `POST runs/cancel-all` (§4.7): the active runs of `job_id`, or every queued run with
/// `all_queued_runs`; one of them is required.
async fn cancel_all(backend: &dyn Jobs, req: &ApiRequest) -> Answer {
    let job_id = req.integer_param("job_id")?;
    let all_queued = req.flag_param("all_queued_runs")?;
    if job_id.is_none() && !all_queued {
        return Err(ApiError::invalid_parameter(
            "Either job_id or all_queued_runs must be set.",
        ));
    }
    if let Some(id) = job_id {
        backend.job(id).await?.ok_or_else(|| job_not_found(id))?;
    }
    let queued =
        |r: &Run| r.state.as_ref().and_then(|s| s.life_cycle_state.as_deref()) == Some("QUEUED");
    for run in backend.runs().await? {
        let of_job = job_id.is_some_and(|id| run.job_id == Some(id));
        if is_active(&run) && (of_job || (all_queued && queued(&run))) {
            backend.cancel_run(run.run_id).await?;
        }
    }
    Ok(json_response(200, &Empty {}))
}

/// The body of `POST jobs/runs/repair`, type-checked: `run_id` is required (an integer,
/// or a string of one as some clients send int64s), `rerun_tasks` an array of task keys,
/// the flags booleans.
pub(crate) fn repair_request(body: Option<&Value>) -> Result<RepairRunRequest, ApiError> {
    let Some(Value::Object(body)) = body else {
        return Err(ApiError::invalid_parameter(
            "The request body must be a JSON object.",
        ));
    };
    let integer = |name: &str| -> Result<Option<i64>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_parameter(format!("{name} must be an integer, got {v}."))
                }),
        }
    };
    let flag = |name: &str| -> Result<Option<bool>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "{name} must be a boolean, got {v}."
            ))),
        }
    };
    let rerun_tasks = match body.get("rerun_tasks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(keys)) => keys
            .iter()
            .map(|k| {
                k.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid_parameter("rerun_tasks must be an array of task keys.")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "rerun_tasks must be an array of task keys.",
            ));
        }
    };
    let job_parameters = match body.get("job_parameters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(v) => {
            return Err(ApiError::invalid_parameter(format!(
                "job_parameters must be a map of strings, got {v}."
            )));
        }
    };
    Ok(RepairRunRequest {
        run_id: integer("run_id")?.ok_or_else(|| ApiError::missing_parameter("run_id"))?,
        rerun_tasks,
        rerun_all_failed_tasks: flag("rerun_all_failed_tasks")?,
        rerun_dependent_tasks: flag("rerun_dependent_tasks")?,
        latest_repair_id: integer("latest_repair_id")?,
        job_parameters,
    })
}

/// The task keys a repair of `run` re-runs, in the run's task order. Only a finished run
/// may be repaired (400 `INVALID_STATE`); `latest_repair_id`, when given, must be the
/// run's latest repair; an unknown key in `rerun_tasks` or nothing to re-run is a 400
/// `INVALID_PARAMETER_VALUE`.
pub(crate) fn repair_plan(run: &Run, request: &RepairRunRequest) -> Result<Vec<String>, ApiError> {
    let id = request.run_id;
    if !run.is_finished() {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            format!("Run {id} is still active: only a finished run can be repaired."),
        ));
    }
    if let Some(given) = request.latest_repair_id
        && Some(given) != latest_repair_id(run)
    {
        return Err(ApiError::invalid_parameter(format!(
            "latest_repair_id {given} is not the latest repair of run {id}."
        )));
    }
    let tasks = run.tasks.as_slice();
    if let Some(unknown) = request
        .rerun_tasks
        .iter()
        .find(|k| !tasks.iter().any(|t| task_key(t) == k.as_str()))
    {
        return Err(ApiError::invalid_parameter(format!(
            "Task key '{unknown}' does not exist in run {id}."
        )));
    }
    let all_failed = request.rerun_all_failed_tasks == Some(true);
    if !all_failed && request.rerun_tasks.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Either rerun_tasks or rerun_all_failed_tasks must be set.",
        ));
    }
    let mut keys: Vec<&str> = tasks
        .iter()
        .filter(|t| {
            request.rerun_tasks.iter().any(|k| k == task_key(t))
                || (all_failed && is_unsuccessful(t))
        })
        .map(task_key)
        .collect();
    if request.rerun_dependent_tasks == Some(true) {
        // Whatever depends on a re-run task, directly or not.
        keys = closure(tasks, keys, |t, keys| {
            dependencies(t)
                .any(|d| keys.contains(&d))
                .then(|| vec![task_key(t)])
        });
    }
    if keys.is_empty() {
        return Err(ApiError::invalid_parameter(format!(
            "Run {id} has no failed tasks to repair."
        )));
    }
    Ok(tasks
        .iter()
        .map(task_key)
        .filter(|k| keys.contains(k))
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Run {
        serde_json::from_value(json!({
            "run_id": 1,
            "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"},
            "tasks": [
                {"task_key": "a", "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}},
                {"task_key": "b", "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED"}},
                {"task_key": "c", "depends_on": [{"task_key": "b"}], "state": {"life_cycle_state": "SKIPPED"}},
                {"task_key": "d", "depends_on": [{"task_key": "a"}], "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}},
            ],
        }))
        .expect("a run")
    }

    fn request(body: Value) -> RepairRunRequest {
        repair_request(Some(&body)).expect("a valid request")
    }

    #[test]
    fn failed_listed_and_dependent_tasks_are_chosen() {
        let r = run();
        assert_eq!(
            repair_plan(
                &r,
                &request(json!({"run_id": 1, "rerun_all_failed_tasks": true}))
            ),
            Ok(vec!["b".to_string(), "c".to_string()])
        );
        assert_eq!(
            repair_plan(
                &r,
                &request(
                    json!({"run_id": "1", "rerun_tasks": ["a"], "rerun_dependent_tasks": true})
                )
            ),
            Ok(vec!["a".to_string(), "d".to_string()])
        );
    }

    #[test]
    fn bad_repairs_are_refused() {
        let r = run();
        let code = |body: Value| {
            repair_plan(&r, &request(body)).map_err(|e| (e.status, e.body.error_code))
        };
        let invalid = Err((400, "INVALID_PARAMETER_VALUE".to_string()));
        assert_eq!(code(json!({"run_id": 1, "rerun_tasks": ["zz"]})), invalid);
        assert_eq!(code(json!({"run_id": 1})), invalid);
        assert_eq!(
            code(json!({"run_id": 1, "rerun_tasks": ["a"], "latest_repair_id": 9})),
            invalid
        );
        let mut active = run();
        active.state = serde_json::from_value(json!({"life_cycle_state": "RUNNING"})).ok();
        assert_eq!(
            repair_plan(
                &active,
                &request(json!({"run_id": 1, "rerun_all_failed_tasks": true}))
            )
            .map_err(|e| e.body.error_code),
            Err("INVALID_STATE".to_string())
        );
        assert!(repair_request(Some(&json!({"rerun_tasks": ["a"]}))).is_err());
        assert!(repair_request(Some(&json!({"run_id": 1, "rerun_tasks": "a"}))).is_err());
        assert!(repair_request(None).is_err());
    }

    #[test]
    fn only_names_tasks_and_their_neighbours() {
        let tasks = run().tasks;
        let keys = |only: &[&str]| {
            selected_tasks(
                &tasks,
                &only.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(keys(&["c"]), Ok(vec!["c".to_string()]));
        assert_eq!(keys(&["+c"]), Ok(vec!["b".to_string(), "c".to_string()]));
        assert_eq!(keys(&["a+"]), Ok(vec!["a".to_string(), "d".to_string()]));
        assert!(keys(&["zz"]).is_err());
    }

    #[test]
    fn arrays_are_paged_by_a_hundred() {
        let mut items: Vec<Value> = (0..250).map(Value::from).collect();
        assert!(array_page(&mut items, 100));
        assert_eq!(items.first(), Some(&Value::from(100)));
        assert_eq!(items.len(), 100);
        let mut items: Vec<Value> = (0..250).map(Value::from).collect();
        assert!(!array_page(&mut items, 200));
        assert_eq!(items.len(), 50);
    }
}
