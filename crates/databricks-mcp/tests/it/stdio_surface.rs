//! `serve --surface KIND:SPEC`: a managed-compatible surface over stdio, the real binary
//! driven by rmcp's child-process client.

use std::process::Stdio;

use databricks_emulator::Emulator;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;
use tokio::process::Command;

fn command(emulator: &Emulator, surface: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"));
    cmd.args(["serve", "--surface", surface])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat());
    cmd
}

/// An rmcp client of `serve --surface SURFACE` over stdio in front of `emulator`.
async fn connect(
    emulator: &Emulator,
    surface: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let (transport, _stderr) = TokioChildProcess::builder(command(emulator, surface))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

/// The names of the tools `client` lists.
async fn tool_names(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) -> Vec<String> {
    client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

#[tokio::test]
async fn vector_search_surface_over_stdio() {
    let emulator = Emulator::start().await;
    let client = connect(&emulator, "vector-search:main_catalog.docs").await;
    let names = tool_names(&client).await;
    assert_eq!(
        names,
        vec![
            "main_catalog__docs__en_wiki_index",
            "main_catalog__docs__faq_direct"
        ]
    );
    let mut params = CallToolRequestParams::new("main_catalog__docs__en_wiki_index")
        .with_arguments(json!({"query": "tokens"}).as_object().unwrap().clone());
    params.meta = Some(rmcp::model::RequestMetaObject(rmcp::model::MetaObject(
        json!({"num_results": 1, "columns": "title"})
            .as_object()
            .unwrap()
            .clone(),
    )));
    let r = client.call_tool(params).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let bodies: Vec<serde_json::Value> =
        crate::support::requests(&emulator, "POST", "en_wiki_index/query")
            .into_iter()
            .map(|r| r.body)
            .collect();
    assert_eq!(
        bodies,
        vec![
            json!({"columns": ["title"], "query_text": "tokens", "num_results": 1, "query_type": "ANN"})
        ]
    );
    // Tools of the full surface are not served here.
    let err = client
        .call_tool(CallToolRequestParams::new("list_catalogs"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    let _ = client.cancel().await;
}

#[tokio::test]
async fn sql_surface_over_stdio_and_bad_specs() {
    let emulator = Emulator::start().await;
    let client = connect(&emulator, "sql").await;
    let info = client.peer_info().unwrap();
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("poll_sql_result")
    );
    let names = tool_names(&client).await;
    assert_eq!(
        names,
        vec!["execute_sql", "execute_sql_read_only", "poll_sql_result"]
    );
    let _ = client.cancel().await;

    for bad in ["vector-search:main", "jobs", "genie:a/b"] {
        let out = command(&emulator, bad)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--surface"), "{bad}: {stderr}");
    }
}

/// `serve --surface genie-one`: Genie One over stdio, `_meta.warehouse_id` reaching the
/// API.
#[tokio::test]
async fn genie_one_surface_over_stdio() {
    let emulator = Emulator::start().await;
    let client = connect(&emulator, "genie-one").await;
    let names = tool_names(&client).await;
    assert_eq!(
        names,
        vec![
            "genie_ask",
            "genie_poll_response",
            "genie_get_query_result",
            "genie_cancel_response"
        ]
    );
    let mut params = CallToolRequestParams::new("genie_ask").with_arguments(
        json!({"question": "Sales by region?"})
            .as_object()
            .unwrap()
            .clone(),
    );
    params.meta = Some(rmcp::model::RequestMetaObject(rmcp::model::MetaObject(
        json!({"warehouse_id": "abcdef0123456789"})
            .as_object()
            .unwrap()
            .clone(),
    )));
    let r = client.call_tool(params).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let asked = r.structured_content.unwrap_or_default();
    // rmcp sends a progress token: the call follows the question to its answer.
    assert_eq!(asked["status"], "completed", "{asked}");
    let bodies: Vec<serde_json::Value> =
        crate::support::requests(&emulator, "POST", "/api/2.0/genie/one/responses")
            .into_iter()
            .map(|r| r.body)
            .collect();
    assert_eq!(
        bodies,
        vec![json!({"input": "Sales by region?", "warehouse_id": "abcdef0123456789"})]
    );
    let _ = client.cancel().await;
}
