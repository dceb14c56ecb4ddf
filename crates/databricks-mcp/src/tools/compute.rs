//! Compute toolset: `list_clusters`, `get_cluster`, `get_cluster_events`, and (with
//! writes) `start_cluster`, `restart_cluster`, `terminate_cluster`, `start_warehouse`,
//! `stop_warehouse`.

use std::fmt::Write as _;

use databricks_client::ErrorKind;
use databricks_client::services::compute::Cluster;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};

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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterIdArgs {
    /// The cluster's id (from list_clusters).
    pub cluster_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterEventsArgs {
    /// The cluster's id (from list_clusters).
    pub cluster_id: String,
    #[serde(flatten)]
    pub page: PageArgs<25, 200>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseIdArgs {
    /// The SQL warehouse's id (from list_warehouses).
    pub warehouse_id: String,
}

const CLUSTER_EVENTS: ListSpec = ListSpec {
    tool: "get_cluster_events",
    key: "events",
    columns: &["time", "type", "details"],
    item: "Cluster events, newest first: cluster_id, timestamp (ms), type, details.",
    fields: &[Field {
        name: "cluster_id",
        json_type: "string",
        description: "The cluster whose events these are.",
    }],
};

/// Starting or stopping compute: undone by the opposite action, nothing is lost.
const COMPUTE_ACTION: ToolKind = ToolKind::Action {
    destructive: false,
    idempotent: true,
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_CLUSTERS,
            "List clusters",
            "List the all-purpose and job clusters with id, name, state, runtime version, node type, size and creator: which compute runs, or why a cluster terminated.",
            Toolset::Compute,
            list_clusters,
        ),
        ToolDef::new(
            "get_cluster",
            "Get cluster",
            "A cluster's state and why it terminated, size, runtime, node type and auto-termination.",
            Toolset::Compute,
            ToolKind::ReadGet,
            get_cluster,
        ),
        ToolDef::list(
            &CLUSTER_EVENTS,
            "Get cluster events",
            "A cluster's event log, newest first: starts, resizes, terminations with their reason, driver problems.",
            Toolset::Compute,
            get_cluster_events,
        ),
        ToolDef::new(
            "start_cluster",
            "Start cluster",
            "Start a terminated cluster (it takes minutes; follow it with get_cluster).",
            Toolset::Compute,
            COMPUTE_ACTION,
            start_cluster,
        ),
        ToolDef::new(
            "restart_cluster",
            "Restart cluster",
            "Restart a running cluster: running commands and notebooks on it are interrupted.",
            Toolset::Compute,
            ToolKind::Action {
                destructive: true,
                idempotent: false,
            },
            restart_cluster,
        ),
        ToolDef::new(
            "terminate_cluster",
            "Terminate cluster",
            "Terminate a cluster: work running on it stops; its configuration is kept and it can be started again.",
            Toolset::Compute,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            terminate_cluster,
        ),
        ToolDef::new(
            "start_warehouse",
            "Start SQL warehouse",
            "Start a stopped SQL warehouse (list_warehouses shows its state); queries also start it on first use.",
            Toolset::Compute,
            COMPUTE_ACTION,
            start_warehouse,
        ),
        ToolDef::new(
            "stop_warehouse",
            "Stop SQL warehouse",
            "Stop a SQL warehouse: queries running on it are cancelled.",
            Toolset::Compute,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            stop_warehouse,
        ),
    ]
}

fn workers(c: &Cluster) -> Option<String> {
    match (&c.autoscale, c.num_workers) {
        (Some(a), _) => Some(format!(
            "{}-{} (autoscale)",
            a.min_workers.unwrap_or(0),
            a.max_workers.unwrap_or(0)
        )),
        (None, n) => n.map(|n| n.to_string()),
    }
}

async fn read_cluster(ctx: &CallContext, cluster_id: &str) -> Result<Cluster, ToolError> {
    let id = cluster_id.trim();
    if id.is_empty() {
        return Err(ToolError::new("cluster_id is empty: see list_clusters"));
    }
    ctx.state.client.get_cluster(id).await.map_err(|e| {
        ToolError::upstream(&format!("Reading cluster {id}"), e)
            .hint_for(
                ErrorKind::NotFound,
                "Call list_clusters to see the clusters and their ids.",
            )
            .hint_for(
                ErrorKind::BadRequest,
                "Call list_clusters to see the clusters and their ids.",
            )
    })
}

