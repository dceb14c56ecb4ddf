//! MCP resources: workspace objects a client can attach to a conversation by URI,
//! without a warehouse. `resources/list` offers the catalogs and schemas as entry
//! points; the templates reach tables, notebooks, jobs, runs and statement results.
//!
//! The text is the compact form the tools answer with, bounded in size. A URI that
//! names nothing is "resource not found"; a URI that is not ours is invalid params.

use std::fmt::Write as _;

use base64::Engine as _;
use databricks_client::ErrorKind;
use databricks_client::services::jobs::{Run, RunOutput};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::{Value, json};

use crate::context::CallContext;
use crate::error::ToolError;
use crate::lookup::Kind;
use crate::render::{self, TextFormat, timestamp_ms};
use crate::tools::catalog::{describe_table, validate_name};

pub const SCHEME: &str = "databricks://";
/// Entries of one `resources/list` page.
const PAGE: usize = 100;
/// Catalogs whose schemas are listed (the rest are listed as catalogs only).
const CATALOGS_EXPANDED: usize = 50;
/// The longest resource text; longer ones are cut with a note.
const MAX_TEXT: usize = 100_000;
/// Recent runs shown with a job; task outputs read for a run.
const RECENT_RUNS: u32 = 5;
const TASK_OUTPUTS: usize = 5;

/// The templates, in the order clients show them.
pub fn templates() -> ListResourceTemplatesResult {
    let template = |uri: &str, name: &str, title: &str, description: &str| {
        ResourceTemplate::new(uri, name)
            .with_title(title)
            .with_description(description)
            .with_mime_type("text/plain")
    };
    ListResourceTemplatesResult::with_all_items(vec![
        template(
            "databricks://tables/{catalog}/{schema}/{table}",
            "table",
            "Table metadata",
            "A Unity Catalog table or view: columns with types, nullability and comments, table comment, format, owner, partitioning, last modified. Metadata only: no warehouse runs.",
        ),
        template(
            "databricks://catalogs/{catalog}",
            "catalog",
            "Catalog",
            "The schemas of a Unity Catalog catalog, with comments.",
        ),
        template(
            "databricks://schemas/{catalog}/{schema}",
            "schema",
            "Schema",
            "The tables and views of a schema, with type, format and comment.",
        ),
        template(
            "databricks://notebooks/{+path}",
            "notebook",
            "Notebook or folder",
            "The source of a workspace notebook or file (path without the leading slash, e.g. Users/me@example.com/etl); a folder lists its children.",
        ),
        template(
            "databricks://jobs/{job_id}",
            "job",
            "Job",
            "A Lakeflow job: settings, schedule, tasks and its most recent runs.",
        ),
        template(
            "databricks://runs/{run_id}",
            "run",
            "Job run",
            "A job run: state, tasks, and each task's output, error and trace.",
        ),
        template(
            "databricks://statements/{statement_id}",
            "statement",
            "SQL statement result",
            "A SQL statement's state and the first page of its result (while the result is kept, about an hour).",
        ),
    ])
}

/// One page of the entry points: every catalog, then the schemas of each (bounded).
pub async fn list(
    ctx: &CallContext,
    cursor: Option<&str>,
) -> Result<ListResourcesResult, McpError> {
    let offset = match cursor {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| {
            McpError::invalid_params(
                format!("invalid cursor {c:?}: pass the nextCursor of the previous page"),
                None,
            )
        })?,
    };
    let entries = entry_points(ctx).await.map_err(|e| to_mcp(e, None))?;
    let page: Vec<Resource> = entries.iter().skip(offset).take(PAGE).cloned().collect();
    let next = offset + page.len();
    let mut result = ListResourcesResult::with_all_items(page);
    result.next_cursor = (next < entries.len()).then(|| encode_cursor(next));
    Ok(result)
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("resources:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("resources:")?
        .parse()
        .ok()
}

