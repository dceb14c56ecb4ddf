//! Jobs (REFERENCE §4) as fixture data: the [`Jobs`] backend the shared workspace server
//! routes to. The jobs are the fixture's plus synthesised ones (and those created since
//! the emulator started); runs are stateful: `run-now` creates runs that progress
//! PENDING → RUNNING → RUNNING → TERMINATED/SUCCESS as clients read them, a cancel
//! terminates them, and a repair puts a finished run's chosen tasks through the same
//! progression again.

use std::collections::HashMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, FoundRun, Jobs};
use databricks_api::error::ApiError;
use databricks_api::jobs::{
    Job, JobSettings, RepairRunRequest, RepairRunResponse, Run, RunNowRequest, RunNowResponse,
    RunOutput, is_finished, is_unsuccessful, record_repair, run_not_found,
};
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{fixture_model, items, lock, now_ms, set};

/// The id of the fixture job that has tasks (jobs_get.json).
const DETAILED_JOB: i64 = 11_223_344;

/// Number of jobs in `jobs_list.json`.
pub(crate) fn fixture_job_count() -> usize {
    items(&fixture_json("jobs_list.json"), "jobs").len()
}

pub(crate) struct FixtureJobs {
    base_url: String,
    state: Mutex<State>,
}

struct State {
    /// Full Job objects (as jobs/get returns them), in listing order.
    jobs: Vec<Value>,
    /// Newest first, full Run objects (tasks included).
    runs: Vec<Value>,
    /// Task runs a repair replaced, with the job run they belong to: still readable.
    earlier_attempts: Vec<(i64, Value)>,
    /// run_id → number of client reads so far, for runs created by run-now or repaired.
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

/// The job as jobs/get shows it: the detailed fixture, or a listed job with its owner and
/// one notebook task.
fn full_job(i: usize, base: &Value) -> Value {
    if job_id_of(base) == DETAILED_JOB {
        return fixture_json("jobs_get.json");
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
    job
}

impl FixtureJobs {
    /// `count` jobs: the fixture's first, then synthesised ones.
    pub fn new(count: usize, base_url: String) -> FixtureJobs {
        let fixture = items(&fixture_json("jobs_list.json"), "jobs");
        let mut listed: Vec<Value> = fixture.iter().take(count).cloned().collect();
        for i in listed.len()..count {
            listed.push(json!({
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
        let jobs = listed
            .iter()
            .enumerate()
            .map(|(i, j)| full_job(i, j))
            .collect();
        let mut runs = items(&fixture_json("runs_list.json"), "runs");
        let detailed = fixture_json("runs_get.json");
        for r in &mut runs {
            if run_id_of(r) == run_id_of(&detailed) {
                *r = detailed.clone();
            }
        }
        FixtureJobs {
            base_url,
            state: Mutex::new(State {
                jobs,
                runs,
                earlier_attempts: Vec::new(),
                progress: HashMap::new(),
                idempotency: HashMap::new(),
                next_run_id: 455_700_001,
                next_task_run_id: 3_000_001,
                next_repair_id: 734_650_001,
            }),
        }
    }

    fn page_url(&self, job_id: i64, run_id: i64) -> String {
        format!(
            "{}/?o=1234567890123456#job/{job_id}/run/{run_id}",
            self.base_url
        )
    }
}

fn is_active(run: &Value) -> bool {
    !is_finished(run)
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
    set(run, "state", state.clone());
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
            set(t, "state", state.clone());
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

/// The index of job run `id`, or of the job run holding task run `id` (its current
/// attempt or one a repair replaced) and the task.
fn find_run(state: &State, id: i64) -> Option<(usize, Option<Value>)> {
    let runs = &state.runs;
    if let Some(i) = runs.iter().position(|r| run_id_of(r) == id) {
        return Some((i, None));
    }
    let current = runs.iter().enumerate().find_map(|(i, r)| {
        r.get("tasks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|t| run_id_of(t) == id)
            .map(|t| (i, Some(t.clone())))
    });
    current.or_else(|| {
        let (parent, task) = state
            .earlier_attempts
            .iter()
            .find(|(_, t)| run_id_of(t) == id)?;
        let i = runs.iter().position(|r| run_id_of(r) == *parent)?;
        Some((i, Some(task.clone())))
    })
}

impl State {
    /// Runs created by run-now or repaired advance one step per client read (unless
    /// cancelled meanwhile); the read sees the state before the step.
    fn advance(&mut self, i: usize, id: i64) {
        let Some(n) = self.progress.get_mut(&id) else {
            return;
        };
        *n += 1;
        let step = *n;
        let Some(run) = self.runs.get_mut(i).filter(|r| is_active(r)) else {
            return;
        };
        match step {
            1 => set_state(run, "RUNNING", None, "In run", false),
            2 => {}
            _ => set_state(run, "TERMINATED", Some("SUCCESS"), "", false),
        }
    }

    /// The run's tasks for run-now: the job's, those of `only` when given.
    fn new_tasks(
        &mut self,
        job: &Job,
        only: &[String],
        now: i64,
        url: impl Fn(i64) -> String,
    ) -> Vec<Value> {
        let mut tasks = Vec::new();
        for t in job.settings.iter().flat_map(|s| &s.tasks) {
            let key = t
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !only.is_empty() && !only.iter().any(|k| k == key) {
                continue;
            }
            let mut task = t.clone();
            let task_run_id = self.next_task_run_id;
            self.next_task_run_id += 1;
            set(&mut task, "run_id", json!(task_run_id));
            set(&mut task, "attempt_number", json!(0));
            set(&mut task, "start_time", json!(now));
            set(&mut task, "run_page_url", json!(url(task_run_id)));
            tasks.push(task);
        }
        tasks
    }
}

fn model<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    fixture_model(v)
}

impl Jobs for FixtureJobs {
    fn jobs(&self) -> Answer<'_, Vec<Job>> {
        let jobs = lock(&self.state).jobs.clone();
        Box::pin(async move { jobs.into_iter().map(model).collect() })
    }

    fn job(&self, id: i64) -> Answer<'_, Option<Job>> {
        let job = lock(&self.state)
            .jobs
            .iter()
            .find(|j| job_id_of(j) == id)
            .cloned();
        Box::pin(async move { job.map(model).transpose() })
    }

    fn create_job<'a>(&'a self, settings: &'a JobSettings) -> Answer<'a, i64> {
        Box::pin(async move {
            let mut state = lock(&self.state);
            let id = state.jobs.iter().map(job_id_of).max().unwrap_or(0) + 1;
            state.jobs.push(json!({
                "job_id": id,
                "creator_user_name": "alice@example.com",
                "run_as_user_name": "alice@example.com",
                "created_time": now_ms(),
                "settings": settings,
            }));
            Ok(id)
        })
    }

    fn delete_job(&self, id: i64) -> Answer<'_, ()> {
        lock(&self.state).jobs.retain(|j| job_id_of(j) != id);
        Box::pin(async { Ok(()) })
    }

    fn run_now<'a>(
        &'a self,
        job: &'a Job,
        request: &'a RunNowRequest,
    ) -> Answer<'a, RunNowResponse> {
        Box::pin(async move {
            let mut state = lock(&self.state);
            if let Some(id) = request
                .idempotency_token
                .as_ref()
                .and_then(|t| state.idempotency.get(t))
            {
                return Ok(RunNowResponse {
                    run_id: *id,
                    number_in_job: Some(*id),
                });
            }
            let (job_id, run_id, now) = (job.job_id, state.next_run_id, now_ms());
            state.next_run_id += 1;
            let params: Vec<Value> = job
                .settings
                .iter()
                .flat_map(|s| &s.parameters)
                .map(|p| {
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                    let default = p.get("default").cloned().unwrap_or(json!(""));
                    let value = request
                        .job_parameters
                        .as_ref()
                        .and_then(|o| o.get(name))
                        .cloned()
                        .unwrap_or_else(|| default.clone());
                    json!({ "name": name, "default": default, "value": value })
                })
                .collect();
            let tasks = state.new_tasks(job, &request.only, now, |id| self.page_url(job_id, id));
            let name = job.settings.as_ref().and_then(|s| s.name.clone());
            let mut run = json!({
                "job_id": job_id,
                "run_id": run_id,
                "number_in_job": run_id,
                "original_attempt_run_id": run_id,
                "creator_user_name": "alice@example.com",
                "run_name": name.unwrap_or_default(),
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
                "run_page_url": self.page_url(job_id, run_id),
                "tasks": tasks,
            });
            if !params.is_empty() {
                set(&mut run, "job_parameters", json!(params));
            }
            set_state(&mut run, "PENDING", None, "Waiting for cluster", false);
            state.runs.insert(0, run);
            state.progress.insert(run_id, 0);
            if let Some(token) = &request.idempotency_token {
                state.idempotency.insert(token.clone(), run_id);
            }
            let mut out: RunNowResponse = model(fixture_json("jobs_run_now.json"))?;
            out.run_id = run_id;
            out.number_in_job = Some(run_id);
            Ok(out)
        })
    }

    fn runs(&self) -> Answer<'_, Vec<Run>> {
        let runs = lock(&self.state).runs.clone();
        Box::pin(async move { runs.into_iter().map(model).collect() })
    }

    fn run(&self, id: i64, read: bool) -> Answer<'_, Option<FoundRun>> {
        let found = {
            let mut state = lock(&self.state);
            find_run(&state, id).and_then(|(i, task)| {
                let run = state.runs.get(i).cloned()?;
                if read && task.is_none() {
                    state.advance(i, id);
                }
                Some((run, task))
            })
        };
        Box::pin(async move {
            match found {
                None => Ok(None),
                Some((run, None)) => Ok(Some(FoundRun::Job(model(run)?))),
                Some((parent, Some(task))) => Ok(Some(FoundRun::Task {
                    parent: model(parent)?,
                    task,
                })),
            }
        })
    }

