//! `bench soak`: a bounded mixed load against one server process over streamable HTTP
//! (C clients, stateless 2026-07-28 requests, one bearer token each) and S stdio sessions
//! of their own processes, for D seconds. The mix includes calls that must fail (a write
//! in read-only mode, a missing table, an unknown tool) and calls the client abandons
//! (HTTP requests dropped mid-flight, stdio `notifications/cancelled`) while the upstream
//! is slow. Reports unexpected errors (must be 0), p50/p99 latency, and the HTTP server's
//! resident memory over time, which must return near its baseline once the load stops.
//! Loopback only; every loop ends at the deadline.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use databricks_emulator::{Emulator, EmulatorConfig, StatementScript};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// Parameters of one soak.
pub struct Soak {
    pub clients: usize,
    pub stdio_sessions: usize,
    pub duration: Duration,
}

/// What a call should produce.
#[derive(Clone, Copy)]
enum Expect {
    /// A result with `isError: false`.
    Success,
    /// A tool result with `isError: true` (a refusal or an upstream error).
    ToolError,
    /// A JSON-RPC error (unknown tool).
    ProtocolError,
}

/// The mix, cycled by each client: (tool, arguments, expectation).
fn mix() -> Vec<(&'static str, Value, Expect)> {
    vec![
        ("list_clusters", json!({}), Expect::Success),
        (
            "run_sql_query",
            json!({"query": "SELECT 1"}),
            Expect::Success,
        ),
        ("list_catalogs", json!({}), Expect::Success),
        (
            "run_sql_query",
            json!({"query": "DROP TABLE main.sales.orders"}),
            Expect::ToolError,
        ),
        (
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "missing_t"}),
            Expect::ToolError,
        ),
        ("no_such_tool", json!({}), Expect::ProtocolError),
        ("list_jobs", json!({}), Expect::Success),
    ]
}

/// The statement text the emulator keeps running (for abandoned calls).
const SLOW_SQL: &str = "SELECT 'soak-slow' AS s";

fn outcome_ok(message: &Value, expect: Expect) -> bool {
    match expect {
        Expect::Success => message["result"]["isError"] == json!(false),
        Expect::ToolError => message["result"]["isError"] == json!(true),
        Expect::ProtocolError => message.get("error").is_some(),
    }
}

fn status_kib(pid: Option<u32>, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[derive(Default)]
struct Tally {
    calls: AtomicUsize,
    unexpected: AtomicUsize,
    abandoned: AtomicUsize,
    latencies: std::sync::Mutex<Vec<Duration>>,
    first_failures: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, latency: Duration, ok: bool, what: impl FnOnce() -> String) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut l) = self.latencies.lock() {
            l.push(latency);
        }
        if !ok {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut f) = self.first_failures.lock()
                && f.len() < 5
            {
                f.push(what());
            }
        }
    }
}

