//! SQL warehouses, clusters and the current user: the local engine is the one warehouse
//! and the one cluster. The engine always runs; the warehouse and the cluster report the
//! lifecycle their API asks for (stop, start, restart, terminate), moving through the
//! transitional state for a moment as Databricks does, and the cluster records its
//! events. A statement sent to a stopped warehouse starts it, as Databricks does.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use databricks_api::backend::{Answer, Identity, Warehouses};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::iam::CurrentUser;
use databricks_api::sql::{Warehouse, WarehouseState};

use super::{Api, HandlerResult, Req, Shared, bad_request, error, lock, ok};
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
    events: Vec<Value>,
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
                    event(started_ms, "STARTING", json!({"user": user})),
                    event(
                        started_ms,
                        "RUNNING",
                        json!({"current_num_workers": 0, "target_num_workers": 0}),
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

fn event(timestamp: i64, kind: &str, details: Value) -> Value {
    json!({"cluster_id": CLUSTER_ID, "timestamp": timestamp, "type": kind, "details": details})
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

impl Warehouses for LocalWarehouse {
    fn warehouses(&self) -> Answer<'_, Vec<Warehouse>> {
        Box::pin(async move { Ok(vec![self.info()]) })
    }

    fn warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, Warehouse> {
        Box::pin(async move { self.find(id) })
    }

    /// Idempotent: a running or starting warehouse is left alone.
    fn start_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            self.find(id)?;
            let mut w = lock(&self.shared.compute.warehouse);
            if matches!(w.current(), "STOPPED" | "STOPPING") {
                w.go("STARTING", "RUNNING");
            }
            Ok(())
        })
    }

    /// Idempotent: a stopped or stopping warehouse is left alone. Statements running on
    /// it finish (the engine is shared); a new one starts it again.
    fn stop_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            self.find(id)?;
            let mut w = lock(&self.shared.compute.warehouse);
            if !matches!(w.current(), "STOPPED" | "STOPPING") {
                w.go("STOPPING", "STOPPED");
            }
            Ok(())
        })
    }
}

