//! SQL Statement Execution API 2.0 (REFERENCE.md §1): execute with wait timeout and
//! on-timeout behaviour, poll, cancel, result chunks; INLINE JSON_ARRAY chunks,
//! EXTERNAL_LINKS (ARROW_STREAM, CSV, JSON_ARRAY) downloaded from this process at a URL
//! that refuses the Databricks Authorization header, and the hybrid
//! INLINE_OR_EXTERNAL_LINKS (small results inline, Arrow as an `attachment`).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;

use super::{Api, HandlerResult, Req, bad_request, error, lock, ok};
use crate::WAREHOUSE_ID;
use crate::dialect::Param;
use crate::engine::{ExecOptions, QueryResult};
use crate::error::SqlError;

/// INLINE results larger than this fail, as in Databricks.
const INLINE_LIMIT: usize = 25 * 1024 * 1024;
/// Target JSON size of one INLINE chunk.
const INLINE_CHUNK: usize = 2 * 1024 * 1024;
/// Target Arrow size of one EXTERNAL_LINKS chunk.
const EXTERNAL_CHUNK: usize = 16 * 1024 * 1024;
/// Results stay fetchable this long after success.
const RESULT_TTL: Duration = Duration::from_secs(3600);
/// Statements are forgotten this long after finishing.
const PURGE_AFTER: Duration = Duration::from_secs(12 * 3600);
/// At most this many statements keep their results in memory.
const MAX_RESULTS: usize = 64;
/// External links expire after this long.
const LINK_TTL_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    Inline,
    External,
    /// INLINE_OR_EXTERNAL_LINKS: [`package`] chooses by the result's size.
    Hybrid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonArray,
    ArrowStream,
    Csv,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::JsonArray => "JSON_ARRAY",
            Format::ArrowStream => "ARROW_STREAM",
            Format::Csv => "CSV",
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            Format::JsonArray => "application/json",
            Format::ArrowStream => "application/vnd.apache.arrow.stream",
            Format::Csv => "text/csv",
        }
    }
}

enum Payload {
    Rows(Vec<Vec<Option<String>>>),
    /// An external link's bytes.
    Bytes(Arc<Vec<u8>>),
    /// A hybrid-disposition inline Arrow chunk, base64 (and LZ4 when the output says).
    Attachment(Arc<String>),
}

struct Chunk {
    row_offset: usize,
    row_count: usize,
    byte_count: usize,
    payload: Payload,
}

struct Output {
    columns: Vec<Value>,
    total_rows: usize,
    truncated: bool,
    chunks: Vec<Chunk>,
    /// `manifest.result_compression` of attachments.
    compressed: bool,
}

impl Output {
    /// Whether the chunks are downloaded from links (the manifest then has byte counts).
    fn external(&self) -> bool {
        self.chunks
            .iter()
            .any(|c| matches!(c.payload, Payload::Bytes(_)))
    }
}

enum State {
    Running,
    Succeeded(Arc<Output>, Instant),
    Failed(SqlError, Instant),
    Canceled(Instant),
    Closed(Instant),
}

struct Stmt {
    state: Mutex<State>,
    done: tokio::sync::watch::Sender<bool>,
    abort: Mutex<Option<tokio::task::AbortHandle>>,
    format: Format,
    secret: String,
}

/// All statements of a workspace. Finished results are also written under `dir`, so that
/// another process on the same workspace (each `databricks-mcp call` is one) can page
/// through them for the rest of their lifetime.
pub(crate) struct Statements {
    map: Mutex<HashMap<String, Arc<Stmt>>>,
    order: Mutex<VecDeque<String>>,
    dir: PathBuf,
    /// When [`Statements::sweep`] last ran: it reads every kept file's metadata, too
    /// much to repeat for each statement.
    swept: Mutex<Option<Instant>>,
}

/// Expired results are looked for at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Results larger than this stay in memory only.
const MAX_KEPT_ON_DISK: usize = 64 * 1024 * 1024;

