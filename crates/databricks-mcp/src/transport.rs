//! Transports: stdio (the default; stdout carries only JSON-RPC, logs go to stderr)
//! and streamable HTTP. Legacy 2025-11-25 clients get `Mcp-Session-Id` sessions;
//! 2026-07-28 clients are served statelessly on the same endpoints.
//!
//! HTTP routes: the full surface at `/mcp`; the managed-compatible surfaces at
//! `/api/2.0/mcp/sql`, `/api/2.0/mcp/vector-search/{catalog}/{schema}[/{index}]` (also
//! under its new name, `/api/2.0/mcp/ai-search/…`),
//! `/api/2.0/mcp/genie/{space_id}`, `/api/2.0/mcp/genie` (Genie One) and
//! `/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]`
//! (one rmcp service; the route puts its [`Surface`] in the request's extensions);
//! RFC 9728 metadata at `/.well-known/oauth-protected-resource[/<route>]`. Every route
//! is behind [`http_auth::guard`]: Host/Origin allow-lists, bearer authentication when
//! configured, the per-client concurrency limit. Request bodies are capped. Without
//! authentication the server listens on loopback only. Behind the guard, the MCP
//! service is wrapped in [`session_layer`] (JSON-RPC checks, sessions bound to their
//! creator and capped, duplicate in-flight ids refused); the server's own accept loop
//! ([`serve_listener`]) adds a header-read timeout and a connection cap.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::StatusCode;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::http_auth::{self, AllowLists, ClientKey, Guard, Security};
use crate::server::DatabricksMcp;
use crate::surfaces::Surface;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {0}: it is not a loopback address and no client authentication is configured. Give client tokens with --auth-token-file or DATABRICKS_MCP_AUTH_TOKENS, or an OAuth issuer with --oauth-issuer (and the public host name with --allowed-host), or listen on 127.0.0.1 (or ::1)"
    )]
    NotLoopback(SocketAddr),
    #[error("HTTP server error: {0}")]
    Serve(std::io::Error),
    #[error("stdio session error: {0}")]
    Stdio(String),
}

/// Longest JSON-RPC line read from a stream: a 16 MiB statement (Databricks' limit) with
/// room for JSON escapes and the envelope (rmcp's default is 16 MiB for the whole line).
pub const MAX_LINE_BYTES: usize = 20 * 1024 * 1024;

/// Read buffer of a line transport.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// The JSON-RPC framing of a byte stream (stdin/stdout, or a pipe in tests).
///
/// rmcp's line transport drops a line that is too long, not JSON, too deep or has a
/// lone surrogate without a word, and answers other malformed messages with an error
/// that has no id. This transport reads the lines itself: each goes through
/// [`check_message`], and rmcp receives the message that check parsed (one parse per
/// line); a refused request is answered here with an error carrying its id, a line over
/// [`MAX_LINE_BYTES`] is answered without being buffered, and a malformed notification
/// is dropped (a notification gets no answer). rmcp's answers and these refusals share
/// `write`, a whole line at a time, so they never interleave. Must be used inside a
/// Tokio runtime.
pub fn line_transport<R, W>(read: R, write: W) -> CheckedLines<R, W>
where
    R: Send + tokio::io::AsyncRead + Unpin + 'static,
    W: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    CheckedLines::new(read, write, CancellationToken::new())
}

/// See [`line_transport`].
pub struct CheckedLines<R, W> {
    reader: tokio::io::BufReader<R>,
    /// The line read so far. It lives here, not in `receive`'s future: rmcp polls
    /// `receive` in a `select!` and drops it whenever another branch is ready, and the
    /// next call must go on with the same line.
    line: Vec<u8>,
    /// The current line is over [`MAX_LINE_BYTES`]: its bytes are skipped.
    oversized: bool,
    out: SharedWriter<W>,
    /// Refusals being written, each on a task of its own so that `receive` never awaits
    /// a write it could be dropped in the middle of.
    refusals: tokio::task::JoinSet<()>,
    /// Cancelled at the end of the input.
    end_of_input: CancellationToken,
}

/// One line of input, or the end of it.
enum Line {
    Message(Vec<u8>),
    Oversized,
    End,
}

impl<R, W> CheckedLines<R, W>
where
    R: Send + tokio::io::AsyncRead + Unpin + 'static,
    W: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    fn new(read: R, write: W, end_of_input: CancellationToken) -> Self {
        CheckedLines {
            reader: tokio::io::BufReader::with_capacity(READ_BUFFER_BYTES, read),
            line: Vec::new(),
            oversized: false,
            out: Arc::new(tokio::sync::Mutex::new(write)),
            refusals: tokio::task::JoinSet::new(),
            end_of_input,
        }
    }

    /// The next whole line (cancel-safe: a partial line stays in `self.line`).
    async fn next_line(&mut self) -> Line {
        use tokio::io::AsyncBufReadExt;
        loop {
            let available = match self.reader.fill_buf().await {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!("error reading the JSON-RPC input: {e}");
                    return Line::End;
                }
            };
            if available.is_empty() {
                // End of input; an unterminated last line is dropped, as rmcp does.
                return Line::End;
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            // rmcp's measure: the line with its newline.
            if !self.oversized && self.line.len().saturating_add(take) > MAX_LINE_BYTES {
                self.oversized = true;
                self.line = Vec::new();
            }
            if !self.oversized {
                self.line
                    .extend_from_slice(available.get(..take).unwrap_or(available));
            }
            self.reader.consume(take);
            if newline.is_some() {
                return if std::mem::take(&mut self.oversized) {
                    Line::Oversized
                } else {
                    Line::Message(std::mem::take(&mut self.line))
                };
            }
        }
    }

    fn refuse(&mut self, refusal: Rejection) {
        while self.refusals.try_join_next().is_some() {}
        let out = self.out.clone();
        self.refusals.spawn(async move {
            write_line(&out, &refusal.to_line()).await;
        });
    }
}

