//! SQL warehouses, clusters and the current user: the local engine is the one warehouse
//! and the one cluster. The engine always runs; the warehouse and the cluster report the
//! lifecycle their API asks for (stop, start, restart, terminate), moving through the
//! transitional state for a moment as Databricks does, and the cluster records its
//! events. A statement sent to a stopped warehouse starts it, as Databricks does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use databricks_api::backend::{Answer, Clusters, Identity, Warehouses, async_trait};
use databricks_api::compute::{
    Cluster, ClusterEvent, EventDetails, SparkNode, TerminationReason, cluster_not_found,
};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::iam::CurrentUser;
use databricks_api::sql::{Warehouse, WarehouseState};

use super::{Shared, lock};
use crate::layout::now_ms;
use crate::{CLUSTER_ID, WAREHOUSE_ID};

/// How long a transitional state (STARTING, STOPPING, RESTARTING, …) lasts.
const TRANSITION: Duration = Duration::from_millis(300);

/// A state, and the state it settles into after [`TRANSITION`].
struct Lifecycle {
    state: &'static str,
    settles: Option<(Instant, &'static str)>,
}

impl Lifecycle {
    fn running() -> Lifecycle {
        Lifecycle {
            state: "RUNNING",
            settles: None,
        }
    }

    fn current(&mut self) -> &'static str {
        if let Some((at, next)) = self.settles
            && Instant::now() >= at
        {
            self.state = next;
            self.settles = None;
        }
        self.state
    }

    fn go(&mut self, now: &'static str, then: &'static str) {
        self.state = now;
        self.settles = Some((Instant::now() + TRANSITION, then));
    }
}

/// The lifecycles of the warehouse and the cluster, and the cluster's events (in memory:
/// a new process starts them RUNNING again, as its engine is).
pub(crate) struct Compute {
    warehouse: Mutex<Lifecycle>,
    cluster: Mutex<ClusterLife>,
}

struct ClusterLife {
    life: Lifecycle,
    started_ms: i64,
    restarted_ms: i64,
    terminated_ms: Option<i64>,
    /// Oldest first.
    events: Vec<ClusterEvent>,
}

impl Compute {
    pub fn new(started_ms: i64) -> Compute {
        let user = crate::layout::user_name();
        Compute {
            warehouse: Mutex::new(Lifecycle::running()),
            cluster: Mutex::new(ClusterLife {
                life: Lifecycle::running(),
                started_ms,
                restarted_ms: started_ms,
                terminated_ms: None,
                events: vec![
                    event(
                        CLUSTER_ID,
                        started_ms,
                        "STARTING",
                        EventDetails {
                            user: Some(user),
                            ..EventDetails::default()
                        },
                    ),
                    event(
                        CLUSTER_ID,
                        started_ms,
                        "RUNNING",
                        EventDetails {
                            current_num_workers: Some(0),
                            target_num_workers: Some(0),
                            ..EventDetails::default()
                        },
                    ),
                ],
            }),
        }
    }

    /// A statement is about to run: a stopped warehouse starts.
    pub fn statement_starts(&self) {
        let mut w = lock(&self.warehouse);
        if matches!(w.current(), "STOPPED" | "STOPPING") {
            w.go("STARTING", "RUNNING");
        }
    }

    fn warehouse_state(&self) -> WarehouseState {
        match lock(&self.warehouse).current() {
            "STARTING" => WarehouseState::Starting,
            "STOPPING" => WarehouseState::Stopping,
            "STOPPED" => WarehouseState::Stopped,
            _ => WarehouseState::Running,
        }
    }

    fn cluster_state(&self) -> &'static str {
        lock(&self.cluster).life.current()
    }
}

fn event(id: &str, timestamp: i64, kind: &str, details: EventDetails) -> ClusterEvent {
    ClusterEvent {
        cluster_id: Some(id.to_string()),
        timestamp: Some(timestamp),
        type_: Some(kind.to_string()),
        details: Some(details),
    }
}

/// The one warehouse: the engine of this process.
pub(crate) struct LocalWarehouse {
    /// The API's base URL, for the JDBC/ODBC connection details.
    pub base_url: String,
    pub shared: Arc<Shared>,
}

