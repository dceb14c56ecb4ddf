//! Jobs API 2.2 (REFERENCE.md §4): jobs and runs, the requests that start, cancel and
//! repair runs, and the not-found errors of the service.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// A job as `jobs/get` answers it (Job); `jobs/list` answers the same without
/// `run_as_user_name` (BaseJob).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub job_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<JobSettings>,
    /// 2.2, `jobs/list` with `expand_tasks`: the job has more than 100 tasks or clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// 2.2 `jobs/get`: more array elements to fetch with `page_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_budget_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_state: Option<Value>,
}

/// A job's settings (§4.2). The arrays 2.2 pages are declared; every other setting a job
/// was created with is kept as it was written (`other`), since settings are the user's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<JobSchedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_runs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_clusters: Vec<Value>,
    /// `[{name, default}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<Value>,
    /// `SINGLE_TASK` or `MULTI_TASK` (always `MULTI_TASK` since 2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `{enabled}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_notifications: Option<Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl JobSettings {
    /// Stored settings as a job shows them, for backends that keep settings as JSON: a
    /// value that does not fit the model (hand-written, say) is kept by its name only.
    pub fn from_stored(settings: Value) -> JobSettings {
        serde_json::from_value::<JobSettings>(settings.clone()).unwrap_or_else(|e| JobSettings {
            name: Some(format!(
                "{} (invalid settings: {e})",
                settings
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("Untitled")
            )),
            ..JobSettings::default()
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobSchedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quartz_cron_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_status: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(default)]
    pub run_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_number: Option<i64>,
    /// Of a task run: the job run it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_run_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_in_job: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_attempt_run_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RunState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<JobSchedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overriding_parameters: Option<Value>,
    /// The task runs (RunTask: the task's settings and its own `run_id`, `state`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_clusters: Vec<Value>,
    /// `ORIGINAL` then one `REPAIR` entry per repair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repair_history: Vec<Value>,
    /// The iterations of a for-each task run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iterations: Vec<Value>,
    /// 2.2, `runs/list` with `expand_tasks`: the run has more than 100 tasks or clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// 2.2 `runs/get`: more array elements to fetch with `page_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// `[{name, default, value}]`: the job parameters this run used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_parameters: Option<Vec<serde_json::Value>>,
    /// `{cluster_id, spark_context_id}` of a single-task run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_instance: Option<serde_json::Value>,
}

/// Legacy `state` of a run (still returned; `status` is the newer form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_cycle_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_cancelled_or_timedout: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_details: Option<TerminationDetails>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TerminationDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `jobs/list` (§4.1): `jobs` is absent when there are none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `runs/list` (§4.4): `runs` is absent when there are none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `runs/get-output` (§4.6): the output of one task run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Run>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_output: Option<NotebookOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbt_output: Option<Value>,
    /// stdout/stderr tail of the task (not for notebook, pipeline or spark-submit tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_trace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Kept as JSON: query, dashboard or alert output (shapes vary by task type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_job_output: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NotebookOutput {
    /// The value passed to `dbutils.notebook.exit` (at most 5 MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// `POST jobs/run-now` (§4.3).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunNowRequest {
    pub job_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_parameters: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_token: Option<String>,
    /// The task keys to run (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// Deprecated per-task-type parameters, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_params: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_params: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_named_params: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jar_params: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_params: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_submit_params: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbt_commands: Option<Vec<String>>,
    /// `{full_refresh}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_params: Option<Value>,
    /// `{enabled}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance_target: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunNowResponse {
    #[serde(default)]
    pub run_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_in_job: Option<i64>,
}

/// `POST jobs/runs/repair`: re-runs tasks of a finished run; `rerun_all_failed_tasks` or
/// the listed `rerun_tasks` (task keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepairRunRequest {
    pub run_id: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rerun_tasks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_all_failed_tasks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_dependent_tasks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_repair_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepairRunResponse {
    #[serde(default)]
    pub repair_id: i64,
}

/// `POST jobs/create` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateJobResponse {
    #[serde(default)]
    pub job_id: i64,
}

/// The empty object mutating calls answer (`runs/cancel`, `jobs/delete`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Empty {}

/// The answer for a job id that names no job: 400 `INVALID_PARAMETER_VALUE`, as the
/// service sends for `jobs/get`, `run-now` and the others (not a 404).
pub fn job_not_found(id: i64) -> ApiError {
    ApiError::invalid_parameter(format!("Job {id} does not exist."))
}

/// The answer for a run id that names no run: 400 `INVALID_PARAMETER_VALUE`.
pub fn run_not_found(id: i64) -> ApiError {
    ApiError::invalid_parameter(format!("Run {id} does not exist."))
}

/// Whether a life cycle state is final.
pub fn is_final_state(life_cycle_state: Option<&str>) -> bool {
    matches!(
        life_cycle_state,
        Some("TERMINATED" | "SKIPPED" | "INTERNAL_ERROR")
    )
}

impl Run {
    /// Whether the run has finished (its `state` is final).
    pub fn is_finished(&self) -> bool {
        is_final_state(
            self.state
                .as_ref()
                .and_then(|s| s.life_cycle_state.as_deref()),
        )
    }
}

/// Whether a run or task run, as JSON, has finished.
pub fn is_finished(run: &Value) -> bool {
    is_final_state(
        run.pointer("/state/life_cycle_state")
            .and_then(Value::as_str),
    )
}

/// Whether a finished task did not succeed: what `rerun_all_failed_tasks` re-runs
/// (failed, timed out, canceled, skipped because an upstream task failed).
pub fn is_unsuccessful(task: &Value) -> bool {
    let life = task
        .pointer("/state/life_cycle_state")
        .and_then(Value::as_str);
    let result = task.pointer("/state/result_state").and_then(Value::as_str);
    matches!(life, Some("SKIPPED" | "INTERNAL_ERROR"))
        || matches!(
            result,
            Some(
                "FAILED"
                    | "TIMEDOUT"
                    | "CANCELED"
                    | "UPSTREAM_FAILED"
                    | "UPSTREAM_CANCELED"
                    | "MAXIMUM_CONCURRENT_RUNS_REACHED"
            )
        )
}

/// The id of a run's latest repair, if it was repaired.
pub fn latest_repair_id(run: &Run) -> Option<i64> {
    run.repair_history
        .iter()
        .rev()
        .find_map(|r| r.get("id").and_then(Value::as_i64))
}

/// Appends a `REPAIR` entry to a run's `repair_history` (adding `original`, the run's
/// first attempt, when the history is new), as every backend records a repair.
pub fn record_repair(
    history: &mut Vec<Value>,
    original: Value,
    repair_id: i64,
    now: i64,
    task_run_ids: Vec<i64>,
) {
    if history.is_empty() {
        history.push(original);
    }
    history.push(serde_json::json!({
        "type": "REPAIR",
        "id": repair_id,
        "start_time": now,
        "end_time": 0,
        "task_run_ids": task_run_ids,
    }));
}