impl<R, W> rmcp::transport::Transport<rmcp::RoleServer> for CheckedLines<R, W>
where
    R: Send + tokio::io::AsyncRead + Unpin + 'static,
    W: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: rmcp::model::ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        let line = serde_json::to_vec(&item).map(|mut line| {
            line.push(b'\n');
            line
        });
        async move {
            let line = line.map_err(std::io::Error::other)?;
            if write_line(&out, &line).await {
                Ok(())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "the JSON-RPC output is closed",
                ))
            }
        }
    }

    async fn receive(&mut self) -> Option<rmcp::model::ClientJsonRpcMessage> {
        loop {
            let line = match self.next_line().await {
                Line::Message(line) => line,
                Line::Oversized => {
                    self.refuse(Rejection::new(
                        INVALID_REQUEST,
                        serde_json::Value::Null,
                        format!(
                            "Invalid request: the message is longer than {MAX_LINE_BYTES} bytes"
                        ),
                    ));
                    continue;
                }
                Line::End => {
                    self.end_of_input.cancel();
                    return None;
                }
            };
            let message = line.strip_suffix(b"\n").unwrap_or(&line);
            let message = message.strip_suffix(b"\r").unwrap_or(message);
            let message = message.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(message);
            if message.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_message(message) {
                Ok((_, parsed)) => return Some(parsed),
                Err(refusal) if refusal.code == PARSE_ERROR || !is_notification(message) => {
                    tracing::debug!(error = %refusal, "refused a malformed JSON-RPC message");
                    self.refuse(refusal);
                }
                Err(refusal) => {
                    tracing::debug!(error = %refusal, "dropped a malformed notification");
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        while self.refusals.join_next().await.is_some() {}
        use tokio::io::AsyncWriteExt;
        self.out.lock().await.flush().await
    }
}

type SharedWriter<W> = Arc<tokio::sync::Mutex<W>>;

/// Writes one whole line; false once the output is gone.
async fn write_line<W>(out: &SharedWriter<W>, line: &[u8]) -> bool
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let mut w = out.lock().await;
    w.write_all(line).await.is_ok() && w.flush().await.is_ok()
}

/// Whether a refused message is a notification (a `method`, no `id`).
fn is_notification(message: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(message).is_ok_and(|v| {
        v.get("id").is_none() && v.get("method").is_some_and(serde_json::Value::is_string)
    })
}

/// Serves one MCP session over stdin/stdout until stdin closes.
pub async fn serve_stdio(server: DatabricksMcp) -> Result<(), TransportError> {
    // Pipes (how MCP clients start a stdio server) are driven by the IO reactor, not by a
    // blocking-pool thread per read and write; anything else falls back to those.
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    // The client closing stdin cancels what is still running (statements upstream too):
    // rmcp would otherwise wait up to 5 s for handlers before it stops. rmcp writes its
    // last answers and closes the transport (which flushes) before `waiting` returns.
    let transport = CheckedLines::new(stdin, stdout, server.shutdown_token());
    let running = server
        .serve(transport)
        .await
        .map_err(|e| TransportError::Stdio(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| TransportError::Stdio(e.to_string()))?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub listen: SocketAddr,
    /// Extra `Host` values accepted besides loopback names (deployments behind a proxy).
    pub allowed_hosts: Vec<String>,
    /// Extra browser `Origin`s accepted besides loopback origins.
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    /// Client authentication, public URL and per-client concurrency limit.
    pub security: Security,
    /// Open MCP sessions and their lifetimes.
    pub sessions: SessionLimits,
    /// Most TCP connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Longest a connection may take to send a request's headers (and, between
    /// requests, longest it may stay idle) before it is closed.
    pub header_read_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 20 * 1024 * 1024,
            security: Security::default(),
            sessions: SessionLimits::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

/// Default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `--header-read-timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a request body may take to arrive once its headers have.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for open connections (SSE streams end on the cancellation).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Caps and timeouts of legacy (`Mcp-Session-Id`) sessions. A session costs tens of KiB
/// (its worker task, channels and caches), so the caps bound memory, not just the table.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Most sessions open at once, all clients together.
    pub max_sessions: usize,
    /// Most sessions one client identity (token, or address without authentication) may
    /// hold open.
    pub max_sessions_per_client: usize,
    /// A session with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A session whose client has not sent `notifications/initialized` this long after
    /// `initialize` is closed.
    pub init_timeout: Duration,
}

/// Default `--max-sessions`.
pub const DEFAULT_MAX_SESSIONS: usize = 1000;
/// Default `--max-sessions-per-client`.
pub const DEFAULT_MAX_SESSIONS_PER_CLIENT: usize = 100;
/// Default `--session-idle-timeout`.
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default `--session-init-timeout`.
pub const DEFAULT_SESSION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_sessions_per_client: DEFAULT_MAX_SESSIONS_PER_CLIENT,
            idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            init_timeout: DEFAULT_SESSION_INIT_TIMEOUT,
        }
    }
}

