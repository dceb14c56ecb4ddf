//! The result view (an MCP App) in a real browser: headless Chromium (the Debian package
//! `chromium`) driven by `playwright-core` runs tests/browser/result_view.mjs, whose host
//! harness (tests/browser/host.html) renders the view the server serves and feeds it real
//! `run_sql_query` / `execute_sql_read_only` results from the embedded local workspace.
//! The view's `tools/call` requests (more rows) come back here and go to the server
//! through an rmcp client. The same run opens the `call --view` / `--chart` files offline
//! and a standalone page per chart-choice fixture, and this test checks that the view's
//! JavaScript chose and drew what `view::chart` (Rust) chooses and draws on the same data.
//!
//! Chromium, node (>= 20) and playwright-core must be installed: `apt-get install chromium`
//! and `bash scripts/browser-tools.sh` (.ci/run does both); without them the test fails.
//! Screenshots go to `<target>/test-artifacts/result-view/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use clap::Parser;
use databricks_client::MapEnv;
use databricks_mcp::DatabricksMcp;
use databricks_mcp::cli::Cli;
use databricks_mcp::surfaces::Surface;
use databricks_mcp::view::{self, chart};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::{is_error, structured, text};

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

const PRIORITY: &str =
    "SELECT o_orderpriority, count(*) AS orders FROM samples.tpch.orders GROUP BY 1 ORDER BY 1";
const MONTHLY: &str = "SELECT date_trunc('MONTH', o_orderdate) AS month, count(*) AS orders, count(DISTINCT o_custkey) AS customers FROM samples.tpch.orders GROUP BY 1 ORDER BY 1";
const MANAGED: &str = "SELECT o_orderpriority, count(*) AS orders, avg(o_totalprice) AS avg_price FROM samples.tpch.orders GROUP BY 1 ORDER BY 1";
/// Rows of the monthly series in the first answer: the rest are paged by the view.
const FIRST_PAGE: u64 = 30;
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the browser test runs with; a missing piece fails the test with how to install it.
struct BrowserTools {
    chromium: PathBuf,
    node: PathBuf,
    tools_dir: PathBuf,
}

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl BrowserTools {
    fn find() -> BrowserTools {
        const HOW: &str = "The result view's browser test needs Chromium, node >= 20 and playwright-core: \
             `apt-get install chromium` (Debian) and `bash scripts/browser-tools.sh` (installs \
             playwright-core into target/browser-tools; .ci/run does both). Set CHROMIUM to another \
             Chromium binary or DATABRICKS_MCP_BROWSER_TOOLS to another install directory; \
             `-E 'not test(/result_view/)'` leaves the test out of a run.";
        let chromium = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| find_on_path(&["chromium", "chromium-browser"]))
            .unwrap_or_else(|| panic!("no chromium found on PATH. {HOW}"));
        let node = find_on_path(&["node"]).unwrap_or_else(|| panic!("no node on PATH. {HOW}"));
        let version = std::process::Command::new(&node)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let major: u32 = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        assert!(
            major >= 20,
            "node {version:?} is too old (playwright-core needs >= 20). {HOW}"
        );
        let tools_dir = std::env::var_os("DATABRICKS_MCP_BROWSER_TOOLS")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/browser-tools"));
        assert!(
            tools_dir
                .join("node_modules/playwright-core/package.json")
                .is_file(),
            "playwright-core is not installed in {}. {HOW}",
            tools_dir.display()
        );
        BrowserTools {
            chromium,
            node,
            tools_dir,
        }
    }
}

/// The server on a fresh local workspace, and clients of its full and managed SQL surfaces.
async fn start_local(dir: &Path) -> (Client, Client) {
    std::fs::create_dir_all(dir).unwrap();
    let cli = Cli::parse_from([
        "databricks-mcp",
        "--local",
        dir.to_str().unwrap(),
        "--local-scale-factor",
        "0.001",
    ]);
    let state = databricks_mcp::startup::build_state(&cli.common, &MapEnv::new())
        .await
        .unwrap();
    let mut clients = Vec::new();
    for server in [
        DatabricksMcp::new(state.clone()),
        DatabricksMcp::new(state).with_surface(Surface::Sql),
    ] {
        let (server_io, client_io) = tokio::io::duplex(1 << 22);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        clients.push(().serve(client_io).await.unwrap());
    }
    let sql = clients.pop().unwrap();
    (clients.pop().unwrap(), sql)
}

