//! Genie (AI/BI) Conversation API (REFERENCE.md §10): spaces, conversations, messages
//! and the query results of their attachments.
//!
//! A question is asked with [`DatabricksClient::start_genie_conversation`] (or
//! [`DatabricksClient::create_genie_message`] to follow up), then its message is polled
//! with [`DatabricksClient::get_genie_message`] until [`GenieMessage::is_terminal`].

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::pagination::Page;

use databricks_api::endpoints;

pub use databricks_api::genie::*;

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
        let r: SpacesPage = self
            .call::<endpoints::ListGenieSpaces>(&[], &query, None)
            .await?;
        Ok(Page::from_token(r.spaces, r.next_page_token))
    }

    pub async fn get_genie_space(&self, space_id: &str) -> Result<GenieSpace, Error> {
        self.call::<endpoints::GetGenieSpace>(&[space_id], &[], None)
            .await
    }

    /// Asks `content` in a new conversation of the space.
    pub async fn start_genie_conversation(
        &self,
        space_id: &str,
        content: &str,
    ) -> Result<GenieStartConversationResponse, Error> {
        self.call_with::<endpoints::StartGenieConversation>(
            &[space_id],
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
        self.call_with::<endpoints::CreateGenieMessage>(
            &[space_id, conversation_id],
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
        self.call::<endpoints::GetGenieMessage>(&[space_id, conversation_id, message_id], &[], None)
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
        self.call::<endpoints::GetGenieQueryResult>(
            &[space_id, conversation_id, message_id, attachment_id],
            &[],
            None,
        )
        .await
    }
}
