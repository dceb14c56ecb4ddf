//! Bad input gets a clear error and the server keeps serving.

use rmcp::model::CallToolRequestParams;
use serde_json::json;

use crate::support::{Harness, is_error, text};

#[tokio::test]
async fn unknown_tool_is_a_protocol_error() {
    let h = Harness::start().await;
    let err = h
        .client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    assert!(!h.client.list_all_tools().await.unwrap().is_empty());
}

#[tokio::test]
async fn wrong_types_and_missing_arguments_are_tool_errors() {
    let h = Harness::start().await;
    let r = h
        .call("get_job_runs", json!({"job_id": "not a number"}))
        .await;
    assert!(is_error(&r));
    assert!(
        text(&r).contains("invalid arguments for get_job_runs"),
        "{}",
        text(&r)
    );
    let r = h.call("run_sql_query", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("missing field `query`"), "{}", text(&r));
    let r = h
        .call("list_schemas", json!({"catalog": "main", "bogus": 1}))
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("unknown field `bogus`"), "{}", text(&r));
    let r = h.call("list_catalogs", json!({})).await;
    assert!(!is_error(&r), "still serving: {}", text(&r));
}

#[tokio::test]
async fn a_5_mib_statement_runs_and_an_18_mib_argument_is_refused_clearly() {
    let h = Harness::start().await;
    // Databricks accepts statements up to 16 MiB: a long read reaches the warehouse.
    let long = "x".repeat(5 * 1024 * 1024);
    let _ = h
        .call(
            "run_sql_query",
            json!({"query": format!("SELECT '{long}'")}),
        )
        .await;
    assert_eq!(
        crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements").len(),
        1
    );
    let big = "x".repeat(18 * 1024 * 1024);
    let r = h
        .call("run_sql_query", json!({"query": format!("SELECT '{big}'")}))
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("limit"), "{}", text(&r));
    assert_eq!(
        crate::support::requests(&h.emulator, "POST", "/api/2.0/sql/statements").len(),
        1
    );
    let r = h.call("list_catalogs", json!({})).await;
    assert!(!is_error(&r));
}

#[tokio::test]
async fn bad_cursors_and_ids_are_explained() {
    let h = Harness::start().await;
    let r = h.call("list_databases", json!({"cursor": "%%%"})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("invalid cursor"), "{}", text(&r));
    let r = h
        .call("get_sql_result", json!({"statement_id": "../../etc"}))
        .await;
    assert!(is_error(&r));
    let r = h
        .call(
            "run_sql_query",
            json!({"query": "SELECT 1", "warehouse_id": "x'; --"}),
        )
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("list_warehouses"), "{}", text(&r));
}
