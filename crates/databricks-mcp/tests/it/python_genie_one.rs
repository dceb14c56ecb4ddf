//! An agent written for Databricks' Genie One MCP server (tests/python/genie_one_agent_e2e.py,
//! the official Python SDK over streamable HTTP, `CallToolRequest`s with `_meta`
//! presets) against the real binary with client authentication; the emulator's request
//! log must show exactly the questions, conversations and preset warehouse that reached
//! the Genie One API, and nothing for the calls refused before it.

use databricks_emulator::Emulator;
use serde_json::{Value, json};

use crate::python_managed::{AgentRun, META_WAREHOUSE, run_agent};

const CLIENT_TOKEN: &str = "agent-token-8c1d2e3f4a5b6c7d";

#[tokio::test]
async fn genie_one_agent_presets_reach_the_api_exactly() {
    let Some(python) = crate::python_managed::python_or_skip().await else {
        return;
    };
    let emulator = Emulator::start().await;
    let AgentRun { summary, report } =
        run_agent(&python, &emulator, "genie_one_agent_e2e.py", CLIENT_TOKEN).await;
    let cid = summary["conversation_id"].as_str().unwrap();
    let rid = summary["response_id"].as_str().unwrap();

    // Exactly these questions were asked, each on the preset warehouse; the refused calls
    // (no question, a bad _meta value) reached nothing.
    let asked: Vec<Value> =
        crate::support::requests(&emulator, "POST", "/api/2.0/genie/one/responses")
            .into_iter()
            .map(|r| r.body)
            .collect();
    assert_eq!(
        asked,
        vec![
            json!({"input": "What were total sales last month by region?", "warehouse_id": META_WAREHOUSE}),
            json!({"input": "And how does that compare to the month before?", "conversation_id": cid, "warehouse_id": META_WAREHOUSE}),
            json!({"input": "A slow question: revenue by product over ten years", "warehouse_id": META_WAREHOUSE}),
            json!({"input": "Anything?", "conversation_id": "0123456789abcdef0123456789abcdef", "warehouse_id": META_WAREHOUSE}),
        ],
        "{}",
        report
    );
    // The one cancel named the slow question; polls and the query result named the turn
    // they were for.
    let slow = &summary["slow"];
    let cancels: Vec<String> = crate::support::requests(&emulator, "POST", "/cancel")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        cancels,
        vec![format!(
            "/api/2.0/genie/one/conversations/{}/responses/{}/cancel",
            slow["conversation_id"].as_str().unwrap(),
            slow["response_id"].as_str().unwrap()
        )]
    );
    let results: Vec<String> = crate::support::requests(&emulator, "GET", "/query-result")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0].starts_with(&format!(
            "/api/2.0/genie/one/conversations/{cid}/responses/{rid}/items/"
        )),
        "{results:?}"
    );
    let polled: Vec<String> = crate::support::requests(&emulator, "GET", "/api/2.0/genie/one/")
        .into_iter()
        .map(|r| r.path)
        .filter(|p| !p.contains("/items/"))
        .collect();
    assert!(!polled.is_empty());
    let follow_up = summary["follow_up_response_id"].as_str().unwrap();
    for path in &polled {
        assert!(
            path == &format!("/api/2.0/genie/one/conversations/{cid}/responses/{rid}")
                || path == &format!("/api/2.0/genie/one/conversations/{cid}/responses/{follow_up}"),
            "{path}"
        );
    }
    // The agent's token authenticated it to this server only.
    for r in emulator.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", emulator.pat()).as_str())
        );
    }
}
