//! SQL Statement Execution API 2.0 (REFERENCE §1) on fixture data: the emulator is the
//! statement service's backend. A statement's script (by a substring of its text, else
//! the recorded `statements_execute_succeeded_inline.json`) decides what it reports:
//! generated rows, PENDING/RUNNING for some looks first, a failure, a cancel, no result,
//! or a recorded response. The service (`workspace-server`) keeps the statements and
//! writes every response, chunk and download.

use std::collections::VecDeque;
use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use databricks_api::backend::{
    Answer, BoxFuture, Execution, Progress, ResultFormat, ResultRows, SqlStatements,
    StatementFailure, StatementRun,
};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::{ColumnInfo, StatementResponse, StatementState};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crate::StatementScript;
use crate::backends::warehouses::FixtureWarehouses;
use crate::util::{date_string, lock, rfc3339_ms};

/// The default script: the rows of `statements_execute_succeeded_inline.json`.
const DEFAULT_FIXTURE: &str = "statements_execute_succeeded_inline.json";

/// The emulator's statement backend.
pub(crate) struct FixtureStatements {
    pub scripts: Arc<Mutex<Vec<(String, StatementScript)>>>,
    /// Ids of the statements a cancel request named, in order.
    pub cancelled: Arc<Mutex<Vec<String>>>,
    pub warehouses: FixtureWarehouses,
    /// PENDING looks before an unscripted statement's outcome.
    pub pending_polls: u32,
    /// Whether `INLINE_OR_EXTERNAL_LINKS` is accepted (`EmulatorConfig::hybrid_disposition`).
    pub hybrid_disposition: bool,
}

impl SqlStatements for FixtureStatements {
    fn start<'a>(&'a self, run: StatementRun) -> Answer<'a, Box<dyn Execution>> {
        Box::pin(async move {
            self.warehouses.ensure_for_statement(&run.warehouse_id)?;
            let script = lock(&self.scripts)
                .iter()
                .find(|(contains, _)| run.statement.contains(contains.as_str()))
                .map(|(_, script)| script.clone())
                .unwrap_or_else(|| {
                    let default = StatementScript::Fixture(DEFAULT_FIXTURE.to_string());
                    if self.pending_polls > 0 {
                        StatementScript::Pending {
                            polls: self.pending_polls,
                            then: Box::new(default),
                        }
                    } else {
                        default
                    }
                });
            let mut phases = VecDeque::new();
            let outcome = expand(&script, run.row_limit, &mut phases)?;
            Ok(Box::new(Scripted {
                id: run.statement_id,
                phases: Mutex::new(phases),
                outcome,
                canceled: AtomicBool::new(false),
                cancelled: Arc::clone(&self.cancelled),
            }) as Box<dyn Execution>)
        })
    }

    fn accepts_hybrid_disposition(&self) -> bool {
        self.hybrid_disposition
    }
}

/// Expands a script into the states reported before the outcome, and the outcome.
fn expand(
    script: &StatementScript,
    row_limit: Option<u64>,
    phases: &mut VecDeque<Progress>,
) -> Result<Progress, ApiError> {
    Ok(match script {
        StatementScript::Rows {
            columns,
            rows,
            chunk_rows,
        } => Progress::Succeeded(Arc::new(Generated::new(
            columns,
            *rows as u64,
            *chunk_rows as u64,
            row_limit,
        ))),
        StatementScript::Pending { polls, then } => {
            // The execute response and the first `polls` GETs say PENDING, one more says
            // RUNNING, then the inner script answers.
            for _ in 0..=*polls {
                phases.push_back(Progress::Pending);
            }
            phases.push_back(Progress::Running);
            expand(then, row_limit, phases)?
        }
        StatementScript::Failed {
            error_code,
            message,
            sql_state,
        } => Progress::Failed(StatementFailure {
            error_code: error_code.clone(),
            message: message.clone(),
            sql_state: sql_state.clone(),
        }),
        StatementScript::Canceled => Progress::Canceled,
        StatementScript::NoResult => Progress::Succeeded(Arc::new(Recorded::default())),
        StatementScript::Fixture(name) => recorded(name)?,
    })
}