async fn entry_points(ctx: &CallContext) -> Result<Vec<Resource>, ToolError> {
    let state = &ctx.state;
    let catalogs = state
        .lookup
        .names(&state.client, Kind::Catalogs, "")
        .await
        .map_err(|e| ToolError::upstream("Listing catalogs", e))?;
    let mut entries: Vec<Resource> = catalogs
        .iter()
        .map(|c| {
            text_resource(
                format!("{SCHEME}catalogs/{}", encode_segment(&c.value)),
                &c.value,
                format!("Catalog {}", c.value),
                "Its schemas.",
            )
        })
        .collect();
    for catalog in catalogs.iter().take(CATALOGS_EXPANDED) {
        // A catalog this identity cannot browse is listed without its schemas.
        let Ok(schemas) = state
            .lookup
            .names(&state.client, Kind::Schemas, &catalog.value)
            .await
        else {
            continue;
        };
        entries.extend(schemas.iter().map(|s| {
            let full = format!("{}.{}", catalog.value, s.value);
            text_resource(
                format!(
                    "{SCHEME}schemas/{}/{}",
                    encode_segment(&catalog.value),
                    encode_segment(&s.value)
                ),
                &full,
                format!("Schema {full}"),
                "Its tables and views.",
            )
        }));
    }
    Ok(entries)
}

fn text_resource(uri: String, name: &str, title: String, description: &str) -> Resource {
    Resource::new(uri, name)
        .with_title(title)
        .with_description(description)
        .with_mime_type("text/plain")
}

/// What a URI names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Catalog(String),
    Schema(String, String),
    Table(String, String, String),
    Notebook(String),
    Job(i64),
    Run(i64),
    Statement(String),
}

fn parse(uri: &str) -> Result<Target, String> {
    let rest = uri
        .strip_prefix(SCHEME)
        .ok_or_else(|| format!("{uri:?} is not a databricks:// resource URI"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (kind, path) = rest.split_once('/').unwrap_or((rest, ""));
    let segments: Vec<String> = path
        .split('/')
        .map(decode_segment)
        .collect::<Result<_, _>>()?;
    let name = |what: &str, s: &str| validate_name(what, s).map_err(|e| e.text());
    let id = |what: &str, s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{what} {s:?} is not a positive number"))
    };
    match (kind, segments.as_slice()) {
        ("catalogs", [c]) => Ok(Target::Catalog(name("catalog", c)?)),
        ("schemas", [c, s]) => Ok(Target::Schema(name("catalog", c)?, name("schema", s)?)),
        ("tables", [c, s, t]) => Ok(Target::Table(
            name("catalog", c)?,
            name("schema", s)?,
            name("table", t)?,
        )),
        ("notebooks", parts) if !parts.is_empty() => {
            if parts
                .iter()
                .any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\0'))
            {
                return Err(format!(
                    "{uri:?}: a notebook path has no empty, . or .. segments"
                ));
            }
            Ok(Target::Notebook(format!("/{}", parts.join("/"))))
        }
        ("jobs", [j]) => Ok(Target::Job(id("job_id", j)?)),
        ("runs", [r]) => Ok(Target::Run(id("run_id", r)?)),
        ("statements", [s]) => Ok(Target::Statement(s.clone())),
        _ => Err(format!(
            "{uri:?} matches no resource template of this server (resources/templates/list shows them)"
        )),
    }
}

/// Percent-decodes one path segment (RFC 3986); invalid escapes or UTF-8 are refused.
fn decode_segment(segment: &str) -> Result<String, String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in {segment:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{segment:?} is not UTF-8 once decoded"))
}

/// Percent-encodes what may not stand in a URI path segment.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@!$&'()*+,;=:".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `resources/read`.
pub async fn read(ctx: &CallContext, uri: &str) -> Result<ReadResourceResult, McpError> {
    let target = parse(uri).map_err(|m| McpError::invalid_params(m, Some(json!({"uri": uri}))))?;
    let (text, mime) = render_target(ctx, &target)
        .await
        .map_err(|e| to_mcp(e, Some(uri)))?;
    let text = if text.len() > MAX_TEXT {
        format!(
            "{}\n[cut at {MAX_TEXT} characters of {}]",
            render::clip(&text, MAX_TEXT),
            text.len()
        )
    } else {
        text
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(mime),
    ]))
}

