//! The emulator's front: the shared workspace front (`workspace_server::front`) serving
//! the fixture backends, with the emulator's own OAuth routes beside it and its test hooks
//! as layers around both — request recording, injected faults, added latency — so no
//! handler knows about them. The control routes (`/__emulator/…`) sit outside the layers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use databricks_api::backend::Backends;
use databricks_api::error::{ApiError, ErrorCode};
use serde_json::{Value, json};
use workspace_server::front::parse_query;
use workspace_server::{Workspace, json_response};

use crate::backends::{
    catalog, clusters, files, genie, genie_one, jobs, misc, pipelines, serving, statements,
    vector_search, warehouses, workspace,
};
use crate::util::lock;
use crate::{EmulatorConfig, FaultResponse, FaultRule, RecordedRequest, StatementScript};

/// Largest request body recorded (Files API uploads are the big ones).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// The test hooks' state, shared by the layers, the OAuth routes and the control routes.
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
}

impl Shared {
    pub fn new(base_url: String, config: EmulatorConfig) -> Shared {
        Shared {
            base_url,
            latency: Mutex::new(config.latency),
            config,
            recording: AtomicBool::new(true),
            requests: Mutex::default(),
            faults: Mutex::default(),
            token_requests: AtomicUsize::new(0),
            tokens: Mutex::default(),
            token_counter: AtomicU64::new(0),
            scripts: Arc::default(),
            cancelled: Arc::default(),
        }
    }

    /// The services of the emulated workspace, on fixture data.
    fn backends(&self) -> Backends {
        let warehouses = warehouses::FixtureWarehouses::new();
        Backends {
            unity_catalog: Some(Arc::new(catalog::FixtureCatalog)),
            warehouses: Some(Arc::new(warehouses.clone())),
            clusters: Some(Arc::new(clusters::FixtureClusters::new())),
            identity: Some(Arc::new(misc::FixtureIdentity)),
            query_history: Some(Arc::new(misc::FixtureHistory)),
            lineage: Some(Arc::new(catalog::FixtureLineage)),
            serving: Some(Arc::new(serving::FixtureServing::default())),
            genie_one: Some(Arc::new(genie_one::FixtureGenieOne::new(
                warehouses.clone(),
            ))),
            genie_spaces: Some(Arc::new(genie::FixtureGenieSpaces::default())),
            workspace: Some(Arc::new(workspace::FixtureWorkspace::new())),
            files: Some(Arc::new(files::FixtureFiles::new())),
            vector_search: Some(Arc::new(vector_search::FixtureVectorSearch)),
            statements: Some(Arc::new(statements::FixtureStatements {
                scripts: self.scripts.clone(),
                cancelled: self.cancelled.clone(),
                warehouses,
                pending_polls: self.config.statement_pending_polls,
                hybrid_disposition: self.config.hybrid_disposition,
            })),
            pipelines: Some(Arc::new(pipelines::FixturePipelines::new())),
            jobs: Some(Arc::new(jobs::FixtureJobs::new(
                self.config.jobs,
                self.base_url.clone(),
            ))),
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

    /// Whether `token` is the PAT or a live OAuth token.
    fn authorized(&self, token: &str) -> bool {
        token == self.config.pat
            || lock(&self.tokens)
                .get(token)
                .is_some_and(|expiry| Instant::now() < *expiry)
    }
}

/// The whole emulator: control routes, then the recorded, faulty, slow workspace.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let authorizer = shared.clone();
    let workspace = workspace_server::front::router(
        Workspace::new(shared.backends(), &shared.base_url),
        move |token| match token {
            Some(token) if authorizer.authorized(token) => Ok(()),
            _ => Err(invalid_token()),
        },
    );
    let emulated = Router::new()
        .route(
            "/oidc/.well-known/oauth-authorization-server",
            get(well_known),
        )
        .route("/oidc/v1/token", post(token))
        .fallback_service(workspace)
        .layer(from_fn_with_state(shared.clone(), latency))
        .layer(from_fn_with_state(shared.clone(), faults))
        .layer(from_fn_with_state(shared.clone(), record))
        .with_state(shared.clone());
    Router::new()
        .route("/__emulator/{*hook}", any(crate::control::handle))
        .with_state(shared)
        .fallback_service(emulated)
}

/// What a workspace answers a call without a valid token: the body of the recorded
/// `error_401_unauthenticated.json`.
fn invalid_token() -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, "Invalid Token")
}

/// Layer: every request is recorded (when recording is on), body included, and token
/// requests counted (faulted ones too: the client did ask).
async fn record(State(st): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::POST && request.uri().path() == "/oidc/v1/token" {
        st.token_requests.fetch_add(1, Ordering::Relaxed);
    }
    if !st.recording.load(Ordering::Relaxed) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")).into_response();
        }
    };
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_ascii_uppercase(),
        path: parts.uri.path().to_string(),
        query: parse_query(parts.uri.query()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body_text: String::from_utf8_lossy(&body).into_owned(),
    };
    tracing::debug!(method = %recorded.method, path = %recorded.path, "request");
    lock(&st.requests).push(recorded);
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Layer: a request a fault rule matches gets the rule's next canned response instead.
async fn faults(State(st): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(fault) = st.take_fault(request.method().as_str(), request.uri().path()) else {
        return next.run(request).await;
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Bytes::from(fault.body)).into_response();
    for (k, v) in &fault.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            response.headers_mut().insert(k, v);
        }
    }
    response
}

/// Layer: the configured latency before every API call (`/api/`, and Model Serving
/// invocations, which live at the root) — not before OAuth or downloads.
async fn latency(State(st): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/serving-endpoints/") {
        let latency = *lock(&st.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
    next.run(request).await
}

// ---------------------------------------------------------------------------------------
// OIDC

async fn well_known(State(st): State<Arc<Shared>>) -> Response {
    let text = crate::fixture("oidc_well_known_workspace.json").replace(
        "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com",
        &st.base_url,
    );
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// POST /oidc/v1/token (client_credentials; client authenticated by HTTP Basic or by
/// `client_id`/`client_secret` form fields).
async fn token(State(st): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    issue(&st, &headers, &body).unwrap_or_else(|e| e)
}

fn issue(st: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, Response> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
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
    let known = creds
        .is_some_and(|(id, secret)| id == st.config.client_id && secret == st.config.client_secret);
    if !known {
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
    Ok(json_response(
        200,
        &json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": st.config.m2m_token_ttl.as_secs(),
            "scope": scope,
        }),
    ))
}