/// A recorded statement response as the outcome it records: a succeeded one's inline
/// rows, a failure, a cancel, or a statement that never finishes.
fn recorded(name: &str) -> Result<Progress, ApiError> {
    let internal = |message: String| ApiError::new(ErrorCode::InternalError, message);
    let text = crate::fixtures::try_fixture(name)
        .ok_or_else(|| internal(format!("emulator script names an unknown fixture {name:?}")))?;
    let response: StatementResponse = serde_json::from_str(text)
        .map_err(|e| internal(format!("fixture {name} is not a statement: {e}")))?;
    Ok(match response.status.state {
        StatementState::Succeeded => Progress::Succeeded(Arc::new(Recorded {
            columns: response
                .manifest
                .map(|m| m.schema.columns)
                .unwrap_or_default(),
            rows: response
                .result
                .and_then(|r| r.data_array)
                .unwrap_or_default(),
        })),
        StatementState::Failed => {
            let error = response.status.error.unwrap_or_default();
            Progress::Failed(StatementFailure {
                error_code: error.error_code.unwrap_or_else(|| "UNKNOWN".into()),
                message: error.message.unwrap_or_default(),
                sql_state: response.status.sql_state,
            })
        }
        StatementState::Canceled => Progress::Canceled,
        StatementState::Closed => Progress::Closed,
        StatementState::Pending => Progress::Pending,
        StatementState::Running | StatementState::Unknown => Progress::Running,
    })
}

/// One scripted statement.
struct Scripted {
    id: String,
    /// States still to be reported (one per look) before the outcome.
    phases: Mutex<VecDeque<Progress>>,
    outcome: Progress,
    canceled: AtomicBool,
    cancelled: Arc<Mutex<Vec<String>>>,
}

impl Execution for Scripted {
    fn observe(&self) -> Progress {
        if self.canceled.load(Ordering::SeqCst) {
            return Progress::Canceled;
        }
        lock(&self.phases)
            .pop_front()
            .unwrap_or_else(|| self.outcome.clone())
    }

