//! A loopback HTTP emulator of the Databricks REST API, for tests and benchmarks.
//!
//! [`Emulator::start`] binds `127.0.0.1:0` and serves, on the current tokio runtime, the
//! endpoints of `shared/databricks-api/REFERENCE.md` with response bodies shaped exactly like
//! the fixtures in `fixtures/` (embedded with `include_str!`, see [`fixture`]). It is
//! stateful where the API is: statements progress through PENDING/RUNNING to their scripted
//! outcome and can be cancelled, warehouses and clusters start and stop, job runs are
//! created and cancelled, workspace objects and volume files can be written and read back.
//!
//! Test hooks:
//! - every request is recorded ([`Emulator::requests`]), Authorization header included;
//! - [`FaultRule`]s answer matching requests with canned responses before normal handling;
//! - [`Emulator::set_latency`] delays every `/api/` response and Model Serving invocation;
//! - [`Emulator::script_statement`] picks what a SQL statement returns;
//! - OAuth M2M tokens can be expired at will ([`Emulator::expire_m2m_tokens`]).
//!
//! Conventions worth knowing when writing tests:
//! - Unity Catalog objects whose name starts with `missing` do not exist (404); any other
//!   catalog/schema has the fixture's schemas/tables, renamed to it.
//! - Page tokens are standard base64 (they may contain `+`, `/`, `=`): clients must
//!   URL-encode them.
//! - Genie One (`/api/2.0/genie/one/...`) answers from its fixtures: a question containing
//!   `slow` stays in progress until cancelled, `fail` fails, any other is answered 400 ms
//!   after it was asked (its rules: `src/backends/genie_one.rs`).
//! - A Genie space's message (`/api/2.0/genie/spaces/...`) is `SUBMITTED` when asked,
//!   `EXECUTING_QUERY` at its first read and `COMPLETED` at the next (`FAILED` for a
//!   question containing `FAIL`).
//! - Model Serving has a chat endpoint, [`serving::CHAT_ENDPOINT`], answered by a scripted,
//!   deterministic model (its rules: [`serving`]), and an embeddings endpoint.
//! - `/__emulator/...` control routes expose the request log, faults and statement scripts
//!   over HTTP for tests that drive the binary; they are listed in `src/control.rs`.
//!
//! The emulator knows nothing about MCP.

// Handlers return `Result<Response, Response>`: the error *is* the HTTP answer, built once
// per request, so its size does not matter.
#![allow(clippy::result_large_err)]
// What a request reaches never panics: no unchecked indexing, `expect` or `panic!`
// outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod arrow;
mod backends;
mod control;
mod fixtures;
mod server;
mod util;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use workspace_server::front::ServerTask;

pub use fixtures::fixture;
use fixtures::{FIXTURES, try_fixture};

/// The Model Serving endpoints and what the scripted chat model says and calls, for tests
/// that drive an agent loop against the emulator (the script: `src/backends/serving.rs`).
pub mod serving {
    pub use crate::backends::serving::{
        CHAT_ENDPOINT, EMBEDDING_ENDPOINT, HELLO, SQL_TOOL, SQL_TOOL_QUERY,
    };
}

use crate::server::Shared;
use crate::util::lock;

/// How an [`Emulator`] behaves. Build with `EmulatorConfig { .., ..Default::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Accepted personal access token (`Authorization: Bearer <pat>`).
    pub pat: String,
    /// OAuth M2M client id accepted by `POST /oidc/v1/token`.
    pub client_id: String,
    /// OAuth M2M client secret.
    pub client_secret: String,
    /// `expires_in` of issued OAuth tokens; they stop working after it.
    pub m2m_token_ttl: Duration,
    /// Added to every `/api/` response and Model Serving invocation (not to OIDC / token /
    /// external-link routes).
    pub latency: Duration,
    /// Number of jobs served by `jobs/list`: the fixture's jobs, then synthesised jobs with
    /// ids `1000 + i` and names `job-<i>` (`i` = position in the list).
    pub jobs: usize,
    /// When > 0 and no script matches, statements answer PENDING for the execute call and
    /// this many GETs, RUNNING once, then the default result.
    pub statement_pending_polls: u32,
    /// Whether statements accept the hybrid disposition `INLINE_OR_EXTERNAL_LINKS`; when
    /// false the emulator answers it as a workspace that predates it (400
    /// `INVALID_PARAMETER_VALUE`), to test the client's fallback.
    pub hybrid_disposition: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            pat: "dapi-emulator-token".to_string(),
            client_id: "emu-client".to_string(),
            client_secret: "emu-secret".to_string(),
            m2m_token_ttl: Duration::from_secs(3600),
            latency: Duration::ZERO,
            jobs: backends::jobs::fixture_job_count(),
            statement_pending_polls: 0,
            hybrid_disposition: true,
        }
    }
}

