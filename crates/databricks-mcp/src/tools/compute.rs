//! Compute toolset: `list_clusters`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ListSpec, PageArgs, ToolDef, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListClustersArgs {
    #[serde(flatten)]
    pub page: PageArgs,
}

const LIST_CLUSTERS: ListSpec = ListSpec {
    tool: "list_clusters",
    key: "clusters",
    columns: &[
        "cluster_id",
        "name",
        "state",
        "runtime",
        "node_type",
        "workers",
        "source",
        "creator",
    ],
    item: "Clusters as the Clusters API describes them.",
    fields: &[],
};

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef::list(
        &LIST_CLUSTERS,
        "List clusters",
        "List the all-purpose and job clusters with id, name, state, runtime version, node type, size and creator: which compute runs, or why a cluster terminated.",
        Toolset::Compute,
        list_clusters,
    )]
}

async fn list_clusters(ctx: CallContext, args: ListClustersArgs) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_clusters(args.page.size(), args.page.cursor())
        .await
        .map_err(|e| ToolError::upstream("Listing clusters", e))?;
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
    Ok(LIST_CLUSTERS
        .page(rows, values(&page.items), page.next_page_token)
        .answer(&ctx))
}
