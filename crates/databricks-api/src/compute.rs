//! Clusters API 2.1 (REFERENCE.md §5), read side.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cluster {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClustersPage {
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `POST clusters/events` body (§5.5).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClusterEventsRequest {
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClusterEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `current_num_workers`, `target_num_workers`, `reason` (TerminationReason), `user`,
    /// `cause`, …: kept as JSON (the keys vary by event type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClusterEventsPage {
    #[serde(default)]
    pub events: Vec<ClusterEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Deprecated offset paging: the whole request for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}
