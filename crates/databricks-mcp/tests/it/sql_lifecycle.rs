//! Statement lifecycle through the real binary over stdio: progress notifications
//! while a statement is queued, and a client cancel that reaches the warehouse.

use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::{Emulator, StatementScript};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

struct Stdio_ {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

async fn start(emulator: &Emulator) -> Stdio_ {
    let mut child = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
        .arg("serve")
        .env_clear()
        .env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut s = Stdio_ {
        _child: child,
        stdin,
        lines,
    };
    s.send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})).await;
    s.next().await;
    s.send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await;
    s
}

impl Stdio_ {
    async fn send(&mut self, v: Value) {
        self.stdin
            .write_all(format!("{v}\n").as_bytes())
            .await
            .unwrap();
    }
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .expect("timed out")
            .unwrap()
            .expect("closed");
        serde_json::from_str(&line).unwrap()
    }
}

#[tokio::test]
async fn progress_is_reported_while_a_statement_is_queued() {
    let emulator = Emulator::start().await;
    emulator.script_statement(
        "queued",
        StatementScript::pending(4, StatementScript::rows(&[("x", "INT")], 1, 10)),
    );
    let mut s = start(&emulator).await;
    let sent = std::time::Instant::now();
    s.send(
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
        "name":"run_sql_query","arguments":{"query":"SELECT x FROM queued"},
        "_meta":{"progressToken":"tok-1"}}}),
    )
    .await;
    let mut progress = Vec::new();
    let result = loop {
        let m = s.next().await;
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], "tok-1");
            if progress.is_empty() {
                assert!(
                    sent.elapsed() < Duration::from_secs(1),
                    "the first progress came {:?} after the call",
                    sent.elapsed()
                );
            }
            progress.push(m["params"].clone());
        } else if m["id"] == 7 {
            break m;
        }
    };
    assert_eq!(result["result"]["isError"], false, "{result}");
    assert!(progress.len() >= 3, "{progress:?}");
    let values: Vec<f64> = progress
        .iter()
        .map(|p| p["progress"].as_f64().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "progress increases: {values:?}"
    );
    assert!(
        progress[0]["message"].as_str().unwrap().contains("queued"),
        "{progress:?}"
    );
    // Submitted without the server-side wait, so progress and cancel are immediate.
    let posted = crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements");
    assert_eq!(posted[0].body["wait_timeout"], "0s", "{:?}", posted[0].body);
}

#[tokio::test]
async fn cancelling_the_call_cancels_the_statement_upstream() {
    let emulator = Emulator::start().await;
    emulator.script_statement(
        "endless",
        StatementScript::pending(1_000_000, StatementScript::Canceled),
    );
    let mut s = start(&emulator).await;
    s.send(
        json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{
        "name":"run_sql_query","arguments":{"query":"SELECT * FROM endless"}}}),
    )
    .await;
    // Let it submit and poll a little.
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9,"reason":"user"}}))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while emulator.cancelled_statements().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        emulator.cancelled_statements().len(),
        1,
        "the warehouse saw the cancel"
    );
    // The session goes on.
    s.send(json!({"jsonrpc":"2.0","id":10,"method":"tools/list"}))
        .await;
    loop {
        let m = s.next().await;
        if m["id"] == 10 {
            assert!(m["result"]["tools"].is_array());
            break;
        }
    }
}
