//! The Databricks SQL surface of the managed MCP servers (`/api/2.0/mcp/sql`):
//! `execute_sql`, `execute_sql_read_only` and `poll_sql_result`, with the managed
//! server's names and arguments. `_meta.warehouse_id` picks the warehouse, else the
//! operator's default, else automatic selection.
//!
//! The statement lifecycle is the full surface's (`tools::sql`): same submit, wait,
//! cancellation, paging and text. The structured result is shaped like the Statement
//! Execution API's answer (`statement_id`, `status`, `manifest`, `result.data_array`),
//! so code written against the managed server reads it unchanged. The three tools link
//! the result view (`view/`), which reads that shape too.

use std::time::Duration;

use databricks_client::services::sql::StatementState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::sql::{self, AnswerPage, FollowUp};
use super::{SurfaceOptions, ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::TextFormat;
use crate::warehouse::Choice;

/// How long `poll_sql_result` waits for a running statement before answering.
const POLL_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteSqlArgs {
    /// The SQL statement to run (Databricks SQL). Use three-part names (catalog.schema.table).
    pub query: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollSqlResultArgs {
    /// The statement_id returned by execute_sql or execute_sql_read_only.
    pub statement_id: String,
}

/// `structuredContent` of the managed SQL tools: a Statement Execution API answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementResult {
    /// Handle of the statement; pass it to poll_sql_result while it is running.
    pub statement_id: String,
    pub status: StatementStatus,
    /// Columns and counts (absent until the statement succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<StatementManifest>,
    /// The first rows (absent until the statement succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<StatementData>,
    /// The warehouse that ran the statement, when this call chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementStatus {
    /// PENDING, RUNNING or SUCCEEDED (failures are tool errors).
    pub state: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementManifest {
    pub format: String,
    pub schema: StatementSchema,
    /// Rows in the whole result, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_row_count: Option<u64>,
    /// True when the warehouse cut the result (row or byte limit).
    pub truncated: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementSchema {
    pub column_count: u64,
    pub columns: Vec<StatementColumn>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementColumn {
    pub name: String,
    /// Type name, e.g. LONG, STRING, DECIMAL.
    pub type_name: String,
    /// Full type text, e.g. DECIMAL(10,2), ARRAY<STRING>.
    pub type_text: String,
    pub position: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatementData {
    pub row_offset: u64,
    /// Rows in `data_array`.
    pub row_count: u64,
    /// Rows as the API's JSON_ARRAY format gives them: every cell a string, SQL NULL as null.
    pub data_array: Vec<Vec<Option<String>>>,
    /// True when more rows exist than are shown here.
    pub has_more_rows: bool,
}

const EXECUTE_SQL: &str = "Execute a SQL statement on a Databricks SQL warehouse and return its result (statement_id, status, manifest with the schema and row counts, result.data_array) plus a compact text table. Use it for queries and, when the server allows writes, for statements that change data or create, alter or drop objects. A long-running statement returns its statement_id: call poll_sql_result with it.";

const EXECUTE_SQL_NO_WRITES: &str = "Execute a SQL statement on a Databricks SQL warehouse and return its result (statement_id, status, manifest with the schema and row counts, result.data_array) plus a compact text table. This server is read-only: statements that change data or objects (INSERT, UPDATE, DELETE, MERGE, CREATE, DROP, ...) are refused, reads run. A long-running statement returns its statement_id: call poll_sql_result with it.";

const EXECUTE_SQL_READ_ONLY: &str = "Execute a read-only SQL statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) on a Databricks SQL warehouse and return its result (statement_id, status, manifest with the schema and row counts, result.data_array) plus a compact text table. Anything that would change data or objects is refused before it runs. A long-running statement returns its statement_id: call poll_sql_result with it.";

const POLL_SQL_RESULT: &str = "Check a statement started by execute_sql or execute_sql_read_only that was still running: give its statement_id; the answer is its state and, once it succeeded, its result.";

/// The tools of `/api/2.0/mcp/sql`, in the managed server's order.
pub fn tools(options: SurfaceOptions) -> Vec<ToolDef> {
    let (kind, description) = if options.allow_writes {
        (
            ToolKind::Action {
                destructive: true,
                idempotent: false,
            },
            EXECUTE_SQL,
        )
    } else {
        (ToolKind::ReadGet, EXECUTE_SQL_NO_WRITES)
    };
    vec![
        ToolDef::new(
            "execute_sql",
            "Execute SQL",
            description,
            Toolset::Sql,
            kind,
            |ctx, args: ExecuteSqlArgs| run(ctx, args, Policy::Operator),
        )
        // The managed surface keeps Databricks' schema; a code is still accepted.
        .without_code_argument()
        .with_output_schema::<StatementResult>()
        .with_view(),
        ToolDef::new(
            "execute_sql_read_only",
            "Execute read-only SQL",
            EXECUTE_SQL_READ_ONLY,
            Toolset::Sql,
            ToolKind::ReadGet,
            |ctx, args: ExecuteSqlArgs| run(ctx, args, Policy::ReadOnly),
        )
        .with_output_schema::<StatementResult>()
        .with_view(),
        ToolDef::new(
            "poll_sql_result",
            "Poll SQL result",
            POLL_SQL_RESULT,
            Toolset::Sql,
            ToolKind::ReadGet,
            poll_sql_result,
        )
        .with_output_schema::<StatementResult>()
        .with_view(),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Policy {
    /// Writes run only when the operator enabled them (`--allow-writes`).
    Operator,
    /// Reads only, whatever the operator allows.
    ReadOnly,
}

async fn run(
    ctx: CallContext,
    args: ExecuteSqlArgs,
    policy: Policy,
) -> Result<ToolOutput, ToolError> {
    let query = args.query.trim();
    if query.is_empty() {
        return Err(ToolError::new("query is empty: give the SQL to run"));
    }
    match policy {
        Policy::Operator => sql::guard(query, &ctx.state.settings)?,
        Policy::ReadOnly => {
            let hint = if ctx.state.settings.allow_writes {
                "execute_sql_read_only runs only reads; use execute_sql to change data."
            } else {
                "Rewrite the statement as a read."
            };
            sql_guard::check_read_only_with(query, ctx.state.settings.guard_options())
                .map_err(|e| ToolError::new(sql::refusal(&e, hint)))?;
        }
    }
    let choice = sql::choose_warehouse(&ctx, None).await?;
    sql::confirm_write(&ctx, query, &choice).await?;
    let request = sql::statement_request(&ctx.state.settings, query, &choice);
    let response = sql::execute(
        &ctx,
        request,
        &choice,
        ctx.state.settings.sql_timeout,
        FollowUp::PollSqlResult,
    )
    .await?;
    respond(&ctx, response, Some(&choice), FollowUp::PollSqlResult).await
}

async fn poll_sql_result(
    ctx: CallContext,
    args: PollSqlResultArgs,
) -> Result<ToolOutput, ToolError> {
    let id = sql::validate_statement_id(&args.statement_id)?;
    let response = ctx
        .state
        .client
        .get_statement(id)
        .await
        .map_err(|e| sql::reading_statement(id, e))?;
    let timeout = POLL_WAIT.min(ctx.state.settings.sql_timeout);
    let response =
        sql::wait_for_statement(&ctx, response, timeout, FollowUp::PollSqlResult).await?;
    respond(&ctx, response, None, FollowUp::PollSqlResult).await
}

/// The statement's first page as text and as a Statement Execution answer.
pub(crate) async fn respond(
    ctx: &CallContext,
    response: databricks_client::services::sql::StatementResponse,
    choice: Option<&Choice>,
    follow_up: FollowUp,
) -> Result<ToolOutput, ToolError> {
    let page = sql::answer_page(
        ctx,
        response,
        choice,
        0,
        ctx.state.settings.max_rows,
        TextFormat::default(),
        follow_up,
    )
    .await?;
    let structured = statement_result(&page, choice);
    Ok(ToolOutput::new(
        page.text,
        serde_json::to_value(&structured).unwrap_or_default(),
    ))
}

fn statement_result(page: &AnswerPage, choice: Option<&Choice>) -> StatementResult {
    let succeeded = page.state == StatementState::Succeeded;
    let (manifest, result) = if succeeded {
        let columns: Vec<StatementColumn> = page
            .manifest
            .schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let type_name = c.type_name.clone().unwrap_or_else(|| "STRING".into());
                StatementColumn {
                    name: c.name.clone(),
                    type_text: c.type_text.clone().unwrap_or_else(|| type_name.clone()),
                    type_name,
                    position: c.position.map(|p| p.max(0) as u64).unwrap_or(i as u64),
                }
            })
            .collect();
        let manifest = StatementManifest {
            format: "JSON_ARRAY".into(),
            schema: StatementSchema {
                column_count: columns.len() as u64,
                columns,
            },
            total_row_count: page.total,
            truncated: page.manifest.truncated,
        };
        let result = StatementData {
            row_offset: 0,
            row_count: page.rows.len() as u64,
            data_array: page.rows.clone(),
            has_more_rows: page.next_offset.is_some(),
        };
        (Some(manifest), Some(result))
    } else {
        (None, None)
    };
    StatementResult {
        statement_id: page.statement_id.clone(),
        status: StatementStatus {
            state: page.state.as_str().to_string(),
        },
        manifest,
        result,
        warehouse_id: choice.map(|c| c.id.clone()),
    }
}