fn cluster(api: &Api) -> Value {
    let sh = &api.shared;
    let mut c = lock(&sh.compute.cluster);
    let state = c.life.current();
    let (started, restarted, terminated) = (c.started_ms, c.restarted_ms, c.terminated_ms);
    drop(c);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let user = crate::layout::user_name();
    let mut v = json!({
        "cluster_id": CLUSTER_ID,
        "cluster_name": "Local DataFusion engine",
        "spark_version": "local-datafusion-55.2",
        "node_type_id": "local",
        "driver_node_type_id": "local",
        "num_workers": 0,
        "creator_user_name": user,
        "cluster_source": "API",
        "state": state,
        "state_message": state_message(state),
        "start_time": started,
        "last_restarted_time": restarted,
        "autotermination_minutes": 0,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": user,
        "runtime_engine": "STANDARD",
        "is_single_node": true,
        "cluster_cores": cores as f64,
        "spark_conf": {},
        "custom_tags": {"engine": "datafusion"},
        "default_tags": {"Vendor": "local-workspace", "ClusterId": CLUSTER_ID, "ClusterName": "Local DataFusion engine", "Creator": user},
        "driver": {"node_id": "local", "host_private_ip": "127.0.0.1", "private_ip": "127.0.0.1", "start_timestamp": started},
        "spark_context_id": 1,
        "enable_elastic_disk": false,
        "enable_local_disk_encryption": false,
        "jdbc_port": 0,
    });
    if let (Some(at), "TERMINATING" | "TERMINATED") = (terminated, state) {
        v["terminated_time"] = json!(at);
        v["termination_reason"] = termination_reason(&user);
    }
    v
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

fn termination_reason(user: &str) -> Value {
    json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": user}})
}

/// `Pending` for `PENDING`, as Databricks writes states in messages.
fn pretty(state: &str) -> String {
    let lower = state.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

pub(crate) fn list_clusters(api: &Api, req: &Req) -> HandlerResult {
    let states: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "filter_by.cluster_states" || k == "filter_by[cluster_states]")
        .map(|(_, v)| v.as_str())
        .collect();
    let state = api.shared.compute.cluster_state();
    if !states.is_empty() && !states.iter().any(|s| s.eq_ignore_ascii_case(state)) {
        return ok(json!({}));
    }
    ok(json!({"clusters": [cluster(api)]}))
}

pub(crate) fn get_cluster(api: &Api, req: &Req) -> HandlerResult {
    match req.q("cluster_id") {
        None => Err(bad_request("Missing required parameter: cluster_id.")),
        Some(id) if id == CLUSTER_ID => ok(cluster(api)),
        Some(id) => Err(error(
            400,
            "INVALID_PARAMETER_VALUE",
            format!(
                "Cluster {id} does not exist. The local workspace has one cluster: {CLUSTER_ID}."
            ),
        )),
    }
}

fn unknown_cluster(id: &str) -> axum::response::Response {
    error(
        400,
        "INVALID_PARAMETER_VALUE",
        format!("Cluster {id} does not exist. The local workspace has one cluster: {CLUSTER_ID}."),
    )
}

/// `start` (a terminated cluster: PENDING → RUNNING), `restart` (a running one:
/// RESTARTING → RUNNING; one already starting is left alone), `delete` (terminate:
/// TERMINATING → TERMINATED; idempotent). Each records its events.
pub(crate) fn cluster_action(api: &Api, req: &Req, action: &str) -> HandlerResult {
    let id = req
        .body_str("cluster_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad_request("Missing required parameter: cluster_id."))?;
    if id != CLUSTER_ID {
        return Err(unknown_cluster(id));
    }
    let user = crate::layout::user_name();
    let mut c = lock(&api.shared.compute.cluster);
    let state = c.life.current();
    let now = now_ms();
    let settled = now + i64::try_from(TRANSITION.as_millis()).unwrap_or(0);
    let unexpected = || {
        error(
            400,
            "INVALID_STATE",
            format!("Cluster {id} is in unexpected state {}.", pretty(state)),
        )
    };
    let running = json!({"current_num_workers": 0, "target_num_workers": 0});
    match (action, state) {
        ("start", "TERMINATED" | "ERROR") => {
            c.life.go("PENDING", "RUNNING");
            c.started_ms = now;
            c.restarted_ms = now;
            c.terminated_ms = None;
            c.events.push(event(now, "STARTING", json!({"user": user})));
            c.events.push(event(settled, "RUNNING", running));
        }
        ("start", _) => return Err(unexpected()),
        ("restart", "RUNNING") => {
            c.life.go("RESTARTING", "RUNNING");
            c.restarted_ms = now;
            c.events
                .push(event(now, "RESTARTING", json!({"user": user})));
            c.events.push(event(settled, "RUNNING", running));
        }
        ("restart", "PENDING" | "RESTARTING") => {}
        ("restart", _) => {
            return Err(error(
                400,
                "INVALID_STATE",
                format!(
                    "Cluster {id} is in unexpected state {}: start it instead of restarting it.",
                    pretty(state)
                ),
            ));
        }
        (_, "TERMINATED" | "TERMINATING") => {}
        _ => {
            c.life.go("TERMINATING", "TERMINATED");
            c.terminated_ms = Some(settled);
            let reason = termination_reason(&user);
            c.events.push(event(
                now,
                "TERMINATING",
                json!({"user": user, "reason": reason}),
            ));
            c.events
                .push(event(settled, "TERMINATED", json!({"reason": reason})));
        }
    }
    ok(json!({}))
}

/// §5.5: `cluster_id` (required), `start_time`/`end_time`, `event_types`, `order`
/// (default DESC), `page_size` (0–500, 0 ⇒ 50; or the older `limit`) with `page_token`
/// (or the older `offset`).
pub(crate) fn cluster_events(api: &Api, req: &Req) -> HandlerResult {
    let id = req
        .body_str("cluster_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad_request("Missing required parameter: cluster_id."))?;
    if id != CLUSTER_ID {
        return Err(unknown_cluster(id));
    }
    let number = |name: &str| -> Result<Option<i64>, axum::response::Response> {
        match req.json.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| bad_request(format!("{name} must be an integer, got {v}."))),
        }
    };
    let size = match number("page_size")?.or(number("limit")?) {
        None | Some(0) => 50,
        Some(n) if (1..=500).contains(&n) => n,
        Some(n) => {
            return Err(bad_request(format!(
                "page_size must be between 0 and 500, got {n}."
            )));
        }
    };
    let (from, to) = (number("start_time")?, number("end_time")?);
    let types: Vec<&str> = match req.json.get("event_types") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(bad_request("event_types must be an array of event types.")),
    };
    let ascending = match req.body_str("order") {
        None | Some("DESC") => false,
        Some("ASC") => true,
        Some(o) => {
            return Err(bad_request(format!(
                "order must be ASC or DESC, got '{o}'."
            )));
        }
    };
    let mut events: Vec<Value> = lock(&api.shared.compute.cluster)
        .events
        .iter()
        .filter(|e| {
            let t = e.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
            from.is_none_or(|f| t >= f)
                && to.is_none_or(|x| t <= x)
                && (types.is_empty() || types.contains(&kind))
        })
        .cloned()
        .collect();
    if !ascending {
        events.reverse();
    }
    let total = events.len();
    let token = match req.body_str("page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(t.to_string()),
        None => match number("offset")? {
            Some(o) if o > 0 => Some(super::encode_token(usize::try_from(o).unwrap_or(0))),
            _ => None,
        },
    };
    let (page, next) = super::page(&events, Some(size), token.as_deref(), 500)?;
    let mut v = json!({"total_count": total});
    if !page.is_empty() {
        v["events"] = json!(page);
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

/// The one user: whoever runs the process.
pub(crate) struct LocalIdentity;

impl Identity for LocalIdentity {
    fn current_user(&self) -> Answer<'_, CurrentUser> {
        Box::pin(async {
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
        })
    }
}
