//! The local workspace's services, as backends of the shared workspace server: this
//! module wires them to `workspace_server::front`, which owns every HTTP concern (the
//! listener, reading requests, the bearer token, the protocol). The local workspace has no
//! HTTP code of its own.

pub(crate) mod catalog;
pub(crate) mod compute;
pub(crate) mod files;
pub(crate) mod genie_one;
pub(crate) mod genie_spaces;
pub(crate) mod history;
pub(crate) mod jobs;
pub(crate) mod lineage;
pub(crate) mod pipelines;
pub(crate) mod serving;
pub(crate) mod statements;
pub(crate) mod vector_search;
pub(crate) mod workspace;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::RunningApi;
use crate::engine::Engine;
use crate::error::LocalError;
use crate::layout::Layout;

/// State shared by every server of one workspace.
pub(crate) struct Shared {
    pub layout: Layout,
    pub engine: Engine,
    pub jobs: jobs::Jobs,
    pub pipelines: pipelines::Pipelines,
    /// Every statement the warehouse ran (in memory, bounded).
    pub history: Arc<history::History>,
    /// Table lineage edges, kept in the workspace directory.
    pub lineage: lineage::LineageStore,
    /// The lifecycles of the warehouse and the cluster.
    pub compute: compute::Compute,
    pub started_ms: i64,
    /// Whether `samples.tpch` can be read yet.
    pub samples: Arc<crate::samples::SamplesStatus>,
    /// Model Serving: the chat model this workspace forwards to, if it has one.
    pub serving: Arc<serving::LocalServing>,
    /// Genie One's conversations.
    pub genie_one: genie_one::Conversations,
}

impl Shared {
    pub fn new(
        layout: Layout,
        engine: Engine,
        samples: Arc<crate::samples::SamplesStatus>,
    ) -> Result<Shared, LocalError> {
        let jobs = jobs::Jobs::load(&layout)?;
        let pipelines = pipelines::Pipelines::load(&layout)?;
        let lineage = lineage::LineageStore::load(&layout);
        let started_ms = crate::layout::now_ms();
        Ok(Shared {
            layout,
            engine,
            jobs,
            pipelines,
            history: Arc::default(),
            lineage,
            compute: compute::Compute::new(started_ms),
            started_ms,
            samples,
            serving: Arc::new(serving::LocalServing::new(crate::layout::user_name())),
            genie_one: genie_one::Conversations::default(),
        })
    }

    pub fn allow_writes(&self) -> bool {
        self.engine.allow_writes
    }
}

/// Serves the workspace on `addr` (loopback only) with a fresh bearer token.
pub(crate) async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> Result<RunningApi, LocalError> {
    if !addr.ip().is_loopback() {
        return Err(LocalError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| LocalError::Bind { addr, source })?;
    let token = format!(
        "dapi{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let served = workspace_server::front::serve(listener, token.clone(), |base_url| {
        backends(&shared, base_url)
    })
    .map_err(|source| LocalError::Bind { addr, source })?;
    tracing::info!("local workspace API listening on {}", served.base_url);
    Ok(RunningApi {
        base_url: served.base_url.clone(),
        token,
        served,
    })
}

/// Every service of the workspace, on its data; `base_url` is the front's own.
fn backends(shared: &Arc<Shared>, base_url: &str) -> workspace_server::Backends {
    workspace_server::Backends {
        unity_catalog: Some(shared.clone()),
        warehouses: Some(Arc::new(compute::LocalWarehouse {
            base_url: base_url.to_string(),
            shared: shared.clone(),
        })),
        clusters: Some(Arc::new(compute::LocalCluster {
            shared: shared.clone(),
        })),
        identity: Some(Arc::new(compute::LocalIdentity)),
        query_history: Some(shared.clone()),
        lineage: Some(shared.clone()),
        serving: Some(shared.serving.clone()),
        genie_one: Some(Arc::new(genie_one::LocalGenieOne {
            shared: shared.clone(),
        })),
        genie_spaces: Some(Arc::new(genie_spaces::LocalGenieSpaces {
            shared: shared.clone(),
        })),
        workspace: Some(shared.clone()),
        files: Some(shared.clone()),
        vector_search: Some(shared.clone()),
        statements: Some(Arc::new(workspace_server::StatementService::new(
            Arc::new(statements::LocalStatements {
                shared: shared.clone(),
            }),
            base_url,
            workspace_server::StatementOptions {
                hybrid_disposition: true,
                archive: Some(shared.layout.statement_results()),
            },
        ))),
        jobs: Some(Arc::new(jobs::LocalJobs {
            shared: shared.clone(),
        })),
        pipelines: Some(Arc::new(pipelines::LocalPipelines {
            shared: shared.clone(),
        })),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
