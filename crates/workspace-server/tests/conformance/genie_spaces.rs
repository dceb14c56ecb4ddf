//! The Genie Conversation API (REFERENCE.md §10): spaces listed by page and read, a
//! question asked, its message polled to a terminal status and its query attachment's
//! result read (also by the deprecated path and by execute-query), a follow-up, the
//! conversations listed, and the errors of unknown ids and bad parameters. The emulator
//! answers from its fixtures; the local workspace from the tables of its sample space.

use databricks_api::genie::{
    ConversationsPage, GenieMessage, GenieQueryResultResponse, GenieSpace,
    GenieStartConversationResponse, SpacesPage,
};
use databricks_api::sql::{StatementResponse, StatementState};
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const SPACES: &str = "/api/2.0/genie/spaces";
const QUESTION: &str = "How many orders are there for each order priority?";
const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

conformance! {
    spaces_are_listed_by_page_and_read => super::spaces_are_listed_by_page_and_read;
    unknown_spaces_are_not_found => super::unknown_spaces_are_not_found;
    a_question_is_answered_with_a_query_result => super::a_question_is_answered_with_a_query_result;
    a_follow_up_and_the_conversations_list => super::a_follow_up_and_the_conversations_list;
    bad_parameters_are_refused => super::bad_parameters_are_refused;
}

fn space_path(t: &Target) -> String {
    format!("{SPACES}/{}", t.known.genie_space)
}

fn message_path(t: &Target, cid: &str, mid: &str) -> String {
    format!("{}/conversations/{cid}/messages/{mid}", space_path(t))
}

/// Every space, one per page, is the whole listing; a space reads as it is listed.
async fn spaces_are_listed_by_page_and_read(t: Target) {
    let (status, v) = t.get(SPACES).await;
    assert_eq!(status, 200, "{v}");
    let whole: SpacesPage = serde_json::from_value(v).expect("a spaces page");
    assert!(
        whole
            .spaces
            .iter()
            .any(|s| s.space_id == t.known.genie_space),
        "{whole:?}"
    );
    let (paged, pages) = t
        .all_pages(&format!("{SPACES}?page_size=1"), "spaces")
        .await;
    assert_eq!(pages, paged.len().max(1));
    let ids: Vec<&str> = paged
        .iter()
        .filter_map(|s| s["space_id"].as_str())
        .collect();
    let whole_ids: Vec<&str> = whole.spaces.iter().map(|s| s.space_id.as_str()).collect();
    assert_eq!(ids, whole_ids);
    let (status, v) = t.get(&space_path(&t)).await;
    assert_eq!(status, 200, "{v}");
    let space: GenieSpace = serde_json::from_value(v.clone()).expect("a space");
    assert_eq!(space.space_id, t.known.genie_space);
    assert!(space.title.is_some() && space.warehouse_id.is_some(), "{v}");
    let listed = whole
        .spaces
        .iter()
        .find(|s| s.space_id == t.known.genie_space)
        .expect("listed");
    assert_eq!(serde_json::to_value(listed).expect("json"), v);
}

