//! An agent written for Databricks' managed MCP servers (tests/python/managed_agent_e2e.py,
//! the official Python SDK, `CallToolRequest` with `name`, `arguments` and `_meta`) against
//! the real binary over streamable HTTP with client authentication; the emulator's
//! request log must show exactly the preset warehouse and exactly the preset Vector
//! Search query parameters.
//!
//! Like python_sdk.rs: the interpreter is `$DATABRICKS_MCP_PYTHON`, else the repository's
//! `.venv`, else `python3`, with the SDK installed; without it the test fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use databricks_emulator::Emulator;
use serde_json::{Value, json};
use tokio::process::Command;

const CLIENT_TOKEN: &str = "agent-token-3f9a1c7e5b2d4086";
pub(crate) const META_WAREHOUSE: &str = "0123456789abcdef";

fn python() -> String {
    // `$DATABRICKS_MCP_PYTHON`, else the venv `scripts/setup-python.sh` makes at the
    // repository's root, else `python3`.
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    std::env::var("DATABRICKS_MCP_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| venv.exists().then(|| venv.display().to_string()))
        .unwrap_or_else(|| "python3".to_string())
}

pub(crate) async fn python_or_skip() -> Option<String> {
    let python = python();
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, mcp; assert m.version('mcp').startswith('2.')",
        ])
        .stdin(Stdio::null())
        .output()
        .await;
    match probe {
        Ok(out) if out.status.success() => Some(python),
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            };
            // A missing SDK fails: a test that passes without running checks nothing.
            panic!(
                "the Python MCP SDK 2.x is not usable with {python:?}: {why}. \
                 Run `bash scripts/setup-python.sh`."
            )
        }
    }
}

/// What an agent script printed last (its summary), and its output with the server's log
/// for assertion messages.
pub(crate) struct AgentRun {
    pub summary: Value,
    pub report: String,
}

/// Serves the binary over HTTP in front of `emulator` with client authentication (`token`)
/// and runs `tests/python/<script>` against it (`--base-url`, `--token`, `--warehouse-id
/// META_WAREHOUSE`); fails unless the script exits 0 with an `ok` summary line.
pub(crate) async fn run_agent(
    python: &str,
    emulator: &Emulator,
    script: &str,
    token: &str,
) -> AgentRun {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("tokens");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
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

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(script);
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        Command::new(python)
            .arg(script)
            .args(["--base-url", &base, "--token", token])
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
    let report = format!(
        "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{}\n--- server stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        log.lock().unwrap().join("\n")
    );
    assert!(out.status.success(), "{report}");
    let summary: Value = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary line\n{report}"));
    assert_eq!(summary["ok"], true, "{report}");
    AgentRun { summary, report }
}

#[tokio::test]
async fn managed_agent_presets_reach_the_api_exactly() {
    let Some(python) = python_or_skip().await else {
        return;
    };
    let emulator = Emulator::start().await;
    let AgentRun { report, .. } =
        run_agent(&python, &emulator, "managed_agent_e2e.py", CLIENT_TOKEN).await;

    // Exactly the preset warehouse ran the statement.
    let statements = crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements");
    let warehouses: Vec<&Value> = statements.iter().map(|r| &r.body["warehouse_id"]).collect();
    assert_eq!(warehouses, vec![&json!(META_WAREHOUSE)], "{}", report);

    // Exactly the preset query parameters reached Vector Search, once through the
    // vector-search route and once through the AI Search route (the invalid presets
    // reached nothing).
    let queries: Vec<Value> = crate::support::requests(&emulator, "POST", "/query")
        .into_iter()
        .map(|r| {
            assert_eq!(
                r.path,
                "/api/2.0/vector-search/indexes/main_catalog.docs.en_wiki_index/query"
            );
            r.body
        })
        .collect();
    assert_eq!(queries.len(), 2, "{queries:?}");
    for q in &queries {
        assert_eq!(
            q,
            &json!({
                "columns": ["id", "title", "text"],
                "query_text": "How do I rotate a personal access token?",
                "num_results": 3,
                "filters_json": q["filters_json"].clone(),
                "query_type": "HYBRID",
                "score_threshold": 0.5,
                "reranker": {"model": "databricks_reranker", "parameters": {"columns_to_rerank": ["title", "text"]}},
            })
        );
        let filters: Value = serde_json::from_str(q["filters_json"].as_str().unwrap()).unwrap();
        assert_eq!(filters, json!({"lang": "en", "updated_year >=": 2023}));
    }

    // The agent's token authenticated it to this server only.
    for r in emulator.requests() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", emulator.pat()).as_str())
        );
    }
}
