//! `databricks-mcp chat` end to end: the binary, a scripted OpenAI-compatible model over
//! real HTTP on loopback (streamed answers, tool calls whose arguments arrive in pieces),
//! and the local workspace's tools in-process.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the scripted model received, request by request.
type Seen = Arc<Mutex<Vec<Value>>>;

#[derive(Clone)]
struct Script {
    seen: Seen,
    /// Answer 429 to the first request.
    throttle_first: bool,
}

/// The scripted model: a user question with run_sql_query offered → a call to it (or, if
/// the question says "malformed", a call whose arguments are not JSON); a tool result →
/// "There are N orders." with the first number of the result.
async fn completions(State(script): State<Script>, Json(body): Json<Value>) -> Response {
    let first = {
        let mut seen = script.seen.lock().unwrap();
        seen.push(body.clone());
        seen.len() == 1
    };
    if script.throttle_first && first {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response();
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or_default();
    let offers_sql = body["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "run_sql_query"));
    let text_of = |m: &Value| m["content"].as_str().unwrap_or("").to_string();
    let (content, call): (Option<String>, Option<String>) = match last["role"].as_str() {
        Some("user") if offers_sql && text_of(&last).contains("malformed") => {
            (None, Some("{not json".into()))
        }
        Some("user") if offers_sql && text_of(&last).contains("slow") => (
            None,
            // 6000³ rows, each one computed (a count alone would be answered from sizes).
            Some(r#"{"query": "SELECT count(DISTINCT a.l_orderkey * 7 + b.l_partkey * 3 + c.l_suppkey) FROM samples.tpch.lineitem a, samples.tpch.lineitem b, samples.tpch.lineitem c"}"#.into()),
        ),
        Some("user") if offers_sql => (
            None,
            Some(r#"{"query": "SELECT count(*) AS orders FROM samples.tpch.orders"}"#.into()),
        ),
        Some("tool") => {
            let result = text_of(&last);
            let number: String = result
                .split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
                .unwrap_or("no")
                .to_string();
            if result.contains("not valid JSON") {
                (Some("The tool call was malformed.".into()), None)
            } else {
                (Some(format!("There are {number} orders.")), None)
            }
        }
        _ => (Some("Hello from the scripted model.".into()), None),
    };
    if body["stream"] != json!(true) {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(arguments) = &call {
            message["tool_calls"] = json!([{"id": "call_1", "type": "function", "function": {"name": "run_sql_query", "arguments": arguments}}]);
        }
        let finish = if call.is_some() { "tool_calls" } else { "stop" };
        return Json(
            json!({"choices": [{"index": 0, "message": message, "finish_reason": finish}]}),
        )
        .into_response();
    }
    // Streamed: text in two pieces, a tool call's arguments in two pieces.
    let mut events = Vec::new();
    if let Some(text) = &content {
        let (a, b) = text.split_at(text.len() / 2);
        for piece in [a, b] {
            events.push(json!({"choices": [{"index": 0, "delta": {"content": piece}}]}));
        }
        events.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    }
    if let Some(arguments) = &call {
        let (a, b) = arguments.split_at(arguments.len() / 2);
        events.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "run_sql_query", "arguments": a}}]}}]}));
        events.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": b}}]}}]}));
        events.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}));
    }
    let mut sse = String::new();
    for e in events {
        sse.push_str(&format!("data: {e}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], sse).into_response()
}

async fn scripted_model(throttle_first: bool) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(completions))
        .with_state(Script {
            seen: seen.clone(),
            throttle_first,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/v1"), seen)
}

/// Runs `databricks-mcp chat ARGS` with only HOME, PATH and `env` set (bounded: 120 s).
async fn run_chat(
    home: &std::path::Path,
    args: &[String],
    env: &[(&str, String)],
) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_databricks-mcp"));
    cmd.arg("chat")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("chat did not finish within 120 s")
        .unwrap()
}

/// The `--json` transcript of a chat that succeeded.
fn transcript(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// `chat --local DIR/workspace --model-url URL --prompt PROMPT --json`.
async fn chat(url: &str, prompt: &str) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");
    let mut args = strings(&["--local"]);
    args.push(workspace.display().to_string());
    args.extend(strings(&[
        "--local-scale-factor",
        "0.001",
        "--model-url",
        url,
        "--prompt",
        prompt,
        "--json",
    ]));
    let output = run_chat(dir.path(), &args, &[]).await;
    (output, dir)
}

#[tokio::test]
async fn a_question_runs_sql_through_the_model_and_answers() {
    let (url, seen) = scripted_model(true).await;
    let (out, _dir) = chat(&url, "How many orders are there?").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let transcript: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        transcript["answer"], "There are 1500 orders.",
        "{transcript}"
    );
    assert_eq!(transcript["tool_calls"][0]["name"], "run_sql_query");
    assert_eq!(transcript["tool_calls"][0]["is_error"], false);
    assert!(
        stderr.contains("run_sql_query(query=SELECT count(*)"),
        "{stderr}"
    );

    let seen = seen.lock().unwrap().clone();
    // The 429 was retried: three requests for two completions.
    assert_eq!(seen.len(), 3, "{seen:?}");
    let first = &seen[1];
    assert_eq!(first["tool_choice"], "auto");
    assert_eq!(first["stream"], true);
    let tool = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "run_sql_query")
        .unwrap();
    assert_eq!(tool["type"], "function");
    assert_eq!(
        tool["function"]["parameters"]["required"],
        json!(["query"]),
        "the tool is offered with its schema"
    );
    // The tool's result reached the model as a `tool` message answering the call.
    let second = seen[2]["messages"].as_array().unwrap();
    let tool_message = second.last().unwrap();
    assert_eq!(tool_message["role"], "tool");
    assert_eq!(tool_message["tool_call_id"], "call_1");
    assert!(
        tool_message["content"].as_str().unwrap().contains("1500"),
        "{tool_message}"
    );
    assert_eq!(second[0]["role"], "system");
}

