//! Jobs toolset: `list_jobs`, `get_job_runs`, `get_job`, `get_run`, `get_run_output`, and
//! (with writes) `run_job_now`, `cancel_run`, `repair_run`.

use databricks_client::services::jobs::Run;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use databricks_client::ErrorKind;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};
use crate::tools::runs;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListJobsArgs {
    /// Only jobs with exactly this name (case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs<25>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetJobRunsArgs {
    /// The job's numeric id (from list_jobs).
    pub job_id: i64,
    #[serde(flatten)]
    pub page: PageArgs<10, 25>,
}

const LIST_JOBS: ListSpec = ListSpec {
    tool: "list_jobs",
    key: "jobs",
    columns: &["job_id", "name", "schedule", "creator", "created"],
    item: "Jobs: job_id, name, description, schedule, tags, creator_user_name, created_time (ms).",
    fields: &[],
};

const GET_JOB_RUNS: ListSpec = ListSpec {
    tool: "get_job_runs",
    key: "runs",
    columns: &[
        "run_id",
        "state",
        "result",
        "started",
        "duration_s",
        "message",
    ],
    item: "Runs, newest first: run_id, job_id, run_name, state, result_state, trigger, start_time, end_time, run_duration_ms, run_page_url, status.",
    fields: &[Field {
        name: "job_id",
        json_type: "integer",
        description: "The job whose runs these are.",
    }],
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobIdArgs {
    /// The job's numeric id (from list_jobs).
    pub job_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIdArgs {
    /// The run's numeric id (from get_job_runs).
    pub run_id: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunOutputArgs {
    /// The run's numeric id (from get_job_runs).
    pub run_id: i64,
    /// Only this task of a multi-task run (default: every task, failed ones first).
    #[serde(default)]
    pub task_key: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunJobNowArgs {
    /// The job's numeric id (from list_jobs).
    pub job_id: i64,
    /// Job parameters for this run, by name (others keep their defaults).
    #[serde(default)]
    pub job_parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairRunArgs {
    /// The finished run to repair.
    pub run_id: i64,
    /// Re-run only the failed and cancelled tasks (default true); false re-runs every task.
    #[serde(default)]
    pub rerun_failed_only: Option<bool>,
}

const WRITE: ToolKind = ToolKind::Action {
    destructive: false,
    idempotent: false,
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            "get_job",
            "Get job",
            "A job's settings: tasks and what they run, schedule, parameters, and its recent runs.",
            Toolset::Jobs,
            ToolKind::ReadGet,
            get_job,
        ),
        ToolDef::new(
            "get_run",
            "Get run",
            "A job run's state, result, timings, parameters and cluster, with each task run and its state. For errors and logs, get_run_output.",
            Toolset::Jobs,
            ToolKind::ReadGet,
            get_run,
        ),
        ToolDef::new(
            "get_run_output",
            "Get run output",
            "Why a run failed or what it produced: each task's error, the end of its error trace and logs, notebook exit value or SQL output (failed tasks first).",
            Toolset::Jobs,
            ToolKind::ReadGet,
            get_run_output,
        ),
        ToolDef::new(
            "run_job_now",
            "Run job now",
            "Start a run of a job now, optionally with job parameters; answers the run_id (follow it with get_run).",
            Toolset::Jobs,
            WRITE,
            run_job_now,
        ),
        ToolDef::new(
            "cancel_run",
            "Cancel run",
            "Cancel a running job run (its tasks stop; the run ends CANCELED).",
            Toolset::Jobs,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            cancel_run,
        ),
        ToolDef::new(
            "repair_run",
            "Repair run",
            "Re-run the failed tasks of a finished job run (or all its tasks), in the same run.",
            Toolset::Jobs,
            WRITE,
            repair_run,
        ),
        ToolDef::list(
            &LIST_JOBS,
            "List jobs",
            "List the Lakeflow (Databricks) jobs of the workspace with id, name, schedule and creator. Use get_job_runs with a job_id to see its recent runs and whether they succeeded.",
            Toolset::Jobs,
            list_jobs,
        ),
        ToolDef::list(
            &GET_JOB_RUNS,
            "Get job runs",
            "List the most recent runs of one job (newest first) with state, result, start time, duration and a link to the run page. Use it to check whether a job succeeded or why it failed.",
            Toolset::Jobs,
            get_job_runs,
        ),
    ]
}

async fn list_jobs(ctx: CallContext, args: ListJobsArgs) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_jobs(args.page.size(), args.page.cursor(), args.name.as_deref())
        .await
        .map_err(|e| ToolError::upstream("Listing jobs", e))?;
    let rows = page.items.iter().map(|j| {
        let settings = j.settings.clone().unwrap_or_default();
        let schedule = settings.schedule.as_ref().and_then(|s| {
            s.quartz_cron_expression.as_ref().map(|c| {
                let paused = s.pause_status.as_deref() == Some("PAUSED");
                format!(
                    "{c} {}{}",
                    s.timezone_id.as_deref().unwrap_or(""),
                    if paused { " (paused)" } else { "" }
                )
                .trim()
                .to_string()
            })
        });
        vec![
            Some(j.job_id.to_string()),
            settings.name,
            schedule,
            j.creator_user_name.clone(),
            timestamp_ms(j.created_time),
        ]
    });
    let jobs = page
        .items
        .iter()
        .map(|j| {
            let s = j.settings.clone().unwrap_or_default();
            json!({
                "job_id": j.job_id,
                "name": s.name,
                "description": s.description,
                "schedule": s.schedule,
                "tags": s.tags,
                "creator_user_name": j.creator_user_name,
                "created_time": j.created_time,
            })
        })
        .collect();
    Ok(LIST_JOBS
        .page(rows, jobs, page.next_page_token)
        .answer(&ctx))
}

/// Why a run ended as it did: the new `status` first, the legacy `state` after.
pub(crate) fn run_message(run: &Run) -> Option<String> {
    run.status
        .as_ref()
        .and_then(|s| s.termination_details.as_ref())
        .and_then(|t| t.message.clone())
        .or_else(|| run.state.as_ref().and_then(|s| s.state_message.clone()))
        .filter(|m| !m.is_empty())
}

/// The state of a run in one word: the new `status` first, the legacy `state` after.
pub(crate) fn run_state(run: &Run) -> (Option<String>, Option<String>) {
    let status = run.status.as_ref();
    let legacy = run.state.as_ref();
    let state = status
        .and_then(|s| s.state.clone())
        .or_else(|| legacy.and_then(|s| s.life_cycle_state.clone()));
    let result = legacy.and_then(|s| s.result_state.clone()).or_else(|| {
        status
            .and_then(|s| s.termination_details.as_ref())
            .and_then(|t| t.code.clone())
    });
    (state, result)
}

async fn get_job_runs(ctx: CallContext, args: GetJobRunsArgs) -> Result<ToolOutput, ToolError> {
    if args.job_id <= 0 {
        return Err(ToolError::new(
            "job_id must be a positive job id (see list_jobs)",
        ));
    }
    let page = ctx
        .state
        .client
        .list_runs(Some(args.job_id), args.page.size(), args.page.cursor())
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing runs of job {}", args.job_id), e)
                .hint_for(
                    ErrorKind::NotFound,
                    "Call list_jobs to see the jobs that exist and their ids.",
                )
                .needs("CAN VIEW on the job")
        })?;
    let rows = page.items.iter().map(|r| {
        let (state, result) = run_state(r);
        let message = run_message(r);
        vec![
            Some(r.run_id.to_string()),
            state,
            result,
            timestamp_ms(r.start_time),
            r.run_duration
                .filter(|d| *d > 0)
                .map(|d| (d / 1000).to_string()),
            message.map(|m| render::clip(&m, 200)),
        ]
    });
    let summary = if page.items.is_empty() {
        format!("Job {} has no runs.", args.job_id)
    } else {
        format!(
            "{} runs of job {}, newest first.",
            page.items.len(),
            args.job_id
        )
    };
    let runs = page
        .items
        .iter()
        .map(|r| {
            let (state, result) = run_state(r);
            json!({
                "run_id": r.run_id,
                "job_id": r.job_id,
                "run_name": r.run_name,
                "state": state,
                "result_state": result,
                "trigger": r.trigger,
                "start_time": r.start_time,
                "end_time": r.end_time.filter(|t| *t > 0),
                "run_duration_ms": r.run_duration,
                "run_page_url": r.run_page_url,
                "status": r.status,
            })
        })
        .collect();
    Ok(GET_JOB_RUNS
        .page(rows, runs, page.next_page_token)
        .field("job_id", args.job_id)
        .summary(summary)
        .answer(&ctx))
}