/// A failed read: an object that does not exist is "resource not found" (rmcp answers
/// -32602 on 2026-07-28, -32002 before); bad input is invalid params; the rest internal.
fn to_mcp(e: ToolError, uri: Option<&str>) -> McpError {
    let data = uri.map(|u| json!({"uri": u}));
    match e.kind() {
        Some(ErrorKind::NotFound) => McpError::resource_not_found(e.text(), data),
        None => McpError::invalid_params(e.text(), data),
        Some(_) => McpError::internal_error(e.text(), data),
    }
}

async fn render_target(ctx: &CallContext, target: &Target) -> Result<(String, String), ToolError> {
    let plain = |text: String| (text, "text/plain".to_string());
    match target {
        Target::Table(c, s, t) => Ok(plain(describe_table(ctx, c, s, t).await?.text)),
        Target::Catalog(c) => Ok(plain(catalog_text(ctx, c).await?)),
        Target::Schema(c, s) => Ok(plain(schema_text(ctx, c, s).await?)),
        Target::Notebook(path) => notebook_text(ctx, path).await,
        Target::Job(id) => Ok(plain(job_text(ctx, *id).await?)),
        Target::Run(id) => Ok(plain(run_text(ctx, *id).await?)),
        Target::Statement(id) => {
            let page = crate::tools::sql::statement_page(
                ctx,
                id,
                0,
                ctx.state.settings.max_rows,
                TextFormat::Csv,
            )
            .await?;
            Ok(plain(page.text))
        }
    }
}

async fn catalog_text(ctx: &CallContext, catalog: &str) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let page = client
        .list_schemas(catalog, None, None)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing the schemas of catalog {catalog}"), e)
        })?;
    let rows = page
        .items
        .iter()
        .map(|s| vec![Some(s.name.clone()), s.comment.clone()]);
    let table = render::table(
        &["schema".to_string(), "comment".to_string()],
        rows,
        MAX_TEXT,
    );
    Ok(format!(
        "Catalog {catalog}: {} schemas{}.\n{}",
        page.items.len(),
        if page.next_page_token.is_some() {
            " (first page)"
        } else {
            ""
        },
        table.text
    ))
}

async fn schema_text(ctx: &CallContext, catalog: &str, schema: &str) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let page = client
        .list_tables(catalog, schema, None, None)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing the tables of {catalog}.{schema}"), e)
        })?;
    let rows = page.items.iter().map(|t| {
        vec![
            Some(t.name.clone()),
            t.table_type.clone(),
            t.data_source_format.clone(),
            t.comment.clone(),
        ]
    });
    let header = ["table", "type", "format", "comment"].map(String::from);
    let table = render::table(&header, rows, MAX_TEXT);
    Ok(format!(
        "Schema {catalog}.{schema}: {} tables and views{}. Each is databricks://tables/{}/{}/<table>.\n{}",
        page.items.len(),
        if page.next_page_token.is_some() {
            " (first page)"
        } else {
            ""
        },
        encode_segment(catalog),
        encode_segment(schema),
        table.text
    ))
}

async fn notebook_text(ctx: &CallContext, path: &str) -> Result<(String, String), ToolError> {
    let client = &ctx.state.client;
    let not_found = |e| {
        ToolError::upstream(&format!("Reading {path}"), e).hint_for(
            ErrorKind::NotFound,
            format!("{path} does not exist: call list_notebooks on its folder."),
        )
    };
    let status = client.workspace_status(path).await.map_err(not_found)?;
    if matches!(status.object_type.as_deref(), Some("DIRECTORY" | "REPO")) {
        let children = client.list_workspace(path).await.map_err(not_found)?;
        let rows = children.iter().map(|o| {
            vec![
                Some(o.path.clone()),
                o.object_type.clone(),
                o.language.clone(),
            ]
        });
        let header = ["path", "type", "language"].map(String::from);
        let table = render::table(&header, rows, MAX_TEXT);
        return Ok((
            format!("Folder {path}: {} objects.\n{}", children.len(), table.text),
            "text/plain".into(),
        ));
    }
    let bytes = client
        .export_workspace_source(path)
        .await
        .map_err(not_found)?;
    let mime = match status.language.as_deref() {
        Some("PYTHON") => "text/x-python",
        Some("SQL") => "application/sql",
        Some("SCALA") => "text/x-scala",
        Some("R") => "text/x-r",
        _ => "text/plain",
    };
    Ok((String::from_utf8_lossy(&bytes).into_owned(), mime.into()))
}

