//! Model Serving: `GET /api/2.0/serving-endpoints[/{name}]`, and chat completions at
//! `POST /serving-endpoints/{name}/invocations` (not under `/api/`), plus the
//! OpenAI-compatible `POST /serving-endpoints/chat/completions` that names the endpoint in
//! the body's `model`, as workspaces serve it for OpenAI clients.
//!
//! The backend answers whole completions; `"stream": true` is handled here, by sending
//! that answer as server-sent events of `ChatChunk`s (text and tool-call arguments in
//! pieces) and `data: [DONE]`, so every backend streams the same way.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use databricks_api::backend::Serving;
use databricks_api::error::ApiError;
use databricks_api::serving::{
    ChatChunk, ChatRequest, ChatResponse, ChunkChoice, ChunkDelta, FunctionDelta,
    ListEndpointsResponse, ToolCallDelta,
};
use serde_json::Value;

use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// The task of the endpoints that take chat requests.
pub(crate) const CHAT_TASK: &str = "llm/v1/chat";
/// Roles a chat message may have (`developer` is OpenAI's newer name for `system`).
const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];
/// Content deltas a streamed text is cut into, at most.
const TEXT_PIECES: usize = 3;
/// Pieces the arguments of a streamed tool call are cut into, at most.
const ARGUMENT_PIECES: usize = 3;

/// `rest`: the path after `/api/2.0/serving-endpoints`.
pub(crate) async fn route_api(
    backend: &dyn Serving,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        // Always `{"endpoints": [...]}`, `[]` when there are none.
        ("GET" | "HEAD", [] | [""]) => Ok(json_response(
            200,
            &ListEndpointsResponse {
                endpoints: backend.endpoints().await?,
            },
        )),
        ("GET" | "HEAD", [name]) => Ok(json_response(200, &backend.endpoint(name).await?)),
        _ => Err(endpoint_not_found(req)),
    }
}

/// `rest`: the path after `/serving-endpoints`.
pub(crate) async fn route_invocations(
    backend: &dyn Serving,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("POST", ["chat", "completions"]) => {
            let name = req
                .body
                .as_ref()
                .and_then(|b| b.get("model"))
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .ok_or_else(|| ApiError::missing_parameter("model"))?
                .to_string();
            chat(backend, req, &name).await
        }
        ("POST", [name, "invocations"]) => chat(backend, req, name).await,
        _ => Err(endpoint_not_found(req)),
    }
}

/// The endpoint first (unknown: 404), then its task (what body it takes depends on it),
/// then the body.
async fn chat(backend: &dyn Serving, req: &ApiRequest, name: &str) -> Result<Response, ApiError> {
    let endpoint = backend.endpoint(name).await?;
    // An endpoint without a task is a custom model: the backend decides what it accepts.
    if let Some(task) = endpoint.task.as_deref().filter(|t| *t != CHAT_TASK) {
        return Err(ApiError::invalid_parameter(format!(
            "Endpoint '{name}' serves task '{task}': only endpoints of task '{CHAT_TASK}' take chat requests."
        )));
    }
    let mut request = chat_request(req)?;
    let stream = request.stream == Some(true);
    // The backend always answers whole; streaming is done here.
    request.stream = None;
    let response = backend.chat(name, &request).await?;
    Ok(if stream {
        event_stream(&response)
    } else {
        json_response(200, &response)
    })
}

/// The body as a chat request, checked as far as every backend needs it.
fn chat_request(req: &ApiRequest) -> Result<ChatRequest, ApiError> {
    let body = req.body.clone().ok_or_else(|| {
        ApiError::invalid_parameter("The request body must be a JSON chat request with 'messages'.")
    })?;
    let request: ChatRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid chat request: {e}.")))?;
    if request.messages.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Invalid chat request: 'messages' must not be empty.",
        ));
    }
    if let Some(bad) = request
        .messages
        .iter()
        .find(|m| !ROLES.contains(&m.role.as_str()))
    {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid chat request: message role '{}' is not one of {}.",
            bad.role,
            ROLES.join(", ")
        )));
    }
    Ok(request)
}

/// `text/event-stream`: one `data:` event per chunk, then `data: [DONE]`.
fn event_stream(response: &ChatResponse) -> Response {
    let mut text = String::new();
    for chunk in chunks(response) {
        match serde_json::to_string(&chunk) {
            Ok(json) => {
                text.push_str("data: ");
                text.push_str(&json);
                text.push_str("\n\n");
            }
            // Models serialize; skip rather than send half an event.
            Err(_) => continue,
        }
    }
    text.push_str("data: [DONE]\n\n");
    let mut answer = Response::new(Body::from(text));
    *answer.status_mut() = StatusCode::OK;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    answer
}