    /// The failed task of the fixture has the fixture's output; a task run that succeeded
    /// has the notebook output of the success fixture; others have none yet.
    fn run_output(&self, task_run_id: i64) -> Answer<'_, RunOutput> {
        let succeeded = {
            let state = lock(&self.state);
            find_run(&state, task_run_id).is_some_and(|(i, task)| {
                let run = task.or_else(|| state.runs.get(i).cloned());
                run.and_then(|r| r.pointer("/state/result_state").cloned())
                    == Some(json!("SUCCESS"))
            })
        };
        Box::pin(async move {
            let failed = fixture_json("runs_get_output.json");
            let fixture = if failed.pointer("/metadata/run_id").and_then(Value::as_i64)
                == Some(task_run_id)
            {
                failed
            } else if succeeded {
                fixture_json("runs_get_output_notebook_success.json")
            } else {
                json!({})
            };
            let mut output: RunOutput = model(fixture)?;
            output.metadata = None;
            Ok(output)
        })
    }

    fn cancel_run(&self, id: i64) -> Answer<'_, ()> {
        let mut state = lock(&self.state);
        if let Some(run) = state.runs.iter_mut().find(|r| run_id_of(r) == id) {
            set_state(run, "TERMINATED", Some("CANCELED"), "Run cancelled.", true);
        }
        Box::pin(async { Ok(()) })
    }

    fn repair_run<'a>(
        &'a self,
        request: &'a RepairRunRequest,
        tasks: &'a [String],
    ) -> Answer<'a, RepairRunResponse> {
        Box::pin(async move { self.repair(request.run_id, tasks) })
    }
}