/// "cluster 0101-… 'etl-prod' (RUNNING, 8 workers)": named for a confirmation.
fn cluster_label(c: &Cluster) -> String {
    let mut label = format!("cluster {}", c.cluster_id);
    if let Some(name) = &c.cluster_name {
        let _ = write!(label, " '{name}'");
    }
    let mut facts = vec![c.state.clone().unwrap_or_else(|| "?".into())];
    if let Some(w) = workers(c) {
        facts.push(format!("{w} workers"));
    }
    format!("{label} ({})", facts.join(", "))
}

async fn get_cluster(ctx: CallContext, args: ClusterIdArgs) -> Result<ToolOutput, ToolError> {
    let c = read_cluster(&ctx, &args.cluster_id).await?;
    let mut text = format!(
        "Cluster {} '{}': {}",
        c.cluster_id,
        c.cluster_name.as_deref().unwrap_or(""),
        c.state.as_deref().unwrap_or("?")
    );
    if let Some(m) = c.state_message.as_deref().filter(|m| !m.is_empty()) {
        let _ = write!(text, " ({m})");
    }
    if let Some(reason) = &c.termination_reason {
        let code = reason.code.as_deref().unwrap_or("?");
        let kind = reason.type_.as_deref().unwrap_or("");
        let _ = write!(text, "\nTermination reason: {code} {kind}");
        let detail: Vec<String> = reason
            .parameters
            .iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !detail.is_empty() {
            let _ = write!(text, " ({})", detail.join(", "));
        }
    }
    if let Some(w) = workers(&c) {
        let _ = write!(text, "\nWorkers: {w}");
    }
    for (label, value) in [
        ("Runtime", c.spark_version.clone()),
        ("Node type", c.node_type_id.clone()),
        ("Source", c.cluster_source.clone()),
        ("Access mode", c.data_security_mode.clone()),
        ("Creator", c.creator_user_name.clone()),
        (
            "Auto-termination",
            c.autotermination_minutes.map(|m| match m {
                0 => "never".to_string(),
                m => format!("after {m} minutes idle"),
            }),
        ),
        ("Started", timestamp_ms(c.start_time)),
        ("Terminated", timestamp_ms(c.terminated_time)),
    ] {
        if let Some(v) = value {
            let _ = write!(text, "\n{label}: {v}");
        }
    }
    Ok(ToolOutput::new(text, json!(c)))
}

async fn get_cluster_events(
    ctx: CallContext,
    args: ClusterEventsArgs,
) -> Result<ToolOutput, ToolError> {
    let id = args.cluster_id.trim().to_string();
    let page = ctx
        .state
        .client
        .cluster_events(&id, args.page.size(), args.page.cursor())
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Reading the events of cluster {id}"), e).hint_for(
                ErrorKind::NotFound,
                "Call list_clusters to see the clusters and their ids.",
            )
        })?;
    let rows = page.items.iter().map(|e| {
        vec![
            timestamp_ms(e.timestamp),
            e.type_.clone(),
            e.details
                .as_ref()
                .and_then(|d| serde_json::to_string(d).ok())
                .map(|d| render::clip(&d, 300)),
        ]
    });
    Ok(CLUSTER_EVENTS
        .page(rows, values(&page.items), page.next_page_token)
        .field("cluster_id", &id)
        .answer(&ctx))
}

async fn start_cluster(ctx: CallContext, args: ClusterIdArgs) -> Result<ToolOutput, ToolError> {
    let c = read_cluster(&ctx, &args.cluster_id).await?;
    ctx.confirm(
        &format!("cluster {}", c.cluster_id),
        &format!("Start {}?", cluster_label(&c)),
    )
    .await?;
    ctx.state
        .client
        .start_cluster(&c.cluster_id)
        .await
        .map_err(|e| cluster_action_error("Starting", &c.cluster_id, e))?;
    Ok(action_done(
        &format!(
            "Cluster {} is starting (takes a few minutes); follow it with get_cluster.",
            c.cluster_id
        ),
        &c.cluster_id,
    ))
}

