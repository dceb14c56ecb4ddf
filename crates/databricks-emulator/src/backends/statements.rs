//! SQL Statement Execution API 2.0 (REFERENCE §1) on fixture data: the emulator is the
//! statement service's backend. A statement's script (by a substring of its text, else
//! the recorded `statements_execute_succeeded_inline.json`) decides what it reports:
//! generated rows, PENDING/RUNNING for some looks first, a failure, a cancel, no result,
//! or a recorded response. The service (`workspace-server`) keeps the statements and
//! writes every response, chunk and download.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use databricks_api::backend::{
    Answer, Execution, Progress, ResultRows, SqlStatements, StatementFailure, StatementRun,
    async_trait,
};
use databricks_api::cells;
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::{ColumnInfo, StatementResponse, StatementState};

use crate::StatementScript;
use crate::backends::warehouses::FixtureWarehouses;
use crate::util::lock;

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

#[async_trait]
impl SqlStatements for FixtureStatements {
    async fn start(&self, run: StatementRun) -> Answer<Box<dyn Execution>> {
        self.warehouses.start(&run.warehouse_id)?;
        let script = lock(&self.scripts)
            .iter()
            .find(|(contains, _)| run.statement.contains(contains.as_str()))
            .map(|(_, script)| script.clone())
            .unwrap_or_else(|| {
                let default = StatementScript::Fixture(DEFAULT_FIXTURE.to_string());
                match self.pending_polls {
                    0 => default,
                    polls => StatementScript::pending(polls, default),
                }
            });
        let mut phases = VecDeque::new();
        let outcome = expand(&script, run.row_limit, &mut phases)?;
        phases.push_back(outcome);
        Ok(Box::new(Scripted {
            id: run.statement_id,
            phases: Mutex::new(phases),
            cancelled: Arc::clone(&self.cancelled),
        }) as Box<dyn Execution>)
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
        } => Progress::Succeeded(Arc::new(Rows::generated(
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
        StatementScript::NoResult => {
            Progress::Succeeded(Arc::new(Rows::recorded(Vec::new(), Vec::new())))
        }
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
        StatementState::Succeeded => Progress::Succeeded(Arc::new(Rows::recorded(
            response
                .manifest
                .map(|m| m.schema.columns)
                .unwrap_or_default(),
            response
                .result
                .and_then(|r| r.data_array)
                .unwrap_or_default(),
        ))),
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
    /// States still to be reported, one per look; the last, the outcome, for good.
    phases: Mutex<VecDeque<Progress>>,
    cancelled: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Execution for Scripted {
    fn observe(&self) -> Progress {
        let mut phases = lock(&self.phases);
        let next = match phases.len() {
            0 | 1 => phases.front().cloned(),
            _ => phases.pop_front(),
        };
        next.unwrap_or(Progress::Canceled)
    }

    /// A script moves on when it is looked at, never by itself.
    async fn settled(&self) {}

    fn cancel(&self) {
        lock(&self.cancelled).push(self.id.clone());
        let mut phases = lock(&self.phases);
        if phases.len() > 1 || matches!(phases.back(), Some(Progress::Pending | Progress::Running))
        {
            *phases = VecDeque::from([Progress::Canceled]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rows

/// A statement's rows, made a chunk at a time: a chunk is written without materialising
/// the whole result.
struct Rows {
    columns: Vec<ColumnInfo>,
    source: Source,
    /// Rows after `row_limit`.
    total: u64,
    truncated: bool,
    /// Rows per chunk when the script decides them; `None` lets the server size chunks.
    chunk_rows: Option<u64>,
}

enum Source {
    /// A recorded response's inline rows (none for a statement without a result set).
    /// Downloads and attachments carry the recorded text: Arrow columns are text columns.
    Recorded(Vec<Vec<Option<String>>>),
    /// Generated rows: produced on demand.
    Generated(Vec<Col>),
}

impl Rows {
    fn recorded(columns: Vec<ColumnInfo>, rows: Vec<Vec<Option<String>>>) -> Rows {
        Rows {
            columns,
            total: rows.len() as u64,
            source: Source::Recorded(rows),
            truncated: false,
            chunk_rows: None,
        }
    }

    /// `rows` generated rows of `columns` (name, SQL type), cut by `limit`, in chunks of
    /// `chunk_rows` (0 ⇒ one chunk).
    fn generated(
        columns: &[(String, String)],
        rows: u64,
        chunk_rows: u64,
        limit: Option<u64>,
    ) -> Rows {
        let cols: Vec<Col> = (columns.iter().enumerate())
            .map(|(i, (name, type_text))| Col::new(i, name, type_text))
            .collect();
        let total = limit.map_or(rows, |l| l.min(rows));
        Rows {
            columns: cols.iter().map(|c| c.info.clone()).collect(),
            source: Source::Generated(cols),
            total,
            truncated: total < rows,
            chunk_rows: Some(match chunk_rows {
                0 => total.max(1),
                n => n,
            }),
        }
    }
}

impl ResultRows for Rows {
    fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }
    fn row_count(&self) -> u64 {
        self.total
    }
    fn truncated(&self) -> bool {
        self.truncated
    }
    /// The JSON size of the first row, to size chunks.
    fn row_bytes(&self) -> usize {
        let first = self
            .batch(0..1)
            .map(|b| cells::rows(&b))
            .unwrap_or_default();
        let cells = first.first().map(Vec::as_slice).unwrap_or_default();
        cells
            .iter()
            .map(|c| c.as_ref().map_or(5, |s| s.len() + 3))
            .sum::<usize>()
            + 2
    }
    fn chunk_rows(&self) -> Option<u64> {
        self.chunk_rows
    }
    fn batch(&self, rows: Range<u64>) -> Result<RecordBatch, ArrowError> {
        let rows = rows.start.min(self.total)..rows.end.min(self.total);
        match &self.source {
            Source::Generated(cols) => crate::arrow::generated(cols, rows),
            Source::Recorded(all) => {
                let names = self.columns.iter().map(|c| c.name.as_str());
                let slice = all.get(rows.start as usize..rows.end as usize);
                crate::arrow::text(names, slice.unwrap_or_default())
            }
        }
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

/// A generated column: its manifest entry, and how its cells are made.
pub(crate) struct Col {
    pub(crate) info: ColumnInfo,
    pub(crate) kind: Kind,
}

impl Col {
    /// Column `position`, `name`, of SQL type `type_text`.
    fn new(position: usize, name: &str, type_text: &str) -> Col {
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
        let (precision, scale, kind) = match kind {
            // DECIMAL(p,s); defaults (10,0).
            Kind::Decimal(_) => {
                let args = upper.split_once('(').map_or("", |(_, rest)| rest);
                let mut args = (args.trim_end_matches(')').split(','))
                    .filter_map(|x| x.trim().parse::<u32>().ok());
                let (p, s) = (args.next().unwrap_or(10), args.next().unwrap_or(0));
                (Some(p), Some(s), Kind::Decimal(s))
            }
            kind => (None, None, kind),
        };
        let info = ColumnInfo {
            name: name.to_string(),
            position: Some(position as i64),
            type_name: Some(type_name.to_string()),
            type_text: Some(type_text.to_string()),
            type_precision: precision.map(i64::from),
            type_scale: scale.map(i64::from),
            type_interval_type: None,
        };
        Col { info, kind }
    }

    /// The text of row `r` of a column Arrow carries as text (SQL NULL ⇒ None); the
    /// other kinds' values are made as Arrow values (`crate::arrow`).
    pub(crate) fn text(&self, r: u64) -> Option<String> {
        Some(match self.kind {
            Kind::Str if r % 7 == 6 => return None,
            Kind::Str => format!("s{r}"),
            Kind::Char => format!("c{}", r % 10),
            Kind::Array => format!("[\"a{r}\",\"b{r}\"]"),
            Kind::Map => format!("{{\"k\":\"v{r}\"}}"),
            Kind::Struct => format!("{{\"id\":{r},\"name\":\"n{r}\"}}"),
            Kind::Interval => format!("{} 00:00:00.000000000", r % 1000),
            _ => return None,
        })
    }
}
