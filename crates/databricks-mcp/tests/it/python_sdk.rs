//! The official Python MCP SDK as the client (tests/python/mcp_client_e2e.py) against the
//! real binary, over stdio and streamable HTTP, in legacy (initialize) and auto
//! (server/discover, 2026-07-28) mode, with the Databricks emulator behind the server.
//!
//! The interpreter is `$DATABRICKS_MCP_PYTHON`, else `.venv/bin/python` at the repository's
//! root (`scripts/setup-python.sh`), else `python3`; for the SDK 1.x checks,
//! `$DATABRICKS_MCP_PYTHON1`, else `.venv-mcp1/bin/python` (the same script makes it).
//! Without the SDKs the tests fail.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use databricks_emulator::Emulator;
use serde_json::Value;
use tokio::process::{Child, Command};

/// The warehouse the script presets with `_meta.warehouse_id` on one run_sql_query call.
const META_WAREHOUSE_ID: &str = "0123456789abcdef";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, Debug)]
enum Transport {
    Stdio,
    Http,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Legacy,
    Auto,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Legacy => "legacy",
            Mode::Auto => "auto",
        }
    }

    fn protocol_version(self) -> &'static str {
        match self {
            Mode::Legacy => "2025-11-25",
            Mode::Auto => "2026-07-28",
        }
    }
}

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

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/mcp_client_e2e.py")
}

