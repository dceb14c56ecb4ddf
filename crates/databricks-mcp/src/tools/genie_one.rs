//! The Genie One surface of the managed MCP servers (`/api/2.0/mcp/genie`, without a
//! space id): Genie's chat over all the data the caller can read, as Databricks' Genie
//! One MCP server offers it. `genie_ask(question, conversation_id?)` starts a turn and
//! returns its `conversation_id`, `response_id` and `status` (`in_progress`);
//! `genie_poll_response(conversation_id, response_id)` follows it until `completed`,
//! `incomplete` or `failed`, with the progress steps, the final answer and the queries
//! it ran; `genie_get_query_result(conversation_id, response_id, item_id)` reads a
//! query's rows; `genie_cancel_response(conversation_id, response_id)` stops a turn.
//! `_meta.warehouse_id` (on `genie_ask`) picks the warehouse, else the operator's
//! default, else Genie One chooses.
//!
//! The structured results keep the managed server's snake_case fields
//! (`tests/fixtures/genie_one/` records them and where they come from), so an agent
//! written against Databricks' server reads them unchanged. A turn that failed is not a
//! tool error: its `status` says so, as the managed server's does; a call that could not
//! be made (an unknown conversation, a bad id) is.
//!
//! With a progress token on `genie_ask`, the call follows the turn to its end (within
//! `--sql-timeout`), sending the progress steps as progress notifications, as the
//! managed server does for such hosts; without one it returns once Genie One accepted
//! the question.

use std::time::Duration;

use databricks_client::ErrorKind;
use databricks_client::poll::{Backoff, PollError, poll_until};
use databricks_client::services::genie_one::{self as api, GenieOneResponse};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use super::{ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

/// How long `genie_poll_response` waits for a turn to finish before answering.
const POLL_WAIT: Duration = Duration::from_secs(10);
/// Genie One takes seconds to minutes: read after 0.5 s, then half as long again each
/// time, at most every 3 s.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    factor: 1.5,
    max: Duration::from_secs(3),
};
/// Longest id accepted (they are opaque: anything but whitespace and control characters).
const MAX_ID_CHARS: usize = 256;

