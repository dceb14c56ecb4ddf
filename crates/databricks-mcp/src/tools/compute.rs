//! Compute toolset: `list_clusters`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{
    DEFAULT_PAGE_SIZE, Hints, MAX_PAGE_SIZE, ToolDef, ToolOutput, Toolset, next_page_hint,
    page_size,
};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListClustersArgs {
    /// Page size (1-100, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Cursor from a previous answer, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef::new(
        "list_clusters",
        "List clusters",
        "List the all-purpose and job clusters of the workspace with id, name, state, Databricks Runtime version, node type, size and creator. Use it to see which compute is running or why a cluster terminated.",
        Toolset::Compute,
        Hints::READ,
        list_clusters,
    )]
}

async fn list_clusters(ctx: CallContext, args: ListClustersArgs) -> Result<ToolOutput, ToolError> {
    let size = page_size(args.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    let page = ctx
        .state
        .client
        .list_clusters(size, args.cursor.as_deref())
        .await
        .map_err(|e| ToolError::upstream("Listing clusters", e))?;
    let columns = [
        "cluster_id",
        "name",
        "state",
        "runtime",
        "node_type",
        "workers",
        "source",
        "creator",
    ]
    .map(String::from)
    .to_vec();
    let rows = page.items.iter().map(|c| {
        let workers = match (&c.autoscale, c.num_workers) {
            (Some(a), _) => Some(format!(
                "{}-{} (autoscale)",
                a.get("min_workers").and_then(|v| v.as_i64()).unwrap_or(0),
                a.get("max_workers").and_then(|v| v.as_i64()).unwrap_or(0)
            )),
            (None, n) => n.map(|n| n.to_string()),
        };
        vec![
            Some(c.cluster_id.clone()),
            c.cluster_name.clone(),
            c.state.clone(),
            c.spark_version.clone(),
            c.node_type_id.clone(),
            workers,
            c.cluster_source.clone(),
            c.creator_user_name.clone(),
        ]
    });
    let mut text = render::table(&columns, rows, ctx.state.settings.max_chars).text;
    text.push_str(&format!("\n\n{} clusters. ", page.items.len()));
    text.push_str(&next_page_hint(
        "list_clusters",
        page.next_page_token.as_deref(),
    ));
    Ok(ToolOutput::new(
        text,
        json!({"clusters": page.items, "next_cursor": page.next_page_token}),
    ))
}
