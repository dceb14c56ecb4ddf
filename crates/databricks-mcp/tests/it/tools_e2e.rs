//! Every tool, end to end: MCP client → server → REST client → emulator (real HTTP).

use databricks_emulator::{EmulatorConfig, StatementScript};
use databricks_mcp::Settings;
use serde_json::{Value, json};

use crate::support::{Harness, is_error, structured, text};

#[tokio::test]
async fn run_sql_query_returns_rows_and_names_the_warehouse() {
    let h = Harness::start().await;
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM main.sales.orders"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    // A UTC timestamp column says so once, in its header (the text's compact cells).
    assert!(
        t.starts_with(
            "order_id,customer,amount,ordered_at (UTC),tags\n1001,alice,129.99,2024-03-05 10:15,"
        ),
        "{t}"
    );
    assert!(
        t.contains("1002,alice,,"),
        "NULL is an empty CSV field: {t}"
    );
    assert!(t.contains("All 3 rows."), "{t}");
    assert!(
        t.contains("abcdef0123456789"),
        "the answer names the warehouse: {t}"
    );
    assert!(t.contains("chosen automatically"), "{t}");
    let s = structured(&r);
    assert_eq!(s["rows"][0][0], json!(1001), "numbers are not quoted: {s}");
    assert_eq!(s["rows"][1][2], json!(null));
    assert_eq!(s["total_row_count"], json!(3));
    assert_eq!(s["warehouse_id"], json!("abcdef0123456789"));
    // The statement reached the emulator on the chosen warehouse.
    let posted = crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].body["warehouse_id"], json!("abcdef0123456789"));
    assert_eq!(
        posted[0].body["statement"],
        json!("SELECT * FROM main.sales.orders")
    );
}

#[tokio::test]
async fn warehouse_precedence_meta_then_argument_then_default() {
    let settings = Settings {
        default_warehouse_id: Some("fedcba9876543210".into()),
        ..Settings::default()
    };
    let h = Harness::start_with(EmulatorConfig::default(), settings).await;
    let q = json!({"query": "SELECT 1", "warehouse_id": "abcdef0123456789"});
    let r = h
        .call_with_meta(
            "run_sql_query",
            q.clone(),
            Some(json!({"warehouse_id": "0123456789abcdef"})),
        )
        .await;
    let body = |i: usize| {
        crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements")[i].body["warehouse_id"].clone()
    };
    // The emulator knows only its fixture warehouses; what matters is which id was sent.
    let _ = r;
    assert_eq!(
        body(0),
        json!("0123456789abcdef"),
        "_meta.warehouse_id wins"
    );
    let r = h.call("run_sql_query", q).await;
    assert_eq!(body(1), json!("abcdef0123456789"), "then the argument");
    assert!(
        text(&r).contains("the warehouse_id argument"),
        "{}",
        text(&r)
    );
    let _ = h.call("run_sql_query", json!({"query": "SELECT 1"})).await;
    assert_eq!(
        body(2),
        json!("fedcba9876543210"),
        "then the server default"
    );
}

/// A statement the guard cannot recognise (a typo) is refused with the parser's diagnosis,
/// never with advice to enable writes; a recognised write names `--allow-writes`.
#[tokio::test]
async fn a_typo_is_reported_as_a_syntax_problem_not_a_write() {
    let h = Harness::start().await;
    let r = h.call("run_sql_query", json!({"query": "SELEC 1"})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("not recognised as a read-only statement"), "{t}");
    assert!(
        t.contains("check the syntax") && t.contains("Line: 1"),
        "{t}"
    );
    assert!(!t.contains("--allow-writes"), "{t}");
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT http_request('c', 'GET', '/')"}),
        )
        .await;
    let t = text(&r);
    assert!(
        t.contains("--allow-side-effect-functions") && !t.contains("--allow-writes"),
        "{t}"
    );
    assert!(crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements").is_empty());
}

