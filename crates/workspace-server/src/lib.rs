//! The server side of the Databricks REST API, written once.
//!
//! A front (the emulator's, the local workspace's) reads an HTTP request into an
//! [`ApiRequest`] and asks [`dispatch`]; this crate checks the parameters as the reference
//! (`shared/databricks-api/REFERENCE.md`) specifies, pages, and writes the answer or the
//! error body, calling the backend traits of `databricks_api::backend` for data only.
//! So the backends cannot disagree on the protocol: they differ in their data.
//!
//! Services move here one at a time; [`dispatch`] answers `None` for paths of services a
//! front still serves itself.

// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod catalog;
mod clusters;
mod files;
mod genie_one;
mod history;
pub mod jobs;
mod lineage;
mod paging;
mod request;
mod response;
mod serving;
mod vector_search;
mod warehouses;
mod workspace;

use std::sync::Arc;

use axum::response::Response;
use databricks_api::backend::{
    Clusters, GenieOne, Identity, Lineage, QueryHistory, Serving, UnityCatalog, VectorSearch,
    VolumeFiles, Warehouses, WorkspaceObjects,
};

pub use paging::{decode_cursor, decode_token, encode_cursor, encode_token};
pub use request::ApiRequest;
pub use response::{bytes_response, error_response, json_response};

/// The backends one workspace serves, by service. A service without a backend answers
/// `ENDPOINT_NOT_FOUND`, as a workspace without the feature does.
#[derive(Clone, Default)]
pub struct Backends {
    pub unity_catalog: Option<Arc<dyn UnityCatalog>>,
    pub warehouses: Option<Arc<dyn Warehouses>>,
    pub clusters: Option<Arc<dyn Clusters>>,
    pub identity: Option<Arc<dyn Identity>>,
    pub query_history: Option<Arc<dyn QueryHistory>>,
    pub lineage: Option<Arc<dyn Lineage>>,
    pub serving: Option<Arc<dyn Serving>>,
    pub genie_one: Option<Arc<dyn GenieOne>>,
    pub workspace: Option<Arc<dyn WorkspaceObjects>>,
    pub files: Option<Arc<dyn VolumeFiles>>,
    pub vector_search: Option<Arc<dyn VectorSearch>>,
}

/// Answers `request` if its path belongs to a service this crate serves, else `None`.
pub async fn dispatch(backends: &Backends, request: &ApiRequest) -> Option<Response> {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let answer = match segments.as_slice() {
        ["api", "2.1", "unity-catalog", rest @ ..] => match &backends.unity_catalog {
            Some(backend) => catalog::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "sql", "warehouses", rest @ ..] => match &backends.warehouses {
            Some(backend) => warehouses::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0" | "2.1", "clusters", rest @ ..] => match &backends.clusters {
            Some(backend) => clusters::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "sql", "history", rest @ ..] => match &backends.query_history {
            Some(backend) => history::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "lineage-tracking", rest @ ..] => match &backends.lineage {
            Some(backend) => lineage::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "serving-endpoints", rest @ ..] => match &backends.serving {
            Some(backend) => serving::route_api(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        // Invocations live at the workspace root, not under /api/.
        ["serving-endpoints", rest @ ..] => match &backends.serving {
            Some(backend) => serving::route_invocations(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "genie", "one", rest @ ..] => match &backends.genie_one {
            Some(backend) => genie_one::route(backend.clone(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "workspace", rest @ ..] => match &backends.workspace {
            Some(backend) => workspace::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "fs", rest @ ..] => match &backends.files {
            Some(backend) => files::route_fs(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "dbfs", rest @ ..] => match &backends.files {
            Some(backend) => files::route_dbfs(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "vector-search", rest @ ..] => match &backends.vector_search {
            Some(backend) => vector_search::route(backend.as_ref(), request, rest).await,
            None => Err(request::endpoint_not_found(request)),
        },
        ["api", "2.0", "preview", "scim", "v2", "Me"] => {
            match (&backends.identity, request.method.as_str()) {
                (Some(backend), "GET" | "HEAD") => backend
                    .current_user()
                    .await
                    .map(|user| json_response(200, &user)),
                _ => Err(request::endpoint_not_found(request)),
            }
        }
        _ => return None,
    };
    Some(answer.unwrap_or_else(error_response))
}
