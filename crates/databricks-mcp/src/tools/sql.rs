//! SQL toolset: `run_sql_query`, `get_sql_result`, `list_warehouses`.
//!
//! The statement lifecycle (submit, wait, poll with backoff, cancel upstream, deadline)
//! is the client's `execute_and_wait`; this module adds the warehouse choice, the
//! read-only policy, progress reports and the answer. A statement that outlives the
//! deadline is not an error: the answer carries its `statement_id` and says to call
//! `get_sql_result`. `run_sql_query` and `get_sql_result` link the result view
//! (`view/`), which draws their `structuredContent` in hosts that render MCP Apps.

use std::future::Future;
use std::time::Duration;

use databricks_client::services::results::ChunkEncoding;
use databricks_client::services::sql::{
    ExecuteStatementRequest, ResultData, StatementParameter, StatementResponse, StatementState,
};
use databricks_client::statements::{StatementError, WaitOptions};
use databricks_client::{DatabricksClient, ErrorKind, poll::Attempt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ListSpec, SurfaceOptions, ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::logging::Level;
use crate::render::{self, TextFormat};
use crate::settings::Settings;
use crate::warehouse::Choice;

/// Most rows one answer may show, whatever the caller asks.
pub const MAX_ROWS_PER_ANSWER: u32 = 1000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSqlArgs {
    /// The SQL to run (Databricks SQL dialect). Use three-part names (catalog.schema.table) or set catalog/schema. Several statements may be separated by semicolons only when the server allows writes.
    pub query: String,
    /// SQL warehouse id to run on. Omit it to use the server's default warehouse or an automatic choice (call list_warehouses to see ids).
    #[serde(default)]
    pub warehouse_id: Option<String>,
    /// Default catalog for unqualified table names.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Default schema for unqualified table names.
    #[serde(default)]
    pub schema: Option<String>,
    /// Values for named parameter markers (:name) in the query. Prefer these to pasting values into the SQL text.
    #[serde(default)]
    pub parameters: Option<Vec<SqlParameter>>,
    /// Most rows to show in this answer (1-1000). The rest can be paged with get_sql_result.
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Cap on the rows the warehouse produces (like LIMIT, but the answer says the result was truncated).
    #[serde(default)]
    pub row_limit: Option<i64>,
    /// Text form of the rows: csv (default, fewest tokens), compact (pipe table), markdown or json.
    #[serde(default)]
    pub format: Option<TextFormat>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlParameter {
    /// Marker name without the colon.
    pub name: String,
    /// The value as text; omit it for SQL NULL.
    #[serde(default)]
    pub value: Option<String>,
    /// SQL type such as INT, DATE, DECIMAL(10,2); default STRING.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSqlResultArgs {
    /// The statement_id returned by run_sql_query.
    pub statement_id: String,
    /// First row to show (0-based). Default 0.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Most rows to show (1-1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Text form of the rows: csv (default, fewest tokens), compact (pipe table), markdown or json.
    #[serde(default)]
    pub format: Option<TextFormat>,
}

/// `structuredContent` of run_sql_query and get_sql_result (their `outputSchema`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SqlResult {
    /// Handle of the statement; pass it to get_sql_result to poll or page.
    pub statement_id: String,
    /// SUCCEEDED, or PENDING / RUNNING when the statement outlived the call.
    pub state: String,
    /// The warehouse that ran the statement, when this call chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    /// Result columns with their SQL types (empty until SUCCEEDED).
    pub columns: Vec<SqlColumn>,
    /// The rows shown, cells typed (numbers and booleans unquoted, SQL NULL as null).
    #[schemars(schema_with = "cell_rows_schema")]
    pub rows: Vec<Vec<Value>>,
    /// Index of the first row shown in the whole result.
    pub row_offset: u64,
    /// Number of rows shown.
    pub row_count: u64,
    /// Rows in the whole result, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_row_count: Option<u64>,
    /// True when the warehouse cut the result (row_limit or size limit).
    pub truncated: bool,
    /// Offset to pass to get_sql_result for the next rows; null when none are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// Rows of cells, each a string, number, boolean or SQL NULL: spelled as an `anyOf` of
/// single types, which every client reads (no type array) and which keeps null valid.
fn cell_rows_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {
            "type": "array",
            "items": {"anyOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"}
            ]}
        }
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SqlColumn {
    pub name: String,
    /// SQL type, e.g. BIGINT, DECIMAL(10,2), ARRAY<STRING>.
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWarehousesArgs {
    /// Cursor from a previous answer, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

const RUN_SQL_READ_ONLY: &str = "Run a read-only SQL query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) on a Databricks SQL warehouse and get the rows as CSV; writes are refused. Find tables first with list_tables or get_table_schema. The answer shows up to max_rows rows, the total, and how to page the rest with get_sql_result; a slow query returns its statement_id.";

const RUN_SQL_WRITES: &str = "Run SQL on a Databricks SQL warehouse and get the rows as CSV: reads and, because the operator enabled writes, INSERT/UPDATE/DELETE/MERGE and DDL. Prefer reads; double-check statements that change data. The answer shows up to max_rows rows, the total, and how to page the rest with get_sql_result; a slow query returns its statement_id.";

const LIST_WAREHOUSES: ListSpec = ListSpec {
    tool: "list_warehouses",
    key: "warehouses",
    columns: &["id", "name", "state", "size", "type", "clusters"],
    item: "SQL warehouses: id, name, state, cluster_size, type (serverless, pro, classic), num_clusters, auto_stop_mins.",
    fields: &[],
};

pub fn tools(options: SurfaceOptions) -> Vec<ToolDef> {
    // With writes enabled the same tool runs any SQL: an action, and a destructive one.
    let (kind, description) = if options.allow_writes {
        (
            ToolKind::Action {
                destructive: true,
                idempotent: false,
            },
            RUN_SQL_WRITES,
        )
    } else {
        (ToolKind::ReadGet, RUN_SQL_READ_ONLY)
    };
    vec![
        ToolDef::new(
            "run_sql_query",
            "Run SQL query",
            description,
            Toolset::Sql,
            kind,
            run_sql_query,
        )
        .with_output_schema::<SqlResult>()
        .with_view(),
        ToolDef::new(
            "get_sql_result",
            "Get SQL result",
            "Poll a statement run_sql_query left running, or page through a finished result: its statement_id and the offset of the first row to show. Results are kept about an hour.",
            Toolset::Sql,
            ToolKind::ReadGet,
            get_sql_result,
        )
        .with_output_schema::<SqlResult>()
        .with_view(),
        ToolDef::list(
            &LIST_WAREHOUSES,
            "List SQL warehouses",
            "List the SQL warehouses with id, state, size and type (serverless, pro, classic): to pick a warehouse_id for run_sql_query, or to see why a query waits (a STOPPED one starts on first use).",
            Toolset::Sql,
            list_warehouses,
        ),
    ]
}

async fn run_sql_query(ctx: CallContext, args: RunSqlArgs) -> Result<ToolOutput, ToolError> {
    let state = ctx.state.clone();
    let query = args.query.trim();
    if query.is_empty() {
        return Err(ToolError::new("query is empty: give the SQL to run"));
    }
    guard(query, &state.settings)?;
    let choice = choose_warehouse(&ctx, args.warehouse_id.clone()).await?;
    confirm_write(&ctx, query, &choice).await?;
    let max_rows = args
        .max_rows
        .map(|m| m.clamp(1, MAX_ROWS_PER_ANSWER) as usize)
        .unwrap_or(state.settings.max_rows);
    let request = ExecuteStatementRequest {
        catalog: args.catalog.filter(|c| !c.is_empty()),
        schema: args.schema.filter(|s| !s.is_empty()),
        parameters: args
            .parameters
            .unwrap_or_default()
            .into_iter()
            .map(|p| StatementParameter {
                name: p.name,
                value: p.value,
                type_: p.type_,
            })
            .collect(),
        row_limit: match args.row_limit {
            Some(n) if n < 1 => return Err(ToolError::new("row_limit must be at least 1")),
            other => other,
        },
        ..statement_request(&state.settings, query, &choice)
    };
    let response = execute(
        &ctx,
        request,
        &choice,
        state.settings.sql_timeout,
        FollowUp::GetSqlResult,
    )
    .await?;
    answer(
        &ctx,
        response,
        Some(&choice),
        0,
        max_rows,
        args.format.unwrap_or_default(),
    )
    .await
}

/// The operator's write policy: in read-only mode every statement of `query` must be a
/// read (sql-guard), checked before anything reaches a warehouse.
pub(crate) fn guard(query: &str, settings: &Settings) -> Result<(), ToolError> {
    if settings.allow_writes {
        return Ok(());
    }
    sql_guard::check_read_only_with(query, settings.guard_options())
        .map_err(|e| ToolError::new(refusal(&e, "Rewrite the query as a read; an administrator can enable writes by starting the server with --allow-writes.")))?;
    Ok(())
}

/// With writes enabled, a statement that is not a recognised read runs only once the
/// person confirmed it (reads run at once).
pub(crate) async fn confirm_write(
    ctx: &CallContext,
    query: &str,
    choice: &Choice,
) -> Result<(), ToolError> {
    let settings = &ctx.state.settings;
    if !settings.allow_writes
        || sql_guard::check_read_only_with(query, settings.guard_options()).is_ok()
    {
        return Ok(());
    }
    let statement = crate::render::clip(query, 1000);
    ctx.confirm(
        &format!("warehouse {}", choice.id),
        &format!(
            "Run this statement, which may change data, on SQL warehouse {}?\n{statement}",
            choice.id
        ),
    )
    .await
}

/// Why a statement was refused, with the one hint that fits: a statement the guard could
/// not recognise gets the parser's diagnosis (never advice to enable writes); a side-effect
/// function names its own option; a recognised write gets `write_hint`.
pub(crate) fn refusal(error: &sql_guard::GuardError, write_hint: &str) -> String {
    use sql_guard::{GuardError, StatementKind};
    const READS: &str = "only SELECT/WITH/VALUES/SHOW/DESCRIBE/EXPLAIN statements run";
    match error {
        GuardError::Write {
            kind: StatementKind::Unknown,
            statement,
            reason,
        } => {
            let parser = sql_guard::syntax_error(statement)
                .map(|e| format!(" The parser says: {e}."))
                .unwrap_or_default();
            format!(
                "Refused: not recognised as a read-only statement ({reason}) — check the syntax.{parser} This server is read-only: {READS}."
            )
        }
        GuardError::Write {
            kind: StatementKind::SideEffectFunction(_),
            ..
        } => format!("Refused: {error}."),
        _ => format!("Refused: {error}. This server is read-only: {READS}. {write_hint}"),
    }
}

/// The warehouse for this call: `_meta.warehouse_id`, then `argument`, then the
/// operator's default, then automatic selection.
pub(crate) async fn choose_warehouse(
    ctx: &CallContext,
    argument: Option<String>,
) -> Result<Choice, ToolError> {
    let state = &ctx.state;
    state
        .warehouses
        .choose(
            &state.client,
            ctx.meta_text("warehouse_id")?,
            argument,
            state.settings.default_warehouse_id.as_deref(),
        )
        .await
}

/// An execute request for `statement` on the chosen warehouse with the server's
/// wait, disposition and format settings (callers add parameters, catalog, limits).
pub(crate) fn statement_request(
    settings: &crate::settings::Settings,
    statement: &str,
    choice: &Choice,
) -> ExecuteStatementRequest {
    ExecuteStatementRequest {
        statement: statement.to_string(),
        warehouse_id: choice.id.clone(),
        wait_timeout: Some(server_wait(settings.sql_timeout)),
        on_wait_timeout: Some("CONTINUE".into()),
        disposition: Some(settings.sql_disposition.api_name().into()),
        format: Some(settings.sql_disposition.format().into()),
        ..Default::default()
    }
}

/// Submits `request` and waits for the statement until it is terminal or `timeout`
/// passes (then it is returned still PENDING/RUNNING); a cancel of the call cancels the
/// statement upstream (the client's `execute_and_wait`).
pub(crate) async fn execute(
    ctx: &CallContext,
    mut request: ExecuteStatementRequest,
    choice: &Choice,
    timeout: Duration,
    follow_up: FollowUp,
) -> Result<StatementResponse, ToolError> {
    if ctx.wants_progress() {
        // A client watching progress gets it from the start, and its cancel reaches the
        // warehouse at once: submit without the server-side wait (up to 10 s in which
        // nothing can be reported or cancelled) and poll. It costs a fast query one
        // extra round trip (the first poll, 0.1 s later).
        request.wait_timeout = Some("0s".into());
    }
    let options = WaitOptions::within(timeout, ctx.ct.clone());
    let waited = ctx
        .state
        .client
        .execute_and_wait(request, &options, |r, attempt| report(ctx, r, attempt))
        .await;
    match waited {
        Ok(r) => Ok(r),
        Err(StatementError::Submit(e)) => {
            if e.kind() == Some(ErrorKind::NotFound) {
                ctx.state.warehouses.forget().await;
            }
            Err(ToolError::upstream(
                &format!("Submitting the statement to {}", choice.explain()),
                e,
            )
            .hint_for(
                ErrorKind::NotFound,
                "Call list_warehouses and pass a warehouse_id from it, or omit warehouse_id for an automatic choice.",
            )
            .needs("CAN USE on the SQL warehouse"))
        }
        Err(e) => Err(statement_error(e, follow_up)),
    }
}

/// Polls a submitted statement until it is terminal, `timeout` passes or the call is
/// cancelled (then the statement is cancelled upstream).
pub(crate) async fn wait_for_statement(
    ctx: &CallContext,
    response: StatementResponse,
    timeout: Duration,
    follow_up: FollowUp,
) -> Result<StatementResponse, ToolError> {
    let options = WaitOptions::within(timeout, ctx.ct.clone());
    ctx.state
        .client
        .wait_for_statement(response, &options, |r, attempt| report(ctx, r, attempt))
        .await
        .map_err(|e| statement_error(e, follow_up))
}

/// What a failure to wait means for the caller; `follow_up` names the tool that
/// checks on a statement that may still be running.
fn statement_error(e: StatementError, follow_up: FollowUp) -> ToolError {
    match e {
        StatementError::Submit(e) => ToolError::upstream("Submitting the statement", e),
        StatementError::Cancelled {
            statement_id: Some(id),
        } => ToolError::new(format!(
            "cancelled by the client; statement {id} was cancelled on the warehouse"
        )),
        StatementError::Cancelled { statement_id: None } => {
            ToolError::new("cancelled by the client")
        }
        StatementError::Poll {
            statement_id,
            error,
        } => ToolError::upstream(&format!("Polling statement {statement_id}"), error).with_hint(
            format!(
                "The statement may still be running. {}",
                follow_up.still_running(&statement_id)
            ),
        ),
        StatementError::Internal(m) => ToolError::new(format!("internal error: {m}")),
    }
}

/// A failed read of statement `id`, with the hint for an unknown or expired one.
pub(crate) fn reading_statement(id: &str, e: databricks_client::Error) -> ToolError {
    ToolError::upstream(&format!("Reading statement {id}"), e).hint_for(
        ErrorKind::NotFound,
        "The statement_id is unknown or its result has expired (results are kept about an hour): run the query again.",
    )
}

/// A progress report before each poll, when the client asked for them.
fn report<'a>(
    ctx: &'a CallContext,
    response: &StatementResponse,
    attempt: Attempt,
) -> impl Future<Output = ()> + use<'a> {
    let message = ctx.wants_progress().then(|| {
        let what = match response.status.state {
            StatementState::Pending => "queued (the warehouse may be starting)",
            _ => "running",
        };
        format!(
            "statement {} is {what}, {:.0} s elapsed",
            response.statement_id,
            attempt.elapsed.as_secs_f64()
        )
    });
    let queued =
        (attempt.number == 1 && response.status.state == StatementState::Pending).then(|| {
            format!(
                "statement {} is queued: its warehouse may be starting",
                response.statement_id
            )
        });
    async move {
        if let Some(m) = queued {
            ctx.log(Level::Info, m).await;
        }
        if let Some(m) = message {
            ctx.progress(f64::from(attempt.number), None, m).await;
        }
    }
}

