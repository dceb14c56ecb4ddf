//! SQL warehouses, clusters and the current user: the local engine is the one warehouse
//! and the one cluster, always RUNNING.

use serde_json::{Value, json};

use databricks_api::backend::{Answer, Identity, Warehouses};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::iam::CurrentUser;
use databricks_api::sql::{Warehouse, WarehouseState};

use super::{Api, HandlerResult, Req, bad_request, error, ok};
use crate::{CLUSTER_ID, WAREHOUSE_ID};

/// The one warehouse: the engine of this process, always RUNNING.
pub(crate) struct LocalWarehouse {
    /// The API's base URL, for the JDBC/ODBC connection details.
    pub base_url: String,
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
            state: WarehouseState::Running,
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

    fn start_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move { self.find(id).map(|_| ()) })
    }

    fn stop_warehouse<'a>(&'a self, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            self.find(id)?;
            Err(ApiError::new(
                ErrorCode::InvalidState,
                "The local warehouse is the engine of this process and cannot be stopped; stop the server instead.",
            ))
        })
    }
}

fn cluster(api: &Api) -> Value {
    let sh = &api.shared;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let user = crate::layout::user_name();
    json!({
        "cluster_id": CLUSTER_ID,
        "cluster_name": "Local DataFusion engine",
        "spark_version": "local-datafusion-55.2",
        "node_type_id": "local",
        "driver_node_type_id": "local",
        "num_workers": 0,
        "creator_user_name": user,
        "cluster_source": "API",
        "state": "RUNNING",
        "state_message": "The local engine runs in this process.",
        "start_time": sh.started_ms,
        "last_restarted_time": sh.started_ms,
        "autotermination_minutes": 0,
        "data_security_mode": "SINGLE_USER",
        "single_user_name": user,
        "runtime_engine": "STANDARD",
        "is_single_node": true,
        "cluster_cores": cores as f64,
        "spark_conf": {},
        "custom_tags": {"engine": "datafusion"},
        "default_tags": {"Vendor": "local-workspace", "ClusterId": CLUSTER_ID, "ClusterName": "Local DataFusion engine", "Creator": user},
        "driver": {"node_id": "local", "host_private_ip": "127.0.0.1", "private_ip": "127.0.0.1", "start_timestamp": sh.started_ms},
        "spark_context_id": 1,
        "enable_elastic_disk": false,
        "enable_local_disk_encryption": false,
        "jdbc_port": 0,
    })
}

pub(crate) fn list_clusters(api: &Api, req: &Req) -> HandlerResult {
    let states: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "filter_by.cluster_states" || k == "filter_by[cluster_states]")
        .map(|(_, v)| v.as_str())
        .collect();
    if !states.is_empty() && !states.iter().any(|s| s.eq_ignore_ascii_case("RUNNING")) {
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

pub(crate) fn cluster_action(req: &Req, action: &str) -> HandlerResult {
    let id = req.body_str("cluster_id").unwrap_or_default();
    if id != CLUSTER_ID {
        return Err(error(
            400,
            "INVALID_PARAMETER_VALUE",
            format!(
                "Cluster {id} does not exist. The local workspace has one cluster: {CLUSTER_ID}."
            ),
        ));
    }
    if action == "delete" {
        return Err(error(
            400,
            "INVALID_STATE",
            "The local cluster is the engine of this process and cannot be terminated; stop the server instead.",
        ));
    }
    ok(json!({}))
}

pub(crate) fn cluster_events(api: &Api, req: &Req) -> HandlerResult {
    let id = req.body_str("cluster_id").unwrap_or_default();
    if id != CLUSTER_ID {
        return Err(error(
            400,
            "INVALID_PARAMETER_VALUE",
            format!("Cluster {id} does not exist."),
        ));
    }
    let t = api.shared.started_ms;
    ok(json!({
        "events": [
            {"cluster_id": CLUSTER_ID, "timestamp": t, "type": "RUNNING", "details": {"current_num_workers": 0, "target_num_workers": 0}},
            {"cluster_id": CLUSTER_ID, "timestamp": t, "type": "STARTING", "details": {"user": crate::layout::user_name()}},
        ],
        "total_count": 2
    }))
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
