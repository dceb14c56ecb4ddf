//! The managed-compatible routes against the embedded local workspace (DataFusion +
//! Delta Lake) over streamable HTTP: the same REST client, real SQL and a real index.

use std::net::SocketAddr;

use clap::Parser;
use databricks_client::MapEnv;
use databricks_mcp::DatabricksMcp;
use databricks_mcp::cli::Cli;
use databricks_mcp::transport::{HttpOptions, http_router};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::managed_surfaces::{call, connect};
use crate::support::{is_error, structured, text};

/// The server over a fresh local workspace (TPC-H at a tiny scale), on a loopback port.
async fn serve_local(dir: &std::path::Path) -> (SocketAddr, CancellationToken) {
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
    let server = DatabricksMcp::new(state);
    let shutdown = CancellationToken::new();
    let router = http_router(server, &HttpOptions::default(), shutdown.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    });
    (addr, shutdown)
}

#[tokio::test]
async fn managed_routes_answer_from_the_local_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, shutdown) = serve_local(dir.path()).await;
    let url = |path: &str| format!("http://{addr}{path}");

    // Databricks SQL, with the local warehouse preset in _meta.
    let sql = connect(&url("/api/2.0/mcp/sql"), None).await;
    let r = call(
        &sql,
        "execute_sql_read_only",
        json!({"query": "SELECT count(*) AS n FROM samples.tpch.nation"}),
        Some(json!({"warehouse_id": local_workspace::WAREHOUSE_ID})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["status"]["state"], "SUCCEEDED", "{s}");
    assert_eq!(s["result"]["data_array"], json!([["25"]]), "{s}");
    assert_eq!(s["warehouse_id"], local_workspace::WAREHOUSE_ID);
    let r = call(
        &sql,
        "execute_sql",
        json!({"query": "DELETE FROM samples.tpch.nation"}),
        None,
    )
    .await;
    assert!(is_error(&r), "read-only by default: {}", text(&r));
    let _ = sql.cancel().await;

    // Vector Search over the sample index, with presets.
    let vs = connect(&url("/api/2.0/mcp/vector-search/main/default"), None).await;
    let names: Vec<String> = vs
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, vec!["main__default__documents_index"]);
    let r = call(
        &vs,
        "main__default__documents_index",
        json!({"query": "orders and customers"}),
        Some(json!({"num_results": "2", "columns": "id,title", "include_score": true})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["columns"], json!(["id", "title", "score"]), "{s}");
    assert_eq!(s["result_count"], 2, "{s}");
    // Default columns: the index's synced columns, without the embedding vector and
    // the score.
    let r = call(
        &vs,
        "main__default__documents_index",
        json!({"query": "orders"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_eq!(s["columns"], json!(["id", "title", "body"]), "{s}");
    let _ = vs.cancel().await;
    shutdown.cancel();
}

/// Genie One answers a real question from the local workspace's Genie space (TPC-H):
/// the rows of its query are those the same SQL gives on the SQL route.
#[tokio::test]
async fn genie_one_answers_from_the_local_genie_space() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, shutdown) = serve_local(dir.path()).await;
    let url = |path: &str| format!("http://{addr}{path}");
    let genie = connect(&url("/api/2.0/mcp/genie"), None).await;
    let r = call(
        &genie,
        "genie_ask",
        json!({"question": "How many orders are there for each order priority?"}),
        Some(json!({"warehouse_id": local_workspace::WAREHOUSE_ID})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let asked = structured(&r);
    // rmcp sends a progress token: the call may follow the question to its end.
    assert!(
        asked["status"] == "in_progress" || asked["status"] == "completed",
        "{asked}"
    );
    let ids =
        json!({"conversation_id": asked["conversation_id"], "response_id": asked["response_id"]});
    let mut done = json!(null);
    // The first question may wait for samples.tpch to be generated.
    for _ in 0..60 {
        let r = call(&genie, "genie_poll_response", ids.clone(), None).await;
        assert!(!is_error(&r), "{}", text(&r));
        done = structured(&r);
        if done["status"] != "in_progress" {
            break;
        }
    }
    assert_eq!(done["status"], "completed", "{done}");
    let answer = done["final_answer"].as_str().unwrap();
    assert!(answer.contains("o_orderpriority"), "{answer}");
    assert!(answer.contains("1-URGENT"), "{answer}");
    assert!(
        done["progress_steps"][1]
            .as_str()
            .unwrap()
            .contains("TPC-H sales"),
        "{done}"
    );
    let item = &done["query_items"][0];
    let sql = item["sql"].as_str().unwrap();
    assert_eq!(
        sql,
        "SELECT o_orderpriority, count(*) AS order_count FROM samples.tpch.orders GROUP BY o_orderpriority ORDER BY o_orderpriority"
    );
    let r = call(
        &genie,
        "genie_get_query_result",
        json!({"conversation_id": asked["conversation_id"], "response_id": asked["response_id"], "item_id": item["item_id"]}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let result = structured(&r);
    assert_eq!(result["total_row_count"], 5, "{result}");
    assert_eq!(result["columns"][1]["name"], "order_count");
    // The same SQL on the SQL route gives the same rows.
    let sql_route = connect(&url("/api/2.0/mcp/sql"), None).await;
    let r = call(
        &sql_route,
        "execute_sql_read_only",
        json!({"query": sql}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let direct: Vec<Value> = structured(&r)["result"]["data_array"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| json!([row[0], row[1].as_str().unwrap().parse::<i64>().unwrap()]))
        .collect();
    assert_eq!(result["rows"], json!(direct));
    // A follow-up in the conversation keeps its table.
    let r = call(
        &genie,
        "genie_ask",
        json!({"question": "And by order status?", "conversation_id": asked["conversation_id"]}),
        None,
    )
    .await;
    let follow_up = structured(&r);
    let ids = json!({"conversation_id": follow_up["conversation_id"], "response_id": follow_up["response_id"]});
    let mut done = json!(null);
    for _ in 0..30 {
        done = structured(&call(&genie, "genie_poll_response", ids.clone(), None).await);
        if done["status"] != "in_progress" {
            break;
        }
    }
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        done["query_items"][0]["sql"]
            .as_str()
            .unwrap()
            .contains("GROUP BY o_orderstatus"),
        "{done}"
    );
    // What the spaces do not cover is said, not guessed.
    let r = call(
        &genie,
        "genie_ask",
        json!({"question": "What is the weather in Paris?"}),
        None,
    )
    .await;
    let vague = structured(&r);
    let ids =
        json!({"conversation_id": vague["conversation_id"], "response_id": vague["response_id"]});
    let mut done = json!(null);
    for _ in 0..30 {
        done = structured(&call(&genie, "genie_poll_response", ids.clone(), None).await);
        if done["status"] != "in_progress" {
            break;
        }
    }
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["query_items"], json!([]), "{done}");
    assert!(
        done["final_answer"]
            .as_str()
            .unwrap()
            .contains("samples.tpch.orders"),
        "{done}"
    );
    let _ = genie.cancel().await;

    // The Genie space itself, on its managed route: same reading, from its tables.
    let space_id = "10ca16e0000000000000000000000001";
    let space = connect(&url(&format!("/api/2.0/mcp/genie/{space_id}")), None).await;
    let tools: Vec<String> = space
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        tools,
        vec![
            format!("query_space_{space_id}"),
            format!("poll_response_{space_id}")
        ]
    );
    assert!(
        space.list_all_tools().await.unwrap()[0]
            .description
            .as_deref()
            .unwrap_or("")
            .contains("TPC-H sales"),
        "the space's title names the tool's data"
    );
    let r = call(
        &space,
        &format!("query_space_{space_id}"),
        json!({"query": "How many orders are there for each order priority?"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let answer = structured(&r);
    assert_eq!(answer["status"], "COMPLETED", "{answer}");
    assert_eq!(answer["queries"][0]["sql"], json!(sql), "{answer}");
    assert_eq!(answer["queries"][0]["rows"], result["rows"], "{answer}");
    let _ = space.cancel().await;
    let _ = sql_route.cancel().await;
    shutdown.cancel();
}
