//! Table lineage (`GET /api/2.0/lineage-tracking/table-lineage`): `table_name` (required,
//! `catalog.schema.table`) and `include_entity_lineage`, from the query string or a JSON
//! body (the documented `curl` example sends a body with its GET).

use axum::response::Response;
use databricks_api::backend::Lineage;
use databricks_api::error::ApiError;

use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// `rest`: the path after `/api/2.0/lineage-tracking`.
pub(crate) async fn route(
    backend: &dyn Lineage,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["table-lineage"]) => table_lineage(backend, req).await,
        _ => Err(endpoint_not_found(req)),
    }
}

async fn table_lineage(backend: &dyn Lineage, req: &ApiRequest) -> Result<Response, ApiError> {
    let name = req.required_param("table_name")?;
    let include_entities = req.flag_param("include_entity_lineage")?;
    crate::catalog::split::<3>(&name, "table")?;
    let mut lineage = backend.table_lineage(&name, include_entities).await?;
    if !include_entities {
        // The entities are the flag's to add: a backend's extra ones are dropped here.
        for node in lineage
            .upstreams
            .iter_mut()
            .chain(lineage.downstreams.iter_mut())
        {
            node.notebook_infos.clear();
            node.job_infos.clear();
            node.pipeline_infos.clear();
            node.query_infos.clear();
        }
        // A node that only named an entity says nothing without it.
        lineage
            .upstreams
            .retain(|n| n.table_info.is_some() || n.file_info.is_some());
        lineage
            .downstreams
            .retain(|n| n.table_info.is_some() || n.file_info.is_some());
    }
    Ok(json_response(200, &lineage))
}
