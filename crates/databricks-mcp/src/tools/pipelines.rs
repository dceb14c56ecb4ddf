//! Pipelines toolset (Lakeflow Declarative Pipelines, formerly Delta Live Tables):
//! `list_delta_pipelines`, `get_pipeline`, `get_pipeline_events`, and (with writes)
//! `start_pipeline_update`, `stop_pipeline`.

use std::fmt::Write as _;

use databricks_client::ErrorKind;
use databricks_client::services::pipelines::PipelineEvent;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPipelinesArgs {
    /// Only pipelines whose name matches this SQL LIKE pattern, e.g. "%orders%".
    #[serde(default)]
    pub name_like: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs<25>,
}

const LIST_PIPELINES: ListSpec = ListSpec {
    tool: "list_delta_pipelines",
    key: "pipelines",
    columns: &[
        "pipeline_id",
        "name",
        "state",
        "health",
        "latest_update",
        "creator",
    ],
    item: "Pipelines as the Pipelines API describes them.",
    fields: &[],
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineIdArgs {
    /// The pipeline's id (from list_delta_pipelines).
    pub pipeline_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineEventsArgs {
    /// The pipeline's id (from list_delta_pipelines).
    pub pipeline_id: String,
    /// Only events of this level or worse: ERROR, WARN (errors and warnings) or INFO (all).
    #[serde(default)]
    pub level: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs<25, 100>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartUpdateArgs {
    /// The pipeline's id (from list_delta_pipelines).
    pub pipeline_id: String,
    /// Recompute every table from scratch (default false: only new data).
    #[serde(default)]
    pub full_refresh: Option<bool>,
}

const PIPELINE_EVENTS: ListSpec = ListSpec {
    tool: "get_pipeline_events",
    key: "events",
    columns: &["time", "level", "type", "flow", "message"],
    item: "Pipeline events, newest first: id, timestamp, level, event_type, message, origin (update_id, flow_name, dataset_name), error (exceptions).",
    fields: &[Field {
        name: "pipeline_id",
        json_type: "string",
        description: "The pipeline whose events these are.",
    }],
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_PIPELINES,
            "List Delta Live Tables pipelines",
            "List the Lakeflow Declarative (Delta Live Tables) pipelines with id, name, state, health and latest update's state: whether pipelines are healthy or failing.",
            Toolset::Pipelines,
            list_delta_pipelines,
        ),
        ToolDef::new(
            "get_pipeline",
            "Get pipeline",
            "A pipeline's spec in brief (catalog, schema, source libraries, mode) and its latest updates with their state.",
            Toolset::Pipelines,
            ToolKind::ReadGet,
            get_pipeline,
        ),
        ToolDef::list(
            &PIPELINE_EVENTS,
            "Get pipeline events",
            "A pipeline's event log, newest first; level ERROR or WARN shows why it fails, with the error's message and the flow it came from.",
            Toolset::Pipelines,
            get_pipeline_events,
        ),
        ToolDef::new(
            "start_pipeline_update",
            "Start pipeline update",
            "Start an update of a pipeline (optionally a full refresh, which recomputes every table); answers the update_id.",
            Toolset::Pipelines,
            ToolKind::Action {
                destructive: false,
                idempotent: false,
            },
            start_pipeline_update,
        ),
        ToolDef::new(
            "stop_pipeline",
            "Stop pipeline",
            "Stop a pipeline's running update (its tables keep what the update wrote so far).",
            Toolset::Pipelines,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            stop_pipeline,
        ),
    ]
}

async fn read_pipeline(ctx: &CallContext, id: &str) -> Result<Value, ToolError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ToolError::new(
            "pipeline_id is empty: see list_delta_pipelines",
        ));
    }
    ctx.state.client.get_pipeline(id).await.map_err(|e| {
        ToolError::upstream(&format!("Reading pipeline {id}"), e).hint_for(
            ErrorKind::NotFound,
            "Call list_delta_pipelines to see the pipelines and their ids.",
        )
    })
}

fn text_of<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// "pipeline 1234… 'sales' (RUNNING)": named for a confirmation.
fn pipeline_label(p: &Value, id: &str) -> String {
    format!(
        "pipeline {id} '{}' ({})",
        text_of(p, "/name").unwrap_or(""),
        text_of(p, "/state").unwrap_or("?")
    )
}