/// rmcp's service behind [`session_layer`]: what every MCP route hands its requests to
/// (after checking its route parameters, so a bad route is 404 whatever the body).
type McpService = tower::util::BoxCloneSyncService<Request, Response, std::convert::Infallible>;

/// Hands the request to the MCP service with its route's surface, or answers 404 for
/// route parameters that cannot name a Unity Catalog object or Genie space.
async fn dispatch(
    service: McpService,
    surface: Result<Surface, crate::surfaces::SurfaceError>,
    mut request: Request,
) -> Response {
    match surface {
        Ok(surface) => {
            request.extensions_mut().insert(surface);
            match service.oneshot(request).await {
                Ok(r) => r.into_response(),
                Err(never) => match never {},
            }
        }
        Err(e) => (http::StatusCode::NOT_FOUND, format!("Not Found: {e}")).into_response(),
    }
}

/// The router of every HTTP route, ready to be served (tests bind it to an ephemeral
/// port). Serve it with connect info (`into_make_service_with_connect_info`) so that
/// unauthenticated clients are told apart by address for the concurrency limit.
pub fn http_router(
    server: DatabricksMcp,
    options: &HttpOptions,
    shutdown: CancellationToken,
) -> axum::Router {
    let lists = allow_lists(options);
    let write_tools = server.write_tool_names();
    let service = mcp_service(server, options, &lists, &shutdown);
    let guard = Arc::new(Guard::new(
        options.security.clone().with_write_tools(write_tools),
        lists,
    ));
    let router = axum::Router::new().nest_service("/mcp", service.clone());
    with_surface_routes(router, &service)
        // Answered by the guard (no authentication needed); declared so the router
        // routes them to it.
        .route(http_auth::METADATA_PATH, get(not_found))
        .route(
            &format!("{}/{{*resource}}", http_auth::METADATA_PATH),
            get(not_found),
        )
        .layer(axum::middleware::from_fn_with_state(
            guard,
            http_auth::guard,
        ))
}

/// The hosts and origins a request may name: loopback's, and the operator's.
fn allow_lists(options: &HttpOptions) -> AllowLists {
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    hosts.extend(options.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = vec![
        "http://localhost:*".into(),
        "http://127.0.0.1:*".into(),
        "http://[::1]:*".into(),
    ];
    origins.extend(options.allowed_origins.iter().cloned());
    AllowLists { hosts, origins }
}

/// rmcp's streamable HTTP service, one server per session, behind [`session_layer`];
/// the session reaper runs until `shutdown`.
fn mcp_service(
    server: DatabricksMcp,
    options: &HttpOptions,
    lists: &AllowLists,
    shutdown: &CancellationToken,
) -> McpService {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(true)
        // A stateless (2026-07-28) request whose first message is its answer gets it as
        // one `application/json` body rather than an SSE stream: cheaper for clients to
        // read (the Python SDK spends less CPU per call; README, Benchmarks). A request
        // that sends progress or a log message first still streams, so nothing is lost.
        .with_json_response(true)
        .with_allowed_hosts(lists.hosts.clone())
        .with_allowed_origins(lists.origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(shutdown.child_token());
    let mut session_config = SessionConfig::default();
    session_config.keep_alive = Some(options.sessions.idle_timeout);
    // rmcp's own deadline is for the `initialize` request, which comes with the session;
    // the handshake's end (`notifications/initialized`) is watched by the reaper.
    session_config.init_timeout = Some(options.sessions.init_timeout);
    let mut manager = LocalSessionManager::default();
    manager.session_config = session_config;
    let manager = Arc::new(manager);
    let sessions = Arc::new(Sessions {
        manager: manager.clone(),
        limits: options.sessions,
        table: Mutex::new(SessionTable::default()),
    });
    spawn_reaper(&sessions, shutdown.clone());
    let rmcp_service: StreamableHttpService<DatabricksMcp, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.for_session()), manager, config);
    tower::util::BoxCloneSyncService::new(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(
                SessionLayer {
                    sessions,
                    max_body_bytes: options.max_body_bytes,
                },
                session_layer,
            ))
            .service(rmcp_service),
    )
}