/// Checks that `id` looks like a statement id (before it goes into a URL path). Public
/// for the fuzz target (fuzz/).
#[doc(hidden)]
pub fn validate_statement_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ToolError::new(format!(
            "{id:?} is not a statement id (expected the statement_id given by run_sql_query)"
        )));
    }
    Ok(id)
}

async fn get_sql_result(ctx: CallContext, args: GetSqlResultArgs) -> Result<ToolOutput, ToolError> {
    let limit = args
        .limit
        .map(|m| m.clamp(1, MAX_ROWS_PER_ANSWER) as usize)
        .unwrap_or(ctx.state.settings.max_rows);
    statement_page(
        &ctx,
        &args.statement_id,
        args.offset.unwrap_or(0),
        limit,
        args.format.unwrap_or_default(),
    )
    .await
}

/// The state of statement `id`, with `limit` rows from `offset` when it succeeded (also
/// the `databricks://statements/…` resource).
pub(crate) async fn statement_page(
    ctx: &CallContext,
    id: &str,
    offset: u64,
    limit: usize,
    format: TextFormat,
) -> Result<ToolOutput, ToolError> {
    let id = validate_statement_id(id)?;
    let response = ctx
        .state
        .client
        .get_statement(id)
        .await
        .map_err(|e| reading_statement(id, e))?;
    answer(ctx, response, None, offset, limit, format).await
}

