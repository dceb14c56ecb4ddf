//! Genie spaces (REFERENCE.md §10): the [`GenieSpaces`] backend the shared workspace
//! server routes to (it checks requests and pages), answering from the `genie_*`
//! fixtures.
//!
//! Script: a message is `SUBMITTED` when asked, `EXECUTING_QUERY` at its first read and
//! `COMPLETED` (as `genie_message_completed.json`) at the next; a question containing
//! `FAIL` ends `FAILED` instead. Every answer's query attachment has the result
//! `genie_query_result.json`. The fixture's own conversation and completed message exist.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use databricks_api::backend::{Answer, GenieSpaces, MessagePath, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::genie::{
    ConversationsPage, GenieConversation, GenieMessage, GenieMessageError,
    GenieQueryResultResponse, GenieSpace, GenieStartConversationResponse, SpacesPage,
};
use databricks_api::sql::StatementResponse;

use crate::fixtures::fixture_as;
use crate::util::{hex32, lock, now_ms};

struct Message {
    id: String,
    space_id: String,
    conversation_id: String,
    content: String,
    reads: u32,
    /// Epoch seconds.
    created: i64,
}

#[derive(Default)]
pub(crate) struct FixtureGenieSpaces {
    next: AtomicU64,
    messages: Mutex<Vec<Message>>,
    /// Conversations started here, oldest first.
    conversations: Mutex<Vec<GenieConversation>>,
}

fn not_found(message: String) -> ApiError {
    ApiError::new(ErrorCode::ResourceDoesNotExist, message)
}

impl FixtureGenieSpaces {
    fn next_id(&self) -> String {
        // Apart from the other services' ids: offset the counter.
        hex32(0x6e1e_5000_0000 + self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn all_spaces() -> Vec<GenieSpace> {
        fixture_as::<SpacesPage>("genie_spaces_list.json").spaces
    }

    fn fixture_conversations() -> Vec<GenieConversation> {
        fixture_as::<ConversationsPage>("genie_conversations_list.json").conversations
    }

    fn known_conversation(&self, sid: &str, cid: &str) -> bool {
        let here = lock(&self.conversations)
            .iter()
            .any(|c| c.conversation_id == cid && c.space_id.as_deref() == Some(sid));
        here || Self::fixture_conversations()
            .iter()
            .any(|c| c.conversation_id == cid)
    }

    fn ask(&self, sid: &str, cid: &str, content: &str) -> GenieMessage {
        let m = Message {
            id: self.next_id(),
            space_id: sid.to_string(),
            conversation_id: cid.to_string(),
            content: content.to_string(),
            reads: 0,
            created: now_ms() / 1000,
        };
        let message = message_model(&m);
        lock(&self.messages).push(m);
        message
    }

    /// The message as it stands, moved on by this read when `read`, or the fixture's
    /// completed message (its own ids); 404 for any other.
    fn find(&self, at: MessagePath<'_>, read: bool) -> Result<GenieMessage, ApiError> {
        let (sid, cid, mid) = (at.space_id, at.conversation_id, at.message_id);
        if let Some(m) = lock(&self.messages)
            .iter_mut()
            .find(|m| m.id == mid && m.conversation_id == cid && m.space_id == sid)
        {
            if read {
                m.reads = m.reads.saturating_add(1);
            }
            return Ok(message_model(m));
        }
        let fixture: GenieMessage = fixture_as("genie_message_completed.json");
        if fixture.message_id() == Some(mid)
            && fixture.conversation_id.as_deref() == Some(cid)
            && fixture.space_id.as_deref() == Some(sid)
        {
            return Ok(fixture);
        }
        Err(not_found(format!(
            "Message {mid} does not exist in conversation {cid}."
        )))
    }

    /// The query result of a query attachment of the message.
    fn result(
        &self,
        at: MessagePath<'_>,
        attachment: Option<&str>,
    ) -> Result<StatementResponse, ApiError> {
        let mid = at.message_id;
        let message = self.find(at, false)?;
        let query = message
            .attachments
            .iter()
            .filter(|a| a.query.is_some())
            .find(|a| attachment.is_none() || a.attachment_id.as_deref() == attachment);
        if query.is_none() {
            return Err(not_found(match attachment {
                Some(aid) => format!("Message {mid} has no query attachment {aid}."),
                None => format!("Message {mid} has no query attachment."),
            }));
        }
        fixture_query_result()
    }
}

/// The statement of `genie_query_result.json`: every query's result here.
pub(crate) fn fixture_query_result() -> Result<StatementResponse, ApiError> {
    fixture_as::<GenieQueryResultResponse>("genie_query_result.json")
        .statement_response
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InternalError,
                "genie_query_result.json has no statement_response",
            )
        })
}

