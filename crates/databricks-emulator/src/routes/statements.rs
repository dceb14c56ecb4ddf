//! SQL Statement Execution API 2.0 (REFERENCE §1): stateful statements with scripted
//! outcomes, lazily generated result chunks, INLINE, EXTERNAL_LINKS and the hybrid
//! INLINE_OR_EXTERNAL_LINKS dispositions.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Value, json};

use crate::StatementScript;
use crate::server::Shared;
use crate::util::{
    R, Req, bad_param, date_string, error, json_bytes, json_status, lock, not_found, ok,
    rfc3339_ms, uuid_like,
};

/// The default script: the rows of `statements_execute_succeeded_inline.json`.
const DEFAULT_FIXTURE: &str = "statements_execute_succeeded_inline.json";

/// All statements the emulator has accepted.
#[derive(Default)]
pub(crate) struct Statements {
    map: HashMap<String, Stmt>,
}

struct Stmt {
    /// States still to be reported (one per execute/GET response) before the outcome.
    phases: VecDeque<&'static str>,
    outcome: Outcome,
    canceled: bool,
}

#[derive(Clone)]
enum Outcome {
    Rows(Arc<RowsSpec>),
    Failed {
        error_code: String,
        message: String,
        sql_state: Option<String>,
    },
    Canceled,
    NoResult {
        format: &'static str,
    },
    Fixture(Arc<Value>),
}

/// What one execute/GET answers.
enum Snapshot {
    State(&'static str),
    Canceled,
    Outcome(Outcome),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonArray,
    Csv,
    Arrow,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::JsonArray => "JSON_ARRAY",
            Format::Csv => "CSV",
            Format::Arrow => "ARROW_STREAM",
        }
    }
}

/// Options from the execute request that shape the result.
#[derive(Clone, Copy)]
struct ResultOpts {
    external: bool,
    /// INLINE_OR_EXTERNAL_LINKS: [`RowsSpec::new`] settles `external` by the size.
    hybrid: bool,
    format: Format,
    row_limit: Option<u64>,
}

/// Under the hybrid disposition, results of at most this many cells are rendered to
/// learn their size (inline when within `attachment::INLINE_LIMIT`); larger ones go as
/// external links without being rendered twice.
const HYBRID_MEASURED_CELLS: u64 = 500_000;

// ---------------------------------------------------------------------------------------
// Generated rows

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Long,
    Int,
    Short,
    Byte,
    Double,
    Decimal(u32),
    Str,
    Char,
    Bool,
    Date,
    Timestamp,
    Binary,
    Array,
    Map,
    Struct,
    Interval,
    Null,
}

pub(crate) struct Col {
    pub(crate) name: String,
    type_text: String,
    type_name: &'static str,
    pub(crate) precision: Option<u32>,
    scale: Option<u32>,
    pub(crate) kind: Kind,
}

