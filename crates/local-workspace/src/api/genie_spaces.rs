//! The [`GenieSpaces`] backend of the local workspace (REFERENCE.md §10; the protocol is
//! `workspace-server`'s): the spaces are the files of `genie/spaces`, and a space's
//! question is answered as Genie One answers (`genie_one.rs`), from that space's tables
//! only; its answer is shaped as a Genie message (status, query and text attachments).

use std::sync::Arc;

use databricks_api::backend::{Answer, GenieSpaces, MessagePath, async_trait};
use databricks_api::genie::{
    GenieAttachment, GenieConversation, GenieMessage, GenieMessageError, GenieQueryAttachment,
    GenieQueryResultMetadata, GenieSpace, GenieStartConversationResponse, GenieTextAttachment,
};
use databricks_api::genie_one::{self, GenieOneResponse};
use databricks_api::sql::StatementResponse;

use super::Shared;
use super::genie_one::{LocalGenieOne, Space, spaces};
use crate::WAREHOUSE_ID;

pub(crate) struct LocalGenieSpaces {
    pub shared: Arc<Shared>,
}

impl LocalGenieSpaces {
    fn genie(&self) -> LocalGenieOne {
        LocalGenieOne {
            shared: self.shared.clone(),
        }
    }

    /// A space as the API describes it; its times are its file's.
    fn space_model(&self, space: &Space) -> GenieSpace {
        let path = self
            .shared
            .layout
            .genie_spaces()
            .join(format!("{}.json", space.id));
        let time = chrono::DateTime::from_timestamp_millis(crate::layout::mtime_ms(&path))
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        GenieSpace {
            space_id: space.id.clone(),
            title: Some(space.title.clone()),
            description: space.description.clone(),
            warehouse_id: Some(WAREHOUSE_ID.to_string()),
            parent_path: None,
            create_time: Some(time.clone()),
            update_time: Some(time),
        }
    }
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A Genie One response as a Genie message: its status in the message's terms, the
/// query and the answer as attachments.
fn message_model(
    space_id: &str,
    r: &GenieOneResponse,
    question: &str,
    asked_at: i64,
) -> GenieMessage {
    let steps = r.progress_steps().len();
    let status = match r.status() {
        genie_one::COMPLETED => "COMPLETED",
        genie_one::FAILED => "FAILED",
        _ if r.is_cancelled() => "CANCELLED",
        _ if r.is_terminal() => "FAILED",
        // The progress messages say how far it got: looking, found, running the query.
        _ if steps >= 3 => "EXECUTING_QUERY",
        _ if steps == 2 => "ASKING_AI",
        _ => "FETCHING_METADATA",
    };
    let mut attachments = Vec::new();
    if status == "COMPLETED" {
        for q in r.query_items() {
            attachments.push(GenieAttachment {
                attachment_id: Some(q.id.clone()),
                query: Some(GenieQueryAttachment {
                    id: Some(q.id.clone()),
                    title: q.title.clone(),
                    description: q.description.clone(),
                    query: q.sql.clone(),
                    statement_id: q.statement_id.clone(),
                    query_result_metadata: Some(GenieQueryResultMetadata {
                        row_count: q.row_count,
                        is_truncated: Some(false),
                    }),
                    ..GenieQueryAttachment::default()
                }),
                ..GenieAttachment::default()
            });
        }
        for m in r
            .messages()
            .filter(|m| m.phase.as_deref() == Some(genie_one::FINAL_ANSWER))
        {
            attachments.push(GenieAttachment {
                attachment_id: Some(m.id.clone()),
                text: Some(GenieTextAttachment {
                    id: Some(m.id.clone()),
                    content: Some(m.text()),
                    purpose: None,
                }),
                ..GenieAttachment::default()
            });
        }
    }
    let error = (status == "FAILED").then(|| GenieMessageError {
        error: Some(
            r.error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "Genie could not answer.".to_string()),
        ),
        type_: Some("QUERY_EXECUTION_EXCEPTION".to_string()),
    });
    GenieMessage {
        message_id: Some(r.id.clone()),
        id: Some(r.id.clone()),
        conversation_id: r.conversation_id.clone(),
        space_id: Some(space_id.to_string()),
        content: Some(question.to_string()),
        user_id: None,
        status: Some(status.to_string()),
        attachments,
        error,
        created_timestamp: Some(asked_at),
        last_updated_timestamp: Some(now_s()),
    }
}

#[async_trait]
impl GenieSpaces for LocalGenieSpaces {
    async fn spaces(&self) -> Answer<Vec<GenieSpace>> {
        Ok(spaces(&self.shared.layout.genie_spaces())
            .iter()
            .map(|s| self.space_model(s))
            .collect())
    }

    async fn space(&self, space_id: &str) -> Answer<Option<GenieSpace>> {
        Ok(spaces(&self.shared.layout.genie_spaces())
            .iter()
            .find(|s| s.id == space_id)
            .map(|s| self.space_model(s)))
    }

    async fn start_conversation(
        &self,
        space_id: &str,
        content: &str,
    ) -> Answer<GenieStartConversationResponse> {
        let response = self.genie().ask(content, None, Some(space_id))?;
        let cid = response.conversation_id.clone().unwrap_or_default();
        let now = now_s();
        let message = message_model(space_id, &response, content, now);
        Ok(GenieStartConversationResponse {
            conversation_id: cid.clone(),
            message_id: response.id.clone(),
            conversation: Some(GenieConversation {
                conversation_id: cid.clone(),
                id: Some(cid),
                space_id: Some(space_id.to_string()),
                title: Some(content.to_string()),
                user_id: None,
                created_timestamp: Some(now),
                last_updated_timestamp: Some(now),
            }),
            message: Some(message),
        })
    }

    async fn create_message(
        &self,
        space_id: &str,
        conversation_id: &str,
        content: &str,
    ) -> Answer<GenieMessage> {
        let response = self
            .genie()
            .ask(content, Some(conversation_id), Some(space_id))?;
        Ok(message_model(space_id, &response, content, now_s()))
    }

    async fn message(&self, at: MessagePath<'_>) -> Answer<GenieMessage> {
        let (response, question, asked_at) =
            (self.genie()).read(at.conversation_id, at.message_id, Some(at.space_id))?;
        Ok(message_model(at.space_id, &response, &question, asked_at))
    }

    async fn query_result(
        &self,
        at: MessagePath<'_>,
        attachment: Option<&str>,
    ) -> Answer<StatementResponse> {
        let (cid, mid, sid) = (at.conversation_id, at.message_id, Some(at.space_id));
        self.genie().result(cid, mid, attachment, sid)
    }

    async fn execute_query(
        &self,
        at: MessagePath<'_>,
        attachment: Option<&str>,
    ) -> Answer<StatementResponse> {
        let (cid, mid, sid) = (at.conversation_id, at.message_id, Some(at.space_id));
        self.genie().rerun(cid, mid, attachment, sid).await
    }

    async fn conversations(&self, space_id: &str) -> Answer<Vec<GenieConversation>> {
        Ok(self
            .genie()
            .conversations_of(space_id)
            .into_iter()
            .map(|(id, title, created_ms)| GenieConversation {
                conversation_id: id,
                title: Some(title),
                created_timestamp: Some(created_ms / 1000),
                ..GenieConversation::default()
            })
            .collect())
    }
}
