//! Genie One API (Beta): natural-language questions over all the data the caller can
//! read, not one Genie space's. A question is a *response* in a *conversation*:
//!
//! - `POST /api/2.0/genie/one/responses` `{input, conversation_id?, warehouse_id?}`
//!   answers server-sent events, the first `response.created` carrying the new
//!   [`GenieOneResponse`] (`in_progress`, its `id` and `conversation_id`). Disconnecting
//!   does not cancel it.
//! - `GET /api/2.0/genie/one/conversations/{conversation_id}/responses/{response_id}`
//!   reads it; poll while it is `in_progress`.
//!
//! Reference: <https://docs.databricks.com/api/genie-one/v1/create-response>,
//! <https://docs.databricks.com/api/genie-one/v1/get-response> and the Response object
//! (<https://docs.databricks.com/api/genie-one/v1/response>); recorded samples in
//! `crates/databricks-emulator/fixtures/genie_one_*.json` (SOURCES.md says what each one
//! rests on).
//!
//! Not in that reference, and marked so where declared: cancelling a response (by
//! analogy with the Genie agent-mode `…/responses/{response_id}/cancel`), the `query`
//! output items that name the SQL an answer ran, and their query results (by analogy
//! with a Genie space's attachment `query-result`). The reference says a failed response
//! "can include a sanitized `error`" without its shape: `{code, message}` here, as in
//! the Responses API the Genie One API follows; a cancelled response is `incomplete`
//! with `incomplete_details.reason = "cancelled"` (the reference lists four statuses).

use serde::{Deserialize, Serialize};

/// Most UTF-8 bytes a question may have (the reference's limit on the combined text).
pub const MAX_INPUT_BYTES: usize = 25_000;

/// Response statuses (open: others may appear).
pub const IN_PROGRESS: &str = "in_progress";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";
pub const INCOMPLETE: &str = "incomplete";

/// Output item types: an assistant message (the reference's only one) and a query the
/// answer ran (this project's; see the module documentation).
pub const MESSAGE_ITEM: &str = "message";
pub const QUERY_ITEM: &str = "query";

/// The phase of the message that is the answer; earlier messages report progress.
pub const FINAL_ANSWER: &str = "final_answer";
/// The phase of a progress message.
pub const COMMENTARY: &str = "commentary";

/// `incomplete_details.reason` of a cancelled response.
pub const CANCELLED: &str = "cancelled";

/// Server-sent event types of a created response's stream.
pub mod events {
    /// First: `response` is the accepted response (`in_progress`, empty `output`).
    pub const CREATED: &str = "response.created";
    /// An output item started (`output_index`, `item`).
    pub const OUTPUT_ITEM_ADDED: &str = "response.output_item.added";
    /// An output item is complete (`output_index`, `item`).
    pub const OUTPUT_ITEM_DONE: &str = "response.output_item.done";
    /// Last, on success: `response` is the completed response.
    pub const COMPLETED: &str = "response.completed";
    /// Last, on failure: `response` carries the `error`.
    pub const FAILED: &str = "response.failed";
    /// Last, when the response stopped unfinished (cancelled).
    pub const INCOMPLETE: &str = "response.incomplete";
}

/// Body of `POST /api/2.0/genie/one/responses`. The server refuses fields it does not
/// know (`INVALID_PARAMETER_VALUE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateResponseRequest {
    /// The question: a string, or one user message.
    pub input: ResponseInput,
    /// The conversation to continue; absent starts one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The SQL warehouse to run queries on; absent lets Genie One choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
}

impl CreateResponseRequest {
    /// The request's field names.
    pub const FIELDS: [&'static str; 3] = ["input", "conversation_id", "warehouse_id"];
}

/// `input`: a nonblank string, or an array of exactly one user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseInput {
    Text(String),
    Messages(Vec<InputMessage>),
}

impl Default for ResponseInput {
    fn default() -> Self {
        ResponseInput::Text(String::new())
    }
}

impl From<&str> for ResponseInput {
    fn from(text: &str) -> Self {
        ResponseInput::Text(text.to_string())
    }
}

/// A message of the array form of `input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// Omitted or `message`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Only `user` is accepted.
    #[serde(default)]
    pub role: String,
    pub content: InputContent,
}

/// A message's content: a nonblank string or text parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Parts(Vec<InputPart>),
}

impl Default for InputContent {
    fn default() -> Self {
        InputContent::Text(String::new())
    }
}

/// `{"type": "input_text", "text": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputPart {
    #[serde(default, rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub text: String,
}

/// A stored Genie One response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenieOneResponse {
    /// Opaque; pass it back as it is.
    #[serde(default)]
    pub id: String,
    /// Always `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The server-managed model profile, `genie-one`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `in_progress`, `completed`, `failed` or `incomplete` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The assistant's output, in order.
    #[serde(default)]
    pub output: Vec<OutputItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// A failed response's sanitized error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ResponseError>,
    /// Why an `incomplete` response stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_details: Option<IncompleteDetails>,
}