impl Col {
    fn new(name: &str, type_text: &str) -> Col {
        let upper = type_text.trim().to_ascii_uppercase();
        let base: String = upper
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let (type_name, kind) = match base.as_str() {
            "BIGINT" | "LONG" => ("LONG", Kind::Long),
            "INT" | "INTEGER" => ("INT", Kind::Int),
            "SMALLINT" | "SHORT" => ("SHORT", Kind::Short),
            "TINYINT" | "BYTE" => ("BYTE", Kind::Byte),
            "DOUBLE" => ("DOUBLE", Kind::Double),
            "FLOAT" | "REAL" => ("FLOAT", Kind::Double),
            "DECIMAL" | "DEC" | "NUMERIC" => ("DECIMAL", Kind::Decimal(0)),
            "CHAR" => ("CHAR", Kind::Char),
            "BOOLEAN" | "BOOL" => ("BOOLEAN", Kind::Bool),
            "DATE" => ("DATE", Kind::Date),
            "TIMESTAMP" | "TIMESTAMP_LTZ" | "TIMESTAMP_NTZ" => ("TIMESTAMP", Kind::Timestamp),
            "BINARY" => ("BINARY", Kind::Binary),
            "ARRAY" => ("ARRAY", Kind::Array),
            "MAP" => ("MAP", Kind::Map),
            "STRUCT" => ("STRUCT", Kind::Struct),
            "INTERVAL" => ("INTERVAL", Kind::Interval),
            "VOID" | "NULL" => ("NULL", Kind::Null),
            "VARIANT" => ("USER_DEFINED_TYPE", Kind::Str),
            _ => ("STRING", Kind::Str),
        };
        let (mut precision, mut scale, mut kind) = (None, None, kind);
        if type_name == "DECIMAL" {
            // DECIMAL(p,s); defaults (10,0).
            let args: Vec<u32> = upper
                .split_once('(')
                .map(|(_, rest)| {
                    rest.trim_end_matches(')')
                        .split(',')
                        .filter_map(|x| x.trim().parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            let p = args.first().copied().unwrap_or(10);
            let s = args.get(1).copied().unwrap_or(0);
            precision = Some(p);
            scale = Some(s);
            kind = Kind::Decimal(s);
        }
        Col {
            name: name.to_string(),
            type_text: type_text.to_string(),
            type_name,
            precision,
            scale,
            kind,
        }
    }

    fn schema_json(&self, position: usize) -> Value {
        let mut c = json!({
            "name": self.name,
            "type_text": self.type_text,
            "type_name": self.type_name,
        });
        if let (Some(p), Some(s)) = (self.precision, self.scale) {
            crate::util::set(&mut c, "type_precision", json!(p));
            crate::util::set(&mut c, "type_scale", json!(s));
        }
        crate::util::set(&mut c, "position", json!(position));
        c
    }

    /// The JSON_ARRAY rendering of row `r` of this column (SQL NULL ⇒ None).
    pub(crate) fn cell(&self, r: u64) -> Option<String> {
        Some(match self.kind {
            Kind::Long | Kind::Int => r.to_string(),
            Kind::Short => (r % 32_768).to_string(),
            Kind::Byte => (r % 128).to_string(),
            Kind::Double => format!("{:?}", r as f64 * 1.5),
            Kind::Decimal(0) => r.to_string(),
            Kind::Decimal(s) => {
                let frac = (r * 37) % 10u64.pow(s.min(18));
                format!("{r}.{frac:0width$}", width = s as usize)
            }
            Kind::Str => {
                if r % 7 == 6 {
                    return None;
                }
                format!("s{r}")
            }
            Kind::Char => format!("c{}", r % 10),
            Kind::Bool => r.is_multiple_of(2).to_string(),
            Kind::Date => date_string(19_723 + (r % 3653) as i64), // from 2024-01-01
            Kind::Timestamp => rfc3339_ms(1_704_067_200_000 + (r as i64) * 60_000),
            Kind::Binary => base64::engine::general_purpose::STANDARD.encode(format!("b{r}")),
            Kind::Array => format!("[\"a{r}\",\"b{r}\"]"),
            Kind::Map => format!("{{\"k\":\"v{r}\"}}"),
            Kind::Struct => format!("{{\"id\":{r},\"name\":\"n{r}\"}}"),
            Kind::Interval => format!("{} 00:00:00.000000000", r % 1000),
            Kind::Null => return None,
        })
    }
}

/// A generated result: rows are produced on demand, one chunk at a time.
struct RowsSpec {
    statement_id: String,
    cols: Vec<Col>,
    total: u64,
    chunk_rows: u64,
    truncated: bool,
    opts: ResultOpts,
    /// Serialized size of each chunk's download (EXTERNAL_LINKS only).
    byte_counts: Vec<u64>,
    /// Hybrid disposition, small ARROW_STREAM result: chunks carry `attachment`,
    /// LZ4-frame compressed when `compress`.
    attachment: Option<Attachment>,
}

#[derive(Clone, Copy)]
struct Attachment {
    compress: bool,
}

impl RowsSpec {
    fn new(
        statement_id: &str,
        columns: &[(String, String)],
        rows: usize,
        chunk_rows: usize,
        opts: ResultOpts,
    ) -> RowsSpec {
        let rows = rows as u64;
        let total = opts.row_limit.map_or(rows, |l| l.min(rows));
        let chunk_rows = if chunk_rows == 0 {
            total.max(1)
        } else {
            chunk_rows as u64
        };
        let mut spec = RowsSpec {
            statement_id: statement_id.to_string(),
            cols: columns.iter().map(|(n, t)| Col::new(n, t)).collect(),
            total,
            chunk_rows,
            truncated: total < rows,
            opts,
            byte_counts: Vec::new(),
            attachment: None,
        };
        if opts.hybrid {
            spec.settle_hybrid();
        }
        let opts = spec.opts;
        // Arrow chunks are not rendered ahead of time (a 1M-row result would be
        // encoded twice); their byte_count is left out, as the API allows.
        if opts.external && opts.format != Format::Arrow {
            spec.byte_counts = (0..spec.chunk_count())
                .map(|n| {
                    let mut counter = Counter(0);
                    let _ = spec.write_download(n, &mut counter);
                    counter.0
                })
                .collect();
        }
        spec
    }

    /// Decides where a hybrid-disposition result goes: inline (Arrow as attachments,
    /// JSON as `data_array`) when its bytes stay within the limit, else external links.
    /// CSV has no inline form.
    fn settle_hybrid(&mut self) {
        let cells = self.total.saturating_mul(self.cols.len().max(1) as u64);
        let bytes =
            (self.opts.format != Format::Csv && cells <= HYBRID_MEASURED_CELLS).then(|| {
                (0..self.chunk_count())
                    .map(|n| {
                        let mut counter = Counter(0);
                        let _ = self.write_download(n, &mut counter);
                        counter.0
                    })
                    .sum::<u64>()
            });
        let inline = bytes.is_some_and(|b| b <= databricks_api::attachment::INLINE_LIMIT as u64);
        self.opts.external = !inline;
        if inline && self.opts.format == Format::Arrow {
            self.attachment = Some(Attachment {
                compress: databricks_api::attachment::should_compress(bytes.unwrap_or(0) as usize),
            });
        }
    }

    /// Zero rows still make one (empty) chunk, reported without `data_array`.
    fn chunk_count(&self) -> u64 {
        if self.total == 0 {
            1
        } else {
            self.total.div_ceil(self.chunk_rows)
        }
    }

    fn bounds(&self, n: u64) -> (u64, u64) {
        let offset = n * self.chunk_rows;
        let count = self.chunk_rows.min(self.total.saturating_sub(offset));
        (offset, count)
    }

    fn next(&self, n: u64) -> (Option<u64>, Option<String>) {
        if n + 1 < self.chunk_count() {
            (Some(n + 1), Some(chunk_link(&self.statement_id, n + 1)))
        } else {
            (None, None)
        }
    }

    fn manifest(&self) -> Value {
        let chunks: Vec<Value> = (0..self.chunk_count())
            .map(|n| {
                let (offset, count) = self.bounds(n);
                let mut c = json!({"chunk_index": n, "row_offset": offset, "row_count": count});
                if let Some(b) = self.byte_counts.get(n as usize) {
                    crate::util::set(&mut c, "byte_count", json!(b));
                }
                c
            })
            .collect();
        let columns: Vec<Value> = self
            .cols
            .iter()
            .enumerate()
            .map(|(i, c)| c.schema_json(i))
            .collect();
        let mut schema = json!({ "column_count": columns.len() });
        if !columns.is_empty() {
            crate::util::set(&mut schema, "columns", Value::Array(columns));
        }
        let mut m = json!({
            "format": self.opts.format.name(),
            "schema": schema,
            "total_chunk_count": self.chunk_count(),
            "chunks": chunks,
            "total_row_count": self.total,
        });
        if self.opts.external {
            crate::util::set(
                &mut m,
                "total_byte_count",
                json!(self.byte_counts.iter().sum::<u64>()),
            );
        }
        crate::util::set(&mut m, "truncated", json!(self.truncated));
        if let Some(Attachment { compress: true }) = self.attachment {
            crate::util::set(
                &mut m,
                "result_compression",
                json!(databricks_api::attachment::LZ4_FRAME),
            );
        }
        m
    }

    /// The ResultData of chunk `n` (the caller checked the range).
    fn chunk(&self, n: u64, base_url: &str) -> ChunkOut<'_> {
        let (offset, count) = self.bounds(n);
        let (next_chunk_index, next_chunk_internal_link) = self.next(n);
        if self.opts.external {
            let link = json!({
                "chunk_index": n,
                "row_offset": offset,
                "row_count": count,
                "byte_count": self.byte_counts.get(n as usize).copied().unwrap_or(0),
                "external_link": format!(
                    "{base_url}/external-results/{}/{n}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=emulated",
                    self.statement_id
                ),
                "expiration": rfc3339_ms(crate::util::now_ms() + 15 * 60 * 1000),
                "next_chunk_index": next_chunk_index,
                "next_chunk_internal_link": next_chunk_internal_link,
            });
            let mut link = link;
            if next_chunk_index.is_none() {
                crate::util::remove(&mut link, "next_chunk_index");
                crate::util::remove(&mut link, "next_chunk_internal_link");
            }
            return ChunkOut::External {
                external_links: vec![link],
            };
        }
        if let Some(Attachment { compress }) = self.attachment {
            let mut ipc = Vec::new();
            let attachment = (count > 0 && self.write_download(n, &mut ipc).is_ok())
                .then(|| databricks_api::attachment::encode(&ipc, compress));
            return ChunkOut::Attachment {
                chunk_index: n,
                row_offset: offset,
                row_count: count,
                byte_count: ipc.len() as u64,
                next_chunk_index,
                next_chunk_internal_link,
                attachment,
            };
        }
        ChunkOut::Inline {
            chunk_index: n,
            row_offset: offset,
            row_count: count,
            next_chunk_index,
            next_chunk_internal_link,
            data_array: (count > 0).then_some(DataArray {
                spec: self,
                start: offset,
                count,
            }),
        }
    }

    /// The bytes an external link serves for chunk `n`.
    fn write_download(&self, n: u64, w: &mut impl Write) -> std::io::Result<()> {
        let (offset, count) = self.bounds(n);
        match self.opts.format {
            Format::JsonArray => {
                let data = DataArray {
                    spec: self,
                    start: offset,
                    count,
                };
                serde_json::to_writer(&mut *w, &data).map_err(std::io::Error::other)
            }
            Format::Csv => {
                for r in offset..offset + count {
                    let mut first = true;
                    for c in &self.cols {
                        if !first {
                            w.write_all(b",")?;
                        }
                        first = false;
                        if let Some(v) = c.cell(r) {
                            if v.contains([',', '"', '\n']) {
                                write!(w, "\"{}\"", v.replace('"', "\"\""))?;
                            } else {
                                w.write_all(v.as_bytes())?;
                            }
                        }
                    }
                    w.write_all(b"\n")?;
                }
                Ok(())
            }
            Format::Arrow => crate::arrow::write_chunk(&self.cols, offset, count, w),
        }
    }
}

struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `data_array`, serialised row by row without materialising the chunk.
struct DataArray<'a> {
    spec: &'a RowsSpec,
    start: u64,
    count: u64,
}

impl Serialize for DataArray<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.count as usize))?;
        for r in self.start..self.start + self.count {
            seq.serialize_element(&Row { spec: self.spec, r })?;
        }
        seq.end()
    }
}