/// `wait_timeout` for the submit: the API takes 0 or 5–50 s.
fn server_wait(deadline: Duration) -> String {
    let secs = deadline.as_secs().min(10);
    if secs < 5 {
        "0s".into()
    } else {
        format!("{secs}s")
    }
}

/// Turns a statement in any state into the tool's answer.
pub(crate) async fn answer(
    ctx: &CallContext,
    response: StatementResponse,
    choice: Option<&Choice>,
    offset: u64,
    limit: usize,
    format: TextFormat,
) -> Result<ToolOutput, ToolError> {
    let page = answer_page(
        ctx,
        response,
        choice,
        offset,
        limit,
        format,
        FollowUp::GetSqlResult,
    )
    .await?;
    let structured = SqlResult {
        statement_id: page.statement_id.clone(),
        state: page.state.as_str().to_string(),
        warehouse_id: choice.map(|c| c.id.clone()),
        columns: page
            .manifest
            .schema
            .columns
            .iter()
            .map(|c| SqlColumn {
                name: c.name.clone(),
                type_: c
                    .type_text
                    .clone()
                    .or(c.type_name.clone())
                    .unwrap_or_else(|| "STRING".into()),
            })
            .collect(),
        rows: page.typed_rows(),
        row_offset: offset,
        row_count: page.rows.len() as u64,
        total_row_count: page.total,
        truncated: page.manifest.truncated,
        next_offset: page.next_offset,
    };
    Ok(ToolOutput::new(page.text, to_value(&structured)))
}