async fn get_pipeline(ctx: CallContext, args: PipelineIdArgs) -> Result<ToolOutput, ToolError> {
    let p = read_pipeline(&ctx, &args.pipeline_id).await?;
    let mut text = format!(
        "Pipeline {} '{}': {}",
        args.pipeline_id.trim(),
        text_of(&p, "/name").unwrap_or(""),
        text_of(&p, "/state").unwrap_or("?")
    );
    if let Some(h) = text_of(&p, "/health") {
        let _ = write!(text, ", {h}");
    }
    if let Some(c) = text_of(&p, "/cause").filter(|c| !c.is_empty()) {
        let _ = write!(text, "\nCause: {c}");
    }
    let spec = p.get("spec").cloned().unwrap_or_default();
    let target = [
        text_of(&spec, "/catalog"),
        text_of(&spec, "/schema").or(text_of(&spec, "/target")),
    ];
    if let [Some(catalog), Some(schema)] = target {
        let _ = write!(text, "\nPublishes to: {catalog}.{schema}");
    }
    let mode: Vec<&str> = [
        (spec.get("continuous").and_then(Value::as_bool) == Some(true)).then_some("continuous"),
        (spec.get("development").and_then(Value::as_bool) == Some(true)).then_some("development"),
        (spec.get("serverless").and_then(Value::as_bool) == Some(true)).then_some("serverless"),
        text_of(&spec, "/edition"),
        text_of(&spec, "/channel"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !mode.is_empty() {
        let _ = write!(text, "\nMode: {}", mode.join(", "));
    }
    if let Some(libraries) = spec.get("libraries").and_then(Value::as_array) {
        let sources: Vec<String> = libraries
            .iter()
            .filter_map(|l| {
                ["/notebook/path", "/file/path", "/glob/include"]
                    .iter()
                    .find_map(|ptr| l.pointer(ptr).and_then(Value::as_str))
                    .map(str::to_string)
            })
            .collect();
        if !sources.is_empty() {
            let _ = write!(text, "\nSources: {}", sources.join(", "));
        }
    }
    for (label, ptr) in [
        ("Creator", "/creator_user_name"),
        ("Runs as", "/run_as_user_name"),
        ("Cluster", "/cluster_id"),
    ] {
        if let Some(v) = text_of(&p, ptr) {
            let _ = write!(text, "\n{label}: {v}");
        }
    }
    if let Some(updates) = p
        .get("latest_updates")
        .and_then(Value::as_array)
        .filter(|u| !u.is_empty())
    {
        text.push_str("\nLatest updates:");
        for u in updates.iter().take(10) {
            let _ = write!(
                text,
                "\n- {} {} ({})",
                text_of(u, "/update_id").unwrap_or("?"),
                text_of(u, "/state").unwrap_or("?"),
                text_of(u, "/creation_time").unwrap_or("")
            );
        }
        text.push_str("\nget_pipeline_events with level ERROR shows why an update failed.");
    }
    Ok(ToolOutput::new(text, p))
}

/// The event log filter for `level`: that level and worse.
fn level_filter(level: Option<&str>) -> Result<Option<&'static str>, ToolError> {
    match level.map(|l| l.trim().to_ascii_uppercase()) {
        None => Ok(None),
        Some(l) if l.is_empty() || l == "INFO" => Ok(None),
        Some(l) if l == "ERROR" => Ok(Some("level='ERROR'")),
        Some(l) if l == "WARN" || l == "WARNING" => Ok(Some("level in ('ERROR','WARN')")),
        Some(other) => Err(ToolError::new(format!(
            "level must be ERROR, WARN or INFO, not {other:?}"
        ))),
    }
}

fn event_error(e: &PipelineEvent) -> Option<String> {
    let exceptions = &e.error.as_ref()?.exceptions;
    let parts: Vec<String> = exceptions
        .iter()
        .map(|x| {
            format!(
                "{}: {}",
                x.class_name.as_deref().unwrap_or("error"),
                x.message.as_deref().unwrap_or("")
            )
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" | "))
}

async fn get_pipeline_events(
    ctx: CallContext,
    args: PipelineEventsArgs,
) -> Result<ToolOutput, ToolError> {
    let id = args.pipeline_id.trim().to_string();
    if id.is_empty() {
        return Err(ToolError::new(
            "pipeline_id is empty: see list_delta_pipelines",
        ));
    }
    let filter = level_filter(args.level.as_deref())?;
    let page = ctx
        .state
        .client
        .pipeline_events(&id, args.page.size(), filter, args.page.cursor())
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Reading the events of pipeline {id}"), e).hint_for(
                ErrorKind::NotFound,
                "Call list_delta_pipelines to see the pipelines and their ids.",
            )
        })?;
    let rows = page.items.iter().map(|e| {
        let origin = e.origin.as_ref();
        let flow = origin
            .and_then(|o| o.get("flow_name").or_else(|| o.get("dataset_name")))
            .and_then(Value::as_str)
            .map(str::to_string);
        let message = match (e.message.as_deref(), event_error(e)) {
            (Some(m), Some(err)) => format!("{m} — {err}"),
            (Some(m), None) => m.to_string(),
            (None, Some(err)) => err,
            (None, None) => String::new(),
        };
        vec![
            e.timestamp.clone(),
            e.level.clone(),
            e.event_type.clone(),
            flow,
            Some(render::clip(&message, 600)),
        ]
    });
    let summary = match (&filter, page.items.is_empty()) {
        (Some(_), true) => Some(format!(
            "No {} events for pipeline {id}.",
            args.level.as_deref().unwrap_or("").to_ascii_uppercase()
        )),
        _ => None,
    };
    let mut answer = PIPELINE_EVENTS
        .page(rows, values(&page.items), page.next_page_token)
        .field("pipeline_id", &id);
    if let Some(s) = summary {
        answer = answer.summary(s);
    }
    Ok(answer.answer(&ctx))
}

