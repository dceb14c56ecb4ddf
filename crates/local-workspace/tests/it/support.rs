//! Shared fixtures: one sample workspace per test process (TPC-H at a tiny scale factor),
//! copied for tests that write, and a small REST client.

use std::path::{Path, PathBuf};

use local_workspace::{LocalOptions, LocalWorkspace, WAREHOUSE_ID};
use serde_json::{Value, json};
use workspace_server::front::RunningApi;

/// Scale factor of the test samples (lineitem ≈ 6,000 rows).
pub const SF: f64 = 0.001;

static INIT: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();

/// A workspace with samples, shared by every test (and test process: nextest runs each
/// test in its own) under the target directory; never written after creation. Creation
/// is serialised across processes by a file lock and is idempotent, so later runs reuse it.
pub async fn base_dir() -> PathBuf {
    INIT.get_or_init(|| async {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&root).expect("target tmpdir");
        let dir = root.join(format!(
            "local-workspace-base-sf{SF}-v{}",
            env!("CARGO_PKG_VERSION")
        ));
        let lock =
            std::fs::File::create(root.join("local-workspace-base.lock")).expect("lock file");
        let lock = tokio::task::spawn_blocking(move || {
            lock.lock().expect("lock");
            lock
        })
        .await
        .expect("lock task");
        let ws = LocalWorkspace::open(&dir, options(false))
            .await
            .expect("open base workspace");
        assert!(
            ws.wait_for_samples(std::time::Duration::from_secs(600))
                .await,
            "samples.tpch was not generated"
        );
        lock.unlock().expect("unlock");
        dir
    })
    .await
    .clone()
}

pub fn options(allow_writes: bool) -> LocalOptions {
    LocalOptions {
        scale_factor: SF,
        allow_writes,
        progress: false,
    }
}

/// A private copy of the base workspace.
pub async fn fresh_dir() -> tempfile::TempDir {
    let base = base_dir().await;
    let t = tempfile::tempdir().expect("tempdir");
    copy_dir(&base, t.path()).expect("copy base workspace");
    t
}

pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let p = e.path();
        let target = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &target)?;
        } else {
            std::fs::copy(&p, &target)?;
        }
    }
    Ok(())
}

/// Serves `ws` on 127.0.0.1 as the binary does.
pub async fn serve(ws: &LocalWorkspace) -> RunningApi {
    workspace_server::front::serve("127.0.0.1:0".parse().expect("addr"), |base_url| {
        ws.backends(base_url)
    })
    .await
    .expect("serve")
}

/// A served workspace and an HTTP client for it.
pub struct Server {
    pub ws: LocalWorkspace,
    pub api: RunningApi,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(dir: &Path, allow_writes: bool) -> Server {
        let ws = LocalWorkspace::open(dir, options(allow_writes))
            .await
            .expect("open workspace");
        assert!(
            ws.wait_for_samples(std::time::Duration::from_secs(600))
                .await,
            "samples.tpch was not generated"
        );
        let api = serve(&ws).await;
        Server {
            ws,
            api,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.base_url)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.api.token)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.api.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Runs a statement synchronously (INLINE) and returns the full response.
    pub async fn sql(&self, statement: &str) -> Value {
        let (status, v) = self
            .post(
                "/api/2.0/sql/statements",
                json!({"statement": statement, "warehouse_id": WAREHOUSE_ID, "wait_timeout": "50s"}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Rows of a statement that must succeed (all chunks).
    pub async fn rows(&self, statement: &str) -> Vec<Vec<Value>> {
        let v = self.sql(statement).await;
        assert_eq!(
            v["status"]["state"], "SUCCEEDED",
            "statement failed: {statement}\n{v}"
        );
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut chunk = v["result"].clone();
        loop {
            if let Some(a) = chunk["data_array"].as_array() {
                for r in a {
                    rows.push(r.as_array().cloned().unwrap_or_default());
                }
            }
            match chunk["next_chunk_internal_link"].as_str() {
                Some(link) => chunk = self.get(link).await.1,
                None => break,
            }
        }
        rows
    }

    /// The single value of a one-row, one-column statement.
    pub async fn scalar(&self, statement: &str) -> Value {
        let rows = self.rows(statement).await;
        assert_eq!(rows.len(), 1, "{statement}: {rows:?}");
        rows[0][0].clone()
    }

    /// The error of a statement that must fail: (message, sql_state).
    pub async fn error(&self, statement: &str) -> (String, String) {
        let v = self.sql(statement).await;
        assert_eq!(
            v["status"]["state"], "FAILED",
            "expected failure: {statement}\n{v}"
        );
        (
            v["status"]["error"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            v["status"]["sql_state"].as_str().unwrap_or("").to_string(),
        )
    }
}

/// A hash of every file (path, size, content) under a directory.
pub fn tree_hash(dir: &Path) -> Vec<(String, u64, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let mut h = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut h);
                out.push((
                    p.strip_prefix(dir).unwrap_or(&p).display().to_string(),
                    bytes.len() as u64,
                    h.finish(),
                ));
            }
        }
    }
    out.sort();
    out
}
