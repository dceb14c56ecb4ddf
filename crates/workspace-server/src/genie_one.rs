//! Genie One (`/api/2.0/genie/one/...`): ask (`POST /responses`, answered as server-sent
//! events), read, cancel, and a query item's result. See `databricks_api::genie_one` for
//! the reference and what is not in it.
//!
//! The request is checked here as the reference specifies (only `input`,
//! `conversation_id` and `warehouse_id`; `input` a nonblank string or exactly one user
//! message of nonblank text, at most 25,000 UTF-8 bytes). The stream is written here too,
//! the same for every backend: `response.created` with the accepted response, then each
//! output item as it appears (`response.output_item.added`, `…done`), then
//! `response.completed`, `response.failed` or `response.incomplete` with the whole
//! response. It follows the backend's stored response, so a client that disconnects
//! stops only its stream: the response goes on (as the reference says).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use databricks_api::backend::{GenieOne, GenieOneQuestion};
use databricks_api::error::ApiError;
use databricks_api::genie::GenieQueryResultResponse;
use databricks_api::genie_one::{
    self, CreateResponseRequest, GenieOneResponse, InputContent, MAX_INPUT_BYTES, ResponseEvent,
    ResponseInput, events,
};
use serde_json::Value;

use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// How often a stream reads the response while it is in progress.
const STREAM_POLL: Duration = Duration::from_millis(200);
/// How long a stream follows a response (the reference's server-side timeout); the
/// response itself goes on.
const STREAM_LIMIT: Duration = Duration::from_secs(30 * 60);

/// `rest`: the path after `/api/2.0/genie/one`.
pub(crate) async fn route(
    backend: Arc<dyn GenieOne>,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("POST", ["responses"]) => {
            let question = question(req.body.as_ref())?;
            let created = backend.create_response(&question).await?;
            Ok(event_stream(backend, created))
        }
        ("GET" | "HEAD", ["conversations", cid, "responses", rid]) => {
            Ok(json_response(200, &backend.response(cid, rid).await?))
        }
        ("POST", ["conversations", cid, "responses", rid, "cancel"]) => Ok(json_response(
            200,
            &backend.cancel_response(cid, rid).await?,
        )),
        (
            "GET" | "HEAD",
            [
                "conversations",
                cid,
                "responses",
                rid,
                "items",
                item,
                "query-result",
            ],
        ) => {
            let statement = backend.query_result(cid, rid, item).await?;
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

/// The body of a create request, checked.
pub(crate) fn question(body: Option<&Value>) -> Result<GenieOneQuestion, ApiError> {
    let Some(Value::Object(fields)) = body else {
        return Err(ApiError::invalid_parameter(
            "The request body must be a JSON object with the question in 'input'.",
        ));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !CreateResponseRequest::FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::invalid_parameter(format!(
            "Unknown field '{unknown}': send only input, conversation_id and warehouse_id."
        )));
    }
    if fields.get("input").is_none_or(Value::is_null) {
        return Err(ApiError::missing_parameter("input"));
    }
    let request: CreateResponseRequest = serde_json::from_value(Value::Object(fields.clone()))
        .map_err(|_| {
            ApiError::invalid_parameter(
                "'input' must be a string, or an array of one user message; conversation_id and warehouse_id must be strings.",
            )
        })?;
    let text = input_text(&request.input)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid_parameter(
            "'input' is blank: send the question.",
        ));
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "The question is {} bytes of UTF-8; the limit is {MAX_INPUT_BYTES}.",
            text.len()
        )));
    }
    let id = |name: &str, value: Option<String>| match value {
        Some(v) if v.trim().is_empty() => Err(ApiError::invalid_parameter(format!(
            "'{name}' is blank: omit it or give an id."
        ))),
        other => Ok(other),
    };
    Ok(GenieOneQuestion {
        question: text,
        conversation_id: id("conversation_id", request.conversation_id)?,
        warehouse_id: id("warehouse_id", request.warehouse_id)?,
    })
}

