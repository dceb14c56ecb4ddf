//! Genie One: ask a question over the whole workspace's data, read the response, cancel
//! it, and read the result of a query it ran (`databricks_api::genie_one` says which of
//! these the reference documents).
//!
//! [`DatabricksClient::ask_genie_one`] returns as soon as the question is accepted (the
//! stream's `response.created`): the response goes on after the stream is dropped, and
//! [`DatabricksClient::get_genie_one_response`] follows it.

use databricks_api::endpoints::{self, Endpoint};

use crate::error::Error;
use crate::http::DatabricksClient;

pub use databricks_api::genie_one::*;

/// Largest stream prefix read looking for `response.created`: a stream that says nothing
/// useful within it is not a Genie One stream.
const MAX_PREFIX: usize = 4 * 1024 * 1024;

impl DatabricksClient {
    /// Asks `question` (continuing `conversation_id`; on `warehouse_id` when given) and
    /// returns the accepted response (`in_progress`, with its `id` and
    /// `conversation_id`).
    pub async fn ask_genie_one(
        &self,
        question: &str,
        conversation_id: Option<&str>,
        warehouse_id: Option<&str>,
    ) -> Result<GenieOneResponse, Error> {
        let request = CreateResponseRequest {
            input: ResponseInput::Text(question.to_string()),
            conversation_id: conversation_id.map(str::to_string),
            warehouse_id: warehouse_id.map(str::to_string),
        };
        let body =
            serde_json::to_value(&request).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let path = endpoints::CreateGenieOneResponse::path(&[]);
        let response = self.send_streaming(&path, &body).await?;
        created(response, &path).await
    }

    pub async fn get_genie_one_response(
        &self,
        conversation_id: &str,
        response_id: &str,
    ) -> Result<GenieOneResponse, Error> {
        self.call::<endpoints::GetGenieOneResponse>(&[conversation_id, response_id], &[], None)
            .await
    }

    /// Cancels a response in progress; answers it as it now is.
    pub async fn cancel_genie_one_response(
        &self,
        conversation_id: &str,
        response_id: &str,
    ) -> Result<GenieOneResponse, Error> {
        self.call::<endpoints::CancelGenieOneResponse>(&[conversation_id, response_id], &[], None)
            .await
    }

    /// The result of the response's query item `item_id`.
    pub async fn get_genie_one_query_result(
        &self,
        conversation_id: &str,
        response_id: &str,
        item_id: &str,
    ) -> Result<databricks_api::genie::GenieQueryResultResponse, Error> {
        self.call::<endpoints::GetGenieOneQueryResult>(
            &[conversation_id, response_id, item_id],
            &[],
            None,
        )
        .await
    }
}

/// Reads the stream up to its `response.created` event and returns that response (a
/// server that answered plain JSON is read whole). The rest of the stream is dropped.
async fn created(mut response: reqwest::Response, path: &str) -> Result<GenieOneResponse, Error> {
    let decode = |detail: String| Error::Decode {
        endpoint: format!("POST {path}"),
        detail,
    };
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if !is_sse {
        let bytes = response.bytes().await.map_err(|e| decode(e.to_string()))?;
        return serde_json::from_slice(&bytes).map_err(|e| decode(e.to_string()));
    }
    let mut buffer = String::new();
    while let Some(piece) = response.chunk().await.map_err(|e| decode(e.to_string()))? {
        buffer.push_str(&String::from_utf8_lossy(&piece));
        while let Some(end) = event_end(&buffer) {
            let event: String = buffer.drain(..end).collect();
            if let Some(found) = parse_event(&event).map_err(decode)? {
                return Ok(found);
            }
        }
        if buffer.len() > MAX_PREFIX {
            break;
        }
    }
    Err(decode(
        "the stream ended without a response.created event".to_string(),
    ))
}

/// Where the first complete event of `buffer` ends (after its blank line).
fn event_end(buffer: &str) -> Option<usize> {
    let lf = buffer.find("\n\n").map(|i| i + 2);
    let crlf = buffer.find("\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The response of a `response.created` event; `None` for any other event; an error
/// event (`response.failed` before creation, `error`) is an error.
fn parse_event(event: &str) -> Result<Option<GenieOneResponse>, String> {
    let data: String = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n");
    if data.trim().is_empty() {
        return Ok(None);
    }
    let parsed: ResponseEvent =
        serde_json::from_str(&data).map_err(|e| format!("a bad event: {e}"))?;
    match parsed.type_.as_str() {
        events::CREATED => parsed
            .response
            .map(Some)
            .ok_or_else(|| "response.created without its response".to_string()),
        events::FAILED | "error" => {
            let message = parsed
                .response
                .and_then(|r| r.error)
                .and_then(|e| e.message)
                .unwrap_or_else(|| data.clone());
            Err(format!(
                "the question failed before it was accepted: {message}"
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_created_event_gives_the_response() {
        let stream = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"r1\",\"status\":\"in_progress\",\"output\":[],\"conversation_id\":\"c1\"}}\n\n";
        let end = event_end(stream).unwrap_or(0);
        let found = parse_event(&stream[..end]);
        let r = found.ok().flatten().unwrap_or_default();
        assert_eq!(
            (r.id.as_str(), r.conversation_id.as_deref()),
            ("r1", Some("c1"))
        );
        assert_eq!(parse_event(": keep-alive\n\n"), Ok(None));
        assert_eq!(
            parse_event(
                "data: {\"type\":\"response.output_item.added\",\"sequence_number\":1}\n\n"
            ),
            Ok(None)
        );
        assert!(parse_event("data: {\"type\":\"error\"}\n\n").is_err());
        assert!(parse_event("data: not json\n\n").is_err());
        assert_eq!(event_end("data: a\r\n\r\nrest"), Some(11));
    }
}
