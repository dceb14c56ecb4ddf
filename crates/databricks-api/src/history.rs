//! Query History API 2.0 (REFERENCE.md §11): the statements warehouses ran.

use serde::{Deserialize, Serialize};

/// One statement of the history (`QueryInfo`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueryInfo {
    #[serde(default)]
    pub query_id: String,
    /// `QUEUED, STARTED, COMPILING, COMPILED, RUNNING, FINISHED, FAILED, CANCELED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_text: Option<String>,
    /// `SELECT, INSERT, UPDATE, DELETE, MERGE, CREATE, DROP, ALTER, …, OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    /// The same as `warehouse_id` (older name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_as_user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_as_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_application: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_start_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_end_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_end_time_ms: Option<i64>,
    /// Milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_produced: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_final: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_ui_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_used: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_source: Option<serde_json::Value>,
    /// Only with `include_metrics=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<serde_json::Value>,
}

/// `GET /api/2.0/sql/history/queries`: `res[]` (absent when empty), paged by token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListQueriesResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub res: Vec<QueryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub has_next_page: bool,
}

/// The history filters of REFERENCE.md §11 (`filter_by.*`), as a backend applies them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFilter {
    pub statement_ids: Vec<String>,
    pub statuses: Vec<String>,
    pub user_ids: Vec<i64>,
    pub warehouse_ids: Vec<String>,
    /// `query_start_time_range.start_time_ms` (inclusive).
    pub start_time_ms: Option<i64>,
    /// `query_start_time_range.end_time_ms` (exclusive).
    pub end_time_ms: Option<i64>,
}

impl QueryFilter {
    /// Whether `query` passes every filter that is set.
    pub fn matches(&self, query: &QueryInfo) -> bool {
        let any = |set: &[String], value: Option<&str>| {
            set.is_empty() || value.is_some_and(|v| set.iter().any(|s| s == v))
        };
        let start = query.query_start_time_ms.unwrap_or(0);
        any(&self.statement_ids, Some(query.query_id.as_str()))
            && any(&self.statuses, query.status.as_deref())
            && any(&self.warehouse_ids, query.warehouse_id.as_deref())
            && (self.user_ids.is_empty()
                || query.user_id.is_some_and(|u| self.user_ids.contains(&u)))
            && self.start_time_ms.is_none_or(|s| start >= s)
            && self.end_time_ms.is_none_or(|e| start < e)
    }
}