pub const GENIE_ASK: &str = "genie_ask";
pub const GENIE_POLL_RESPONSE: &str = "genie_poll_response";
pub const GENIE_GET_QUERY_RESULT: &str = "genie_get_query_result";
pub const GENIE_CANCEL_RESPONSE: &str = "genie_cancel_response";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskArgs {
    /// The question about the data, in natural language.
    pub question: String,
    /// Continue this conversation (a follow-up question); omit to start a new one.
    #[serde(default)]
    pub conversation_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseArgs {
    /// The conversation_id returned by genie_ask.
    pub conversation_id: String,
    /// The response_id returned by genie_ask.
    pub response_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryResultArgs {
    /// The conversation_id returned by genie_ask.
    pub conversation_id: String,
    /// The response_id returned by genie_ask.
    pub response_id: String,
    /// The item_id of one of the response's query_items (from genie_poll_response).
    pub item_id: String,
}

/// `structuredContent` of `genie_ask`, `genie_poll_response` and `genie_cancel_response`:
/// one Genie One turn.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Turn {
    /// Pass it to genie_ask to ask a follow-up in the same conversation.
    pub conversation_id: String,
    /// The turn; poll it with genie_poll_response while it is in_progress.
    pub response_id: String,
    /// in_progress, completed, incomplete or failed.
    pub status: String,
    /// What Genie has done so far, in order.
    pub progress_steps: Vec<String>,
    /// The answer (Markdown), once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_answer: Option<String>,
    /// The queries the answer ran; read their rows with genie_get_query_result.
    pub query_items: Vec<QueryItem>,
    /// What to tell the user while the turn is in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narration_instruction: Option<String>,
    /// Why an incomplete turn stopped (cancelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// Why a failed turn failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The warehouse genie_ask asked Genie One to use, when it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryItem {
    pub item_id: String,
    /// The SQL Genie ran.
    pub sql: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rows of its result, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
}

/// `structuredContent` of `genie_get_query_result`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryResult {
    pub conversation_id: String,
    pub response_id: String,
    pub item_id: String,
    /// The SQL Genie ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    pub columns: Vec<Column>,
    /// Rows, typed: numbers and booleans unquoted, SQL NULL as null.
    pub rows: Vec<Vec<Value>>,
    /// Rows in the whole result.
    pub total_row_count: u64,
    /// True when fewer rows are shown than the result has.
    pub truncated: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Column {
    pub name: String,
    /// Type name, e.g. LONG, STRING, DECIMAL.
    pub type_name: String,
    /// Full type text, e.g. DECIMAL(18,2).
    pub type_text: String,
}

const ASK: &str = "Ask Genie a question about the workspace's data in natural language. Genie finds the relevant tables, writes and runs the SQL, and answers. The answer is asynchronous: this returns conversation_id, response_id and status (in_progress); call genie_poll_response with them until the status is completed, incomplete or failed. (A client that follows progress gets Genie's steps as progress notifications and the answer in this call, when it comes in time.) To ask a follow-up, pass the conversation_id; never call genie_ask again to check on a question.";

const POLL: &str = "Get the progress and, once done, the answer of a question asked with genie_ask: give its conversation_id and response_id. Returns status (in_progress, completed, incomplete or failed), progress_steps, and when completed the final_answer and query_items (the SQL Genie ran; read their rows with genie_get_query_result). Waits up to 10 seconds for the answer; call it again, after the previous call returned, while the status is in_progress.";

const QUERY_RESULT: &str = "Get the rows of a query Genie ran for an answer: give the conversation_id and response_id of the question and the item_id of one of its query_items (from genie_poll_response). Returns the columns with their types and the rows; use it when the answer's text leaves out rows you need.";

const CANCEL: &str = "Cancel a question still being answered: give the conversation_id and response_id returned by genie_ask. Returns the response's status afterwards (a finished answer is left as it is).";

/// The tools of `/api/2.0/mcp/genie`, in the managed server's order.
pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            GENIE_ASK,
            "Ask Genie",
            ASK,
            Toolset::Genie,
            ToolKind::ReadAsk,
            ask,
        )
        .with_output_schema::<Turn>(),
        ToolDef::new(
            GENIE_POLL_RESPONSE,
            "Poll Genie response",
            POLL,
            Toolset::Genie,
            ToolKind::ReadGet,
            poll,
        )
        .with_output_schema::<Turn>(),
        ToolDef::new(
            GENIE_GET_QUERY_RESULT,
            "Get Genie query result",
            QUERY_RESULT,
            Toolset::Genie,
            ToolKind::ReadGet,
            query_result,
        )
        .with_output_schema::<QueryResult>(),
        ToolDef::new(
            GENIE_CANCEL_RESPONSE,
            "Cancel Genie response",
            CANCEL,
            Toolset::Genie,
            ToolKind::Stop,
            cancel,
        )
        .with_output_schema::<Turn>(),
    ]
}

/// An opaque id, checked only so far as a typo gets a clear message.
fn opaque_id(what: &str, id: &str) -> Result<String, ToolError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ToolError::new(format!(
            "{what} is empty: give the {what} genie_ask returned"
        )));
    }
    if id.chars().count() > MAX_ID_CHARS || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ToolError::new(format!(
            "{id:?} is not a Genie One {what}: pass it exactly as genie_ask returned it"
        )));
    }
    Ok(id.to_string())
}

/// Which warehouse to ask for: `_meta.warehouse_id`, else the operator's default, else
/// none (Genie One chooses).
fn warehouse(ctx: &CallContext) -> Result<Option<String>, ToolError> {
    let chosen = match ctx.meta_text("warehouse_id")? {
        Some(id) => Some(id),
        None => ctx.state.settings.default_warehouse_id.clone(),
    };
    if let Some(id) = &chosen {
        crate::warehouse::validate_id(id)?;
    }
    Ok(chosen)
}