/// An unknown space, conversation or message is 404 `RESOURCE_DOES_NOT_EXIST`; a path
/// of no call is `ENDPOINT_NOT_FOUND`.
async fn unknown_spaces_are_not_found(t: Target) {
    let unknown_space = format!("{SPACES}/{UNKNOWN}");
    assert_error(&t.get(&unknown_space).await, 404, "RESOURCE_DOES_NOT_EXIST");
    let ask = json!({"content": QUESTION});
    assert_error(
        &t.post(&format!("{unknown_space}/start-conversation"), &ask)
            .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{unknown_space}/conversations")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let messages = format!("{}/conversations/{UNKNOWN}/messages", space_path(&t));
    assert_error(
        &t.post(&messages, &ask).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{messages}/{UNKNOWN}")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{}/nothing-here", space_path(&t))).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

async fn start(t: &Target, question: &str) -> GenieStartConversationResponse {
    let (status, v) = t
        .post(
            &format!("{}/start-conversation", space_path(t)),
            &json!({"content": question}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    serde_json::from_value(v).expect("a started conversation")
}

/// Reads the message until its status is terminal (within two minutes).
async fn terminal(t: &Target, cid: &str, mid: &str) -> GenieMessage {
    for _ in 0..1200 {
        let (status, v) = t.get(&message_path(t, cid, mid)).await;
        assert_eq!(status, 200, "{v}");
        let message: GenieMessage = serde_json::from_value(v).expect("a message");
        if message.is_terminal() {
            return message;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("message {mid} did not end");
}

fn statement(v: Value) -> StatementResponse {
    let result: GenieQueryResultResponse = serde_json::from_value(v).expect("a query result");
    result.statement_response.expect("statement_response")
}

/// start-conversation answers the conversation and its message; polled, the message
/// completes with a query attachment whose result is a successful statement with the
/// attachment's row count, by the attachment path and the deprecated one alike;
/// execute-query runs it again.
async fn a_question_is_answered_with_a_query_result(t: Target) {
    let started = start(&t, QUESTION).await;
    let message = started.message.clone().expect("its message");
    assert_eq!(message.message_id(), Some(started.message_id.as_str()));
    assert_eq!(message.content.as_deref(), Some(QUESTION));
    let conversation = started.conversation.clone().expect("its conversation");
    assert_eq!(conversation.conversation_id, started.conversation_id);
    assert_eq!(conversation.space_id.as_deref(), Some(t.known.genie_space));
    let (cid, mid) = (&started.conversation_id, &started.message_id);
    let done = terminal(&t, cid, mid).await;
    assert_eq!(done.status(), "COMPLETED", "{done:?}");
    assert_eq!(done.conversation_id.as_deref(), Some(cid.as_str()));
    let attachment = done
        .attachments
        .iter()
        .find(|a| a.query.is_some())
        .expect("a query attachment");
    let aid = attachment.attachment_id.clone().expect("its id");
    let query = attachment.query.clone().expect("its query");
    assert!(
        query
            .query
            .as_deref()
            .is_some_and(|q| q.to_lowercase().contains("select")),
        "{query:?}"
    );
    let path = message_path(&t, cid, mid);
    let (status, v) = t
        .get(&format!("{path}/attachments/{aid}/query-result"))
        .await;
    assert_eq!(status, 200, "{v}");
    let result = statement(v.clone());
    assert_eq!(result.status.state, StatementState::Succeeded);
    let rows = result.result.and_then(|r| r.data_array).unwrap_or_default();
    let expected = query
        .query_result_metadata
        .as_ref()
        .and_then(|m| m.row_count);
    assert_eq!(Some(rows.len() as i64), expected, "{query:?}");
    // The deprecated forms name the same result.
    let (status, old) = t.get(&format!("{path}/query-result")).await;
    assert_eq!((status, &old), (200, &v));
    let (status, old) = t.get(&format!("{path}/query-result/{aid}")).await;
    assert_eq!((status, &old), (200, &v));
    let (status, again) = t
        .post(
            &format!("{path}/attachments/{aid}/execute-query"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    let again = statement(again);
    assert_eq!(again.status.state, StatementState::Succeeded);
    let again_rows = again.result.and_then(|r| r.data_array).unwrap_or_default();
    assert_eq!(again_rows.len(), rows.len());
    // An attachment the message does not have.
    assert_error(
        &t.get(&format!("{path}/attachments/{UNKNOWN}/query-result"))
            .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

/// A follow-up is a new message of the same conversation; the space's conversations
/// list it, newest first, by page.
async fn a_follow_up_and_the_conversations_list(t: Target) {
    let first = start(&t, QUESTION).await;
    let cid = first.conversation_id.clone();
    terminal(&t, &cid, &first.message_id).await;
    let (status, v) = t
        .post(
            &format!("{}/conversations/{cid}/messages", space_path(&t)),
            &json!({"content": "And by order status?"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let follow: GenieMessage = serde_json::from_value(v).expect("a message");
    let mid = follow.message_id().expect("its id").to_string();
    assert_ne!(mid, first.message_id);
    assert_eq!(follow.conversation_id.as_deref(), Some(cid.as_str()));
    let done = terminal(&t, &cid, &mid).await;
    assert_eq!(done.status(), "COMPLETED", "{done:?}");
    let second = start(&t, "How many customers are there?").await;
    let list = format!("{}/conversations", space_path(&t));
    let (status, v) = t.get(&list).await;
    assert_eq!(status, 200, "{v}");
    let page: ConversationsPage = serde_json::from_value(v).expect("a conversations page");
    let ids: Vec<&str> = page
        .conversations
        .iter()
        .map(|c| c.conversation_id.as_str())
        .collect();
    let (newer, older) = (
        ids.iter().position(|c| *c == second.conversation_id),
        ids.iter().position(|c| *c == cid),
    );
    assert!(
        newer.is_some() && older.is_some() && newer < older,
        "{ids:?}"
    );
    let (paged, _) = t
        .all_pages(&format!("{list}?page_size=1"), "conversations")
        .await;
    let paged_ids: Vec<&str> = paged
        .iter()
        .filter_map(|c| c["conversation_id"].as_str())
        .collect();
    assert_eq!(paged_ids, ids);
    let (status, v) = t.get(&format!("{list}?page_size=1")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["conversations"].as_array().map(Vec::len), Some(1), "{v}");
}

/// `content` is required and must be a nonblank string; `page_size` is 1–100 (0 is the
/// default); a page token is one this listing gave.
async fn bad_parameters_are_refused(t: Target) {
    let start_path = format!("{}/start-conversation", space_path(&t));
    for body in [json!({}), json!({"content": ""}), json!({"content": 7})] {
        assert_error(
            &t.post(&start_path, &body).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    for size in ["101", "-1", "ten"] {
        assert_error(
            &t.get(&format!("{SPACES}?page_size={size}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
        assert_error(
            &t.get(&format!(
                "{}/conversations?page_size={size}",
                space_path(&t)
            ))
            .await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    let (status, v) = t.get(&format!("{SPACES}?page_size=0")).await;
    assert_eq!(status, 200, "{v}");
    assert_error(
        &t.get(&format!("{SPACES}?page_token={}", encode("not a token")))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    let started = start(&t, QUESTION).await;
    let follow = format!(
        "{}/conversations/{}/messages",
        space_path(&t),
        started.conversation_id
    );
    assert_error(
        &t.post(&follow, &json!({"content": "   "})).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}