async fn http_client(
    index: usize,
    url: Arc<String>,
    token: String,
    deadline: Instant,
    tally: Arc<Tally>,
) {
    let http = reqwest::Client::new();
    let mix = mix();
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        // Every 11th call is abandoned mid-flight: the server must cancel it upstream and
        // free its slot.
        if id.is_multiple_of(11) {
            let abandoned = tokio::time::timeout(
                Duration::from_millis(150),
                crate::http_load::call_tool(
                    &http,
                    &url,
                    &token,
                    id,
                    "run_sql_query",
                    &json!({"query": SLOW_SQL}),
                ),
            )
            .await;
            if abandoned.is_err() {
                tally.abandoned.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        let (tool, arguments, expect) = &mix[(index + id as usize) % mix.len()];
        let started = Instant::now();
        let result = crate::http_load::call_tool(&http, &url, &token, id, tool, arguments).await;
        let ok = result.as_ref().is_ok_and(|m| outcome_ok(m, *expect));
        tally.record(started.elapsed(), ok, || format!("HTTP {tool}: {result:?}"));
    }
}

/// One stdio session: its own server process, calls one after the other, every 9th call
/// cancelled with `notifications/cancelled` while the upstream is slow.
async fn stdio_session(
    server: &Path,
    emulator_url: String,
    pat: String,
    deadline: Instant,
    tally: Arc<Tally>,
) -> Result<()> {
    let mut child = Command::new(server)
        .arg("serve")
        .env_clear()
        .env("DATABRICKS_HOST", emulator_url)
        .env("DATABRICKS_TOKEN", pat)
        .env("DATABRICKS_RATE_LIMIT", "10000")
        .env("DATABRICKS_MCP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let mut send = async |message: Value| -> Result<()> {
        stdin.write_all(format!("{message}\n").as_bytes()).await?;
        Ok(())
    };
    send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"soak","version":"0"}}}))
    .await?;
    lines.next_line().await?.context("no initialize answer")?;
    send(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await?;
    let mix = mix();
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        let cancel = id.is_multiple_of(9);
        let (tool, arguments, expect) = if cancel {
            (
                "run_sql_query",
                json!({"query": SLOW_SQL}),
                Expect::ToolError,
            )
        } else {
            let (t, a, e) = &mix[id as usize % mix.len()];
            (*t, a.clone(), *e)
        };
        let started = Instant::now();
        send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":arguments}}))
            .await?;
        if cancel {
            tokio::time::sleep(Duration::from_millis(100)).await;
            send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":id,"reason":"soak"}}))
                .await?;
            tally.abandoned.fetch_add(1, Ordering::Relaxed);
            // A cancelled request gets no answer (MCP); the next call must still work.
            continue;
        }
        let answer = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                match lines.next_line().await {
                    Ok(Some(line)) => {
                        let message: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                        if message["id"] == json!(id) {
                            return Some(message);
                        }
                    }
                    _ => return None,
                }
            }
        })
        .await
        .ok()
        .flatten();
        let ok = answer.as_ref().is_some_and(|m| outcome_ok(m, expect));
        tally.record(started.elapsed(), ok, || {
            format!("stdio {tool}: {answer:?}")
        });
    }
    drop(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the soak; an error when any call went unexpectedly or memory did not settle.
pub async fn run(server: &Path, soak: &Soak) -> Result<()> {
    let emulator = Emulator::start_with(EmulatorConfig::default()).await;
    emulator.set_recording(false);
    // The abandoned calls hit a statement that stays PENDING long past their deadline.
    emulator.script_statement(
        "soak-slow",
        StatementScript::Pending {
            polls: 1_000,
            then: Box::new(StatementScript::Canceled),
        },
    );
    let dir = std::env::temp_dir().join(format!("dbmcp-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tokens: Vec<String> = (0..soak.clients)
        .map(|i| format!("soak-client-token-{i:04}-{}", std::process::id()))
        .collect();
    let (mut child, url) =
        crate::http_load::start_http_server(server, &emulator, &dir, &tokens).await?;
    let url = Arc::new(url);
    let pid = child.id();

    // Warm-up, then the baseline.
    let warm = reqwest::Client::new();
    for (i, token) in tokens.iter().enumerate() {
        crate::http_load::call_tool(&warm, &url, token, i as u64, "list_clusters", &json!({}))
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = status_kib(pid, "VmRSS:").unwrap_or(0);

    emulator.set_latency(Duration::from_millis(20));
    let started = Instant::now();
    let deadline = started + soak.duration;
    let tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        tasks.push(tokio::spawn(http_client(
            i,
            url.clone(),
            token.clone(),
            deadline,
            tally.clone(),
        )));
    }
    let mut stdio = Vec::new();
    for _ in 0..soak.stdio_sessions {
        let (server, base, pat, tally) = (
            server.to_path_buf(),
            emulator.base_url(),
            emulator.pat().to_string(),
            tally.clone(),
        );
        stdio.push(tokio::spawn(async move {
            stdio_session(&server, base, pat, deadline, tally).await
        }));
    }
    // RSS of the HTTP server every 5 s while the load runs.
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(5).min(deadline - Instant::now())).await;
        samples.push((
            started.elapsed().as_secs(),
            status_kib(pid, "VmRSS:").unwrap_or(0),
        ));
    }
    for task in tasks {
        let _ = task.await;
    }
    for session in stdio {
        session.await??;
    }
    emulator.set_latency(Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let settled = status_kib(pid, "VmRSS:").unwrap_or(0);
    let peak = status_kib(pid, "VmHWM:").unwrap_or(0);

    let mut latencies = tally
        .latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    latencies.sort();
    let calls = tally.calls.load(Ordering::Relaxed);
    let unexpected = tally.unexpected.load(Ordering::Relaxed);
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    println!(
        "| soak: {} HTTP clients + {} stdio sessions, {} s, upstream 20 ms | |",
        soak.clients,
        soak.stdio_sessions,
        soak.duration.as_secs()
    );
    println!("|---|---|");
    println!("| calls answered (unexpected outcomes) | {calls} ({unexpected}) |");
    println!(
        "| calls abandoned by the client | {} |",
        tally.abandoned.load(Ordering::Relaxed)
    );
    println!(
        "| latency p50 / p99 | {:.1} ms / {:.1} ms |",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    let over_time: Vec<String> = samples
        .iter()
        .map(|(t, k)| format!("{t} s: {}", mib(*k)))
        .collect();
    println!(
        "| HTTP server RSS during the load | {} |",
        over_time.join(", ")
    );
    println!(
        "| RSS baseline → peak → 5 s after | {} → {} → {} |",
        mib(baseline),
        mib(peak),
        mib(settled)
    );
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    if unexpected > 0 {
        let failures = tally
            .first_failures
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        bail!("{unexpected} unexpected outcomes, first ones: {failures:#?}");
    }
    if calls == 0 {
        bail!("no call was answered");
    }
    // "Back to baseline": allocator caches may keep some pages; growth beyond this bound
    // is a leak.
    if settled > baseline + 32 * 1024 {
        bail!(
            "memory did not return to baseline: {} → {}",
            mib(baseline),
            mib(settled)
        );
    }
    Ok(())
}
