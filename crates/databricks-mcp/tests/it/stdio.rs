//! The real binary over stdio: JSON-RPC on stdout only, garbage lines survived.

use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::Emulator;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

async fn read_response(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    id: i64,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("timed out waiting for a response")
            .unwrap()
            .expect("stdout closed");
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("non-JSON on stdout: {line:?}: {e}"));
        if v["id"] == json!(id) {
            return v;
        }
    }
}

#[tokio::test]
async fn stdio_session_survives_garbage_and_calls_tools() {
    let emulator = Emulator::start().await;
    let mut child = crate::support::spawn_stdio_server(&emulator, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let send = |v: Value| format!("{v}\n");
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})).as_bytes())
        .await
        .unwrap();
    let init = read_response(&mut lines, 1).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "databricks-mcp");
    assert!(
        init["result"]["instructions"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(b"this is not json\n{\"broken\": \n")
        .await
        .unwrap();
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":2,"method":"tools/list"})).as_bytes())
        .await
        .unwrap();
    let list = read_response(&mut lines, 2).await;
    assert!(list["result"]["tools"].as_array().unwrap().len() >= 12);
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_clusters","arguments":{}}})).as_bytes())
        .await
        .unwrap();
    let call = read_response(&mut lines, 3).await;
    assert_eq!(call["result"]["isError"], false, "{call}");
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope","arguments":{}}})).as_bytes())
        .await
        .unwrap();
    let unknown = read_response(&mut lines, 4).await;
    assert_eq!(unknown["error"]["code"], -32602);
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exits cleanly when stdin closes");
}

#[tokio::test]
async fn initializing_again_with_an_unknown_version_keeps_the_session_working() {
    // Found by fuzzing: a second `initialize` asking for a future version switched the
    // session to it, and `ping` became "method not found".
    let emulator = Emulator::start().await;
    let mut child = crate::support::spawn_stdio_server(&emulator, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let send = |v: Value| format!("{v}\n");
    let initialize = |id: i64, version: &str| {
        send(
            json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{"protocolVersion":version,"capabilities":{},"clientInfo":{"name":"t","version":"0"}}}),
        )
    };
    stdin
        .write_all(initialize(1, "2025-11-25").as_bytes())
        .await
        .unwrap();
    read_response(&mut lines, 1).await;
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(initialize(2, "4050-11-25").as_bytes())
        .await
        .unwrap();
    let again = read_response(&mut lines, 2).await;
    assert_eq!(again["result"]["protocolVersion"], "2025-11-25", "{again}");
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":3,"method":"ping"})).as_bytes())
        .await
        .unwrap();
    let ping = read_response(&mut lines, 3).await;
    assert_eq!(ping["result"], json!({}), "{ping}");
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":4,"method":"tools/list"})).as_bytes())
        .await
        .unwrap();
    let list = read_response(&mut lines, 4).await;
    assert!(list["result"].get("resultType").is_none(), "{list}");
    assert!(list["result"]["tools"].as_array().unwrap().len() >= 12);
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_broken_configuration_is_an_error_never_a_fallback() {
    let home = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("DATABRICKS_HOST", "https://dbc-1234.cloud.databricks.com"),
        ("DATABRICKS_HOST", "http://workspace.example.com"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
            .arg("serve")
            .env_clear()
            .env("HOME", home.path())
            .env(key, value)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{value}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("local workspace"),
            "no silent fall-back: {err}"
        );
        assert!(err.contains("DATABRICKS") || err.contains("https"), "{err}");
    }
}

/// The client closing stdin while a statement runs: the statement is cancelled upstream
/// and the process exits within a second (rmcp alone would wait 5 s for the handler).
#[tokio::test]
async fn closing_stdin_cancels_running_statements_and_exits_at_once() {
    use databricks_emulator::StatementScript;
    let emulator = Emulator::start().await;
    emulator.script_statement(
        "still-running",
        StatementScript::Pending {
            polls: 10_000,
            then: Box::new(StatementScript::Canceled),
        },
    );
    let mut child = crate::support::spawn_stdio_server(&emulator, Stdio::null());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let send = |v: Value| format!("{v}\n");
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})).as_bytes())
        .await
        .unwrap();
    read_response(&mut lines, 1).await;
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(send(json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_sql_query","arguments":{"query":"SELECT 'still-running'"}}})).as_bytes())
        .await
        .unwrap();
    // Wait until the statement was submitted.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never submitted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stdin);
    let closed = tokio::time::Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("the server is still running 5 s after stdin closed")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        closed.elapsed() < Duration::from_secs(1),
        "exited after {:?}",
        closed.elapsed()
    );
    let cancels: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/cancel"))
        .collect();
    assert_eq!(cancels.len(), 1, "the statement is cancelled upstream");
}