/// The question's text: the string, or the one user message's text parts joined.
fn input_text(input: &ResponseInput) -> Result<String, ApiError> {
    let messages = match input {
        ResponseInput::Text(text) => return Ok(text.clone()),
        ResponseInput::Messages(messages) => messages,
    };
    let [message] = messages.as_slice() else {
        return Err(ApiError::invalid_parameter(format!(
            "'input' must hold exactly one user message, not {}.",
            messages.len()
        )));
    };
    if message
        .type_
        .as_deref()
        .is_some_and(|t| t != genie_one::MESSAGE_ITEM)
    {
        return Err(ApiError::invalid_parameter(
            "The input message's 'type' must be omitted or 'message'.",
        ));
    }
    if message.role != "user" {
        return Err(ApiError::invalid_parameter(format!(
            "The input message's role must be 'user', not '{}'.",
            message.role
        )));
    }
    match &message.content {
        InputContent::Text(text) => Ok(text.clone()),
        InputContent::Parts(parts) => {
            if parts.is_empty() {
                return Err(ApiError::invalid_parameter(
                    "The input message's content has no parts.",
                ));
            }
            let mut text = Vec::with_capacity(parts.len());
            for part in parts {
                if part.type_ != "input_text" {
                    return Err(ApiError::invalid_parameter(format!(
                        "Content parts must be of type 'input_text', not '{}'.",
                        part.type_
                    )));
                }
                if part.text.trim().is_empty() {
                    return Err(ApiError::invalid_parameter(
                        "Every input_text part must be nonblank.",
                    ));
                }
                text.push(part.text.as_str());
            }
            Ok(text.join("\n"))
        }
    }
}

/// Where a stream is.
struct Follow {
    backend: Arc<dyn GenieOne>,
    created: Option<GenieOneResponse>,
    conversation_id: String,
    response_id: String,
    sequence: u64,
    items_sent: usize,
    /// Events ready to send.
    queue: std::collections::VecDeque<ResponseEvent>,
    finished: bool,
    started: Instant,
}

impl Follow {
    fn push(&mut self, mut event: ResponseEvent) {
        event.sequence_number = self.sequence;
        self.sequence += 1;
        self.queue.push_back(event);
    }

    /// Reads the response and queues what is new; true when it is terminal (or gone).
    async fn advance(&mut self) -> bool {
        let current = match self
            .backend
            .response(&self.conversation_id, &self.response_id)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // Nothing more can be told: say why, as the last event.
                let mut error = GenieOneResponse {
                    id: self.response_id.clone(),
                    conversation_id: Some(self.conversation_id.clone()),
                    status: Some(genie_one::FAILED.to_string()),
                    ..GenieOneResponse::default()
                };
                error.error = Some(genie_one::ResponseError {
                    code: Some(e.code().to_string()),
                    message: Some(e.body.message),
                });
                self.push(ResponseEvent {
                    type_: events::FAILED.to_string(),
                    response: Some(error),
                    ..ResponseEvent::default()
                });
                return true;
            }
        };
        while let Some(item) = current.output.get(self.items_sent).cloned() {
            let index = self.items_sent as u64;
            for type_ in [events::OUTPUT_ITEM_ADDED, events::OUTPUT_ITEM_DONE] {
                self.push(ResponseEvent {
                    type_: type_.to_string(),
                    output_index: Some(index),
                    item: Some(item.clone()),
                    ..ResponseEvent::default()
                });
            }
            self.items_sent += 1;
        }
        if !current.is_terminal() {
            return false;
        }
        let type_ = match current.status() {
            genie_one::COMPLETED => events::COMPLETED,
            genie_one::FAILED => events::FAILED,
            _ => events::INCOMPLETE,
        };
        self.push(ResponseEvent {
            type_: type_.to_string(),
            response: Some(current),
            ..ResponseEvent::default()
        });
        true
    }

    /// The next event, or `None` when the stream ends.
    async fn next(&mut self) -> Option<ResponseEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.finished {
                return None;
            }
            if let Some(mut created) = self.created.take() {
                // The accepted response, as the reference shows it: in progress, no output
                // yet (what is already there follows as item events).
                created.status = Some(genie_one::IN_PROGRESS.to_string());
                created.output.clear();
                created.error = None;
                created.incomplete_details = None;
                self.push(ResponseEvent {
                    type_: events::CREATED.to_string(),
                    response: Some(created),
                    ..ResponseEvent::default()
                });
                continue;
            }
            if self.started.elapsed() > STREAM_LIMIT {
                return None;
            }
            self.finished = self.advance().await;
            if !self.finished && self.queue.is_empty() {
                tokio::time::sleep(STREAM_POLL).await;
            }
        }
    }
}

