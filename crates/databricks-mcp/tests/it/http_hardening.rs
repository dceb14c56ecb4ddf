//! Hardening of the streamable HTTP transport (and the stdio framing's error answers):
//! session caps and handshake/idle expiry, memory under an `initialize` flood, the
//! header-read timeout and connection cap, sessions bound to their creator, strict
//! `Host` parsing, `DELETE` of an unknown session, and JSON-RPC errors that carry the
//! request's id. Real HTTP on 127.0.0.1 only (the hijack test also uses 127.0.0.2,
//! another loopback address, as a second unauthenticated client).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use databricks_emulator::{Emulator, EmulatorConfig};
use databricks_mcp::http_auth::Security;
use databricks_mcp::transport::{HttpOptions, SessionLimits, serve_listener};
use databricks_mcp::{DatabricksMcp, Settings};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::support::{fast_options, state_for};

const TOKEN_A: &str = "client-a-token-0123456789abcdef";
const TOKEN_B: &str = "client-b-token-fedcba9876543210";

struct Served {
    addr: SocketAddr,
    shutdown: CancellationToken,
    _emulator: Emulator,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The server as the binary serves it (its accept loop), on an ephemeral port.
async fn start_with(config: EmulatorConfig, options: HttpOptions) -> Served {
    let emulator = Emulator::start_with(config).await;
    let server = DatabricksMcp::new(state_for(&emulator, Settings::default(), fast_options()));
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_listener(listener, server, options, shutdown.clone()));
    Served {
        addr,
        shutdown,
        _emulator: emulator,
    }
}

async fn start(options: HttpOptions) -> Served {
    start_with(EmulatorConfig::default(), options).await
}

fn initialize(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "hardening", "version": "0"}}})
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    req.send().await.unwrap()
}

/// The JSON-RPC messages of a response (a JSON body, or the `data:` lines of SSE).
async fn messages(response: reqwest::Response) -> Vec<Value> {
    let text = response.text().await.unwrap();
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        return vec![v];
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect()
}

/// An initialized session (initialize, then `notifications/initialized`).
async fn open_session(http: &reqwest::Client, url: &str, token: Option<&str>) -> String {
    let r = post(http, url, token, None, initialize(1).to_string()).await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = messages(r).await;
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = post(http, url, token, Some(&id), note.to_string()).await;
    assert_eq!(r.status(), 202);
    id
}

