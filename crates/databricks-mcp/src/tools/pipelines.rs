//! Pipelines toolset: `list_delta_pipelines` (Lakeflow Declarative Pipelines, formerly
//! Delta Live Tables).

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ListSpec, PageArgs, ToolDef, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;

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

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef::list(
        &LIST_PIPELINES,
        "List Delta Live Tables pipelines",
        "List the Lakeflow Declarative (Delta Live Tables) pipelines with id, name, state, health and latest update's state: whether pipelines are healthy or failing.",
        Toolset::Pipelines,
        list_delta_pipelines,
    )]
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