async fn call(client: &Client, tool: &str, args: Value) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else { panic!() };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

/// The view through `resources/read`: its HTML and its content's `_meta`.
async fn read_view(client: &Client) -> (String, Value) {
    let read = client
        .read_resource(ReadResourceRequestParams::new(view::URI))
        .await
        .unwrap();
    let [
        ResourceContents::TextResourceContents {
            uri,
            mime_type,
            text,
            meta,
        },
    ] = read.contents.as_slice()
    else {
        panic!("the view is one text content: {read:?}")
    };
    assert_eq!(uri, view::URI);
    assert_eq!(mime_type.as_deref(), Some(view::MIME_TYPE));
    (text.clone(), serde_json::to_value(meta).unwrap())
}

/// The tools of a client as JSON, and the linked ones checked.
async fn tools_json(client: &Client, linked: &[&str]) -> Vec<Value> {
    let tools: Vec<Value> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    for name in linked {
        let tool = tools
            .iter()
            .find(|t| t["name"] == *name)
            .unwrap_or_else(|| panic!("{name} is not listed"));
        assert_eq!(tool["_meta"]["ui"]["resourceUri"], view::URI, "{tool}");
        assert_eq!(tool["_meta"]["ui/resourceUri"], view::URI, "{tool}");
    }
    tools
}

/// What the Rust side chooses and draws for a result.
fn expected(structured: &Value) -> (chart::ResultData, chart::Plan) {
    let data = chart::ResultData::from_structured(structured).expect("a result set");
    let plan = chart::plan(&data);
    (data, plan)
}

fn kinds(plan: &chart::Plan) -> Vec<&'static str> {
    plan.kinds.iter().map(|k| k.as_str()).collect()
}