/// One request as received by the emulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// Upper-case method (`GET`, `POST`, …).
    pub method: String,
    /// The path as received on the wire (still percent-encoded), without the query.
    pub path: String,
    /// Decoded query parameters, in order (repeated keys repeated).
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Null` if there is none or it is not JSON.
    pub body: serde_json::Value,
    /// The body as text (lossy UTF-8).
    pub body_text: String,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// First value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers matching requests with canned responses before normal handling. Each matching
/// request consumes the next response; when all are consumed the rule is dropped. Rules are
/// tried in the order they were pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Only requests with this method match (case-insensitive); `None` = any method.
    #[serde(default)]
    pub method: Option<String>,
    /// Requests whose raw path starts with this match (e.g. `/api/2.0/sql/statements`).
    pub path_prefix: String,
    /// Responses, consumed in order.
    pub responses: Vec<FaultResponse>,
}

impl FaultRule {
    /// A rule for `method` (or any method) and `path_prefix`.
    pub fn new(
        method: Option<&str>,
        path_prefix: impl Into<String>,
        responses: Vec<FaultResponse>,
    ) -> FaultRule {
        FaultRule {
            method: method.map(str::to_string),
            path_prefix: path_prefix.into(),
            responses,
        }
    }

    /// `GET` requests only.
    pub fn get(path_prefix: impl Into<String>, responses: Vec<FaultResponse>) -> FaultRule {
        FaultRule::new(Some("GET"), path_prefix, responses)
    }

    /// `POST` requests only.
    pub fn post(path_prefix: impl Into<String>, responses: Vec<FaultResponse>) -> FaultRule {
        FaultRule::new(Some("POST"), path_prefix, responses)
    }

    /// One response for the next request (any method) under `path_prefix`.
    pub fn once(path_prefix: impl Into<String>, response: FaultResponse) -> FaultRule {
        FaultRule::new(None, path_prefix, vec![response])
    }
}

/// A canned response of a [`FaultRule`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
    /// Waited before answering, in milliseconds (a long one provokes client timeouts).
    #[serde(default)]
    pub delay_ms: u64,
}

impl FaultResponse {
    /// `status` with an empty body and no headers.
    pub fn status(status: u16) -> FaultResponse {
        FaultResponse {
            status,
            ..FaultResponse::default()
        }
    }

    /// `status` with a JSON body (`Content-Type: application/json`), e.g.
    /// `FaultResponse::json(429, fixture("error_429_request_limit_exceeded.json"))`.
    pub fn json(status: u16, body: impl Into<String>) -> FaultResponse {
        FaultResponse {
            body: body.into(),
            ..FaultResponse::status(status)
        }
        .with_header("Content-Type", "application/json")
    }

    /// `status` with its error fixture `error_<status>_*.json` (400, 401, 403, 404, 409,
    /// 429, 500, 503; the first by name, so 404 is `RESOURCE_DOES_NOT_EXIST`; 429 also gets
    /// `Retry-After: 2` as in fixtures/SOURCES.md); other statuses get
    /// `{"error_code": "<STATUS>", "message": ...}`.
    pub fn error(status: u16) -> FaultResponse {
        let prefix = format!("error_{status}_");
        let body = match FIXTURES.iter().find(|(name, _)| name.starts_with(&prefix)) {
            Some((_, text)) => text.to_string(),
            None => serde_json::json!({
                "error_code": status.to_string(),
                "message": format!("Injected failure with HTTP status {status}"),
            })
            .to_string(),
        };
        let r = FaultResponse::json(status, body);
        if status == 429 {
            r.with_header("Retry-After", "2")
        } else {
            r
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self
    }
}

/// What a SQL statement returns, chosen with [`Emulator::script_statement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatementScript {
    /// SUCCEEDED with `rows` generated rows over `columns` (`(name, type_text)`, e.g.
    /// `("id", "BIGINT")`), in chunks of `chunk_rows` (0 ⇒ one chunk). Cell of row `r`:
    /// BIGINT/INT/SMALLINT/TINYINT → `r`; DOUBLE/FLOAT → `r*1.5`; STRING → `s<r>` but NULL
    /// when `r % 7 == 6`; BOOLEAN → `r%2==0`; DATE → 2024-01-01 + r days; TIMESTAMP →
    /// 2024-01-01T00:00 + r minutes; DECIMAL(p,s) → `r.<digits>`. Rows are generated as
    /// each chunk is packaged. The request's `row_limit` caps them and sets `truncated`.
    Rows {
        columns: Vec<(String, String)>,
        rows: usize,
        chunk_rows: usize,
    },
    /// PENDING for the execute response and the first `polls` GETs, RUNNING once, then
    /// `then`.
    Pending {
        polls: u32,
        then: Box<StatementScript>,
    },
    /// FAILED with `status.error {error_code, message}` and `status.sql_state`.
    Failed {
        error_code: String,
        message: String,
        sql_state: Option<String>,
    },
    /// CANCELED.
    Canceled,
    /// SUCCEEDED with a manifest (0 columns, 0 rows) and no `result` key (DDL).
    NoResult,
    /// The outcome the named fixture file records: a SUCCEEDED response's inline rows
    /// (in whatever disposition and format the request asks; Arrow columns as text), a
    /// FAILED one's error, CANCELED, CLOSED, or PENDING/RUNNING for good.
    Fixture(String),
}

