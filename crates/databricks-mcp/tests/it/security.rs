//! HTTP security: bearer authentication with RFC 9728 metadata, Host/Origin allow-lists,
//! body limit, non-loopback binding, per-client concurrency, no token passthrough, and
//! a canary Databricks token that must never appear in a response or a log line.

use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::{Emulator, EmulatorConfig};
use databricks_mcp::http_auth::Security;
use databricks_mcp::transport::HttpOptions;
use databricks_mcp::{DatabricksMcp, Settings};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::managed_surfaces::{call, connect, serve};
use crate::support::{fast_options, is_error, state_for, text};

const CLIENT_TOKEN: &str = "client-token-0123456789abcdef";
const OTHER_TOKEN: &str = "other-client-token-fedcba9876543210";

fn secured() -> HttpOptions {
    HttpOptions {
        max_body_bytes: 64 * 1024,
        security: Security::default().with_tokens([CLIENT_TOKEN, OTHER_TOKEN]),
        ..HttpOptions::default()
    }
}

fn initialize_body() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
    .to_string()
}

async fn post(
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: String,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn missing_or_wrong_tokens_get_401_with_protected_resource_metadata() {
    let emulator = Emulator::start().await;
    let served = serve(&emulator, Settings::default(), secured()).await;
    let base = served.url("");
    for path in ["/mcp", "/api/2.0/mcp/sql", "/api/2.0/mcp/genie/abc"] {
        let url = served.url(path);
        let none = post(&url, None, &[], initialize_body()).await;
        assert_eq!(none.status(), 401, "{path}");
        let challenge = none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            challenge,
            format!(
                "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource{path}\""
            ),
        );
        let wrong = post(
            &url,
            Some("not-a-valid-token-at-all"),
            &[],
            initialize_body(),
        )
        .await;
        assert_eq!(wrong.status(), 401, "{path}");
        let challenge = wrong.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let body: Value = wrong.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
        // Another scheme is no token.
        let basic = post(
            &url,
            None,
            &[("authorization", "Basic Y2xpZW50OnRva2Vu")],
            initialize_body(),
        )
        .await;
        assert_eq!(basic.status(), 401);
    }
    // Both configured tokens work.
    for token in [CLIENT_TOKEN, OTHER_TOKEN] {
        let ok = post(&served.url("/mcp"), Some(token), &[], initialize_body()).await;
        assert_eq!(ok.status(), 200);
    }
    // RFC 9728 metadata, without authentication.
    let http = reqwest::Client::new();
    let meta: Value = http
        .get(served.url("/.well-known/oauth-protected-resource/api/2.0/mcp/sql"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["resource"], format!("{base}/api/2.0/mcp/sql"));
    assert_eq!(meta["bearer_methods_supported"], json!(["header"]));
    let root: Value = http
        .get(served.url("/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["resource"], base);
    let unknown = http
        .get(served.url("/.well-known/oauth-protected-resource/etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn authenticated_clients_work_and_their_token_never_reaches_databricks() {
    let emulator = Emulator::start().await;
    let served = serve(&emulator, Settings::default(), secured()).await;
    let full = connect(&served.url("/mcp"), Some(CLIENT_TOKEN)).await;
    let sql = connect(&served.url("/api/2.0/mcp/sql"), Some(OTHER_TOKEN)).await;
    // tools/list is the same for every client.
    let a = serde_json::to_value(full.list_all_tools().await.unwrap()).unwrap();
    let other = connect(&served.url("/mcp"), Some(OTHER_TOKEN)).await;
    let b = serde_json::to_value(other.list_all_tools().await.unwrap()).unwrap();
    assert_eq!(a, b);
    let r = call(&full, "run_sql_query", json!({"query": "SELECT 1"}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = call(
        &sql,
        "execute_sql_read_only",
        json!({"query": "SELECT 1"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let requests = emulator.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let auth = r.header("authorization").unwrap_or("");
        assert_eq!(
            auth,
            format!("Bearer {}", emulator.pat()),
            "{} {}",
            r.method,
            r.path
        );
        let all = serde_json::to_string(r).unwrap();
        assert!(
            !all.contains(CLIENT_TOKEN) && !all.contains(OTHER_TOKEN),
            "{all}"
        );
    }
    for c in [full, sql, other] {
        let _ = c.cancel().await;
    }
}

#[tokio::test]
async fn foreign_origin_foreign_host_and_oversized_bodies_are_refused() {
    let emulator = Emulator::start().await;
    let served = serve(&emulator, Settings::default(), secured()).await;
    for path in [
        "/mcp",
        "/api/2.0/mcp/sql",
        "/.well-known/oauth-protected-resource",
    ] {
        let url = served.url(path);
        let origin = post(
            &url,
            Some(CLIENT_TOKEN),
            &[("origin", "http://evil.example")],
            initialize_body(),
        )
        .await;
        assert_eq!(origin.status(), 403, "{path}");
        // Checked before authentication: no token needed to be refused.
        let host = post(&url, None, &[("host", "evil.example")], initialize_body()).await;
        assert_eq!(host.status(), 403, "{path}");
    }
    let local_origin = format!("http://localhost:{}", served.addr.port());
    let ok = post(
        &served.url("/mcp"),
        Some(CLIENT_TOKEN),
        &[("origin", &local_origin)],
        initialize_body(),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let big = json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"x": "y".repeat(200 * 1024)}});
    for path in ["/mcp", "/api/2.0/mcp/sql"] {
        let r = post(&served.url(path), Some(CLIENT_TOKEN), &[], big.to_string()).await;
        assert_eq!(r.status(), 413, "{path}");
    }
    // An allowed proxy host.
    let proxied = HttpOptions {
        allowed_hosts: vec!["mcp.example.com".into()],
        ..secured()
    };
    let served = serve(&emulator, Settings::default(), proxied).await;
    let r = post(
        &served.url("/mcp"),
        Some(CLIENT_TOKEN),
        &[("host", "mcp.example.com")],
        initialize_body(),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn non_loopback_bind_needs_authentication() {
    let emulator = Emulator::start().await;
    let server = || DatabricksMcp::new(state_for(&emulator, Settings::default(), fast_options()));
    let open = HttpOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..HttpOptions::default()
    };
    let err = databricks_mcp::transport::serve_http(server(), open, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no client authentication"),
        "{err}"
    );
    // With tokens it serves.
    let authenticated = HttpOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..secured()
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(databricks_mcp::transport::serve_http(
        server(),
        authenticated,
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!task.is_finished(), "the authenticated server is listening");
    shutdown.cancel();
    let done = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(done.is_ok(), "{done:?}");
}

/// A stateless (2026-07-28) tools/call over plain HTTP.
async fn stateless_call(url: &str, token: &str, tool: &str, id: u64) -> reqwest::Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
    "name": tool, "arguments": {},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "load", "version": "0"}
    }}});
    post(
        url,
        Some(token),
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", tool),
        ],
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn each_client_has_a_bounded_number_of_requests_in_flight() {
    let emulator = Emulator::start().await;
    let options = HttpOptions {
        security: Security {
            max_concurrent_per_client: 1,
            ..Security::default()
        }
        .with_tokens([CLIENT_TOKEN, OTHER_TOKEN]),
        ..HttpOptions::default()
    };
    let served = serve(&emulator, Settings::default(), options).await;
    let url = served.url("/mcp");
    // Sanity: one call works.
    let one = stateless_call(&url, CLIENT_TOKEN, "list_warehouses", 1).await;
    assert_eq!(one.status(), 200);
    let body = one.text().await.unwrap();
    assert!(body.contains("abcdef0123456789"), "{body}");

    emulator.set_latency(Duration::from_millis(1500));
    // One runs, two wait (the queue holds twice the limit), the rest get 429.
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let r = stateless_call(&url, CLIENT_TOKEN, "list_warehouses", 10 + i).await;
                let status = r.status().as_u16();
                let retry = r
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let _ = r.text().await;
                (status, retry)
            })
        })
        .collect();
    // Another client is not held up by the first one's limit.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = tokio::spawn({
        let url = url.clone();
        async move {
            stateless_call(&url, OTHER_TOKEN, "list_warehouses", 99)
                .await
                .status()
        }
    });
    let mut statuses = Vec::new();
    for c in calls {
        statuses.push(c.await.unwrap());
    }
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    let limited: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert_eq!(ok, 3, "{statuses:?}");
    assert_eq!(limited.len(), 3, "{statuses:?}");
    assert!(limited.iter().all(|(_, r)| r.as_deref() == Some("1")));
    assert_eq!(other.await.unwrap(), 200);
}

