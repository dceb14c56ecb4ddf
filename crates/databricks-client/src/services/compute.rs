//! Clusters API 2.1 (REFERENCE.md §5), read side.

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::compute::*;

impl DatabricksClient {
    pub async fn list_clusters(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Page<Cluster>, Error> {
        let mut query = vec![("page_size", page_size.to_string())];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: ClustersPage = self
            .call::<endpoints::ListClusters>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.clusters, r.next_page_token))
    }

    pub async fn get_cluster(&self, cluster_id: &str) -> Result<Cluster, Error> {
        self.call::<endpoints::GetCluster>(&[], &[("cluster_id", cluster_id.to_string())], None)
            .await
    }
}