impl GenieOneResponse {
    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("unknown")
    }

    /// Whether it will not change any more: completed, failed or incomplete (and
    /// `cancelled`, which some deployments may spell out).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status(),
            COMPLETED | FAILED | INCOMPLETE | "cancelled" | "canceled"
        )
    }

    /// Whether it stopped because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.status(), "cancelled" | "canceled")
            || self
                .incomplete_details
                .as_ref()
                .and_then(|d| d.reason.as_deref())
                == Some(CANCELLED)
    }

    /// The assistant messages, in order.
    pub fn messages(&self) -> impl Iterator<Item = &OutputItem> {
        self.output.iter().filter(|i| i.type_ == MESSAGE_ITEM)
    }

    /// The answer's text: the `final_answer` messages (every message when none says its
    /// phase), their text parts joined; `None` when there is none yet.
    pub fn final_answer(&self) -> Option<String> {
        let phased = self.messages().any(|m| m.phase.is_some());
        let parts: Vec<String> = self
            .messages()
            .filter(|m| !phased || m.phase.as_deref() == Some(FINAL_ANSWER))
            .map(OutputItem::text)
            .filter(|t| !t.trim().is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }

    /// What Genie said it was doing: the messages of other phases, in order.
    pub fn progress_steps(&self) -> Vec<String> {
        self.messages()
            .filter(|m| m.phase.as_deref().is_some_and(|p| p != FINAL_ANSWER))
            .map(OutputItem::text)
            .filter(|t| !t.trim().is_empty())
            .collect()
    }

    /// The queries the answer ran.
    pub fn query_items(&self) -> impl Iterator<Item = &OutputItem> {
        self.output.iter().filter(|i| i.type_ == QUERY_ITEM)
    }
}

/// One output item: an assistant message (`type` `message`) or a query (`type` `query`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputItem {
    #[serde(default, rename = "type")]
    pub type_: String,
    /// Opaque: never parsed or derived.
    #[serde(default)]
    pub id: String,
    /// `assistant` for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `final_answer` for the answer (progress messages have another phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<String>,
    /// A message's text parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<OutputContent>,
    /// A query's title (query items only, as the rest below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The SQL the query ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The statement that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
    /// Rows of its result, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
}

impl OutputItem {
    /// A message's text parts, joined.
    pub fn text(&self) -> String {
        self.content.iter().map(|c| c.text.as_str()).collect()
    }
}

/// A text part of a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputContent {
    /// Always `output_text`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// May contain Markdown, including result tables.
    #[serde(default)]
    pub text: String,
    /// Sources the text cites (may be empty).
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

/// A source the assistant's text cites.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// `asset`.
    #[serde(default, rename = "type")]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `TABLE`, `NOTEBOOK`, `WEB`, … (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_type: Option<String>,
    /// The asset's public identifier (a table's full name, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One server-sent event of a created response's stream (`data:` of the event whose
/// `event:` is the same `type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseEvent {
    #[serde(default, rename = "type")]
    pub type_: String,
    /// Increases by one with every event of the stream.
    #[serde(default)]
    pub sequence_number: u64,
    /// The response (`response.created`, `response.completed`, `response.failed`,
    /// `response.incomplete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<GenieOneResponse>,
    /// The item's position in `output` (item events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<OutputItem>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_input_forms_deserialize() {
        let text: CreateResponseRequest =
            serde_json::from_value(json!({"input": "How many orders?"})).unwrap_or_default();
        assert_eq!(text.input, ResponseInput::Text("How many orders?".into()));
        let message: CreateResponseRequest = serde_json::from_value(json!({
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
            "conversation_id": "c1"
        }))
        .unwrap_or_default();
        let ResponseInput::Messages(m) = &message.input else {
            panic!("the array form: {message:?}");
        };
        assert_eq!(m[0].role, "user");
        assert_eq!(message.conversation_id.as_deref(), Some("c1"));
    }

    #[test]
    fn answers_progress_and_queries_are_told_apart() {
        let r: GenieOneResponse = serde_json::from_value(json!({
            "id": "r1", "status": "completed",
            "output": [
                {"type": "message", "id": "m1", "role": "assistant", "phase": "commentary",
                 "content": [{"type": "output_text", "text": "Looking at orders", "annotations": []}]},
                {"type": "query", "id": "q1", "sql": "SELECT 1"},
                {"type": "message", "id": "m2", "role": "assistant", "phase": "final_answer",
                 "content": [{"type": "output_text", "text": "There are 5.", "annotations": []}]}
            ]
        }))
        .unwrap_or_default();
        assert!(r.is_terminal());
        assert_eq!(r.final_answer().as_deref(), Some("There are 5."));
        assert_eq!(r.progress_steps(), vec!["Looking at orders"]);
        assert_eq!(r.query_items().count(), 1);
        let unknown: GenieOneResponse =
            serde_json::from_value(json!({"status": "thinking"})).unwrap_or_default();
        assert!(!unknown.is_terminal());
        let cancelled: GenieOneResponse = serde_json::from_value(
            json!({"status": "incomplete", "incomplete_details": {"reason": "cancelled"}}),
        )
        .unwrap_or_default();
        assert!(cancelled.is_terminal() && cancelled.is_cancelled());
    }
}
