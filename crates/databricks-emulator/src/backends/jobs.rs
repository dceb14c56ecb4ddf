//! Jobs (REFERENCE §4) as fixture data: the [`Jobs`] backend the shared workspace server
//! routes to. The jobs are the fixture's plus synthesised ones (and those created since
//! the emulator started); runs are stateful: `run-now` creates runs that progress
//! PENDING → RUNNING → RUNNING → TERMINATED/SUCCESS as clients read them, a cancel
//! terminates them, and a repair puts a finished run's chosen tasks through the same
//! progression again.

use std::collections::HashMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, FoundRun, Jobs, async_trait};
use databricks_api::jobs::{
    Job, JobSettings, JobsPage, RepairRunRequest, RepairRunResponse, Run, RunNowRequest,
    RunNowResponse, RunOutput, RunState, RunStatus, RunsPage, TerminationDetails, is_finished,
    is_unsuccessful, record_repair, run_not_found,
};
use serde_json::{Value, json};

use crate::fixtures::fixture_as;
use crate::util::{lock, now_ms, set};

const USER: &str = "alice@example.com";

/// Number of jobs in `jobs_list.json`.
pub(crate) fn fixture_job_count() -> usize {
    fixture_as::<JobsPage>("jobs_list.json").jobs.len()
}

pub(crate) struct FixtureJobs {
    base_url: String,
    state: Mutex<State>,
}

struct State {
    /// Jobs as jobs/get returns them, in listing order.
    jobs: Vec<Job>,
    /// Newest first, tasks included.
    runs: Vec<Run>,
    /// Task runs a repair replaced, with the job run they belong to: still readable.
    earlier_attempts: Vec<(i64, Value)>,
    /// run_id → number of client reads so far, for runs created by run-now or repaired.
    progress: HashMap<i64, u32>,
    idempotency: HashMap<String, i64>,
    next_run_id: i64,
    next_task_run_id: i64,
    next_repair_id: i64,
}