#[tokio::test]
async fn writes_are_refused_before_reaching_the_warehouse() {
    let h = Harness::start().await;
    for sql in [
        "DROP TABLE main.sales.orders",
        "SELECT 1; DELETE FROM main.sales.orders",
        "/* harmless */ insert into t values (1)",
    ] {
        let r = h.call("run_sql_query", json!({"query": sql})).await;
        assert!(is_error(&r), "{sql} must be refused");
        let t = text(&r);
        assert!(t.contains("Refused") && t.contains("--allow-writes"), "{t}");
    }
    assert!(crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements").is_empty());
    // A read whose text mentions write keywords still runs.
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT 'DROP TABLE x' AS s FROM dropped_items"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn failed_and_canceled_statements_are_tool_errors() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "no_such_table",
        StatementScript::failed(
            "BAD_REQUEST",
            "[TABLE_OR_VIEW_NOT_FOUND] The table or view `no_such_table` cannot be found.",
            Some("42P01"),
        ),
    );
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM no_such_table"}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("TABLE_OR_VIEW_NOT_FOUND") && t.contains("42P01"),
        "{t}"
    );
    h.emulator
        .script_statement("canceled", StatementScript::Canceled);
    let r = h
        .call("run_sql_query", json!({"query": "SELECT 'canceled'"}))
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("cancelled"), "{}", text(&r));
}

