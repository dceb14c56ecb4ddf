//! Benchmark (not a test): the 22 TPC-H queries at a given scale factor, three ways over
//! the same Parquet files — through the local workspace's REST statement API as
//! `run_sql_query` calls it (hybrid disposition, Arrow), directly on DataFusion, and on
//! DuckDB (Python `duckdb`) — with geometric means of the ratios.
//!
//! `cargo run --release -p local-workspace --example tpch_bench -- DIR [--sf 1] [--runs 5] [--python PY] [--queries Q1,Q6]`
//! DIR is created with samples.tpch at the scale factor if needed. Prints a Markdown table
//! of median wall times (after one warm-up run of each path). The three paths alternate run
//! by run, query by query (DuckDB answers one query at a time from a Python process of its
//! own), so a drift of the machine's speed touches all three alike. DataFusion direct runs
//! in the local engine's session (`local_workspace::session_context`). Every query's row
//! count must be the same on the three paths, or the run fails.

use std::time::{Duration, Instant};

use datafusion::prelude::ParquetReadOptions;
use local_workspace::{LocalOptions, LocalWorkspace, WAREHOUSE_ID};
use serde_json::{Value, json};

mod queries;

const TABLES: [&str; 8] = [
    "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
];

/// DuckDB's side: the tables as views (a JSON line `{table: dir}`), then each line a query
/// (a JSON string), answered with `[seconds, rows]` timed around `execute` + `fetchall`.
const DUCKDB_SCRIPT: &str = r#"
import duckdb, json, sys, time
con = duckdb.connect()
for table, path in json.loads(sys.stdin.readline()).items():
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}/*.parquet')")
print("[]", flush=True)
for line in sys.stdin:
    t = time.perf_counter()
    rows = len(con.execute(json.loads(line)).fetchall())
    print(json.dumps([time.perf_counter() - t, rows]), flush=True)
"#;

type BoxError = Box<dyn std::error::Error>;

/// A Python process running [`DUCKDB_SCRIPT`].
struct DuckDb {
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    answers: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl DuckDb {
    /// DuckDB with the tables registered, or why not (no Python, no `duckdb` package).
    async fn start(python: &str, tables: &Value) -> Result<DuckDb, BoxError> {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = tokio::process::Command::new(python)
            .args(["-c", DUCKDB_SCRIPT])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut duck = DuckDb {
            _child: child,
            stdin,
            answers: tokio::io::BufReader::new(stdout).lines(),
        };
        duck.ask(tables).await?;
        Ok(duck)
    }

    async fn ask(&mut self, line: &Value) -> Result<Value, BoxError> {
        use tokio::io::AsyncWriteExt as _;
        self.stdin.write_all(format!("{line}\n").as_bytes()).await?;
        let answer = self.answers.next_line().await?.ok_or("DuckDB exited")?;
        Ok(serde_json::from_str(&answer)?)
    }

    /// One run of `sql`: DuckDB's own time and the row count.
    async fn run(&mut self, sql: &str) -> Result<(Duration, u64), BoxError> {
        let answer = self.ask(&json!(sql)).await?;
        let secs = answer[0].as_f64().ok_or("DuckDB: no time")?;
        let rows = answer[1].as_u64().ok_or("DuckDB: no row count")?;
        Ok((Duration::from_secs_f64(secs), rows))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times one run of an operation that answers a row count.
async fn timed(
    run: impl std::future::Future<Output = Result<u64, BoxError>>,
) -> Result<(Duration, u64), BoxError> {
    let t = Instant::now();
    let rows = run.await?;
    Ok((t.elapsed(), rows))
}

/// The runs of one path and the row count every run answered (an error if two disagree).
#[derive(Default)]
struct Runs {
    times: Vec<Duration>,
    rows: Option<u64>,
}

impl Runs {
    fn add(&mut self, path: &str, (time, rows): (Duration, u64)) -> Result<(), BoxError> {
        match self.rows {
            Some(first) if first != rows => {
                Err(format!("{path}: {first} rows, then {rows}").into())
            }
            _ => {
                self.rows = Some(rows);
                self.times.push(time);
                Ok(())
            }
        }
    }
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

    let tables: serde_json::Map<String, Value> = TABLES
        .iter()
        .map(|t| (t.to_string(), json!(tpch_dir.join(t).display().to_string())))
        .collect();
    let mut duck = DuckDb::start(&python, &Value::Object(tables))
        .await
        .map_err(|e| eprintln!("DuckDB not measured: {e}"))
        .ok();
    let url = format!("{}/api/2.0/sql/statements", api.base_url);
    let rest_once = |sql: &str| {
        let body = json!({"statement": sql, "warehouse_id": WAREHOUSE_ID, "wait_timeout": "50s",
            "catalog": "samples", "schema": "tpch",
            "disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "ARROW_STREAM"});
        let request = http.post(&url).bearer_auth(&api.token).json(&body);
        timed(async move {
            let v: Value = request.send().await?.json().await?;
            if v["status"]["state"] != "SUCCEEDED" {
                return Err(format!("REST: {v}").into());
            }
            v["manifest"]["total_row_count"]
                .as_u64()
                .ok_or_else(|| "REST: no total_row_count".into())
        })
    };
    let direct_once = |sql: &str| {
        let (ctx, sql) = (ctx.clone(), sql.to_string());
        timed(async move {
            let batches = ctx.sql(&sql).await?.collect().await?;
            Ok(batches.iter().map(|b| b.num_rows() as u64).sum())
        })
    };

    let mut table = String::from(
        "| query | rows | REST statement API (local workspace) | DataFusion direct | DuckDB | REST / DuckDB | REST − direct |\n|---|---|---|---|---|---|---|\n",
    );
    let (mut log_rest_duck, mut log_direct_duck, mut n_duck) = (0.0f64, 0.0f64, 0usize);
    let mut overheads = Vec::new();
    for (name, sql) in &queries {
        let (mut rest, mut direct, mut duck_runs) =
            (Runs::default(), Runs::default(), Runs::default());
        // Run 0 is the warm-up of each path; then the three alternate.
        for run in 0..=runs {
            let r = rest_once(sql).await.map_err(|e| format!("{name} {e}"))?;
            let d = direct_once(sql).await?;
            let k = match duck.as_mut() {
                Some(duck) => Some(duck.run(sql).await?),
                None => None,
            };
            if run > 0 {
                rest.add(name, r)?;
                direct.add(name, d)?;
                if let Some(k) = k {
                    duck_runs.add(name, k)?;
                }
            }
        }
        let (rest_rows, direct_rows) = (rest.rows.unwrap_or(0), direct.rows.unwrap_or(0));
        let duck_rows = duck_runs.rows;
        if rest_rows != direct_rows || duck_rows.is_some_and(|d| d != rest_rows) {
            return Err(format!(
                "{name}: row counts differ: REST {rest_rows}, DataFusion {direct_rows}, DuckDB {duck_rows:?}"
            )
            .into());
        }
        let (rest, direct) = (median(rest.times), median(direct.times));
        let duck_secs =
            (!duck_runs.times.is_empty()).then(|| median(duck_runs.times).as_secs_f64());
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
