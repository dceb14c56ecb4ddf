//! Jobs and runs as text for a person or a model: a job's settings and recent runs, a
//! run's summary and its tasks' outputs (errors, trace and log tails, exit values).
//! Shared by the jobs tools and the `databricks://jobs|runs/…` resources.

use std::fmt::Write as _;

use databricks_client::ErrorKind;
use databricks_client::services::jobs::{Run, RunOutput};
use serde_json::{Value, json};

use super::jobs::{run_message, run_state};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};

/// Recent runs shown with a job; task outputs read for a run.
const RECENT_RUNS: u32 = 5;
const TASK_OUTPUTS: usize = 5;
/// Lines kept of the end of an error trace or a log.
const TAIL_LINES: usize = 40;
/// Characters of a runs table.
const MAX_TEXT: usize = 20_000;

pub(crate) async fn job_text(ctx: &CallContext, job_id: i64) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let job = client.get_job(job_id).await.map_err(|e| {
        ToolError::upstream(&format!("Reading job {job_id}"), e).hint_for(
            ErrorKind::NotFound,
            "Call list_jobs to see the jobs and their ids.",
        )
    })?;
    let settings = job.settings.clone().unwrap_or_default();
    let mut text = format!(
        "Job {job_id}: {}",
        settings.name.as_deref().unwrap_or("(no name)")
    );
    if let Some(d) = settings.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = write!(text, "\nDescription: {d}");
    }
    if let Some(s) = &settings.schedule {
        let _ = write!(
            text,
            "\nSchedule: {} {}{}",
            s.quartz_cron_expression.as_deref().unwrap_or("?"),
            s.timezone_id.as_deref().unwrap_or(""),
            if s.pause_status.as_deref() == Some("PAUSED") {
                " (paused)"
            } else {
                ""
            }
        );
    }
    if let Some(creator) = &job.creator_user_name {
        let _ = write!(text, "\nCreator: {creator}");
    }
    if let Some(created) = timestamp_ms(job.created_time) {
        let _ = write!(text, ", created {created}");
    }
    if !settings.tasks.is_empty() {
        let tasks: Vec<String> = settings.tasks.iter().map(task_line).collect();
        let _ = write!(text, "\nTasks:\n{}", tasks.join("\n"));
    }
    match client.list_runs(Some(job_id), RECENT_RUNS, None).await {
        Ok(page) if page.items.is_empty() => text.push_str("\nNo runs yet."),
        Ok(page) => {
            let _ = write!(
                text,
                "\nRecent runs (newest first; each is databricks://runs/<run_id>):\n{}",
                runs_table(&page.items)
            );
        }
        Err(e) => {
            let _ = write!(text, "\nRecent runs could not be read: {e}");
        }
    }
    Ok(text)
}

/// One task of a job's settings: key, what it runs, what it depends on.
fn task_line(task: &Value) -> String {
    let key = task.get("task_key").and_then(Value::as_str).unwrap_or("?");
    let what = [
        ("notebook_task", "notebook_path"),
        ("spark_python_task", "python_file"),
        ("sql_task", "warehouse_id"),
        ("pipeline_task", "pipeline_id"),
        ("python_wheel_task", "entry_point"),
        ("run_job_task", "job_id"),
        ("dbt_task", "project_directory"),
    ]
    .iter()
    .find_map(|(kind, field)| {
        task.get(*kind).map(|t| {
            let detail = t.get(*field).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            format!("{kind} {}", detail.unwrap_or_default())
                .trim()
                .to_string()
        })
    })
    .unwrap_or_else(|| "task".into());
    let depends: Vec<&str> = task
        .get("depends_on")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("task_key").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if depends.is_empty() {
        format!("- {key}: {what}")
    } else {
        format!("- {key}: {what} (after {})", depends.join(", "))
    }
}

