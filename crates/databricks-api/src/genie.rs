//! Genie (AI/BI) Conversation API (REFERENCE.md §10): spaces, conversations, messages
//! and the query results of their attachments.
//!
//! A question is asked with [`DatabricksClient::start_genie_conversation`] (or
//! [`DatabricksClient::create_genie_message`] to follow up), then its message is polled
//! with [`DatabricksClient::get_genie_message`] until [`GenieMessage::is_terminal`].

use serde::{Deserialize, Serialize};

use crate::sql::StatementResponse;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieSpace {
    #[serde(default)]
    pub space_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}

/// A message of a conversation: the question and, once answered, its attachments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Legacy alias of `message_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// `SUBMITTED`, `FETCHING_METADATA`, `FILTERING_CONTEXT`, `ASKING_AI`,
    /// `PENDING_WAREHOUSE`, `EXECUTING_QUERY`, `COMPLETED`, `FAILED`, `CANCELLED`,
    /// `QUERY_RESULT_EXPIRED` — open: new values appear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<GenieAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<GenieMessageError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
}

impl GenieMessage {
    /// `message_id`, or the legacy `id`.
    pub fn message_id(&self) -> Option<&str> {
        self.message_id
            .as_deref()
            .or(self.id.as_deref())
            .filter(|s| !s.is_empty())
    }

    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("UNKNOWN")
    }

    /// COMPLETED, FAILED, CANCELLED or QUERY_RESULT_EXPIRED.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status(),
            "COMPLETED" | "FAILED" | "CANCELLED" | "QUERY_RESULT_EXPIRED"
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieMessageError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// One part of an answer: a query, a text, or suggested follow-up questions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieAttachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<GenieQueryAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<GenieTextAttachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_questions: Option<GenieSuggestedQuestions>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieQueryAttachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The SQL Genie wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_result_metadata: Option<GenieQueryResultMetadata>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieQueryResultMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_truncated: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieTextAttachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `TEXT_ATTACHMENT_PURPOSE_ANSWER`, `FOLLOW_UP_QUESTION` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieSuggestedQuestions {
    #[serde(default)]
    pub questions: Vec<String>,
}

/// Answer of `start-conversation`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieStartConversationResponse {
    #[serde(default)]
    pub conversation_id: String,
    #[serde(default)]
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<GenieMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<GenieConversation>,
}

/// A conversation of a space: whole in `start-conversation`, `conversation_id`, `title`
/// and `created_timestamp` in a listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieConversation {
    #[serde(default)]
    pub conversation_id: String,
    /// Legacy alias of `conversation_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
}

/// Answer of list conversations.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConversationsPage {
    #[serde(default)]
    pub conversations: Vec<GenieConversation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Body of `start-conversation` and create message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieMessageRequest {
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_visualization: Option<bool>,
}

/// Answer of an attachment's `query-result`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieQueryResultResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_response: Option<StatementResponse>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SpacesPage {
    #[serde(default)]
    pub spaces: Vec<GenieSpace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_tolerate_unknown_status_and_legacy_id() {
        let m: GenieMessage =
            serde_json::from_value(json!({"id": "m1", "status": "IN_PROGRESS", "attachments": [{"attachment_id": "a", "text": {"content": "hi"}}]}))
                .unwrap_or_default();
        assert_eq!(m.message_id(), Some("m1"));
        assert!(!m.is_terminal());
        assert_eq!(m.attachments.len(), 1);
        let done: GenieMessage =
            serde_json::from_value(json!({"status": "COMPLETED"})).unwrap_or_default();
        assert!(done.is_terminal());
        let empty: GenieMessage = serde_json::from_value(json!({})).unwrap_or_default();
        assert_eq!(empty.status(), "UNKNOWN");
    }
}
