//! Lakeflow Declarative Pipelines (Delta Live Tables) API 2.0 (REFERENCE.md §6), read side.

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::pipelines::*;

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
        let r: PipelinesPage = self
            .call::<endpoints::ListPipelines>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.statuses, r.next_page_token))
    }

    pub async fn get_pipeline(&self, pipeline_id: &str) -> Result<serde_json::Value, Error> {
        self.call::<endpoints::GetPipeline>(&[pipeline_id], &[], None)
            .await
    }
}