impl LocalWarehouse {
    fn find(&self, id: &str) -> Result<Warehouse, ApiError> {
        if id != WAREHOUSE_ID {
            return Err(ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!(
                    "SQL warehouse {id} does not exist. The local workspace has one warehouse: {WAREHOUSE_ID}."
                ),
            ));
        }
        Ok(self.info())
    }

    fn info(&self) -> Warehouse {
        let address = self.base_url.trim_start_matches("http://");
        let (host, port) = address.rsplit_once(':').unwrap_or((address, "0"));
        let port: u16 = port.parse().unwrap_or(0);
        let path = format!("/sql/1.0/warehouses/{WAREHOUSE_ID}");
        Warehouse {
            id: WAREHOUSE_ID.to_string(),
            name: "Local DataFusion engine".to_string(),
            state: self.shared.compute.warehouse_state(),
            cluster_size: Some("2X-Small".to_string()),
            warehouse_type: Some("PRO".to_string()),
            enable_serverless_compute: false,
            enable_photon: false,
            num_clusters: Some(1),
            min_num_clusters: Some(1),
            max_num_clusters: Some(1),
            auto_stop_mins: Some(0),
            num_active_sessions: Some(0),
            creator_name: Some(crate::layout::user_name()),
            spot_instance_policy: Some("POLICY_UNSPECIFIED".to_string()),
            channel: Some(
                json!({"name": "CHANNEL_NAME_CUSTOM", "dbsql_version": "local-datafusion-55"}),
            ),
            jdbc_url: Some(format!(
                "jdbc:databricks://{host}:{port}/default;transportMode=http;ssl=0;httpPath={path}"
            )),
            odbc_params: Some(
                json!({"hostname": host, "path": path, "protocol": "http", "port": port}),
            ),
            tags: Some(json!({"custom_tags": [
                {"key": "engine", "value": "datafusion"},
                {"key": "workspace", "value": "local"},
            ]})),
            health: Some(json!({
                "status": "HEALTHY",
                "summary": "The local engine runs in this process.",
            })),
            ..Warehouse::default()
        }
    }
}

#[async_trait]
impl Warehouses for LocalWarehouse {
    async fn warehouses(&self) -> Answer<Vec<Warehouse>> {
        Ok(vec![self.info()])
    }

    async fn warehouse(&self, id: &str) -> Answer<Warehouse> {
        self.find(id)
    }

    /// Idempotent: a running or starting warehouse is left alone.
    async fn start_warehouse(&self, id: &str) -> Answer<()> {
        self.find(id)?;
        let mut w = lock(&self.shared.compute.warehouse);
        if matches!(w.current(), "STOPPED" | "STOPPING") {
            w.go("STARTING", "RUNNING");
        }
        Ok(())
    }

    /// Idempotent: a stopped or stopping warehouse is left alone. Statements running on
    /// it finish (the engine is shared); a new one starts it again.
    async fn stop_warehouse(&self, id: &str) -> Answer<()> {
        self.find(id)?;
        let mut w = lock(&self.shared.compute.warehouse);
        if !matches!(w.current(), "STOPPED" | "STOPPING") {
            w.go("STOPPING", "STOPPED");
        }
        Ok(())
    }
}

/// The one cluster: the engine of this process, with its lifecycle and events.
pub(crate) struct LocalCluster {
    pub shared: Arc<Shared>,
}

impl LocalCluster {
    fn info(&self) -> Cluster {
        let mut c = lock(&self.shared.compute.cluster);
        let state = c.life.current();
        let (started, restarted, terminated) = (c.started_ms, c.restarted_ms, c.terminated_ms);
        drop(c);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let user = crate::layout::user_name();
        let name = "Local DataFusion engine";
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ended = matches!(state, "TERMINATING" | "TERMINATED");
        Cluster {
            cluster_id: CLUSTER_ID.to_string(),
            cluster_name: Some(name.to_string()),
            spark_version: Some("local-datafusion-55.2".to_string()),
            node_type_id: Some("local".to_string()),
            driver_node_type_id: Some("local".to_string()),
            num_workers: Some(0),
            creator_user_name: Some(user.clone()),
            cluster_source: Some("API".to_string()),
            state: Some(state.to_string()),
            state_message: Some(state_message(state).to_string()),
            start_time: Some(started),
            last_restarted_time: Some(restarted),
            autotermination_minutes: Some(0),
            data_security_mode: Some("SINGLE_USER".to_string()),
            single_user_name: Some(user.clone()),
            runtime_engine: Some("STANDARD".to_string()),
            is_single_node: Some(true),
            cluster_cores: Some(cores as f64),
            spark_conf: Some(BTreeMap::new()),
            custom_tags: Some(tags(&[("engine", "datafusion")])),
            default_tags: Some(tags(&[
                ("Vendor", "local-workspace"),
                ("ClusterId", CLUSTER_ID),
                ("ClusterName", name),
                ("Creator", user.as_str()),
            ])),
            driver: Some(SparkNode {
                node_id: Some("local".to_string()),
                host_private_ip: Some("127.0.0.1".to_string()),
                private_ip: Some("127.0.0.1".to_string()),
                start_timestamp: Some(started),
                ..SparkNode::default()
            }),
            spark_context_id: Some(1),
            enable_elastic_disk: Some(false),
            enable_local_disk_encryption: Some(false),
            jdbc_port: Some(0),
            terminated_time: terminated.filter(|_| ended),
            termination_reason: ended.then(|| termination_reason(&user)),
            ..Cluster::default()
        }
    }

