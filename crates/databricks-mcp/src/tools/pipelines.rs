//! Pipelines toolset: `list_delta_pipelines` (Lakeflow Declarative Pipelines, formerly
//! Delta Live Tables).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{Hints, ToolDef, ToolOutput, Toolset, next_page_hint, page_size};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPipelinesArgs {
    /// Page size (1-100, default 25).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only pipelines whose name matches this SQL LIKE pattern, e.g. "%orders%".
    #[serde(default)]
    pub name_like: Option<String>,
    /// Cursor from a previous answer, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef::new(
        "list_delta_pipelines",
        "List Delta Live Tables pipelines",
        "List the Delta Live Tables (Lakeflow Declarative) pipelines of the workspace with id, name, state, health and their latest update's state. Use it to check whether pipelines are healthy or failing.",
        Toolset::Pipelines,
        Hints::READ,
        list_delta_pipelines,
    )]
}

async fn list_delta_pipelines(
    ctx: CallContext,
    args: ListPipelinesArgs,
) -> Result<ToolOutput, ToolError> {
    let size = page_size(args.limit, 25, 100);
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
        .list_pipelines(size, args.cursor.as_deref(), filter.as_deref())
        .await
        .map_err(|e| ToolError::upstream("Listing pipelines", e))?;
    let columns = [
        "pipeline_id",
        "name",
        "state",
        "health",
        "latest_update",
        "creator",
    ]
    .map(String::from)
    .to_vec();
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
    let mut text = render::table(&columns, rows, ctx.state.settings.max_chars).text;
    text.push_str(&format!("\n\n{} pipelines. ", page.items.len()));
    text.push_str(&next_page_hint(
        "list_delta_pipelines",
        page.next_page_token.as_deref(),
    ));
    Ok(ToolOutput::new(
        text,
        json!({"pipelines": page.items, "next_cursor": page.next_page_token}),
    ))
}
