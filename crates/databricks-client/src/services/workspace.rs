//! Workspace API 2.0 (REFERENCE.md §7), read side: list and get-status.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::DatabricksClient;

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

#[derive(Debug, Deserialize)]
struct ListResponse {
    #[serde(default)]
    objects: Vec<ObjectInfo>,
}

impl DatabricksClient {
    /// The direct children of a workspace folder (the API neither pages nor recurses).
    pub async fn list_workspace(&self, path: &str) -> Result<Vec<ObjectInfo>, Error> {
        let r: ListResponse = self
            .get("/api/2.0/workspace/list", &[("path", path.to_string())])
            .await?;
        Ok(r.objects)
    }

    pub async fn workspace_status(&self, path: &str) -> Result<ObjectInfo, Error> {
        self.get(
            "/api/2.0/workspace/get-status",
            &[("path", path.to_string())],
        )
        .await
    }
}
