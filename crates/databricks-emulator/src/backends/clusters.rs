//! Clusters (REFERENCE §5) as fixture data: the [`Clusters`] backend the shared workspace
//! server routes to. Start, restart and terminate move a cluster through its transitional
//! state (reported once, then the final one) and add the events a workspace records for
//! them to the fixture's history.

use std::collections::BTreeMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, Clusters, async_trait};
use databricks_api::compute::{
    Cluster, ClusterEvent, ClusterEventsPage, ClustersPage, EventDetails, TerminationReason,
    cluster_not_found,
};
use databricks_api::error::ApiError;

use super::Tracked;
use crate::fixtures::fixture_as;
use crate::util::{lock, now_ms};

/// The user of the fixtures, as events name who asked.
const USER: &str = "alice@example.com";

/// The clusters of `clusters_list.json` with their states, and the events recorded since
/// the emulator started (oldest first).
pub(crate) struct FixtureClusters(Mutex<State>);

struct State {
    clusters: Tracked<Cluster>,
    recorded: Vec<ClusterEvent>,
}

impl State {
    fn record(&mut self, id: &str, kind: &str, details: EventDetails) {
        self.recorded.push(ClusterEvent {
            cluster_id: Some(id.to_string()),
            timestamp: Some(now_ms()),
            type_: Some(kind.to_string()),
            details: Some(details),
        });
    }

    /// Moves cluster `id` to `through` (saying `message`), then to RUNNING, recording
    /// `event` (STARTING or RESTARTING) and RUNNING with its workers.
    fn start(&mut self, id: &str, (through, message, event): (&str, &str, &str)) {
        self.clusters.transition(
            id,
            |c| {
                c.state = Some(through.into());
                c.state_message = Some(message.into());
                if through == "RESTARTING" {
                    c.last_restarted_time = Some(now_ms());
                }
            },
            |c| {
                c.state = Some("RUNNING".into());
                c.state_message = Some(String::new());
            },
        );
        self.record(id, event, user_details());
        let workers = self.clusters.peek(id).map_or(0, workers);
        let details = EventDetails {
            current_num_workers: Some(workers),
            ..EventDetails::default()
        };
        self.record(id, "RUNNING", details);
    }

    fn terminate(&mut self, id: &str) {
        self.clusters.transition(
            id,
            |c| {
                c.state = Some("TERMINATING".into());
                c.state_message = Some("Terminating".into());
            },
            |c| {
                c.state = Some("TERMINATED".into());
                c.termination_reason = Some(user_request());
            },
        );
        let reason = Some(user_request());
        let terminating = EventDetails {
            reason: reason.clone(),
            ..user_details()
        };
        self.record(id, "TERMINATING", terminating);
        let terminated = EventDetails {
            reason,
            ..EventDetails::default()
        };
        self.record(id, "TERMINATED", terminated);
    }
}

/// The workers a running cluster has: its size, or its autoscale minimum.
fn workers(cluster: &Cluster) -> i64 {
    cluster
        .num_workers
        .or_else(|| cluster.autoscale.as_ref().and_then(|a| a.min_workers))
        .unwrap_or(0)
}

impl FixtureClusters {
    pub fn new() -> FixtureClusters {
        let list: ClustersPage = fixture_as("clusters_list.json");
        FixtureClusters(Mutex::new(State {
            clusters: Tracked::new(list.clusters, |c| &c.cluster_id),
            recorded: Vec::new(),
        }))
    }

    /// Runs `change` on the state when cluster `id` exists.
    fn change(&self, id: &str, change: impl FnOnce(&mut State)) -> Result<(), ApiError> {
        let mut state = lock(&self.0);
        state
            .clusters
            .peek(id)
            .ok_or_else(|| cluster_not_found(id))?;
        change(&mut state);
        Ok(())
    }
}

fn user_details() -> EventDetails {
    EventDetails {
        user: Some(USER.to_string()),
        ..EventDetails::default()
    }
}

fn user_request() -> TerminationReason {
    TerminationReason {
        code: Some("USER_REQUEST".to_string()),
        type_: Some("SUCCESS".to_string()),
        parameters: Some(BTreeMap::from([("username".to_string(), USER.to_string())])),
    }
}

/// The settings of a cluster a user chose.
fn spec_of(c: &Cluster) -> Cluster {
    Cluster {
        cluster_name: c.cluster_name.clone(),
        spark_version: c.spark_version.clone(),
        node_type_id: c.node_type_id.clone(),
        num_workers: c.num_workers,
        autoscale: c.autoscale.clone(),
        autotermination_minutes: c.autotermination_minutes,
        data_security_mode: c.data_security_mode.clone(),
        single_user_name: c.single_user_name.clone(),
        runtime_engine: c.runtime_engine.clone(),
        ..Cluster::default()
    }
}

#[async_trait]
impl Clusters for FixtureClusters {
    async fn clusters(&self) -> Answer<Vec<Cluster>> {
        Ok(lock(&self.0).clusters.read_all())
    }

    /// `get`: the list's cluster with its spec — `clusters_get.json`'s for that cluster,
    /// else the settings a user gives, taken from the cluster.
    async fn cluster(&self, id: &str) -> Answer<Option<Cluster>> {
        let Some(mut cluster) = lock(&self.0).clusters.read(id) else {
            return Ok(None);
        };
        let detailed: Cluster = fixture_as("clusters_get.json");
        cluster.spec = match detailed.spec {
            Some(spec) if detailed.cluster_id == id => Some(spec),
            _ => Some(Box::new(spec_of(&cluster))),
        };
        Ok(Some(cluster))
    }

    async fn cluster_state(&self, id: &str) -> Answer<Option<String>> {
        let state = lock(&self.0);
        Ok((state.clusters.peek(id)).map(|c| c.state.clone().unwrap_or_default()))
    }

    async fn start_cluster(&self, id: &str) -> Answer<()> {
        let steps = ("PENDING", "Starting Spark", "STARTING");
        self.change(id, |s| s.start(id, steps))
    }

    async fn restart_cluster(&self, id: &str) -> Answer<()> {
        let steps = ("RESTARTING", "Restarting Spark", "RESTARTING");
        self.change(id, |s| s.start(id, steps))
    }

    async fn terminate_cluster(&self, id: &str) -> Answer<()> {
        self.change(id, |s| s.terminate(id))
    }

    /// The fixture's history (recorded newest first) under this cluster's id, then what
    /// happened here.
    async fn cluster_events(&self, id: &str) -> Answer<Option<Vec<ClusterEvent>>> {
        let state = lock(&self.0);
        if state.clusters.peek(id).is_none() {
            return Ok(None);
        }
        let page: ClusterEventsPage = fixture_as("clusters_events.json");
        let mut events: Vec<ClusterEvent> = page.events.into_iter().rev().collect();
        for event in &mut events {
            event.cluster_id = Some(id.to_string());
        }
        let here = state.recorded.iter();
        events.extend(
            here.filter(|e| e.cluster_id.as_deref() == Some(id))
                .cloned(),
        );
        Ok(Some(events))
    }
}