#[tokio::test]
async fn ddl_without_result_and_empty_results() {
    let settings = Settings {
        allow_writes: true,
        // These tests are about running writes; confirming them is tests/it/operations.rs's.
        confirm_writes: databricks_mcp::confirm::ConfirmMode::Never,
        ..Settings::default()
    };
    let h = Harness::start_with(EmulatorConfig::default(), settings).await;
    h.emulator
        .script_statement("CREATE", StatementScript::NoResult);
    let r = h
        .call("run_sql_query", json!({"query": "CREATE TABLE t (a INT)"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("no result set"), "{}", text(&r));
    h.emulator
        .script_statement("empty", StatementScript::rows(&[("a", "INT")], 0, 10));
    let r = h
        .call("run_sql_query", json!({"query": "SELECT a FROM empty"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("0 rows"), "{}", text(&r));
}

#[tokio::test]
async fn large_results_are_paged_without_fetching_unneeded_chunks() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "big",
        StatementScript::rows(&[("id", "BIGINT"), ("name", "STRING")], 100_000, 1_000),
    );
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM big", "max_rows": 10}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.contains("Rows 1–10 of 100000 shown."), "{t}");
    let s = structured(&r);
    assert_eq!(s["next_offset"], json!(10));
    let id = s["statement_id"].as_str().unwrap().to_string();
    assert!(
        crate::support::requests(&h.emulator, "GET", "/result/chunks/").is_empty(),
        "chunk 0 came inline"
    );
    // Jump to the middle: only the chunk holding row 50 500 is fetched.
    let r = h
        .call(
            "get_sql_result",
            json!({"statement_id": id, "offset": 50_500, "limit": 5}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("Rows 50501–50505 of 100000 shown."),
        "{}",
        text(&r)
    );
    assert_eq!(structured(&r)["rows"][0][0], json!(50_500));
    let chunk_gets = crate::support::requests(&h.emulator, "GET", "/result/chunks/");
    assert_eq!(
        chunk_gets.len(),
        1,
        "{:?}",
        chunk_gets.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert!(chunk_gets[0].path.ends_with("/result/chunks/50"));
}

#[tokio::test]
async fn pending_statement_is_polled_to_completion() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "slow",
        StatementScript::pending(3, StatementScript::rows(&[("x", "INT")], 2, 10)),
    );
    let r = h
        .call("run_sql_query", json!({"query": "SELECT x FROM slow"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("All 2 rows."), "{}", text(&r));
    assert!(crate::support::requests(&h.emulator, "GET", "/api/2.0/sql/statements/").len() >= 3);
}

#[tokio::test]
async fn deadline_returns_the_statement_handle() {
    let settings = Settings {
        sql_timeout: std::time::Duration::from_secs(1),
        ..Settings::default()
    };
    let h = Harness::start_with(EmulatorConfig::default(), settings).await;
    h.emulator.script_statement(
        "forever",
        StatementScript::pending(1_000_000, StatementScript::Canceled),
    );
    let r = h
        .call("run_sql_query", json!({"query": "SELECT * FROM forever"}))
        .await;
    assert!(
        !is_error(&r),
        "a running statement is not an error: {}",
        text(&r)
    );
    let s = structured(&r);
    let id = s["statement_id"].as_str().unwrap();
    assert!(text(&r).contains("get_sql_result"), "{}", text(&r));
    assert!(
        h.emulator.cancelled_statements().is_empty(),
        "the statement keeps running"
    );
    let r = h.call("get_sql_result", json!({"statement_id": id})).await;
    assert!(!is_error(&r));
    assert!(text(&r).contains("still"), "{}", text(&r));
}

#[tokio::test]
async fn list_warehouses_shows_state_size_and_type() {
    let h = Harness::start().await;
    let r = h.call("list_warehouses", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(
        t.contains("abcdef0123456789|Serverless Starter Warehouse|RUNNING|Small|serverless"),
        "{t}"
    );
}

#[tokio::test]
async fn catalog_tools_return_fixture_data() {
    let h = Harness::start().await;
    let r = h.call("list_catalogs", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("main|MANAGED_CATALOG|Main catalog"),
        "{}",
        text(&r)
    );

    let r = h.call("list_schemas", json!({"catalog": "main"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("default"), "{}", text(&r));

    let r = h
        .call("list_tables", json!({"catalog": "main", "schema": "sales"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        structured(&r)["tables"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{}",
        text(&r)
    );

    let r = h.call("list_databases", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("main.default"), "{}", text(&r));

    let r = h
        .call(
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "orders"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(
        t.contains("order_id|bigint|false|Primary key"),
        "column comments are shown: {t}"
    );
    assert!(t.contains("One row per order"), "{t}");
    let got = crate::support::requests(&h.emulator, "GET", "/api/2.1/unity-catalog/tables/");
    assert!(
        got.last()
            .unwrap()
            .path
            .ends_with("/tables/main.sales.orders")
    );
}

#[tokio::test]
async fn get_table_schema_refuses_injection_and_explains_missing_tables() {
    let h = Harness::start().await;
    let r = h
        .call(
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "orders; DROP TABLE x"}),
        )
        .await;
    // A semicolon is a legal (if odd) Unity Catalog name: it is sent escaped in the
    // URL path, never as SQL. A dot or backtick is refused outright.
    assert!(crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements").is_empty());
    let _ = r;
    let r = h
        .call(
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "a`b"}),
        )
        .await;
    assert!(is_error(&r));
    assert!(
        text(&r).contains("not a valid Unity Catalog name"),
        "{}",
        text(&r)
    );
    let r = h
        .call(
            "get_table_schema",
            json!({"database_name": "main.sales", "table_name": "missing_table"}),
        )
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("list_tables"), "{}", text(&r));
}

#[tokio::test]
async fn jobs_tools_page_with_cursors() {
    let config = EmulatorConfig {
        jobs: 60,
        ..EmulatorConfig::default()
    };
    let h = Harness::start_with(config, Settings::default()).await;
    let r = h.call("list_jobs", json!({"limit": 25})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["jobs"].as_array().unwrap().len(), 25);
    let cursor = s["next_cursor"].as_str().unwrap().to_string();
    assert!(text(&r).contains("cursor="), "{}", text(&r));
    let mut seen = 25;
    let mut cursor = Some(cursor);
    while let Some(c) = cursor {
        let r = h.call("list_jobs", json!({"limit": 25, "cursor": c})).await;
        let s = structured(&r);
        seen += s["jobs"].as_array().unwrap().len();
        cursor = s["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, 60);

    let r = h.call("get_job_runs", json!({"job_id": 11223344})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("455644900"), "{}", text(&r));
    let runs = crate::support::requests(&h.emulator, "GET", "/api/2.2/jobs/runs/list");
    assert_eq!(runs.last().unwrap().query_param("job_id"), Some("11223344"));
}

#[tokio::test]
async fn compute_pipelines_and_workspace_tools() {
    let h = Harness::start().await;
    let r = h.call("list_clusters", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("0923-164208-meows279|alice-dev|RUNNING"),
        "{}",
        text(&r)
    );

    let r = h.call("list_delta_pipelines", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("orders_dlt|IDLE|HEALTHY"), "{}", text(&r));

    let r = h.call("list_notebooks", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        structured(&r)["objects"]
            .as_array()
            .is_some_and(|o| !o.is_empty()),
        "{}",
        text(&r)
    );

    let r = h
        .call("list_notebooks", json!({"path": "/does/not/exist"}))
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("RESOURCE_DOES_NOT_EXIST"), "{}", text(&r));
}

#[tokio::test]
async fn a_million_rows_are_paged_chunk_by_chunk_over_arrow_links() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "million",
        StatementScript::rows(
            &[
                ("id", "BIGINT"),
                ("v", "DOUBLE"),
                ("s", "STRING"),
                ("d", "DATE"),
                ("b", "BOOLEAN"),
            ],
            1_000_000,
            50_000,
        ),
    );
    let r = h
        .call("run_sql_query", json!({"query": "SELECT * FROM million"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("Rows 1–100 of 1000000 shown."),
        "{}",
        text(&r)
    );
    // Asked for with the hybrid disposition; too large to come inline, it comes as links.
    let posted = &crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements")[0];
    assert_eq!(
        posted.body["disposition"],
        json!("INLINE_OR_EXTERNAL_LINKS")
    );
    assert_eq!(posted.body["format"], json!("ARROW_STREAM"));
    let downloads = crate::support::requests(&h.emulator, "GET", "/external-results/");
    assert_eq!(downloads.len(), 1, "only the first chunk is downloaded");
    assert!(
        downloads[0].header("authorization").is_none(),
        "no Databricks token to cloud storage"
    );
    let id = structured(&r)["statement_id"].as_str().unwrap().to_string();
    // Walk to the last page.
    let r = h
        .call(
            "get_sql_result",
            json!({"statement_id": id, "offset": 999_990, "limit": 100}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("Rows 999991–1000000 of 1000000 shown."),
        "{}",
        text(&r)
    );
    let s = structured(&r);
    assert_eq!(s["next_offset"], json!(null));
    assert_eq!(s["rows"][9][0], json!(999_999));
    assert_eq!(
        crate::support::requests(&h.emulator, "GET", "/external-results/").len(),
        2
    );
    // A page that spans two chunks downloads both, and only them.
    let r = h
        .call(
            "get_sql_result",
            json!({"statement_id": id, "offset": 49_995, "limit": 10}),
        )
        .await;
    assert_eq!(structured(&r)["rows"][9][0], json!(50_004));
    assert_eq!(
        crate::support::requests(&h.emulator, "GET", "/external-results/").len(),
        4
    );
}

#[tokio::test]
async fn inline_disposition_and_text_formats() {
    let settings = Settings {
        sql_disposition: databricks_mcp::settings::Disposition::Inline,
        ..Settings::default()
    };
    let h = Harness::start_with(EmulatorConfig::default(), settings).await;
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM t", "format": "csv"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).starts_with("order_id,customer,amount,ordered_at (UTC),tags\n1001,alice,129.99"),
        "{}",
        text(&r)
    );
    assert!(
        text(&r).contains("1002,alice,,"),
        "NULL is an empty CSV field: {}",
        text(&r)
    );
    let posted = &crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements")[0];
    assert_eq!(posted.body["disposition"], json!("INLINE"));
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM t", "format": "markdown"}),
        )
        .await;
    assert!(
        text(&r).starts_with("| order_id | customer |"),
        "{}",
        text(&r)
    );
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM t", "format": "json"}),
        )
        .await;
    let t = text(&r);
    let json_part = &t[..t.find("\n\n").unwrap()];
    let rows: serde_json::Value = serde_json::from_str(json_part).unwrap();
    assert_eq!(rows[0]["order_id"], json!(1001));
    assert_eq!(rows[1]["amount"], json!(null));
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT 1", "format": "xml"}),
        )
        .await;
    assert!(is_error(&r), "unknown format is an argument error");
}

#[tokio::test]
async fn row_limit_is_passed_through_and_truncation_reported() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "capped",
        StatementScript::rows(&[("id", "BIGINT")], 500, 100),
    );
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM capped", "row_limit": 50, "max_rows": 10}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let posted = &crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements")[0];
    assert_eq!(posted.body["row_limit"], json!(50));
    assert!(
        text(&r).contains("of 50 shown") && text(&r).contains("truncated"),
        "{}",
        text(&r)
    );
    assert_eq!(structured(&r)["truncated"], json!(true));
}

/// Checks `value` against the parts of JSON Schema the tools' output schemas use
/// (`type`, `properties`, `required`, `items`, local `$ref`).
fn conforms(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return conforms(root, &root["$defs"][name], value, at);
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        let key = r.as_str().unwrap_or_default();
        if value.get(key).is_none() {
            return Err(format!("{at}: missing required {key}"));
        }
    }
    if let (Some(props), Some(object)) = (schema["properties"].as_object(), value.as_object()) {
        for (k, v) in object {
            if let Some(s) = props.get(k) {
                conforms(root, s, v, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            conforms(root, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Every tool with a structured-content schema (advertised as `outputSchema` or, for
/// list tools, kept out of the tool list) answers with `structuredContent` that matches
/// it (clients such as the Python SDK check the advertised ones).
#[tokio::test]
async fn structured_content_matches_the_output_schema() {
    let h = Harness::start().await;
    let calls = [
        ("list_catalogs", json!({})),
        ("list_schemas", json!({"catalog": "main"})),
        ("list_tables", json!({"catalog": "main", "schema": "sales"})),
        ("list_databases", json!({"limit": 2})),
        ("list_jobs", json!({})),
        ("get_job_runs", json!({"job_id": 11223344})),
        ("list_clusters", json!({})),
        ("list_delta_pipelines", json!({})),
        ("list_notebooks", json!({})),
        ("list_warehouses", json!({})),
        ("list_genie_spaces", json!({})),
        ("run_sql_query", json!({"query": "SELECT 1"})),
        ("get_query_history", json!({})),
        ("list_serving_endpoints", json!({})),
        (
            "get_cluster_events",
            json!({"cluster_id": "1108-090412-ab12cd34"}),
        ),
        (
            "get_pipeline_events",
            json!({"pipeline_id": "a12cd3e4-0ab1-1abc-1a2b-1a2bcd3e4fg5"}),
        ),
        (
            "list_volumes",
            json!({"catalog": "main", "schema": "sales"}),
        ),
        (
            "list_volume_files",
            json!({"path": "/Volumes/main/sales/landing"}),
        ),
    ];
    let registry = h.server.registry();
    let checked: Vec<&str> = calls.iter().map(|(t, _)| *t).collect();
    for (tool, args) in calls {
        let schema = registry.get(tool).unwrap().structured.clone();
        let schema = serde_json::to_value(schema.expect(tool).as_ref()).unwrap();
        let r = h.call(tool, args).await;
        assert!(!is_error(&r), "{tool}: {}", text(&r));
        let value = structured(&r);
        if let Err(e) = conforms(&schema, &schema, &value, tool) {
            panic!("{e}\n{value}");
        }
    }
    // Every tool with a schema is checked (get_sql_result shares run_sql_query's).
    for def in registry.iter() {
        if def.structured.is_some() && def.name() != "get_sql_result" {
            assert!(
                checked.contains(&def.name()),
                "{} declares an outputSchema but is not checked here",
                def.name()
            );
        }
    }
}

/// Every request the server sent to the workspace (the emulator's recording).
fn workspace_requests(h: &Harness) -> Vec<String> {
    h.emulator
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn a_small_result_comes_inline_in_one_request() {
    let h = Harness::start().await;
    h.emulator.script_statement(
        "small_rows",
        StatementScript::rows(&[("id", "BIGINT"), ("name", "STRING")], 3, 0),
    );
    // The first call also picks the warehouse (a listing, then cached).
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM small_rows"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let before = workspace_requests(&h).len();
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM small_rows"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let sent = workspace_requests(&h)[before..].to_vec();
    assert_eq!(
        sent,
        vec!["POST /api/2.0/sql/statements".to_string()],
        "one round trip: no chunk fetch, no download"
    );
    let s = structured(&r);
    assert_eq!(s["rows"].as_array().map(Vec::len), Some(3), "{s}");
    assert_eq!(s["rows"][2][0], json!(2));
    assert_eq!(s["total_row_count"], json!(3));
}

#[tokio::test]
async fn a_compressed_inline_result_is_paged_across_chunk_attachments() {
    let h = Harness::start().await;
    // 60,000 rows in 3 chunks: over the compression threshold, within the inline limit.
    h.emulator.script_statement(
        "mid_rows",
        StatementScript::rows(&[("id", "BIGINT"), ("v", "DOUBLE")], 60_000, 20_000),
    );
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT * FROM mid_rows", "max_rows": 5}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["rows"][4][0], json!(4), "{s}");
    let id = s["statement_id"].as_str().unwrap_or_default().to_string();
    assert!(
        crate::support::requests(&h.emulator, "GET", "/external-results/").is_empty(),
        "nothing downloaded from links"
    );
    // Rows of the third chunk: fetched as that chunk's attachment.
    let r = h
        .call(
            "get_sql_result",
            json!({"statement_id": id, "offset": 45_000, "limit": 2}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["rows"][0][0], json!(45_000), "{}", text(&r));
    let chunk_fetches = crate::support::requests(
        &h.emulator,
        "GET",
        &format!("/api/2.0/sql/statements/{id}/result/chunks/2"),
    );
    assert_eq!(chunk_fetches.len(), 1);
}

#[tokio::test]
async fn a_workspace_without_the_hybrid_disposition_gets_external_links_from_then_on() {
    let h = Harness::start_with(
        EmulatorConfig {
            hybrid_disposition: false,
            ..EmulatorConfig::default()
        },
        Settings::default(),
    )
    .await;
    h.emulator.script_statement(
        "small_rows",
        StatementScript::rows(&[("id", "BIGINT")], 3, 0),
    );
    for _ in 0..2 {
        let r = h
            .call(
                "run_sql_query",
                json!({"query": "SELECT * FROM small_rows"}),
            )
            .await;
        assert!(!is_error(&r), "{}", text(&r));
        assert_eq!(structured(&r)["rows"][2][0], json!(2));
    }
    let dispositions: Vec<Value> =
        crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements")
            .iter()
            .map(|r| r.body["disposition"].clone())
            .collect();
    assert_eq!(
        dispositions,
        vec![
            json!("INLINE_OR_EXTERNAL_LINKS"),
            json!("EXTERNAL_LINKS"),
            json!("EXTERNAL_LINKS")
        ],
        "refused once, then remembered"
    );
}
