//! Genie: the full surface's `list_genie_spaces` and `ask_genie`, and the managed
//! surface of one space (`/api/2.0/mcp/genie/{space_id}`): `query_space_{space_id}(query,
//! conversation_id?)` and `poll_response_{space_id}(conversation_id, message_id)`.
//!
//! A question starts a conversation (or continues one), then its message is polled with
//! back-off until Genie finishes or the call's deadline (`--sql-timeout`) passes; an
//! unfinished answer is not an error: it carries the conversation and message ids to
//! poll. A finished answer gives Genie's text, the SQL it ran and that query's rows.

use std::time::Duration;

use databricks_client::ErrorKind;
use databricks_client::poll::{Backoff, PollError, poll_until};
use databricks_client::services::genie::{GenieMessage, GenieQueryAttachment, GenieSpace};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, TextFormat};

/// Genie takes seconds to answer: poll a message after 0.5 s, then half as long again
/// each time, at most every 5 s.
const MESSAGE_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    factor: 1.5,
    max: Duration::from_secs(5),
};
/// Longest question accepted.
const MAX_QUESTION_CHARS: usize = 20_000;

/// Genie ids (spaces, conversations, messages, attachments) are hex strings; refuse
/// anything else before it goes into a URL path or a tool name.
pub fn validate_id(what: &str, id: &str) -> Result<String, ToolError> {
    let id = id.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ToolError::new(format!(
            "{id:?} is not a Genie {what} id (expected letters, digits, '-' or '_', at most 64 characters)"
        )));
    }
    Ok(id.to_string())
}

/// Which tool the answer points to for an unfinished message.
#[derive(Debug, Clone)]
enum Poll {
    /// `ask_genie(space_id, conversation_id, message_id)`.
    AskGenie,
    /// `poll_response_{space_id}(conversation_id, message_id)`.
    Managed(String),
}

impl Poll {
    fn hint(&self, space_id: &str, conversation_id: &str, message_id: &str) -> String {
        match self {
            Poll::AskGenie => format!(
                "Call ask_genie with space_id=\"{space_id}\", conversation_id=\"{conversation_id}\" and message_id=\"{message_id}\" (no question) to get the answer."
            ),
            Poll::Managed(tool) => format!(
                "Call {tool} with conversation_id=\"{conversation_id}\" and message_id=\"{message_id}\" to get the answer."
            ),
        }
    }
}

/// Asks `question` (in `conversation_id` when given) and returns the ids.
async fn ask(
    ctx: &CallContext,
    space_id: &str,
    question: &str,
    conversation_id: Option<&str>,
) -> Result<(String, GenieMessage), ToolError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(ToolError::new(
            "the question is empty: say what to ask Genie",
        ));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ToolError::new(format!(
            "the question is longer than {MAX_QUESTION_CHARS} characters: ask a shorter one"
        )));
    }
    let client = &ctx.state.client;
    match conversation_id {
        Some(cid) => {
            let cid = validate_id("conversation", cid)?;
            let message = client
                .create_genie_message(space_id, &cid, question)
                .await
                .map_err(|e| {
                    ToolError::upstream(
                        &format!("Asking Genie space {space_id} in conversation {cid}"),
                        e,
                    )
                })?;
            Ok((cid, message))
        }
        None => {
            let started = client
                .start_genie_conversation(space_id, question)
                .await
                .map_err(|e| {
                    ToolError::upstream(&format!("Asking Genie space {space_id}"), e)
                        .hint_for(
                            ErrorKind::NotFound,
                            "Call list_genie_spaces to see the spaces that exist and their ids.",
                        )
                        .needs("CAN RUN on the Genie space")
                })?;
            let mut message = started.message.unwrap_or_default();
            if message.message_id().is_none() {
                message.message_id = Some(started.message_id.clone());
            }
            Ok((started.conversation_id, message))
        }
    }
}