fn runs_table(runs: &[Run]) -> String {
    let rows = runs.iter().map(|r| {
        let (state, result) = run_state(r);
        vec![
            Some(r.run_id.to_string()),
            state,
            result,
            timestamp_ms(r.start_time),
            r.run_duration
                .filter(|d| *d > 0)
                .map(|d| (d / 1000).to_string()),
        ]
    });
    let header = ["run_id", "state", "result", "started", "duration_s"].map(String::from);
    render::table(&header, rows, MAX_TEXT).text
}

/// A run read for a person: the summary, then each task's output (failed tasks first).
pub(crate) async fn run_text(ctx: &CallContext, run_id: i64) -> Result<String, ToolError> {
    let run = read_run(ctx, run_id).await?;
    let mut text = run_summary(&run);
    text.push_str(&run_outputs(ctx, &run, None).await?.0);
    Ok(text)
}

pub(crate) async fn read_run(ctx: &CallContext, run_id: i64) -> Result<Run, ToolError> {
    if run_id <= 0 {
        return Err(ToolError::new(
            "run_id must be a positive run id (see get_job_runs)",
        ));
    }
    ctx.state.client.get_run(run_id).await.map_err(|e| {
        let hint = "Call get_job_runs with the job's id to see its runs (runs are kept 60 days).";
        ToolError::upstream(&format!("Reading run {run_id}"), e)
            .hint_for(ErrorKind::NotFound, hint)
            .hint_for(ErrorKind::BadRequest, hint)
    })
}

/// State, result, timings, parameters, cluster, and each task run with its state.
pub(crate) fn run_summary(run: &Run) -> String {
    let run_id = run.run_id;
    let (state, result) = run_state(run);
    let mut text = format!(
        "Run {run_id}{}: {}{}",
        run.job_id
            .map(|j| format!(" of job {j}"))
            .unwrap_or_default(),
        state.as_deref().unwrap_or("?"),
        result.map(|r| format!(" / {r}")).unwrap_or_default()
    );
    if let Some(name) = &run.run_name {
        let _ = write!(text, " ({name})");
    }
    if let Some(trigger) = &run.trigger {
        let _ = write!(text, "\nTrigger: {trigger}");
    }
    if let Some(started) = timestamp_ms(run.start_time) {
        let _ = write!(text, "\nStarted {started}");
        if let Some(ended) = timestamp_ms(run.end_time) {
            let _ = write!(text, ", ended {ended}");
        }
        if let Some(d) = run.run_duration.filter(|d| *d > 0) {
            let _ = write!(text, ", ran {} s", d / 1000);
        }
    }
    if let Some(m) = run_message(run) {
        let _ = write!(text, "\nMessage: {m}");
    }
    if let Some(parameters) = run.job_parameters.as_ref().filter(|p| !p.is_empty()) {
        let pairs: Vec<String> = parameters
            .iter()
            .map(|p| {
                format!(
                    "{}={}",
                    p.get("name").and_then(Value::as_str).unwrap_or("?"),
                    p.get("value")
                        .or_else(|| p.get("default"))
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .unwrap_or_default()
                )
            })
            .collect();
        let _ = write!(text, "\nParameters: {}", pairs.join(", "));
    }
    if let Some(cluster) = run
        .cluster_instance
        .as_ref()
        .and_then(|c| c.get("cluster_id"))
        .and_then(Value::as_str)
    {
        let _ = write!(text, "\nCluster: {cluster}");
    }
    if let Some(url) = &run.run_page_url {
        let _ = write!(text, "\nRun page: {url}");
    }
    if !run.tasks.is_empty() {
        let lines: Vec<String> = run.tasks.iter().map(task_state_line).collect();
        let _ = write!(text, "\nTasks:\n{}", lines.join("\n"));
    }
    text
}

