//! SQL Warehouses API 2.0 (REFERENCE.md §2): list, get, start, stop.

use axum::response::Response;
use databricks_api::backend::Warehouses;
use databricks_api::error::ApiError;
use databricks_api::paging::slice;
use databricks_api::sql::ListWarehousesResponse;

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// Page size when `page_size` is 0 or a token continues a listing without one.
const DEFAULT_PAGE: usize = 100;

/// `rest`: the path after `/api/2.0/sql/warehouses`.
pub(crate) async fn route(
    backend: &dyn Warehouses,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", [] | [""]) => list(backend, req).await,
        ("GET" | "HEAD", [id]) => Ok(json_response(200, &backend.warehouse(id).await?)),
        ("POST", [id, "start"]) => {
            backend.start_warehouse(id).await?;
            Ok(json_response(200, &serde_json::Map::new()))
        }
        ("POST", [id, "stop"]) => {
            backend.stop_warehouse(id).await?;
            Ok(json_response(200, &serde_json::Map::new()))
        }
        _ => Err(endpoint_not_found(req)),
    }
}

/// §2.1: without `page_size` and `page_token` everything in one answer (what older
/// servers do and clients must handle); otherwise token pages.
async fn list(backend: &dyn Warehouses, req: &ApiRequest) -> Result<Response, ApiError> {
    let page_size = req.integer("page_size")?;
    let token = req.query("page_token").filter(|t| !t.is_empty());
    let size = match page_size {
        None if token.is_none() => None,
        Some(n) if n < 0 => {
            return Err(ApiError::invalid_parameter(
                "page_size must be greater than or equal to 0",
            ));
        }
        Some(0) | None => Some(DEFAULT_PAGE),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let offset = decode_token("warehouses", token)?;
    let (warehouses, next) = slice(backend.warehouses().await?, offset, size);
    Ok(json_response(
        200,
        &ListWarehousesResponse {
            warehouses,
            next_page_token: next.map(|n| encode_token("warehouses", n)),
        },
    ))
}
