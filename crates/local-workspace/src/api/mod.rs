//! The Databricks REST API subset, on loopback, with bearer-token authentication.
//!
//! One fallback handler reads the request, authenticates it and dispatches on
//! (method, path segments) to the service modules; every error body is
//! `{"error_code", "message"}` as Databricks sends it.

pub(crate) mod catalog;
pub(crate) mod compute;
pub(crate) mod files;
pub(crate) mod genie_one;
pub(crate) mod genie_spaces;
pub(crate) mod history;
pub(crate) mod jobs;
pub(crate) mod lineage;
pub(crate) mod pipelines;
pub(crate) mod serving;
pub(crate) mod statements;
pub(crate) mod vector_search;
pub(crate) mod workspace;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::RunningApi;
use crate::engine::Engine;
use crate::error::LocalError;
use crate::layout::Layout;

/// Largest request body (volume uploads are the big ones).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// State shared by every server of one workspace.
pub(crate) struct Shared {
    pub layout: Layout,
    pub engine: Engine,
    pub jobs: jobs::Jobs,
    pub pipelines: pipelines::Pipelines,
    /// Every statement the warehouse ran (in memory, bounded).
    pub history: Arc<history::History>,
    /// Table lineage edges, kept in the workspace directory.
    pub lineage: lineage::LineageStore,
    /// The lifecycles of the warehouse and the cluster.
    pub compute: compute::Compute,
    pub started_ms: i64,
    /// Whether `samples.tpch` can be read yet.
    pub samples: Arc<crate::samples::SamplesStatus>,
    /// Model Serving: the chat model this workspace forwards to, if it has one.
    pub serving: Arc<serving::LocalServing>,
    /// Genie One's conversations.
    pub genie_one: genie_one::Conversations,
}

impl Shared {
    pub fn new(
        layout: Layout,
        engine: Engine,
        samples: Arc<crate::samples::SamplesStatus>,
    ) -> Result<Shared, LocalError> {
        let jobs = jobs::Jobs::load(&layout)?;
        let pipelines = pipelines::Pipelines::load(&layout)?;
        let lineage = lineage::LineageStore::load(&layout);
        let started_ms = crate::layout::now_ms();
        Ok(Shared {
            layout,
            engine,
            jobs,
            pipelines,
            history: Arc::default(),
            lineage,
            compute: compute::Compute::new(started_ms),
            started_ms,
            samples,
            serving: Arc::new(serving::LocalServing::new(crate::layout::user_name())),
            genie_one: genie_one::Conversations::default(),
        })
    }

    pub fn allow_writes(&self) -> bool {
        self.engine.allow_writes
    }
}

/// One server: the shared workspace plus this listener's URL and token.
pub(crate) struct Api {
    pub shared: Arc<Shared>,
    /// The services the shared workspace server answers, on this workspace's data.
    backends: workspace_server::Backends,
    token: String,
}

pub(crate) async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> Result<RunningApi, LocalError> {
    if !addr.ip().is_loopback() {
        return Err(LocalError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| LocalError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| LocalError::Bind { addr, source })?;
    let base_url = match local {
        SocketAddr::V4(a) => format!("http://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    };
    let token = format!(
        "dapi{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let backends = workspace_server::Backends {
        unity_catalog: Some(shared.clone()),
        warehouses: Some(Arc::new(compute::LocalWarehouse {
            base_url: base_url.clone(),
            shared: shared.clone(),
        })),
        clusters: Some(Arc::new(compute::LocalCluster {
            shared: shared.clone(),
        })),
        identity: Some(Arc::new(compute::LocalIdentity)),
        query_history: Some(shared.clone()),
        lineage: Some(shared.clone()),
        serving: Some(shared.serving.clone()),
        genie_one: Some(Arc::new(genie_one::LocalGenieOne {
            shared: shared.clone(),
        })),
        genie_spaces: Some(Arc::new(genie_spaces::LocalGenieSpaces {
            shared: shared.clone(),
        })),
        workspace: Some(shared.clone()),
        files: Some(shared.clone()),
        vector_search: Some(shared.clone()),
        statements: Some(Arc::new(workspace_server::StatementService::new(
            Arc::new(statements::LocalStatements {
                shared: shared.clone(),
            }),
            base_url.clone(),
            workspace_server::StatementOptions {
                hybrid_disposition: true,
                archive: Some(shared.layout.statement_results()),
            },
        ))),
    };
    let api = Arc::new(Api {
        shared,
        backends,
        token: token.clone(),
    });
    let app = Router::new().fallback(handle).with_state(api);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::warn!("local workspace API stopped: {e}");
        }
    });
    tracing::info!("local workspace API listening on {base_url}");
    Ok(RunningApi {
        base_url,
        token,
        addr: local,
        stop,
        task,
    })
}

/// A request as the handlers see it.
pub(crate) struct Req {
    pub method: String,
    /// Decoded path segments (without the leading empty one).
    pub segs: Vec<String>,
    pub raw_path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub json: Value,
}

