//! Genie Conversation API — REFERENCE §10. Messages progress SUBMITTED → EXECUTING_QUERY →
//! COMPLETED as they are polled; a question containing `FAIL` ends FAILED.

use std::collections::HashMap;

use axum::response::Response;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{
    R, Req, bad_param, decode_token, encode_token, hex32, items, lock, not_found, ok, set,
};

#[derive(Default)]
pub(crate) struct Genie {
    /// message_id → message state.
    messages: HashMap<String, Message>,
    /// Conversations created here: (space_id, conversation json).
    conversations: Vec<(String, Value)>,
}

struct Message {
    space_id: String,
    conversation_id: String,
    content: String,
    reads: u32,
    created: i64,
}

pub(crate) fn route(st: &Shared, req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", ["spaces"]) => list_spaces(req),
        ("GET", ["spaces", sid]) => space(sid).and_then(ok),
        ("POST", ["spaces", sid, "start-conversation"]) => start(st, req, sid),
        ("GET", ["spaces", sid, "conversations"]) => list_conversations(st, req, sid),
        ("POST", ["spaces", sid, "conversations", cid, "messages"]) => {
            create_message(st, req, sid, cid)
        }
        ("GET", ["spaces", sid, "conversations", cid, "messages", mid]) => {
            get_message(st, sid, cid, mid)
        }
        (
            "GET",
            [
                "spaces",
                sid,
                "conversations",
                cid,
                "messages",
                mid,
                "attachments",
                _,
                "query-result",
            ],
        )
        | (
            "POST",
            [
                "spaces",
                sid,
                "conversations",
                cid,
                "messages",
                mid,
                "attachments",
                _,
                "execute-query",
            ],
        )
        | (
            "GET",
            [
                "spaces",
                sid,
                "conversations",
                cid,
                "messages",
                mid,
                "query-result",
                ..,
            ],
        )
        | (
            "POST",
            [
                "spaces",
                sid,
                "conversations",
                cid,
                "messages",
                mid,
                "execute-query",
            ],
        ) => query_result(st, sid, cid, mid),
        _ => return None,
    })
}

fn spaces() -> Vec<Value> {
    items(&fixture_json("genie_spaces_list.json"), "spaces")
}

fn space(sid: &str) -> Result<Value, Response> {
    spaces()
        .into_iter()
        .find(|s| s.get("space_id").and_then(Value::as_str) == Some(sid))
        .ok_or_else(|| not_found(format!("Genie space {sid} does not exist.")))
}

fn list_spaces(req: &Req) -> R {
    let size = match req.q_i64("page_size")? {
        None | Some(0) => 20,
        Some(n) if !(1..=100).contains(&n) => {
            return Err(bad_param(format!(
                "page_size must be between 1 and 100, got {n}."
            )));
        }
        Some(n) => n as usize,
    };
    let offset = decode_token("spaces", req.q("page_token"))?;
    let (page, next) = crate::util::page(&spaces(), offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, "spaces", Value::Array(page));
    }
    if let Some(n) = next {
        set(
            &mut out,
            "next_page_token",
            json!(encode_token("spaces", n)),
        );
    }
    ok(out)
}

fn content(req: &Req) -> Result<String, Response> {
    req.b_req("content").map(str::to_string)
}

/// A GenieMessage in status `status`, built from the fixtures.
fn message_json(mid: &str, m: &Message, status: &str) -> Value {
    let mut v = match status {
        "COMPLETED" => fixture_json("genie_message_completed.json"),
        "EXECUTING_QUERY" => fixture_json("genie_message_in_progress.json"),
        _ => {
            let mut v = fixture_json("genie_start_conversation.json")
                .get("message")
                .cloned()
                .unwrap_or_else(|| json!({}));
            set(&mut v, "status", json!(status));
            v
        }
    };
    for (k, x) in [
        ("message_id", mid),
        ("id", mid),
        ("conversation_id", m.conversation_id.as_str()),
        ("space_id", m.space_id.as_str()),
        ("content", m.content.as_str()),
    ] {
        set(&mut v, k, json!(x));
    }
    set(&mut v, "created_timestamp", json!(m.created));
    if status == "FAILED" {
        crate::util::remove(&mut v, "attachments");
        set(
            &mut v,
            "error",
            json!({"error": "Genie could not answer this question with the data available.", "type": "GENERIC_CHAT_COMPLETION_EXCEPTION"}),
        );
    }
    v
}

fn new_message(st: &Shared, sid: &str, cid: &str, content: String) -> (String, Message) {
    let mid = hex32(st.next_id());
    let m = Message {
        space_id: sid.to_string(),
        conversation_id: cid.to_string(),
        content,
        reads: 0,
        created: crate::util::now_ms() / 1000,
    };
    (mid, m)
}

