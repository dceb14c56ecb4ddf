//! The managed-compatible routes against the embedded local workspace (DataFusion +
//! Delta Lake) over streamable HTTP: the same REST client, real SQL and a real index.

use std::net::SocketAddr;

use clap::Parser;
use databricks_client::MapEnv;
use databricks_mcp::DatabricksMcp;
use databricks_mcp::cli::Cli;
use databricks_mcp::transport::{HttpOptions, http_router};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::managed_surfaces::{call, connect};
use crate::support::{is_error, structured, text};

#[tokio::test]
async fn managed_routes_answer_from_the_local_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::parse_from([
        "databricks-mcp",
        "--local",
        dir.path().to_str().unwrap(),
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