async fn ask(ctx: CallContext, args: AskArgs) -> Result<ToolOutput, ToolError> {
    let question = args.question.trim();
    if question.is_empty() {
        return Err(ToolError::new(
            "question is empty: say what to ask Genie about the data",
        ));
    }
    if question.len() > api::MAX_INPUT_BYTES {
        return Err(ToolError::new(format!(
            "the question is {} bytes; Genie One takes at most {} (UTF-8): ask a shorter one",
            question.len(),
            api::MAX_INPUT_BYTES
        )));
    }
    let conversation_id = args
        .conversation_id
        .as_deref()
        .map(|c| opaque_id("conversation_id", c))
        .transpose()?;
    let warehouse_id = warehouse(&ctx)?;
    let accepted = ctx
        .state
        .client
        .ask_genie_one(
            question,
            conversation_id.as_deref(),
            warehouse_id.as_deref(),
        )
        .await
        .map_err(|e| {
            let error = ToolError::upstream("Asking Genie One", e);
            match (&conversation_id, &warehouse_id) {
                (Some(cid), _) => error.hint_for(
                    ErrorKind::NotFound,
                    format!(
                        "Check conversation_id \"{cid}\" (as genie_ask returned it), or omit it to start a new conversation."
                    ),
                ),
                (None, Some(w)) => error.hint_for(
                    ErrorKind::NotFound,
                    format!("SQL warehouse {w} (from _meta.warehouse_id or the server's default) was not found: give the id of a warehouse you can use."),
                ),
                (None, None) => error,
            }
            .needs("the genie scope and access to Genie One")
        })?;
    let (cid, rid) = ids(&accepted, conversation_id.as_deref())?;
    let response = if ctx.wants_progress() {
        let deadline = Instant::now() + ctx.state.settings.sql_timeout;
        match follow(&ctx, &cid, &rid, accepted, deadline).await {
            Ok(r) => r,
            Err(e) => {
                if ctx.ct.is_cancelled() {
                    // The client gave up the question it asked in this call: stop it
                    // upstream too, as a cancelled SQL call stops its statement.
                    let client = ctx.state.client.clone();
                    let (cid, rid) = (cid.clone(), rid.clone());
                    tokio::spawn(async move {
                        let cancelled = tokio::time::timeout(
                            Duration::from_secs(30),
                            client.cancel_genie_one_response(&cid, &rid),
                        )
                        .await;
                        if !matches!(cancelled, Ok(Ok(_))) {
                            tracing::warn!(response_id = %rid, "could not cancel the Genie One response");
                        }
                    });
                }
                return Err(e);
            }
        }
    } else {
        accepted
    };
    Ok(turn_output(&ctx, &cid, &rid, &response, warehouse_id))
}

/// The conversation and response ids of an accepted question.
fn ids(response: &GenieOneResponse, asked_in: Option<&str>) -> Result<(String, String), ToolError> {
    let cid = response
        .conversation_id
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| asked_in.map(str::to_string));
    match (cid, response.id.is_empty()) {
        (Some(cid), false) => Ok((cid, response.id.clone())),
        _ => Err(ToolError::new(
            "Genie One accepted the question without a conversation or response id; ask it again",
        )),
    }
}

async fn poll(ctx: CallContext, args: ResponseArgs) -> Result<ToolOutput, ToolError> {
    let cid = opaque_id("conversation_id", &args.conversation_id)?;
    let rid = opaque_id("response_id", &args.response_id)?;
    let current = read(&ctx, &cid, &rid).await?;
    let deadline = Instant::now() + POLL_WAIT.min(ctx.state.settings.sql_timeout);
    let response = follow(&ctx, &cid, &rid, current, deadline).await?;
    Ok(turn_output(&ctx, &cid, &rid, &response, None))
}

async fn cancel(ctx: CallContext, args: ResponseArgs) -> Result<ToolOutput, ToolError> {
    let cid = opaque_id("conversation_id", &args.conversation_id)?;
    let rid = opaque_id("response_id", &args.response_id)?;
    let response = ctx
        .state
        .client
        .cancel_genie_one_response(&cid, &rid)
        .await
        .map_err(|e| {
            not_found_hint(
                ToolError::upstream("Cancelling the Genie One response", e),
                &cid,
                &rid,
            )
        })?;
    Ok(turn_output(&ctx, &cid, &rid, &response, None))
}

async fn read(ctx: &CallContext, cid: &str, rid: &str) -> Result<GenieOneResponse, ToolError> {
    ctx.state
        .client
        .get_genie_one_response(cid, rid)
        .await
        .map_err(|e| {
            not_found_hint(
                ToolError::upstream("Reading the Genie One response", e),
                cid,
                rid,
            )
        })
}

fn not_found_hint(error: ToolError, cid: &str, rid: &str) -> ToolError {
    error.hint_for(
        ErrorKind::NotFound,
        format!(
            "No response {rid} in conversation {cid}: pass the conversation_id and response_id exactly as genie_ask returned them."
        ),
    )
}

