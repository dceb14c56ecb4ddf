//! The Genie Conversation API of one space (REFERENCE.md §10) over the local workspace's
//! Genie spaces: list and read spaces, ask (start a conversation or follow up), read a
//! message, a query attachment's result. A space's question is answered as Genie One
//! answers (`genie_one.rs`), from that space's tables only; its answer is shaped as a
//! Genie message (status, query and text attachments).

use std::sync::Arc;

use databricks_api::genie_one::{self, GenieOneResponse};
use serde_json::{Value, json};

use super::genie_one::{LocalGenieOne, Space, spaces};
use super::{HandlerResult, Req, Shared, bad_request, error, not_found, ok, page};
use crate::WAREHOUSE_ID;

/// `rest`: the path after `/api/2.0/genie/spaces`.
pub(crate) fn route(shared: &Arc<Shared>, req: &Req, method: &str, rest: &[&str]) -> HandlerResult {
    let genie = LocalGenieOne {
        shared: shared.clone(),
    };
    if let ("GET", [] | [""]) = (method, rest) {
        return list(shared, req);
    }
    let Some(sid) = rest.first() else {
        return Err(endpoint_not_found(req));
    };
    let space = spaces(&shared.layout.genie_spaces())
        .into_iter()
        .find(|s| s.id == *sid)
        .ok_or_else(|| {
            not_found(
                "RESOURCE_DOES_NOT_EXIST",
                format!(
                    "Genie space {sid} does not exist: the local workspace's spaces are the files of its genie/spaces directory."
                ),
            )
        })?;
    let sid = Some(space.id.as_str());
    match (method, &rest[1..]) {
        ("GET", []) => ok(space_json(shared, &space)),
        ("POST", ["start-conversation"]) => {
            let response = genie.ask(&content(req)?, None, sid).map_err(api_error)?;
            let cid = response.conversation_id.clone().unwrap_or_default();
            let message = message_json(&space.id, &response, &content(req)?, now_s());
            ok(json!({
                "conversation_id": cid,
                "message_id": response.id,
                "conversation": {
                    "conversation_id": cid,
                    "id": cid,
                    "space_id": space.id,
                    "title": content(req)?,
                    "created_timestamp": now_s(),
                    "last_updated_timestamp": now_s(),
                },
                "message": message,
            }))
        }
        ("POST", ["conversations", cid, "messages"]) => {
            let question = content(req)?;
            let response = genie.ask(&question, Some(cid), sid).map_err(api_error)?;
            ok(message_json(&space.id, &response, &question, now_s()))
        }
        ("GET", ["conversations", cid, "messages", mid]) => {
            let (response, question, asked_at) = genie.read(cid, mid, sid).map_err(api_error)?;
            ok(message_json(&space.id, &response, &question, asked_at))
        }
        (
            "GET",
            [
                "conversations",
                cid,
                "messages",
                mid,
                "attachments",
                aid,
                "query-result",
            ],
        ) => {
            let statement = genie.result(cid, mid, aid, sid).map_err(api_error)?;
            ok(json!({"statement_response": statement}))
        }
        _ => Err(endpoint_not_found(req)),
    }
}

fn endpoint_not_found(req: &Req) -> axum::response::Response {
    error(
        404,
        "ENDPOINT_NOT_FOUND",
        format!(
            "No API found for '{} {}' in the local workspace.",
            req.method, req.raw_path
        ),
    )
}

fn api_error(e: databricks_api::error::ApiError) -> axum::response::Response {
    error(e.status, &e.body.error_code, e.body.message)
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The question: `content`, nonblank.
fn content(req: &Req) -> Result<String, axum::response::Response> {
    req.body_str("content")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .ok_or_else(|| bad_request("Missing required field: content (the question)."))
}

fn list(shared: &Shared, req: &Req) -> HandlerResult {
    let size = match req.q_i64("page_size")? {
        None | Some(0) => 20,
        Some(n) if !(1..=100).contains(&n) => {
            return Err(bad_request(format!(
                "page_size must be between 1 and 100, got {n}."
            )));
        }
        Some(n) => n,
    };
    let all: Vec<Value> = spaces(&shared.layout.genie_spaces())
        .iter()
        .map(|s| space_json(shared, s))
        .collect();
    let (items, next) = page(&all, Some(size), req.q("page_token"), 100)?;
    let mut out = json!({"spaces": items});
    if let Some(token) = next {
        out["next_page_token"] = json!(token);
    }
    ok(out)
}

/// A space as the API describes it (`GenieSpace`).
fn space_json(shared: &Shared, space: &Space) -> Value {
    let path = shared
        .layout
        .genie_spaces()
        .join(format!("{}.json", space.id));
    let time = chrono::DateTime::from_timestamp_millis(crate::layout::mtime_ms(&path))
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut v = json!({
        "space_id": space.id,
        "title": space.title,
        "warehouse_id": WAREHOUSE_ID,
        "create_time": time,
        "update_time": time,
    });
    if let Some(d) = &space.description {
        v["description"] = json!(d);
    }
    v
}

/// A Genie One response as a Genie message: its status in the message's terms, the
/// query and the answer as attachments.
fn message_json(space_id: &str, r: &GenieOneResponse, question: &str, asked_at: i64) -> Value {
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
            attachments.push(json!({
                "attachment_id": q.id,
                "query": {
                    "id": q.id,
                    "title": q.title,
                    "description": q.description,
                    "query": q.sql,
                    "statement_id": q.statement_id,
                    "query_result_metadata": {"row_count": q.row_count, "is_truncated": false},
                },
            }));
        }
        for m in r
            .messages()
            .filter(|m| m.phase.as_deref() == Some(genie_one::FINAL_ANSWER))
        {
            attachments.push(json!({
                "attachment_id": m.id,
                "text": {"id": m.id, "content": m.text()},
            }));
        }
    }
    let cid = r.conversation_id.clone().unwrap_or_default();
    let mut v = json!({
        "message_id": r.id,
        "id": r.id,
        "conversation_id": cid,
        "space_id": space_id,
        "content": question,
        "status": status,
        "created_timestamp": asked_at,
        "last_updated_timestamp": now_s(),
    });
    if !attachments.is_empty() {
        v["attachments"] = json!(attachments);
    }
    if status == "FAILED" {
        let why = r
            .error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| "Genie could not answer.".to_string());
        v["error"] = json!({"error": why, "type": "QUERY_EXECUTION_EXCEPTION"});
    }
    v
}