/// A finished result as written to disk.
#[derive(Serialize, Deserialize)]
struct Kept {
    format: String,
    external: bool,
    secret: String,
    columns: Vec<Value>,
    total_rows: usize,
    truncated: bool,
    chunks: Vec<KeptChunk>,
    #[serde(default)]
    compressed: bool,
}

#[derive(Serialize, Deserialize)]
struct KeptChunk {
    row_offset: usize,
    row_count: usize,
    byte_count: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows: Option<Vec<Vec<Option<String>>>>,
    /// Base64 of an external link's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<String>,
    /// A hybrid-disposition attachment, as served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachment: Option<String>,
}

impl Statements {
    pub fn kept_in(dir: PathBuf) -> Statements {
        Statements {
            map: Mutex::default(),
            order: Mutex::default(),
            dir,
            swept: Mutex::default(),
        }
    }

    /// Writes a finished result for later processes, and deletes expired ones.
    fn keep(&self, id: &str, stmt: &Stmt, out: &Output) {
        use base64::Engine as _;
        self.sweep();
        let size: usize = out.chunks.iter().map(|c| c.byte_count).sum();
        if size > MAX_KEPT_ON_DISK || !is_statement_id(id) {
            return;
        }
        let kept = Kept {
            format: stmt.format.name().to_string(),
            external: out.external(),
            secret: stmt.secret.clone(),
            columns: out.columns.clone(),
            total_rows: out.total_rows,
            truncated: out.truncated,
            chunks: out
                .chunks
                .iter()
                .map(|c| KeptChunk {
                    row_offset: c.row_offset,
                    row_count: c.row_count,
                    byte_count: c.byte_count,
                    rows: match &c.payload {
                        Payload::Rows(rows) => Some(rows.clone()),
                        _ => None,
                    },
                    bytes: match &c.payload {
                        Payload::Bytes(b) => {
                            Some(base64::engine::general_purpose::STANDARD.encode(b.as_slice()))
                        }
                        _ => None,
                    },
                    attachment: match &c.payload {
                        Payload::Attachment(text) => Some(text.as_ref().clone()),
                        _ => None,
                    },
                })
                .collect(),
            compressed: out.compressed,
        };
        let written = create_private_dir(&self.dir).and_then(|()| {
            let tmp = self.dir.join(format!(".{id}.tmp"));
            std::fs::write(&tmp, serde_json::to_vec(&kept).unwrap_or_default())?;
            std::fs::rename(&tmp, self.dir.join(format!("{id}.json")))
        });
        if let Err(e) = written {
            tracing::debug!("statement {id}: result not kept on disk: {e}");
        }
    }

    /// Deletes expired results of every workspace (one directory each under the same
    /// parent: a workspace that is gone leaves none behind), and emptied directories.
    fn sweep(&self) {
        {
            let mut swept = lock(&self.swept);
            if swept.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
                return;
            }
            *swept = Some(Instant::now());
        }
        let Some(parent) = self.dir.parent() else {
            return;
        };
        let Ok(workspaces) = std::fs::read_dir(parent) else {
            return;
        };
        for workspace in workspaces.flatten() {
            let Ok(entries) = std::fs::read_dir(workspace.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let expired = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > RESULT_TTL);
                if expired {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            // Fails (and keeps it) unless it is empty.
            let _ = std::fs::remove_dir(workspace.path());
        }
    }

