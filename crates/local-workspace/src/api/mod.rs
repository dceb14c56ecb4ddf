//! The local workspace's services, as backends of the shared workspace server
//! ([`databricks_api::backend::Backends`]). Whoever serves the workspace (the binary's
//! startup, tests) hands them to `workspace_server::front`, which owns every HTTP concern:
//! the local workspace has no HTTP code of its own.

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

use std::sync::{Arc, Mutex, MutexGuard};

use databricks_api::backend::Backends;

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

/// Every service of the workspace, on its data; `base_url` is the front's own.
pub(crate) fn backends(shared: &Arc<Shared>, base_url: &str) -> Backends {
    Backends {
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
        statements: Some(Arc::new(statements::LocalStatements {
            shared: shared.clone(),
        })),
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
