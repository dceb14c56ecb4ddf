//! Clusters API 2.1 (REFERENCE.md §5): the cluster (`ClusterDetails`), its events, and the
//! list and events pages. Every field is optional and enums are strings: the service adds
//! values at any time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// `ClusterDetails` (§5.2). The same shape carries the cluster's `spec`: the settings a
/// user last gave, a subset of these fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// `PENDING, RUNNING, RESTARTING, RESIZING, TERMINATING, TERMINATED, ERROR, UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_node_type_id: Option<String>,
    /// The desired number of workers, not the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoScale>,
    /// Absent when the user was deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    /// `API, JOB, MODELS, PIPELINE, PIPELINE_MAINTENANCE, SQL, UI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_source: Option<String>,
    /// 0 disables auto-termination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_user_name: Option<String>,
    /// `STANDARD`, `PHOTON` or `NULL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_single_node: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_ml_runtime: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_conf: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_env_vars: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tags: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_instance_pool_id: Option<String>,
    /// Cloud-specific settings, kept as the cloud's API writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_attributes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_attributes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp_attributes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_elastic_disk: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_local_disk_encryption: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<SparkNode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executors: Vec<SparkNode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_memory_mb: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_cores: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_context_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jdbc_port: Option<i64>,
    /// Epoch milliseconds, as are the other times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restarted_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_state_loss_time: Option<i64>,
    /// Only while TERMINATING or TERMINATED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<TerminationReason>,
    /// The last user-specified settings (`get` only; the list leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Box<Cluster>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_log_conf: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_log_status: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_scripts: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_image: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_type: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_public_keys: Vec<String>,
}

/// `autoscale`: exclusive with `num_workers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoScale {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_workers: Option<i64>,
}

/// Why a cluster terminated: `code` (about 190 values: `USER_REQUEST`, `INACTIVITY`,
/// `JOB_FINISHED`, …), `type` (`SUCCESS, CLIENT_ERROR, SERVICE_FAULT, CLOUD_FAILURE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationReason {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

/// The driver or an executor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparkNode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_private_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<i64>,
}

/// `GET clusters/list` (§5.1). `prev_page_token` `""` means the first page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClustersPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<Cluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
}

/// `POST clusters/events` body (§5.5): token paging (`page_size`, `page_token`) or the
/// deprecated offset paging (`offset`, `limit`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEventsRequest {
    #[serde(default)]
    pub cluster_id: String,
    /// Epoch milliseconds, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<String>,
    /// `ASC` or `DESC` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// `CREATING, STARTING, RUNNING, RESTARTING, TERMINATING, RESIZING, …`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<EventDetails>,
}

/// An event's details: the keys vary by event type; the common ones are declared, the
/// others (`cluster_size`, `attributes`, `instance_id`, …) kept as they came.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TerminationReason>,
    /// Who caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `AUTORECOVERY, AUTOSCALE, REPLACE_BAD_NODES, USER_REQUEST, …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `POST clusters/events` answer (§5.5). With token paging `total_count` is 0; with
/// offset paging `next_page` is the whole request for the next page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterEventsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ClusterEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<ClusterEventsRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<i64>,
}

/// What the service answers for a cluster id it does not know: 400
/// `INVALID_PARAMETER_VALUE` (not a 404; the official Go SDK maps this message to
/// not-found).
pub fn cluster_not_found(id: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Cluster {id} does not exist"))
}
