//! Lakeflow Declarative Pipelines (Delta Live Tables) API 2.0 (REFERENCE.md §6), read side.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::{DatabricksClient, path_segment};
use crate::pagination::Page;

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

#[derive(Debug, Deserialize)]
struct PipelinesPage {
    #[serde(default)]
    statuses: Vec<PipelineSummary>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl DatabricksClient {
    /// One page of pipelines; `max_results` is 1–100 (the API's bounds).
    pub async fn list_pipelines(
        &self,
        max_results: u32,
        page_token: Option<&str>,
        filter: Option<&str>,
    ) -> Result<Page<PipelineSummary>, Error> {
        let mut query = vec![("max_results", max_results.clamp(1, 100).to_string())];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        if let Some(f) = filter {
            query.push(("filter", f.to_string()));
        }
        let r: PipelinesPage = self.get("/api/2.0/pipelines", &query).await?;
        Ok(Page::from_token(r.statuses, r.next_page_token))
    }

    pub async fn get_pipeline(&self, pipeline_id: &str) -> Result<serde_json::Value, Error> {
        self.get(
            &format!("/api/2.0/pipelines/{}", path_segment(pipeline_id)),
            &[],
        )
        .await
    }
}