impl FixtureJobs {
    /// The re-run tasks get new task run ids and go through the run-now progression again.
    fn repair(&self, id: i64, keys: &[String]) -> Result<RepairRunResponse, ApiError> {
        let mut state = lock(&self.state);
        let repair_id = state.next_repair_id;
        state.next_repair_id += 1;
        let now = now_ms();
        let first_task_run = state.next_task_run_id;
        state.next_task_run_id += i64::try_from(keys.len()).unwrap_or(0);
        let run = state
            .runs
            .iter_mut()
            .find(|r| run_id_of(r) == id)
            .ok_or_else(|| run_not_found(id))?;
        let task_run_ids: Vec<i64> = run
            .get("tasks")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().map(run_id_of).collect())
            .unwrap_or_default();
        let original = json!({
            "type": "ORIGINAL",
            "start_time": run.get("start_time").cloned().unwrap_or(json!(0)),
            "end_time": run.get("end_time").cloned().unwrap_or(json!(0)),
            "state": run.get("state").cloned().unwrap_or(Value::Null),
            "status": run.get("status").cloned().unwrap_or(Value::Null),
            "task_run_ids": task_run_ids,
        });
        let mut next = first_task_run;
        let job_id = job_id_of(run);
        let mut replaced = Vec::new();
        if let Some(ts) = run.get_mut("tasks").and_then(Value::as_array_mut) {
            for t in ts.iter_mut().filter(|t| {
                let key = t
                    .get("task_key")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                keys.iter().any(|k| k == key)
            }) {
                replaced.push((id, t.clone()));
                let attempt = t.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
                set(t, "run_id", json!(next));
                set(t, "attempt_number", json!(attempt + 1));
                set(t, "start_time", json!(now));
                set(t, "end_time", json!(0));
                set(t, "run_page_url", json!(self.page_url(job_id, next)));
                // Not finished any more: the run's progression moves it again.
                set(t, "state", json!({"life_cycle_state": "PENDING"}));
                next += 1;
            }
        }
        record_repair(
            run,
            original,
            repair_id,
            now,
            (first_task_run..next).collect(),
        );
        set(run, "end_time", json!(0));
        set_state(run, "PENDING", None, "Waiting for cluster", false);
        state.progress.insert(id, 0);
        state.earlier_attempts.extend(replaced);
        Ok(RepairRunResponse { repair_id })
    }
}
