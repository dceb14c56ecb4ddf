//! The Genie One route (`/api/2.0/mcp/genie`) over streamable HTTP with the rmcp client:
//! against the emulator (ask with `_meta.warehouse_id`, poll, query result, follow-up,
//! cancel, bad input, exactly what reached the API), and against the local workspace,
//! where Genie answers a real question from its Genie space's TPC-H tables. Also the
//! recorded shapes of Databricks' own server (`tests/fixtures/genie_one/`).

use std::time::Duration;

use databricks_emulator::Emulator;
use databricks_mcp::Settings;
use databricks_mcp::transport::HttpOptions;
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::{Value, json};

use crate::managed_surfaces::{META_WAREHOUSE, SPACE_ID, call, connect, serve};
use crate::support::{is_error, structured, text};

const ROUTE: &str = "/api/2.0/mcp/genie";
const QUESTION: &str = "What were total sales last month by region?";

type Client = RunningService<RoleClient, ()>;

async fn names(client: &Client) -> Vec<String> {
    client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

/// Polls until the turn ends (each poll waits up to 10 s on the server).
async fn poll_to_end(client: &Client, turn: &Value) -> Value {
    let args = json!({
        "conversation_id": turn["conversation_id"],
        "response_id": turn["response_id"],
    });
    for _ in 0..30 {
        let r = call(client, "genie_poll_response", args.clone(), None).await;
        assert!(!is_error(&r), "{}", text(&r));
        let s = structured(&r);
        if s["status"] != "in_progress" {
            return s;
        }
        assert!(s["narration_instruction"].is_string(), "{s}");
    }
    panic!("the turn did not end: {turn}");
}

#[tokio::test]
async fn genie_one_route_asks_polls_and_reads_results() {
    let emulator = Emulator::start().await;
    // A question still running after 2 s is handed back to poll.
    let settings = Settings {
        sql_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    let served = serve(&emulator, settings, HttpOptions::default()).await;
    let client = connect(&served.url(ROUTE), None).await;
    assert_eq!(
        names(&client).await,
        vec![
            "genie_ask",
            "genie_poll_response",
            "genie_get_query_result",
            "genie_cancel_response"
        ]
    );
    let info = client.peer_info().unwrap();
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("genie_poll_response"),
        "{info:?}"
    );
    // A space's route is still the per-space surface.
    let space = connect(&served.url(&format!("{ROUTE}/{SPACE_ID}")), None).await;
    assert_eq!(
        names(&space).await,
        vec![
            format!("query_space_{SPACE_ID}"),
            format!("poll_response_{SPACE_ID}")
        ]
    );
    let _ = space.cancel().await;

    // Ask on the preset warehouse. The rmcp client sends a progress token with every
    // request, so the call follows the question to its answer, as Databricks' server
    // does for such hosts (without one it answers `in_progress` at once: the Python
    // agent test).
    let r = call(
        &client,
        "genie_ask",
        json!({"question": QUESTION}),
        Some(json!({"warehouse_id": META_WAREHOUSE})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let asked = structured(&r);
    assert_eq!(asked["status"], "completed", "{asked}");
    assert_eq!(asked["warehouse_id"], META_WAREHOUSE);
    let cid = asked["conversation_id"].as_str().unwrap().to_string();

    // Poll to the answer: the final answer, its progress and its query.
    let done = poll_to_end(&client, &asked).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["response_id"], asked["response_id"]);
    assert!(
        done["final_answer"].as_str().unwrap().contains("EMEA"),
        "{done}"
    );
    assert_eq!(
        done["progress_steps"],
        json!(["Looking for sales data in main.sales.orders"])
    );
    assert!(done.get("narration_instruction").is_none(), "{done}");
    let item = &done["query_items"][0];
    assert!(
        item["sql"].as_str().unwrap().starts_with("SELECT region"),
        "{done}"
    );

    // The query's rows, typed.
    let r = call(
        &client,
        "genie_get_query_result",
        json!({
            "conversation_id": cid,
            "response_id": done["response_id"],
            "item_id": item["item_id"],
        }),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let rows = structured(&r);
    assert_eq!(rows["columns"][0]["name"], "region");
    assert_eq!(rows["columns"][1]["type_name"], "DECIMAL");
    assert_eq!(rows["rows"][0], json!(["EMEA", 1203456.78]));
    assert_eq!(rows["total_row_count"], 4);
    assert_eq!(rows["truncated"], false);
    assert_eq!(rows["sql"], item["sql"]);
    assert!(text(&r).contains("region,total_sales"), "{}", text(&r));

    // A follow-up stays in the conversation (no warehouse asked for: none sent).
    let r = call(
        &client,
        "genie_ask",
        json!({"question": "And the month before?", "conversation_id": cid}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let follow_up = structured(&r);
    assert_eq!(follow_up["conversation_id"], json!(cid));
    assert!(follow_up.get("warehouse_id").is_none(), "{follow_up}");

    // A slow question: handed back in progress when the call's time is up, with what to
    // do next; then cancelled.
    let r = call(
        &client,
        "genie_ask",
        json!({"question": "A slow question about revenue"}),
        None,
    )
    .await;
    let slow = structured(&r);
    assert_eq!(slow["status"], "in_progress", "{slow}");
    assert!(slow["narration_instruction"].is_string(), "{slow}");
    assert!(text(&r).contains("genie_poll_response"), "{}", text(&r));
    let r = call(
        &client,
        "genie_cancel_response",
        json!({"conversation_id": slow["conversation_id"], "response_id": slow["response_id"]}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let cancelled = structured(&r);
    assert_eq!(cancelled["status"], "incomplete", "{cancelled}");
    assert_eq!(cancelled["incomplete_reason"], "cancelled");
    assert!(text(&r).contains("cancelled"), "{}", text(&r));

    // Exactly these questions reached Genie One, with the preset warehouse on the first
    // only.
    let bodies: Vec<Value> = crate::support::requests(&emulator, "POST", "/api/2.0/genie/one/")
        .into_iter()
        .map(|r| json!({"path": r.path, "body": r.body}))
        .collect();
    let slow_cancel = format!(
        "/api/2.0/genie/one/conversations/{}/responses/{}/cancel",
        slow["conversation_id"].as_str().unwrap(),
        slow["response_id"].as_str().unwrap()
    );
    assert_eq!(
        bodies,
        vec![
            json!({"path": "/api/2.0/genie/one/responses", "body": {"input": QUESTION, "warehouse_id": META_WAREHOUSE}}),
            json!({"path": "/api/2.0/genie/one/responses", "body": {"input": "And the month before?", "conversation_id": cid}}),
            json!({"path": "/api/2.0/genie/one/responses", "body": {"input": "A slow question about revenue"}}),
            json!({"path": slow_cancel, "body": {}}),
        ]
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn genie_one_bad_input_gets_clear_errors() {
    let emulator = Emulator::start().await;
    let settings = Settings {
        default_warehouse_id: Some("abcdef0123456789".into()),
        ..Settings::default()
    };
    let served = serve(&emulator, settings, HttpOptions::default()).await;
    let client = connect(&served.url(ROUTE), None).await;
    let error = |r: &rmcp::model::CallToolResult, needle: &str| {
        assert!(is_error(r), "expected an error: {}", text(r));
        assert!(text(r).contains(needle), "{needle:?} not in {}", text(r));
    };
    // Missing and unknown arguments, blank questions, ids that cannot be ids.
    error(
        &call(&client, "genie_ask", json!({}), None).await,
        "question",
    );
    error(
        &call(&client, "genie_ask", json!({"query": "x"}), None).await,
        "query",
    );
    error(
        &call(&client, "genie_ask", json!({"question": "  "}), None).await,
        "question is empty",
    );
    error(
        &call(
            &client,
            "genie_poll_response",
            json!({"conversation_id": "c"}),
            None,
        )
        .await,
        "response_id",
    );
    error(
        &call(
            &client,
            "genie_get_query_result",
            json!({"conversation_id": "c", "response_id": "r"}),
            None,
        )
        .await,
        "item_id",
    );
    error(
        &call(
            &client,
            "genie_poll_response",
            json!({"conversation_id": "a b", "response_id": "r"}),
            None,
        )
        .await,
        "conversation_id",
    );
    error(
        &call(
            &client,
            "genie_ask",
            json!({"question": "x"}),
            Some(json!({"warehouse_id": 42})),
        )
        .await,
        "_meta.warehouse_id",
    );
    // What the workspace does not know: an unknown conversation, response, warehouse
    // or query item, each with what to do.
    let unknown = "0123456789abcdef0123456789abcdef";
    let r = call(
        &client,
        "genie_ask",
        json!({"question": "x", "conversation_id": unknown}),
        None,
    )
    .await;
    error(&r, unknown);
    error(&r, "omit it to start a new conversation");
    let r = call(
        &client,
        "genie_poll_response",
        json!({"conversation_id": unknown, "response_id": unknown}),
        None,
    )
    .await;
    error(&r, "exactly as genie_ask returned them");
    let r = call(
        &client,
        "genie_ask",
        json!({"question": "x"}),
        Some(json!({"warehouse_id": "fedcba9876543210"})),
    )
    .await;
    error(&r, "fedcba9876543210");
    let r = call(&client, "genie_ask", json!({"question": QUESTION}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let turn = structured(&r);
    // The operator's default warehouse when the request presets none.
    assert_eq!(turn["warehouse_id"], "abcdef0123456789");
    let r = call(
        &client,
        "genie_get_query_result",
        json!({"conversation_id": turn["conversation_id"], "response_id": turn["response_id"], "item_id": unknown}),
        None,
    )
    .await;
    error(&r, "genie_poll_response");
    // A failed turn is an answer with status failed, not a failed call.
    let r = call(
        &client,
        "genie_ask",
        json!({"question": "Please FAIL"}),
        None,
    )
    .await;
    let failing = structured(&r);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = poll_to_end(&client, &failing).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("could not answer"),
        "{done}"
    );
    // Unknown tools of other surfaces are protocol errors here.
    let err = client
        .call_tool(rmcp::model::CallToolRequestParams::new("run_sql_query"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
    let _ = client.cancel().await;
}

/// The recorded shapes of Databricks' Genie One MCP server: our tools take the same
/// arguments and answer at least the same fields.
#[tokio::test]
async fn genie_one_matches_the_recorded_managed_server() {
    let recorded: Value =
        serde_json::from_str(include_str!("../fixtures/genie_one/managed_server.json")).unwrap();
    let emulator = Emulator::start().await;
    let served = serve(&emulator, Settings::default(), HttpOptions::default()).await;
    let client = connect(&served.url(ROUTE), None).await;
    let tools = client.list_all_tools().await.unwrap();
    let expected: Vec<&str> = recorded["tools"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut listed: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    listed.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(listed, expected_sorted);
    for tool in &tools {
        let spec = &recorded["tools"][tool.name.as_ref()];
        let schema = serde_json::to_value(tool.input_schema.as_ref()).unwrap();
        let mut properties: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        properties.sort_unstable();
        let mut arguments: Vec<&str> = spec["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        arguments.sort_unstable();
        assert_eq!(properties, arguments, "{}", tool.name);
        assert_eq!(schema["required"], spec["required"], "{}", tool.name);
    }
    // The fields a completed turn and a query result carry.
    let r = call(&client, "genie_ask", json!({"question": QUESTION}), None).await;
    let asked = structured(&r);
    for key in recorded["tools"]["genie_ask"]["structured"]
        .as_array()
        .unwrap()
    {
        assert!(
            asked.get(key.as_str().unwrap()).is_some(),
            "{key} in {asked}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = poll_to_end(&client, &asked).await;
    for key in recorded["tools"]["genie_poll_response"]["structured_completed"]
        .as_array()
        .unwrap()
    {
        assert!(done.get(key.as_str().unwrap()).is_some(), "{key} in {done}");
    }
    for key in recorded["query_item"].as_array().unwrap() {
        assert!(
            done["query_items"][0].get(key.as_str().unwrap()).is_some(),
            "{key} in {done}"
        );
    }
    let r = call(
        &client,
        "genie_get_query_result",
        json!({"conversation_id": done["conversation_id"], "response_id": done["response_id"], "item_id": done["query_items"][0]["item_id"]}),
        None,
    )
    .await;
    let rows = structured(&r);
    for key in recorded["tools"]["genie_get_query_result"]["structured"]
        .as_array()
        .unwrap()
    {
        assert!(rows.get(key.as_str().unwrap()).is_some(), "{key} in {rows}");
    }
    let _ = client.cancel().await;
}

/// A client that follows progress gets Genie's steps as progress notifications; when it
/// cancels the call, the question is cancelled in Genie One too (the real binary over
/// stdio, raw JSON-RPC).
#[tokio::test]
async fn cancelling_a_followed_question_cancels_it_upstream() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let emulator = Emulator::start().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["serve", "--surface", "genie-one"])
        .env_clear()
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |v: Value| {
        stdin.write_all(format!("{v}\n").as_bytes()).await.unwrap();
    };
    send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})).await;
    send(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).await;
    send(
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
            "name": "genie_ask",
            "arguments": {"question": "A slow question about revenue"},
            "_meta": {"progressToken": "p-7"}
        }}),
    )
    .await;
    // Genie's first step arrives as progress.
    let progress = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("a message in time")
            .unwrap()
            .expect("the server is up");
        let m: Value = serde_json::from_str(&line).unwrap();
        if m["method"] == "notifications/progress" {
            break m;
        }
        assert_ne!(m["id"], 7, "the call ended early: {m}");
    };
    assert_eq!(progress["params"]["progressToken"], "p-7");
    assert_eq!(
        progress["params"]["message"],
        "Looking for sales data in main.sales.orders"
    );
    send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let cancelled = loop {
        let cancels = crate::support::requests(&emulator, "POST", "/cancel");
        if !cancels.is_empty() || tokio::time::Instant::now() > deadline {
            break cancels;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let asked = crate::support::requests(&emulator, "POST", "/api/2.0/genie/one/responses");
    assert_eq!(asked.len(), 1);
    assert_eq!(cancelled.len(), 1, "Genie One saw the cancel");
    assert!(
        cancelled[0]
            .path
            .starts_with("/api/2.0/genie/one/conversations/"),
        "{}",
        cancelled[0].path
    );
}
