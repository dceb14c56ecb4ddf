//! Model Serving: the workspace's endpoints and chat completions on a chat endpoint,
//! whole or streamed (server-sent events).

use databricks_api::endpoints::fill;
use reqwest::Method;

use crate::error::Error;
use crate::http::DatabricksClient;

pub use databricks_api::serving::*;

impl DatabricksClient {
    pub async fn list_serving_endpoints(&self) -> Result<Vec<ServingEndpoint>, Error> {
        let r: ListEndpointsResponse = self
            .send(Method::GET, "/api/2.0/serving-endpoints", &[], None)
            .await?;
        Ok(r.endpoints)
    }

    pub async fn get_serving_endpoint(&self, name: &str) -> Result<ServingEndpoint, Error> {
        self.send(
            Method::GET,
            &fill("/api/2.0/serving-endpoints/{name}", &[name]),
            &[],
            None,
        )
        .await
    }

    /// One chat completion (the request's `stream` is ignored: the answer is whole).
    pub async fn chat(&self, endpoint: &str, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let mut request = request.clone();
        request.stream = None;
        let body =
            serde_json::to_value(&request).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.send(Method::POST, &invocations_path(endpoint), &[], Some(body))
            .await
    }

    /// A streamed chat completion: the response whose body is server-sent events of
    /// [`ChatChunk`]s (read them with [`read_chunks`]).
    pub async fn chat_stream(
        &self,
        endpoint: &str,
        request: &ChatRequest,
    ) -> Result<reqwest::Response, Error> {
        let mut request = request.clone();
        request.stream = Some(true);
        let body =
            serde_json::to_value(&request).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.send_streaming(&invocations_path(endpoint), &body)
            .await
    }
}

fn invocations_path(endpoint: &str) -> String {
    fill("/serving-endpoints/{name}/invocations", &[endpoint])
}

/// Reads a chat answer from `response`: server-sent events of chunks (each passed to
/// `on_chunk` as it arrives), or a whole JSON answer when the server did not stream.
/// Returns the assembled message and finish reason.
pub async fn read_chunks(
    mut response: reqwest::Response,
    mut on_chunk: impl FnMut(&ChunkDelta),
) -> Result<ChatChoice, Error> {
    let decode = |detail: String| Error::Decode {
        endpoint: "serving endpoint invocations".into(),
        detail,
    };
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if !is_sse {
        let bytes = response.bytes().await.map_err(|e| decode(e.to_string()))?;
        let whole: ChatResponse =
            serde_json::from_slice(&bytes).map_err(|e| decode(e.to_string()))?;
        let choice = whole.choices.into_iter().next().unwrap_or_default();
        if let Some(text) = &choice.message.content {
            on_chunk(&ChunkDelta {
                content: Some(text.clone()),
                ..Default::default()
            });
        }
        return Ok(choice);
    }
    let mut assembler = Assembler::default();
    let mut buffer = String::new();
    while let Some(piece) = response.chunk().await.map_err(|e| decode(e.to_string()))? {
        buffer.push_str(&String::from_utf8_lossy(&piece));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                let data = data.trim();
                if data == "[DONE]" {
                    return Ok(assembler.finish());
                }
                let chunk: ChatChunk =
                    serde_json::from_str(data).map_err(|e| decode(format!("a bad event: {e}")))?;
                for choice in chunk.choices.iter().filter(|c| c.index == 0) {
                    on_chunk(&choice.delta);
                    assembler.add(choice);
                }
            }
        }
    }
    Ok(assembler.finish())
}

/// Joins streamed deltas into one message: text appended, tool calls by `index`.
#[derive(Default)]
struct Assembler {
    text: String,
    calls: Vec<ToolCall>,
    finish: Option<String>,
}

impl Assembler {
    fn add(&mut self, choice: &ChunkChoice) {
        if let Some(t) = &choice.delta.content {
            self.text.push_str(t);
        }
        for d in &choice.delta.tool_calls {
            let i = d.index as usize;
            while self.calls.len() <= i {
                self.calls.push(ToolCall {
                    type_: "function".into(),
                    ..Default::default()
                });
            }
            let Some(call) = self.calls.get_mut(i) else {
                continue;
            };
            if let Some(id) = &d.id {
                call.id.clone_from(id);
            }
            if let Some(f) = &d.function {
                if let Some(name) = &f.name {
                    call.function.name.push_str(name);
                }
                if let Some(args) = &f.arguments {
                    call.function.arguments.push_str(args);
                }
            }
        }
        if choice.finish_reason.is_some() {
            self.finish.clone_from(&choice.finish_reason);
        }
    }

    fn finish(self) -> ChatChoice {
        ChatChoice {
            index: 0,
            message: ChatMessage {
                role: "assistant".into(),
                content: (!self.text.is_empty()).then_some(self.text),
                tool_calls: self.calls,
                tool_call_id: None,
            },
            finish_reason: self.finish,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_assemble_into_one_message() {
        let mut a = Assembler::default();
        let delta = |content: Option<&str>, calls: Vec<ToolCallDelta>| ChunkChoice {
            delta: ChunkDelta {
                content: content.map(str::to_string),
                tool_calls: calls,
                ..Default::default()
            },
            ..Default::default()
        };
        a.add(&delta(Some("Hel"), vec![]));
        a.add(&delta(Some("lo"), vec![]));
        a.add(&delta(
            None,
            vec![ToolCallDelta {
                index: 0,
                id: Some("c1".into()),
                function: Some(FunctionDelta {
                    name: Some("run_sql_query".into()),
                    arguments: Some("{\"query\":".into()),
                }),
            }],
        ));
        a.add(&delta(
            None,
            vec![ToolCallDelta {
                index: 0,
                id: None,
                function: Some(FunctionDelta {
                    name: None,
                    arguments: Some("\"SELECT 1\"}".into()),
                }),
            }],
        ));
        let choice = a.finish();
        assert_eq!(choice.message.content.as_deref(), Some("Hello"));
        assert_eq!(choice.message.tool_calls.len(), 1);
        assert_eq!(choice.message.tool_calls[0].id, "c1");
        assert_eq!(
            choice.message.tool_calls[0].function.arguments,
            "{\"query\":\"SELECT 1\"}"
        );
    }
}