/// The message as it stands: `SUBMITTED`, `EXECUTING_QUERY` once read, then `COMPLETED`
/// (or `FAILED`), built from the fixture of that status.
fn message_model(m: &Message) -> GenieMessage {
    let status = match m.reads {
        0 => "SUBMITTED",
        1 => "EXECUTING_QUERY",
        _ if m.content.contains("FAIL") => "FAILED",
        _ => "COMPLETED",
    };
    let mut message: GenieMessage = match status {
        "COMPLETED" | "FAILED" => fixture_as("genie_message_completed.json"),
        "EXECUTING_QUERY" => fixture_as("genie_message_in_progress.json"),
        _ => fixture_as::<GenieStartConversationResponse>("genie_start_conversation.json")
            .message
            .unwrap_or_default(),
    };
    message.message_id = Some(m.id.clone());
    message.id = Some(m.id.clone());
    message.conversation_id = Some(m.conversation_id.clone());
    message.space_id = Some(m.space_id.clone());
    message.content = Some(m.content.clone());
    message.status = Some(status.to_string());
    message.created_timestamp = Some(m.created);
    if status == "FAILED" {
        message.attachments.clear();
        message.error = Some(GenieMessageError {
            error: Some("Genie could not answer this question with the data available.".into()),
            type_: Some("GENERIC_CHAT_COMPLETION_EXCEPTION".into()),
        });
    }
    message
}

#[async_trait]
impl GenieSpaces for FixtureGenieSpaces {
    async fn spaces(&self) -> Answer<Vec<GenieSpace>> {
        Ok(Self::all_spaces())
    }

    async fn space(&self, space_id: &str) -> Answer<Option<GenieSpace>> {
        Ok(Self::all_spaces()
            .into_iter()
            .find(|s| s.space_id == space_id))
    }

    async fn start_conversation(
        &self,
        space_id: &str,
        content: &str,
    ) -> Answer<GenieStartConversationResponse> {
        let mut started: GenieStartConversationResponse =
            fixture_as("genie_start_conversation.json");
        let cid = self.next_id();
        let message = self.ask(space_id, &cid, content);
        let mut conversation = started.conversation.take().unwrap_or_default();
        conversation.conversation_id = cid.clone();
        conversation.id = Some(cid.clone());
        conversation.space_id = Some(space_id.to_string());
        conversation.title = Some(content.to_string());
        conversation.created_timestamp = message.created_timestamp;
        conversation.last_updated_timestamp = message.created_timestamp;
        lock(&self.conversations).push(conversation.clone());
        started.conversation_id = cid;
        started.message_id = message.message_id().unwrap_or_default().to_string();
        started.conversation = Some(conversation);
        started.message = Some(message);
        Ok(started)
    }

    async fn create_message(
        &self,
        space_id: &str,
        conversation_id: &str,
        content: &str,
    ) -> Answer<GenieMessage> {
        if !self.known_conversation(space_id, conversation_id) {
            return Err(not_found(format!(
                "Conversation {conversation_id} does not exist."
            )));
        }
        Ok(self.ask(space_id, conversation_id, content))
    }

    async fn message(&self, at: MessagePath<'_>) -> Answer<GenieMessage> {
        self.find(at, true)
    }

    async fn query_result(
        &self,
        at: MessagePath<'_>,
        attachment_id: Option<&str>,
    ) -> Answer<StatementResponse> {
        self.result(at, attachment_id)
    }

    /// The fixture's result again: the emulator's queries always answer the same.
    async fn execute_query(
        &self,
        at: MessagePath<'_>,
        attachment_id: Option<&str>,
    ) -> Answer<StatementResponse> {
        self.result(at, attachment_id)
    }

    async fn conversations(&self, space_id: &str) -> Answer<Vec<GenieConversation>> {
        let mut all: Vec<GenieConversation> = lock(&self.conversations)
            .iter()
            .rev()
            .filter(|c| c.space_id.as_deref() == Some(space_id))
            .map(|c| GenieConversation {
                conversation_id: c.conversation_id.clone(),
                title: c.title.clone(),
                created_timestamp: c.created_timestamp,
                ..GenieConversation::default()
            })
            .collect();
        all.extend(Self::fixture_conversations());
        Ok(all)
    }
}
