//! The two backends behind one handle, and a small HTTP client.

use std::path::PathBuf;

use databricks_emulator::Emulator;
use local_workspace::{ChatModel, LocalOptions, LocalWorkspace};
use serde_json::Value;
use workspace_server::front::RunningApi;

/// Names that exist in a backend's Unity Catalog, and what the checks expect there.
pub struct Known {
    pub catalog: &'static str,
    pub schema: &'static str,
    pub table: &'static str,
    /// A pattern matching some but not all tables of `schema`, and one table it matches.
    pub table_pattern: (&'static str, &'static str),
    /// A warehouse that is RUNNING.
    pub warehouse: &'static str,
    /// A cluster that is RUNNING.
    pub cluster: &'static str,
    /// A vector search endpoint, and an index of it that computes embeddings from text,
    /// keyed by an integer column `id` and having a text column `title`.
    pub vector_endpoint: &'static str,
    pub vector_index: &'static str,
    /// A job of two tasks, the second depending on the first, that runs to success.
    pub job: i64,
    /// A Genie space whose questions are answered with a query.
    pub genie_space: &'static str,
}

/// Which backend a target is (for the few checks that must give it data first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Emulator,
    Local,
}

/// A running backend: its base URL and token, kept alive with the value.
pub struct Target {
    pub base_url: String,
    pub token: String,
    pub known: Known,
    pub backend: Backend,
    http: reqwest::Client,
    _emulator: Option<Emulator>,
    _local: Option<(LocalWorkspace, RunningApi)>,
    _dir: Option<tempfile::TempDir>,
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
            cluster: "0923-164208-meows279",
            vector_endpoint: "docs-endpoint",
            vector_index: "main_catalog.docs.en_wiki_index",
            job: 11_223_344,
            genie_space: "01ef1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
        },
        backend: Backend::Emulator,
        http: reqwest::Client::new(),
        _emulator: Some(emulator),
        _local: None,
        _dir: None,
    }
}

pub async fn local() -> Target {
    serve_local(&base_dir().await, options(), None).await
}

async fn serve_local(
    dir: &std::path::Path,
    options: LocalOptions,
    copy: Option<tempfile::TempDir>,
) -> Target {
    let workspace = LocalWorkspace::open(dir, options)
        .await
        .expect("open the local workspace");
    let api = workspace_server::front::serve("127.0.0.1:0".parse().expect("address"), |url| {
        workspace.backends(url)
    })
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
            cluster: local_workspace::CLUSTER_ID,
            vector_endpoint: "local",
            vector_index: "main.default.documents_index",
            job: 1,
            // The sample space over TPC-H every new workspace gets.
            genie_space: "10ca16e0000000000000000000000001",
        },
        backend: Backend::Local,
        http: reqwest::Client::new(),
        _emulator: None,
        _local: Some((workspace, api)),
        _dir: copy,
    }
}

/// Copies a directory tree.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
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
    /// The same backend, able to write: the local workspace on a private copy of the base
    /// workspace with writes allowed (the base is shared and never written); the emulator
    /// as it is.
    pub async fn writable(self) -> Target {
        if self.backend == Backend::Emulator {
            return self;
        }
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(&base_dir().await, copy.path()).expect("copy the base workspace");
        let dir = copy.path().to_path_buf();
        let options = LocalOptions {
            allow_writes: true,
            ..options()
        };
        serve_local(&dir, options, Some(copy)).await
    }

    /// The same backend with a chat endpoint named [`databricks_emulator::serving::CHAT_ENDPOINT`]:
    /// the emulator's; the local workspace forwarding to an emulator's OpenAI-compatible
    /// route (`/serving-endpoints/chat/completions`), as it would to a model server.
    pub async fn with_chat_model(mut self) -> Target {
        if self.backend == Backend::Emulator {
            return self;
        }
        let emulator = Emulator::start().await;
        let mut model = ChatModel::new(format!("{}/serving-endpoints", emulator.base_url()));
        model.name = Some(databricks_emulator::serving::CHAT_ENDPOINT.to_string());
        model.token = Some(emulator.pat().to_string());
        let (workspace, _) = self._local.as_ref().expect("a local workspace");
        workspace
            .set_chat_model(Some(model))
            .expect("set the chat model");
        self._emulator = Some(emulator);
        self
    }

    /// The HTTP client of the checks.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The emulator behind this target, if there is one.
    pub fn emulator(&self) -> Option<&Emulator> {
        self._emulator.as_ref()
    }

    /// POST `body` as JSON (a string is sent as it is): status, content type, body text.
    pub async fn post_text(&self, path: &str, body: &Value) -> (u16, String, String) {
        let text = match body {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        };
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, content_type, response.text().await.expect("body"))
    }

    /// POST `body`: status and JSON body (`Null` if none).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, _, text) = self.post_text(path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Runs a statement through the Statement Execution API and waits for it: its state.
    pub async fn run_sql(&self, statement: &str) -> String {
        let request = self
            .http
            .post(format!("{}/api/2.0/sql/statements", self.base_url))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({
                "statement": statement,
                "warehouse_id": self.known.warehouse,
                "wait_timeout": "50s",
            }));
        let v: Value = request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a statement response");
        v["status"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Makes sure the query history holds a FINISHED and a FAILED query: the emulator's
    /// fixture does; the local workspace records what its warehouse runs.
    pub async fn with_query_history(&self) {
        if self.backend == Backend::Local {
            assert_eq!(self.run_sql("SELECT 1 AS one").await, "SUCCEEDED");
            assert_eq!(self.run_sql("SELEC 1").await, "FAILED");
        }
    }

    /// A table with lineage and one of its upstream tables: the emulator's fixture; in the
    /// local workspace (made [`Target::writable`]) a table written from a sample table.
    pub async fn with_lineage(&self) -> (String, String) {
        match self.backend {
            Backend::Emulator => ("main.sales.orders".into(), "main.sales.orders_raw".into()),
            Backend::Local => {
                assert_eq!(
                    self.run_sql(
                        "CREATE OR REPLACE TABLE main.default.nation_names AS SELECT n_name FROM samples.tpch.nation"
                    )
                    .await,
                    "SUCCEEDED"
                );
                (
                    "main.default.nation_names".into(),
                    "samples.tpch.nation".into(),
                )
            }
        }
    }

    /// An index of more than 1,200 rows that computes embeddings from text, and its integer
    /// key column: the emulator's articles; in the local workspace (made
    /// [`Target::writable`]) an index defined over `samples.tpch.orders`.
    pub fn with_large_vector_index(&self) -> (String, String) {
        match self.backend {
            Backend::Emulator => (self.known.vector_index.into(), "id".into()),
            Backend::Local => {
                let dir = self._dir.as_ref().expect("a writable local workspace");
                let indexes = dir.path().join("vector_search").join("indexes");
                std::fs::create_dir_all(&indexes).expect("the index directory");
                let definition = serde_json::json!({
                    "name": "main.default.orders_index",
                    "endpoint_name": "local",
                    "primary_key": "o_orderkey",
                    "index_type": "DELTA_SYNC",
                    "delta_sync_index_spec": {
                        "source_table": "samples.tpch.orders",
                        "embedding_source_columns": [{"name": "o_comment"}]
                    }
                });
                std::fs::write(
                    indexes.join("main.default.orders_index.json"),
                    definition.to_string(),
                )
                .expect("write the index definition");
                ("main.default.orders_index".into(), "o_orderkey".into())
            }
        }
    }

    /// GET with a JSON body, as some clients send the parameters of a read.
    pub async fn get_with_body(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

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
