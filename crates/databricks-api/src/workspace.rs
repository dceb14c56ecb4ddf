//! Workspace API 2.0 (REFERENCE.md §7), read side: list, get-status and export.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectInfo {
    #[serde(default)]
    pub path: String,
    /// `NOTEBOOK`, `DIRECTORY`, `LIBRARY`, `FILE`, `REPO`, `DASHBOARD` (kept open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListResponse {
    #[serde(default)]
    pub objects: Vec<ObjectInfo>,
}

/// `GET /api/2.0/workspace/export` without `direct_download`: the content in base64.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExportResponse {
    #[serde(default)]
    pub content: String,
    /// The file extension of the exported object (`py`, `sql`, `scala`, `r`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
}

/// `POST workspace/import` body (§7): `content` is base64, at most 10 MB.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportRequest {
    pub path: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
}