/// A whole answer as the chunks a streaming model sends: the role, the text in a few
/// pieces, each tool call (id and name, then its arguments in pieces), the finish reason.
pub(crate) fn chunks(response: &ChatResponse) -> Vec<ChatChunk> {
    let chunk = |index: u32, delta: ChunkDelta, finish_reason: Option<String>| ChatChunk {
        id: response.id.clone(),
        choices: vec![ChunkChoice {
            index,
            delta,
            finish_reason,
        }],
    };
    let mut out = Vec::new();
    for choice in &response.choices {
        let message = &choice.message;
        out.push(chunk(
            choice.index,
            ChunkDelta {
                role: Some(if message.role.is_empty() {
                    "assistant".to_string()
                } else {
                    message.role.clone()
                }),
                ..ChunkDelta::default()
            },
            None,
        ));
        for piece in pieces(message.content.as_deref().unwrap_or(""), TEXT_PIECES) {
            out.push(chunk(
                choice.index,
                ChunkDelta {
                    content: Some(piece.to_string()),
                    ..ChunkDelta::default()
                },
                None,
            ));
        }
        for (i, call) in message.tool_calls.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let delta = |id: Option<String>, name: Option<String>, arguments: &str| ChunkDelta {
                tool_calls: vec![ToolCallDelta {
                    index,
                    id,
                    function: Some(FunctionDelta {
                        name,
                        arguments: Some(arguments.to_string()),
                    }),
                }],
                ..ChunkDelta::default()
            };
            // As OpenAI streams them: the id and name with empty arguments first.
            out.push(chunk(
                choice.index,
                delta(Some(call.id.clone()), Some(call.function.name.clone()), ""),
                None,
            ));
            for piece in pieces(&call.function.arguments, ARGUMENT_PIECES) {
                out.push(chunk(choice.index, delta(None, None, piece), None));
            }
        }
        out.push(chunk(
            choice.index,
            ChunkDelta::default(),
            choice
                .finish_reason
                .clone()
                .or_else(|| Some("stop".to_string())),
        ));
    }
    out
}

/// `text` cut at character boundaries into at most `n` non-empty pieces of about equal
/// length (at least two when it has two characters or more).
fn pieces(text: &str, n: usize) -> Vec<&str> {
    let chars = text.chars().count();
    let n = n.clamp(1, chars.max(1));
    let size = chars.div_ceil(n).max(1);
    let mut out = Vec::with_capacity(n);
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .nth(size)
            .map_or(rest.len(), |(at, _)| at);
        let (piece, tail) = rest.split_at(cut);
        out.push(piece);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use databricks_api::serving::{ChatChoice, ChatMessage, FunctionCall, ToolCall};

    use super::*;

    #[test]
    fn pieces_join_back_and_cut_at_characters() {
        for text in ["", "a", "ab", "héllo wörld", "{\"query\": \"SELECT 1\"}"] {
            let cut = pieces(text, 3);
            assert_eq!(cut.concat(), text);
            assert!(cut.len() <= 3);
            assert!(cut.iter().all(|p| !p.is_empty()));
            if text.chars().count() >= 2 {
                assert!(cut.len() >= 2, "{text}: {cut:?}");
            }
        }
    }

    #[test]
    fn a_tool_call_streams_its_arguments_in_pieces() {
        let response = ChatResponse {
            id: Some("c1".into()),
            choices: vec![ChatChoice {
                index: 0,
                message: ChatMessage {
                    role: "assistant".into(),
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        type_: "function".into(),
                        function: FunctionCall {
                            name: "f".into(),
                            arguments: "{\"a\": 1}".into(),
                        },
                    }],
                    ..ChatMessage::default()
                },
                finish_reason: Some("tool_calls".into()),
            }],
            ..ChatResponse::default()
        };
        let chunks = chunks(&response);
        let deltas: Vec<&ToolCallDelta> = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .flat_map(|c| &c.delta.tool_calls)
            .collect();
        assert_eq!(deltas[0].id.as_deref(), Some("call_1"));
        let arguments: String = deltas
            .iter()
            .filter_map(|d| d.function.as_ref()?.arguments.as_deref())
            .collect();
        assert_eq!(arguments, "{\"a\": 1}");
        assert!(deltas.len() >= 3);
        let last = chunks.last().map(|c| c.choices[0].finish_reason.clone());
        assert_eq!(last, Some(Some("tool_calls".into())));
    }
}