/// The managed-compatible surfaces' routes: each hands its requests to `service` with
/// the [`Surface`] its path names.
fn with_surface_routes(router: axum::Router, service: &McpService) -> axum::Router {
    let sql = service.clone();
    let genie_one = service.clone();
    let genie = service.clone();
    let fn2 = service.clone();
    let fn3 = service.clone();
    let mut router = router
        .route(
            "/api/2.0/mcp/sql",
            any(move |request: Request| dispatch(sql.clone(), Ok(Surface::Sql), request)),
        )
        // Genie One: Genie over the whole workspace (no space id).
        .route(
            "/api/2.0/mcp/genie",
            any(move |request: Request| {
                dispatch(genie_one.clone(), Ok(Surface::GenieOne), request)
            }),
        )
        .route(
            "/api/2.0/mcp/genie/{space_id}",
            any(move |Path(id): Path<String>, request: Request| {
                dispatch(genie.clone(), Surface::genie(&id), request)
            }),
        )
        .route(
            "/api/2.0/mcp/functions/{catalog}/{schema}",
            any(
                move |Path((c, s)): Path<(String, String)>, request: Request| {
                    dispatch(fn2.clone(), Surface::functions(&c, &s, None), request)
                },
            ),
        )
        .route(
            "/api/2.0/mcp/functions/{catalog}/{schema}/{function}",
            any(
                move |Path((c, s, f)): Path<(String, String, String)>, request: Request| {
                    dispatch(fn3.clone(), Surface::functions(&c, &s, Some(&f)), request)
                },
            ),
        );
    // AI Search is Vector Search's new name: the same surface under both prefixes.
    for prefix in ["vector-search", "ai-search"] {
        let vs2 = service.clone();
        let vs3 = service.clone();
        router = router
            .route(
                &format!("/api/2.0/mcp/{prefix}/{{catalog}}/{{schema}}"),
                any(
                    move |Path((c, s)): Path<(String, String)>, request: Request| {
                        dispatch(vs2.clone(), Surface::vector_search(&c, &s, None), request)
                    },
                ),
            )
            .route(
                &format!("/api/2.0/mcp/{prefix}/{{catalog}}/{{schema}}/{{index}}"),
                any(
                    move |Path((c, s, i)): Path<(String, String, String)>, request: Request| {
                        dispatch(
                            vs3.clone(),
                            Surface::vector_search(&c, &s, Some(&i)),
                            request,
                        )
                    },
                ),
            );
    }
    router
}

async fn not_found() -> Response {
    (http::StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// Serves streamable HTTP until `shutdown` is cancelled. Refuses a non-loopback
/// address unless client authentication is configured.
pub async fn serve_http(
    server: DatabricksMcp,
    options: HttpOptions,
    shutdown: CancellationToken,
) -> Result<(), TransportError> {
    if !options.listen.ip().is_loopback() && !options.security.authenticates() {
        return Err(TransportError::NotLoopback(options.listen));
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| TransportError::Bind {
            addr: options.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(TransportError::Serve)?;
    // The one line a person (and a script) reads is the `listening on` line below; this
    // one adds detail at debug level, so the address is not printed twice.
    tracing::debug!(
        authentication = options.security.authenticates(),
        "serving MCP over streamable HTTP at http://{local}/mcp and the managed routes under /api/2.0/mcp/"
    );
    if !options.listen.ip().is_loopback() {
        tracing::warn!(
            "listening on a non-loopback address without TLS: put a TLS-terminating proxy in front so bearer tokens do not cross the network in clear text"
        );
    }
    eprintln!("databricks-mcp: listening on http://{local}/mcp");
    serve_listener(listener, server, options, shutdown).await
}

/// Serves the router on an already bound listener (tests bind port 0) until
/// `shutdown` is cancelled.
///
/// A custom accept loop rather than `axum::serve`: axum 0.8's `serve` offers neither a
/// header-read timeout (hyper has one, but only with a timer axum does not set) nor a
/// connection cap, and both must act before any request exists — a client that
/// connects and sends nothing, or half a request line, never reaches a middleware.
/// Here hyper's HTTP/1 builder gets a timer and `header_read_timeout` (which also
/// bounds the idle time between requests on a kept-alive connection), and a semaphore
/// caps open connections.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    server: DatabricksMcp,
    options: HttpOptions,
    shutdown: CancellationToken,
) -> Result<(), TransportError> {
    let router = http_router(server, &options, shutdown.clone());
    crate::memory::trim_after_bursts();
    let max = options.max_connections.clamp(1, MAX_CONNECTIONS);
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Over the cap: say so without a task or a read, and close.
            tracing::debug!(%peer, "refused a connection: too many open connections");
            let _ = stream.try_write(
                b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = shutdown.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |mut request: http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(request)
                },
            );
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
                }
            }
            drop(slot);
        });
    }
    // Connections end on the cancellation (rmcp closes its streams); wait for them, briefly.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(max as u32)).await;
    Ok(())
}

/// Largest `--max-connections`.
pub const MAX_CONNECTIONS: usize = 1_000_000;

// ---------------------------------------------------------------------------------
// JSON-RPC checks shared by HTTP and stdio: rmcp answers a malformed message with an
// error that has no `id` (the client never learns which request failed) or not at all
// (invalid JSON, too deep, a lone surrogate), so every message is checked here first
// and refused with an error that carries the request's id when one can be read.

/// JSON-RPC error codes used for refusals.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;

/// A message refused before it reaches rmcp, answered as a JSON-RPC error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    pub code: i64,
    /// The request's id, or `null` when none can be read.
    pub id: serde_json::Value,
    pub message: String,
}

