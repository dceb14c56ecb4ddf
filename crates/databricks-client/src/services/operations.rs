//! Operations on workspace objects: the diagnostic reads (events, history, lineage, volume
//! files) and the actions (run, cancel, repair, start, stop, terminate, import, upload)
//! of jobs, clusters, warehouses, pipelines, notebooks and volumes.
//!
//! Actions are POSTs the client does not retry on a timeout (only on a refused
//! connection, 429 or 503, where nothing was done): a job run started twice is worse than
//! an error.

use databricks_api::endpoints;
use databricks_api::files::api_path;
use databricks_api::jobs::{RepairRunRequest, RepairRunResponse, RunNowRequest, RunNowResponse};

pub use databricks_api::files::{DirectoryEntry, DirectoryListing};
pub use databricks_api::history::{ListQueriesResponse, QueryFilter, QueryInfo};
pub use databricks_api::lineage::{LineageEntity, LineageNode, LineageTable, TableLineage};
use databricks_api::pipelines::{PipelineEvent, PipelineEventsPage, StartUpdateRequest};
use databricks_api::workspace::ImportRequest;
use reqwest::Method;
use serde_json::json;

use crate::error::Error;
use crate::http::{DatabricksClient, RequestBody};
use crate::pagination::Page;
use crate::services::catalog::VolumeInfo;
use crate::services::compute::{ClusterEvent, ClusterEventsPage, ClusterEventsRequest};

/// What a ranged read of a volume file gave.
#[derive(Debug, Clone)]
pub struct FileRead {
    pub bytes: bytes::Bytes,
    /// The whole file's size, when the server said (`Content-Range` or `Content-Length`).
    pub total: Option<u64>,
}

impl DatabricksClient {
    // ---- jobs

    pub async fn run_job_now(&self, request: &RunNowRequest) -> Result<RunNowResponse, Error> {
        self.call_with::<endpoints::RunNow>(&[], request).await
    }

    pub async fn cancel_run(&self, run_id: i64) -> Result<(), Error> {
        self.call::<endpoints::CancelRun>(&[], &[], Some(json!({ "run_id": run_id })))
            .await?;
        Ok(())
    }

    pub async fn repair_run(&self, request: &RepairRunRequest) -> Result<RepairRunResponse, Error> {
        self.call_with::<endpoints::RepairRun>(&[], request).await
    }

    // ---- clusters

    /// One page of a cluster's events, newest first; `page_size` 1–500.
    pub async fn cluster_events(
        &self,
        cluster_id: &str,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Page<ClusterEvent>, Error> {
        let request = ClusterEventsRequest {
            cluster_id: cluster_id.to_string(),
            order: Some("DESC".into()),
            page_size: Some(i64::from(page_size.clamp(1, 500))),
            page_token: page_token.map(str::to_string),
            ..ClusterEventsRequest::default()
        };
        let r: ClusterEventsPage = self
            .call_with::<endpoints::ClusterEvents>(&[], &request)
            .await?;
        Ok(Page::from_token(r.events, r.next_page_token))
    }

    pub async fn start_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_action::<endpoints::StartCluster>(cluster_id)
            .await
    }

