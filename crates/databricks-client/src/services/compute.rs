//! Clusters API 2.1 (REFERENCE.md §5), read side.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cluster {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_workers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotermination_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct ClustersPage {
    #[serde(default)]
    clusters: Vec<Cluster>,
    #[serde(default)]
    next_page_token: Option<String>,
}

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
        let r: ClustersPage = self.get("/api/2.1/clusters/list", &query).await?;
        Ok(Page::from_token(r.clusters, r.next_page_token))
    }

    pub async fn get_cluster(&self, cluster_id: &str) -> Result<Cluster, Error> {
        self.get(
            "/api/2.1/clusters/get",
            &[("cluster_id", cluster_id.to_string())],
        )
        .await
    }
}