/// Whether the interpreter has the MCP SDK 2.x; `Err` says why not.
async fn sdk_available(python: &str) -> Result<String, String> {
    let probe = "import importlib.metadata as m, mcp; print(m.version('mcp'))";
    let out = Command::new(python)
        .args(["-c", probe])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run {python:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{python:?} cannot import mcp: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !version.starts_with("2.") {
        return Err(format!(
            "{python:?} has mcp {version}, the script needs mcp 2.x"
        ));
    }
    Ok(version)
}

/// The interpreter with the MCP SDK 2.x. A missing SDK fails the test: a test that passes
/// without running would report a check that never happened. `scripts/setup-python.sh`
/// installs it; `-E 'not test(/python/)'` leaves these tests out of a run.
async fn python_or_skip() -> Option<String> {
    let python = python();
    match sdk_available(&python).await {
        Ok(_) => Some(python),
        Err(why) => panic!(
            "the Python MCP SDK is not usable: {why}. Run `bash scripts/setup-python.sh` \
             (or set DATABRICKS_MCP_PYTHON to a venv with `pip install -r tests/python/requirements.txt`)."
        ),
    }
}

/// The real binary serving streamable HTTP on an ephemeral loopback port. Its stderr is
/// drained in the background (so it never blocks on a full pipe) and kept for reports.
struct HttpServer {
    url: String,
    stderr: Arc<Mutex<Vec<String>>>,
    _child: Child,
}

impl HttpServer {
    async fn start(emulator: &Emulator) -> HttpServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
            .args(["serve", "--transport", "http", "--listen", "127.0.0.1:0"])
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
        let (url, stderr) = crate::support::wait_for_listening(&mut child).await;
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
            "{url}"
        );
        HttpServer {
            url,
            stderr,
            _child: child,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

async fn run_case(transport: Transport, mode: Mode) {
    let Some(python) = python_or_skip().await else {
        return;
    };
    let emulator = Emulator::start().await;

    let server = match transport {
        Transport::Http => Some(HttpServer::start(&emulator).await),
        Transport::Stdio => None,
    };
    let mut cmd = Command::new(&python);
    cmd.arg(script()).args(["--mode", mode.arg()]);
    match &server {
        Some(http) => cmd.args(["--transport", "http", "--url", &http.url]),
        None => cmd.args([
            "--transport",
            "stdio",
            "--server-cmd",
            env!("CARGO_BIN_EXE_databricks-mcp"),
        ]),
    };
    // The script forwards DATABRICKS_HOST/TOKEN to a stdio server; drop any other
    // Databricks settings of the developer's environment so the run is hermetic.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DATABRICKS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("DATABRICKS_HOST", emulator.base_url())
        .env("DATABRICKS_TOKEN", emulator.pat())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python:?}: {e}"));
    let out = match tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output()).await {
        Ok(out) => out.unwrap(),
        Err(_) => panic!(
            "{transport:?}/{mode:?}: the Python SDK script did not finish within {SCRIPT_TIMEOUT:?}; server stderr:\n{}",
            server.as_ref().map(HttpServer::stderr).unwrap_or_default()
        ),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = || {
        format!(
            "{transport:?}/{mode:?}: exit {:?}\n--- script stdout\n{stdout}\n--- script stderr\n{stderr}\n--- http server stderr\n{}",
            out.status,
            server.as_ref().map(HttpServer::stderr).unwrap_or_default()
        )
    };
    assert!(
        out.status.success(),
        "the Python SDK script failed\n{}",
        report()
    );

    let summary: Value = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON summary line on stdout\n{}", report()));
    assert_eq!(summary["ok"], Value::Bool(true), "{}", report());
    assert_eq!(
        summary["protocol_version"],
        mode.protocol_version(),
        "{}",
        report()
    );
    assert!(
        summary["calls"].as_u64().is_some_and(|n| n >= 16),
        "{}",
        report()
    );

    // The per-call `_meta.warehouse_id` preset reached Databricks.
    let posted = crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements");
    let warehouses: Vec<&Value> = posted.iter().map(|r| &r.body["warehouse_id"]).collect();
    assert!(
        posted
            .iter()
            .any(|r| r.body["warehouse_id"] == META_WAREHOUSE_ID),
        "no statement was sent to the _meta warehouse {META_WAREHOUSE_ID}; warehouse_ids sent: {warehouses:?}\n{}",
        report()
    );
    assert!(
        posted
            .iter()
            .any(|r| r.body["warehouse_id"] == "abcdef0123456789"),
        "the warehouse_id argument was not honoured; warehouse_ids sent: {warehouses:?}"
    );
}

#[tokio::test]
async fn python_sdk_stdio_legacy() {
    run_case(Transport::Stdio, Mode::Legacy).await;
}

#[tokio::test]
async fn python_sdk_stdio_auto() {
    run_case(Transport::Stdio, Mode::Auto).await;
}

#[tokio::test]
async fn python_sdk_http_legacy() {
    run_case(Transport::Http, Mode::Legacy).await;
}

#[tokio::test]
async fn python_sdk_http_auto() {
    run_case(Transport::Http, Mode::Auto).await;
}

/// Runs a features script (`tests/python/<script>` with `script_args`) with `python`
/// against the binary on a fresh local workspace (no account at all), over `transport`,
/// and returns its JSON summary once it passed: exit 0, `ok`, and no warning from the SDK
/// when the session closed.
#[cfg(feature = "local")]
async fn run_features_script(
    python: &str,
    script: &str,
    script_args: &[&str],
    transport: Transport,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let local = dir.path().join("workspace");
    let local = local.to_str().unwrap();
    let mut server = None;
    let mut cmd = Command::new(python);
    cmd.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/python")
            .join(script),
    )
    .args(script_args);
    match transport {
        Transport::Http => {
            let mut child = Command::new(env!("CARGO_BIN_EXE_databricks-mcp"))
                .args(["serve", "--transport", "http", "--listen", "127.0.0.1:0"])
                .args(["--local", local, "--local-scale-factor", "0.001"])
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", home.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let (url, stderr) = crate::support::wait_for_listening(&mut child).await;
            cmd.args(["--transport", "http", "--url", &url]);
            server = Some((child, stderr));
        }
        Transport::Stdio => {
            cmd.args(["--transport", "stdio", "--local-dir", local, "--server-cmd"])
                .arg(env!("CARGO_BIN_EXE_databricks-mcp"));
        }
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DATABRICKS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", home.path())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python:?}: {e}"));
    let out = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} {transport:?}: the script did not finish"))
        .unwrap();
    let server_log = server
        .as_ref()
        .map(|(_, stderr)| stderr.lock().unwrap().join("\n"))
        .unwrap_or_default();
    let report = format!(
        "{script} {transport:?}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- http server stderr\n{server_log}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    // A session closes cleanly: no "Session termination failed: 202" from the SDK.
    assert!(
        !String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("termination failed"),
        "{report}"
    );
    let summary: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary line\n{report}"));
    assert_eq!(summary["ok"], Value::Bool(true), "{report}");
    summary
}

