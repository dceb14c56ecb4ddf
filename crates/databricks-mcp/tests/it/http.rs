//! Streamable HTTP: a real MCP client over loopback HTTP, and the transport's guards.

use std::net::SocketAddr;

use databricks_emulator::{Emulator, StatementScript};
use databricks_mcp::transport::{HttpOptions, http_router};
use databricks_mcp::{DatabricksMcp, Settings};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{fast_options, state_for};

async fn serve(emulator: &Emulator, options: HttpOptions) -> (SocketAddr, CancellationToken) {
    let server = DatabricksMcp::new(state_for(emulator, Settings::default(), fast_options()));
    let shutdown = CancellationToken::new();
    let router = http_router(server, &options, shutdown.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    (addr, shutdown)
}

#[tokio::test]
async fn rmcp_client_over_http_lists_and_calls() {
    let emulator = Emulator::start().await;
    let (addr, shutdown) = serve(&emulator, HttpOptions::default()).await;
    let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let client = ().serve(transport).await.unwrap();
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "databricks-mcp");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "run_sql_query"));
    let r = client
        .call_tool(
            CallToolRequestParams::new("run_sql_query")
                .with_arguments(json!({"query": "SELECT 1"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true));
    let _ = client.cancel().await;
    shutdown.cancel();
}

/// A stateless (2026-07-28) `tools/call`: status, `Content-Type` and body.
async fn stateless_call(
    addr: SocketAddr,
    id: u64,
    query: &str,
    meta: serde_json::Value,
) -> (u16, String, String) {
    let mut meta = meta;
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "t", "version": "0"});
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "run_sql_query", "arguments": {"query": query}, "_meta": meta}});
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "run_sql_query")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn a_stateless_answer_is_one_json_body_unless_progress_comes_first() {
    let emulator = Emulator::start().await;
    emulator.script_statement(
        "queued",
        StatementScript::pending(4, StatementScript::rows(&[("x", "INT")], 1, 10)),
    );
    let (addr, shutdown) = serve(&emulator, HttpOptions::default()).await;

    // The answer alone: one JSON body, no stream to parse.
    let (status, content_type, body) = stateless_call(addr, 3, "SELECT 1", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(message["id"], 3);
    assert_eq!(message["result"]["isError"], false, "{message}");

    // Progress before the answer: a stream, progress first, then the answer.
    let meta = json!({"progressToken": "p-1"});
    let (status, content_type, body) = stateless_call(addr, 4, "SELECT x FROM queued", meta).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let messages: Vec<serde_json::Value> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect();
    let last = messages.last().unwrap();
    assert_eq!(last["id"], 4, "{body}");
    assert_eq!(last["result"]["isError"], false, "{last}");
    let progress = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .count();
    assert!(progress >= 1, "{body}");
    shutdown.cancel();
}

fn initialize_body() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
}

#[tokio::test]
async fn foreign_origin_host_and_oversized_bodies_are_refused() {
    let emulator = Emulator::start().await;
    let options = HttpOptions {
        max_body_bytes: 64 * 1024,
        ..HttpOptions::default()
    };
    let (addr, shutdown) = serve(&emulator, options).await;
    let url = format!("http://{addr}/mcp");
    let http = reqwest::Client::new();
    let post = |origin: Option<&str>, host: Option<&str>, body: String| {
        let mut req = http
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(h) = host {
            req = req.header("host", h);
        }
        req.send()
    };
    let ok = post(
        Some(&format!("http://localhost:{}", addr.port())),
        None,
        initialize_body().to_string(),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let evil = post(
        Some("http://evil.example"),
        None,
        initialize_body().to_string(),
    )
    .await
    .unwrap();
    assert_eq!(evil.status(), 403);
    let host = post(None, Some("evil.example"), initialize_body().to_string())
        .await
        .unwrap();
    assert_eq!(host.status(), 403);
    let big = json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"x": "y".repeat(200 * 1024)}});
    let too_big = post(None, None, big.to_string()).await.unwrap();
    assert_eq!(too_big.status(), 413);
    // Still serving.
    let again = post(None, None, initialize_body().to_string())
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    shutdown.cancel();
}

#[tokio::test]
async fn non_loopback_listen_is_refused() {
    let emulator = Emulator::start().await;
    let server = DatabricksMcp::new(state_for(&emulator, Settings::default(), fast_options()));
    let options = HttpOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..HttpOptions::default()
    };
    let err = databricks_mcp::transport::serve_http(server, options, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a loopback address"), "{err}");
}