/// Polls the message until it is terminal, `deadline` passes or the call is cancelled.
async fn wait(
    ctx: &CallContext,
    space_id: &str,
    conversation_id: &str,
    message: GenieMessage,
    deadline: Instant,
) -> Result<GenieMessage, ToolError> {
    let Some(message_id) = message.message_id().map(str::to_string) else {
        return Err(ToolError::new(
            "Genie answered without a message id; ask the question again",
        ));
    };
    let client = &ctx.state.client;
    let polled = poll_until(
        message,
        GenieMessage::is_terminal,
        |m, attempt| {
            let report = ctx.wants_progress().then(|| {
                format!(
                    "Genie is working on the question ({}), {:.0} s elapsed",
                    m.status(),
                    attempt.elapsed.as_secs_f64()
                )
            });
            let message_id = message_id.clone();
            async move {
                if let Some(r) = report {
                    ctx.progress(f64::from(attempt.number), None, r).await;
                }
                client
                    .get_genie_message(space_id, conversation_id, &message_id)
                    .await
            }
        },
        MESSAGE_BACKOFF,
        deadline,
        &ctx.ct,
    )
    .await;
    match polled {
        Ok(p) => Ok(p.into_inner()),
        Err(PollError::Cancelled { .. }) => Err(ToolError::new("cancelled by the client")),
        Err(PollError::Failed { error, .. }) => Err(ToolError::upstream(
            &format!("Reading Genie message {message_id}"),
            error,
        )),
    }
}

/// The answer for a message in any state.
async fn respond(
    ctx: &CallContext,
    space_id: &str,
    conversation_id: &str,
    message: GenieMessage,
    poll: &Poll,
) -> Result<ToolOutput, ToolError> {
    let message_id = message.message_id().unwrap_or_default().to_string();
    let status = message.status().to_string();
    match status.as_str() {
        "COMPLETED" => {}
        "FAILED" => {
            let why = message
                .error
                .as_ref()
                .and_then(|e| e.error.clone())
                .unwrap_or_else(|| "no reason given".into());
            return Err(ToolError::new(format!(
                "Genie could not answer: {why}. Rephrase the question or ask about data this space covers (conversation {conversation_id}, message {message_id})."
            )));
        }
        "CANCELLED" => {
            return Err(ToolError::new(format!(
                "The question was cancelled in Genie (conversation {conversation_id}, message {message_id}); ask it again."
            )));
        }
        "QUERY_RESULT_EXPIRED" => {
            return Err(ToolError::new(format!(
                "The result of this Genie answer has expired (conversation {conversation_id}, message {message_id}); ask the question again."
            )));
        }
        _ => {
            let text = format!(
                "Genie is still working on the question (status {status}). {}",
                poll.hint(space_id, conversation_id, &message_id)
            );
            return Ok(ToolOutput::new(
                text,
                json!({
                    "space_id": space_id,
                    "conversation_id": conversation_id,
                    "message_id": message_id,
                    "status": status,
                }),
            ));
        }
    }

    let budget = ctx.state.settings.max_chars;
    let mut text = String::new();
    let mut answer_texts = Vec::new();
    let mut queries = Vec::new();
    let mut suggested = Vec::new();
    for attachment in &message.attachments {
        if let Some(t) = attachment
            .text
            .as_ref()
            .and_then(|t| t.content.as_deref())
            .filter(|t| !t.trim().is_empty())
        {
            answer_texts.push(t.to_string());
        }
        if let Some(q) = &attachment.suggested_questions {
            suggested.extend(q.questions.iter().cloned());
        }
        if let Some(q) = &attachment.query {
            let attachment_id = attachment
                .attachment_id
                .clone()
                .or_else(|| q.id.clone())
                .unwrap_or_default();
            queries.push((attachment_id, q));
        }
    }
    for t in &answer_texts {
        text.push_str(t);
        text.push_str("\n\n");
    }
    let mut structured_queries = Vec::new();
    for (attachment_id, q) in queries {
        let (section, value) = query_section(
            ctx,
            space_id,
            conversation_id,
            &message_id,
            &attachment_id,
            q,
        )
        .await;
        let room = budget.saturating_sub(text.len());
        text.push_str(&render::clip(&section, room));
        text.push_str("\n\n");
        structured_queries.push(value);
    }
    if !suggested.is_empty() {
        text.push_str("Suggested follow-up questions: ");
        text.push_str(&suggested.join(" | "));
        text.push_str("\n\n");
    }
    if text.trim().is_empty() {
        text.push_str("Genie finished without an answer text or query.\n\n");
    }
    text.push_str(&format!(
        "(conversation_id \"{conversation_id}\": pass it to ask a follow-up in the same conversation)"
    ));
    Ok(ToolOutput::new(
        render::clip(&text, budget),
        json!({
            "space_id": space_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "status": status,
            "text": if answer_texts.is_empty() { Value::Null } else { json!(answer_texts.join("\n\n")) },
            "queries": structured_queries,
            "suggested_questions": suggested,
        }),
    ))
}

