//! `bench`: measures the release binary of databricks-mcp as a real client sees it,
//! against the in-process Databricks emulator on loopback. Prints a Markdown table.
//!
//! - startup: process start → `initialize` answer → `tools/list` answer over stdio
//!   (median and p90 of N runs), and resident memory after `tools/list`;
//! - concurrency: K `tools/call`s in flight on ONE stdio session against an upstream
//!   that answers in 200 ms; wall time compared with K × 200 ms.
//! - tokens: bytes and tokens (o200k_base) of a 100-row, 5-column answer in each text
//!   format, compared with a plain JSON list of row objects;
//! - million: a 1,000,000-row query answered within budget: peak server memory and the
//!   number of result chunks downloaded.
//! - http-load: C concurrent HTTP clients × N calls against an upstream answering in
//!   L ms (`http_load.rs`).
//! - select1: `SELECT 1` per call over raw stdio and through the official Python SDK,
//!   against the emulator's floor and a guide-style Python server (`select1.rs`).
//! - local-load (not in `all`: needs the default build, with the local workspace): `ping`
//!   and a metadata call while a heavy local query runs, and CPU after its cancel
//!   (`local_load.rs`).
//! - soak (not in `all`): a bounded mixed load with failures and cancellations over HTTP
//!   and stdio; fails on any unexpected outcome or memory that does not settle
//!   (`soak.rs`).

mod http_load;
mod local_load;
mod select1;
mod soak;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use databricks_emulator::{Emulator, EmulatorConfig, StatementScript};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

#[derive(Parser)]
pub(crate) struct Args {
    /// Which benchmarks: startup, concurrency or all.
    #[arg(default_value = "all")]
    which: String,
    /// The server binary (build it with --release first).
    #[arg(long, default_value = "target/release/databricks-mcp")]
    server: PathBuf,
    /// Startup runs.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// A second server binary started beside `--server`, run by run, in the startup
    /// benchmark (another build of the same server, say).
    #[arg(long)]
    compare: Option<PathBuf>,
    /// Calls in flight for the concurrency benchmark.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Upstream latency for the concurrency benchmark, in ms.
    #[arg(long, default_value_t = 200)]
    latency_ms: u64,
    /// Concurrent HTTP clients for http-load.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Calls per client for http-load.
    #[arg(long, default_value_t = 40)]
    calls: usize,
    /// Duration of the soak, in seconds (10 minutes by hand; CI runs 60).
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Stdio sessions (each its own server process) beside the HTTP clients in the soak.
    #[arg(long, default_value_t = 5)]
    stdio_sessions: usize,
}

pub(crate) struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Session {
    fn spawn(server: &PathBuf, emulator: &Emulator) -> Result<Session> {
        Session::spawn_with(server, emulator, &[])
    }

    /// Like [`Session::spawn`], with more environment variables for the server.
    fn spawn_with(server: &PathBuf, emulator: &Emulator, env: &[(&str, &str)]) -> Result<Session> {
        let mut command = Command::new(server);
        command
            .arg("serve")
            .env_clear()
            .env("DATABRICKS_HOST", emulator.base_url())
            .env("DATABRICKS_TOKEN", emulator.pat())
            .env("DATABRICKS_MCP_LOG", "warn")
            .envs(env.iter().copied());
        Session::start(command)
    }

    /// Starts `command` (a stdio server) with piped stdin and stdout.
    fn start(mut command: Command) -> Result<Session> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the server")?;
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
        self.proc_status_kib("VmRSS:")
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        self.proc_status_kib("VmHWM:")
    }

    async fn call(&mut self, id: u64, name: &str, arguments: Value) -> Result<Value> {
        self.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":name,"arguments":arguments}}))
            .await?;
        loop {
            let r = self.response().await?;
            if r["id"] == json!(id) {
                if r["result"]["isError"] != json!(false) {
                    bail!("{name} failed: {r}");
                }
                return Ok(r["result"].clone());
            }
        }
    }

    fn proc_status_kib(&self, key: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(key))
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