fn start(st: &Shared, req: &Req, sid: &str) -> R {
    space(sid)?;
    let content = content(req)?;
    let cid = hex32(st.next_id());
    let (mid, m) = new_message(st, sid, &cid, content.clone());
    let message = message_json(&mid, &m, "SUBMITTED");
    let mut out = fixture_json("genie_start_conversation.json");
    let mut conversation = out
        .get("conversation")
        .cloned()
        .unwrap_or_else(|| json!({}));
    for (k, x) in [
        ("conversation_id", &cid),
        ("id", &cid),
        ("space_id", &sid.to_string()),
        ("title", &content),
    ] {
        set(&mut conversation, k, json!(x));
    }
    set(&mut conversation, "created_timestamp", json!(m.created));
    set(
        &mut conversation,
        "last_updated_timestamp",
        json!(m.created),
    );
    set(&mut out, "conversation_id", json!(cid));
    set(&mut out, "message_id", json!(mid));
    set(&mut out, "conversation", conversation.clone());
    set(&mut out, "message", message);
    let mut g = lock(&st.genie);
    g.conversations.push((sid.to_string(), conversation));
    g.messages.insert(mid, m);
    ok(out)
}

fn known_conversation(g: &Genie, sid: &str, cid: &str) -> bool {
    let fixture_conv = items(
        &fixture_json("genie_conversations_list.json"),
        "conversations",
    )
    .iter()
    .any(|c| c.get("conversation_id").and_then(Value::as_str) == Some(cid));
    fixture_conv
        || g.conversations
            .iter()
            .any(|(s, c)| s == sid && c.get("conversation_id").and_then(Value::as_str) == Some(cid))
}

fn create_message(st: &Shared, req: &Req, sid: &str, cid: &str) -> R {
    space(sid)?;
    let content = content(req)?;
    let mut g = lock(&st.genie);
    if !known_conversation(&g, sid, cid) {
        return Err(not_found(format!("Conversation {cid} does not exist.")));
    }
    let (mid, m) = new_message(st, sid, cid, content);
    let out = message_json(&mid, &m, "SUBMITTED");
    g.messages.insert(mid, m);
    ok(out)
}

fn get_message(st: &Shared, sid: &str, cid: &str, mid: &str) -> R {
    space(sid)?;
    let mut g = lock(&st.genie);
    let Some(m) = g.messages.get_mut(mid).filter(|m| m.conversation_id == cid) else {
        // The fixture's own message is complete.
        let fixture = fixture_json("genie_message_completed.json");
        if fixture.get("message_id").and_then(Value::as_str) == Some(mid) {
            return ok(fixture);
        }
        return Err(not_found(format!("Message {mid} does not exist.")));
    };
    m.reads += 1;
    let status = match m.reads {
        1 => "EXECUTING_QUERY",
        _ if m.content.contains("FAIL") => "FAILED",
        _ => "COMPLETED",
    };
    ok(message_json(mid, m, status))
}

fn query_result(st: &Shared, sid: &str, cid: &str, mid: &str) -> R {
    space(sid)?;
    let g = lock(&st.genie);
    let known = g
        .messages
        .get(mid)
        .is_some_and(|m| m.conversation_id == cid)
        || fixture_json("genie_message_completed.json")
            .get("message_id")
            .and_then(Value::as_str)
            == Some(mid);
    if !known {
        return Err(not_found(format!("Message {mid} does not exist.")));
    }
    ok(fixture_json("genie_query_result.json"))
}

fn list_conversations(st: &Shared, req: &Req, sid: &str) -> R {
    space(sid)?;
    let size = match req.q_i64("page_size")? {
        None | Some(0) => 20,
        Some(n) if n < 0 => return Err(bad_param("page_size must be positive.")),
        Some(n) => (n as usize).min(100),
    };
    let offset = decode_token("conversations", req.q("page_token"))?;
    let g = lock(&st.genie);
    let mut all: Vec<Value> = g
        .conversations
        .iter()
        .rev()
        .filter(|(s, _)| s == sid)
        .map(|(_, c)| {
            json!({
                "conversation_id": c.get("conversation_id"),
                "title": c.get("title"),
                "created_timestamp": c.get("created_timestamp"),
            })
        })
        .collect();
    all.extend(items(
        &fixture_json("genie_conversations_list.json"),
        "conversations",
    ));
    let (page, next) = crate::util::page(&all, offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, "conversations", Value::Array(page));
    }
    if let Some(n) = next {
        set(
            &mut out,
            "next_page_token",
            json!(encode_token("conversations", n)),
        );
    }
    ok(out)
}