/// The chart-choice fixtures: each rule of `view::chart`, and its edges.
fn fixtures() -> Vec<(&'static str, Value)> {
    let sql = |columns: &[(&str, &str)], rows: Value| {
        json!({
            "statement_id": "fixture", "state": "SUCCEEDED", "row_offset": 0,
            "columns": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "row_count": rows.as_array().map(Vec::len).unwrap_or(0),
            "rows": rows, "truncated": false,
        })
    };
    let many = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| json!([format!("c{i:03}"), i as i64 * 3 - 50]))
                .collect(),
        )
    };
    vec![
        (
            "bars",
            sql(
                &[("status", "STRING"), ("n", "BIGINT")],
                json!([["F", 10], ["O", 7], ["P", 3]]),
            ),
        ),
        (
            "bars_with_nulls",
            sql(
                &[("status", "STRING"), ("n", "DECIMAL(10,2)")],
                json!([[null, 1.5], ["", 2], ["x", null], ["y", -4.25]]),
            ),
        ),
        (
            "boolean_category",
            sql(
                &[("late", "BOOLEAN"), ("share", "DOUBLE")],
                json!([[true, 0.25], [false, 0.75]]),
            ),
        ),
        ("bars_100", sql(&[("c", "STRING"), ("n", "INT")], many(100))),
        (
            "too_many_bars",
            sql(&[("c", "STRING"), ("n", "INT")], many(101)),
        ),
        (
            "dates_and_measures",
            sql(
                &[("day", "DATE"), ("n", "INT"), ("v", "DECIMAL(38,2)")],
                json!([
                    ["1996-01-02", 3, "12345678901234567890.12"],
                    ["1996-01-01", 5, "2.5"],
                    ["1996-01-03", null, "-3"]
                ]),
            ),
        ),
        (
            "iso_text_months",
            sql(
                &[("month", "STRING"), ("revenue", "DECIMAL(25,2)")],
                json!([
                    ["1992-01", 30469896.18],
                    ["1992-02", 24678577.12],
                    ["1992-03", null]
                ]),
            ),
        ),
        (
            "timestamps_with_zones",
            sql(
                &[("at", "TIMESTAMP"), ("n", "BIGINT")],
                json!([
                    ["2024-03-05T10:15:00.000Z", 1],
                    ["2024-03-05 12:15+01:00", 2],
                    ["2024-03-05T12:15:00.5+0100", 3]
                ]),
            ),
        ),
        (
            "repeated_times_with_a_category",
            sql(
                &[("day", "DATE"), ("status", "STRING"), ("n", "INT")],
                json!([
                    ["1992-01-01", "O", 1],
                    ["1992-01-01", "F", 2],
                    ["1992-01-02", "O", 3]
                ]),
            ),
        ),
        (
            "time_category_two_measures",
            sql(
                &[
                    ("day", "TIMESTAMP_NTZ"),
                    ("status", "STRING"),
                    ("n", "INT"),
                    ("m", "FLOAT"),
                ],
                json!([
                    ["1992-01-01T00:00:00", "O", 1, 2.5],
                    ["1992-01-02T00:00:00", "F", 2, 1.5],
                    ["1992-01-03T00:00:00", "P", 3, 0.5]
                ]),
            ),
        ),
        (
            "two_measures",
            sql(
                &[("x", "DOUBLE"), ("y", "SMALLINT")],
                json!([[1.5, 2], [2.5, 4], [null, 1], [3, 6]]),
            ),
        ),
        (
            "invalid_dates_are_text",
            sql(
                &[("d", "STRING"), ("n", "TINYINT")],
                json!([["2024-13-01", 1], ["2024-01-01", 2]]),
            ),
        ),
        ("one_measure", sql(&[("n", "BIGINT")], json!([[1500]]))),
        (
            "text_only",
            sql(&[("a", "STRING"), ("b", "STRING")], json!([["x", "y"]])),
        ),
        (
            "other_types",
            sql(
                &[
                    ("a", "ARRAY<INT>"),
                    ("m", "MAP<STRING,INT>"),
                    ("i", "INTERVAL DAY"),
                ],
                json!([["[1,2]", "{\"a\":1}", "1 00:00:00.000000000"]]),
            ),
        ),
        (
            "one_time_point",
            sql(&[("day", "DATE"), ("n", "INT")], json!([["1992-01-01", 1]])),
        ),
        ("no_rows", sql(&[("c", "STRING"), ("n", "INT")], json!([]))),
        (
            "statement_shape",
            json!({
                "statement_id": "fixture",
                "status": {"state": "SUCCEEDED"},
                "manifest": {"format": "JSON_ARRAY", "schema": {"column_count": 3, "columns": [
                    {"name": "p", "type_name": "STRING", "type_text": "STRING", "position": 0},
                    {"name": "n", "type_name": "LONG", "type_text": "BIGINT", "position": 1},
                    {"name": "avg", "type_name": "DECIMAL", "type_text": "DECIMAL(19,6)", "position": 2}
                ]}, "total_row_count": 3, "truncated": false},
                "result": {"row_offset": 0, "row_count": 3, "has_more_rows": false,
                    "data_array": [["a", "1", "10.5"], ["b", null, "3"], ["c", "3", null]]}
            }),
        ),
    ]
}