/// Which tool the answer points to for a statement still running or more rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// The full surface: `get_sql_result(statement_id, offset)`.
    GetSqlResult,
    /// The managed SQL surface: `poll_sql_result(statement_id)`, no paging.
    PollSqlResult,
    /// No follow-up tool on this surface (functions).
    None,
}

impl FollowUp {
    fn still_running(self, id: &str) -> String {
        match self {
            FollowUp::GetSqlResult => format!(
                "Call get_sql_result with statement_id=\"{id}\" to check again and get the rows."
            ),
            FollowUp::PollSqlResult => format!(
                "Call poll_sql_result with statement_id=\"{id}\" to check again and get the rows."
            ),
            FollowUp::None => "Call the tool again later; if it keeps timing out, the operator can raise --sql-timeout.".to_string(),
        }
    }

    fn more_rows(self, id: &str, next: u64) -> String {
        match self {
            FollowUp::GetSqlResult => {
                format!(" More: call get_sql_result with statement_id=\"{id}\" and offset={next}.")
            }
            FollowUp::PollSqlResult | FollowUp::None => format!(
                " Only the first {next} rows are shown: narrow the query (WHERE, LIMIT, GROUP BY) to see others."
            ),
        }
    }
}

/// One page of a statement's answer: the text for the model and the rows it shows.
pub(crate) struct AnswerPage {
    pub statement_id: String,
    /// SUCCEEDED, or PENDING / RUNNING when the statement outlived the call.
    pub state: StatementState,
    /// The manifest (empty until SUCCEEDED).
    pub manifest: databricks_client::services::sql::ResultManifest,
    /// The rows shown, as the API gives them (text cells, `None` for SQL NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// SQL type names of the columns.
    pub types: Vec<String>,
    pub total: Option<u64>,
    pub next_offset: Option<u64>,
    pub text: String,
}

