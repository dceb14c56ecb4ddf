//! `bench select1`: what one small query costs, side by side in one run.
//!
//! - the floor: one statement POST to the emulator with a raw HTTP client (keep-alive),
//!   from another process as the server's requests are (and, for scale, from inside the
//!   emulator's own process, where no process boundary is crossed);
//! - databricks-mcp over stdio with a raw JSON-RPC client, and how many requests reach
//!   the workspace per call (the hybrid disposition makes it one);
//! - databricks-mcp and a guide-style Python server (`python/guide_style_server.py`)
//!   through the official Python SDK, 2.x (`.venv`) and 1.x (`.venv-mcp1`), which
//!   re-validate every result against the tool's `outputSchema`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use databricks_emulator::{Emulator, StatementScript};
use serde_json::{Value, json};

use crate::{Args, Session, ms, percentile};

const PYTHON_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// Calls measured per client (after 5 warm-up calls).
const CALLS: usize = 200;

/// The hidden `bench` subcommand that measures the floor from a process of its own.
pub const FLOOR_CLIENT: &str = "select1-floor-client";

/// The server's client-side rate limit for these runs. The default (100 requests/s, a
/// full bucket at start) is a guard against runaway agents; calls back to back at ~1 ms
/// each empty its bucket after ~100 calls, and from then on every call waits ~10 ms for
/// its token — a throughput cap, not the per-call cost measured here.
const RATE_LIMIT: &str = "100000";

pub async fn run(args: &Args) -> Result<()> {
    let calls = CALLS;
    let emulator = Emulator::start().await;
    // A real one-row result (Arrow, inline under the hybrid disposition), not the
    // JSON fixture every unscripted statement gets.
    emulator.script_statement("SELECT 1", StatementScript::rows(&[("1", "INT")], 1, 0));
    let warehouse = first_warehouse(&emulator).await?;

    let in_process = floor(&emulator, &warehouse, calls).await?;
    let floor = floor_from_another_process(&emulator, &warehouse, calls).await?;
    let (raw, requests_per_call) = raw_stdio(args, &emulator, &warehouse, calls).await?;

    println!(
        "| `SELECT 1` per call ({calls} calls after a warm-up, median) | time | vs. reference | workspace requests per call |"
    );
    println!("|---|---|---|---|");
    println!(
        "| emulator floor: the statement POST alone, raw keep-alive HTTP client in another process | {} | — | 1 |",
        ms(floor)
    );
    println!(
        "| (the same POST from inside the emulator's process: no process boundary) | {} | — | 1 |",
        ms(in_process)
    );
    println!(
        "| databricks-mcp, raw JSON-RPC client over stdio | {} | +{} over the floor | {requests_per_call:.2} |",
        ms(raw),
        ms(raw.saturating_sub(floor))
    );
    let root = std::env::current_dir()?;
    for venv in [".venv", ".venv-mcp1"] {
        let python = root.join(venv).join("bin/python");
        if !python.exists() {
            println!(
                "| official Python SDK in {venv}: not installed (bash scripts/setup-python.sh) | — | — | — |"
            );
            continue;
        }
        let ours = python_client(
            &python,
            &emulator,
            &warehouse,
            args.server.to_string_lossy().as_ref(),
            &["serve"],
            "run_sql_query",
            calls,
        )
        .await?;
        let reference_python = root.join(".venv-mcp1/bin/python");
        let guide_script = format!("{PYTHON_DIR}/guide_style_server.py");
        let guide = if reference_python.exists() {
            Some(
                python_client(
                    &python,
                    &emulator,
                    &warehouse,
                    reference_python.to_string_lossy().as_ref(),
                    &[guide_script.as_str()],
                    "execute_sql",
                    calls,
                )
                .await?,
            )
        } else {
            None
        };
        let sdk = ours["sdk"].as_str().unwrap_or("?").to_string();
        let ours_ms = ours["median_ms"].as_f64().unwrap_or(f64::NAN);
        match guide {
            Some(guide) => {
                let guide_ms = guide["median_ms"].as_f64().unwrap_or(f64::NAN);
                println!(
                    "| databricks-mcp through the official Python SDK {sdk} | {ours_ms:.2} ms | {:.2}× the guide-style server | {requests_per_call:.2} |",
                    ours_ms / guide_ms
                );
                println!(
                    "| guide-style Python server (FastMCP 1.x) through the official Python SDK {sdk} | {guide_ms:.2} ms | 1.00× | 1 |"
                );
            }
            None => println!(
                "| databricks-mcp through the official Python SDK {sdk} | {ours_ms:.2} ms | — | {requests_per_call:.2} |"
            ),
        }
    }
    println!();
    Ok(())
}

async fn first_warehouse(emulator: &Emulator) -> Result<String> {
    let listing: Value = reqwest::Client::new()
        .get(format!("{}/api/2.0/sql/warehouses", emulator.base_url()))
        .bearer_auth(emulator.pat())
        .send()
        .await?
        .json()
        .await?;
    listing["warehouses"][0]["id"]
        .as_str()
        .map(str::to_string)
        .context("the emulator lists no warehouse")
}

/// The statement POST the server sends for `SELECT 1`.
fn statement_body(warehouse: &str) -> Value {
    json!({
        "statement": "SELECT 1", "warehouse_id": warehouse, "wait_timeout": "50s",
        "on_wait_timeout": "CONTINUE", "disposition": "INLINE_OR_EXTERNAL_LINKS",
        "format": "ARROW_STREAM",
    })
}

