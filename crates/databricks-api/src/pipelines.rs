//! Lakeflow Declarative Pipelines (Delta Live Tables) API 2.0 (REFERENCE.md §6).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

/// `PipelineStateInfo` as listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateStateInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// RFC 3339 here (unlike `UpdateInfo.creation_time`, which is epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelinesPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<PipelineSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One event of a pipeline's event log (§6.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<PipelineException>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineException {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineEventsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<PipelineEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `POST pipelines/{id}/updates` body (§6.4), every field optional; empty selections
/// refresh the whole graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartUpdateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refresh_selection: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_refresh_selection: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_only: Option<bool>,
    /// One of [`UPDATE_CAUSES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reset_checkpoint_selection: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_where_overrides: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewind_spec: Option<Value>,
}

/// The causes of an update (§6.3).
pub const UPDATE_CAUSES: [&str; 7] = [
    "API_CALL",
    "JOB_TASK",
    "RETRY_ON_FAILURE",
    "SCHEMA_CHANGE",
    "SERVICE_UPGRADE",
    "USER_ACTION",
    "INFRASTRUCTURE_MAINTENANCE",
];

/// Update states that end an update (§6.3); any other state is an active update.
pub const TERMINAL_UPDATE_STATES: [&str; 3] = ["COMPLETED", "FAILED", "CANCELED"];

/// Whether an update in `state` has ended.
pub fn is_terminal_update(state: &str) -> bool {
    TERMINAL_UPDATE_STATES.contains(&state)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartUpdateResponse {
    #[serde(default)]
    pub update_id: String,
}

/// A pipeline's settings (`PipelineSpec`, §6.2): the fields the workspaces here read are
/// declared, the others (`clusters`, `notifications`, `trigger`, …) kept as they came.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The legacy name of `schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub development: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photon: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<PipelineLibrary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<BTreeMap<String, Value>>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One source of a pipeline: a notebook, a file, a glob of files (or a jar, wheel, Maven
/// coordinate, kept in `other`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineLibrary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook: Option<LibraryPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<LibraryPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<LibraryGlob>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibraryPath {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibraryGlob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
}

/// `GET pipelines/{id}` (`GetPipelineResponse`, §6.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineDetails {
    #[serde(default)]
    pub pipeline_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `DEPLOYING, STARTING, RUNNING, STOPPING, DELETED, RECOVERING, FAILED, RESETTING, IDLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user_name: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_updates: Vec<UpdateStateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_budget_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_publishing_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PipelineSpec>,
}

impl PipelineDetails {
    /// The pipeline as the list shows it (`PipelineStateInfo`).
    pub fn summary(self) -> PipelineSummary {
        PipelineSummary {
            pipeline_id: self.pipeline_id,
            name: self.name,
            state: self.state,
            health: self.health,
            cluster_id: self.cluster_id,
            creator_user_name: self.creator_user_name,
            run_as_user_name: self.run_as_user_name,
            latest_updates: self.latest_updates,
        }
    }
}

/// One update (`UpdateInfo`, §6.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateInfo {
    #[serde(default)]
    pub update_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// `QUEUED, CREATED, WAITING_FOR_RESOURCES, INITIALIZING, RESETTING,
    /// SETTING_UP_TABLES, RUNNING, STOPPING, COMPLETED, FAILED, CANCELED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Epoch milliseconds here (RFC 3339 in `latest_updates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_refresh: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_refresh_selection: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refresh_selection: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    /// The pipeline's settings the update ran with (`get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PipelineSpec>,
    /// `DEFAULT` or `CONTINUOUS` (`get` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl UpdateInfo {
    /// Whether the update has not ended.
    pub fn is_active(&self) -> bool {
        !self.state.as_deref().is_some_and(is_terminal_update)
    }
}

/// `GET pipelines/{id}/updates` (§6.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdatesPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<UpdateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `GET pipelines/{id}/updates/{update_id}` (§6.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetUpdateResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateInfo>,
}

/// `POST /api/2.0/pipelines` (create) answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreatePipelineResponse {
    #[serde(default)]
    pub pipeline_id: String,
}

/// 404 `RESOURCE_DOES_NOT_EXIST` for a pipeline id the workspace does not know.
pub fn pipeline_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("The specified pipeline {id} was not found."),
    )
}

/// 404 `RESOURCE_DOES_NOT_EXIST` for an update the pipeline does not have.
pub fn update_not_found(pipeline_id: &str, update_id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("The specified update {update_id} of pipeline {pipeline_id} was not found."),
    )
}
