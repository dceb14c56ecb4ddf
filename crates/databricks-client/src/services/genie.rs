//! Genie (AI/BI) Conversation API (REFERENCE.md §10): spaces, conversations, messages
//! and the query results of their attachments.
//!
//! A question is asked with [`DatabricksClient::start_genie_conversation`] (or
//! [`DatabricksClient::create_genie_message`] to follow up), then its message is polled
//! with [`DatabricksClient::get_genie_message`] until [`GenieMessage::is_terminal`].

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::{DatabricksClient, path_segment};
use crate::pagination::Page;
use crate::services::sql::StatementResponse;

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
    pub conversation: Option<serde_json::Value>,
}

/// Answer of an attachment's `query-result`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GenieQueryResultResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_response: Option<StatementResponse>,
}

#[derive(Debug, Deserialize)]
struct SpacesPage {
    #[serde(default)]
    spaces: Vec<GenieSpace>,
    #[serde(default)]
    next_page_token: Option<String>,
}

fn message_path(space_id: &str, conversation_id: &str, message_id: &str) -> String {
    format!(
        "/api/2.0/genie/spaces/{}/conversations/{}/messages/{}",
        path_segment(space_id),
        path_segment(conversation_id),
        path_segment(message_id)
    )
}

impl DatabricksClient {
    /// One page of Genie spaces (`page_size` 1–100; the server's default is 20).
    pub async fn list_genie_spaces(
        &self,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<Page<GenieSpace>, Error> {
        let mut query = Vec::new();
        if let Some(n) = page_size {
            query.push(("page_size", n.to_string()));
        }
        if let Some(t) = page_token {
            query.push(("page_token", t.to_string()));
        }
        let r: SpacesPage = self.get("/api/2.0/genie/spaces", &query).await?;
        Ok(Page::from_token(r.spaces, r.next_page_token))
    }

    pub async fn get_genie_space(&self, space_id: &str) -> Result<GenieSpace, Error> {
        self.get(
            &format!("/api/2.0/genie/spaces/{}", path_segment(space_id)),
            &[],
        )
        .await
    }

    /// Asks `content` in a new conversation of the space.
    pub async fn start_genie_conversation(
        &self,
        space_id: &str,
        content: &str,
    ) -> Result<GenieStartConversationResponse, Error> {
        self.post(
            &format!(
                "/api/2.0/genie/spaces/{}/start-conversation",
                path_segment(space_id)
            ),
            &serde_json::json!({ "content": content }),
        )
        .await
    }

    /// Asks `content` as a follow-up in an existing conversation.
    pub async fn create_genie_message(
        &self,
        space_id: &str,
        conversation_id: &str,
        content: &str,
    ) -> Result<GenieMessage, Error> {
        self.post(
            &format!(
                "/api/2.0/genie/spaces/{}/conversations/{}/messages",
                path_segment(space_id),
                path_segment(conversation_id)
            ),
            &serde_json::json!({ "content": content }),
        )
        .await
    }

    pub async fn get_genie_message(
        &self,
        space_id: &str,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<GenieMessage, Error> {
        self.get(&message_path(space_id, conversation_id, message_id), &[])
            .await
    }

    /// The result of a query attachment (available once the message is
    /// EXECUTING_QUERY or COMPLETED).
    pub async fn get_genie_query_result(
        &self,
        space_id: &str,
        conversation_id: &str,
        message_id: &str,
        attachment_id: &str,
    ) -> Result<GenieQueryResultResponse, Error> {
        self.get(
            &format!(
                "{}/attachments/{}/query-result",
                message_path(space_id, conversation_id, message_id),
                path_segment(attachment_id)
            ),
            &[],
        )
        .await
    }
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