/// Resources, prompts, completions and logging (tests/python/mcp_features_e2e.py) through
/// the Python SDK 2.x, in both eras; and the result view (MCP Apps): `resources/read` of
/// it and the link on the SQL tools of the full and the managed SQL surface.
#[cfg(feature = "local")]
async fn features_case(transport: Transport, mode: Mode) {
    let Some(python) = python_or_skip().await else {
        return;
    };
    let summary = run_features_script(
        &python,
        "mcp_features_e2e.py",
        &["--mode", mode.arg()],
        transport,
    )
    .await;
    assert_eq!(
        summary["protocol_version"],
        mode.protocol_version(),
        "{summary}"
    );
    // 14 of resources, prompts, completions and logging; 29 of the result view's link.
    assert!(
        summary["checks"].as_u64().is_some_and(|n| n >= 43),
        "{summary}"
    );
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_features_stdio_legacy() {
    features_case(Transport::Stdio, Mode::Legacy).await;
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_features_stdio_auto() {
    features_case(Transport::Stdio, Mode::Auto).await;
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_features_http_legacy() {
    features_case(Transport::Http, Mode::Legacy).await;
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_features_http_auto() {
    features_case(Transport::Http, Mode::Auto).await;
}
/// The interpreter with the Python MCP SDK 1.x: `$DATABRICKS_MCP_PYTHON1`, else
/// `.venv-mcp1/bin/python` at the repository's root (`scripts/setup-python.sh`). Missing or
/// without mcp 1.x, it fails the test: a test that passes without running would report a
/// check that never happened.
#[cfg(feature = "local")]
async fn python_mcp1() -> String {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-mcp1/bin/python");
    let python = std::env::var("DATABRICKS_MCP_PYTHON1")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| venv.display().to_string());
    let hint = "Run `bash scripts/setup-python.sh` (it makes .venv-mcp1 from \
                tests/python/requirements-mcp1.txt), or set DATABRICKS_MCP_PYTHON1 to a Python \
                with `pip install -r tests/python/requirements-mcp1.txt`.";
    let probe = "import importlib.metadata as m, mcp; print(m.version('mcp'))";
    let out = Command::new(&python)
        .args(["-c", probe])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!("the Python MCP SDK 1.x is not usable: cannot run {python:?}: {e}. {hint}")
        });
    if !out.status.success() {
        panic!(
            "the Python MCP SDK 1.x is not usable: {python:?} cannot import mcp: {}. {hint}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        version.starts_with("1."),
        "{python:?} has mcp {version}, tests/python/mcp_features_e2e_v1.py needs mcp 1.x. {hint}"
    );
    python
}

/// The same checks (tests/python/mcp_features_e2e_v1.py) through the Python SDK 1.x,
/// which speaks the initialize handshake only.
#[cfg(feature = "local")]
async fn features_case_v1(transport: Transport) {
    let python = python_mcp1().await;
    let summary = run_features_script(&python, "mcp_features_e2e_v1.py", &[], transport).await;
    assert_eq!(summary["protocol_version"], "2025-11-25", "{summary}");
    assert!(
        summary["checks"].as_u64().is_some_and(|n| n >= 17),
        "{summary}"
    );
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk1_features_stdio() {
    features_case_v1(Transport::Stdio).await;
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk1_features_http() {
    features_case_v1(Transport::Http).await;
}

/// Writes confirmed by the person (tests/python/writes_e2e.py): decline, cancel and accept
/// through the SDK's elicitation callback (elicitation/create on 2025-11-25, an
/// input_required round on 2026-07-28), the code flow without a callback, the read-only
/// gate and the audit log, each read back from the local workspace.
#[cfg(feature = "local")]
async fn writes_case(mode: Mode) {
    let Some(python) = python_or_skip().await else {
        return;
    };
    let summary = run_features_script(
        &python,
        "writes_e2e.py",
        &["--mode", mode.arg()],
        Transport::Stdio,
    )
    .await;
    assert!(
        summary["checks"].as_u64().is_some_and(|n| n >= 30),
        "{summary}"
    );
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_writes_confirmed_legacy() {
    writes_case(Mode::Legacy).await;
}

#[cfg(feature = "local")]
#[tokio::test]
async fn python_sdk_writes_confirmed_auto() {
    writes_case(Mode::Auto).await;
}