    /// A result another process of this workspace wrote, while it is alive.
    fn kept(&self, id: &str) -> Option<Arc<Stmt>> {
        use base64::Engine as _;
        if !is_statement_id(id) {
            return None;
        }
        let path = self.dir.join(format!("{id}.json"));
        let age = std::fs::metadata(&path)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()?;
        if age > RESULT_TTL {
            return None;
        }
        let kept: Kept = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let format = match kept.format.as_str() {
            "ARROW_STREAM" => Format::ArrowStream,
            "CSV" => Format::Csv,
            _ => Format::JsonArray,
        };
        let chunks = kept
            .chunks
            .into_iter()
            .map(|c| {
                let payload = match (c.rows, c.bytes, c.attachment) {
                    (Some(rows), _, _) => Payload::Rows(rows),
                    (None, Some(b), _) => Payload::Bytes(Arc::new(
                        base64::engine::general_purpose::STANDARD.decode(b).ok()?,
                    )),
                    (None, None, Some(text)) => Payload::Attachment(Arc::new(text)),
                    (None, None, None) => return None,
                };
                Some(Chunk {
                    row_offset: c.row_offset,
                    row_count: c.row_count,
                    byte_count: c.byte_count,
                    payload,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let output = Output {
            columns: kept.columns,
            total_rows: kept.total_rows,
            truncated: kept.truncated,
            chunks,
            compressed: kept.compressed,
        };
        let finished = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        let (done, _) = tokio::sync::watch::channel(true);
        let stmt = Arc::new(Stmt {
            state: Mutex::new(State::Succeeded(Arc::new(output), finished)),
            done,
            abort: Mutex::new(None),
            format,
            secret: kept.secret,
        });
        self.insert(id.to_string(), stmt.clone());
        Some(stmt)
    }

    fn insert(&self, id: String, stmt: Arc<Stmt>) {
        lock(&self.map).insert(id.clone(), stmt);
        lock(&self.order).push_back(id);
        self.housekeeping();
    }

    fn get(&self, id: &str) -> Option<Arc<Stmt>> {
        self.housekeeping();
        let known = lock(&self.map).get(id).cloned();
        known.or_else(|| self.kept(id))
    }

    /// Closes expired results, forgets old statements, bounds memory.
    fn housekeeping(&self) {
        let now = Instant::now();
        let mut order = lock(&self.order);
        let mut map = lock(&self.map);
        let mut with_results = 0;
        for id in order.iter().rev() {
            let Some(s) = map.get(id) else { continue };
            let mut st = lock(&s.state);
            if let State::Succeeded(_, at) = &*st {
                let at = *at;
                with_results += 1;
                if now.duration_since(at) > RESULT_TTL || with_results > MAX_RESULTS {
                    *st = State::Closed(at);
                }
            }
        }
        while let Some(id) = order.front().cloned() {
            let finished = map.get(&id).and_then(|s| match &*lock(&s.state) {
                State::Running => None,
                State::Succeeded(_, t)
                | State::Failed(_, t)
                | State::Canceled(t)
                | State::Closed(t) => Some(*t),
            });
            match finished {
                Some(t) if now.duration_since(t) > PURGE_AFTER => {
                    map.remove(&id);
                    order.pop_front();
                }
                None if !map.contains_key(&id) => {
                    order.pop_front();
                }
                _ => break,
            }
        }
    }
}

/// The results directory, readable by this user only (results are query data).
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Statement ids are UUIDs: anything else never names a file.
fn is_statement_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn parse_wait(v: Option<&Value>) -> Result<Duration, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Duration::from_secs(10));
    };
    let s = v
        .as_str()
        .ok_or("wait_timeout must be a string like \"10s\"")?;
    let n: u64 = s
        .strip_suffix('s')
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("wait_timeout '{s}' must look like \"<N>s\""))?;
    if n != 0 && !(5..=50).contains(&n) {
        return Err(format!(
            "wait_timeout must be 0s or between 5s and 50s, got '{s}'"
        ));
    }
    Ok(Duration::from_secs(n))
}

fn params(v: Option<&Value>) -> Result<HashMap<String, Param>, String> {
    let mut out = HashMap::new();
    let Some(arr) = v.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let arr = arr.as_array().ok_or("parameters must be an array")?;
    for p in arr {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or("every parameter needs a name")?;
        let value = match p.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let type_ = p.get("type").and_then(Value::as_str).map(str::to_string);
        out.insert(name.to_string(), Param { value, type_ });
    }
    Ok(out)
}