/// A query attachment: its description, SQL and first rows, as text and JSON. A result
/// that cannot be read is reported in the text, not as a failure of the whole answer.
async fn query_section(
    ctx: &CallContext,
    space_id: &str,
    conversation_id: &str,
    message_id: &str,
    attachment_id: &str,
    q: &GenieQueryAttachment,
) -> (String, Value) {
    let mut text = String::new();
    if let Some(title) = q.title.as_deref() {
        text.push_str(&format!("Query: {title}\n"));
    }
    if let Some(d) = q.description.as_deref() {
        text.push_str(d);
        text.push('\n');
    }
    if let Some(sql) = q.query.as_deref() {
        text.push_str(&format!("SQL: {sql}\n"));
    }
    let mut value = json!({
        "attachment_id": attachment_id,
        "title": q.title,
        "description": q.description,
        "sql": q.query,
        "statement_id": q.statement_id,
    });
    if attachment_id.is_empty() {
        return (text, value);
    }
    let fetched = ctx
        .state
        .client
        .get_genie_query_result(space_id, conversation_id, message_id, attachment_id)
        .await;
    let statement = match fetched {
        Ok(r) => r.statement_response,
        Err(e) => {
            text.push_str(&format!("(the query's rows could not be read: {e})"));
            return (text, value);
        }
    };
    let Some(statement) = statement else {
        text.push_str("(the query has no result)");
        return (text, value);
    };
    let manifest = statement.manifest.clone().unwrap_or_default();
    let columns = manifest.schema.names();
    let types = manifest.schema.type_names();
    let (rows, total) = statement_rows(&statement);
    let typed = append_rows(ctx, &mut text, &columns, &types, &rows, total, 400);
    if let Value::Object(o) = &mut value {
        o.insert("columns".into(), json!(columns));
        o.insert("rows".into(), json!(typed));
        o.insert("total_row_count".into(), json!(total));
        o.insert(
            "truncated".into(),
            json!(manifest.truncated || (typed.len() as u64) < total),
        );
    }
    (text, value)
}

/// Asks and waits: the body of `ask_genie` and `query_space_{id}`.
async fn ask_and_answer(
    ctx: &CallContext,
    space_id: &str,
    question: &str,
    conversation_id: Option<&str>,
    poll: &Poll,
) -> Result<ToolOutput, ToolError> {
    let deadline = Instant::now() + ctx.state.settings.sql_timeout;
    let (cid, message) = ask(ctx, space_id, question, conversation_id).await?;
    let message = wait(ctx, space_id, &cid, message, deadline).await?;
    respond(ctx, space_id, &cid, message, poll).await
}

