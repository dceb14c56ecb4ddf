//! SQL Statement Execution API 2.0 and SQL Warehouses API (REFERENCE.md §1, §2).

use serde::{Deserialize, Serialize};

/// Body of `POST /api/2.0/sql/statements`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecuteStatementRequest {
    pub statement: String,
    pub warehouse_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<StatementParameter>,
    /// `"0s"` (async) or `"5s"`–`"50s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_timeout: Option<String>,
    /// `CONTINUE` or `CANCEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_wait_timeout: Option<String>,
    /// `INLINE`, `EXTERNAL_LINKS` or `INLINE_OR_EXTERNAL_LINKS` (the workspace decides
    /// per result: see [`crate::attachment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// `JSON_ARRAY`, `ARROW_STREAM` or `CSV`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_limit: Option<i64>,
}

/// A named parameter marker value (`:name`); `value: None` binds SQL NULL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementParameter {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// Lifecycle state of a statement; unknown future values deserialize as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatementState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
    Closed,
    #[default]
    #[serde(other)]
    Unknown,
}

impl StatementState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StatementState::Succeeded
                | StatementState::Failed
                | StatementState::Canceled
                | StatementState::Closed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatementState::Pending => "PENDING",
            StatementState::Running => "RUNNING",
            StatementState::Succeeded => "SUCCEEDED",
            StatementState::Failed => "FAILED",
            StatementState::Canceled => "CANCELED",
            StatementState::Closed => "CLOSED",
            StatementState::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatementResponse {
    #[serde(default)]
    pub statement_id: String,
    #[serde(default)]
    pub status: StatementStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ResultManifest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatementStatus {
    #[serde(default)]
    pub state: StatementState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_state: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServiceError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResultManifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default)]
    pub schema: ResultSchema,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_chunk_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_byte_count: Option<i64>,
    #[serde(default)]
    pub truncated: bool,
    /// `LZ4_FRAME` when the chunks' bytes (attachments) are LZ4-frame compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_compression: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResultSchema {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnInfo>,
}

impl ResultSchema {
    /// The column names, in order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The columns' `type_name`s (`LONG`, `DECIMAL`, …), `STRING` where absent.
    pub fn type_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| c.type_name.clone().unwrap_or_else(|| "STRING".into()))
            .collect()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ColumnInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_interval_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChunkInfo {
    #[serde(default)]
    pub chunk_index: i64,
    #[serde(default)]
    pub row_offset: i64,
    #[serde(default)]
    pub row_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<i64>,
}

/// One chunk of a result (`result` of a statement, or a fetched chunk).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResultData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<i64>,
    /// INLINE rows: every non-null cell is a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_array: Option<Vec<Vec<Option<String>>>>,
    /// Hybrid-disposition ARROW_STREAM rows inline: base64 Arrow IPC bytes
    /// ([`crate::attachment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_links: Vec<ExternalLink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_chunk_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_chunk_internal_link: Option<String>,
}

/// A pre-signed download URL. The URL and headers are credentials of their own: they
/// are never logged, and the Databricks token is never sent to them.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ExternalLink {
    #[serde(default)]
    pub external_link: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub http_headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub chunk_index: i64,
    #[serde(default)]
    pub row_offset: i64,
    #[serde(default)]
    pub row_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_chunk_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_chunk_internal_link: Option<String>,
}

impl std::fmt::Debug for ExternalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalLink")
            .field("chunk_index", &self.chunk_index)
            .field("row_count", &self.row_count)
            .field("external_link", &"***")
            .finish_non_exhaustive()
    }
}

/// Warehouse state; unknown values deserialize as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarehouseState {
    Running,
    Starting,
    Stopping,
    Stopped,
    Deleting,
    Deleted,
    #[default]
    #[serde(other)]
    Unknown,
}

impl WarehouseState {
    pub fn as_str(self) -> &'static str {
        match self {
            WarehouseState::Running => "RUNNING",
            WarehouseState::Starting => "STARTING",
            WarehouseState::Stopping => "STOPPING",
            WarehouseState::Stopped => "STOPPED",
            WarehouseState::Deleting => "DELETING",
            WarehouseState::Deleted => "DELETED",
            WarehouseState::Unknown => "UNKNOWN",
        }
    }
}

/// `EndpointInfo` of the warehouses API (the fields the server uses).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Warehouse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: WarehouseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_type: Option<String>,
    #[serde(default)]
    pub enable_serverless_compute: bool,
    #[serde(default)]
    pub enable_photon: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_clusters: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_num_clusters: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_clusters: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop_mins: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_active_sessions: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_instance_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jdbc_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odbc_params: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile_arn: Option<String>,
}

impl Warehouse {
    /// Serverless = PRO with serverless compute enabled.
    pub fn is_serverless(&self) -> bool {
        self.enable_serverless_compute
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListWarehousesResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warehouses: Vec<Warehouse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
