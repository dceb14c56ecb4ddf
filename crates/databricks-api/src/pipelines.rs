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