    /// A script moves on when it is looked at, never by itself.
    fn settled(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    fn cancel(&self) {
        lock(&self.cancelled).push(self.id.clone());
        let running = !lock(&self.phases).is_empty()
            || matches!(self.outcome, Progress::Pending | Progress::Running);
        if running {
            self.canceled.store(true, Ordering::SeqCst);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rows

/// A recorded response's inline rows (none for a statement without a result set).
/// Downloads and attachments carry the recorded text: Arrow columns are text columns.
#[derive(Default)]
struct Recorded {
    columns: Vec<ColumnInfo>,
    rows: Vec<Vec<Option<String>>>,
}

impl Recorded {
    fn slice(&self, rows: Range<u64>) -> &[Vec<Option<String>>] {
        let end = (rows.end as usize).min(self.rows.len());
        self.rows.get(rows.start as usize..end).unwrap_or_default()
    }
}

impl ResultRows for Recorded {
    fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }
    fn row_count(&self) -> u64 {
        self.rows.len() as u64
    }
    fn truncated(&self) -> bool {
        false
    }
    fn row_bytes(&self) -> usize {
        row_bytes(self.rows.first().map(Vec::as_slice).unwrap_or_default())
    }
    fn cells(&self, rows: Range<u64>) -> Vec<Vec<Option<String>>> {
        self.slice(rows).to_vec()
    }
    fn write(
        &self,
        rows: Range<u64>,
        format: ResultFormat,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let rows = self.slice(rows);
        match format {
            ResultFormat::JsonArray => {
                serde_json::to_writer(out, rows).map_err(std::io::Error::other)
            }
            ResultFormat::Csv => rows.iter().try_for_each(|row| write_csv_row(out, row)),
            ResultFormat::ArrowStream => {
                let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
                crate::arrow::write_text(&names, rows, out)
            }
        }
    }
}

/// The JSON size of a row, to size chunks.
fn row_bytes(row: &[Option<String>]) -> usize {
    row.iter()
        .map(|c| c.as_ref().map_or(5, |s| s.len() + 3))
        .sum::<usize>()
        + 2
}

fn write_csv_row(out: &mut dyn Write, row: &[Option<String>]) -> std::io::Result<()> {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if let Some(v) = cell {
            if v.contains([',', '"', '\n']) {
                write!(out, "\"{}\"", v.replace('"', "\"\""))?;
            } else {
                out.write_all(v.as_bytes())?;
            }
        }
    }
    out.write_all(b"\n")
}

/// Generated rows: produced on demand, one chunk at a time.
struct Generated {
    cols: Vec<Col>,
    columns: Vec<ColumnInfo>,
    total: u64,
    /// 0 ⇒ one chunk.
    chunk_rows: u64,
    truncated: bool,
}

impl Generated {
    fn new(columns: &[(String, String)], rows: u64, chunk_rows: u64, limit: Option<u64>) -> Self {
        let cols: Vec<Col> = columns.iter().map(|(n, t)| Col::new(n, t)).collect();
        let total = limit.map_or(rows, |l| l.min(rows));
        Generated {
            columns: cols
                .iter()
                .enumerate()
                .map(|(i, c)| c.column_info(i))
                .collect(),
            cols,
            total,
            chunk_rows: if chunk_rows == 0 {
                total.max(1)
            } else {
                chunk_rows
            },
            truncated: total < rows,
        }
    }
}

impl ResultRows for Generated {
    fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }
    fn row_count(&self) -> u64 {
        self.total
    }
    fn truncated(&self) -> bool {
        self.truncated
    }
    fn row_bytes(&self) -> usize {
        let row: Vec<Option<String>> = self.cols.iter().map(|c| c.cell(0)).collect();
        row_bytes(&row)
    }
    fn chunk_rows(&self) -> Option<u64> {
        Some(self.chunk_rows)
    }
    fn cells(&self, rows: Range<u64>) -> Vec<Vec<Option<String>>> {
        rows.map(|r| self.cols.iter().map(|c| c.cell(r)).collect())
            .collect()
    }
    fn write(
        &self,
        rows: Range<u64>,
        format: ResultFormat,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        match format {
            ResultFormat::JsonArray => {
                let data = DataArray {
                    cols: &self.cols,
                    rows,
                };
                serde_json::to_writer(out, &data).map_err(std::io::Error::other)
            }
            ResultFormat::Csv => rows.into_iter().try_for_each(|r| {
                let row: Vec<Option<String>> = self.cols.iter().map(|c| c.cell(r)).collect();
                write_csv_row(out, &row)
            }),
            ResultFormat::ArrowStream => {
                crate::arrow::write_chunk(&self.cols, rows.start, rows.end - rows.start, out)
            }
        }
    }
}

/// `data_array`, serialised row by row without materialising the chunk.
struct DataArray<'a> {
    cols: &'a [Col],
    rows: Range<u64>,
}

impl Serialize for DataArray<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some((self.rows.end - self.rows.start) as usize))?;
        for r in self.rows.clone() {
            let row: Vec<Option<String>> = self.cols.iter().map(|c| c.cell(r)).collect();
            seq.serialize_element(&row)?;
        }
        seq.end()
    }
}

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

    fn column_info(&self, position: usize) -> ColumnInfo {
        ColumnInfo {
            name: self.name.clone(),
            position: Some(position as i64),
            type_name: Some(self.type_name.to_string()),
            type_text: Some(self.type_text.clone()),
            type_precision: self.precision.map(i64::from),
            type_scale: self.scale.map(i64::from),
            type_interval_type: None,
        }
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