async fn tools_list(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    session: &str,
    id: i64,
) -> reqwest::Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
    post(http, url, token, Some(session), body.to_string()).await
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn five_thousand_unauthenticated_initializes_grow_rss_by_at_most_64_mib() {
    let emulator = Emulator::start().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args([
            "serve",
            "--transport",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--log",
            "error",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let (url, _log) = crate::support::wait_for_listening(&mut child).await;
    let http = client();
    // Warm up: the first sessions allocate the runtime's pools.
    for i in 0..20 {
        let r = post(&http, &url, None, None, initialize(i).to_string()).await;
        let _ = r.bytes().await;
    }
    let before = vm_rss_kib(pid);
    let (mut created, mut refused) = (0u32, 0u32);
    let mut handles = Vec::new();
    for worker in 0..8i64 {
        let http = http.clone();
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let (mut ok, mut busy) = (0u32, 0u32);
            for i in 0..625 {
                let r = post(
                    &http,
                    &url,
                    None,
                    None,
                    initialize(worker * 1000 + i).to_string(),
                )
                .await;
                match r.status().as_u16() {
                    200 => ok += 1,
                    503 => {
                        let retry: u64 = r.headers()["retry-after"]
                            .to_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        assert!((1..=10).contains(&retry), "{retry}");
                        busy += 1;
                    }
                    s => panic!("unexpected status {s}"),
                }
                let _ = r.bytes().await;
            }
            (ok, busy)
        }));
    }
    for h in handles {
        let (ok, busy) = h.await.unwrap();
        created += ok;
        refused += busy;
    }
    let after = vm_rss_kib(pid);
    eprintln!(
        "RSS before {before} KiB, after 5000 initializes {after} KiB (+{} KiB); {created} sessions created, {refused} refused with 503",
        after.saturating_sub(before)
    );
    assert_eq!(created + refused, 5000);
    assert!(refused > 0, "the per-client cap never applied");
    assert!(
        after <= before + 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
async fn sessions_are_capped_per_client_and_expire_without_a_handshake() {
    let served = start(HttpOptions {
        sessions: SessionLimits {
            max_sessions_per_client: 3,
            max_sessions: 1000,
            init_timeout: Duration::from_secs(1),
            ..SessionLimits::default()
        },
        ..HttpOptions::default()
    })
    .await;
    let url = served.url("/mcp");
    let http = client();
    let kept = open_session(&http, &url, None).await;
    let mut half_open = Vec::new();
    for i in 0..2 {
        let r = post(&http, &url, None, None, initialize(i).to_string()).await;
        assert_eq!(r.status(), 200);
        half_open.push(r.headers()["mcp-session-id"].to_str().unwrap().to_string());
    }
    let r = post(&http, &url, None, None, initialize(9).to_string()).await;
    assert_eq!(r.status(), 503);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // The half-open sessions are closed within seconds; the initialized one stays.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for id in &half_open {
        let r = tools_list(&http, &url, None, id, 2).await;
        assert_eq!(r.status(), 404, "a session without handshake survived");
    }
    let r = tools_list(&http, &url, None, &kept, 3).await;
    assert_eq!(r.status(), 200);
    // Their places are free again.
    let r = post(&http, &url, None, None, initialize(10).to_string()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_global_session_cap_applies_across_clients() {
    let served = start(HttpOptions {
        security: Security::default().with_tokens([TOKEN_A, TOKEN_B]),
        sessions: SessionLimits {
            max_sessions: 2,
            ..SessionLimits::default()
        },
        ..HttpOptions::default()
    })
    .await;
    let url = served.url("/mcp");
    let http = client();
    open_session(&http, &url, Some(TOKEN_A)).await;
    let b = open_session(&http, &url, Some(TOKEN_B)).await;
    let r = post(&http, &url, Some(TOKEN_A), None, initialize(3).to_string()).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    // Ending a session frees a place.
    let r = http
        .delete(&url)
        .bearer_auth(TOKEN_B)
        .header("mcp-session-id", &b)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = post(&http, &url, Some(TOKEN_A), None, initialize(4).to_string()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn idle_sessions_close_after_the_configured_timeout() {
    let served = start(HttpOptions {
        sessions: SessionLimits {
            idle_timeout: Duration::from_secs(1),
            ..SessionLimits::default()
        },
        ..HttpOptions::default()
    })
    .await;
    let url = served.url("/mcp");
    let http = client();
    let id = open_session(&http, &url, None).await;
    assert_eq!(tools_list(&http, &url, None, &id, 2).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(tools_list(&http, &url, None, &id, 3).await.status(), 404);
}

/// Reads until the server closes the connection; returns what it sent and when.
async fn wait_for_close(
    stream: &mut tokio::net::TcpStream,
    started: Instant,
    limit: Duration,
) -> (Vec<u8>, Duration) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return (seen, started.elapsed()),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the connection was still open after {limit:?}"),
        }
    }
}

#[tokio::test]
async fn slow_header_clients_are_dropped_within_the_timeout() {
    let timeout = Duration::from_secs(1);
    let served = start(HttpOptions {
        header_read_timeout: timeout,
        ..HttpOptions::default()
    })
    .await;
    // Half a request line and headers, then nothing.
    let connected = Instant::now();
    let mut partial = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    partial
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        .await
        .unwrap();
    // Nothing at all.
    let mut silent = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    let (_, partial_after) = wait_for_close(&mut partial, connected, Duration::from_secs(5)).await;
    let (_, silent_after) = wait_for_close(&mut silent, connected, Duration::from_secs(5)).await;
    eprintln!(
        "slow-header connection closed after {partial_after:?}, silent one after {silent_after:?}"
    );
    for after in [partial_after, silent_after] {
        assert!(after >= timeout - Duration::from_millis(200), "{after:?}");
        assert!(after <= timeout + Duration::from_secs(2), "{after:?}");
    }
    // A normal request still works.
    let r = post(
        &client(),
        &served.url("/mcp"),
        None,
        None,
        initialize(1).to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_with_503() {
    let served = start(HttpOptions {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(30),
        ..HttpOptions::default()
    })
    .await;
    let _a = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    let (answer, _) = wait_for_close(&mut c, Instant::now(), Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = post(
        &client(),
        &served.url("/mcp"),
        None,
        None,
        initialize(1).to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_hijacked_session_id_gets_404() {
    // Two tokens: B presenting A's session id.
    let served = start(HttpOptions {
        security: Security::default().with_tokens([TOKEN_A, TOKEN_B]),
        ..HttpOptions::default()
    })
    .await;
    let url = served.url("/mcp");
    let http = client();
    let a = open_session(&http, &url, Some(TOKEN_A)).await;
    let r = tools_list(&http, &url, Some(TOKEN_B), &a, 2).await;
    assert_eq!(r.status(), 404);
    let get = http
        .get(&url)
        .bearer_auth(TOKEN_B)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &a)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    let delete = http
        .delete(&url)
        .bearer_auth(TOKEN_B)
        .header("mcp-session-id", &a)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 404);
    // The managed routes share the session table.
    let r = tools_list(&http, &served.url("/api/2.0/mcp/sql"), Some(TOKEN_B), &a, 3).await;
    assert_eq!(r.status(), 404);
    // A's session is untouched.
    let r = tools_list(&http, &url, Some(TOKEN_A), &a, 4).await;
    assert_eq!(r.status(), 200);

    // Without authentication a session belongs to its peer address: 127.0.0.2 is
    // another client than 127.0.0.1.
    let open = start(HttpOptions::default()).await;
    let url = open.url("/mcp");
    let mine = open_session(&http, &url, None).await;
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let r = tools_list(&other, &url, None, &mine, 5).await;
    assert_eq!(r.status(), 404);
    let r = tools_list(&http, &url, None, &mine, 6).await;
    assert_eq!(r.status(), 200);
}

/// Sends raw bytes and returns the status line and body of the answer.
async fn raw(addr: SocketAddr, request: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.lines().next().unwrap_or("").to_string();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test]
async fn user_info_in_host_and_duplicate_host_headers_get_400() {
    let served = start(HttpOptions::default()).await;
    let port = served.addr.port();
    let body = initialize(1).to_string();
    for path in ["/mcp", "/.well-known/oauth-protected-resource/mcp"] {
        for hosts in [
            vec![format!("evil.com@127.0.0.1:{port}")],
            vec![format!("127.0.0.1:{port}"), format!("127.0.0.1:{port}")],
            vec![format!("127.0.0.1:{port}"), "evil.com".to_string()],
            vec![format!("127.0.0.1:{port}/x")],
            vec![format!("127.0.0.1:{port}:1")],
        ] {
            let host_lines: String = hosts.iter().map(|h| format!("Host: {h}\r\n")).collect();
            let method = if path == "/mcp" { "POST" } else { "GET" };
            let request = format!(
                "{method} {path} HTTP/1.1\r\n{host_lines}content-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let (status, answer) = raw(served.addr, &request).await;
            assert!(status.contains(" 400 "), "{path} {hosts:?}: {status}");
            assert!(!answer.contains("evil.com"), "{answer}");
        }
    }
    // A well-formed Host still works, and the metadata echoes it.
    let request = format!(
        "GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: localhost:{port}\r\nconnection: close\r\n\r\n"
    );
    let (status, answer) = raw(served.addr, &request).await;
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        answer.contains(&format!("http://localhost:{port}/mcp")),
        "{answer}"
    );
}

#[tokio::test]
async fn deleting_an_unknown_session_gets_404() {
    let served = start(HttpOptions::default()).await;
    let url = served.url("/mcp");
    let http = client();
    let delete = |id: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.delete(&url)
                .header("mcp-session-id", id)
                .header("mcp-protocol-version", "2025-11-25")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete("no-such-session".into()).await, 404);
    let id = open_session(&http, &url, None).await;
    // A live session: 204 (rmcp says 202; the Python SDKs warn on anything but 200/204).
    assert_eq!(delete(id.clone()).await, 204);
    assert_eq!(delete(id.clone()).await, 404);
    assert_eq!(tools_list(&http, &url, None, &id, 2).await.status(), 404);
}

/// The malformed messages of the finding, each with the id its error must carry.
fn malformed() -> Vec<(&'static str, String, Value)> {
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    vec![
        (
            "params as a string",
            r#"{"jsonrpc":"2.0","id":11,"method":"tools/list","params":"x"}"#.into(),
            json!(11),
        ),
        (
            "params as an array",
            r#"{"jsonrpc":"2.0","id":"twelve","method":"tools/call","params":[1,2]}"#.into(),
            json!("twelve"),
        ),
        (
            "_meta of the wrong type",
            r#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"list_warehouses","arguments":{},"_meta":"w"}}"#.into(),
            json!(13),
        ),
        (
            "a batch",
            r#"[{"jsonrpc":"2.0","id":14,"method":"tools/list"}]"#.into(),
            Value::Null,
        ),
        (
            "jsonrpc 1.0",
            r#"{"jsonrpc":"1.0","id":15,"method":"tools/list"}"#.into(),
            json!(15),
        ),
        (
            "over-deep nesting",
            format!(r#"{{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{{"name":"x","arguments":{{"a":{deep}}}}}}}"#),
            json!(16),
        ),
        (
            "a lone surrogate",
            r#"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"x\ud800","arguments":{}}}"#.into(),
            json!(17),
        ),
        ("not JSON", "{\"jsonrpc\":".into(), Value::Null),
    ]
}

fn assert_error(what: &str, answer: &Value, id: &Value) {
    assert_eq!(&answer["id"], id, "{what}: {answer}");
    let code = answer["error"]["code"].as_i64().unwrap_or(0);
    assert!([-32700, -32600, -32602].contains(&code), "{what}: {answer}");
    let message = answer["error"]["message"].as_str().unwrap_or("");
    assert!(message.len() > 20, "{what}: {answer}");
}

#[tokio::test]
async fn malformed_jsonrpc_over_http_gets_errors_with_the_request_id() {
    let served = start(HttpOptions {
        max_body_bytes: 64 * 1024,
        ..HttpOptions::default()
    })
    .await;
    let url = served.url("/mcp");
    let http = client();
    let session = open_session(&http, &url, None).await;
    for (what, body, id) in malformed() {
        for s in [None, Some(session.as_str())] {
            let r = post(&http, &url, None, s, body.clone()).await;
            assert_eq!(r.status(), 400, "{what}");
            let answers = messages(r).await;
            assert_eq!(answers.len(), 1, "{what}");
            assert_error(what, &answers[0], &id);
        }
    }
    // Over the size limit: an error too, never silence.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{{"name":"x","arguments":{{"q":"{}"}}}}}}"#,
        "a".repeat(100 * 1024)
    );
    let r = post(&http, &url, None, Some(&session), big).await;
    assert_eq!(r.status(), 413);
    let answers = messages(r).await;
    assert_error("oversized", &answers[0], &Value::Null);
    // The session still works.
    assert_eq!(
        tools_list(&http, &url, None, &session, 19).await.status(),
        200
    );
}

#[tokio::test]
async fn duplicate_in_flight_request_ids_on_a_session_are_refused() {
    let served = start_with(
        EmulatorConfig {
            latency: Duration::from_millis(1500),
            ..EmulatorConfig::default()
        },
        HttpOptions::default(),
    )
    .await;
    let url = served.url("/mcp");
    let http = client();
    let session = open_session(&http, &url, None).await;
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "list_warehouses", "arguments": {}}})
    .to_string();
    let slow = {
        let (http, url, session, call) = (http.clone(), url.clone(), session.clone(), call.clone());
        tokio::spawn(
            async move { messages(post(&http, &url, None, Some(&session), call).await).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let r = post(&http, &url, None, Some(&session), call.clone()).await;
    assert_eq!(r.status(), 409);
    let answers = messages(r).await;
    assert_error("duplicate", &answers[0], &json!(7));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the duplicate waited"
    );
    // The first one answers; then the id is free again.
    let first = slow.await.unwrap();
    assert!(
        first
            .iter()
            .any(|m| m["id"] == json!(7) && m.get("result").is_some()),
        "{first:?}"
    );
    let again = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}).to_string();
    let r = post(&http, &url, None, Some(&session), again).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn malformed_and_oversized_lines_over_stdio_get_errors_with_the_request_id() {
    use tokio::io::AsyncBufReadExt;
    let emulator = Emulator::start().await;
    let mut child = crate::support::spawn_stdio_server(&emulator, Stdio::null());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("no answer within 20 s")
            .unwrap()
            .expect("stdout closed");
        serde_json::from_str(&line).unwrap()
    };
    stdin
        .write_all(format!("{}\n", initialize(1)).as_bytes())
        .await
        .unwrap();
    assert_eq!(next().await["id"], json!(1));
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .unwrap();
    for (what, body, id) in malformed() {
        stdin
            .write_all(format!("{body}\n").as_bytes())
            .await
            .unwrap();
        assert_error(what, &next().await, &id);
    }
    // A line over the 20 MiB limit, streamed (never held whole by the server).
    let chunk = vec![b'a'; 1024 * 1024];
    stdin
        .write_all(br#"{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"x","arguments":{"q":""#)
        .await
        .unwrap();
    for _ in 0..21 {
        stdin.write_all(&chunk).await.unwrap();
    }
    stdin.write_all(b"\"}}}\n").await.unwrap();
    let answer = next().await;
    assert_error("oversized line", &answer, &Value::Null);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than")
    );
    // The session goes on.
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/list\"}\n")
        .await
        .unwrap();
    let list = next().await;
    assert_eq!(list["id"], json!(21));
    assert!(list["result"]["tools"].is_array());
    // Closing stdin ends the server cleanly.
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
