//! Workspace API 2.0 (REFERENCE.md §7), read side: list, get-status and export.

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

    /// The source of a notebook or file (`format=SOURCE`), decoded from base64.
    pub async fn export_workspace_source(&self, path: &str) -> Result<Vec<u8>, Error> {
        use base64::Engine as _;
        let r: ExportResponse = self
            .call::<endpoints::ExportWorkspace>(
                &[],
                &[("path", path.to_string()), ("format", "SOURCE".to_string())],
                None,
            )
            .await?;
        base64::engine::general_purpose::STANDARD
            .decode(r.content.trim())
            .map_err(|e| Error::Decode {
                endpoint: format!("workspace export of {path}"),
                detail: format!("the content is not base64: {e}"),
            })
    }
}