/// The real binary with a canary Databricks token and debug logs: the token never
/// appears in an HTTP response (success, tool error, 401, 403, 404) nor in stderr.
#[tokio::test]
async fn a_canary_databricks_token_never_appears_in_responses_or_logs() {
    const CANARY: &str = "dapi-CANARY-5e1f0c2a9b7d4e63";
    let emulator = Emulator::start_with(EmulatorConfig {
        pat: CANARY.to_string(),
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("tokens");
    std::fs::write(&token_file, format!("# test clients\n{CLIENT_TOKEN}\n")).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args([
            "serve",
            "--transport",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--log",
            "debug",
            // Every tool, the opt-in Genie and Vector Search ones too.
            "--toolsets",
            "all",
        ])
        .arg("--auth-token-file")
        .arg(&token_file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", CANARY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (mcp_url, stderr) = crate::support::wait_for_listening(&mut child).await;
    let base = mcp_url.trim_end_matches("/mcp").to_string();
    let mut seen = Vec::<String>::new();

    // Refusals.
    for (token, headers) in [
        (None, vec![]),
        (Some("wrong-token-wrong-token-wrong"), vec![]),
        (Some(CLIENT_TOKEN), vec![("origin", "http://evil.example")]),
        (Some(CLIENT_TOKEN), vec![("host", "evil.example")]),
    ] {
        let r = post(&mcp_url, token, &headers, initialize_body()).await;
        seen.push(format!("{:?}", r.headers()));
        seen.push(r.text().await.unwrap());
    }
    // Successes and tool errors through every surface.
    let client = connect(&mcp_url, Some(CLIENT_TOKEN)).await;
    seen.push(serde_json::to_string(&client.list_all_tools().await.unwrap()).unwrap());
    for (tool, args, meta) in [
        ("run_sql_query", json!({"query": "SELECT 1"}), None),
        (
            "run_sql_query",
            json!({"query": "SELECT 1"}),
            Some(json!({"warehouse_id": "fffffffffffffff0"})),
        ),
        ("run_sql_query", json!({"query": "DROP TABLE x"}), None),
        ("list_warehouses", json!({}), None),
        (
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "missing_t"}),
            None,
        ),
        (
            "query_vector_index",
            json!({"index_name": "main_catalog.docs.en_wiki_index", "query": "x"}),
            None,
        ),
        (
            "ask_genie",
            json!({"space_id": "01ef1c2d3e4f5a6b7c8d9e0f1a2b3c4d", "question": "q"}),
            None,
        ),
    ] {
        let r = call(&client, tool, args, meta).await;
        seen.push(serde_json::to_string(&r).unwrap());
    }
    let _ = client.cancel().await;
    let sql = connect(&format!("{base}/api/2.0/mcp/sql"), Some(CLIENT_TOKEN)).await;
    let r = call(
        &sql,
        "execute_sql",
        json!({"query": "SELECT * FROM nowhere"}),
        None,
    )
    .await;
    seen.push(serde_json::to_string(&r).unwrap());
    let _ = sql.cancel().await;
    let meta = reqwest::get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    seen.push(meta);
    // The workspace really was called with the canary (the test is not vacuous).
    assert!(
        emulator
            .requests()
            .iter()
            .any(|r| r.header("authorization") == Some(&format!("Bearer {CANARY}")))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = stderr.lock().unwrap().join("\n");
    assert!(
        log.contains("tool call"),
        "debug logs were captured:\n{log}"
    );
    for (what, text) in seen
        .iter()
        .map(|s| ("response", s.as_str()))
        .chain([("log", log.as_str())])
    {
        assert!(
            !text.contains(CANARY),
            "the Databricks token leaked into a {what}: {text}"
        );
        assert!(
            !text.contains("CANARY"),
            "part of the Databricks token leaked into a {what}: {text}"
        );
        assert!(
            !text.contains(CLIENT_TOKEN),
            "the client's token leaked into a {what}: {text}"
        );
    }
}