impl Req {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn q_bool(&self, name: &str) -> Option<bool> {
        self.q(name).map(|v| v.eq_ignore_ascii_case("true"))
    }
    pub fn q_i64(&self, name: &str) -> Result<Option<i64>, Response> {
        match self.q(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                error(
                    400,
                    "INVALID_PARAMETER_VALUE",
                    format!("Query parameter '{name}' must be an integer, got '{v}'."),
                )
            }),
        }
    }
    pub fn body_str(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) type HandlerResult = Result<Response, Response>;

async fn handle(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                format!("Could not read the request body: {e}"),
            );
        }
    };
    let raw_path = parts.uri.path().to_string();
    let segs: Vec<String> = raw_path.split('/').skip(1).map(percent_decode).collect();
    let json: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let req = Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        segs,
        raw_path,
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
        json,
    };
    let shared_request = workspace_server::ApiRequest {
        method: req.method.clone(),
        raw_path: req.raw_path.clone(),
        segments: req.segs.clone(),
        query: req.query.clone(),
        body: (!req.json.is_null()).then(|| req.json.clone()),
        raw_body: req.body.clone(),
        headers: req.headers.clone(),
    };
    if let Some(response) =
        workspace_server::dispatch_download(&api.backends, &shared_request).await
    {
        return response;
    }
    if !authorized(&api.token, &req) {
        return error(
            401,
            "UNAUTHENTICATED",
            "Invalid or missing access token: send 'Authorization: Bearer <token>' with the token the local workspace printed.",
        );
    }
    if let Some(response) = workspace_server::dispatch(&api.backends, &shared_request).await {
        return response;
    }
    let method = req.method.clone();
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let result = route(&api, &req, &method, &s).await;
    match result {
        Some(Ok(r)) | Some(Err(r)) => r,
        None => error(
            404,
            "ENDPOINT_NOT_FOUND",
            format!(
                "No API found for '{} {}' in the local workspace.",
                req.method, req.raw_path
            ),
        ),
    }
}

async fn route(api: &Api, req: &Req, method: &str, s: &[&str]) -> Option<HandlerResult> {
    let sh = &api.shared;
    Some(match (method, s) {
        // Jobs
        (_, ["api", "2.0" | "2.1" | "2.2", "jobs", rest @ ..]) => {
            jobs::route(sh, req, method, rest).await
        }
        // Pipelines
        (_, ["api", "2.0", "pipelines", rest @ ..]) => {
            pipelines::route(sh, req, method, rest).await
        }
        _ => return None,
    })
}

fn authorized(token: &str, req: &Req) -> bool {
    let Some(value) = req.header("authorization") else {
        return false;
    };
    let Some((scheme, given)) = value.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    constant_time_eq(given.trim().as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn ok(v: Value) -> HandlerResult {
    Ok(json_response(200, &v))
}

pub(crate) fn json_response(status: u16, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"error_code": code, "message": message.into()}),
    )
}

pub(crate) fn bad_request(message: impl Into<String>) -> Response {
    error(400, "INVALID_PARAMETER_VALUE", message)
}

pub(crate) fn not_found(code: &str, message: impl Into<String>) -> Response {
    error(404, code, message)
}

pub(crate) fn read_only(what: &str) -> Response {
    error(
        403,
        "PERMISSION_DENIED",
        format!(
            "{what} is not allowed: the local workspace is read-only (start it with writes allowed, e.g. --allow-writes)."
        ),
    )
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Page of a sorted list by an opaque offset token (`max_results`/`page_size` semantics of
/// Unity Catalog: unset = everything, 0 = server default).
pub(crate) fn page<T: Clone>(
    items: &[T],
    size: Option<i64>,
    token: Option<&str>,
    default_size: usize,
) -> Result<(Vec<T>, Option<String>), Response> {
    let start = match token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => decode_token(t).ok_or_else(|| {
            bad_request(format!(
                "Invalid page_token '{t}': pass back a token this server returned."
            ))
        })?,
    };
    let size = match size {
        None => usize::MAX,
        Some(n) if n < 0 => {
            return Err(bad_request(format!(
                "max_results must be non-negative, got {n}."
            )));
        }
        Some(0) => default_size,
        Some(n) => usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(default_size.max(1)),
    };
    let start = start.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| encode_token(end));
    Ok((items[start..end].to_vec(), next))
}

pub(crate) fn encode_token(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

pub(crate) fn decode_token(t: &str) -> Option<usize> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.trim_end_matches('='))
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = q else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The one warehouse, as `EndpointInfo`.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("garbage"), None);
    }

    #[test]
    fn paging() {
        let items: Vec<i32> = (0..5).collect();
        let (p, next) = page(&items, Some(2), None, 100).unwrap();
        assert_eq!(p, vec![0, 1]);
        let (p, next) = page(&items, Some(2), next.as_deref(), 100).unwrap();
        assert_eq!(p, vec![2, 3]);
        let (p, next) = page(&items, Some(2), next.as_deref(), 100).unwrap();
        assert_eq!((p, next), (vec![4], None));
        let (all, none) = page(&items, None, None, 2).unwrap();
        assert_eq!((all.len(), none), (5, None));
    }

    #[test]
    fn decodes_percent() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
