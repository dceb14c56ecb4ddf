//! The official Python `databricks-sdk` (tests/python/requirements-sdk.txt) against
//! `serve()`: tests/python/test_local_sdk.py. Interpreter: `$DATABRICKS_MCP_PYTHON`, else
//! the repository's `.venv` (`scripts/setup-python.sh`), else `python3`. Without the SDK
//! the test fails.

use std::path::PathBuf;
use std::time::Duration;

use local_workspace::WAREHOUSE_ID;

use crate::support::*;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_works_against_the_local_api() {
    let py = python();
    let probe = tokio::process::Command::new(&py)
        .args(["-c", "import databricks.sdk"])
        .output()
        .await;
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        let why = match &probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        // A missing SDK fails: a test that passes without running checks nothing.
        panic!(
            "`{py}` cannot import databricks.sdk ({why}). Run `bash scripts/setup-python.sh` \
             (or set DATABRICKS_MCP_PYTHON to a venv with `pip install -r tests/python/requirements-sdk.txt`)."
        );
    }
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/test_local_sdk.py");
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script)
        .env("DATABRICKS_HOST", &s.api.base_url)
        .env("DATABRICKS_TOKEN", &s.api.token)
        .env("LOCAL_WAREHOUSE_ID", WAREHOUSE_ID)
        .env(
            "DATABRICKS_CONFIG_FILE",
            dir.path().join("no-databrickscfg"),
        )
        .kill_on_drop(true);
    for var in [
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_ACCOUNT_ID",
        "DATABRICKS_AUTH_TYPE",
        "DATABRICKS_CLUSTER_ID",
        "DATABRICKS_WAREHOUSE_ID",
    ] {
        cmd.env_remove(var);
    }
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the SDK script timed out")
        .expect("run the SDK script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    s.api.shutdown().await;
    assert!(
        out.status.success(),
        "SDK checks failed:\n{stdout}\n{stderr}"
    );
}