    /// Moves the cluster `now`, then `then`, with the events of the change; the first
    /// event names the user.
    fn change(
        &self,
        id: &str,
        now: &'static str,
        then: &'static str,
        events: [&str; 2],
    ) -> Result<(), ApiError> {
        if id != CLUSTER_ID {
            return Err(cluster_not_found(id));
        }
        let user = crate::layout::user_name();
        let mut c = lock(&self.shared.compute.cluster);
        let at = now_ms();
        let settled = at + i64::try_from(TRANSITION.as_millis()).unwrap_or(0);
        c.life.go(now, then);
        let mut first = EventDetails {
            user: Some(user.clone()),
            ..EventDetails::default()
        };
        let second = match then {
            "TERMINATED" => {
                c.terminated_ms = Some(settled);
                first.reason = Some(termination_reason(&user));
                EventDetails {
                    reason: Some(termination_reason(&user)),
                    ..EventDetails::default()
                }
            }
            _ => {
                if now == "PENDING" {
                    c.started_ms = at;
                    c.terminated_ms = None;
                }
                c.restarted_ms = at;
                EventDetails {
                    current_num_workers: Some(0),
                    target_num_workers: Some(0),
                    ..EventDetails::default()
                }
            }
        };
        let [kind, settles] = events;
        c.events.push(event(id, at, kind, first));
        c.events.push(event(id, settled, settles, second));
        Ok(())
    }
}

fn state_message(state: &str) -> &'static str {
    match state {
        "PENDING" => "Starting the local engine.",
        "RESTARTING" => "Restarting the local engine.",
        "TERMINATING" => "Terminating.",
        "TERMINATED" => "Terminated by the user: start it to use it again.",
        _ => "The local engine runs in this process.",
    }
}

fn termination_reason(user: &str) -> TerminationReason {
    TerminationReason {
        code: Some("USER_REQUEST".to_string()),
        type_: Some("SUCCESS".to_string()),
        parameters: Some(BTreeMap::from([("username".to_string(), user.to_string())])),
    }
}

#[async_trait]
impl Clusters for LocalCluster {
    async fn clusters(&self) -> Answer<Vec<Cluster>> {
        Ok(vec![self.info()])
    }

    async fn cluster(&self, id: &str) -> Answer<Option<Cluster>> {
        Ok((id == CLUSTER_ID).then(|| self.info()))
    }

    async fn cluster_state(&self, id: &str) -> Answer<Option<String>> {
        Ok((id == CLUSTER_ID).then(|| self.shared.compute.cluster_state().to_string()))
    }

    async fn start_cluster(&self, id: &str) -> Answer<()> {
        self.change(id, "PENDING", "RUNNING", ["STARTING", "RUNNING"])
    }

    async fn restart_cluster(&self, id: &str) -> Answer<()> {
        self.change(id, "RESTARTING", "RUNNING", ["RESTARTING", "RUNNING"])
    }

    async fn terminate_cluster(&self, id: &str) -> Answer<()> {
        self.change(
            id,
            "TERMINATING",
            "TERMINATED",
            ["TERMINATING", "TERMINATED"],
        )
    }

    async fn cluster_events(&self, id: &str) -> Answer<Option<Vec<ClusterEvent>>> {
        Ok((id == CLUSTER_ID).then(|| lock(&self.shared.compute.cluster).events.clone()))
    }
}

/// The one user: whoever runs the process.
pub(crate) struct LocalIdentity;

#[async_trait]
impl Identity for LocalIdentity {
    async fn current_user(&self) -> Answer<CurrentUser> {
        let user = crate::layout::user_name();
        let name = user.split('@').next().unwrap_or("local").to_string();
        Ok(CurrentUser {
            id: "1".to_string(),
            display_name: Some(format!("{name} (local workspace)")),
            schemas: vec![
                "urn:ietf:params:scim:schemas:core:2.0:User".to_string(),
                "urn:ietf:params:scim:schemas:extension:workspace:2.0:User".to_string(),
            ],
            active: Some(true),
            name: Some(json!({"givenName": name, "familyName": ""})),
            emails: vec![json!({"type": "work", "value": user, "primary": true})],
            groups: vec![
                json!({"display": "admins", "type": "direct", "value": "1", "$ref": "Groups/1"}),
            ],
            entitlements: vec![
                json!({"value": "workspace-access"}),
                json!({"value": "databricks-sql-access"}),
            ],
            user_name: user,
            ..CurrentUser::default()
        })
    }
}