/// `databricks-mcp call run_sql_query … --view … --chart … --json` on a local workspace;
/// the result's `structuredContent`.
async fn cli_call(workspace: &Path, query: &str, max_rows: u64, page: &Path, svg: &Path) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .arg("--local")
        .arg(workspace)
        .args(["--local-scale-factor", "0.001", "call", "run_sql_query"])
        .arg(json!({"query": query, "max_rows": max_rows}).to_string())
        .arg("--view")
        .arg(page)
        .arg("--chart")
        .arg(svg)
        .arg("--json")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", workspace)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "call --view --chart failed: {stderr}");
    assert!(stderr.contains("wrote "), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    result["structuredContent"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_view_renders_real_results_in_a_browser() {
    let tools = BrowserTools::find();
    let scratch = tempfile::tempdir().unwrap();
    let (full, sql) = start_local(&scratch.path().join("workspace")).await;

    // The links and the resource, through an MCP client, on both surfaces.
    let full_tools = tools_json(&full, &["run_sql_query", "get_sql_result"]).await;
    let sql_tools = tools_json(
        &sql,
        &["execute_sql", "execute_sql_read_only", "poll_sql_result"],
    )
    .await;
    // Both surfaces declare the MCP Apps extension with the view's mime type.
    for client in [&full, &sql] {
        let capabilities = &client.peer_info().unwrap().capabilities;
        let apps = capabilities
            .extensions
            .as_ref()
            .and_then(|e| e.get(view::EXTENSION_ID));
        assert_eq!(
            apps.map(|s| json!(s)),
            Some(json!({"mimeTypes": [view::MIME_TYPE]}))
        );
    }
    let (html, meta) = read_view(&full).await;
    assert_eq!(html, view::HTML);
    assert_eq!(meta["ui"]["csp"]["connectDomains"], json!([]), "{meta}");
    assert_eq!(read_view(&sql).await.0, view::HTML);
    let listed = full.list_all_resources().await.unwrap();
    assert!(
        listed
            .iter()
            .any(|r| r.uri == view::URI && r.mime_type.as_deref() == Some(view::MIME_TYPE))
    );
    let listed = sql.list_all_resources().await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>(),
        vec![view::URI]
    );

    // Real results.
    let tool_def =
        |tools: &[Value], name: &str| tools.iter().find(|t| t["name"] == name).cloned().unwrap();
    let priority = call(&full, "run_sql_query", json!({"query": PRIORITY})).await;
    assert!(!is_error(&priority), "{}", text(&priority));
    let monthly_args = json!({"query": MONTHLY, "max_rows": FIRST_PAGE});
    let monthly = call(&full, "run_sql_query", monthly_args.clone()).await;
    assert!(!is_error(&monthly), "{}", text(&monthly));
    let managed_args = json!({"query": MANAGED});
    let managed = call(&sql, "execute_sql_read_only", managed_args.clone()).await;
    assert!(!is_error(&managed), "{}", text(&managed));
    let monthly_sc = structured(&monthly);
    let total = monthly_sc["total_row_count"].as_u64().unwrap();
    assert!(total > FIRST_PAGE, "the monthly series has {total} months");
    assert_eq!(monthly_sc["next_offset"], FIRST_PAGE);
    let statement_id = monthly_sc["statement_id"].as_str().unwrap().to_string();

    let scenario = |name: &str,
                    tools: &[Value],
                    tool: &str,
                    arguments: Value,
                    result: &rmcp::model::CallToolResult| {
        let (_, plan) = expected(&structured(result));
        json!({
            "name": name,
            "tools": tools,
            "toolDef": tool_def(tools, tool),
            "arguments": arguments,
            "result": serde_json::to_value(result).unwrap(),
            "expect": {
                "rows": structured(result)["row_count"].as_u64()
                    .or_else(|| structured(result)["result"]["row_count"].as_u64()),
                "kinds": kinds(&plan),
                "columns": structured(result)["columns"].as_array().map(|c| c.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()),
                "total": structured(result)["total_row_count"],
                "statementId": structured(result)["statement_id"],
            },
        })
    };

    // The CLI's files, made by the binary on a workspace of its own.
    let cli_dir = scratch.path().join("cli");
    std::fs::create_dir_all(&cli_dir).unwrap();
    let mut cli = Vec::new();
    for (name, query, max_rows) in [
        ("priority", PRIORITY, 100),
        ("monthly", MONTHLY, FIRST_PAGE),
    ] {
        let (page, svg) = (
            cli_dir.join(format!("{name}.html")),
            cli_dir.join(format!("{name}.svg")),
        );
        let structured = cli_call(&cli_dir.join("workspace"), query, max_rows, &page, &svg).await;
        let (data, plan) = expected(&structured);
        let kind = plan.default_kind().unwrap();
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(svg_text.contains(&format!("data-kind=\"{}\"", kind.as_str())));
        cli.push(json!({
            "name": name, "view": page, "chart": svg,
            "expect": {"rows": data.rows.len(), "kind": kind.as_str(), "marks": chart::marks(&data, &plan, kind)},
        }));
    }

    // One standalone page per fixture, and what Rust makes of each.
    let mut fixture_pages = Vec::new();
    let mut fixture_expect = serde_json::Map::new();
    for (name, structured) in fixtures() {
        let page = scratch.path().join(format!("fixture-{name}.html"));
        std::fs::write(
            &page,
            view::standalone_page("run_sql_query", &json!({"query": name}), &structured),
        )
        .unwrap();
        let (data, plan) = expected(&structured);
        let marks: serde_json::Map<String, Value> = plan
            .kinds
            .iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    json!(chart::marks(&data, &plan, *k)),
                )
            })
            .collect();
        fixture_expect.insert(
            name.to_string(),
            json!({"kind": plan.default_kind().map(|k| k.as_str()), "kinds": kinds(&plan), "marks": marks, "rows": data.rows.len()}),
        );
        fixture_pages.push(json!({"name": name, "page": page}));
    }

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts/result-view");
    let config = json!({
        "chromium": tools.chromium,
        "toolsDir": tools.tools_dir,
        "artifacts": artifacts,
        "view": {"html": html, "meta": meta},
        "scenarios": [
            scenario("priority", &full_tools, "run_sql_query", json!({"query": PRIORITY}), &priority),
            scenario("monthly", &full_tools, "run_sql_query", monthly_args, &monthly),
            scenario("managed", &sql_tools, "execute_sql_read_only", managed_args, &managed),
        ],
        "cli": cli,
        "fixtures": fixture_pages,
    });
    let config_path = scratch.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();

    // The browser run; its tools/call requests answered by the real server.
    let mut node = tokio::process::Command::new(&tools.node)
        .arg(repo().join("crates/databricks-mcp/tests/browser/result_view.mjs"))
        .arg(&config_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    // The monthly result as the view holds it once it paged everything: first page, then
    // each page the server answered.
    let mut monthly_rows: Vec<Value> = monthly_sc["rows"].as_array().unwrap().clone();
    let mut pages = 0;
    let report = tokio::time::timeout(BROWSER_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("the browser script wrote {line:?}: {e}"));
            if message["type"] == "report" {
                return message;
            }
            assert_eq!(message["type"], "tools/call", "{message}");
            let client = if message["scenario"] == "managed" {
                &sql
            } else {
                &full
            };
            let params = &message["params"];
            let result = call(
                client,
                params["name"].as_str().unwrap(),
                params["arguments"].clone(),
            )
            .await;
            if params["name"] == "get_sql_result"
                && params["arguments"]["statement_id"] == statement_id.as_str()
            {
                pages += 1;
                monthly_rows.extend(
                    structured(&result)["rows"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            let answer =
                json!({"id": message["id"], "result": serde_json::to_value(&result).unwrap()});
            stdin
                .write_all(format!("{answer}\n").as_bytes())
                .await
                .unwrap();
        }
        panic!("the browser script ended without a report");
    })
    .await
    .expect("the browser test took too long");
    let _ = node.wait().await;

    assert_eq!(
        report["failures"],
        json!([]),
        "browser checks failed: {report:#}"
    );
    assert_eq!(report["ok"], true, "{report:#}");
    assert!(pages > 0, "the view fetched no page through get_sql_result");

    // The JavaScript chose and drew what Rust chooses and draws on the same data.
    let agree = |name: &str, observed: &Value, structured: &Value| {
        let (data, plan) = expected(structured);
        assert_eq!(observed["kinds"], json!(kinds(&plan)), "{name}: {observed}");
        let kind = plan.default_kind().unwrap();
        assert_eq!(observed["kind"], kind.as_str(), "{name}: {observed}");
        assert_eq!(
            observed["total"],
            json!(chart::marks(&data, &plan, kind)),
            "{name}: {observed}"
        );
        assert_eq!(
            observed["rows"],
            json!(data.rows.len()),
            "{name}: {observed}"
        );
    };
    let observed = &report["observed"];
    agree("priority", &observed["priority"], &structured(&priority));
    agree("managed", &observed["managed"], &structured(&managed));
    let mut all = monthly_sc.clone();
    all["rows"] = Value::Array(monthly_rows);
    agree("monthly, every page", &observed["monthly"], &all);
    assert_eq!(observed["monthly"]["rows"], json!(total));
    for (name, want) in &fixture_expect {
        assert_eq!(
            &report["fixtures"][name], want,
            "fixture {name}: the view (left) and view::chart (right) differ"
        );
    }
    assert!(artifacts.join("priority-light.png").is_file());
    assert!(artifacts.join("monthly-all-rows.png").is_file());
    let _ = full.cancel().await;
    let _ = sql.cancel().await;
}