/// One start of `server`: process start → `initialize` answer, → `tools/list` answer,
/// and the resident memory then.
async fn startup_once(
    server: &PathBuf,
    emulator: &Emulator,
) -> Result<(Duration, Duration, Option<u64>)> {
    let started = Instant::now();
    let mut s = Session::spawn(server, emulator)?;
    s.initialize().await?;
    let to_init = started.elapsed();
    s.send(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .await?;
    let list = s.response().await?;
    let to_list = started.elapsed();
    if list["result"]["tools"].as_array().map_or(0, Vec::len) == 0 {
        bail!("tools/list returned no tools: {list}");
    }
    let rss = s.rss_kib();
    drop(s.stdin);
    let _ = s.child.wait().await;
    Ok((to_init, to_list, rss))
}

/// What any stdio process costs here and now: spawning `cat` and reading back one line.
/// Startup figures are also given net of it, since on a loaded machine the spawn alone
/// can take milliseconds.
async fn spawn_floor() -> Result<Duration> {
    let started = Instant::now();
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start cat")?;
    let mut stdin = cat.stdin.take().context("no stdin")?;
    let mut lines = BufReader::new(cat.stdout.take().context("no stdout")?).lines();
    stdin.write_all(b"ping\n").await?;
    lines.next_line().await?.context("cat closed its output")?;
    let elapsed = started.elapsed();
    drop(stdin);
    let _ = cat.wait().await;
    Ok(elapsed)
}

/// Startup of `--server` (and of `--compare`, interleaved run by run so both see the
/// same machine), each run paired with a `cat` spawn.
async fn startup(args: &Args) -> Result<()> {
    let emulator = Emulator::start().await;
    let servers: Vec<&PathBuf> = std::iter::once(&args.server)
        .chain(args.compare.as_ref())
        .collect();
    let mut floor = Vec::new();
    let mut samples: Vec<Vec<(Duration, Duration, Option<u64>)>> = vec![Vec::new(); servers.len()];
    for _ in 0..args.runs {
        floor.push(spawn_floor().await?);
        for (server, out) in servers.iter().zip(samples.iter_mut()) {
            out.push(startup_once(server, &emulator).await?);
        }
    }
    let mut floor_sorted = floor.clone();
    floor_sorted.sort();
    println!(
        "| startup over stdio ({} runs) | median | p90 | median net of the paired `cat` spawn |",
        args.runs
    );
    println!("|---|---|---|---|");
    println!(
        "| floor: spawn `cat`, echo one line | {} | {} | — |",
        ms(percentile(&floor_sorted, 0.5)),
        ms(percentile(&floor_sorted, 0.9))
    );
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    for (server, runs) in servers.iter().zip(&samples) {
        let name = server.display();
        let net = |pick: fn(&(Duration, Duration, Option<u64>)) -> Duration| {
            let mut d: Vec<Duration> = runs
                .iter()
                .zip(&floor)
                .map(|(r, f)| pick(r).saturating_sub(*f))
                .collect();
            d.sort();
            ms(percentile(&d, 0.5))
        };
        for (what, pick) in [
            (
                "`initialize` answer",
                (|r| r.0) as fn(&(Duration, Duration, Option<u64>)) -> Duration,
            ),
            ("`tools/list` answer", |r| r.1),
        ] {
            let mut d: Vec<Duration> = runs.iter().map(pick).collect();
            d.sort();
            println!(
                "| `{name}`: process start → {what} | {} | {} | {} |",
                ms(percentile(&d, 0.5)),
                ms(percentile(&d, 0.9)),
                net(pick)
            );
        }
        let mut rss: Vec<u64> = runs.iter().filter_map(|r| r.2).collect();
        rss.sort();
        if !rss.is_empty() {
            println!(
                "| `{name}`: resident memory after `tools/list` | {} | {} | — |",
                mib(rss[rss.len() / 2]),
                mib(rss[(rss.len() * 9 / 10).min(rss.len() - 1)])
            );
        }
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

fn text_of(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn tokens(args: &Args) -> Result<()> {
    let datasets: [(&str, [(&str, &str); 5]); 2] = [
        (
            "orders",
            [
                ("order_id", "BIGINT"),
                ("customer", "STRING"),
                ("amount", "DECIMAL(10,2)"),
                ("ordered_at", "TIMESTAMP"),
                ("express", "BOOLEAN"),
            ],
        ),
        (
            "lineitem",
            [
                ("l_orderkey", "BIGINT"),
                ("l_extendedprice", "DECIMAL(15,2)"),
                ("l_shipdate", "DATE"),
                ("l_shipinstruct", "STRING"),
                ("l_returnflag", "STRING"),
            ],
        ),
    ];
    for (table, columns) in datasets {
        tokens_for(args, table, &columns).await?;
    }
    Ok(())
}

async fn tokens_for(args: &Args, table: &str, columns: &[(&str, &str)]) -> Result<()> {
    let emulator = Emulator::start().await;
    emulator.script_statement(table, StatementScript::rows(columns, 100, 1000));
    let bpe = tiktoken_rs::o200k_base()?;
    let mut s = Session::spawn(&args.server, &emulator)?;
    s.initialize().await?;
    let query = json!({"query": format!("SELECT * FROM {table}"), "max_rows": 100});
    let compact = s.call(1, "run_sql_query", query.clone()).await?;
    // The baseline: the same rows as a plain JSON list of row objects.
    let structured = &compact["structuredContent"];
    let names: Vec<String> = structured["columns"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let objects: Vec<Value> = structured["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    let cells = row.as_array().cloned().unwrap_or_default();
                    Value::Object(names.iter().cloned().zip(cells).collect())
                })
                .collect()
        })
        .unwrap_or_default();
    if objects.len() != 100 {
        bail!("expected 100 rows, got {}", objects.len());
    }
    let baseline = serde_json::to_string(&objects)?;
    let base_tokens = bpe.encode_with_special_tokens(&baseline).len();
    let names_list = columns
        .iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "| 100 rows of `{table}` ({names_list}): whole answer text | bytes | tokens (o200k) | vs JSON rows |"
    );
    println!("|---|---|---|---|");
    println!(
        "| plain JSON list of row objects (baseline) | {} | {} | 100% |",
        baseline.len(),
        base_tokens
    );
    for (i, format) in ["csv", "compact", "markdown", "json"].iter().enumerate() {
        let mut q = query.clone();
        q["format"] = json!(format);
        let r = s.call(10 + i as u64, "run_sql_query", q).await?;
        let t = text_of(&r);
        let n = bpe.encode_with_special_tokens(&t).len();
        println!(
            "| `format: {format}`{} | {} | {} | {:.0}% |",
            if *format == "csv" { " (default)" } else { "" },
            t.len(),
            n,
            100.0 * n as f64 / base_tokens as f64
        );
    }
    println!();
    Ok(())
}

async fn million(args: &Args) -> Result<()> {
    let emulator = Emulator::start().await;
    emulator.script_statement(
        "million",
        StatementScript::rows(
            &[
                ("id", "BIGINT"),
                ("customer", "STRING"),
                ("amount", "DOUBLE"),
                ("day", "DATE"),
                ("flag", "BOOLEAN"),
            ],
            1_000_000,
            100_000,
        ),
    );
    let mut s = Session::spawn(&args.server, &emulator)?;
    s.initialize().await?;
    let base = s.rss_kib().unwrap_or(0);
    let started = Instant::now();
    let first = s
        .call(
            1,
            "run_sql_query",
            json!({"query": "SELECT * FROM million"}),
        )
        .await?;
    let first_time = started.elapsed();
    let downloads_first = emulator
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/external-results/"))
        .count();
    let id = first["structuredContent"]["statement_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let started = Instant::now();
    let middle = s
        .call(
            2,
            "get_sql_result",
            json!({"statement_id": id, "offset": 500_000, "limit": 100}),
        )
        .await?;
    let middle_time = started.elapsed();
    let downloads = emulator
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/external-results/"))
        .count();
    let peak = s.peak_rss_kib().unwrap_or(0);
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    println!("| 1,000,000 rows × 5 columns (10 Arrow chunks of 100,000 rows) | value |");
    println!("|---|---|");
    println!(
        "| `run_sql_query` answer time / text size | {} / {} chars |",
        ms(first_time),
        text_of(&first).len()
    );
    println!("| chunks downloaded for the first page | {downloads_first} of 10 |");
    println!(
        "| `get_sql_result` at offset 500,000: time / chunks downloaded in all | {} / {downloads} of 10 |",
        ms(middle_time)
    );
    println!(
        "| server memory: resident at start → peak | {} → {} |",
        mib(base),
        mib(peak)
    );
    let _ = middle;
    println!();
    Ok(())
}

async fn http_load(args: &Args) -> Result<()> {
    let load = http_load::Load {
        clients: args.clients.clamp(1, 500),
        calls: args.calls.clamp(1, 1000),
        latency: Duration::from_millis(args.latency_ms),
    };
    http_load::run(&args.server, &load).await
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.which == select1::FLOOR_CLIENT {
        return select1::floor_client().await;
    }
    if !args.server.exists() {
        bail!(
            "{} not found: build it first (scripts/bench.sh does)",
            args.server.display()
        );
    }
    match args.which.as_str() {
        "startup" => startup(&args).await,
        "concurrency" => concurrency(&args).await,
        "tokens" => tokens(&args).await,
        "million" => million(&args).await,
        "http-load" => http_load(&args).await,
        "select1" => select1::run(&args).await,
        "local-load" => local_load::run(&args).await,
        "soak" => {
            let load = soak::Soak {
                clients: args.clients.clamp(1, 500),
                stdio_sessions: args.stdio_sessions.min(50),
                duration: Duration::from_secs(args.seconds.clamp(1, 3600)),
            };
            soak::run(&args.server, &load).await
        }
        "all" => {
            startup(&args).await?;
            select1::run(&args).await?;
            concurrency(&args).await?;
            tokens(&args).await?;
            million(&args).await?;
            http_load(&args).await
        }
        other => bail!(
            "unknown benchmark {other:?}: startup, select1, concurrency, tokens, million, http-load, all, local-load or soak"
        ),
    }
}