struct Row<'a> {
    spec: &'a RowsSpec,
    r: u64,
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.spec.cols.len()))?;
        for c in &self.spec.cols {
            seq.serialize_element(&c.cell(self.r))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum ChunkOut<'a> {
    Inline {
        chunk_index: u64,
        row_offset: u64,
        row_count: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_chunk_index: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_chunk_internal_link: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        data_array: Option<DataArray<'a>>,
    },
    Attachment {
        chunk_index: u64,
        row_offset: u64,
        row_count: u64,
        byte_count: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_chunk_index: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_chunk_internal_link: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        attachment: Option<String>,
    },
    External {
        external_links: Vec<Value>,
    },
}

#[derive(Serialize)]
struct StatementOut<'a> {
    statement_id: &'a str,
    status: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<ChunkOut<'a>>,
}

fn chunk_link(id: &str, n: u64) -> String {
    format!("/api/2.0/sql/statements/{id}/result/chunks/{n}")
}

// ---------------------------------------------------------------------------------------
// Scripts

/// Expands a script into the states reported before the outcome, and the outcome.
fn expand(
    script: &StatementScript,
    id: &str,
    opts: ResultOpts,
    phases: &mut VecDeque<&'static str>,
) -> Result<Outcome, Response> {
    Ok(match script {
        StatementScript::Rows {
            columns,
            rows,
            chunk_rows,
        } => Outcome::Rows(Arc::new(RowsSpec::new(
            id,
            columns,
            *rows,
            *chunk_rows,
            opts,
        ))),
        StatementScript::Pending { polls, then } => {
            // The execute response and the first `polls` GETs say PENDING, one more says
            // RUNNING, then the inner script answers.
            for _ in 0..=*polls {
                phases.push_back("PENDING");
            }
            phases.push_back("RUNNING");
            expand(then, id, opts, phases)?
        }
        StatementScript::Failed {
            error_code,
            message,
            sql_state,
        } => Outcome::Failed {
            error_code: error_code.clone(),
            message: message.clone(),
            sql_state: sql_state.clone(),
        },
        StatementScript::Canceled => Outcome::Canceled,
        StatementScript::NoResult => Outcome::NoResult {
            format: opts.format.name(),
        },
        StatementScript::Fixture(name) => {
            let Some(text) = crate::fixtures::try_fixture(name) else {
                return Err(error(
                    500,
                    "INTERNAL_ERROR",
                    format!("emulator script names an unknown fixture {name:?}"),
                ));
            };
            let mut v: Value = serde_json::from_str(text).map_err(|e| {
                error(
                    500,
                    "INTERNAL_ERROR",
                    format!("fixture {name} is not JSON: {e}"),
                )
            })?;
            // Statement-shaped fixture ⇒ give it this statement's id everywhere (incl. the
            // chunk links); any other JSON is served as is.
            if let Some(old) = v
                .get("statement_id")
                .and_then(Value::as_str)
                .map(str::to_string)
            {
                crate::util::replace_strings(&mut v, &old, id);
            }
            Outcome::Fixture(Arc::new(v))
        }
    })
}