#[tokio::test]
async fn a_malformed_tool_call_is_told_back_to_the_model() {
    let (url, seen) = scripted_model(false).await;
    let (out, _dir) = chat(&url, "Make a malformed call").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let transcript: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(transcript["answer"], "The tool call was malformed.");
    assert_eq!(transcript["tool_calls"][0]["is_error"], true);
    let seen = seen.lock().unwrap().clone();
    let told = seen[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(
        told["content"].as_str().unwrap().contains("not valid JSON"),
        "{told}"
    );
}

#[tokio::test]
async fn a_model_that_fails_is_a_clear_error() {
    // Nothing listens there: a clear message and a failure status, no panic.
    let (out, _dir) = chat("http://127.0.0.1:9/v1", "hello").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("databricks-mcp chat: the model at http://127.0.0.1:9/v1 failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The interactive session in a real terminal (tmux): a question with a streamed answer
/// and a tool line, Ctrl-C during a long query cancels the turn, `/exit` ends it.
// Multi-threaded: the test blocks its thread while the scripted model answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interactive_session_in_a_terminal() {
    use std::process::Command;
    assert!(
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "tmux is needed for this test: apt-get install tmux (.ci/run installs it)"
    );
    let (url, _seen) = scripted_model(false).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let session = format!("dbx-chat-{}", std::process::id());
    let command = format!(
        "env -i HOME={} PATH=/usr/bin:/bin {} chat --local {} --local-scale-factor 0.001 --model-url {url}; sleep 30",
        home.display(),
        env!("CARGO_BIN_EXE_databricks-mcp"),
        dir.path().join("workspace").display(),
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().expect("tmux runs");
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "50",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .args(["kill-session", "-t", &self.0])
                .output();
        }
    }
    let _kill = Kill(session.clone());
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    let wait_for = |needle: &str, seconds: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let s = screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "waited for {needle:?}:\n{s}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    wait_for("Chatting with", 60);
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "How many orders are there?",
        "Enter",
    ]);
    let s = wait_for("There are 1500 orders.", 60);
    assert!(
        s.contains("✓ run_sql_query(query=SELECT count(*) AS orders"),
        "{s}"
    );

    tmux(&["send-keys", "-t", &session, "A slow question", "Enter"]);
    wait_for("⏺ run_sql_query(query=SELECT count(DISTINCT", 30);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let cancelled_at = std::time::Instant::now();
    tmux(&["send-keys", "-t", &session, "C-c"]);
    wait_for("(cancelled", 10);
    assert!(cancelled_at.elapsed() < std::time::Duration::from_secs(3));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    tmux(&["send-keys", "-t", &session, "/exit", "Enter"]);
    // The chat ended: the shell runs the `sleep` after it, the prompt is gone.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let after = tmux(&[
        "list-panes",
        "-t",
        &session,
        "-F",
        "#{pane_current_command}",
    ]);
    let current = String::from_utf8_lossy(&after.stdout).into_owned();
    assert!(
        current.contains("sleep"),
        "the chat did not exit on /exit: {current}\n{}",
        screen()
    );
}