/// Reads and waits: the body of `poll_response_{id}` and `ask_genie` with a message id.
async fn poll_and_answer(
    ctx: &CallContext,
    space_id: &str,
    conversation_id: &str,
    message_id: &str,
    poll: &Poll,
) -> Result<ToolOutput, ToolError> {
    let cid = validate_id("conversation", conversation_id)?;
    let mid = validate_id("message", message_id)?;
    let deadline = Instant::now() + ctx.state.settings.sql_timeout;
    let message = ctx
        .state
        .client
        .get_genie_message(space_id, &cid, &mid)
        .await
        .map_err(|e| ToolError::upstream(&format!("Reading Genie message {mid}"), e))?;
    let message = wait(ctx, space_id, &cid, message, deadline).await?;
    respond(ctx, space_id, &cid, message, poll).await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListGenieSpacesArgs {
    #[serde(flatten)]
    pub page: PageArgs,
}

const LIST_GENIE_SPACES: ListSpec = ListSpec {
    tool: "list_genie_spaces",
    key: "spaces",
    columns: &["space_id", "title", "description", "warehouse_id"],
    item: "Genie spaces: space_id, title, description, warehouse_id.",
    fields: &[],
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskGenieArgs {
    /// The Genie space to ask (see list_genie_spaces).
    pub space_id: String,
    /// The question, in natural language. Omit it only to check on message_id.
    #[serde(default)]
    pub question: Option<String>,
    /// Continue this conversation (a follow-up question), or the conversation of message_id.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// A message still being answered by an earlier call: get its answer instead of asking.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// The full surface's Genie tools.
pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_GENIE_SPACES,
            "List Genie spaces",
            "List the Genie spaces (natural-language question answering over curated tables) with their id, title and description. Use it to find a space_id for ask_genie.",
            Toolset::Genie,
            list_genie_spaces,
        ),
        ToolDef::new(
            "ask_genie",
            "Ask Genie",
            "Ask a Genie space a question about its data in natural language; Genie writes and runs the SQL and answers with text, the SQL and the rows. Pass conversation_id to ask a follow-up. A slow answer returns conversation_id and message_id: call ask_genie again with them (and no question) to get it.",
            Toolset::Genie,
            ToolKind::ReadAsk,
            ask_genie,
        ),
    ]
}

async fn list_genie_spaces(
    ctx: CallContext,
    args: ListGenieSpacesArgs,
) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_genie_spaces(Some(args.page.size()), args.page.cursor())
        .await
        .map_err(|e| ToolError::upstream("Listing Genie spaces", e))?;
    let rows = page.items.iter().map(|s| {
        vec![
            Some(s.space_id.clone()),
            s.title.clone(),
            s.description.clone(),
            s.warehouse_id.clone(),
        ]
    });
    let spaces = page
        .items
        .iter()
        .map(|s| {
            json!({
                "space_id": s.space_id,
                "title": s.title,
                "description": s.description,
                "warehouse_id": s.warehouse_id,
            })
        })
        .collect();
    Ok(LIST_GENIE_SPACES
        .page(rows, spaces, page.next_page_token)
        .answer(&ctx))
}