async fn start_pipeline_update(
    ctx: CallContext,
    args: StartUpdateArgs,
) -> Result<ToolOutput, ToolError> {
    let id = args.pipeline_id.trim().to_string();
    let p = read_pipeline(&ctx, &id).await?;
    let full = args.full_refresh.unwrap_or(false);
    let what = if full {
        "a full refresh (every table recomputed from scratch)"
    } else {
        "an update"
    };
    ctx.confirm(
        &format!("pipeline {id}"),
        &format!("Start {what} of {}?", pipeline_label(&p, &id)),
    )
    .await?;
    let update_id = ctx
        .state
        .client
        .start_pipeline_update(&id, full)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Starting an update of pipeline {id}"), e)
                .hint_for(
                    ErrorKind::ResourceConflict,
                    "An update is already running: wait for it (get_pipeline) or stop it with stop_pipeline.",
                )
                .needs("CAN RUN or CAN MANAGE on the pipeline")
        })?;
    Ok(ToolOutput::new(
        format!(
            "Started update {update_id} of pipeline {id}; follow it with get_pipeline and get_pipeline_events."
        ),
        json!({"pipeline_id": id, "update_id": update_id, "full_refresh": full}),
    ))
}

async fn stop_pipeline(ctx: CallContext, args: PipelineIdArgs) -> Result<ToolOutput, ToolError> {
    let id = args.pipeline_id.trim().to_string();
    let p = read_pipeline(&ctx, &id).await?;
    ctx.confirm(
        &format!("pipeline {id}"),
        &format!("Stop {}?", pipeline_label(&p, &id)),
    )
    .await?;
    ctx.state.client.stop_pipeline(&id).await.map_err(|e| {
        ToolError::upstream(&format!("Stopping pipeline {id}"), e)
            .needs("CAN RUN or CAN MANAGE on the pipeline")
    })?;
    Ok(ToolOutput::new(
        format!("Pipeline {id} is stopping; get_pipeline shows its state."),
        json!({"pipeline_id": id, "requested": true}),
    ))
}

async fn list_delta_pipelines(
    ctx: CallContext,
    args: ListPipelinesArgs,
) -> Result<ToolOutput, ToolError> {
    let filter = match args
        .name_like
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(pattern) => {
            if pattern.contains('\'') || pattern.len() > 256 {
                return Err(ToolError::new(
                    "name_like must be a LIKE pattern without single quotes (at most 256 characters)",
                ));
            }
            Some(format!("name LIKE '{pattern}'"))
        }
        None => None,
    };
    let page = ctx
        .state
        .client
        .list_pipelines(args.page.size(), args.page.cursor(), filter.as_deref())
        .await
        .map_err(|e| ToolError::upstream("Listing pipelines", e))?;
    let rows = page.items.iter().map(|p| {
        let latest = p.latest_updates.first().map(|u| {
            format!(
                "{} {}",
                u.state.as_deref().unwrap_or("?"),
                u.creation_time.as_deref().unwrap_or("")
            )
            .trim()
            .to_string()
        });
        vec![
            Some(p.pipeline_id.clone()),
            p.name.clone(),
            p.state.clone(),
            p.health.clone(),
            latest,
            p.creator_user_name.clone(),
        ]
    });
    Ok(LIST_PIPELINES
        .page(rows, values(&page.items), page.next_page_token)
        .answer(&ctx))
}
