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
pub mod front;
mod genie_one;
mod genie_spaces;
mod history;
pub mod jobs;
mod lineage;
mod paging;
mod pipelines;
mod request;
mod response;
mod serving;
mod statements;
mod vector_search;
mod warehouses;
mod workspace;

use std::sync::Arc;

use axum::response::Response;
use databricks_api::backend::Backends;
use databricks_api::error::ApiError;

pub use paging::{decode_cursor, decode_token, encode_cursor, encode_token};
pub use request::ApiRequest;
pub use response::{bytes_response, error_response, json_response};
use statements::StatementService;

/// One workspace as the server serves it: the services of its backends, and the
/// statements it keeps for its SQL backend.
pub struct Workspace {
    backends: Backends,
    statements: Option<StatementService>,
    /// DBFS streaming uploads in progress.
    dbfs_streams: files::Streams,
}

impl Workspace {
    /// `base_url` is the front's own URL: statements' external links point at it.
    pub fn new(backends: Backends, base_url: &str) -> Workspace {
        let statements = backends
            .statements
            .clone()
            .map(|backend| StatementService::new(backend, base_url));
        Workspace {
            backends,
            statements,
            dbfs_streams: files::Streams::default(),
        }
    }
}

/// Answers `request` if its path belongs to a service this crate serves, else `None`.
pub async fn dispatch(workspace: &Workspace, request: &ApiRequest) -> Option<Response> {
    match answer(workspace, request).await {
        Ok(response) => response,
        Err(error) => Some(error_response(error)),
    }
}

/// Answers a request that carries no Databricks credentials: the pre-signed downloads
/// behind external links, which authenticate by their signature. A front asks this
/// before it checks the bearer token; `None` for every other path.
pub async fn dispatch_download(workspace: &Workspace, request: &ApiRequest) -> Option<Response> {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        [statements::DOWNLOAD_PREFIX, rest @ ..] => Some(match &workspace.statements {
            Some(service) => service.download(request, rest).await,
            None => error_response(request::endpoint_not_found(request)),
        }),
        _ => None,
    }
}

/// The service's answer, `Ok(None)` for a path of no service here.
async fn answer(workspace: &Workspace, request: &ApiRequest) -> Result<Option<Response>, ApiError> {
    let backends = &workspace.backends;
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let response = match segments.as_slice() {
        ["api", "2.1", "unity-catalog", rest @ ..] => {
            catalog::route(offered(&backends.unity_catalog, request)?, request, rest).await
        }
        ["api", "2.0", "sql", "warehouses", rest @ ..] => {
            warehouses::route(offered(&backends.warehouses, request)?, request, rest).await
        }
        ["api", "2.0" | "2.1", "clusters", rest @ ..] => {
            clusters::route(offered(&backends.clusters, request)?, request, rest).await
        }
        ["api", "2.0", "sql", "statements", rest @ ..] => {
            let service = workspace
                .statements
                .as_ref()
                .ok_or_else(|| request::endpoint_not_found(request))?;
            statements::route(service, request, rest).await
        }
        ["api", "2.0", "sql", "history", rest @ ..] => {
            history::route(offered(&backends.query_history, request)?, request, rest).await
        }
        ["api", "2.0", "lineage-tracking", rest @ ..] => {
            lineage::route(offered(&backends.lineage, request)?, request, rest).await
        }
        ["api", "2.0", "serving-endpoints", rest @ ..] => {
            serving::route_api(offered(&backends.serving, request)?, request, rest).await
        }
        // Invocations live at the workspace root, not under /api/.
        ["serving-endpoints", rest @ ..] => {
            serving::route_invocations(offered(&backends.serving, request)?, request, rest).await
        }
        ["api", "2.0", "genie", "one", rest @ ..] => {
            genie_one::route(
                Arc::clone(offered_arc(&backends.genie_one, request)?),
                request,
                rest,
            )
            .await
        }
        ["api", "2.0", "genie", "spaces", rest @ ..] => {
            genie_spaces::route(offered(&backends.genie_spaces, request)?, request, rest).await
        }
        ["api", "2.0", "workspace", rest @ ..] => {
            workspace::route(offered(&backends.workspace, request)?, request, rest).await
        }
        ["api", "2.0", "fs", rest @ ..] => {
            files::route_fs(offered(&backends.files, request)?, request, rest).await
        }
        ["api", "2.0", "dbfs", rest @ ..] => {
            files::route_dbfs(
                offered(&backends.files, request)?,
                &workspace.dbfs_streams,
                request,
                rest,
            )
            .await
        }
        ["api", "2.0", "vector-search", rest @ ..] => {
            vector_search::route(offered(&backends.vector_search, request)?, request, rest).await
        }
        ["api", "2.0", "pipelines", rest @ ..] => {
            pipelines::route(offered(&backends.pipelines, request)?, request, rest).await
        }
        ["api", "2.2", "jobs", rest @ ..] => {
            jobs::route(
                offered(&backends.jobs, request)?,
                request,
                jobs::Version::V22,
                rest,
            )
            .await
        }
        ["api", "2.1", "jobs", rest @ ..] => {
            jobs::route(
                offered(&backends.jobs, request)?,
                request,
                jobs::Version::V21,
                rest,
            )
            .await
        }
        ["api", "2.0", "preview", "scim", "v2", "Me"] => {
            match (&backends.identity, request.method.as_str()) {
                (Some(backend), "GET" | "HEAD") => backend
                    .current_user()
                    .await
                    .map(|user| json_response(200, &user)),
                _ => Err(request::endpoint_not_found(request)),
            }
        }
        _ => return Ok(None),
    };
    response.map(Some)
}

/// The backend of a service, or `ENDPOINT_NOT_FOUND` when this workspace has none, as a
/// workspace without the feature answers.
fn offered<'a, T: ?Sized>(
    backend: &'a Option<Arc<T>>,
    request: &ApiRequest,
) -> Result<&'a T, ApiError> {
    offered_arc(backend, request).map(Arc::as_ref)
}

fn offered_arc<'a, T: ?Sized>(
    backend: &'a Option<Arc<T>>,
    request: &ApiRequest,
) -> Result<&'a Arc<T>, ApiError> {
    backend
        .as_ref()
        .ok_or_else(|| request::endpoint_not_found(request))
}
