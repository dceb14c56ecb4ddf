//! Workspace API 2.0 (REFERENCE.md §7), read side: list and get-status.

use crate::error::Error;
use crate::http::DatabricksClient;

use databricks_api::endpoints;

pub use databricks_api::workspace::*;

impl DatabricksClient {
    /// The direct children of a workspace folder (the API neither pages nor recurses).
    pub async fn list_workspace(&self, path: &str) -> Result<Vec<ObjectInfo>, Error> {
        let r: ListResponse = self
            .call::<endpoints::ListWorkspace>(&[], &[("path", path.to_string())], None)
            .await?;
        Ok(r.objects)
    }

    pub async fn workspace_status(&self, path: &str) -> Result<ObjectInfo, Error> {
        self.call::<endpoints::GetWorkspaceStatus>(&[], &[("path", path.to_string())], None)
            .await
    }
}