async fn job_text(ctx: &CallContext, job_id: i64) -> Result<String, ToolError> {
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
        let (state, result) = crate::tools::jobs::run_state(r);
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

async fn run_text(ctx: &CallContext, run_id: i64) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let run = client.get_run(run_id).await.map_err(|e| {
        ToolError::upstream(&format!("Reading run {run_id}"), e).hint_for(
            ErrorKind::NotFound,
            "Call get_job_runs with the job's id to see its runs (runs are kept 60 days).",
        )
    })?;
    let (state, result) = crate::tools::jobs::run_state(&run);
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
    if let Some(started) = timestamp_ms(run.start_time) {
        let _ = write!(text, "\nStarted {started}");
        if let Some(d) = run.run_duration.filter(|d| *d > 0) {
            let _ = write!(text, ", ran {} s", d / 1000);
        }
    }
    if let Some(m) = crate::tools::jobs::run_message(&run) {
        let _ = write!(text, "\nMessage: {m}");
    }
    if let Some(url) = &run.run_page_url {
        let _ = write!(text, "\nRun page: {url}");
    }
    // The output API takes task run ids: a single-task run's own id works, a
    // multi-task run's does not. Failed tasks first, as a diagnosis needs them.
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
    if task_runs.len() > 1 {
        let lines: Vec<String> = run.tasks.iter().map(task_state_line).collect();
        let _ = write!(text, "\nTasks:\n{}", lines.join("\n"));
    }
    if task_runs.is_empty() {
        task_runs.push(("run".into(), run_id, true));
    }
    task_runs.sort_by_key(|(_, _, failed)| !failed);
    for (key, id, _) in task_runs.iter().take(TASK_OUTPUTS) {
        match client.get_run_output(*id).await {
            Ok(output) => text.push_str(&output_text(key, *id, &output)),
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
            "\n\n{} more task outputs: read databricks://runs/<task run_id>.",
            task_runs.len() - TASK_OUTPUTS
        );
    }
    Ok(text)
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
        let _ = write!(text, "\nTrace:\n{}", render::clip(trace, 4000));
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
        let tail: String = logs
            .chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let _ = write!(
            text,
            "\nLogs (last {} characters):\n{tail}",
            tail.chars().count()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_to_targets() {
        assert_eq!(
            parse("databricks://tables/samples/tpch/nation"),
            Ok(Target::Table(
                "samples".into(),
                "tpch".into(),
                "nation".into()
            ))
        );
        assert_eq!(
            parse("databricks://notebooks/Users/me%40example.com/my%20etl"),
            Ok(Target::Notebook("/Users/me@example.com/my etl".into()))
        );
        assert_eq!(parse("databricks://jobs/42"), Ok(Target::Job(42)));
        assert_eq!(
            parse("databricks://catalogs/main"),
            Ok(Target::Catalog("main".into()))
        );
        assert!(parse("databricks://jobs/-1").is_err());
        assert!(parse("databricks://tables/a/b").is_err());
        assert!(parse("databricks://notebooks/Users/../etc").is_err());
        assert!(parse("databricks://notebooks/").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("databricks://tables/a/b/c%ZZ").is_err());
        assert!(parse("databricks://tables/a/b/x`; DROP").is_err());
    }

    #[test]
    fn segments_round_trip() {
        for s in ["plain", "with space", "me@example.com", "a/b", "ü"] {
            assert_eq!(decode_segment(&encode_segment(s)).as_deref(), Ok(s));
        }
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(200)), Some(200));
        assert_eq!(decode_cursor("nonsense"), None);
    }
}
