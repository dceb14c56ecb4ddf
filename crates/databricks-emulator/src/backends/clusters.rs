//! Clusters (REFERENCE §5) as fixture data: the [`Clusters`] backend the shared workspace
//! server routes to. Start, restart and terminate move a cluster through its transitional
//! state (reported once, then the final one) and add the events a workspace records for
//! them to the fixture's history.

use std::collections::BTreeMap;
use std::sync::Mutex;

use databricks_api::backend::{Answer, Clusters};
use databricks_api::compute::{
    Cluster, ClusterEvent, EventDetails, TerminationReason, cluster_not_found,
};
use databricks_api::error::ApiError;
use serde_json::{Value, json};

use super::Tracked;
use crate::fixtures::fixture_json;
use crate::util::{fixture_model, items, lock, now_ms, set};

/// The user of the fixtures, as events name who asked.
const USER: &str = "alice@example.com";

/// The clusters of `clusters_list.json` with their states, and the events recorded since
/// the emulator started (oldest first).
pub(crate) struct FixtureClusters(Mutex<State>);

struct State {
    clusters: Tracked,
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

    /// The workers a running cluster has: its size, or its autoscale minimum.
    fn workers(&self, i: usize) -> i64 {
        let Some(cluster) = self.clusters.items.get(i) else {
            return 0;
        };
        cluster
            .get("num_workers")
            .and_then(Value::as_i64)
            .or_else(|| {
                cluster
                    .pointer("/autoscale/min_workers")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(0)
    }
}

impl FixtureClusters {
    pub fn new() -> FixtureClusters {
        let clusters = items(&fixture_json("clusters_list.json"), "clusters");
        FixtureClusters(Mutex::new(State {
            clusters: Tracked::new(clusters, "cluster_id"),
            recorded: Vec::new(),
        }))
    }

    /// Runs `change` on the cluster `id` (its index in the list).
    fn change(&self, id: &str, change: impl FnOnce(&mut State, usize)) -> Result<(), ApiError> {
        let mut state = lock(&self.0);
        let i = state
            .clusters
            .position(id)
            .ok_or_else(|| cluster_not_found(id))?;
        change(&mut state, i);
        Ok(())
    }

    fn start(&self, id: &str) -> Result<(), ApiError> {
        self.change(id, |state, i| {
            state.clusters.transition(
                i,
                "PENDING",
                Some(("RUNNING", Some(("state_message", json!(""))))),
            );
            if let Some(item) = state.clusters.item_mut(i) {
                set(item, "state_message", json!("Starting Spark"));
            }
            let workers = state.workers(i);
            state.record(id, "STARTING", user_details());
            state.record(id, "RUNNING", running_details(workers));
        })
    }

    fn restart(&self, id: &str) -> Result<(), ApiError> {
        self.change(id, |state, i| {
            state.clusters.transition(
                i,
                "RESTARTING",
                Some(("RUNNING", Some(("state_message", json!(""))))),
            );
            if let Some(item) = state.clusters.item_mut(i) {
                set(item, "state_message", json!("Restarting Spark"));
                set(item, "last_restarted_time", json!(now_ms()));
            }
            let workers = state.workers(i);
            state.record(id, "RESTARTING", user_details());
            state.record(id, "RUNNING", running_details(workers));
        })
    }

    fn terminate(&self, id: &str) -> Result<(), ApiError> {
        let reason =
            json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": USER}});
        self.change(id, |state, i| {
            state.clusters.transition(
                i,
                "TERMINATING",
                Some(("TERMINATED", Some(("termination_reason", reason)))),
            );
            if let Some(item) = state.clusters.item_mut(i) {
                set(item, "state_message", json!("Terminating"));
            }
            state.record(
                id,
                "TERMINATING",
                EventDetails {
                    reason: Some(user_request()),
                    ..user_details()
                },
            );
            state.record(
                id,
                "TERMINATED",
                EventDetails {
                    reason: Some(user_request()),
                    ..EventDetails::default()
                },
            );
        })
    }

    /// `get`: the list's cluster with its spec — `clusters_get.json`'s for that cluster,
    /// else the settings a user gives, taken from the cluster.
    fn read(&self, id: &str) -> Result<Option<Cluster>, ApiError> {
        let mut state = lock(&self.0);
        let Some(i) = state.clusters.position(id) else {
            return Ok(None);
        };
        let mut cluster: Cluster = fixture_model(state.clusters.read(i))?;
        let detailed: Cluster = fixture_model(fixture_json("clusters_get.json"))?;
        cluster.spec = match detailed.spec {
            Some(spec) if detailed.cluster_id == id => Some(spec),
            _ => Some(Box::new(spec_of(&cluster))),
        };
        Ok(Some(cluster))
    }

    fn read_all(&self) -> Result<Vec<Cluster>, ApiError> {
        let mut state = lock(&self.0);
        (0..state.clusters.items.len())
            .map(|i| fixture_model(state.clusters.read(i)))
            .collect()
    }

    /// The fixture's history (recorded newest first) under this cluster's id, then what
    /// happened here.
    fn events(&self, id: &str) -> Result<Option<Vec<ClusterEvent>>, ApiError> {
        let state = lock(&self.0);
        if state.clusters.position(id).is_none() {
            return Ok(None);
        }
        let mut events: Vec<ClusterEvent> = items(&fixture_json("clusters_events.json"), "events")
            .into_iter()
            .rev()
            .map(fixture_model)
            .collect::<Result<_, _>>()?;
        for event in &mut events {
            event.cluster_id = Some(id.to_string());
        }
        events.extend(
            state
                .recorded
                .iter()
                .filter(|e| e.cluster_id.as_deref() == Some(id))
                .cloned(),
        );
        Ok(Some(events))
    }
}

fn user_details() -> EventDetails {
    EventDetails {
        user: Some(USER.to_string()),
        ..EventDetails::default()
    }
}

fn running_details(workers: i64) -> EventDetails {
    EventDetails {
        current_num_workers: Some(workers),
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

impl Clusters for FixtureClusters {
    fn clusters(&self) -> Answer<'_, Vec<Cluster>> {
        Box::pin(async move { self.read_all() })
    }

    fn cluster<'a>(&'a self, id: &'a str) -> Answer<'a, Option<Cluster>> {
        Box::pin(async move { self.read(id) })
    }

    fn cluster_state<'a>(&'a self, id: &'a str) -> Answer<'a, Option<String>> {
        Box::pin(async move {
            let state = lock(&self.0);
            Ok(state
                .clusters
                .position(id)
                .map(|i| state.clusters.state(i).to_string()))
        })
    }

    fn start_cluster<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.start(id) })
    }

    fn restart_cluster<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.restart(id) })
    }

    fn terminate_cluster<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.terminate(id) })
    }

    fn cluster_events<'a>(&'a self, id: &'a str) -> Answer<'a, Option<Vec<ClusterEvent>>> {
        Box::pin(async move { self.events(id) })
    }
}
