//! `bench local-load`: the local workspace must not starve the server. While a heavy
//! local query runs (a nested-loop join of `samples.tpch` tables that would run for
//! minutes), `ping` and `list_catalogs` are timed on the same stdio session; then the
//! query is cancelled (`notifications/cancelled`) and the server's CPU use is sampled
//! until it falls, to show the work stops.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::{Args, Session, ms, percentile};

/// A heavy join: every pair of line items from the same supplier (scale factor 0.1:
/// 600,000 line items, 1,000 suppliers, 360 million pairs), counted.
const HEAVY: &str = "SELECT count(*) FROM samples.tpch.lineitem a JOIN samples.tpch.lineitem b \
                     ON a.l_suppkey = b.l_suppkey WHERE a.l_quantity + b.l_quantity > 0";
const HEAVY_ID: u64 = 999;

pub async fn run(args: &Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut s = spawn_local(&args.server, dir.path())?;
    s.initialize().await?;
    // The samples are generated on first start: wait until they answer.
    s.call(1, "list_catalogs", json!({})).await?;
    let ready = Instant::now();
    let mut id = 2;
    loop {
        s.send(json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
            "name":"run_sql_query","arguments":{"query":"SELECT count(*) FROM samples.tpch.lineitem"}}}))
            .await?;
        let r = wait_for(&mut s, id).await?;
        if r["result"]["isError"] == json!(false) {
            break;
        }
        if ready.elapsed() > Duration::from_secs(600) {
            bail!("the samples were not ready after 600 s: {r}");
        }
        id += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let idle_ping = time_pings(&mut s, 30, 10_000).await?;
    let idle_meta = time_calls(&mut s, 10, 20_000).await?;

    // With a progress token the statement is submitted without the server-side wait, so
    // its id is known at once and a cancel reaches it immediately (without one, the
    // submit's wait of up to 10 s comes first: the id arrives with its answer).
    s.send(
        json!({"jsonrpc":"2.0","id":HEAVY_ID,"method":"tools/call","params":{
        "name":"run_sql_query","arguments":{"query": HEAVY},
        "_meta":{"progressToken":"heavy"}}}),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = cpu_share(&s, Duration::from_millis(500)).await?;
    let busy_ping = time_pings(&mut s, 30, 30_000).await?;
    let busy_meta = time_calls(&mut s, 10, 40_000).await?;

    s.send(
        json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{
        "requestId": HEAVY_ID, "reason": "bench"}}),
    )
    .await?;
    let cancelled = Instant::now();
    let mut stopped_after = None;
    while cancelled.elapsed() < Duration::from_secs(10) {
        if cpu_share(&s, Duration::from_millis(100)).await? < 0.15 {
            stopped_after = Some(cancelled.elapsed());
            break;
        }
    }

    println!(
        "| local workspace, heavy query running (scale factor 0.1) | idle: median / max | during the query: median / max |"
    );
    println!("|---|---|---|");
    println!(
        "| `ping` (30) | {} / {} | {} / {} |",
        ms(idle_ping.0),
        ms(idle_ping.1),
        ms(busy_ping.0),
        ms(busy_ping.1)
    );
    println!(
        "| `list_catalogs` (10) | {} / {} | {} / {} |",
        ms(idle_meta.0),
        ms(idle_meta.1),
        ms(busy_meta.0),
        ms(busy_meta.1)
    );
    println!(
        "| server CPU while the query runs | — | {:.0}% of one core |",
        cpu_before * 100.0
    );
    match stopped_after {
        Some(t) => println!(
            "| after `notifications/cancelled`: CPU below 15% of a core within | — | {} |",
            ms(t)
        ),
        None => println!("| after `notifications/cancelled`: CPU still busy after 10 s | — | — |"),
    }
    println!();
    Ok(())
}

fn spawn_local(server: &Path, dir: &Path) -> Result<Session> {
    let mut command = Command::new(server);
    command
        .args(["serve", "--local"])
        .arg(dir)
        .env_clear()
        .env("HOME", dir)
        .env("DATABRICKS_MCP_LOG", "warn");
    Session::start(command)
}

/// Reads lines until the response with `id` (others, like the heavy query's, are not
/// expected before the cancel; a response to it would mean it finished).
async fn wait_for(s: &mut Session, id: u64) -> Result<Value> {
    loop {
        let r = s.response().await?;
        if r["id"] == json!(id) {
            return Ok(r);
        }
        if r["id"] == json!(HEAVY_ID) {
            bail!("the heavy query finished early: {r}");
        }
        // Progress notifications of the heavy query go by.
    }
}

/// Median and max of `n` pings, 100 ms apart.
async fn time_pings(s: &mut Session, n: u64, first_id: u64) -> Result<(Duration, Duration)> {
    let mut times = Vec::new();
    for id in first_id..first_id + n {
        let started = Instant::now();
        s.send(json!({"jsonrpc":"2.0","id":id,"method":"ping"}))
            .await?;
        wait_for(s, id).await?;
        times.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 1.0)))
}

/// Median and max of `n` `list_catalogs` calls.
async fn time_calls(s: &mut Session, n: u64, first_id: u64) -> Result<(Duration, Duration)> {
    let mut times = Vec::new();
    for id in first_id..first_id + n {
        let started = Instant::now();
        s.send(
            json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
            "name":"list_catalogs","arguments":{}}}),
        )
        .await?;
        let r = wait_for(s, id).await?;
        if r["result"]["isError"] != json!(false) {
            bail!("list_catalogs failed: {r}");
        }
        times.push(started.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 1.0)))
}

/// The server's CPU time over `window`, as a share of one core.
async fn cpu_share(s: &Session, window: Duration) -> Result<f64> {
    let pid = s.child.id().context("the server exited")?;
    let ticks = || -> Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) close with ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(utime + stime)
    };
    let before = ticks()?;
    tokio::time::sleep(window).await;
    let after = ticks()?;
    // Linux reports CPU time in clock ticks of 1/100 s.
    Ok((after - before) as f64 / 100.0 / window.as_secs_f64())
}