fn job_id_valid(job_id: i64) -> Result<(), ToolError> {
    if job_id <= 0 {
        return Err(ToolError::new(
            "job_id must be a positive job id (see list_jobs)",
        ));
    }
    Ok(())
}

async fn read_job(
    ctx: &CallContext,
    job_id: i64,
) -> Result<databricks_client::services::jobs::Job, ToolError> {
    job_id_valid(job_id)?;
    ctx.state.client.get_job(job_id).await.map_err(|e| {
        // A missing job answers 400 INVALID_PARAMETER_VALUE ("Job 9 does not exist").
        ToolError::upstream(&format!("Reading job {job_id}"), e)
            .hint_for(
                ErrorKind::NotFound,
                "Call list_jobs to see the jobs and their ids.",
            )
            .hint_for(
                ErrorKind::BadRequest,
                "Call list_jobs to see the jobs and their ids.",
            )
            .needs("CAN VIEW on the job")
    })
}

async fn get_job(ctx: CallContext, args: JobIdArgs) -> Result<ToolOutput, ToolError> {
    let job = read_job(&ctx, args.job_id).await?;
    let text = runs::job_text(&ctx, args.job_id).await?;
    Ok(ToolOutput::new(text, json!(job)))
}

async fn get_run(ctx: CallContext, args: RunIdArgs) -> Result<ToolOutput, ToolError> {
    let run = runs::read_run(&ctx, args.run_id).await?;
    Ok(ToolOutput::new(runs::run_summary(&run), json!(run)))
}