/// Reads the response until it is terminal, `deadline` passes or the call is cancelled,
/// reporting each new progress step when the client asked for progress.
async fn follow(
    ctx: &CallContext,
    cid: &str,
    rid: &str,
    current: GenieOneResponse,
    deadline: Instant,
) -> Result<GenieOneResponse, ToolError> {
    let client = &ctx.state.client;
    let reported = std::sync::atomic::AtomicUsize::new(0);
    let polled = poll_until(
        current,
        GenieOneResponse::is_terminal,
        |last, attempt| {
            let steps = last.progress_steps();
            let fresh = steps.len() > reported.load(std::sync::atomic::Ordering::Relaxed);
            let report = (ctx.wants_progress() && fresh).then(|| {
                reported.store(steps.len(), std::sync::atomic::Ordering::Relaxed);
                steps.last().cloned().unwrap_or_default()
            });
            async move {
                if let Some(step) = report {
                    ctx.progress(f64::from(attempt.number), None, step).await;
                }
                client.get_genie_one_response(cid, rid).await
            }
        },
        BACKOFF,
        deadline,
        &ctx.ct,
    )
    .await;
    match polled {
        Ok(p) => Ok(p.into_inner()),
        Err(PollError::Cancelled { .. }) => Err(ToolError::new("cancelled by the client")),
        Err(PollError::Failed { error, .. }) => Err(not_found_hint(
            ToolError::upstream("Reading the Genie One response", error),
            cid,
            rid,
        )),
    }
}

/// A turn as text and as [`Turn`].
fn turn_output(
    ctx: &CallContext,
    cid: &str,
    rid: &str,
    response: &GenieOneResponse,
    warehouse_id: Option<String>,
) -> ToolOutput {
    let status = response.status().to_string();
    let progress_steps = response.progress_steps();
    let query_items: Vec<QueryItem> = response
        .query_items()
        .map(|q| QueryItem {
            item_id: q.id.clone(),
            sql: q.sql.clone().unwrap_or_default(),
            title: q.title.clone(),
            description: q.description.clone(),
            row_count: q.row_count,
        })
        .collect();
    let in_progress = !response.is_terminal();
    let error = response
        .error
        .as_ref()
        .map(|e| {
            e.message
                .clone()
                .or_else(|| e.code.clone())
                .unwrap_or_else(|| "no reason given".into())
        })
        .or_else(|| (status == api::FAILED).then(|| "no reason given".to_string()));
    let incomplete_reason = response
        .incomplete_details
        .as_ref()
        .and_then(|d| d.reason.clone());
    let narration_instruction = in_progress.then(|| {
        format!(
            "Genie is still working on the question. Tell the user in one short sentence what it is doing (its latest progress step), then call {GENIE_POLL_RESPONSE} with the same conversation_id and response_id after this call returns. Do not ask the question again."
        )
    });
    let final_answer = if status == api::COMPLETED {
        response.final_answer()
    } else {
        None
    };

    let mut text = String::new();
    match status.as_str() {
        api::COMPLETED => {
            text.push_str(
                final_answer
                    .as_deref()
                    .unwrap_or("Genie finished without an answer text."),
            );
            text.push_str("\n\n");
            for q in &query_items {
                text.push_str(&format!(
                    "Query item {} ({}): {}\n",
                    q.item_id,
                    q.title.as_deref().unwrap_or("query"),
                    q.sql
                ));
            }
            if !query_items.is_empty() {
                text.push_str(&format!(
                    "Read a query's rows with {GENIE_GET_QUERY_RESULT} (conversation_id, response_id, item_id).\n\n"
                ));
            }
        }
        api::FAILED => text.push_str(&format!(
            "Genie could not answer: {}. Rephrase the question, or ask about data you can read.\n\n",
            error.as_deref().unwrap_or("no reason given")
        )),
        _ if response.is_cancelled() => {
            text.push_str("The question was cancelled; ask it again to get an answer.\n\n")
        }
        _ if response.is_terminal() => text.push_str(&format!(
            "Genie stopped without finishing (status {status}{}).\n\n",
            incomplete_reason
                .as_deref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default()
        )),
        _ => {
            text.push_str(&format!("Genie is working on the question (status {status})."));
            if let Some(step) = progress_steps.last() {
                text.push_str(&format!(" Latest step: {step}."));
            }
            text.push_str(&format!(
                " Call {GENIE_POLL_RESPONSE} with conversation_id \"{cid}\" and response_id \"{rid}\" for the answer.\n\n"
            ));
        }
    }
    text.push_str(&format!(
        "(conversation_id \"{cid}\", response_id \"{rid}\"; pass the conversation_id to {GENIE_ASK} for a follow-up)"
    ));
    let turn = Turn {
        conversation_id: cid.to_string(),
        response_id: rid.to_string(),
        status,
        progress_steps,
        final_answer,
        query_items,
        narration_instruction,
        incomplete_reason,
        error: if response.status() == api::FAILED {
            error
        } else {
            None
        },
        warehouse_id,
    };
    ToolOutput::new(
        render::clip(&text, ctx.state.settings.max_chars),
        serde_json::to_value(&turn).unwrap_or_default(),
    )
}

