//! `bench http-load`: C concurrent HTTP clients × N `tools/call`s each against the
//! release server over streamable HTTP (stateless 2026-07-28 requests, bearer
//! authentication, one token per client), with an upstream that answers in L ms.
//! Reports wall time against N × L, per-call latency, errors, and the server's resident
//! memory before, at peak and after the load (after a settle delay). Loopback only,
//! bounded loops.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use databricks_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Parameters of one run.
pub struct Load {
    pub clients: usize,
    pub calls: usize,
    pub latency: Duration,
}

fn status_kib(child: &Child, key: &str) -> Option<u64> {
    let pid = child.id()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

/// `kib` relative to `baseline`, signed.
fn mib_delta(kib: Option<u64>, baseline: Option<u64>) -> String {
    match (kib, baseline) {
        (Some(k), Some(b)) => format!("{:+.1} MiB", (k as f64 - b as f64) / 1024.0),
        _ => "n/a".into(),
    }
}

/// Wait after a round before reading the server's memory.
const SETTLE: Duration = Duration::from_secs(5);

/// Wall time, per-call latencies (sorted), errors, RSS and its anonymous part (the
/// heap; the rest is mostly code paged in from the binary) after settling.
type Round = (Duration, Vec<Duration>, usize, Option<u64>, Option<u64>);

/// Every client makes `calls` calls one after the other, all clients at once.
async fn one_round(
    clients: &[reqwest::Client],
    url: &str,
    tokens: &[String],
    calls: usize,
) -> Result<(Duration, Vec<Duration>, usize)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, http) in clients.iter().enumerate() {
        let http = http.clone();
        let url = url.to_string();
        let token = tokens[i].clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(calls);
            let mut errors = 0usize;
            for n in 0..calls {
                let t = Instant::now();
                match call(&http, &url, &token, 100 + n as u64).await {
                    Ok(true) => {}
                    Ok(false) | Err(_) => errors += 1,
                }
                latencies.push(t.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    let wall = started.elapsed();
    latencies.sort();
    Ok((wall, latencies, errors))
}

/// One stateless `tools/call` of `list_clusters`; `Ok(true)` when the result is not an
/// error.
async fn call(http: &reqwest::Client, url: &str, token: &str, id: u64) -> Result<bool> {
    let message = call_tool(http, url, token, id, "list_clusters", &json!({})).await?;
    Ok(message["result"]["isError"] == json!(false))
}

/// One stateless (2026-07-28) `tools/call` over streamable HTTP: the response message.
pub async fn call_tool(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    id: u64,
    tool: &str,
    arguments: &Value,
) -> Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
    "name": tool, "arguments": arguments,
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"}
    }}});
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("HTTP {status}: {text}");
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .chain(serde_json::from_str::<Value>(&text).ok())
        .find(|m| m["id"] == json!(id))
        .context("no response message")
}

/// The server binary over streamable HTTP on an ephemeral loopback port against
/// `emulator`, with one bearer token per client (written to a file under `dir`): the
/// process and its URL.
pub async fn start_http_server(
    server: &Path,
    emulator: &Emulator,
    dir: &Path,
    tokens: &[String],
) -> Result<(Child, String)> {
    let token_file = dir.join("tokens");
    std::fs::write(&token_file, tokens.join("\n"))?;
    let mut child = Command::new(server)
        .args(["serve", "--transport", "http", "--listen", "127.0.0.1:0"])
        .arg("--auth-token-file")
        .arg(&token_file)
        .env_clear()
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        // The client-side courtesy limit (100 requests/s by default) would dominate
        // this measurement of the server itself.
        .env("DATABRICKS_RATE_LIMIT", "10000")
        .env("DATABRICKS_MCP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let mut lines = BufReader::new(child.stderr.take().context("no stderr")?).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("databricks-mcp: listening on ") {
                return Some(rest.trim().to_string());
            }
        }
        None
    })
    .await
    .context("the server did not start")?
    .context("the server exited")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