async fn restart_cluster(ctx: CallContext, args: ClusterIdArgs) -> Result<ToolOutput, ToolError> {
    let c = read_cluster(&ctx, &args.cluster_id).await?;
    ctx.confirm(
        &format!("cluster {}", c.cluster_id),
        &format!(
            "Restart {}? Work running on it is interrupted.",
            cluster_label(&c)
        ),
    )
    .await?;
    ctx.state
        .client
        .restart_cluster(&c.cluster_id)
        .await
        .map_err(|e| cluster_action_error("Restarting", &c.cluster_id, e))?;
    Ok(action_done(
        &format!(
            "Cluster {} is restarting; follow it with get_cluster.",
            c.cluster_id
        ),
        &c.cluster_id,
    ))
}

async fn terminate_cluster(ctx: CallContext, args: ClusterIdArgs) -> Result<ToolOutput, ToolError> {
    let c = read_cluster(&ctx, &args.cluster_id).await?;
    ctx.confirm(
        &format!("cluster {}", c.cluster_id),
        &format!("Terminate {}?", cluster_label(&c)),
    )
    .await?;
    ctx.state
        .client
        .terminate_cluster(&c.cluster_id)
        .await
        .map_err(|e| cluster_action_error("Terminating", &c.cluster_id, e))?;
    Ok(action_done(
        &format!(
            "Cluster {} is terminating; its configuration is kept (start_cluster starts it again).",
            c.cluster_id
        ),
        &c.cluster_id,
    ))
}

fn cluster_action_error(doing: &str, id: &str, e: databricks_client::Error) -> ToolError {
    ToolError::upstream(&format!("{doing} cluster {id}"), e)
        .hint_for(
            ErrorKind::BadRequest,
            "The cluster may not be in a state that allows this: check it with get_cluster.",
        )
        .needs("CAN RESTART or CAN MANAGE on the cluster")
}

fn action_done(text: &str, id: &str) -> ToolOutput {
    ToolOutput::new(text, json!({"id": id, "requested": true}))
}

async fn read_warehouse(
    ctx: &CallContext,
    id: &str,
) -> Result<databricks_client::services::sql::Warehouse, ToolError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ToolError::new("warehouse_id is empty: see list_warehouses"));
    }
    ctx.state.client.get_warehouse(id).await.map_err(|e| {
        ToolError::upstream(&format!("Reading SQL warehouse {id}"), e).hint_for(
            ErrorKind::NotFound,
            "Call list_warehouses to see the warehouses and their ids.",
        )
    })
}

fn warehouse_label(w: &databricks_client::services::sql::Warehouse) -> String {
    format!(
        "SQL warehouse {} '{}' ({}{})",
        w.id,
        w.name,
        w.state.as_str(),
        w.cluster_size
            .as_deref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    )
}

async fn start_warehouse(ctx: CallContext, args: WarehouseIdArgs) -> Result<ToolOutput, ToolError> {
    let w = read_warehouse(&ctx, &args.warehouse_id).await?;
    ctx.confirm(
        &format!("warehouse {}", w.id),
        &format!("Start {}?", warehouse_label(&w)),
    )
    .await?;
    ctx.state.client.start_warehouse(&w.id).await.map_err(|e| {
        ToolError::upstream(&format!("Starting SQL warehouse {}", w.id), e)
            .needs("CAN MANAGE on the warehouse")
    })?;
    Ok(action_done(
        &format!(
            "SQL warehouse {} is starting; list_warehouses shows its state.",
            w.id
        ),
        &w.id,
    ))
}

async fn stop_warehouse(ctx: CallContext, args: WarehouseIdArgs) -> Result<ToolOutput, ToolError> {
    let w = read_warehouse(&ctx, &args.warehouse_id).await?;
    ctx.confirm(
        &format!("warehouse {}", w.id),
        &format!(
            "Stop {}? Queries running on it are cancelled.",
            warehouse_label(&w)
        ),
    )
    .await?;
    ctx.state.client.stop_warehouse(&w.id).await.map_err(|e| {
        ToolError::upstream(&format!("Stopping SQL warehouse {}", w.id), e)
            .needs("CAN MANAGE on the warehouse")
    })?;
    Ok(action_done(
        &format!(
            "SQL warehouse {} is stopping; it starts again on the next query.",
            w.id
        ),
        &w.id,
    ))
}

async fn list_clusters(ctx: CallContext, args: ListClustersArgs) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_clusters(args.page.size(), args.page.cursor())
        .await
        .map_err(|e| ToolError::upstream("Listing clusters", e))?;
    let rows = page.items.iter().map(|c| {
        let workers = workers(c);
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
