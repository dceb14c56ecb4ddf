//! The HTTP front: request reading and recording, faults, latency, authentication and
//! routing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::backends::{
    files, genie, jobs, misc, pipelines, statements, vector_search, warehouses, workspace,
};
use crate::util::{Req, endpoint_not_found, lock, status_code};
use crate::{EmulatorConfig, FaultResponse, FaultRule, RecordedRequest, StatementScript};
use workspace_server::front::{parse_query, percent_decode};

/// Largest request body read (Files API uploads are the big ones).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Everything the handlers share.
pub(crate) struct Shared {
    pub base_url: String,
    pub config: EmulatorConfig,
    pub latency: Mutex<Duration>,
    pub recording: AtomicBool,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub faults: Mutex<Vec<FaultRule>>,
    pub token_requests: AtomicUsize,
    /// Issued OAuth access token → expiry.
    tokens: Mutex<HashMap<String, Instant>>,
    token_counter: AtomicU64,
    pub scripts: Arc<Mutex<Vec<(String, StatementScript)>>>,
    pub cancelled: Arc<Mutex<Vec<String>>>,
    /// The services the shared workspace server answers, on fixture data.
    pub backends: workspace_server::Backends,
}

impl Shared {
    pub fn new(base_url: String, config: EmulatorConfig) -> Shared {
        let latency = config.latency;
        let jobs = jobs::FixtureJobs::new(config.jobs, base_url.clone());
        let warehouses = warehouses::FixtureWarehouses::new();
        let scripts: Arc<Mutex<Vec<(String, StatementScript)>>> = Arc::default();
        let cancelled: Arc<Mutex<Vec<String>>> = Arc::default();
        let statements = Arc::new(workspace_server::StatementService::new(
            Arc::new(statements::FixtureStatements {
                scripts: scripts.clone(),
                cancelled: cancelled.clone(),
                warehouses: warehouses.clone(),
                pending_polls: config.statement_pending_polls,
            }),
            base_url.clone(),
            workspace_server::StatementOptions {
                hybrid_disposition: config.hybrid_disposition,
                archive: None,
            },
        ));
        Shared {
            base_url,
            config,
            latency: Mutex::new(latency),
            recording: AtomicBool::new(true),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            token_requests: AtomicUsize::new(0),
            tokens: Mutex::new(HashMap::new()),
            token_counter: AtomicU64::new(0),
            scripts,
            cancelled,
            backends: workspace_server::Backends {
                unity_catalog: Some(Arc::new(crate::backends::catalog::FixtureCatalog)),
                warehouses: Some(Arc::new(warehouses.clone())),
                clusters: Some(Arc::new(crate::backends::clusters::FixtureClusters::new())),
                identity: Some(Arc::new(misc::FixtureIdentity)),
                query_history: Some(Arc::new(misc::FixtureHistory)),
                lineage: Some(Arc::new(crate::backends::catalog::FixtureLineage)),
                serving: Some(Arc::new(crate::backends::serving::FixtureServing::default())),
                genie_one: Some(Arc::new(crate::backends::genie_one::FixtureGenieOne::new(
                    warehouses.clone(),
                ))),
                genie_spaces: Some(Arc::new(genie::FixtureGenieSpaces::default())),
                workspace: Some(Arc::new(workspace::FixtureWorkspace::new())),
                files: Some(Arc::new(files::FixtureFiles::new())),
                vector_search: Some(Arc::new(vector_search::FixtureVectorSearch)),
                statements: Some(statements),
                pipelines: Some(Arc::new(pipelines::FixturePipelines::new())),
                jobs: Some(Arc::new(jobs)),
            },
        }
    }

    pub fn push_fault(&self, rule: FaultRule) {
        if !rule.responses.is_empty() {
            lock(&self.faults).push(rule);
        }
    }