/// The `run_id` of a task run.
fn run_id_of(task: &Value) -> i64 {
    task.get("run_id")
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

fn task_key(task: &Value) -> &str {
    task.get("task_key")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A listed job as jobs/get shows it: with its owner and one notebook task.
fn with_task(i: usize, mut job: Job) -> Job {
    job.run_as_user_name = Some(job.creator_user_name.clone().unwrap_or(USER.into()));
    if let Some(settings) = &mut job.settings {
        settings.tasks = vec![json!({
            "task_key": "main",
            "notebook_task": {
                "notebook_path": format!("/Workspace/Users/{USER}/job-{i}"),
                "source": "WORKSPACE"
            },
            "existing_cluster_id": "0923-164208-meows279",
            "timeout_seconds": 0,
            "run_if": "ALL_SUCCESS"
        })];
    }
    job
}

impl FixtureJobs {
    /// `count` jobs: the fixture's first (`jobs_get.json` for the one it details), then
    /// synthesised ones.
    pub fn new(count: usize, base_url: String) -> FixtureJobs {
        let listed: JobsPage = fixture_as("jobs_list.json");
        let detailed: Job = fixture_as("jobs_get.json");
        let jobs = (0..count)
            .map(|i| match listed.jobs.get(i) {
                Some(job) if job.job_id == detailed.job_id => detailed.clone(),
                Some(job) => with_task(i, job.clone()),
                None => with_task(
                    i,
                    Job {
                        job_id: 1000 + i as i64,
                        creator_user_name: Some(USER.into()),
                        created_time: Some(1_701_370_337_343 + i as i64 * 1000),
                        settings: Some(JobSettings {
                            name: Some(format!("job-{i}")),
                            format: Some("MULTI_TASK".into()),
                            max_concurrent_runs: Some(1),
                            timeout_seconds: Some(0),
                            email_notifications: Some(json!({})),
                            ..JobSettings::default()
                        }),
                        ..Job::default()
                    },
                ),
            })
            .collect();
        let detailed: Run = fixture_as("runs_get.json");
        let mut runs = fixture_as::<RunsPage>("runs_list.json").runs;
        for r in runs.iter_mut().filter(|r| r.run_id == detailed.run_id) {
            *r = detailed.clone();
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

/// A run's `state` and `status`; a terminated one's status says how it ended (`code`, `type`).
fn state_and_status(life: &str, result: Option<&str>, message: &str) -> (RunState, RunStatus) {
    let ended = match (life, result) {
        ("TERMINATED", Some("SUCCESS")) => Some(("SUCCESS", "SUCCESS")),
        ("TERMINATED", Some("CANCELED")) => Some(("USER_CANCELED", "SUCCESS")),
        ("TERMINATED", Some(_)) => Some(("RUN_EXECUTION_ERROR", "CLIENT_ERROR")),
        _ => None,
    };
    let state = RunState {
        life_cycle_state: Some(life.into()),
        result_state: result.map(Into::into),
        state_message: Some(message.into()),
        user_cancelled_or_timedout: Some(result == Some("CANCELED")),
        queue_reason: None,
    };
    let status = RunStatus {
        state: Some(life.into()),
        termination_details: ended.map(|(code, type_)| TerminationDetails {
            code: Some(code.into()),
            type_: Some(type_.into()),
            message: Some(message.into()),
        }),
    };
    (state, status)
}

fn set_state(run: &mut Run, life: &str, result: Option<&str>, message: &str) {
    let (state, status) = state_and_status(life, result, message);
    let terminated = life == "TERMINATED";
    let now = now_ms();
    if terminated {
        run.end_time = Some(now);
        run.run_duration = Some(now - run.start_time.unwrap_or(now));
    }
    // Tasks that already finished keep their outcome (a repair re-runs some only).
    for t in run.tasks.iter_mut().filter(|t| !is_finished(t)) {
        set(t, json!({ "state": state, "status": status }));
        if terminated {
            set(t, json!({ "end_time": now }));
        }
    }
    (run.state, run.status) = (Some(state), Some(status));
    if !terminated {
        return;
    }
    // A terminated run fails when one of its tasks did (after a repair that left a failed
    // task alone, say), and its latest repair records how it ended.
    if result != Some("CANCELED") && run.tasks.iter().any(is_unsuccessful) {
        let message = "A task of this run did not succeed.";
        let (state, status) = state_and_status(life, Some("FAILED"), message);
        (run.state, run.status) = (Some(state), Some(status));
    }
    let ended = json!({ "state": run.state, "status": run.status, "end_time": run.end_time });
    if let Some(last) = run
        .repair_history
        .last_mut()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("REPAIR"))
    {
        set(last, ended);
    }
}

/// The index of job run `id`, or of the job run holding task run `id` (its current
/// attempt or one a repair replaced) and the task.
fn find_run(state: &State, id: i64) -> Option<(usize, Option<Value>)> {
    let runs = &state.runs;
    if let Some(i) = runs.iter().position(|r| r.run_id == id) {
        return Some((i, None));
    }
    let current = runs.iter().enumerate().find_map(|(i, r)| {
        let task = r.tasks.iter().find(|t| run_id_of(t) == id)?;
        Some((i, Some(task.clone())))
    });
    current.or_else(|| {
        let (parent, task) = state
            .earlier_attempts
            .iter()
            .find(|(_, t)| run_id_of(t) == id)?;
        let i = runs.iter().position(|r| r.run_id == *parent)?;
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
        let Some(run) = self.runs.get_mut(i).filter(|r| !r.is_finished()) else {
            return;
        };
        match step {
            1 => set_state(run, "RUNNING", None, "In run"),
            2 => {}
            _ => set_state(run, "TERMINATED", Some("SUCCESS"), ""),
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
            if !only.is_empty() && !only.iter().any(|k| k == task_key(t)) {
                continue;
            }
            let mut task = t.clone();
            let task_run_id = self.next_task_run_id;
            self.next_task_run_id += 1;
            let url = url(task_run_id);
            let run = json!({"run_id": task_run_id, "attempt_number": 0, "start_time": now});
            set(&mut task, run);
            set(&mut task, json!({ "run_page_url": url }));
            tasks.push(task);
        }
        tasks
    }
}

#[async_trait]
impl Jobs for FixtureJobs {
    async fn jobs(&self) -> Answer<Vec<Job>> {
        let jobs = lock(&self.state).jobs.clone();
        Ok(jobs)
    }

    async fn job(&self, id: i64) -> Answer<Option<Job>> {
        let job = lock(&self.state)
            .jobs
            .iter()
            .find(|j| j.job_id == id)
            .cloned();
        Ok(job)
    }

    async fn create_job(&self, settings: &JobSettings) -> Answer<i64> {
        let mut state = lock(&self.state);
        let id = state.jobs.iter().map(|j| j.job_id).max().unwrap_or(0) + 1;
        state.jobs.push(Job {
            job_id: id,
            creator_user_name: Some(USER.into()),
            run_as_user_name: Some(USER.into()),
            created_time: Some(now_ms()),
            settings: Some(settings.clone()),
            ..Job::default()
        });
        Ok(id)
    }

    async fn delete_job(&self, id: i64) -> Answer<()> {
        lock(&self.state).jobs.retain(|j| j.job_id != id);
        Ok(())
    }

    async fn run_now(&self, job: &Job, request: &RunNowRequest) -> Answer<RunNowResponse> {
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
        let mut run = Run {
            job_id: Some(job_id),
            run_id,
            number_in_job: Some(run_id),
            original_attempt_run_id: Some(run_id),
            creator_user_name: Some(USER.into()),
            run_name: Some(name.unwrap_or_default()),
            run_type: Some("JOB_RUN".into()),
            trigger: Some("ONE_TIME".into()),
            attempt_number: Some(0),
            start_time: Some(now),
            setup_duration: Some(0),
            execution_duration: Some(0),
            cleanup_duration: Some(0),
            end_time: Some(0),
            run_duration: Some(0),
            queue_duration: Some(0),
            run_page_url: Some(self.page_url(job_id, run_id)),
            tasks,
            job_parameters: (!params.is_empty()).then_some(params),
            ..Run::default()
        };
        set_state(&mut run, "PENDING", None, "Waiting for cluster");
        state.runs.insert(0, run);
        state.progress.insert(run_id, 0);
        if let Some(token) = &request.idempotency_token {
            state.idempotency.insert(token.clone(), run_id);
        }
        Ok(RunNowResponse {
            run_id,
            number_in_job: Some(run_id),
        })
    }

    async fn runs(&self) -> Answer<Vec<Run>> {
        let runs = lock(&self.state).runs.clone();
        Ok(runs)
    }

    async fn run(&self, id: i64, read: bool) -> Answer<Option<FoundRun>> {
        let found = {
            let mut state = lock(&self.state);
            find_run(&state, id).and_then(|(i, task)| {
                let run = state.runs.get(i).cloned()?;
                if read && task.is_none() {
                    state.advance(i, id);
                }
                Some(match task {
                    None => FoundRun::Job(run),
                    Some(task) => FoundRun::Task { parent: run, task },
                })
            })
        };
        Ok(found)
    }

    /// The failed task of the fixture has the fixture's output; a task run that succeeded
    /// has the notebook output of the success fixture; others have none yet.
    async fn run_output(&self, task_run_id: i64) -> Answer<RunOutput> {
        let succeeded = {
            let state = lock(&self.state);
            find_run(&state, task_run_id).is_some_and(|(i, task)| {
                let result = match &task {
                    Some(task) => task.pointer("/state/result_state").and_then(Value::as_str),
                    None => state
                        .runs
                        .get(i)
                        .and_then(|r| r.state.as_ref()?.result_state.as_deref()),
                };
                result == Some("SUCCESS")
            })
        };
        let failed: RunOutput = fixture_as("runs_get_output.json");
        let mut output = if failed.metadata.as_ref().map(|m| m.run_id) == Some(task_run_id) {
            failed
        } else if succeeded {
            fixture_as("runs_get_output_notebook_success.json")
        } else {
            RunOutput::default()
        };
        output.metadata = None;
        Ok(output)
    }

    async fn cancel_run(&self, id: i64) -> Answer<()> {
        let mut state = lock(&self.state);
        if let Some(run) = state.runs.iter_mut().find(|r| r.run_id == id) {
            set_state(run, "TERMINATED", Some("CANCELED"), "Run cancelled.");
        }
        Ok(())
    }

    /// The re-run tasks get new task run ids and go through the run-now progression again.
    async fn repair_run(
        &self,
        request: &RepairRunRequest,
        keys: &[String],
    ) -> Answer<RepairRunResponse> {
        let id = request.run_id;
        let mut state = lock(&self.state);
        let repair_id = state.next_repair_id;
        state.next_repair_id += 1;
        let now = now_ms();
        let first_task_run = state.next_task_run_id;
        state.next_task_run_id += i64::try_from(keys.len()).unwrap_or(0);
        let run = state
            .runs
            .iter_mut()
            .find(|r| r.run_id == id)
            .ok_or_else(|| run_not_found(id))?;
        let original = json!({
            "type": "ORIGINAL",
            "start_time": run.start_time.unwrap_or(0),
            "end_time": run.end_time.unwrap_or(0),
            "state": run.state,
            "status": run.status,
            "task_run_ids": run.tasks.iter().map(run_id_of).collect::<Vec<_>>(),
        });
        let mut next = first_task_run;
        let job_id = run.job_id.unwrap_or_default();
        let mut replaced = Vec::new();
        for t in run
            .tasks
            .iter_mut()
            .filter(|t| keys.iter().any(|k| k == task_key(t)))
        {
            replaced.push((id, t.clone()));
            let attempt = t.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
            let attempt = json!({"run_id": next, "attempt_number": attempt + 1, "start_time": now});
            set(t, attempt);
            // Not finished any more: the run's progression moves it again.
            let state = json!({"life_cycle_state": "PENDING"});
            let url = self.page_url(job_id, next);
            set(
                t,
                json!({ "end_time": 0, "run_page_url": url, "state": state }),
            );
            next += 1;
        }
        record_repair(
            &mut run.repair_history,
            original,
            repair_id,
            now,
            (first_task_run..next).collect(),
        );
        run.end_time = Some(0);
        set_state(run, "PENDING", None, "Waiting for cluster");
        state.progress.insert(id, 0);
        state.earlier_attempts.extend(replaced);
        Ok(RepairRunResponse { repair_id })
    }
}