impl Rejection {
    fn new(code: i64, id: serde_json::Value, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            id,
            message: message.into(),
        }
    }

    /// The JSON-RPC error response.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code, "message": self.message},
        })
    }

    fn to_line(&self) -> Vec<u8> {
        let mut line = self.to_json().to_string().into_bytes();
        line.push(b'\n');
        line
    }
}

/// What the HTTP session layer needs of a message that passed [`check_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct MessageInfo {
    /// `method` of a request or notification.
    pub method: Option<String>,
    /// `id` of a request or response.
    pub id: Option<serde_json::Value>,
}

impl MessageInfo {
    /// A request (it expects an answer), as opposed to a notification or response.
    pub fn is_request(&self) -> bool {
        self.method.is_some() && self.id.is_some()
    }
}

/// The `id` of a message if one can be read, even when the rest is not valid: unknown
/// fields are skipped without decoding their strings (a lone surrogate elsewhere does
/// not hide the id).
fn probe_id(bytes: &[u8]) -> serde_json::Value {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe { id: Some(id) }) if valid_id(&id) => id,
        _ => serde_json::Value::Null,
    }
}

fn valid_id(id: &serde_json::Value) -> bool {
    match id {
        serde_json::Value::String(_) => true,
        serde_json::Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// Checks one JSON-RPC message as rmcp would read it, with a precise refusal.
pub fn check_message(bytes: &[u8]) -> Result<MessageInfo, Rejection> {
    parse_message(bytes).map(|(info, _)| info)
}

/// [`check_message`], and the message as rmcp reads it.
fn parse_message(
    bytes: &[u8],
) -> Result<(MessageInfo, rmcp::model::ClientJsonRpcMessage), Rejection> {
    use serde_json::Value;
    // The id is read again only for a refusal (a second pass that tolerates the rest).
    let refuse = |code: i64, message: String| Rejection::new(code, probe_id(bytes), message);
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Err(refuse(
                PARSE_ERROR,
                format!("Parse error: the message is not valid JSON: {e}"),
            ));
        }
    };
    let object = match &value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(Rejection::new(
                INVALID_REQUEST,
                Value::Null,
                "Invalid request: JSON-RPC batches are not supported (MCP removed them in 2025-06-18); send one message at a time",
            ));
        }
        _ => {
            return Err(refuse(
                INVALID_REQUEST,
                "Invalid request: a JSON-RPC message must be a JSON object".into(),
            ));
        }
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(refuse(
            INVALID_REQUEST,
            "Invalid request: \"jsonrpc\" must be \"2.0\"".into(),
        ));
    }
    let message_id = object.get("id");
    if let Some(i) = message_id
        && !valid_id(i)
    {
        return Err(refuse(
            INVALID_REQUEST,
            "Invalid request: \"id\" must be a string or an integer".into(),
        ));
    }
    let method = match object.get("method") {
        None => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => {
            return Err(refuse(
                INVALID_REQUEST,
                "Invalid request: \"method\" must be a string".into(),
            ));
        }
    };
    if method.is_some() {
        match object.get("params") {
            None | Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(refuse(
                    INVALID_PARAMS,
                    "Invalid params: \"params\" must be an object".into(),
                ));
            }
        }
        if let Some(meta) = object.get("params").and_then(|p| p.get("_meta"))
            && !meta.is_object()
        {
            return Err(refuse(
                INVALID_PARAMS,
                "Invalid params: \"params._meta\" must be an object".into(),
            ));
        }
    } else if !object.contains_key("result") && !object.contains_key("error") {
        return Err(refuse(
            INVALID_REQUEST,
            "Invalid request: a message needs a \"method\" (request or notification), or a \"result\" or \"error\" (response)".into(),
        ));
    }
    let info = MessageInfo {
        method: method.clone(),
        id: message_id.cloned(),
    };
    // Finally rmcp's own reading, so that nothing passed here is dropped there.
    match serde_json::from_value::<rmcp::model::ClientJsonRpcMessage>(value) {
        Ok(message) => Ok((info, message)),
        Err(e) => Err(match &method {
            Some(m) => refuse(INVALID_PARAMS, format!("Invalid params for {m}: {e}")),
            None => refuse(INVALID_REQUEST, format!("Invalid request: {e}")),
        }),
    }
}

// ---------------------------------------------------------------------------------
// HTTP sessions: rmcp's LocalSessionManager keeps every session until it idles out and
// lets any caller who knows an `Mcp-Session-Id` use it. This layer, behind the guard
// (which has authenticated the caller), keeps a table beside it: who created each
// session, whether it finished its handshake, which request ids are in flight. It
// caps sessions per client and in all, closes sessions that never send
// `notifications/initialized`, and answers another identity's session id with 404.

const SESSION_HEADER: &str = "mcp-session-id";

struct SessionEntry {
    owner: ClientKey,
    created: Instant,
    initialized: bool,
    /// Request ids (as JSON text: `1` and `"1"` differ) whose answer is still streaming.
    in_flight: HashSet<String>,
}