impl StatementScript {
    /// Checks that every fixture the script names exists.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            StatementScript::Fixture(name) if try_fixture(name).is_none() => {
                Err(format!("no fixture named {name:?}"))
            }
            StatementScript::Pending { then, .. } => then.validate(),
            _ => Ok(()),
        }
    }

    /// Convenience for [`StatementScript::Rows`].
    pub fn rows(columns: &[(&str, &str)], rows: usize, chunk_rows: usize) -> StatementScript {
        StatementScript::Rows {
            columns: columns
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            rows,
            chunk_rows,
        }
    }

    /// Convenience for [`StatementScript::Pending`].
    pub fn pending(polls: u32, then: StatementScript) -> StatementScript {
        StatementScript::Pending {
            polls,
            then: Box::new(then),
        }
    }

    /// Convenience for [`StatementScript::Failed`].
    pub fn failed(error_code: &str, message: &str, sql_state: Option<&str>) -> StatementScript {
        StatementScript::Failed {
            error_code: error_code.to_string(),
            message: message.to_string(),
            sql_state: sql_state.map(str::to_string),
        }
    }
}

/// A running emulator. Dropping it (or [`Emulator::shutdown`]) stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    server: Option<ServerTask>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts with the default configuration on `127.0.0.1:<free port>`.
    ///
    /// # Panics
    /// If the loopback listener cannot be bound.
    pub async fn start() -> Emulator {
        Emulator::start_with(EmulatorConfig::default()).await
    }

    /// Starts with `config` on `127.0.0.1:<free port>`.
    ///
    /// # Panics
    /// If the loopback listener cannot be bound.
    #[allow(clippy::panic)] // test support: a test without its emulator cannot go on
    pub async fn start_with(config: EmulatorConfig) -> Emulator {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        match Emulator::bind(addr, config).await {
            Ok(e) => e,
            Err(e) => panic!("databricks-emulator: cannot bind {addr}: {e}"),
        }
    }

    /// Starts on `addr` (the binary uses this; tests use [`Emulator::start_with`]).
    pub async fn bind(addr: SocketAddr, config: EmulatorConfig) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(format!("http://{addr}"), config));
        let server = ServerTask::spawn(listener, server::router(shared.clone()));
        Ok(Emulator {
            shared,
            server: Some(server),
        })
    }

    /// Stops the server and waits until it has finished in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `base_url() + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// The accepted personal access token.
    pub fn pat(&self) -> &str {
        &self.shared.config.pat
    }

    /// The configuration the emulator runs with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// Every request received (except `/__emulator/` control calls), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Recorded requests with `method` (or any) whose path starts with `path_prefix`.
    pub fn requests_matching(
        &self,
        method: Option<&str>,
        path_prefix: &str,
    ) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| method.is_none_or(|m| r.method.eq_ignore_ascii_case(m)))
            .filter(|r| r.path.starts_with(path_prefix))
            .cloned()
            .collect()
    }

    /// Forgets recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Turns request recording on (default) or off (long benchmarks).
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Adds a fault rule (after those already pushed).
    pub fn push_fault(&self, rule: FaultRule) {
        self.shared.push_fault(rule);
    }

    /// Sets the latency added to every `/api/` response and Model Serving invocation.
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.shared.latency) = d;
    }

    /// Number of `POST /oidc/v1/token` requests received.
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::Relaxed)
    }

    /// Statements whose text contains `contains` get `script` (first registered match wins;
    /// scripts stay registered).
    ///
    /// # Panics
    /// If the script names a fixture that does not exist.
    #[allow(clippy::panic)] // test support: a script is the test's, never a request's
    pub fn script_statement(&self, contains: &str, script: StatementScript) {
        if let Err(e) = script.validate() {
            panic!("databricks-emulator: invalid statement script: {e}");
        }
        lock(&self.shared.scripts).push((contains.to_string(), script));
    }

    /// Statement ids cancelled through `POST /api/2.0/sql/statements/{id}/cancel`, in order.
    pub fn cancelled_statements(&self) -> Vec<String> {
        lock(&self.shared.cancelled).clone()
    }

    /// Makes every OAuth token issued so far invalid (401) from now on.
    pub fn expire_m2m_tokens(&self) {
        self.shared.expire_tokens();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}
