//! Transports: stdio (the default; stdout carries only JSON-RPC, logs go to stderr)
//! and streamable HTTP. Legacy 2025-11-25 clients get `Mcp-Session-Id` sessions;
//! 2026-07-28 clients are served statelessly on the same endpoints.
//!
//! HTTP routes: the full surface at `/mcp`; the managed-compatible surfaces at
//! `/api/2.0/mcp/sql`, `/api/2.0/mcp/vector-search/{catalog}/{schema}[/{index}]`,
//! `/api/2.0/mcp/genie/{space_id}` and `/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]`
//! (one rmcp service; the route puts its [`Surface`] in the request's extensions);
//! RFC 9728 metadata at `/.well-known/oauth-protected-resource[/<route>]`. Every route
//! is behind [`http_auth::guard`]: Host/Origin allow-lists, bearer authentication when
//! configured, the per-client concurrency limit. Request bodies are capped. Without
//! authentication the server listens on loopback only.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::http_auth::{self, AllowLists, Guard, Security};
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
        "refusing to listen on {0}: it is not a loopback address and no client authentication is configured. Give client tokens with --auth-token-file or DATABRICKS_MCP_AUTH_TOKENS (and the public host name with --allowed-host), or listen on 127.0.0.1 (or ::1)"
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

/// The JSON-RPC framing of a byte stream (stdin/stdout, or a pipe in tests).
pub fn line_transport<R, W>(
    read: R,
    write: W,
) -> rmcp::transport::async_rw::AsyncRwTransport<rmcp::RoleServer, R, W>
where
    R: Send + tokio::io::AsyncRead + Unpin,
    W: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    rmcp::transport::async_rw::AsyncRwTransport::new_server(read, write)
        .with_max_line_length(MAX_LINE_BYTES)
}

/// Serves one MCP session over stdin/stdout until stdin closes.
pub async fn serve_stdio(server: DatabricksMcp) -> Result<(), TransportError> {
    let (stdin, stdout) = rmcp::transport::stdio();
    let running = server
        .serve(line_transport(stdin, stdout))
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
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 20 * 1024 * 1024,
            security: Security::default(),
        }
    }
}

type McpService = StreamableHttpService<DatabricksMcp, LocalSessionManager>;

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
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    hosts.extend(options.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = vec![
        "http://localhost:*".into(),
        "http://127.0.0.1:*".into(),
        "http://[::1]:*".into(),
    ];
    origins.extend(options.allowed_origins.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(true)
        .with_allowed_hosts(hosts.clone())
        .with_allowed_origins(origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(shutdown.child_token());
    let service: McpService = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let guard = Arc::new(Guard::new(
        options.security.clone(),
        AllowLists { hosts, origins },
    ));
    let sql = service.clone();
    let vs2 = service.clone();
    let vs3 = service.clone();
    let genie = service.clone();
    let fn2 = service.clone();
    let fn3 = service.clone();
    axum::Router::new()
        .nest_service("/mcp", service)
        .route(
            "/api/2.0/mcp/sql",
            any(move |request: Request| dispatch(sql.clone(), Ok(Surface::Sql), request)),
        )
        .route(
            "/api/2.0/mcp/vector-search/{catalog}/{schema}",
            any(
                move |Path((c, s)): Path<(String, String)>, request: Request| {
                    dispatch(vs2.clone(), Surface::vector_search(&c, &s, None), request)
                },
            ),
        )
        .route(
            "/api/2.0/mcp/vector-search/{catalog}/{schema}/{index}",
            any(
                move |Path((c, s, i)): Path<(String, String, String)>, request: Request| {
                    dispatch(
                        vs3.clone(),
                        Surface::vector_search(&c, &s, Some(&i)),
                        request,
                    )
                },
            ),
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
        )
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
    tracing::info!(
        authentication = options.security.authenticates(),
        "serving MCP over streamable HTTP at http://{local}/mcp and the managed routes under /api/2.0/mcp/"
    );
    if !options.listen.ip().is_loopback() {
        tracing::warn!(
            "listening on a non-loopback address without TLS: put a TLS-terminating proxy in front so bearer tokens do not cross the network in clear text"
        );
    }
    eprintln!("databricks-mcp: listening on http://{local}/mcp");
    let router = http_router(server, &options, shutdown.clone());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
    .map_err(TransportError::Serve)
}