async fn get_run_output(ctx: CallContext, args: RunOutputArgs) -> Result<ToolOutput, ToolError> {
    let run = runs::read_run(&ctx, args.run_id).await?;
    let (state, result) = run_state(&run);
    let (outputs_text, outputs) = runs::run_outputs(&ctx, &run, args.task_key.as_deref()).await?;
    let text = format!(
        "Run {}: {}{}{}",
        run.run_id,
        state.as_deref().unwrap_or("?"),
        result.map(|r| format!(" / {r}")).unwrap_or_default(),
        outputs_text
    );
    let text = render::clip(&text, ctx.state.settings.max_chars);
    Ok(ToolOutput::new(
        text,
        json!({"run_id": run.run_id, "outputs": outputs}),
    ))
}

/// "job 12 'nightly-etl'": the job named for a confirmation.
fn job_label(job: &databricks_client::services::jobs::Job) -> String {
    match job.settings.as_ref().and_then(|s| s.name.as_deref()) {
        Some(name) => format!("job {} '{name}'", job.job_id),
        None => format!("job {}", job.job_id),
    }
}

async fn run_job_now(ctx: CallContext, args: RunJobNowArgs) -> Result<ToolOutput, ToolError> {
    let job = read_job(&ctx, args.job_id).await?;
    let label = job_label(&job);
    let parameters = args
        .job_parameters
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| format!(" with parameters {}", serde_json::Value::Object(p.clone())))
        .unwrap_or_default();
    ctx.confirm(&label, &format!("Run {label} now{parameters}?"))
        .await?;
    let request = databricks_client::services::jobs::RunNowRequest {
        job_id: args.job_id,
        job_parameters: args.job_parameters.clone(),
        ..Default::default()
    };
    let started = ctx.state.client.run_job_now(&request).await.map_err(|e| {
        ToolError::upstream(&format!("Starting a run of {label}"), e)
            .needs("CAN MANAGE RUN on the job")
    })?;
    Ok(ToolOutput::new(
        format!(
            "Started run {} of {label}. Follow it with get_run (run_id {}); get_run_output shows its output when it ends.",
            started.run_id, started.run_id
        ),
        json!({"run_id": started.run_id, "job_id": args.job_id, "number_in_job": started.number_in_job}),
    ))
}