    /// Consumes the next response of the first rule matching the request, if any.
    fn take_fault(&self, method: &str, path: &str) -> Option<FaultResponse> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|r| {
            r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.starts_with(&r.path_prefix)
        })?;
        let rule = faults.get_mut(i)?;
        let response = rule.responses.remove(0);
        if rule.responses.is_empty() {
            faults.remove(i);
        }
        Some(response)
    }

    pub fn issue_token(&self) -> String {
        let n = self.token_counter.fetch_add(1, Ordering::Relaxed) + 1;
        let token = format!("emu-m2m-{n}");
        lock(&self.tokens).insert(token.clone(), Instant::now() + self.config.m2m_token_ttl);
        token
    }

    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for expiry in lock(&self.tokens).values_mut() {
            *expiry = now;
        }
    }

    /// Whether `Authorization: Bearer <t>` carries the PAT or a live OAuth token.
    fn authorized(&self, req: &Req) -> bool {
        let Some(value) = req.header("authorization") else {
            return false;
        };
        let Some((scheme, token)) = value.split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let token = token.trim();
        if token.is_empty() {
            return false;
        }
        if token == self.config.pat {
            return true;
        }
        lock(&self.tokens)
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    fn record(&self, req: &Req) {
        if !self.recording.load(Ordering::Relaxed) {
            return;
        }
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let r = RecordedRequest {
            method: req.method.clone(),
            path: req.raw_path.clone(),
            query: req.query.clone(),
            headers,
            body: req.json.clone(),
            body_text: String::from_utf8_lossy(&req.body).into_owned(),
        };
        lock(&self.requests).push(r);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(st): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return crate::util::error(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                format!("could not read request body: {e}"),
            );
        }
    };
    let raw_path = parts.uri.path().to_string();
    let segs = raw_path
        .split('/')
        .skip(1)
        .map(percent_decode)
        .collect::<Vec<_>>();
    let json: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let req = Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        raw_path,
        segs,
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
        json,
    };

    if req.raw_path.starts_with("/__emulator/") {
        return crate::control::handle(&st, &req);
    }

    st.record(&req);
    if req.method == "POST" && req.raw_path == "/oidc/v1/token" {
        st.token_requests.fetch_add(1, Ordering::Relaxed);
    }
    tracing::debug!(method = %req.method, path = %req.raw_path, "request");

    if let Some(fault) = st.take_fault(&req.method, &req.raw_path) {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        return fault_response(fault);
    }

    // Model Serving invocations are authenticated API calls outside /api/.
    if req.raw_path.starts_with("/api/") || req.raw_path.starts_with("/serving-endpoints/") {
        let latency = *lock(&st.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if !st.authorized(&req) {
            return crate::util::json_bytes(
                401,
                crate::fixture("error_401_unauthenticated.json")
                    .as_bytes()
                    .to_vec(),
            );
        }
    }

    let shared_request = workspace_server::ApiRequest {
        method: req.method.clone(),
        raw_path: req.raw_path.clone(),
        segments: req.segs.clone(),
        query: req.query.clone(),
        body: (!req.json.is_null()).then(|| req.json.clone()),
        raw_body: req.body.clone(),
        headers: req.headers.clone(),
    };
    let response = match workspace_server::dispatch_download(&st.backends, &shared_request).await {
        Some(response) => response,
        None => match workspace_server::dispatch(&st.backends, &shared_request).await {
            Some(response) => response,
            None => route(&st, &req).unwrap_or_else(|e| e),
        },
    };
    if req.method == "HEAD" {
        // Keep the headers (incl. Content-Length), drop the body.
        let (parts, _) = response.into_parts();
        return Response::from_parts(parts, Body::empty());
    }
    response
}

fn fault_response(f: FaultResponse) -> Response {
    let mut response = (status_code(f.status), Bytes::from(f.body)).into_response();
    let headers = response.headers_mut();
    for (k, v) in &f.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            headers.insert(k, v);
        }
    }
    response
}

// ---------------------------------------------------------------------------------------
// OIDC

fn well_known(st: &Shared) -> crate::util::R {
    let text = crate::fixture("oidc_well_known_workspace.json").replace(
        "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com",
        &st.base_url,
    );
    Ok(crate::util::json_bytes(200, text.into_bytes()))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    crate::util::json_status(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// POST /oidc/v1/token (client_credentials; client authenticated by HTTP Basic or by
/// `client_id`/`client_secret` form fields).
fn token(st: &Shared, req: &Req) -> crate::util::R {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let basic = req
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    let creds = basic.or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    });
    let Some((client_id, client_secret)) = creds else {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed",
        ));
    };
    if client_id != st.config.client_id || client_secret != st.config.client_secret {
        return Err(oauth_error(
            401,
            "invalid_client",
            "Client authentication failed",
        ));
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(oauth_error(
                400,
                "unsupported_grant_type",
                &format!("Grant type '{other}' is not supported by this client"),
            ));
        }
        None => {
            return Err(oauth_error(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            ));
        }
    }
    let scope = form
        .get("scope")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "all-apis".to_string());
    let token = st.issue_token();
    crate::util::ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": st.config.m2m_token_ttl.as_secs(),
        "scope": scope,
    }))
}

// ---------------------------------------------------------------------------------------
// Routing

fn route(st: &Shared, req: &Req) -> crate::util::R {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    match (m, segs.as_slice()) {
        // OIDC discovery and tokens (no auth).
        ("GET", ["oidc", ".well-known", "oauth-authorization-server"]) => well_known(st),
        ("POST", ["oidc", "v1", "token"]) => token(st, req),
        _ => Err(endpoint_not_found(&req.method, &req.raw_path)),
    }
}