fn fixture_state(v: &Value) -> Option<&str> {
    v.pointer("/status/state").and_then(Value::as_str)
}

fn is_terminal(state: &str) -> bool {
    matches!(state, "SUCCEEDED" | "FAILED" | "CANCELED" | "CLOSED")
}

impl Stmt {
    /// Whether the statement would still be PENDING/RUNNING after the current response.
    fn running(&self) -> bool {
        if self.canceled {
            return false;
        }
        if !self.phases.is_empty() {
            return true;
        }
        match &self.outcome {
            Outcome::Fixture(v) => fixture_state(v).is_some_and(|s| !is_terminal(s)),
            _ => false,
        }
    }

    /// The answer to one execute/GET, advancing the script.
    fn observe(&mut self) -> Snapshot {
        if self.canceled {
            return Snapshot::Canceled;
        }
        match self.phases.pop_front() {
            Some(state) => Snapshot::State(state),
            None => Snapshot::Outcome(self.outcome.clone()),
        }
    }
}

fn render(id: &str, snap: Snapshot, base_url: &str) -> Response {
    let state_only = |state: &str| {
        json_status(
            200,
            &json!({ "statement_id": id, "status": { "state": state } }),
        )
    };
    match snap {
        Snapshot::State(state) => state_only(state),
        Snapshot::Canceled | Snapshot::Outcome(Outcome::Canceled) => state_only("CANCELED"),
        Snapshot::Outcome(Outcome::Failed {
            error_code,
            message,
            sql_state,
        }) => {
            let mut status = json!({
                "state": "FAILED",
                "error": { "error_code": error_code, "message": message },
            });
            if let Some(s) = sql_state {
                crate::util::set(&mut status, "sql_state", json!(s));
            }
            json_status(200, &json!({ "statement_id": id, "status": status }))
        }
        Snapshot::Outcome(Outcome::NoResult { format }) => json_status(
            200,
            &json!({
                "statement_id": id,
                "status": { "state": "SUCCEEDED" },
                "manifest": {
                    "format": format,
                    "schema": { "column_count": 0 },
                    "total_chunk_count": 0,
                    "total_row_count": 0,
                    "truncated": false,
                },
            }),
        ),
        Snapshot::Outcome(Outcome::Fixture(v)) => json_status(200, &*v),
        Snapshot::Outcome(Outcome::Rows(spec)) => {
            let out = StatementOut {
                statement_id: id,
                status: json!({ "state": "SUCCEEDED" }),
                manifest: Some(spec.manifest()),
                result: Some(spec.chunk(0, base_url)),
            };
            json_status(200, &out)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

fn parse_wait_timeout(v: &str) -> Option<u64> {
    let n: u64 = v.strip_suffix('s')?.parse().ok()?;
    (n == 0 || (5..=50).contains(&n)).then_some(n)
}

/// POST /api/2.0/sql/statements
pub(crate) fn execute(st: &Shared, req: &Req) -> R {
    if !req.json.is_object() {
        return Err(error(
            400,
            "MALFORMED_REQUEST",
            "Could not parse request object: expected a JSON object",
        ));
    }
    let statement = req.b_req("statement")?.to_string();
    let warehouse_id = req.b_req("warehouse_id")?.to_string();
    st.warehouses
        .ensure_for_statement(&warehouse_id)
        .map_err(workspace_server::error_response)?;

    let wait_timeout = req.b_str("wait_timeout").unwrap_or("10s");
    let Some(wait_secs) = parse_wait_timeout(wait_timeout) else {
        return Err(bad_param(format!(
            "Invalid value for wait_timeout: '{wait_timeout}'. Must be 0s or between 5s and 50s."
        )));
    };
    let on_wait_timeout = req.b_str("on_wait_timeout").unwrap_or("CONTINUE");
    if !matches!(on_wait_timeout, "CONTINUE" | "CANCEL") {
        return Err(bad_param(format!(
            "Invalid value for on_wait_timeout: '{on_wait_timeout}'. Must be CONTINUE or CANCEL."
        )));
    }
    let (external, hybrid) = match req.b_str("disposition").unwrap_or("INLINE") {
        "INLINE" => (false, false),
        "EXTERNAL_LINKS" => (true, false),
        "INLINE_OR_EXTERNAL_LINKS" if st.config.hybrid_disposition => (false, true),
        other => {
            return Err(bad_param(format!(
                "Invalid value for disposition: '{other}'. Must be INLINE or EXTERNAL_LINKS{}.",
                if st.config.hybrid_disposition {
                    " or INLINE_OR_EXTERNAL_LINKS"
                } else {
                    ""
                }
            )));
        }
    };
    let format = match req.b_str("format").unwrap_or("JSON_ARRAY") {
        "JSON_ARRAY" => Format::JsonArray,
        "CSV" => Format::Csv,
        "ARROW_STREAM" if !external && !hybrid => {
            return Err(bad_param(
                "ARROW_STREAM format is only supported with EXTERNAL_LINKS disposition.",
            ));
        }
        "ARROW_STREAM" => Format::Arrow,
        other => {
            return Err(bad_param(format!(
                "Invalid value for format: '{other}'. Must be JSON_ARRAY, ARROW_STREAM or CSV."
            )));
        }
    };
    if format == Format::Csv && !external && !hybrid {
        return Err(bad_param(
            "CSV format is only supported with EXTERNAL_LINKS disposition.",
        ));
    }
    let row_limit = match req.b_i64("row_limit")? {
        Some(n) if n < 0 => return Err(bad_param("row_limit must be non-negative.")),
        other => other.map(|n| n as u64),
    };
    req.b_i64("byte_limit")?;
    if let Some(params) = req.json.get("parameters") {
        let Some(list) = params.as_array() else {
            return Err(bad_param("parameters must be a list."));
        };
        for p in list {
            if p.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(bad_param("Missing required field: parameters.name"));
            }
        }
    }

    let script = {
        let scripts = lock(&st.scripts);
        scripts
            .iter()
            .find(|(contains, _)| statement.contains(contains.as_str()))
            .map(|(_, s)| s.clone())
    };
    let script = script.unwrap_or_else(|| {
        let default = StatementScript::Fixture(DEFAULT_FIXTURE.to_string());
        if st.config.statement_pending_polls > 0 {
            StatementScript::Pending {
                polls: st.config.statement_pending_polls,
                then: Box::new(default),
            }
        } else {
            default
        }
    });

    let id = uuid_like(st.next_id());
    let opts = ResultOpts {
        external,
        hybrid,
        format,
        row_limit,
    };
    let mut phases = VecDeque::new();
    let outcome = expand(&script, &id, opts, &mut phases)?;
    let mut stmt = Stmt {
        phases,
        outcome,
        canceled: false,
    };
    let snap = stmt.observe();
    // Synchronous mode (`wait_timeout>0s` + CANCEL): a statement that is not done when the
    // wait ends is canceled. The emulator does not wait, so "not done" is "not terminal now".
    if on_wait_timeout == "CANCEL" && wait_secs > 0 && matches!(snap, Snapshot::State(_)) {
        stmt.canceled = true;
    }
    let snap = if stmt.canceled {
        Snapshot::Canceled
    } else {
        snap
    };
    lock(&st.statements).map.insert(id.clone(), stmt);
    Ok(render(&id, snap, &st.base_url))
}

fn unknown_statement(id: &str) -> Response {
    not_found(format!("Statement {id} does not exist."))
}

/// GET /api/2.0/sql/statements/{id}
pub(crate) fn get(st: &Shared, id: &str) -> R {
    let snap = {
        let mut map = lock(&st.statements);
        let stmt = map.map.get_mut(id).ok_or_else(|| unknown_statement(id))?;
        stmt.observe()
    };
    Ok(render(id, snap, &st.base_url))
}

/// POST /api/2.0/sql/statements/{id}/cancel
pub(crate) fn cancel(st: &Shared, id: &str) -> R {
    {
        let mut map = lock(&st.statements);
        let stmt = map.map.get_mut(id).ok_or_else(|| unknown_statement(id))?;
        if stmt.running() {
            stmt.canceled = true;
        }
    }
    lock(&st.cancelled).push(id.to_string());
    ok(json!({}))
}

fn state_error(id: &str, state: &str) -> Response {
    error(
        400,
        "INVALID_STATE",
        format!(
            "Statement {id} is in state {state}; result chunks are only available for SUCCEEDED statements."
        ),
    )
}

fn out_of_range(n: u64, total: u64) -> Response {
    bad_param(format!(
        "Chunk index {n} is out of range; the result has {total} chunk(s)."
    ))
}

/// GET /api/2.0/sql/statements/{id}/result/chunks/{n}
pub(crate) fn chunk(st: &Shared, id: &str, n: &str) -> R {
    let n: u64 = n
        .parse()
        .map_err(|_| bad_param(format!("Invalid chunk index '{n}'.")))?;
    let outcome = {
        let map = lock(&st.statements);
        let stmt = map.map.get(id).ok_or_else(|| unknown_statement(id))?;
        if stmt.canceled {
            return Err(state_error(id, "CANCELED"));
        }
        if let Some(state) = stmt.phases.front() {
            return Err(state_error(id, state));
        }
        stmt.outcome.clone()
    };
    match outcome {
        Outcome::Rows(spec) => {
            if n >= spec.chunk_count() {
                return Err(out_of_range(n, spec.chunk_count()));
            }
            Ok(json_status(200, &spec.chunk(n, &st.base_url)))
        }
        Outcome::NoResult { .. } => Err(out_of_range(n, 0)),
        Outcome::Failed { .. } => Err(state_error(id, "FAILED")),
        Outcome::Canceled => Err(state_error(id, "CANCELED")),
        Outcome::Fixture(v) => {
            let state = fixture_state(&v).unwrap_or("UNKNOWN");
            if state != "SUCCEEDED" {
                return Err(state_error(id, state));
            }
            let total = v
                .pointer("/manifest/total_chunk_count")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if n >= total {
                return Err(out_of_range(n, total));
            }
            if n == 0 {
                return ok(v.get("result").cloned().unwrap_or_else(|| json!({})));
            }
            // Later chunks of a fixture: metadata from the manifest, no data.
            let meta = v
                .pointer("/manifest/chunks")
                .and_then(Value::as_array)
                .and_then(|c| c.get(n as usize))
                .cloned()
                .unwrap_or_else(|| json!({ "chunk_index": n }));
            let mut item = meta;
            if n + 1 < total {
                crate::util::set(&mut item, "next_chunk_index", json!(n + 1));
                crate::util::set(
                    &mut item,
                    "next_chunk_internal_link",
                    json!(chunk_link(id, n + 1)),
                );
            }
            if v.pointer("/result/external_links").is_some() {
                crate::util::set(
                    &mut item,
                    "external_link",
                    json!(format!(
                        "{}/external-results/{id}/{n}?X-Amz-Signature=emulated",
                        st.base_url
                    )),
                );
                crate::util::set(
                    &mut item,
                    "expiration",
                    json!(rfc3339_ms(crate::util::now_ms() + 15 * 60 * 1000)),
                );
                ok(json!({ "external_links": [item] }))
            } else {
                ok(item)
            }
        }
    }
}

/// GET /external-results/{id}/{n}: the "cloud storage" behind external links. Like a
/// pre-signed URL it refuses an `Authorization` header (the Databricks token must not be
/// sent there).
pub(crate) fn download(st: &Shared, req: &Req, id: &str, n: &str) -> Response {
    if req.header("authorization").is_some() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message><ArgumentName>Authorization</ArgumentName></Error>";
        return (
            crate::util::status_code(400),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            )],
            body,
        )
            .into_response();
    }
    let spec = {
        let map = lock(&st.statements);
        match map.map.get(id).map(|s| s.outcome.clone()) {
            Some(Outcome::Rows(spec)) if spec.opts.external => spec,
            _ => return xml_not_found(),
        }
    };
    let Ok(n) = n.parse::<u64>() else {
        return xml_not_found();
    };
    if n >= spec.chunk_count() {
        return xml_not_found();
    }
    let mut body = Vec::new();
    if spec.write_download(n, &mut body).is_err() {
        return error(500, "INTERNAL_ERROR", "emulator failed to render chunk");
    }
    let ct = match spec.opts.format {
        Format::JsonArray => "application/json",
        Format::Csv => "text/csv",
        Format::Arrow => "application/vnd.apache.arrow.stream",
    };
    if spec.opts.format == Format::JsonArray {
        return json_bytes(200, body);
    }
    (
        crate::util::status_code(200),
        [(header::CONTENT_TYPE, HeaderValue::from_static(ct))],
        Body::from(body),
    )
        .into_response()
}

fn xml_not_found() -> Response {
    (
        crate::util::status_code(404),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        )],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
    )
        .into_response()
}