#[derive(Default)]
struct SessionTable {
    entries: HashMap<Arc<str>, SessionEntry>,
    /// Sessions (open and being created) per client.
    per_client: HashMap<ClientKey, usize>,
    /// Sessions open and being created, all clients.
    total: usize,
}

impl SessionTable {
    fn count(&mut self, owner: ClientKey, delta: isize) {
        let n = self.per_client.entry(owner).or_insert(0);
        *n = n.saturating_add_signed(delta);
        if *n == 0 {
            self.per_client.remove(&owner);
        }
        self.total = self.total.saturating_add_signed(delta);
    }

    fn remove(&mut self, id: &str) -> Option<SessionEntry> {
        let entry = self.entries.remove(id)?;
        self.count(entry.owner, -1);
        Some(entry)
    }
}

/// The session table and rmcp's session manager, shared by the layer and its reaper.
pub struct Sessions {
    manager: Arc<LocalSessionManager>,
    limits: SessionLimits,
    table: Mutex<SessionTable>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, SessionTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of open sessions (for tests and logs).
    pub fn open(&self) -> usize {
        self.lock().entries.len()
    }

    /// Reserves a place for a new session of `owner`, or says how long to wait.
    fn reserve(self: &Arc<Self>, owner: ClientKey) -> Result<Reservation, (String, u64)> {
        let mut table = self.lock();
        let mine = table.per_client.get(&owner).copied().unwrap_or(0);
        let refusal = if mine >= self.limits.max_sessions_per_client {
            Some(format!(
                "this client has {mine} open MCP sessions, the most allowed; end one with DELETE or retry later"
            ))
        } else if table.total >= self.limits.max_sessions {
            Some("the server has as many open MCP sessions as it allows; retry later".to_string())
        } else {
            None
        };
        if let Some(message) = refusal {
            // The soonest an uninitialized session of this client expires, else the
            // handshake timeout: a sensible retry without promising a slot.
            let now = Instant::now();
            let wait = table
                .entries
                .values()
                .filter(|e| e.owner == owner && !e.initialized)
                .map(|e| (e.created + self.limits.init_timeout).saturating_duration_since(now))
                .min()
                .unwrap_or(self.limits.init_timeout);
            return Err((message, wait.as_secs().clamp(1, 3600)));
        }
        table.count(owner, 1);
        Ok(Reservation {
            sessions: self.clone(),
            owner,
        })
    }

    /// Whether `id` is an open session of `owner`; forgets it if rmcp has closed it.
    async fn owned_by(&self, id: &str, owner: ClientKey) -> bool {
        let known = match self.lock().entries.get(id) {
            Some(e) => e.owner == owner,
            None => return false,
        };
        if !known {
            return false;
        }
        let alive = self
            .manager
            .has_session(&Arc::from(id))
            .await
            .unwrap_or(false);
        if !alive {
            self.lock().remove(id);
        }
        alive
    }

    /// Closes sessions past their handshake deadline; forgets those rmcp has closed
    /// (idle timeout, DELETE, shutdown).
    async fn reap(&self) {
        let now = Instant::now();
        let expired: Vec<Arc<str>> = self
            .lock()
            .entries
            .iter()
            .filter(|(_, e)| {
                !e.initialized && now.duration_since(e.created) >= self.limits.init_timeout
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            tracing::debug!(session = %id, "closing a session that never completed its handshake");
            let _ = self.manager.close_session(&id).await;
            self.lock().remove(&id);
        }
        let alive: HashSet<Arc<str>> = self.manager.sessions.read().await.keys().cloned().collect();
        let mut table = self.lock();
        let gone: Vec<Arc<str>> = table
            .entries
            .keys()
            .filter(|id| !alive.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            table.remove(&id);
        }
    }
}

/// A place held for a session being created; given back unless the session is
/// recorded.
struct Reservation {
    sessions: Arc<Sessions>,
    owner: ClientKey,
}

impl Reservation {
    fn record(self, id: &str) {
        let mut table = self.sessions.lock();
        // The place taken by the reservation becomes the session's.
        table.count(self.owner, 1);
        table.entries.insert(
            Arc::from(id),
            SessionEntry {
                owner: self.owner,
                created: Instant::now(),
                initialized: false,
                in_flight: HashSet::new(),
            },
        );
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.sessions.lock().count(self.owner, -1);
    }
}

/// Removes a request id from its session's in-flight set when its answer ends.
struct InFlight {
    sessions: Arc<Sessions>,
    session: Arc<str>,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(e) = self.sessions.lock().entries.get_mut(&self.session) {
            e.in_flight.remove(&self.id);
        }
    }
}

/// A response body that keeps something alive until it is finished or dropped.
struct HoldBody<T> {
    inner: Body,
    _hold: T,
}

impl<T: Send + Unpin + 'static> http_body::Body for HoldBody<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn holding<T: Send + Unpin + 'static>(response: Response, hold: T) -> Response {
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Body::new(HoldBody {
            inner: body,
            _hold: hold,
        }),
    )
}

fn jsonrpc_error(status: StatusCode, rejection: &Rejection) -> Response {
    (status, axum::Json(rejection.to_json())).into_response()
}