impl AnswerPage {
    /// The rows with typed cells (numbers and booleans unquoted, NULL as null).
    pub fn typed_rows(&self) -> Vec<Vec<Value>> {
        self.rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.types)
                    .map(|(v, t)| render::typed(v.as_deref(), t))
                    .collect()
            })
            .collect()
    }
}

/// The answer for a statement that did not succeed: an error saying what to do for a
/// failed, cancelled or closed one, the "still running" page for the others.
fn unfinished(
    response: &StatementResponse,
    ran_on: Option<String>,
    follow_up: FollowUp,
) -> Result<AnswerPage, ToolError> {
    let id = response.statement_id.clone();
    match response.status.state {
        StatementState::Failed => {
            let error = response.status.error.clone().unwrap_or_default();
            let mut text = format!(
                "The statement failed: {}",
                error
                    .message
                    .as_deref()
                    .unwrap_or("no message from the warehouse")
            );
            if let Some(code) = &error.error_code {
                text.push_str(&format!(" (error code {code}"));
                if let Some(sql_state) = &response.status.sql_state {
                    text.push_str(&format!(", SQLSTATE {sql_state}"));
                }
                text.push(')');
            }
            text.push_str(&format!(". Statement {id}."));
            if let Some(r) = ran_on {
                text.push(' ');
                text.push_str(&r);
            }
            text.push_str(" Fix the SQL and run it again.");
            Err(ToolError::new(text))
        }
        StatementState::Canceled => Err(ToolError::new(format!(
            "Statement {id} was cancelled before it finished; run it again if you still need it."
        ))),
        StatementState::Closed => Err(ToolError::new(format!(
            "The result of statement {id} is no longer available (results are kept about an hour); run the query again."
        ))),
        state => {
            let text = format!(
                "Statement {id} is still {} — it keeps running on the warehouse. {}{}",
                state.as_str(),
                follow_up.still_running(&id),
                ran_on.map(|r| format!(" {r}")).unwrap_or_default()
            );
            Ok(AnswerPage {
                statement_id: id,
                state,
                manifest: Default::default(),
                rows: Vec::new(),
                types: Vec::new(),
                total: None,
                next_offset: None,
                text,
            })
        }
    }
}