fn opt_limit(v: Option<&Value>, name: &str) -> Result<Option<usize>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .filter(|n| *n >= 0)
            .map(|n| Some(usize::try_from(n).unwrap_or(usize::MAX)))
            .ok_or_else(|| format!("{name} must be a non-negative integer")),
    }
}

pub(crate) async fn execute(api: &Api, req: &Req) -> HandlerResult {
    let body = &req.json;
    if !body.is_object() {
        return Err(bad_request("The request body must be a JSON object."));
    }
    let Some(statement) = req.body_str("statement") else {
        return Err(bad_request("Missing required field: statement."));
    };
    match req.body_str("warehouse_id") {
        None => return Err(bad_request("Missing required field: warehouse_id.")),
        Some(w) if w != WAREHOUSE_ID => {
            return Err(error(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                format!(
                    "SQL warehouse {w} does not exist. The local workspace has one warehouse: {WAREHOUSE_ID}."
                ),
            ));
        }
        Some(_) => {}
    }
    if statement.len() > 16 * 1024 * 1024 {
        return Err(bad_request("The statement is larger than 16 MiB."));
    }
    // While samples.tpch is generated, statements that may read it are asked to retry:
    // clients retry a 503 after its Retry-After, so the first query simply waits.
    if let Some((retry, message)) = api.shared.samples.unavailable()
        && statement.to_ascii_lowercase().contains("samples")
    {
        let mut response = error(
            if retry { 503 } else { 500 },
            if retry {
                "TEMPORARILY_UNAVAILABLE"
            } else {
                "INTERNAL_ERROR"
            },
            message,
        );
        if retry {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        return Err(response);
    }
    let wait = parse_wait(body.get("wait_timeout")).map_err(bad_request)?;
    let cancel_on_timeout = match req.body_str("on_wait_timeout") {
        None | Some("CONTINUE") => false,
        Some("CANCEL") => true,
        Some(o) => {
            return Err(bad_request(format!(
                "on_wait_timeout must be CONTINUE or CANCEL, got '{o}'."
            )));
        }
    };
    let disposition = match req.body_str("disposition") {
        None | Some("INLINE") => Disposition::Inline,
        Some("EXTERNAL_LINKS") => Disposition::External,
        Some("INLINE_OR_EXTERNAL_LINKS") => Disposition::Hybrid,
        Some(o) => {
            return Err(bad_request(format!(
                "disposition must be INLINE, EXTERNAL_LINKS or INLINE_OR_EXTERNAL_LINKS, got '{o}'."
            )));
        }
    };
    let format = match req.body_str("format") {
        None | Some("JSON_ARRAY") => Format::JsonArray,
        Some("ARROW_STREAM") => Format::ArrowStream,
        Some("CSV") => Format::Csv,
        Some(o) => {
            return Err(bad_request(format!(
                "format must be JSON_ARRAY, ARROW_STREAM or CSV, got '{o}'."
            )));
        }
    };
    if disposition == Disposition::Inline && format != Format::JsonArray {
        return Err(bad_request(format!(
            "The INLINE disposition supports only the JSON_ARRAY format; use EXTERNAL_LINKS for {}.",
            format.name()
        )));
    }
    let opts = ExecOptions {
        catalog: req.body_str("catalog").map(str::to_string),
        schema: req.body_str("schema").map(str::to_string),
        params: params(body.get("parameters")).map_err(bad_request)?,
        row_limit: opt_limit(body.get("row_limit"), "row_limit").map_err(bad_request)?,
        byte_limit: opt_limit(body.get("byte_limit"), "byte_limit").map_err(bad_request)?,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let (done, mut done_rx) = tokio::sync::watch::channel(false);
    let stmt = Arc::new(Stmt {
        state: Mutex::new(State::Running),
        done,
        abort: Mutex::new(None),
        format,
        secret: uuid::Uuid::new_v4().simple().to_string(),
    });
    api.shared.statements.insert(id.clone(), stmt.clone());
    let engine = api.shared.engine.clone();
    let sql = statement.to_string();
    let runner = stmt.clone();
    let shared = api.shared.clone();
    let runner_id = id.clone();
    let origin = super::history::Origin {
        client: super::history::client_application(req.header("user-agent")),
        job: None,
    };
    // Dropped unfinished when a cancel aborts the task: the history then says CANCELED.
    let recording = api.shared.history.start(&id, statement, &origin);
    api.shared.compute.statement_starts();
    // On the engine's own runtime: a heavy query keeps its threads busy, never the ones
    // that answer the REST API (a poll, a cancel) and the MCP layer.
    let task = crate::engine_runtime().spawn(async move {
        let result = engine.execute(&sql, &opts).await;
        if result.is_ok() {
            shared.record_lineage(
                engine.lineage_of(&sql, &opts),
                &super::lineage::Entity::query(&runner_id),
            );
        }
        let mut finished = None;
        let new_state = match result.and_then(|r| package(r, disposition, format)) {
            Ok(out) => {
                recording.finished(Ok(out.total_rows));
                let out = Arc::new(out);
                finished = Some(out.clone());
                State::Succeeded(out, Instant::now())
            }
            Err(e) => {
                recording.finished(Err(&e));
                State::Failed(e, Instant::now())
            }
        };
        {
            let mut st = lock(&runner.state);
            if matches!(*st, State::Running) {
                *st = new_state;
            }
        }
        // Kept on disk before anyone is told it finished: a `call` process may exit as
        // soon as it has its answer, and the next one pages from the file.
        if let Some(out) = finished {
            let keeper = runner.clone();
            let _ = tokio::task::spawn_blocking(move || {
                shared.statements.keep(&runner_id, &keeper, &out)
            })
            .await;
        }
        let _ = runner.done.send(true);
    });
    *lock(&stmt.abort) = Some(task.abort_handle());
    // Report panics of the execution as a failure.
    let watcher = stmt.clone();
    tokio::spawn(async move {
        if let Err(e) = task.await
            && e.is_panic()
        {
            let mut st = lock(&watcher.state);
            if matches!(*st, State::Running) {
                *st = State::Failed(
                    SqlError::internal("the local engine panicked while running the statement"),
                    Instant::now(),
                );
            }
            drop(st);
            let _ = watcher.done.send(true);
        }
    });
    if wait.is_zero() {
        return ok(json!({"statement_id": id, "status": {"state": "PENDING"}}));
    }
    let finished = tokio::time::timeout(wait, done_rx.wait_for(|d| *d)).await;
    if finished.is_err() && cancel_on_timeout {
        cancel_stmt(&stmt);
    }
    ok(response(api, &id, &stmt))
}

/// Turns a query result into manifest + chunks. The hybrid disposition sends a result
/// whose encoded bytes stay within `attachment::INLINE_LIMIT` inline (Arrow as one
/// attachment, JSON as `data_array`), a larger one (and CSV) as external links.
fn package(r: QueryResult, disposition: Disposition, format: Format) -> Result<Output, SqlError> {
    let columns = crate::render::manifest_columns(&r.schema);
    let total_rows = r.batch.num_rows();
    let mut chunks = Vec::new();
    let mut compressed = false;
    let disposition = match (disposition, format) {
        (Disposition::Hybrid, Format::ArrowStream) => {
            let ipc = crate::render::arrow_stream(&r.batch)
                .map_err(|e| SqlError::internal(format!("Arrow IPC: {e}")))?;
            if ipc.len() <= databricks_api::attachment::INLINE_LIMIT {
                compressed = databricks_api::attachment::should_compress(ipc.len());
                chunks.push(Chunk {
                    row_offset: 0,
                    row_count: total_rows,
                    byte_count: ipc.len(),
                    payload: Payload::Attachment(Arc::new(databricks_api::attachment::encode(
                        &ipc, compressed,
                    ))),
                });
                return Ok(Output {
                    columns,
                    total_rows,
                    truncated: r.truncated,
                    chunks,
                    compressed,
                });
            }
            Disposition::External
        }
        (Disposition::Hybrid, Format::JsonArray)
            if r.batch.get_array_memory_size() <= databricks_api::attachment::INLINE_LIMIT =>
        {
            Disposition::Inline
        }
        (Disposition::Hybrid, _) => Disposition::External,
        (other, _) => other,
    };
    match disposition {
        Disposition::Inline => {
            let rows = crate::render::json_rows(&r.batch);
            let mut total = 0usize;
            let mut current: Vec<Vec<Option<String>>> = Vec::new();
            let mut current_bytes = 0usize;
            let mut offset = 0usize;
            for row in rows {
                let size: usize = row
                    .iter()
                    .map(|c| c.as_ref().map_or(4, |s| s.len() + 3))
                    .sum::<usize>()
                    + 2;
                total += size;
                if total > INLINE_LIMIT {
                    return Err(SqlError::new(
                        "INLINE_RESULT_TOO_LARGE",
                        "54000",
                        "The result exceeds the 25 MiB limit of the INLINE disposition. Use disposition EXTERNAL_LINKS, a row_limit, or a LIMIT clause.",
                    ));
                }
                if !current.is_empty() && current_bytes + size > INLINE_CHUNK {
                    let n = current.len();
                    chunks.push(Chunk {
                        row_offset: offset,
                        row_count: n,
                        byte_count: current_bytes,
                        payload: Payload::Rows(std::mem::take(&mut current)),
                    });
                    offset += n;
                    current_bytes = 0;
                }
                current_bytes += size;
                current.push(row);
            }
            let n = current.len();
            chunks.push(Chunk {
                row_offset: offset,
                row_count: n,
                byte_count: current_bytes,
                payload: Payload::Rows(current),
            });
        }
        Disposition::External | Disposition::Hybrid => {
            let mem = r.batch.get_array_memory_size().max(1);
            let per_row = (mem / total_rows.max(1)).max(1);
            let rows_per_chunk = (EXTERNAL_CHUNK / per_row).max(1);
            let mut offset = 0;
            loop {
                let n = rows_per_chunk.min(total_rows - offset);
                let slice: RecordBatch = r.batch.slice(offset, n);
                let bytes = match format {
                    Format::ArrowStream => crate::render::arrow_stream(&slice)
                        .map_err(|e| SqlError::internal(format!("Arrow IPC: {e}")))?,
                    Format::Csv => crate::render::csv(&slice),
                    Format::JsonArray => {
                        serde_json::to_vec(&crate::render::json_rows(&slice)).unwrap_or_default()
                    }
                };
                chunks.push(Chunk {
                    row_offset: offset,
                    row_count: n,
                    byte_count: bytes.len(),
                    payload: Payload::Bytes(Arc::new(bytes)),
                });
                offset += n;
                if offset >= total_rows {
                    break;
                }
            }
        }
    }
    Ok(Output {
        columns,
        total_rows,
        truncated: r.truncated,
        chunks,
        compressed,
    })
}

fn cancel_stmt(stmt: &Stmt) {
    let mut st = lock(&stmt.state);
    if matches!(*st, State::Running) {
        if let Some(a) = lock(&stmt.abort).take() {
            a.abort();
        }
        *st = State::Canceled(Instant::now());
        drop(st);
        let _ = stmt.done.send(true);
    }
}

fn response(api: &Api, id: &str, stmt: &Stmt) -> Value {
    let st = lock(&stmt.state);
    match &*st {
        State::Running => json!({"statement_id": id, "status": {"state": "RUNNING"}}),
        State::Canceled(_) => json!({"statement_id": id, "status": {"state": "CANCELED"}}),
        State::Closed(_) => json!({"statement_id": id, "status": {"state": "CLOSED"}}),
        State::Failed(e, _) => json!({
            "statement_id": id,
            "status": {
                "state": "FAILED",
                "error": {"error_code": e.error_code, "message": e.databricks_message()},
                "sql_state": e.sql_state,
            }
        }),
        State::Succeeded(out, _) => {
            let mut manifest = json!({
                "format": stmt.format.name(),
                "schema": {"column_count": out.columns.len()},
                "total_chunk_count": out.chunks.len(),
                "chunks": out.chunks.iter().enumerate().map(|(i, c)| {
                    let mut v = json!({"chunk_index": i, "row_offset": c.row_offset, "row_count": c.row_count});
                    if !matches!(c.payload, Payload::Rows(_)) {
                        v["byte_count"] = json!(c.byte_count);
                    }
                    v
                }).collect::<Vec<_>>(),
                "total_row_count": out.total_rows,
                "truncated": out.truncated,
            });
            if !out.columns.is_empty() {
                manifest["schema"]["columns"] = json!(out.columns);
            }
            if out.external() {
                manifest["total_byte_count"] =
                    json!(out.chunks.iter().map(|c| c.byte_count).sum::<usize>());
            }
            if out.compressed {
                manifest["result_compression"] = json!(databricks_api::attachment::LZ4_FRAME);
            }
            json!({
                "statement_id": id,
                "status": {"state": "SUCCEEDED"},
                "manifest": manifest,
                "result": chunk_json(api, id, stmt, out, 0),
            })
        }
    }
}

fn chunk_json(api: &Api, id: &str, stmt: &Stmt, out: &Output, index: usize) -> Value {
    let Some(c) = out.chunks.get(index) else {
        return json!({});
    };
    let next = (index + 1 < out.chunks.len()).then_some(index + 1);
    let next_link = next.map(|n| format!("/api/2.0/sql/statements/{id}/result/chunks/{n}"));
    match &c.payload {
        Payload::Rows(rows) => {
            let mut v = json!({
                "chunk_index": index,
                "row_offset": c.row_offset,
                "row_count": c.row_count,
                "data_array": rows,
            });
            if let (Some(n), Some(l)) = (next, next_link) {
                v["next_chunk_index"] = json!(n);
                v["next_chunk_internal_link"] = json!(l);
            }
            v
        }
        Payload::Attachment(text) => {
            let mut v = json!({
                "chunk_index": index,
                "row_offset": c.row_offset,
                "row_count": c.row_count,
                "byte_count": c.byte_count,
                "attachment": text.as_str(),
            });
            if let (Some(n), Some(l)) = (next, next_link) {
                v["next_chunk_index"] = json!(n);
                v["next_chunk_internal_link"] = json!(l);
            }
            v
        }
        Payload::Bytes(_) => {
            let exp = crate::layout::now_ms() + LINK_TTL_MS;
            let sig = signature(&stmt.secret, id, index, exp);
            let mut link = json!({
                "chunk_index": index,
                "row_offset": c.row_offset,
                "row_count": c.row_count,
                "byte_count": c.byte_count,
                "external_link": format!("{}/__local/results/{id}/{index}?exp={exp}&sig={sig}", api.base_url),
                "expiration": chrono::DateTime::from_timestamp_millis(exp)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                    .unwrap_or_default(),
            });
            if let (Some(n), Some(l)) = (next, next_link) {
                link["next_chunk_index"] = json!(n);
                link["next_chunk_internal_link"] = json!(l);
            }
            json!({"external_links": [link]})
        }
    }
}

fn signature(secret: &str, id: &str, index: usize, exp: i64) -> String {
    let d = sha2::Sha256::digest(format!("{secret}:{id}:{index}:{exp}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn unknown(id: &str) -> axum::response::Response {
    error(
        404,
        "NOT_FOUND",
        format!("The statement {id} was not found: it never existed or was purged."),
    )
}

pub(crate) fn get(api: &Api, id: &str) -> HandlerResult {
    let stmt = api.shared.statements.get(id).ok_or_else(|| unknown(id))?;
    ok(response(api, id, &stmt))
}

pub(crate) fn cancel(api: &Api, id: &str) -> HandlerResult {
    let stmt = api.shared.statements.get(id).ok_or_else(|| unknown(id))?;
    cancel_stmt(&stmt);
    ok(json!({}))
}

pub(crate) fn chunk(api: &Api, id: &str, n: &str) -> HandlerResult {
    let stmt = api.shared.statements.get(id).ok_or_else(|| unknown(id))?;
    let index: usize = n
        .parse()
        .map_err(|_| bad_request(format!("Chunk index '{n}' is not a number.")))?;
    let out = match &*lock(&stmt.state) {
        State::Succeeded(out, _) => out.clone(),
        State::Closed(_) => {
            return Err(error(
                400,
                "INVALID_STATE",
                format!(
                    "The result of statement {id} is no longer available (CLOSED): run the statement again."
                ),
            ));
        }
        _ => {
            return Err(error(
                400,
                "INVALID_STATE",
                format!("Statement {id} has no result: it has not SUCCEEDED."),
            ));
        }
    };
    if index >= out.chunks.len() {
        return Err(bad_request(format!(
            "Chunk index {index} is out of range: the result has {} chunks.",
            out.chunks.len()
        )));
    }
    ok(chunk_json(api, id, &stmt, &out, index))
}

/// `GET /__local/results/{id}/{chunk}?exp=..&sig=..`: the external link download. Like a
/// pre-signed object-store URL it authenticates by its signature and refuses requests that
/// carry an Authorization header.
pub(crate) fn download(api: &Api, req: &Req) -> HandlerResult {
    let plain = |status: u16, msg: &str| {
        super::bytes_response(status, "text/plain", msg.as_bytes().to_vec())
    };
    if req.method != "GET" && req.method != "HEAD" {
        return Err(plain(405, "Method not allowed."));
    }
    if req.headers.contains_key("authorization") {
        return Err(plain(
            400,
            "InvalidArgument: Only one auth mechanism allowed; this pre-signed URL must be fetched without the Authorization header.",
        ));
    }
    let [_, results, id, index] = req.segs.as_slice() else {
        return Err(plain(404, "No such link."));
    };
    if results != "results" {
        return Err(plain(404, "No such link."));
    }
    let stmt = api
        .shared
        .statements
        .get(id)
        .ok_or_else(|| plain(404, "NoSuchKey: the statement is unknown or purged."))?;
    let index: usize = index.parse().map_err(|_| plain(404, "No such link."))?;
    let exp: i64 = req
        .q("exp")
        .and_then(|e| e.parse().ok())
        .ok_or_else(|| plain(403, "AccessDenied: missing expiry."))?;
    let sig = req.q("sig").unwrap_or_default();
    if !super::constant_time_eq(
        sig.as_bytes(),
        signature(&stmt.secret, id, index, exp).as_bytes(),
    ) {
        return Err(plain(403, "AccessDenied: bad signature."));
    }
    if crate::layout::now_ms() > exp {
        return Err(plain(403, "AccessDenied: Request has expired."));
    }
    let out = match &*lock(&stmt.state) {
        State::Succeeded(out, _) => out.clone(),
        _ => return Err(plain(404, "NoSuchKey: the result is no longer available.")),
    };
    let Some(c) = out.chunks.get(index) else {
        return Err(plain(404, "NoSuchKey: no such chunk."));
    };
    match &c.payload {
        Payload::Bytes(b) => Ok(super::bytes_response(
            200,
            stmt.format.content_type(),
            b.as_ref().clone(),
        )),
        Payload::Rows(_) | Payload::Attachment(_) => {
            Err(plain(404, "NoSuchKey: this result is INLINE."))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wait_timeouts() {
        assert_eq!(parse_wait(None), Ok(Duration::from_secs(10)));
        assert_eq!(parse_wait(Some(&json!("0s"))), Ok(Duration::ZERO));
        assert_eq!(parse_wait(Some(&json!("50s"))), Ok(Duration::from_secs(50)));
        assert!(parse_wait(Some(&json!("3s"))).is_err());
        assert!(parse_wait(Some(&json!("ten"))).is_err());
    }
}