    pub async fn restart_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_action::<endpoints::RestartCluster>(cluster_id)
            .await
    }

    /// Terminates (`clusters/delete`): the configuration is kept and it can be started
    /// again.
    pub async fn terminate_cluster(&self, cluster_id: &str) -> Result<(), Error> {
        self.cluster_action::<endpoints::TerminateCluster>(cluster_id)
            .await
    }

    async fn cluster_action<E: endpoints::Endpoint>(&self, cluster_id: &str) -> Result<(), Error> {
        self.call::<E>(&[], &[], Some(json!({ "cluster_id": cluster_id })))
            .await?;
        Ok(())
    }

    // ---- SQL warehouses and query history

    pub async fn start_warehouse(&self, id: &str) -> Result<(), Error> {
        self.call::<endpoints::StartWarehouse>(&[id], &[], None)
            .await?;
        Ok(())
    }

    pub async fn stop_warehouse(&self, id: &str) -> Result<(), Error> {
        self.call::<endpoints::StopWarehouse>(&[id], &[], None)
            .await?;
        Ok(())
    }

    /// One page of the query history, newest first; `max_results` 1–999.
    pub async fn list_queries(
        &self,
        filter: &QueryFilter,
        max_results: u32,
        page_token: Option<&str>,
    ) -> Result<Page<QueryInfo>, Error> {
        let mut query = vec![("max_results", max_results.clamp(1, 999).to_string())];
        match page_token {
            // With a token the service takes no filter: the token carries it.
            Some(t) => query.push(("page_token", t.to_string())),
            None => {
                for id in &filter.warehouse_ids {
                    query.push(("filter_by.warehouse_ids", id.clone()));
                }
                for status in &filter.statuses {
                    query.push(("filter_by.statuses", status.clone()));
                }
                for user in &filter.user_ids {
                    query.push(("filter_by.user_ids", user.to_string()));
                }
                for id in &filter.statement_ids {
                    query.push(("filter_by.statement_ids", id.clone()));
                }
                if let Some(start) = filter.start_time_ms {
                    query.push((
                        "filter_by.query_start_time_range.start_time_ms",
                        start.to_string(),
                    ));
                }
                if let Some(end) = filter.end_time_ms {
                    query.push((
                        "filter_by.query_start_time_range.end_time_ms",
                        end.to_string(),
                    ));
                }
            }
        }
        let r: ListQueriesResponse = self
            .call::<endpoints::ListQueries>(&[], &query, None)
            .await?;
        let next = r.next_page_token.filter(|_| r.has_next_page);
        Ok(Page::from_token(r.res, next))
    }

    // ---- Unity Catalog: volumes and lineage

    /// Every volume of a schema (the service's own pages, followed to the end).
    pub async fn list_volumes(
        &self,
        catalog: &str,
        schema: &str,
    ) -> Result<Vec<VolumeInfo>, Error> {
        let mut volumes = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..100 {
            let mut query = vec![
                ("catalog_name", catalog.to_string()),
                ("schema_name", schema.to_string()),
                ("max_results", "0".to_string()),
            ];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let page = self
                .call::<endpoints::ListVolumes>(&[], &query, None)
                .await?;
            volumes.extend(page.volumes);
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        Ok(volumes)
    }

    pub async fn table_lineage(&self, full_name: &str) -> Result<TableLineage, Error> {
        self.call::<endpoints::GetTableLineage>(
            &[],
            &[
                ("table_name", full_name.to_string()),
                ("include_entity_lineage", "true".to_string()),
            ],
            None,
        )
        .await
    }

    // ---- pipelines

    /// One page of a pipeline's events, newest first, optionally filtered (`level='ERROR'`,
    /// …); with a token the service takes no filter.
    pub async fn pipeline_events(
        &self,
        pipeline_id: &str,
        max_results: u32,
        filter: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<Page<PipelineEvent>, Error> {
        let mut query = vec![("max_results", max_results.clamp(1, 250).to_string())];
        match page_token {
            Some(t) => query.push(("page_token", t.to_string())),
            None => {
                if let Some(f) = filter {
                    query.push(("filter", f.to_string()));
                }
            }
        }
        let r: PipelineEventsPage = self
            .call::<endpoints::ListPipelineEvents>(&[pipeline_id], &query, None)
            .await?;
        Ok(Page::from_token(r.events, r.next_page_token))
    }

    /// Starts an update; answers its id.
    pub async fn start_pipeline_update(
        &self,
        pipeline_id: &str,
        full_refresh: bool,
    ) -> Result<String, Error> {
        let request = StartUpdateRequest {
            full_refresh: Some(full_refresh),
            ..StartUpdateRequest::default()
        };
        Ok(self
            .call_with::<endpoints::StartPipelineUpdate>(&[pipeline_id], &request)
            .await?
            .update_id)
    }

    pub async fn stop_pipeline(&self, pipeline_id: &str) -> Result<(), Error> {
        self.call::<endpoints::StopPipeline>(&[pipeline_id], &[], None)
            .await?;
        Ok(())
    }

    // ---- workspace

    /// Imports `source` at `path` as a notebook in `language` (`format=SOURCE`).
    pub async fn import_notebook(
        &self,
        path: &str,
        source: &[u8],
        language: &str,
        overwrite: bool,
    ) -> Result<(), Error> {
        use base64::Engine as _;
        let request = ImportRequest {
            path: path.to_string(),
            content: base64::engine::general_purpose::STANDARD.encode(source),
            format: Some("SOURCE".into()),
            language: Some(language.to_string()),
            overwrite,
        };
        self.call_with::<endpoints::ImportWorkspace>(&[], &request)
            .await?;
        Ok(())
    }

    // ---- volume files (Files API)

    /// One page of a volume directory.
    pub async fn list_directory(
        &self,
        path: &str,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Page<DirectoryEntry>, Error> {
        let mut query = vec![("page_size", page_size.clamp(1, 1000).to_string())];
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: DirectoryListing = self
            .send(Method::GET, &api_path("directories", path), &query, None)
            .await?;
        Ok(Page::from_token(r.contents, r.next_page_token))
    }

    /// Bytes `offset..offset+length` of a volume file (a `Range` request).
    pub async fn read_file(&self, path: &str, offset: u64, length: u64) -> Result<FileRead, Error> {
        let end = offset.saturating_add(length.max(1)) - 1;
        let (bytes, total) = self
            .send_ranged(&api_path("files", path), format!("bytes={offset}-{end}"))
            .await?;
        Ok(FileRead { bytes, total })
    }

    /// A volume file's size, or `None` when it does not exist.
    pub async fn file_size(&self, path: &str) -> Result<Option<u64>, Error> {
        match self.send_head(&api_path("files", path)).await {
            Ok(headers) => Ok(Some(
                headers
                    .get(reqwest::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            Err(e) if e.kind() == Some(crate::error::ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `content` to a volume file; refused if it exists unless `overwrite`.
    pub async fn upload_file(
        &self,
        path: &str,
        content: bytes::Bytes,
        overwrite: bool,
    ) -> Result<(), Error> {
        self.send_body(
            Method::PUT,
            &api_path("files", path),
            &[("overwrite", overwrite.to_string())],
            RequestBody::Bytes(content),
            &[],
        )
        .await?;
        Ok(())
    }
}