/// Fetches and renders the rows `[offset, offset + limit)` of a statement in any
/// state; a failed, cancelled or closed statement is a tool error saying what to do.
pub(crate) async fn answer_page(
    ctx: &CallContext,
    response: StatementResponse,
    choice: Option<&Choice>,
    offset: u64,
    limit: usize,
    format: TextFormat,
    follow_up: FollowUp,
) -> Result<AnswerPage, ToolError> {
    let id = response.statement_id.clone();
    let ran_on = choice.map(|c| format!("Ran on {}.", c.explain()));
    if response.status.state != StatementState::Succeeded {
        return unfinished(&response, ran_on, follow_up);
    }
    let manifest = response.manifest.clone().unwrap_or_default();
    let columns = manifest.schema.names();
    let types = manifest.schema.type_names();
    let total = manifest.total_row_count.map(|t| t.max(0) as u64);
    let mut rows = fetch_rows(&ctx.state.client, &response, offset, limit).await?;
    let max_chars = ctx.state.settings.max_chars;
    let rendered = render::rows_in(
        format,
        &columns,
        &types,
        rows.iter().cloned(),
        max_chars.saturating_sub(400),
    );
    let shown = rendered.rows_shown as u64;
    let next_offset = {
        let next = offset + shown;
        match total {
            Some(t) if next < t => Some(next),
            None if shown > 0 && shown as usize == limit => Some(next),
            _ => None,
        }
    };

    let mut text = String::new();
    if columns.is_empty() {
        text.push_str("The statement succeeded and returned no result set.");
    } else {
        text.push_str(&rendered.text);
        text.push_str("\n\n");
        match total {
            Some(0) => text.push_str("0 rows."),
            Some(t) if shown == 0 && offset >= t => text.push_str(&format!(
                "No rows at offset {offset}: the result has {t} rows."
            )),
            Some(1) if offset == 0 && shown == 1 => text.push_str("1 row."),
            Some(t) if offset == 0 && shown == t => text.push_str(&format!("All {t} rows.")),
            Some(t) => text.push_str(&format!(
                "Rows {}–{} of {t} shown.",
                if shown == 0 { offset } else { offset + 1 },
                offset + shown
            )),
            None => text.push_str(&format!("{shown} rows shown.")),
        }
        if rendered.cut_by_chars {
            text.push_str(" (the answer's character budget was reached)");
        }
        if manifest.truncated {
            text.push_str(" The warehouse truncated the result (row or byte limit): the total is a lower bound.");
            ctx.log(
                Level::Warning,
                format!(
                    "statement {id}: the warehouse truncated the result at its row or byte limit"
                ),
            )
            .await;
        }
        if let Some(next) = next_offset {
            text.push_str(&follow_up.more_rows(&id, next));
        }
    }
    if let Some(r) = &ran_on {
        text.push('\n');
        text.push_str(r);
    }
    rows.truncate(rendered.rows_shown);
    Ok(AnswerPage {
        statement_id: id,
        state: StatementState::Succeeded,
        manifest,
        rows,
        types,
        total,
        next_offset,
        text,
    })
}

