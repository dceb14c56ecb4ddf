//! Model Serving: two endpoints and a scripted chat model, the [`Serving`] backend the
//! shared workspace server routes to (it checks the body and the task, and streams).
//!
//! The chat model is deterministic, enough to drive an agent loop over HTTP. On a request
//! whose last message is
//! - a `tool` message: it answers `There are N orders.`, N the first number in the tool's
//!   content (`The tool answered: …` with its first 200 characters when there is none);
//! - anything else, it reads the last user message (`slow`: waits 5 s first) and, in order:
//!   - `malformed` with `run_sql_query` offered: calls it with arguments that are not JSON;
//!   - `unknown tool`: calls `no_such_tool`;
//!   - `run_sql_query` offered: calls it with a count of `main.sales.orders`;
//!   - else answers `Hello from the scripted model.`
//!
//! `tool_choice: "none"` counts as no tool offered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use databricks_api::backend::{Answer, Serving, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::serving::{
    ChatChoice, ChatMessage, ChatRequest, ChatResponse, EndpointConfig, EndpointState,
    FunctionCall, ServedEntity, ServingEndpoint, ToolCall,
};
use serde_json::json;

/// The chat endpoint, a foundation model.
pub const CHAT_ENDPOINT: &str = "databricks-claude-sonnet-4";
/// An embeddings endpoint: listed, not chatted with.
pub const EMBEDDING_ENDPOINT: &str = "text-embedding";
/// The tool the scripted model calls.
pub const SQL_TOOL: &str = "run_sql_query";
/// What it asks that tool.
pub const SQL_TOOL_QUERY: &str = "SELECT count(*) AS orders FROM main.sales.orders";
/// Its answer when no tool is offered.
pub const HELLO: &str = "Hello from the scripted model.";
/// How long a `slow` request waits (long enough for a client to cancel it).
pub const SLOW: Duration = Duration::from_secs(5);

/// Fixture endpoints were created and last updated at this time (ms).
const CREATED_MS: i64 = 1_717_000_000_000;
/// How much of a number-less tool result the answer quotes, in characters.
const QUOTED_CHARS: usize = 200;

/// The endpoints and the scripted model; ids come from a counter so answers are
/// reproducible within one emulator.
#[derive(Default)]
pub(crate) struct FixtureServing {
    next: AtomicU64,
}

impl FixtureServing {
    fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[async_trait]
impl Serving for FixtureServing {
    async fn endpoints(&self) -> Answer<Vec<ServingEndpoint>> {
        Ok(endpoints())
    }

    async fn endpoint(&self, name: &str) -> Answer<ServingEndpoint> {
        find(name)
    }

    async fn chat(&self, name: &str, request: &ChatRequest) -> Answer<ChatResponse> {
        let endpoint = find(name)?;
        if endpoint.task.as_deref() != Some("llm/v1/chat") {
            return Err(ApiError::invalid_parameter(format!(
                "Endpoint '{name}' does not serve chat."
            )));
        }
        let reply = reply(request);
        if reply.slow {
            tokio::time::sleep(SLOW).await;
        }
        let n = self.next_id();
        let (message, finish_reason) = match reply.action {
            Action::Say(text) => (
                ChatMessage {
                    role: "assistant".into(),
                    content: Some(text),
                    ..ChatMessage::default()
                },
                "stop",
            ),
            Action::Call { name, arguments } => (
                ChatMessage {
                    role: "assistant".into(),
                    content: None,
                    tool_calls: vec![ToolCall {
                        id: format!("call_emu_{n}"),
                        type_: "function".into(),
                        function: FunctionCall { name, arguments },
                    }],
                    ..ChatMessage::default()
                },
                "tool_calls",
            ),
        };
        let prompt_tokens = request
            .messages
            .iter()
            .map(|m| words(m.content.as_deref().unwrap_or("")))
            .sum::<usize>();
        let completion_tokens = words(message.content.as_deref().unwrap_or(""))
            + message
                .tool_calls
                .iter()
                .map(|c| words(&c.function.arguments))
                .sum::<usize>();
        Ok(ChatResponse {
            id: Some(format!("chatcmpl-emu-{n}")),
            model: Some(name.to_string()),
            choices: vec![ChatChoice {
                index: 0,
                message,
                finish_reason: Some(finish_reason.into()),
            }],
            usage: Some(json!({
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            })),
        })
    }
}

/// What the scripted model does with a request.
#[derive(Debug, PartialEq)]
struct Reply {
    slow: bool,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    Say(String),
    Call { name: String, arguments: String },
}

/// The script (see the module comment).
fn reply(request: &ChatRequest) -> Reply {
    let last = request.messages.last();
    if let Some(tool) = last.filter(|m| m.role == "tool") {
        let content = tool.content.as_deref().unwrap_or("");
        let text = match first_number(content) {
            Some(n) => format!("There are {n} orders."),
            None => format!(
                "The tool answered: {}",
                content.chars().take(QUOTED_CHARS).collect::<String>()
            ),
        };
        return Reply {
            slow: false,
            action: Action::Say(text),
        };
    }
    let user = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .and_then(|m| m.content.as_deref())
        .unwrap_or("")
        .to_lowercase();
    let tools_allowed = request.tool_choice.as_ref().and_then(|c| c.as_str()) != Some("none");
    let sql_tool = tools_allowed && request.tools.iter().any(|t| t.function.name == SQL_TOOL);
    let call = |name: &str, arguments: String| Action::Call {
        name: name.to_string(),
        arguments,
    };
    let action = if sql_tool && has_word(&user, "malformed") {
        call(SQL_TOOL, "{not json".to_string())
    } else if user.contains("unknown tool") {
        call("no_such_tool", "{}".to_string())
    } else if sql_tool {
        call(SQL_TOOL, json!({ "query": SQL_TOOL_QUERY }).to_string())
    } else {
        Action::Say(HELLO.to_string())
    };
    Reply {
        slow: has_word(&user, "slow"),
        action,
    }
}

/// The first run of digits (with a decimal part if it has one).
fn first_number(text: &str) -> Option<&str> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let rest = &text[start..];
    let mut end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if let Some(fraction) = rest[end..].strip_prefix('.') {
        let digits = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if digits > 0 {
            end += 1 + digits;
        }
    }
    Some(&rest[..end])
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w == word)
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn find(name: &str) -> Result<ServingEndpoint, ApiError> {
    endpoints()
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("Endpoint with name '{name}' does not exist."),
            )
        })
}