/// The outputs of a run's task runs — of `task_key` only, when given — failed tasks
/// first, at most [`TASK_OUTPUTS`]; with the outputs as JSON.
pub(crate) async fn run_outputs(
    ctx: &CallContext,
    run: &Run,
    task_key: Option<&str>,
) -> Result<(String, Vec<Value>), ToolError> {
    let client = &ctx.state.client;
    // The output API takes task run ids: a single-task run's own id works, a
    // multi-task run's does not.
    let mut task_runs: Vec<(String, i64, bool)> = run
        .tasks
        .iter()
        .filter_map(|t| {
            let id = t.get("run_id").and_then(Value::as_i64)?;
            let key = t
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let failed = t
                .get("state")
                .and_then(|s| s.get("result_state"))
                .and_then(Value::as_str)
                .is_some_and(|r| r != "SUCCESS");
            Some((key, id, failed))
        })
        .collect();
    if let Some(wanted) = task_key {
        let keys: Vec<String> = task_runs.iter().map(|(k, _, _)| k.clone()).collect();
        task_runs.retain(|(k, _, _)| k == wanted);
        if task_runs.is_empty() {
            return Err(ToolError::new(format!(
                "run {} has no task {wanted:?}; its tasks: {}",
                run.run_id,
                if keys.is_empty() {
                    "none listed".into()
                } else {
                    keys.join(", ")
                }
            )));
        }
    }
    if task_runs.is_empty() {
        task_runs.push(("run".into(), run.run_id, true));
    }
    task_runs.sort_by_key(|(_, _, failed)| !failed);
    let mut text = String::new();
    let mut outputs = Vec::new();
    for (key, id, _) in task_runs.iter().take(TASK_OUTPUTS) {
        match client.get_run_output(*id).await {
            Ok(output) => {
                text.push_str(&output_text(key, *id, &output));
                outputs.push(json!({"task_key": key, "run_id": id, "output": output}));
            }
            Err(e) => {
                let _ = write!(
                    text,
                    "\n\nOutput of task {key} (run {id}) could not be read: {e}"
                );
            }
        }
    }
    if task_runs.len() > TASK_OUTPUTS {
        let _ = write!(
            text,
            "\n\n{} more task outputs: call get_run_output with their task_key.",
            task_runs.len() - TASK_OUTPUTS
        );
    }
    Ok((text, outputs))
}

fn task_state_line(task: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("?").to_string();
    let state = task.get("state");
    format!(
        "- {} (run {}): {} / {}",
        text(task.get("task_key")),
        task.get("run_id")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        text(state.and_then(|s| s.get("life_cycle_state"))),
        text(state.and_then(|s| s.get("result_state"))),
    )
}

fn output_text(key: &str, run_id: i64, output: &RunOutput) -> String {
    let mut text = format!("\n\nOutput of task {key} (run {run_id}):");
    let mut any = false;
    if let Some(e) = output.error.as_deref().filter(|e| !e.is_empty()) {
        let _ = write!(text, "\nError: {e}");
        any = true;
    }
    if let Some(trace) = output.error_trace.as_deref().filter(|e| !e.is_empty()) {
        let _ = write!(
            text,
            "\nTrace (end):\n{}",
            render::tail(trace, TAIL_LINES, 4000)
        );
        any = true;
    }
    if let Some(result) = output
        .notebook_output
        .as_ref()
        .and_then(|n| n.result.as_deref())
    {
        let _ = write!(
            text,
            "\nNotebook exit value: {}",
            render::clip(result, 4000)
        );
        any = true;
    }
    if let Some(logs) = output.logs.as_deref().filter(|l| !l.is_empty()) {
        // The end of a log says most about a failure.
        let _ = write!(
            text,
            "\nLogs (end):\n{}",
            render::tail(logs, TAIL_LINES, 4000)
        );
        if output.logs_truncated == Some(true) {
            text.push_str("\n(Databricks kept only the end of this log.)");
        }
        any = true;
    }
    if let Some(sql) = output.sql_output.as_ref() {
        let _ = write!(
            text,
            "\nSQL output: {}",
            render::clip(&sql.to_string(), 4000)
        );
        any = true;
    }
    if let Some(info) = output.info.as_deref().filter(|i| !i.is_empty()) {
        let _ = write!(text, "\nInfo: {info}");
        any = true;
    }
    if !any {
        text.push_str(" none recorded.");
    }
    text
}
