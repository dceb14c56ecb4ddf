//! The two backends behind one handle, and a small HTTP client.

use std::path::PathBuf;

use databricks_emulator::Emulator;
use local_workspace::{LocalOptions, LocalWorkspace, RunningApi};
use serde_json::Value;

/// Names that exist in a backend's Unity Catalog, and what the checks expect there.
pub struct Known {
    pub catalog: &'static str,
    pub schema: &'static str,
    pub table: &'static str,
    /// A pattern matching some but not all tables of `schema`, and one table it matches.
    pub table_pattern: (&'static str, &'static str),
    /// A warehouse that is RUNNING.
    pub warehouse: &'static str,
}

/// A running backend: its base URL and token, kept alive with the value.
pub struct Target {
    pub base_url: String,
    pub token: String,
    pub known: Known,
    http: reqwest::Client,
    _emulator: Option<Emulator>,
    _local: Option<(LocalWorkspace, RunningApi)>,
}

pub async fn emulator() -> Target {
    let emulator = Emulator::start().await;
    Target {
        base_url: emulator.base_url(),
        token: emulator.pat().to_string(),
        known: Known {
            catalog: "main",
            schema: "sales",
            table: "orders",
            table_pattern: ("%recent", "orders_recent"),
            warehouse: "abcdef0123456789",
        },
        http: reqwest::Client::new(),
        _emulator: Some(emulator),
        _local: None,
    }
}

pub async fn local() -> Target {
    let workspace = LocalWorkspace::open(&base_dir().await, options())
        .await
        .expect("open the local workspace");
    let api = workspace
        .serve("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("serve the local workspace");
    Target {
        base_url: api.base_url.clone(),
        token: api.token.clone(),
        known: Known {
            catalog: "samples",
            schema: "tpch",
            table: "orders",
            table_pattern: ("%item", "lineitem"),
            warehouse: local_workspace::WAREHOUSE_ID,
        },
        http: reqwest::Client::new(),
        _emulator: None,
        _local: Some((workspace, api)),
    }
}

fn options() -> LocalOptions {
    LocalOptions {
        scale_factor: 0.001,
        allow_writes: false,
        progress: false,
    }
}

/// A workspace with samples, made once under the target directory and shared by every
/// test process (nextest runs each test in its own); never written after creation.
async fn base_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&root).expect("target tmpdir");
    let dir = root.join("conformance-local-workspace");
    let lock =
        std::fs::File::create(root.join("conformance-local-workspace.lock")).expect("lock file");
    let lock = tokio::task::spawn_blocking(move || {
        lock.lock().expect("lock");
        lock
    })
    .await
    .expect("lock task");
    let workspace = LocalWorkspace::open(&dir, options())
        .await
        .expect("open the base workspace");
    assert!(
        workspace
            .wait_for_samples(std::time::Duration::from_secs(600))
            .await,
        "samples.tpch was not generated"
    );
    lock.unlock().expect("unlock");
    dir
}

/// Percent-encodes a query value (page tokens are standard base64: `+`, `/`, `=`).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Target {
    /// GET `path_and_query` with the token: status and JSON body (`Null` if none).
    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path_and_query, true).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        with_token: bool,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.base_url));
        if with_token {
            request = request.bearer_auth(&self.token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (status, json)
    }

    /// Every item of a paged listing under `key`, following tokens; the page count.
    pub async fn all_pages(&self, path_and_query: &str, key: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages) = (Vec::new(), 0);
        let mut token: Option<String> = None;
        loop {
            let path = match &token {
                Some(t) => format!("{path_and_query}&page_token={}", encode(t)),
                None => path_and_query.to_string(),
            };
            let (status, v) = self.get(&path).await;
            assert_eq!(status, 200, "{path}: {v}");
            pages += 1;
            items.extend(v[key].as_array().cloned().unwrap_or_default());
            match v["next_page_token"].as_str().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => return (items, pages),
            }
            assert!(pages < 1000, "{path}: the listing never ends");
        }
    }
}

/// Asserts an error answer: status, `error_code` and a non-empty message.
pub fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error_code"], code, "{}", answer.1);
    assert!(
        answer.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        answer.1
    );
}

/// One test per backend for each check: `conformance!(name => |target| async { … })`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident => $check:expr;)*) => {
        $(
            mod $name {
                #[tokio::test]
                async fn emulator() {
                    let target = $crate::support::emulator().await;
                    ($check)(target).await;
                }

                #[tokio::test]
                async fn local_workspace() {
                    let target = $crate::support::local().await;
                    ($check)(target).await;
                }
            }
        )*
    };
}