fn to_value(result: &SqlResult) -> Value {
    serde_json::to_value(result).unwrap_or(Value::Null)
}

/// The rows `[offset, offset + limit)` of a finished statement, fetching (and, for
/// external links, downloading) only the chunks that hold them, one at a time.
pub(crate) async fn fetch_rows(
    client: &DatabricksClient,
    response: &StatementResponse,
    offset: u64,
    limit: usize,
) -> Result<Vec<Vec<Option<String>>>, ToolError> {
    let mut rows = Vec::new();
    let Some(first) = &response.result else {
        return Ok(rows);
    };
    let id = &response.statement_id;
    let manifest = response.manifest.clone().unwrap_or_default();
    let encoding = ChunkEncoding::of(&manifest);
    // Start at the chunk holding `offset` when the manifest says which; else walk.
    let start_chunk = manifest
        .chunks
        .iter()
        .find(|c| (c.row_offset as u64) <= offset && offset < (c.row_offset + c.row_count) as u64)
        .map(|c| c.chunk_index);
    let mut chunk: ResultData = match start_chunk {
        Some(index) if index != first.chunk_index.unwrap_or(0) => {
            fetch_chunk(client, id, index).await?
        }
        _ => first.clone(),
    };
    loop {
        let index = chunk.chunk_index.unwrap_or(0);
        let wanted = (offset + rows.len() as u64)..(offset + limit as u64);
        let read = client
            .chunk_rows(id, &encoding, chunk, wanted)
            .await
            .map_err(|e| {
                ToolError::upstream(&format!("Reading chunk {index} of statement {id}"), e)
            })?;
        rows.extend(read.rows);
        if rows.len() >= limit {
            rows.truncate(limit);
            return Ok(rows);
        }
        match read.next_chunk_index {
            Some(next) => chunk = fetch_chunk(client, id, next).await?,
            None => return Ok(rows),
        }
    }
}