fn endpoints() -> Vec<ServingEndpoint> {
    let endpoint = |name: &str, id: &str, task: &str, model: serde_json::Value| ServingEndpoint {
        name: name.to_string(),
        id: Some(id.to_string()),
        task: Some(task.to_string()),
        state: Some(EndpointState {
            ready: Some("READY".into()),
            config_update: Some("NOT_UPDATING".into()),
        }),
        config: Some(EndpointConfig {
            served_entities: vec![ServedEntity {
                name: Some(name.to_string()),
                entity_name: Some(name.to_string()),
                foundation_model: Some(model),
                ..ServedEntity::default()
            }],
        }),
        creator: Some("databricks".into()),
        creation_timestamp: Some(CREATED_MS),
        last_updated_timestamp: Some(CREATED_MS),
        description: None,
    };
    vec![
        endpoint(
            CHAT_ENDPOINT,
            "5f0c1a7e9b2d4c6e8a1f3b5d7c9e0a2b",
            "llm/v1/chat",
            json!({
                "name": CHAT_ENDPOINT,
                "display_name": "Claude Sonnet 4",
                "description": "A scripted stand-in for a chat foundation model.",
            }),
        ),
        endpoint(
            EMBEDDING_ENDPOINT,
            "8d2e4f6a0c1b3d5e7f9a1c3e5b7d9f0a",
            "llm/v1/embeddings",
            json!({
                "name": "databricks-gte-large-en",
                "display_name": "GTE Large (En)",
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use databricks_api::serving::{ChatTool, FunctionSpec};

    use super::*;

    fn request(messages: &[(&str, &str)], tools: &[&str]) -> ChatRequest {
        ChatRequest {
            messages: messages
                .iter()
                .map(|(role, content)| ChatMessage {
                    role: role.to_string(),
                    content: Some(content.to_string()),
                    ..ChatMessage::default()
                })
                .collect(),
            tools: tools
                .iter()
                .map(|name| ChatTool {
                    type_: "function".into(),
                    function: FunctionSpec {
                        name: name.to_string(),
                        ..FunctionSpec::default()
                    },
                })
                .collect(),
            ..ChatRequest::default()
        }
    }

    fn called(reply: &Reply) -> Option<(&str, &str)> {
        match &reply.action {
            Action::Call { name, arguments } => Some((name, arguments)),
            Action::Say(_) => None,
        }
    }

    #[test]
    fn the_script() {
        let r = reply(&request(&[("user", "How many orders?")], &[SQL_TOOL]));
        let (name, arguments) = called(&r).expect("a tool call");
        assert_eq!(name, SQL_TOOL);
        let v: serde_json::Value = serde_json::from_str(arguments).expect("JSON arguments");
        assert_eq!(v["query"], SQL_TOOL_QUERY);
        assert!(!r.slow);

        let r = reply(&request(
            &[("user", "q"), ("tool", "| orders |\n| 1234 |")],
            &[SQL_TOOL],
        ));
        assert_eq!(r.action, Action::Say("There are 1234 orders.".into()));
        let r = reply(&request(&[("tool", "no digits here")], &[]));
        assert_eq!(
            r.action,
            Action::Say("The tool answered: no digits here".into())
        );

        let r = reply(&request(&[("user", "Hi, be SLOW")], &[]));
        assert_eq!((r.slow, r.action), (true, Action::Say(HELLO.into())));
        let r = reply(&request(&[("user", "slowly")], &[]));
        assert!(!r.slow);

        let r = reply(&request(&[("user", "malformed please")], &[SQL_TOOL]));
        assert_eq!(called(&r), Some((SQL_TOOL, "{not json")));
        let r = reply(&request(&[("user", "call an unknown tool")], &[SQL_TOOL]));
        assert_eq!(called(&r).map(|c| c.0), Some("no_such_tool"));

        let mut none = request(&[("user", "How many orders?")], &[SQL_TOOL]);
        none.tool_choice = Some(json!("none"));
        assert_eq!(reply(&none).action, Action::Say(HELLO.into()));
    }

    #[test]
    fn numbers_are_found() {
        assert_eq!(first_number("rows: 42, 7"), Some("42"));
        assert_eq!(first_number("x 3.5 y"), Some("3.5"));
        assert_eq!(first_number("7."), Some("7"));
        assert_eq!(first_number("none"), None);
    }
}