/// `text/event-stream` following `created` until it is terminal.
fn event_stream(backend: Arc<dyn GenieOne>, created: GenieOneResponse) -> Response {
    let follow = Follow {
        backend,
        conversation_id: created.conversation_id.clone().unwrap_or_default(),
        response_id: created.id.clone(),
        created: Some(created),
        sequence: 0,
        items_sent: 0,
        queue: Default::default(),
        finished: false,
        started: Instant::now(),
    };
    let stream = futures::stream::unfold(follow, |mut follow| async move {
        let event = follow.next().await?;
        Some((Ok::<_, std::convert::Infallible>(sse(&event)), follow))
    });
    let mut answer = Response::new(Body::from_stream(stream));
    *answer.status_mut() = StatusCode::OK;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    answer
}

/// One server-sent event: `event:` its type, `data:` its JSON.
fn sse(event: &ResponseEvent) -> String {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_string());
    format!("event: {}\ndata: {data}\n\n", event.type_)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: Value) -> Result<GenieOneQuestion, u16> {
        question(Some(&body)).map_err(|e| e.status)
    }

    #[test]
    fn both_input_forms_are_read() {
        let q = check(json!({"input": "How many orders?", "warehouse_id": "w1"}));
        assert_eq!(
            q,
            Ok(GenieOneQuestion {
                question: "How many orders?".into(),
                conversation_id: None,
                warehouse_id: Some("w1".into()),
            })
        );
        let q = check(json!({
            "input": [{"role": "user", "content": [
                {"type": "input_text", "text": "How many"},
                {"type": "input_text", "text": "orders?"}
            ]}],
            "conversation_id": "c1"
        }));
        assert_eq!(
            q.map(|q| (q.question, q.conversation_id)),
            Ok(("How many\norders?".into(), Some("c1".into())))
        );
        let q = check(json!({"input": [{"type": "message", "role": "user", "content": "Hi"}]}));
        assert_eq!(q.map(|q| q.question), Ok("Hi".into()));
    }

    #[test]
    fn bad_requests_are_refused() {
        for bad in [
            json!("How many?"),
            json!({}),
            json!({"input": null}),
            json!({"input": "  "}),
            json!({"input": 3}),
            json!({"input": "x", "stream": true}),
            json!({"input": "x", "conversation_id": ""}),
            json!({"input": "x", "conversation_id": 7}),
            json!({"input": []}),
            json!({"input": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
            json!({"input": [{"role": "assistant", "content": "a"}]}),
            json!({"input": [{"role": "user", "type": "function_call", "content": "a"}]}),
            json!({"input": [{"role": "user", "content": []}]}),
            json!({"input": [{"role": "user", "content": [{"type": "input_image", "text": "a"}]}]}),
            json!({"input": [{"role": "user", "content": [{"type": "input_text", "text": " "}]}]}),
            json!({"input": "x".repeat(MAX_INPUT_BYTES + 1)}),
        ] {
            assert_eq!(check(bad.clone()), Err(400), "{bad}");
        }
        assert!(check(json!({"input": "é".repeat(MAX_INPUT_BYTES / 2)})).is_ok());
    }
}
