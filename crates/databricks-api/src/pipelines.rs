//! Lakeflow Declarative Pipelines (Delta Live Tables) API 2.0 (REFERENCE.md §6), read side.

use serde::{Deserialize, Serialize};

/// `PipelineStateInfo` as listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineSummary {
    #[serde(default)]
    pub pipeline_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_updates: Vec<UpdateStateInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateStateInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// RFC 3339 here (unlike `UpdateInfo.creation_time`, which is epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelinesPage {
    #[serde(default)]
    pub statuses: Vec<PipelineSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One event of a pipeline's event log (§6.5).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `INFO, WARN, ERROR, METRICS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturity_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `pipeline_id, update_id, flow_id, flow_name, dataset_name, …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PipelineError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<PipelineException>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineException {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineEventsPage {
    #[serde(default)]
    pub events: Vec<PipelineEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `POST pipelines/{id}/updates` body (§6.4); empty selections refresh the whole graph.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartUpdateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartUpdateResponse {
    #[serde(default)]
    pub update_id: String,
}