async fn ask_genie(ctx: CallContext, args: AskGenieArgs) -> Result<ToolOutput, ToolError> {
    let space_id = validate_id("space", &args.space_id)?;
    match (args.question.as_deref(), args.message_id.as_deref()) {
        (Some(_), Some(_)) => Err(ToolError::new(
            "give either a question or a message_id to check on, not both",
        )),
        (None, Some(mid)) => {
            let cid = args.conversation_id.as_deref().ok_or_else(|| {
                ToolError::new("checking on message_id needs its conversation_id too")
            })?;
            poll_and_answer(&ctx, &space_id, cid, mid, &Poll::AskGenie).await
        }
        (Some(q), None) => {
            ask_and_answer(
                &ctx,
                &space_id,
                q,
                args.conversation_id.as_deref(),
                &Poll::AskGenie,
            )
            .await
        }
        (None, None) => Err(ToolError::new("give the question to ask Genie")),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuerySpaceArgs {
    /// The question, in natural language.
    pub query: String,
    /// Continue this conversation (a follow-up question); omit to start a new one.
    #[serde(default)]
    pub conversation_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollResponseArgs {
    /// The conversation_id of the unfinished answer.
    pub conversation_id: String,
    /// The message_id of the unfinished answer.
    pub message_id: String,
}

/// The managed surface of one space: `query_space_{id}` and `poll_response_{id}`.
/// `space` (when it could be read) gives the descriptions the space's title.
pub fn space_tools(space_id: &str, space: Option<&GenieSpace>) -> Result<Vec<ToolDef>, ToolError> {
    let space_id = validate_id("space", space_id)?;
    let about = match space {
        Some(s) => {
            let mut about = format!(
                "the Genie space \"{}\"",
                s.title.as_deref().unwrap_or(&space_id)
            );
            if let Some(d) = s.description.as_deref().filter(|d| !d.trim().is_empty()) {
                about.push_str(&format!(" ({})", d.trim()));
            }
            about
        }
        None => format!("Genie space {space_id}"),
    };
    let query_tool = format!("query_space_{space_id}");
    let poll_tool = format!("poll_response_{space_id}");
    let poll = Poll::Managed(poll_tool.clone());
    let sid = space_id.clone();
    let query = ToolDef::new(
        query_tool,
        "Query Genie space",
        format!(
            "Ask {about} a question about its data in natural language; Genie writes and runs the SQL and answers with text, the SQL and the rows. Pass conversation_id to ask a follow-up. A slow answer returns conversation_id and message_id: call {} with them.",
            poll_tool
        ),
        Toolset::Genie,
        ToolKind::ReadAsk,
        move |ctx: CallContext, args: QuerySpaceArgs| {
            let sid = sid.clone();
            let poll = poll.clone();
            async move {
                ask_and_answer(
                    &ctx,
                    &sid,
                    &args.query,
                    args.conversation_id.as_deref(),
                    &poll,
                )
                .await
            }
        },
    );
    let poll = Poll::Managed(poll_tool.clone());
    let sid = space_id.clone();
    let poll_def = ToolDef::new(
        poll_tool,
        "Poll Genie response",
        format!(
            "Get the answer of {about} to a question that was still being answered: give the conversation_id and message_id returned by query_space_{space_id}."
        ),
        Toolset::Genie,
        ToolKind::ReadGet,
        move |ctx: CallContext, args: PollResponseArgs| {
            let sid = sid.clone();
            let poll = poll.clone();
            async move {
                poll_and_answer(&ctx, &sid, &args.conversation_id, &args.message_id, &poll).await
            }
        },
    );
    Ok(vec![query, poll_def])
}

/// The inline rows of a Genie query's statement and its total row count.
pub(crate) fn statement_rows(
    statement: &databricks_client::services::sql::StatementResponse,
) -> (Vec<Vec<Option<String>>>, u64) {
    let rows: Vec<Vec<Option<String>>> = statement
        .result
        .as_ref()
        .and_then(|r| r.data_array.clone())
        .unwrap_or_default();
    let total = statement
        .manifest
        .as_ref()
        .and_then(|m| m.total_row_count)
        .map(|t| t.max(0) as u64)
        .unwrap_or(rows.len() as u64);
    (rows, total)
}

/// Appends a Genie query's rows to `text` as CSV (at most `--max-rows`, within
/// `--max-chars` less `reserve` for what follows) with the row count, and returns the rows
/// shown as typed JSON cells for `structuredContent`.
pub(crate) fn append_rows(
    ctx: &CallContext,
    text: &mut String,
    columns: &[String],
    types: &[String],
    rows: &[Vec<Option<String>>],
    total: u64,
    reserve: usize,
) -> Vec<Vec<Value>> {
    let rendered = render::rows_in(
        TextFormat::Csv,
        columns,
        types,
        rows.iter().take(ctx.state.settings.max_rows).cloned(),
        ctx.state
            .settings
            .max_chars
            .saturating_sub(text.len() + reserve),
    );
    text.push_str(&rendered.text);
    let shown = rendered.rows_shown as u64;
    text.push_str(&if shown == total {
        format!("\n{total} rows.")
    } else {
        format!("\n{shown} of {total} rows shown.")
    });
    rows.iter()
        .take(rendered.rows_shown)
        .map(|r| {
            r.iter()
                .zip(types)
                .map(|(v, t)| render::typed(v.as_deref(), t))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(validate_id("space", "01ef1c2d3e4f5a6b7c8d9e0f1a2b3c4d").is_ok());
        assert!(validate_id("space", "../x").is_err());
        assert!(validate_id("space", "").is_err());
        assert!(validate_id("space", &"a".repeat(65)).is_err());
    }

    #[test]
    fn managed_tool_names_carry_the_space_id() {
        let tools = space_tools("abc123", None).unwrap_or_default();
        let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        assert_eq!(names, vec!["query_space_abc123", "poll_response_abc123"]);
    }
}