/// The floor as the server meets it: the same POST from a raw client in a process of
/// its own (this binary, [`FLOOR_CLIENT`]), so that each request crosses the same
/// process boundaries and loopback hops as the server's.
async fn floor_from_another_process(
    emulator: &Emulator,
    warehouse: &str,
    calls: usize,
) -> Result<Duration> {
    let spec = json!({
        "url": format!("{}/api/2.0/sql/statements", emulator.base_url()),
        "token": emulator.pat(),
        "body": statement_body(warehouse),
        "calls": calls,
    });
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.arg(FLOOR_CLIENT)
        .env("BENCH_FLOOR_SPEC", spec.to_string());
    let out = run_to_end(cmd, Duration::from_secs(120), "the floor client").await?;
    let seconds: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("the floor client printed no time")?;
    Ok(Duration::from_secs_f64(seconds))
}

/// [`FLOOR_CLIENT`]: POSTs the statement of `BENCH_FLOOR_SPEC` back to back on one
/// keep-alive connection and prints the median in seconds.
pub async fn floor_client() -> Result<()> {
    let spec: Value = serde_json::from_str(&std::env::var("BENCH_FLOOR_SPEC")?)?;
    let (Some(url), Some(token), Some(calls)) = (
        spec["url"].as_str(),
        spec["token"].as_str(),
        spec["calls"].as_u64(),
    ) else {
        bail!("BENCH_FLOOR_SPEC needs url, token, body and calls");
    };
    let times = post_repeatedly(url, token, &spec["body"], calls as usize).await?;
    println!("{}", percentile(&times, 0.5).as_secs_f64());
    Ok(())
}

/// The emulator's own cost of one statement, from a raw client in the emulator's process.
async fn floor(emulator: &Emulator, warehouse: &str, calls: usize) -> Result<Duration> {
    let url = format!("{}/api/2.0/sql/statements", emulator.base_url());
    let times = post_repeatedly(&url, emulator.pat(), &statement_body(warehouse), calls).await?;
    Ok(percentile(&times, 0.5))
}

/// `calls` timed POSTs of `body` (after 5 warm-ups) on one keep-alive connection, sorted.
async fn post_repeatedly(
    url: &str,
    token: &str,
    body: &Value,
    calls: usize,
) -> Result<Vec<Duration>> {
    let http = reqwest::Client::new();
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls + 5 {
        let started = Instant::now();
        let r = http.post(url).bearer_auth(token).json(body).send().await?;
        let status = r.status();
        let _ = r.bytes().await?;
        if !status.is_success() {
            bail!("statement POST answered {status}");
        }
        if i >= 5 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok(times)
}

/// Median per call of `run_sql_query` over stdio, and workspace requests per call.
async fn raw_stdio(
    args: &Args,
    emulator: &Emulator,
    warehouse: &str,
    calls: usize,
) -> Result<(Duration, f64)> {
    let mut s = Session::spawn_with(
        &args.server,
        emulator,
        &[
            ("DATABRICKS_WAREHOUSE_ID", warehouse),
            ("DATABRICKS_RATE_LIMIT", RATE_LIMIT),
        ],
    )?;
    s.initialize().await?;
    let query = json!({"query": "SELECT 1"});
    for id in 0..5 {
        s.call(10 + id, "run_sql_query", query.clone()).await?;
    }
    let before = emulator.requests().len();
    let mut times = Vec::with_capacity(calls);
    for id in 0..calls as u64 {
        let started = Instant::now();
        let result = s.call(100 + id, "run_sql_query", query.clone()).await?;
        times.push(started.elapsed());
        if result["structuredContent"]["rows"].as_array().map(Vec::len) != Some(1) {
            bail!("unexpected answer to SELECT 1: {result}");
        }
    }
    let requests = emulator.requests().len() - before;
    times.sort();
    Ok((percentile(&times, 0.5), requests as f64 / calls as f64))
}

/// Runs `python/select1_client.py` with `python` against a stdio server.
async fn python_client(
    python: &Path,
    emulator: &Emulator,
    warehouse: &str,
    command: &str,
    server_args: &[&str],
    tool: &str,
    calls: usize,
) -> Result<Value> {
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(PathBuf::from(PYTHON_DIR).join("select1_client.py"))
        .args(["--command", command])
        .args(server_args.iter().flat_map(|a| ["--arg", a]))
        .args(["--tool", tool, "--arguments", r#"{"query": "SELECT 1"}"#])
        .args(["--calls", &calls.to_string()])
        .args(["--env", "DATABRICKS_HOST", "--env", "DATABRICKS_TOKEN"])
        .args([
            "--env",
            "DATABRICKS_WAREHOUSE_ID",
            "--env",
            "DATABRICKS_MCP_LOG",
            "--env",
            "DATABRICKS_RATE_LIMIT",
        ])
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .env("DATABRICKS_WAREHOUSE_ID", warehouse)
        .env("DATABRICKS_MCP_LOG", "warn")
        .env("DATABRICKS_RATE_LIMIT", RATE_LIMIT);
    let what = format!("the Python client against {command}");
    let out = run_to_end(cmd, Duration::from_secs(300), &what).await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("unexpected client output: {stdout}"))
}

/// Runs `cmd` to its end within `limit`: its output, or an error naming `what` with the
/// child's error output.
async fn run_to_end(
    mut cmd: tokio::process::Command,
    limit: Duration,
    what: &str,
) -> Result<std::process::Output> {
    let out = tokio::time::timeout(limit, cmd.kill_on_drop(true).output())
        .await
        .with_context(|| format!("{what} did not finish in {} s", limit.as_secs()))??;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out)
}