/// "run 5 of job 12 (RUNNING, started …)": the run named for a confirmation.
fn run_label(run: &Run) -> String {
    let (state, result) = run_state(run);
    let mut label = format!("run {}", run.run_id);
    if let Some(job) = run.job_id {
        let _ = std::fmt::Write::write_fmt(&mut label, format_args!(" of job {job}"));
    }
    if let Some(name) = &run.run_name {
        label.push_str(&format!(" '{name}'"));
    }
    let mut facts = vec![state.unwrap_or_else(|| "?".into())];
    if let Some(r) = result {
        facts.push(r);
    }
    if let Some(t) = timestamp_ms(run.start_time) {
        facts.push(format!("started {t}"));
    }
    format!("{label} ({})", facts.join(", "))
}

async fn cancel_run(ctx: CallContext, args: RunIdArgs) -> Result<ToolOutput, ToolError> {
    let run = runs::read_run(&ctx, args.run_id).await?;
    let label = run_label(&run);
    ctx.confirm(&format!("run {}", run.run_id), &format!("Cancel {label}?"))
        .await?;
    ctx.state
        .client
        .cancel_run(args.run_id)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Cancelling run {}", args.run_id), e)
                .needs("CAN MANAGE RUN on the job")
        })?;
    Ok(ToolOutput::new(
        format!(
            "Cancellation of run {} requested; it ends CANCELED within moments (check with get_run).",
            args.run_id
        ),
        json!({"run_id": args.run_id, "cancel_requested": true}),
    ))
}

async fn repair_run(ctx: CallContext, args: RepairRunArgs) -> Result<ToolOutput, ToolError> {
    let run = runs::read_run(&ctx, args.run_id).await?;
    let failed_only = args.rerun_failed_only.unwrap_or(true);
    let failed: Vec<String> = run
        .tasks
        .iter()
        .filter(|t| {
            t.get("state")
                .and_then(|s| s.get("result_state"))
                .and_then(serde_json::Value::as_str)
                .is_some_and(|r| r != "SUCCESS")
        })
        .filter_map(|t| t.get("task_key").and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect();
    let all: Vec<String> = run
        .tasks
        .iter()
        .filter_map(|t| t.get("task_key").and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect();
    if failed_only && failed.is_empty() && !all.is_empty() {
        return Err(ToolError::new(format!(
            "run {} has no failed or cancelled task to repair; pass rerun_failed_only: false to re-run every task",
            args.run_id
        )));
    }
    let label = run_label(&run);
    let keys = if failed_only { &failed } else { &all };
    let what = match (failed_only, keys) {
        (_, keys) if keys.is_empty() => "re-run it".to_string(),
        (true, keys) => format!("re-run its failed tasks ({})", keys.join(", ")),
        (false, keys) => format!("re-run all its tasks ({})", keys.join(", ")),
    };
    ctx.confirm(
        &format!("run {}", run.run_id),
        &format!("Repair {label}: {what}?"),
    )
    .await?;
    let request = databricks_client::services::jobs::RepairRunRequest {
        run_id: args.run_id,
        rerun_all_failed_tasks: failed_only.then_some(true),
        rerun_tasks: if failed_only { Vec::new() } else { all },
        ..Default::default()
    };
    let repaired = ctx.state.client.repair_run(&request).await.map_err(|e| {
        ToolError::upstream(&format!("Repairing run {}", args.run_id), e)
            .hint_for(
                ErrorKind::BadRequest,
                "Only a finished run can be repaired: check its state with get_run.",
            )
            .needs("CAN MANAGE RUN on the job")
    })?;
    Ok(ToolOutput::new(
        format!(
            "Repair {} of run {} started: {what}. Follow it with get_run.",
            repaired.repair_id, args.run_id
        ),
        json!({"run_id": args.run_id, "repair_id": repaired.repair_id}),
    ))
}