async fn fetch_chunk(
    client: &DatabricksClient,
    statement_id: &str,
    index: i64,
) -> Result<ResultData, ToolError> {
    client
        .get_statement_chunk(statement_id, index)
        .await
        .map_err(|e| {
            ToolError::upstream(
                &format!("Fetching chunk {index} of statement {statement_id}"),
                e,
            )
        })
}

async fn list_warehouses(
    ctx: CallContext,
    args: ListWarehousesArgs,
) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_warehouses(args.cursor.as_deref())
        .await
        .map_err(|e| ToolError::upstream("Listing SQL warehouses", e))?;
    let rows = page.items.iter().map(|w| {
        vec![
            Some(w.id.clone()),
            Some(w.name.clone()),
            Some(w.state.as_str().to_string()),
            w.cluster_size.clone(),
            Some(warehouse_type(w)),
            w.num_clusters.map(|n| n.to_string()),
        ]
    });
    let warehouses = page
        .items
        .iter()
        .map(|w| {
            json!({
                "id": w.id,
                "name": w.name,
                "state": w.state.as_str(),
                "cluster_size": w.cluster_size,
                "type": warehouse_type(w),
                "num_clusters": w.num_clusters,
                "auto_stop_mins": w.auto_stop_mins,
            })
        })
        .collect();
    let mut answer = LIST_WAREHOUSES.page(rows, warehouses, page.next_page_token);
    if let Some(default) = &ctx.state.settings.default_warehouse_id {
        answer = answer.note(format!("The server's default warehouse is {default}."));
    }
    Ok(answer.answer(&ctx))
}

fn warehouse_type(w: &databricks_client::services::sql::Warehouse) -> String {
    if w.is_serverless() {
        "serverless".into()
    } else {
        w.warehouse_type
            .clone()
            .unwrap_or_else(|| "CLASSIC".into())
            .to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::render::typed;

    #[test]
    fn cells_are_typed() {
        assert_eq!(typed(Some("42"), "LONG"), json!(42));
        assert_eq!(typed(Some("1.5"), "DOUBLE"), json!(1.5));
        assert_eq!(typed(Some("129.99"), "DECIMAL"), json!(129.99));
        assert_eq!(
            typed(Some("12345678901234567890.12"), "DECIMAL"),
            json!("12345678901234567890.12")
        );
        assert_eq!(typed(Some("true"), "BOOLEAN"), json!(true));
        assert_eq!(typed(None, "STRING"), Value::Null);
        assert_eq!(typed(Some("null"), "STRING"), json!("null"));
    }

    #[test]
    fn wait_timeout_is_valid_for_the_api() {
        assert_eq!(server_wait(Duration::from_secs(2)), "0s");
        assert_eq!(server_wait(Duration::from_secs(7)), "7s");
        assert_eq!(server_wait(Duration::from_secs(300)), "10s");
    }
}