fn session_not_found() -> Response {
    // rmcp's words: a hijacker cannot tell another client's session from none.
    (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
}

fn is_json(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case("application/json"))
        })
}

enum BodyError {
    TooLarge,
    Failed(String),
}

/// Reads a request body of at most `limit` bytes.
async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, BodyError> {
    use http_body::Body as _;
    let mut body = std::pin::pin!(body);
    let mut out: Vec<u8> = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::Failed(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit.saturating_sub(out.len()) {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.into())
}

/// State of [`session_layer`].
#[derive(Clone)]
struct SessionLayer {
    sessions: Arc<Sessions>,
    max_body_bytes: usize,
}

/// What is wrong with a request's `Mcp-Session-Id`.
enum BadSessionHeader {
    /// Not text: no session can have that id.
    Unknown,
    Repeated,
}

impl BadSessionHeader {
    fn response(self) -> Response {
        match self {
            BadSessionHeader::Unknown => session_not_found(),
            BadSessionHeader::Repeated => (
                StatusCode::BAD_REQUEST,
                "Bad Request: more than one Mcp-Session-Id header",
            )
                .into_response(),
        }
    }
}

/// The request's `Mcp-Session-Id`, if it has one.
fn session_of(headers: &http::HeaderMap) -> Result<Option<Arc<str>>, BadSessionHeader> {
    let mut session_ids = headers.get_all(SESSION_HEADER).iter();
    match (session_ids.next(), session_ids.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v
            .to_str()
            .map(|s| Some(Arc::from(s)))
            .map_err(|_| BadSessionHeader::Unknown),
        (Some(_), Some(_)) => Err(BadSessionHeader::Repeated),
    }
}

/// rmcp's answer to a `DELETE`: the session leaves our table too, and its 202 Accepted
/// becomes 204 No Content — the session is gone, and clients (both Python SDK
/// generations) expect 200 or 204 and warn otherwise.
fn close_session(
    layer: &SessionLayer,
    session: Option<Arc<str>>,
    mut response: Response,
) -> Response {
    if let Some(id) = &session
        && response.status().is_success()
    {
        layer.sessions.lock().remove(id);
    }
    if response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.body_mut() = axum::body::Body::empty();
        response.headers_mut().remove(http::header::CONTENT_LENGTH);
        response.headers_mut().remove(http::header::CONTENT_TYPE);
    }
    response
}

/// Checks JSON-RPC bodies (errors that carry the request's id), binds sessions to the
/// identity that created them, caps them, and refuses a request id already in flight
/// on its session.
async fn session_layer(
    State(layer): State<SessionLayer>,
    request: Request,
    next: Next,
) -> Response {
    crate::memory::note_request();
    let owner = request
        .extensions()
        .get::<ClientKey>()
        .copied()
        .unwrap_or(ClientKey::Anonymous);
    let session = match session_of(request.headers()) {
        Ok(session) => session,
        Err(bad) => return bad.response(),
    };
    if let Some(id) = &session
        && !layer.sessions.owned_by(id, owner).await
    {
        return session_not_found();
    }
    let method = request.method().clone();
    if method == http::Method::DELETE {
        return close_session(&layer, session, next.run(request).await);
    }
    if method != http::Method::POST || !is_json(request.headers()) {
        // rmcp answers other methods and content types (405, 406, 415) itself.
        return next.run(request).await;
    }

    let (parts, body) = request.into_parts();
    let (bytes, info) = match read_message(&layer, &parts.headers, body).await {
        Ok(message) => message,
        Err(refused) => return refused,
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    match session {
        Some(session) => on_session(&layer, session, info, request, next).await,
        None if info.method.as_deref() == Some("initialize") => {
            open_session(&layer, owner, request, next).await
        }
        None => next.run(request).await,
    }
}

/// Reads a POSTed body (at most `max_body_bytes`, within [`BODY_READ_TIMEOUT`]) and
/// checks that it is one well-formed JSON-RPC message; else the answer that refuses it.
async fn read_message(
    layer: &SessionLayer,
    headers: &http::HeaderMap,
    body: Body,
) -> Result<(axum::body::Bytes, MessageInfo), Response> {
    let too_large = |limit: usize| {
        jsonrpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Rejection::new(
                INVALID_REQUEST,
                serde_json::Value::Null,
                format!("Invalid request: the message is larger than {limit} bytes"),
            ),
        )
    };
    // A declared length over the limit is refused before reading anything.
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > layer.max_body_bytes as u64) {
        return Err(too_large(layer.max_body_bytes));
    }
    let bytes = match tokio::time::timeout(BODY_READ_TIMEOUT, read_body(body, layer.max_body_bytes))
        .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooLarge)) => return Err(too_large(layer.max_body_bytes)),
        Ok(Err(BodyError::Failed(e))) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("Bad Request: cannot read the body: {e}"),
            )
                .into_response());
        }
        Err(_) => {
            return Err((
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout: the body did not arrive in time",
            )
                .into_response());
        }
    };
    match check_message(&bytes) {
        Ok(info) => Ok((bytes, info)),
        Err(rejection) => {
            tracing::debug!(error = %rejection, "refused a malformed JSON-RPC message");
            Err(jsonrpc_error(StatusCode::BAD_REQUEST, &rejection))
        }
    }
}

