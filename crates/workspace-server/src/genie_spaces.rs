//! The Genie Conversation API (REFERENCE.md §10, `/api/2.0/genie/spaces/...`): spaces,
//! start a conversation, follow up, read a message, the query result of an attachment
//! (and the deprecated paths without `attachments/`), execute-query, list conversations.
//!
//! The protocol lives here — `content` required, `page_size` (≤ 100, default 20) and
//! `page_token` of both lists, 404 for an unknown space, the deprecated forms mapped to
//! the attachment calls — and the spaces, conversations and answers come from the
//! backend.

use axum::response::Response;
use databricks_api::backend::{GenieSpaces, MessagePath};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::genie::{ConversationsPage, GenieQueryResultResponse, SpacesPage};
use databricks_api::paging::slice;
use serde_json::Value;

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// Page size when `page_size` is absent or 0, and the largest one (§10).
const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;

/// Which result call an attachment path asks for.
#[derive(Debug, Clone, Copy)]
enum Query {
    Result,
    Execute,
}

/// `rest`: the path after `/api/2.0/genie/spaces`.
pub(crate) async fn route(backend: &dyn GenieSpaces, req: &ApiRequest, rest: &[&str]) -> Answer {
    let method = req.method.as_str();
    let read = matches!(method, "GET" | "HEAD");
    match rest {
        // A trailing slash lists too (some clients write `/spaces/`).
        [] | [""] if read => list_spaces(backend, req).await,
        [sid, tail @ ..] => {
            if !known_route(method, tail) {
                return Err(endpoint_not_found(req));
            }
            // Present for every call of the space: unknown ⇒ 404 before anything else.
            let space = backend
                .space(sid)
                .await?
                .ok_or_else(|| space_not_found(sid))?;
            in_space(backend, req, sid, tail, space).await
        }
        _ => Err(endpoint_not_found(req)),
    }
}

/// Whether `tail` (after the space id) is a call of §10 with this method.
fn known_route(method: &str, tail: &[&str]) -> bool {
    let read = matches!(method, "GET" | "HEAD");
    match tail {
        [] | ["conversations"] | ["conversations", _, "messages", _] => read,
        ["start-conversation"] | ["conversations", _, "messages"] => method == "POST",
        ["conversations", _, "messages", _, rest @ ..] => query_call(method, rest).is_some(),
        _ => false,
    }
}

/// The attachment (if the path names one) and the call of a result path, given what
/// follows `messages/{mid}`.
fn query_call<'a>(method: &str, rest: &[&'a str]) -> Option<(Option<&'a str>, Query)> {
    let read = matches!(method, "GET" | "HEAD");
    let post = method == "POST";
    match rest {
        ["attachments", aid, "query-result"] if read => Some((Some(aid), Query::Result)),
        ["attachments", aid, "execute-query"] if post => Some((Some(aid), Query::Execute)),
        // Deprecated forms (§10): the message's query attachment, or the one named last.
        ["query-result"] if read => Some((None, Query::Result)),
        ["query-result", aid] if read => Some((Some(aid), Query::Result)),
        ["execute-query"] if post => Some((None, Query::Execute)),
        _ => None,
    }
}

async fn in_space(
    backend: &dyn GenieSpaces,
    req: &ApiRequest,
    sid: &str,
    tail: &[&str],
    space: databricks_api::genie::GenieSpace,
) -> Answer {
    match tail {
        [] => {
            // Optional (newer); this server has no serialized form to add.
            req.flag_param("include_serialized_space")?;
            Ok(json_response(200, &space))
        }
        ["start-conversation"] => {
            let content = content(req)?;
            let started = backend.start_conversation(sid, &content).await?;
            Ok(json_response(200, &started))
        }
        ["conversations"] => list_conversations(backend, req, sid).await,
        ["conversations", cid, "messages"] => {
            let content = content(req)?;
            let message = backend.create_message(sid, cid, &content).await?;
            Ok(json_response(200, &message))
        }
        ["conversations", cid, "messages", mid] => {
            let at = MessagePath {
                space_id: sid,
                conversation_id: cid,
                message_id: mid,
            };
            Ok(json_response(200, &backend.message(at).await?))
        }
        ["conversations", cid, "messages", mid, rest @ ..] => {
            let Some((attachment, call)) = query_call(&req.method, rest) else {
                return Err(endpoint_not_found(req));
            };
            let at = MessagePath {
                space_id: sid,
                conversation_id: cid,
                message_id: mid,
            };
            let statement = match call {
                Query::Result => backend.query_result(at, attachment).await?,
                Query::Execute => backend.execute_query(at, attachment).await?,
            };
            Ok(json_response(
                200,
                &GenieQueryResultResponse {
                    statement_response: Some(statement),
                },
            ))
        }
        _ => Err(endpoint_not_found(req)),
    }
}

pub(crate) fn space_not_found(sid: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Genie space {sid} does not exist."),
    )
}

/// The question: `content`, a nonblank string (§10: required).
fn content(req: &ApiRequest) -> Result<String, ApiError> {
    match req.body.as_ref().and_then(|b| b.get("content")) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter("content")),
        Some(Value::String(text)) if text.trim().is_empty() => Err(ApiError::invalid_parameter(
            "'content' is blank: send the question.",
        )),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(ApiError::invalid_parameter(
            "'content' must be a string: the question.",
        )),
    }
}

/// `page_size` (absent or 0 ⇒ 20; 1–100, else 400) and the offset of `page_token`.
fn page(req: &ApiRequest, scope: &str) -> Result<(usize, usize), ApiError> {
    let size = match req.integer_param("page_size")? {
        None | Some(0) => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::invalid_parameter(format!(
                "page_size must be between 1 and {MAX_PAGE}, got {n}."
            )));
        }
    };
    let offset = decode_token(scope, req.param("page_token")?.as_deref())?;
    Ok((usize::try_from(size).unwrap_or(1), offset))
}

async fn list_spaces(backend: &dyn GenieSpaces, req: &ApiRequest) -> Answer {
    let (size, offset) = page(req, "genie-spaces")?;
    let (spaces, next) = slice(backend.spaces().await?, offset, Some(size));
    Ok(json_response(
        200,
        &SpacesPage {
            spaces,
            next_page_token: next.map(|n| encode_token("genie-spaces", n)),
        },
    ))
}

async fn list_conversations(backend: &dyn GenieSpaces, req: &ApiRequest, sid: &str) -> Answer {
    // Whether to list other users' conversations too: one user here, so the same list.
    req.flag_param("include_all")?;
    let scope = format!("genie-conversations-{sid}");
    let (size, offset) = page(req, &scope)?;
    let (conversations, next) = slice(backend.conversations(sid).await?, offset, Some(size));
    Ok(json_response(
        200,
        &ConversationsPage {
            conversations,
            next_page_token: next.map(|n| encode_token(&scope, n)),
        },
    ))
}