/// Against a Databricks workspace (the emulator over loopback HTTP): the model is a Model
/// Serving chat endpoint called with the workspace's credentials; its scripted model asks
/// for run_sql_query, the statement runs on the warehouse, and the answer quotes the result.
#[tokio::test]
async fn a_serving_endpoint_answers_with_the_workspace_tools() {
    let emulator = databricks_emulator::Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABRICKS_HOST", emulator.base_url()),
        ("DATABRICKS_TOKEN", emulator.pat().to_string()),
    ];
    let run = |args: &[&str]| {
        let args = strings(args);
        let (home, env) = (dir.path().to_path_buf(), env.clone());
        async move { run_chat(&home, &args, &env).await }
    };
    // No model: the workspace's chat endpoints are listed, and how to pick one.
    let out = run(&[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--model NAME") && stderr.contains("databricks-claude-sonnet-4"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("text-embedding"),
        "only chat endpoints: {stderr}"
    );

    let out = run(&[
        "--model",
        "databricks-claude-sonnet-4",
        "--prompt",
        "How many orders are there?",
        "--json",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let transcript: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        transcript["answer"]
            .as_str()
            .unwrap()
            .starts_with("There are"),
        "{transcript}"
    );
    assert_eq!(transcript["tool_calls"][0]["name"], "run_sql_query");
    let statements = crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements");
    assert_eq!(
        statements[0].body["statement"],
        "SELECT count(*) AS orders FROM main.sales.orders"
    );
    let invocations = crate::support::requests(
        &emulator,
        "POST",
        "/serving-endpoints/databricks-claude-sonnet-4/invocations",
    );
    assert_eq!(invocations.len(), 2, "a tool call, then the answer");
    assert!(
        invocations[0].body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "run_sql_query")
    );
    assert_eq!(
        invocations[1].body["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["role"],
        "tool"
    );
}

/// `--server-command` (stdio) and `--server` (streamable HTTP): the chat is a general MCP
/// client, and the same question gets the same answer through another server process.
#[tokio::test]
async fn the_tools_of_another_mcp_server_work_the_same() {
    let (url, _seen) = scripted_model(false).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let workspace = dir.path().join("workspace");
    let bin = env!("CARGO_BIN_EXE_databricks-mcp");
    let chat = |extra: Vec<String>| {
        let mut args = strings(&[
            "--model-url",
            &url,
            "--prompt",
            "How many orders are there?",
            "--json",
            // The chat's own workspace is the local one too; its tools are not used.
            "--local",
        ]);
        args.push(dir.path().join("chat-workspace").display().to_string());
        // --server-command takes the rest of the command line: last.
        args.extend(extra);
        let home = home.clone();
        async move { run_chat(&home, &args, &[]).await }
    };
    let ws = workspace.to_str().unwrap().to_string();
    let out = chat(vec![
        "--server-command".into(),
        bin.into(),
        "serve".into(),
        "--local".into(),
        ws.clone(),
        "--local-scale-factor".into(),
        "0.001".into(),
    ])
    .await;
    assert_eq!(transcript(&out)["answer"], "There are 1500 orders.");

    let mut server = tokio::process::Command::new(bin)
        .args([
            "serve",
            "--transport",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--local",
            &ws,
        ])
        .args(["--local-scale-factor", "0.001"])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (mcp_url, _log) = crate::support::wait_for_listening(&mut server).await;
    let out = chat(vec!["--server".into(), mcp_url]).await;
    assert_eq!(transcript(&out)["answer"], "There are 1500 orders.");
}

/// `--local-model-url`: the local workspace serves the model as its Model Serving chat
/// endpoint, so `--model local-model` goes the Databricks way (invocations on the
/// workspace, which forwards) with no account at all.
#[tokio::test]
async fn the_local_workspace_serves_a_configured_model() {
    let (url, seen) = scripted_model(false).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut args = strings(&["--local"]);
    args.push(dir.path().join("workspace").display().to_string());
    args.extend(strings(&[
        "--local-scale-factor",
        "0.001",
        "--local-model-url",
        &url,
        "--model",
        "local-model",
        "--prompt",
        "How many orders are there?",
        "--json",
    ]));
    let transcript = transcript(&run_chat(&home, &args, &[]).await);
    assert_eq!(
        transcript["answer"], "There are 1500 orders.",
        "{transcript}"
    );
    assert_eq!(transcript["model"], "serving endpoint local-model");
    // The workspace asked the model server (without streaming) twice.
    assert_eq!(seen.lock().unwrap().len(), 2);
}
