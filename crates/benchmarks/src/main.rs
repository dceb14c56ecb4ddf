//! `bench`: measures the release binary of databricks-mcp as a real client sees it,
//! against the in-process Databricks emulator on loopback. Prints a Markdown table.
//!
//! - startup: process start → `initialize` answer → `tools/list` answer over stdio
//!   (median and p90 of N runs), and resident memory after `tools/list`;
//! - concurrency: K `tools/call`s in flight on ONE stdio session against an upstream
//!   that answers in 200 ms; wall time compared with K × 200 ms.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use databricks_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

#[derive(Parser)]
struct Args {
    /// Which benchmarks: startup, concurrency or all.
    #[arg(default_value = "all")]
    which: String,
    /// The server binary (build it with --release first).
    #[arg(long, default_value = "target/release/databricks-mcp")]
    server: PathBuf,
    /// Startup runs.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Calls in flight for the concurrency benchmark.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Upstream latency for the concurrency benchmark, in ms.
    #[arg(long, default_value_t = 200)]
    latency_ms: u64,
}

struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Session {
    fn spawn(server: &PathBuf, emulator: &Emulator) -> Result<Session> {
        let mut child = Command::new(server)
            .arg("serve")
            .env_clear()
            .env("DATABRICKS_HOST", emulator.base_url())
            .env("DATABRICKS_TOKEN", emulator.pat())
            .env("DATABRICKS_MCP_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", server.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        Ok(Session {
            child,
            stdin,
            lines,
        })
    }

    async fn send(&mut self, message: Value) -> Result<()> {
        self.stdin
            .write_all(format!("{message}\n").as_bytes())
            .await?;
        Ok(())
    }

    async fn response(&mut self) -> Result<Value> {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .context("timed out")??
            .context("server closed stdout")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn initialize(&mut self) -> Result<()> {
        self.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}))
            .await?;
        let r = self.response().await?;
        if r.get("result").is_none() {
            bail!("initialize failed: {r}");
        }
        self.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
            .await
    }

    fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn startup(args: &Args) -> Result<()> {
    let emulator = Emulator::start().await;
    let mut to_init = Vec::new();
    let mut to_list = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let mut s = Session::spawn(&args.server, &emulator)?;
        s.initialize().await?;
        to_init.push(started.elapsed());
        s.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
            .await?;
        let list = s.response().await?;
        to_list.push(started.elapsed());
        if list["result"]["tools"].as_array().map_or(0, Vec::len) == 0 {
            bail!("tools/list returned no tools: {list}");
        }
        if let Some(kib) = s.rss_kib() {
            rss.push(kib);
        }
        drop(s.stdin);
        let _ = s.child.wait().await;
    }
    to_init.sort();
    to_list.sort();
    rss.sort();
    println!("| startup over stdio ({} runs) | median | p90 |", args.runs);
    println!("|---|---|---|");
    println!(
        "| process start → `initialize` answer | {} | {} |",
        ms(percentile(&to_init, 0.5)),
        ms(percentile(&to_init, 0.9))
    );
    println!(
        "| process start → `tools/list` answer | {} | {} |",
        ms(percentile(&to_list, 0.5)),
        ms(percentile(&to_list, 0.9))
    );
    if !rss.is_empty() {
        let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
        println!(
            "| resident memory after `tools/list` | {} | {} |",
            mib(rss[rss.len() / 2]),
            mib(rss[(rss.len() * 9 / 10).min(rss.len() - 1)])
        );
    }
    println!();
    Ok(())
}

async fn concurrency(args: &Args) -> Result<()> {
    let emulator = Emulator::start_with(EmulatorConfig {
        latency: Duration::from_millis(args.latency_ms),
        ..EmulatorConfig::default()
    })
    .await;
    let mut s = Session::spawn(&args.server, &emulator)?;
    s.initialize().await?;
    // Warm the connection pool with one call, as a long-lived session would be.
    s.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_clusters","arguments":{}}})).await?;
    s.response().await?;
    let mut rounds = Vec::new();
    for round in 0..5 {
        let started = Instant::now();
        for i in 0..args.in_flight {
            let id = 1000 * (round + 1) + i;
            s.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"list_clusters","arguments":{}}}))
                .await?;
        }
        for _ in 0..args.in_flight {
            let r = s.response().await?;
            if r["result"]["isError"] != json!(false) {
                bail!("call failed: {r}");
            }
        }
        rounds.push(started.elapsed());
    }
    rounds.sort();
    let serial = Duration::from_millis(args.latency_ms) * args.in_flight as u32;
    let median = percentile(&rounds, 0.5);
    println!(
        "| {} calls in flight on one stdio session, upstream {} ms | wall (median of 5) | serial would be | speed-up |",
        args.in_flight, args.latency_ms
    );
    println!("|---|---|---|---|");
    println!(
        "| `list_clusters` × {} | {} | {} | {:.1}× |",
        args.in_flight,
        ms(median),
        ms(serial),
        serial.as_secs_f64() / median.as_secs_f64()
    );
    println!();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.server.exists() {
        bail!(
            "{} not found: build it first (scripts/bench.sh does)",
            args.server.display()
        );
    }
    match args.which.as_str() {
        "startup" => startup(&args).await,
        "concurrency" => concurrency(&args).await,
        "all" => {
            startup(&args).await?;
            concurrency(&args).await
        }
        other => bail!("unknown benchmark {other:?}: startup, concurrency or all"),
    }
}
