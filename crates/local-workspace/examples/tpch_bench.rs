//! Benchmark (not a test): TPC-H Q1 and Q6 at a given scale factor, three ways over the
//! same Parquet files — through the local workspace's REST statement API (what
//! `run_sql_query` does), directly on DataFusion, and on DuckDB (Python `duckdb`).
//!
//! `cargo run --release -p local-workspace --example tpch_bench -- DIR [--sf 1] [--runs 5] [--python PY]`
//! DIR is created with samples.tpch at the scale factor if needed. Prints a Markdown table
//! of median wall times (after one warm-up run).

use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use local_workspace::{LocalOptions, LocalWorkspace, WAREHOUSE_ID};
use serde_json::{Value, json};

const Q1: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, \
sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, \
avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order \
FROM {lineitem} WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY \
GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";

const Q6: &str = "SELECT sum(l_extendedprice * l_discount) AS revenue FROM {lineitem} \
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' \
AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn time<F, Fut>(runs: usize, mut f: F) -> Result<Duration, Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    f().await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    Ok(median(times))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut sf = 1.0;
    let mut runs = 5;
    let mut python = "python3".to_string();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sf" => sf = args.next().ok_or("--sf")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs")?.parse()?,
            "--python" => python = args.next().ok_or("--python")?,
            other => dir = Some(std::path::PathBuf::from(other)),
        }
    }
    let dir = dir.ok_or("usage: tpch_bench DIR [--sf 1] [--runs 5] [--python PY]")?;
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
    let lineitem_dir = ws.dir().join("catalogs/samples/tpch/lineitem");
    let api = ws.serve("127.0.0.1:0".parse()?).await?;
    let http = reqwest::Client::new();

    let ctx = SessionContext::new();
    ctx.register_parquet(
        "lineitem",
        format!("{}/", lineitem_dir.display()),
        ParquetReadOptions::default(),
    )
    .await?;

    let mut table = String::from(
        "| query | REST statement API (local workspace) | DataFusion direct | DuckDB |\n|---|---|---|---|\n",
    );
    for (name, q) in [("Q1", Q1), ("Q6", Q6)] {
        let rest_sql = q.replace("{lineitem}", "samples.tpch.lineitem");
        let rest = time(runs, || {
            let http = http.clone();
            let url = format!("{}/api/2.0/sql/statements", api.base_url);
            let token = api.token.clone();
            let sql = rest_sql.clone();
            async move {
                let v: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"statement": sql, "warehouse_id": WAREHOUSE_ID, "wait_timeout": "50s"}))
                    .send()
                    .await?
                    .json()
                    .await?;
                if v["status"]["state"] != "SUCCEEDED" {
                    return Err(format!("REST {name}: {v}").into());
                }
                Ok(())
            }
        })
        .await?;
        let df_sql = q.replace("{lineitem}", "lineitem");
        let direct = time(runs, || {
            let ctx = ctx.clone();
            let sql = df_sql.clone();
            async move {
                ctx.sql(&sql).await?.collect().await?;
                Ok(())
            }
        })
        .await?;
        let script = format!(
            "import duckdb, time, statistics\ncon = duckdb.connect()\ncon.execute(\"CREATE VIEW lineitem AS SELECT * FROM read_parquet('{}/*.parquet')\")\nq = {:?}\ncon.execute(q).fetchall()\nts = []\nfor _ in range({runs}):\n    t = time.perf_counter(); con.execute(q).fetchall(); ts.append(time.perf_counter() - t)\nprint(statistics.median(ts))\n",
            lineitem_dir.display(),
            df_sql
        );
        let duck = match tokio::process::Command::new(&python)
            .args(["-c", &script])
            .output()
            .await
        {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .map(|s| format!("{:.0} ms", s * 1000.0))
                .unwrap_or_else(|_| "n/a".into()),
            Ok(o) => format!(
                "n/a ({})",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
            Err(e) => format!("n/a ({e})"),
        };
        table.push_str(&format!(
            "| {name} | {:.0} ms | {:.0} ms | {duck} |\n",
            rest.as_secs_f64() * 1000.0,
            direct.as_secs_f64() * 1000.0
        ));
    }
    println!(
        "TPC-H scale factor {sf}, median of {runs} runs after a warm-up, {} cores\n\n{table}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    api.shutdown().await;
    Ok(())
}
