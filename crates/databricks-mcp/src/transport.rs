//! Transports: stdio (the default; stdout carries only JSON-RPC, logs go to stderr)
//! and streamable HTTP at `/mcp` (loopback by default, Host and Origin allow-lists,
//! bounded request bodies). Legacy 2025-11-25 clients get `Mcp-Session-Id` sessions;
//! 2026-07-28 clients are served statelessly on the same endpoint.

use std::net::SocketAddr;

use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::server::DatabricksMcp;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {0}: it is not a loopback address and this server has no client authentication yet. Listen on 127.0.0.1 (or ::1) and put an authenticating reverse proxy in front, adding its host name with --allowed-host"
    )]
    NotLoopback(SocketAddr),
    #[error("HTTP server error: {0}")]
    Serve(std::io::Error),
    #[error("stdio session error: {0}")]
    Stdio(String),
}

/// Serves one MCP session over stdin/stdout until stdin closes.
pub async fn serve_stdio(server: DatabricksMcp) -> Result<(), TransportError> {
    let running = server
        .serve(rmcp::transport::stdio())
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
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The `/mcp` router, ready to be served (tests bind it to an ephemeral port).
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
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_cancellation_token(shutdown.child_token());
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    axum::Router::new().nest_service("/mcp", service)
}

/// Serves streamable HTTP until `shutdown` is cancelled. Refuses non-loopback
/// addresses: there is no client authentication yet.
pub async fn serve_http(
    server: DatabricksMcp,
    options: HttpOptions,
    shutdown: CancellationToken,
) -> Result<(), TransportError> {
    if !options.listen.ip().is_loopback() {
        return Err(TransportError::NotLoopback(options.listen));
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| TransportError::Bind {
            addr: options.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(TransportError::Serve)?;
    tracing::info!("serving MCP over streamable HTTP at http://{local}/mcp");
    eprintln!("databricks-mcp: listening on http://{local}/mcp");
    let router = http_router(server, &options, shutdown.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(TransportError::Serve)
}