/// An `initialize` without a session: the new session is counted against the limits
/// before rmcp creates it (503 with `Retry-After` when over), and recorded under the id
/// rmcp answers with.
async fn open_session(
    layer: &SessionLayer,
    owner: ClientKey,
    request: Request,
    next: Next,
) -> Response {
    let reservation = match layer.sessions.reserve(owner) {
        Ok(r) => r,
        Err((message, retry_after)) => {
            tracing::warn!(client = ?owner, "refused a new MCP session: {message}");
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Service Unavailable: {message}"),
            )
                .into_response();
            if let Ok(v) = http::HeaderValue::from_str(&retry_after.to_string()) {
                r.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
            return r;
        }
    };
    let response = next.run(request).await;
    if let Some(id) = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        reservation.record(id);
    }
    response
}

/// A message on an open session: `notifications/initialized` ends its handshake (so
/// the reaper no longer closes it for want of one), and a request's id is held in flight until its answer has
/// been sent, so that a second request with the same id is refused (409).
async fn on_session(
    layer: &SessionLayer,
    session: Arc<str>,
    info: MessageInfo,
    request: Request,
    next: Next,
) -> Response {
    if info.method.as_deref() == Some("notifications/initialized")
        && let Some(e) = layer.sessions.lock().entries.get_mut(&session)
    {
        e.initialized = true;
    }
    let (true, Some(id)) = (info.is_request(), info.id.as_ref()) else {
        return next.run(request).await;
    };
    let key = id.to_string();
    let fresh = match layer.sessions.lock().entries.get_mut(&session) {
        Some(e) => e.in_flight.insert(key.clone()),
        None => return session_not_found(),
    };
    if !fresh {
        return jsonrpc_error(
            StatusCode::CONFLICT,
            &Rejection::new(
                INVALID_REQUEST,
                id.clone(),
                format!(
                    "Invalid request: a request with id {key} is already in flight on this session; use a new id"
                ),
            ),
        );
    }
    let hold = InFlight {
        sessions: layer.sessions.clone(),
        session,
        id: key,
    };
    let response = next.run(request).await;
    holding(response, hold)
}

/// Runs [`Sessions::reap`] every second until the router is dropped or shut down.
fn spawn_reaper(sessions: &Arc<Sessions>, shutdown: CancellationToken) {
    let weak = Arc::downgrade(sessions);
    let period = (sessions.limits.init_timeout / 4)
        .clamp(Duration::from_millis(100), Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            let Some(sessions) = weak.upgrade() else {
                return;
            };
            sessions.reap().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn refused(text: &str) -> Rejection {
        match check_message(text.as_bytes()) {
            Err(r) => r,
            Ok(info) => panic!("accepted {text}: {info:?}"),
        }
    }

    #[test]
    fn valid_messages_pass_with_their_method_and_id() {
        let info = check_message(br#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#);
        assert_eq!(
            info.ok(),
            Some(MessageInfo {
                method: Some("tools/list".into()),
                id: Some(json!("a"))
            })
        );
        let note = check_message(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(note.is_ok_and(|i| !i.is_request()));
        assert!(check_message(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#).is_ok());
        assert!(
            check_message(br#"{"jsonrpc":"2.0","id":1,"method":"x/custom","params":{}}"#).is_ok()
        );
    }

    #[test]
    fn refusals_carry_the_id_and_say_what_is_wrong() {
        let r = refused(r#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":"x"}"#);
        assert_eq!((r.code, r.id.clone()), (INVALID_PARAMS, json!(5)));
        assert!(r.message.contains("\"params\" must be an object"), "{r}");
        let r = refused(r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"_meta":[]}}"#);
        assert!(r.message.contains("_meta"), "{r}");
        assert_eq!(r.id, json!(6));
        let r = refused(r#"{"jsonrpc":"1.0","id":7,"method":"tools/list"}"#);
        assert_eq!((r.code, r.id.clone()), (INVALID_REQUEST, json!(7)));
        let r = refused(r#"[{"jsonrpc":"2.0","id":8,"method":"tools/list"}]"#);
        assert_eq!(r.id, Value::Null);
        assert!(r.message.contains("batch"), "{r}");
        let r = refused(r#"{"jsonrpc":"2.0","id":9,"method":"t","params":{"s":"\ud800"}}"#);
        assert_eq!((r.code, r.id.clone()), (PARSE_ERROR, json!(9)));
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":10,"method":"t","params":{{"a":{}{}}}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let r = refused(&deep);
        assert_eq!(r.code, PARSE_ERROR);
        assert!(r.message.contains("recursion"), "{r}");
        let r = refused(r#"{"jsonrpc":"2.0","id":1.5,"method":"t"}"#);
        assert_eq!(r.id, Value::Null);
        let r = refused(r#"{"jsonrpc":"2.0","id":11,"method":"x","params":{"_meta":1}}"#);
        assert_eq!(r.to_json()["error"]["code"], json!(INVALID_PARAMS));
        assert_eq!(r.to_json()["id"], json!(11));
    }
}