pub async fn run(server: &Path, load: &Load) -> Result<()> {
    let emulator = Emulator::start_with(EmulatorConfig::default()).await;
    emulator.set_recording(false);
    let dir = std::env::temp_dir().join(format!("dbmcp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tokens: Vec<String> = (0..load.clients)
        .map(|i| format!("bench-client-token-{i:04}-{}", std::process::id()))
        .collect();
    let (mut child, url) = start_http_server(server, &emulator, &dir, &tokens).await?;

    // Warm up: every client connects and calls once with no upstream latency.
    let clients: Vec<reqwest::Client> = (0..load.clients).map(|_| reqwest::Client::new()).collect();
    for (i, http) in clients.iter().enumerate() {
        if !call(http, &url, &tokens[i], 1).await? {
            bail!("warm-up call failed");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cold = status_kib(&child, "VmRSS:");
    // Then one concurrent call per client against the slow upstream, so the baseline is
    // an idle server that has served this load's shape once (its code paged in, its
    // connections open), and what the rounds add is what a load leaves behind.
    emulator.set_latency(load.latency);
    one_round(&clients, &url, &tokens, 1).await?;
    emulator.set_latency(Duration::ZERO);
    tokio::time::sleep(SETTLE).await;
    let baseline = status_kib(&child, "VmRSS:");
    let baseline_anon = status_kib(&child, "RssAnon:");

    // Two identical rounds: the first shows wall time and latency, the second that
    // memory settles back to the same level (no growth from one load to the next).
    let mut rounds = Vec::new();
    for _ in 0..2 {
        emulator.set_latency(load.latency);
        let (wall, latencies, errors) = one_round(&clients, &url, &tokens, load.calls).await?;
        emulator.set_latency(Duration::ZERO);
        tokio::time::sleep(SETTLE).await;
        rounds.push((
            wall,
            latencies,
            errors,
            status_kib(&child, "VmRSS:"),
            status_kib(&child, "RssAnon:"),
        ));
    }
    let peak = status_kib(&child, "VmHWM:");
    let ideal = load.latency * load.calls as u32;
    println!(
        "| HTTP load: {} clients × {} `tools/call` each, upstream {} ms | round 1 | round 2 |",
        load.clients,
        load.calls,
        load.latency.as_millis()
    );
    println!("|---|---|---|");
    let row = |label: &str, f: &dyn Fn(&Round) -> String| {
        println!("| {label} | {} | {} |", f(&rounds[0]), f(&rounds[1]));
    };
    row("calls (errors)", &|r| format!("{} ({})", r.1.len(), r.2));
    row(
        &format!(
            "wall time (ideal {} × {} ms = {:.1} s)",
            load.calls,
            load.latency.as_millis(),
            ideal.as_secs_f64()
        ),
        &|r| {
            format!(
                "{:.2} s (+{:.0}%)",
                r.0.as_secs_f64(),
                (r.0.as_secs_f64() / ideal.as_secs_f64() - 1.0) * 100.0
            )
        },
    );
    row("per-call p50 / p99", &|r| {
        format!(
            "{} / {}",
            crate::ms(crate::percentile(&r.1, 0.5)),
            crate::ms(crate::percentile(&r.1, 0.99))
        )
    });
    row("throughput", &|r| {
        format!("{:.0} calls/s", r.1.len() as f64 / r.0.as_secs_f64())
    });
    row(
        &format!(
            "server RSS {} s after the round (vs. the warm baseline)",
            SETTLE.as_secs()
        ),
        &|r| format!("{} ({})", mib(r.3), mib_delta(r.3, baseline)),
    );
    row(
        "of which anonymous memory (heap, stacks; the rest is code paged in)",
        &|r| format!("{} ({})", mib(r.4), mib_delta(r.4, baseline_anon)),
    );
    println!(
        "\nServer RSS after the warm-up calls {}, after one concurrent call per client (the warm baseline) {}, peak {}.\n",
        mib(cold),
        mib(baseline),
        mib(peak)
    );
    let errors: usize = rounds.iter().map(|r| r.2).sum();
    emulator.set_latency(load.latency);
    python_round(&url, &tokens, load).await?;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
    if errors > 0 {
        bail!("{errors} calls failed");
    }
    Ok(())
}

/// Clients per Python process in [`python_round`].
const CLIENTS_PER_PROCESS: usize = 8;

/// The same load through the official Python SDK (2.x, in `.venv`), which validates every
/// result against the tool's `outputSchema`: the wall time against the ideal. The clients
/// run in processes of [`CLIENTS_PER_PROCESS`] (agents are processes of their own, and
/// one Python process is bound to one core); the clock starts once every process has its
/// clients connected and warmed.
async fn python_round(url: &str, tokens: &[String], load: &Load) -> Result<()> {
    let python = std::env::current_dir()?.join(".venv/bin/python");
    if !python.exists() {
        println!(
            "The official Python SDK is not installed (bash scripts/setup-python.sh): its round is left out.\n"
        );
        return Ok(());
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/http_load_client.py");
    let mut processes = Vec::new();
    for group in tokens.chunks(CLIENTS_PER_PROCESS) {
        let mut child = Command::new(&python)
            .arg(script)
            .args(["--url", url, "--tokens", &group.join(",")])
            .args(["--calls", &load.calls.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the Python clients")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        // Drained as it comes, so that a chatty client never blocks on a full pipe.
        let mut stderr = child.stderr.take().context("no stderr")?;
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        processes.push((child, stdin, lines, errors));
    }
    let deadline = Duration::from_secs(600);
    for (child, _, lines, errors) in &mut processes {
        let line = tokio::time::timeout(deadline, lines.next_line())
            .await
            .context("the Python clients were not ready in 600 s")??;
        if line.as_deref() != Some("ready") {
            bail!(
                "the Python clients failed: {}",
                stderr_of(child, errors).await
            );
        }
    }
    let started = Instant::now();
    for (_, stdin, _, _) in &mut processes {
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
    }
    let mut latencies: Vec<f64> = Vec::new();
    let mut errors = 0;
    let mut wall = Duration::ZERO;
    for (child, _, lines, stderr) in &mut processes {
        let line = tokio::time::timeout(deadline, lines.next_line())
            .await
            .context("the Python clients did not finish in 600 s")??;
        wall = wall.max(started.elapsed());
        let Some(v) = line.and_then(|l| serde_json::from_str::<Value>(&l).ok()) else {
            bail!(
                "the Python clients failed: {}",
                stderr_of(child, stderr).await
            );
        };
        errors += v["errors"].as_u64().unwrap_or(0);
        latencies.extend(
            v["latencies_s"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64),
        );
    }
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(f64::NAN, |s| s * 1000.0)
    };
    let ideal = load.latency.as_secs_f64() * load.calls as f64;
    let wall = wall.as_secs_f64();
    println!(
        "Through the official Python SDK {} (one `mcp.Client` per client, {} clients per process, {} processes): {} calls, {errors} errors, wall {wall:.2} s (ideal {ideal:.1} s, {:+.0}%), p50 / p99 {:.1} / {:.1} ms.\n",
        python_sdk_version(&python).await,
        CLIENTS_PER_PROCESS,
        processes.len(),
        latencies.len(),
        (wall / ideal - 1.0) * 100.0,
        at(0.5),
        at(0.99),
    );
    if errors != 0 {
        bail!("{errors} calls failed through the Python SDK");
    }
    Ok(())
}

/// What a failed client process wrote to stderr (it is stopped first).
async fn stderr_of(child: &mut Child, stderr: &mut tokio::task::JoinHandle<String>) -> String {
    let _ = child.start_kill();
    match tokio::time::timeout(Duration::from_secs(5), stderr).await {
        Ok(Ok(text)) => text,
        _ => "(no error output)".into(),
    }
}

async fn python_sdk_version(python: &Path) -> String {
    Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ])
        .output()
        .await
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
