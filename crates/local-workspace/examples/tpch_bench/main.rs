//! Benchmark (not a test): the 22 TPC-H queries at a given scale factor, three ways over
//! the same Parquet files — through the local workspace's REST statement API as
//! `run_sql_query` calls it (hybrid disposition, Arrow), directly on DataFusion, and on
//! DuckDB (Python `duckdb`) — with geometric means of the ratios.
//!
//! `cargo run --release -p local-workspace --example tpch_bench -- DIR [--sf 1] [--runs 5] [--python PY] [--queries Q1,Q6]`
//! DIR is created with samples.tpch at the scale factor if needed. Prints a Markdown table
//! of median wall times (after one warm-up run). DataFusion direct runs with the local
//! engine's session (`local_workspace::session_context`). Every query's row count
//! must be the same on the three paths, or the run fails.

use std::time::{Duration, Instant};

use datafusion::prelude::ParquetReadOptions;
use local_workspace::{LocalOptions, LocalWorkspace, WAREHOUSE_ID};
use serde_json::{Value, json};

mod queries;

const TABLES: [&str; 8] = [
    "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
];

/// Times every query on DuckDB in one Python process: `{name: [median seconds, rows]}`.
const DUCKDB_SCRIPT: &str = r#"
import duckdb, json, statistics, sys, time
spec = json.load(sys.stdin)
con = duckdb.connect()
for table, path in spec["tables"].items():
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}/*.parquet')")
out = {}
for name, q in spec["queries"]:
    rows = len(con.execute(q).fetchall())
    ts = []
    for _ in range(spec["runs"]):
        t = time.perf_counter(); con.execute(q).fetchall(); ts.append(time.perf_counter() - t)
    out[name] = [statistics.median(ts), rows]
print(json.dumps(out))
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The median time of `runs` runs after a warm-up, and the row count every run answered
/// (an error if two runs disagree).
async fn time<F, Fut>(runs: usize, mut f: F) -> Result<(Duration, u64), Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, Box<dyn std::error::Error>>>,
{
    let rows = f().await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let again = f().await?;
        times.push(t.elapsed());
        if again != rows {
            return Err(format!("{rows} rows, then {again}").into());
        }
    }
    Ok((median(times), rows))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut sf = 1.0;
    let mut runs = 5;
    let mut python = "python3".to_string();
    let mut only: Option<Vec<String>> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sf" => sf = args.next().ok_or("--sf")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs")?.parse()?,
            "--python" => python = args.next().ok_or("--python")?,
            "--queries" => {
                only = Some(
                    args.next()
                        .ok_or("--queries")?
                        .split(',')
                        .map(|q| q.trim().to_ascii_uppercase())
                        .collect(),
                )
            }
            other => dir = Some(std::path::PathBuf::from(other)),
        }
    }
    let dir =
        dir.ok_or("usage: tpch_bench DIR [--sf 1] [--runs 5] [--python PY] [--queries Q1,Q6]")?;
    let queries: Vec<(&str, &str)> = queries::QUERIES
        .iter()
        .filter(|(name, _)| only.as_ref().is_none_or(|o| o.iter().any(|q| q == name)))
        .copied()
        .collect();
    let t = Instant::now();
    let ws = LocalWorkspace::open(
        &dir,
        LocalOptions {
            scale_factor: sf,
            allow_writes: false,
            progress: true,
        },
    )
    .await?;
    ws.wait_for_samples(std::time::Duration::from_secs(3600))
        .await;
    eprintln!("workspace ready in {:.1} s", t.elapsed().as_secs_f64());
    let tpch_dir = ws.dir().join("catalogs/samples/tpch");
    let api =
        workspace_server::front::serve("127.0.0.1:0".parse()?, |url| ws.backends(url)).await?;
    let http = reqwest::Client::new();

    let ctx = local_workspace::session_context(local_workspace::session_config());
    for table in TABLES {
        ctx.register_parquet(
            table,
            format!("{}/", tpch_dir.join(table).display()),
            ParquetReadOptions::default(),
        )
        .await?;
    }

    let spec = json!({
        "tables": TABLES.iter().map(|t| (t.to_string(), json!(tpch_dir.join(t).display().to_string()))).collect::<serde_json::Map<_, _>>(),
        "queries": queries,
        "runs": runs,
    });
    let duck: Option<Value> = duckdb_times(&python, &spec).await;

    let mut table = String::from(
        "| query | rows | REST statement API (local workspace) | DataFusion direct | DuckDB | REST / DuckDB | REST − direct |\n|---|---|---|---|---|---|---|\n",
    );
    let (mut log_rest_duck, mut log_direct_duck, mut n_duck) = (0.0f64, 0.0f64, 0usize);
    let mut overheads = Vec::new();
    for (name, sql) in &queries {
        let rest = time(runs, || {
            let http = http.clone();
            let url = format!("{}/api/2.0/sql/statements", api.base_url);
            let token = api.token.clone();
            let body = json!({"statement": sql, "warehouse_id": WAREHOUSE_ID, "wait_timeout": "50s",
                "catalog": "samples", "schema": "tpch",
                "disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "ARROW_STREAM"});
            async move {
                let v: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await?
                    .json()
                    .await?;
                if v["status"]["state"] != "SUCCEEDED" {
                    return Err(format!("REST {name}: {v}").into());
                }
                v["manifest"]["total_row_count"]
                    .as_u64()
                    .ok_or_else(|| format!("REST {name}: no total_row_count").into())
            }
        })
        .await?;
        let (rest, rest_rows) = rest;
        let (direct, direct_rows) = time(runs, || {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(sql).await?.collect().await?;
                Ok(batches.iter().map(|b| b.num_rows() as u64).sum())
            }
        })
        .await?;
        let duck_rows = duck.as_ref().and_then(|d| d[*name][1].as_u64());
        if rest_rows != direct_rows || duck_rows.is_some_and(|d| d != rest_rows) {
            return Err(format!(
                "{name}: row counts differ: REST {rest_rows}, DataFusion {direct_rows}, DuckDB {duck_rows:?}"
            )
            .into());
        }
        let duck_secs = duck.as_ref().and_then(|d| d[*name][0].as_f64());
        let (duck_cell, ratio_cell) = match duck_secs {
            Some(d) if d > 0.0 => {
                log_rest_duck += (rest.as_secs_f64() / d).ln();
                log_direct_duck += (direct.as_secs_f64() / d).ln();
                n_duck += 1;
                (
                    format!("{:.0} ms", d * 1000.0),
                    format!("{:.2}×", rest.as_secs_f64() / d),
                )
            }
            _ => ("n/a".to_string(), "—".to_string()),
        };
        let overhead = rest.as_secs_f64() - direct.as_secs_f64();
        overheads.push(overhead);
        table.push_str(&format!(
            "| {name} | {rest_rows} | {:.0} ms | {:.0} ms | {duck_cell} | {ratio_cell} | {:+.0} ms |\n",
            rest.as_secs_f64() * 1000.0,
            direct.as_secs_f64() * 1000.0,
            overhead * 1000.0
        ));
    }
    overheads.sort_by(f64::total_cmp);
    println!(
        "TPC-H scale factor {sf}, median of {runs} runs after a warm-up, {} cores\n\n{table}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    if n_duck > 0 {
        println!(
            "Geometric mean over {n_duck} queries: REST / DuckDB {:.2}×, DataFusion direct / DuckDB {:.2}×; REST − direct median {:+.0} ms.",
            (log_rest_duck / n_duck as f64).exp(),
            (log_direct_duck / n_duck as f64).exp(),
            overheads.get(overheads.len() / 2).copied().unwrap_or(0.0) * 1000.0
        );
    } else {
        println!(
            "DuckDB was not measured (install the Python package `duckdb` and pass --python)."
        );
    }
    api.shutdown().await;
    Ok(())
}

async fn duckdb_times(python: &str, spec: &Value) -> Option<Value> {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(python)
        .args(["-c", DUCKDB_SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| eprintln!("DuckDB not measured: {e}"))
        .ok()?;
    let mut stdin = child.stdin.take()?;
    stdin.write_all(spec.to_string().as_bytes()).await.ok()?;
    drop(stdin);
    let out = child.wait_with_output().await.ok()?;
    if !out.status.success() {
        eprintln!(
            "DuckDB not measured: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}
