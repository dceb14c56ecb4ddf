//! An agent written for Databricks' Genie One MCP server (tests/python/genie_one_agent_e2e.py,
//! the official Python SDK over streamable HTTP, `CallToolRequest`s with `_meta`
//! presets) against the real binary with client authentication; the emulator's request
//! log must show exactly the questions, conversations and preset warehouse that reached
//! the Genie One API, and nothing for the calls refused before it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::Emulator;
use serde_json::{Value, json};
use tokio::process::Command;

const CLIENT_TOKEN: &str = "agent-token-8c1d2e3f4a5b6c7d";
const META_WAREHOUSE: &str = "0123456789abcdef";

#[tokio::test]
async fn genie_one_agent_presets_reach_the_api_exactly() {
    let Some(python) = crate::python_managed::python_or_skip().await else {
        return;
    };
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("tokens");
    std::fs::write(&token_file, format!("{CLIENT_TOKEN}\n")).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .args(["serve", "--transport", "http", "--listen", "127.0.0.1:0"])
        .arg("--auth-token-file")
        .arg(&token_file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (url, log) = crate::support::wait_for_listening(&mut server).await;
    let base = url.trim_end_matches("/mcp").to_string();

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/genie_one_agent_e2e.py");
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        Command::new(&python)
            .arg(script)
            .args(["--base-url", &base, "--token", CLIENT_TOKEN])
            .args(["--warehouse-id", META_WAREHOUSE])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the agent script finished")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = || {
        format!(
            "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{}\n--- server stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            log.lock().unwrap().join("\n")
        )
    };
    assert!(out.status.success(), "{}", report());
    let summary: Value = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary line\n{}", report()));
    assert_eq!(summary["ok"], true, "{}", report());
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
        report()
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
    let _ = server.start_kill();
}
