//! SQL warehouses, clusters and the current user: the local engine is the one warehouse
//! and the one cluster, always RUNNING.

use serde_json::{Value, json};

use super::{Api, HandlerResult, Req, Shared, bad_request, error, ok, warehouse_info};
use crate::{CLUSTER_ID, WAREHOUSE_ID};

pub(crate) fn list_warehouses(api: &Api) -> HandlerResult {
    ok(json!({"warehouses": [warehouse_info(api)]}))
}

pub(crate) fn get_warehouse(api: &Api, id: &str) -> HandlerResult {
    if id != WAREHOUSE_ID {
        return Err(error(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            format!(
                "SQL warehouse {id} does not exist. The local workspace has one warehouse: {WAREHOUSE_ID}."
            ),
        ));
    }
    ok(warehouse_info(api))
}

pub(crate) fn warehouse_action(id: &str, action: &str) -> HandlerResult {
    if id != WAREHOUSE_ID {
        return Err(error(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            format!("SQL warehouse {id} does not exist."),
        ));
    }
    if action == "stop" {
        return Err(error(
            400,
            "INVALID_STATE",
            "The local warehouse is the engine of this process and cannot be stopped; stop the server instead.",
        ));
    }
    ok(json!({}))
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

pub(crate) fn me(_sh: &Shared) -> HandlerResult {
    let user = crate::layout::user_name();
    let name = user.split('@').next().unwrap_or("local").to_string();
    ok(json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"
        ],
        "id": "1",
        "userName": user,
        "displayName": format!("{name} (local workspace)"),
        "active": true,
        "name": {"givenName": name, "familyName": ""},
        "emails": [{"type": "work", "value": user, "primary": true}],
        "groups": [{"display": "admins", "type": "direct", "value": "1", "$ref": "Groups/1"}],
        "entitlements": [{"value": "workspace-access"}, {"value": "databricks-sql-access"}]
    }))
}
