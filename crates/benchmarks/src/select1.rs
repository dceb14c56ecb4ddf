//! `bench select1`: what one small query costs, side by side in one run.
//!
//! - the floor: one statement POST to the emulator with a raw HTTP client;
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

pub async fn run(args: &Args) -> Result<()> {
    let calls = CALLS;
    let emulator = Emulator::start().await;
    // A real one-row result (Arrow, inline under the hybrid disposition), not the
    // JSON fixture every unscripted statement gets.
    emulator.script_statement("SELECT 1", StatementScript::rows(&[("1", "INT")], 1, 0));
    let warehouse = first_warehouse(&emulator).await?;

    let floor = floor(&emulator, &warehouse, calls).await?;
    let (raw, requests_per_call) = raw_stdio(args, &emulator, &warehouse, calls).await?;

    println!(
        "| `SELECT 1` per call ({calls} calls after a warm-up, median) | time | vs. reference | workspace requests per call |"
    );
    println!("|---|---|---|---|");
    println!(
        "| emulator floor: the statement POST alone, raw HTTP client | {} | — | 1 |",
        ms(floor)
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

/// The emulator's own cost of one statement: the POST the server sends, from a raw client.
async fn floor(emulator: &Emulator, warehouse: &str, calls: usize) -> Result<Duration> {
    let http = reqwest::Client::new();
    let url = format!("{}/api/2.0/sql/statements", emulator.base_url());
    let body = json!({
        "statement": "SELECT 1", "warehouse_id": warehouse, "wait_timeout": "50s",
        "on_wait_timeout": "CONTINUE", "disposition": "INLINE_OR_EXTERNAL_LINKS",
        "format": "ARROW_STREAM",
    });
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls + 5 {
        let started = Instant::now();
        let r = http
            .post(&url)
            .bearer_auth(emulator.pat())
            .json(&body)
            .send()
            .await?;
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
    Ok(percentile(&times, 0.5))
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
        &[("DATABRICKS_WAREHOUSE_ID", warehouse)],
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
        ])
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .env("DATABRICKS_WAREHOUSE_ID", warehouse)
        .env("DATABRICKS_MCP_LOG", "warn")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .context("the Python client did not finish in 300 s")??;
    if !out.status.success() {
        bail!(
            "the Python client failed against {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("unexpected client output: {stdout}"))
}
