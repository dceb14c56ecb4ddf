//! Jobs toolset: `list_jobs`, `get_job_runs`.

use databricks_client::services::jobs::Run;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use databricks_client::ErrorKind;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};

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

pub fn tools() -> Vec<ToolDef> {
    vec![
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