async fn query_result(ctx: CallContext, args: QueryResultArgs) -> Result<ToolOutput, ToolError> {
    let cid = opaque_id("conversation_id", &args.conversation_id)?;
    let rid = opaque_id("response_id", &args.response_id)?;
    let item_id = opaque_id("item_id", &args.item_id)?;
    let client = &ctx.state.client;
    let fetched = client
        .get_genie_one_query_result(&cid, &rid, &item_id)
        .await
        .map_err(|e| {
            ToolError::upstream("Reading the Genie One query result", e).hint_for(
                ErrorKind::NotFound,
                format!(
                    "No query item {item_id} in response {rid} of conversation {cid}: call {GENIE_POLL_RESPONSE} and use an item_id of its query_items."
                ),
            )
        })?;
    let statement = fetched
        .statement_response
        .ok_or_else(|| ToolError::new(format!("query item {item_id} has no result")))?;
    let state = statement.status.state;
    if state != databricks_client::services::sql::StatementState::Succeeded {
        let why = statement
            .status
            .error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| format!("the query is {}", state.as_str()));
        return Err(ToolError::new(format!(
            "the result of query item {item_id} cannot be read: {why}"
        )));
    }
    // The SQL, from the response's item (the result does not say it).
    let sql = client
        .get_genie_one_response(&cid, &rid)
        .await
        .ok()
        .and_then(|r| {
            r.query_items()
                .find(|q| q.id == item_id)
                .and_then(|q| q.sql.clone())
        });
    let manifest = statement.manifest.clone().unwrap_or_default();
    let names = manifest.schema.names();
    let types = manifest.schema.type_names();
    let columns: Vec<Column> = manifest
        .schema
        .columns
        .iter()
        .map(|c| {
            let type_name = c.type_name.clone().unwrap_or_else(|| "STRING".into());
            Column {
                name: c.name.clone(),
                type_text: c.type_text.clone().unwrap_or_else(|| type_name.clone()),
                type_name,
            }
        })
        .collect();
    let (rows, total) = super::genie::statement_rows(&statement);
    let mut text = String::new();
    if let Some(sql) = &sql {
        text.push_str(&format!("SQL: {sql}\n"));
    }
    let typed = super::genie::append_rows(&ctx, &mut text, &names, &types, &rows, total, 200);
    let shown = typed.len() as u64;
    let result = QueryResult {
        conversation_id: cid,
        response_id: rid,
        item_id,
        sql,
        columns,
        rows: typed,
        total_row_count: total,
        truncated: manifest.truncated || shown < total,
    };
    Ok(ToolOutput::new(
        text,
        serde_json::to_value(&result).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_opaque_but_checked() {
        assert!(opaque_id("response_id", "9f7c84c6d3af4ae8ac5cc43590a15366").is_ok());
        assert!(opaque_id("response_id", "resp_01J=+/x").is_ok());
        assert!(opaque_id("response_id", " ").is_err());
        assert!(opaque_id("response_id", "a b").is_err());
        assert!(opaque_id("response_id", &"a".repeat(MAX_ID_CHARS + 1)).is_err());
    }

    #[test]
    fn the_tools_have_the_managed_servers_names_and_arguments() {
        let tools = tools();
        let signatures: Vec<String> = tools.iter().map(ToolDef::signature).collect();
        assert_eq!(
            signatures,
            vec![
                "genie_ask(question, conversation_id?)",
                "genie_poll_response(conversation_id, response_id)",
                "genie_get_query_result(conversation_id, item_id, response_id)",
                "genie_cancel_response(conversation_id, response_id)",
            ]
        );
    }
}
