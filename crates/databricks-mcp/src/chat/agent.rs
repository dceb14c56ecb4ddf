//! The agent loop: the question goes to the model with the tools; each tool call it asks
//! for runs and its result goes back as a `tool` message; the model's text without tool
//! calls is the answer. Bounded by `max_tool_rounds`; a malformed call, an unknown tool and
//! a tool error are told back to the model, never a crash.

use std::time::Instant;

use databricks_client::services::serving::{
    ChatMessage, ChatRequest, ChatTool, FunctionSpec, ToolCall,
};
use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::model::{Model, ModelError};
use super::tools::ToolHost;

/// History kept for the model, in characters (about a quarter in tokens): the oldest
/// exchanges go first.
const HISTORY_BUDGET_CHARS: usize = 400_000;

/// What the loop reports as it goes (the terminal shows it; `--json` records it).
pub trait Observer: Send {
    fn text(&mut self, _delta: &str) {}
    fn tool_started(&mut self, _name: &str, _arguments: &str) {}
    fn tool_finished(&mut self, _record: &ToolRecord) {}
}

/// An observer that shows nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// One tool call of a turn, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ToolRecord {
    pub name: String,
    pub arguments: Value,
    pub is_error: bool,
    /// Characters of the result passed to the model.
    pub result_chars: usize,
    pub elapsed_ms: u64,
    pub result: String,
}

/// How a turn ended.
#[derive(Debug, Clone, Serialize)]
pub struct TurnResult {
    pub answer: String,
    pub rounds: usize,
    pub tool_calls: Vec<ToolRecord>,
    pub elapsed_ms: u64,
    /// The turn stopped at `max_tool_rounds` without a final answer.
    pub stopped_at_round_limit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("cancelled")]
    Cancelled,
}

pub struct Agent {
    pub model: Model,
    pub tools: ToolHost,
    pub max_tool_rounds: usize,
    pub max_tokens: u32,
    system: String,
    pub messages: Vec<ChatMessage>,
}

impl Agent {
    pub fn new(model: Model, tools: ToolHost, max_tool_rounds: usize, system: String) -> Agent {
        Agent {
            model,
            tools,
            max_tool_rounds,
            max_tokens: 4096,
            messages: Vec::new(),
            system,
        }
    }

    /// Forgets the conversation (`/reset`).
    pub fn reset(&mut self) {
        self.messages.clear();
    }

    /// The tools as the model is offered them.
    pub fn offered(tools: &[Tool]) -> Vec<ChatTool> {
        tools
            .iter()
            .map(|t| ChatTool {
                type_: "function".into(),
                function: FunctionSpec {
                    name: t.name.to_string(),
                    description: t.description.as_ref().map(|d| d.to_string()),
                    parameters: Some(Value::Object(t.input_schema.as_ref().clone())),
                },
            })
            .collect()
    }

    /// Asks `question`; `cancel` ends the turn (and the tool call in flight).
    pub async fn ask(
        &mut self,
        question: &str,
        observer: &mut dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<TurnResult, TurnError> {
        let started = Instant::now();
        let checkpoint = self.messages.len();
        self.messages.push(ChatMessage {
            role: "user".into(),
            content: Some(question.to_string()),
            ..Default::default()
        });
        let result = self.turn(observer, cancel, started).await;
        if result.is_err() {
            // A failed or cancelled turn leaves no half exchange behind.
            self.messages.truncate(checkpoint);
        }
        result
    }

    async fn turn(
        &mut self,
        observer: &mut dyn Observer,
        cancel: &CancellationToken,
        started: Instant,
    ) -> Result<TurnResult, TurnError> {
        let tools = self.tools.list().await;
        let offered = Self::offered(&tools);
        let mut records = Vec::new();
        let mut round = 0;
        loop {
            self.trim_history();
            let mut messages = vec![ChatMessage {
                role: "system".into(),
                content: Some(self.system.clone()),
                ..Default::default()
            }];
            messages.extend(self.messages.iter().cloned());
            let request = ChatRequest {
                messages,
                tools: offered.clone(),
                tool_choice: (!offered.is_empty()).then(|| json!("auto")),
                max_tokens: Some(self.max_tokens),
                ..Default::default()
            };
            let choice = tokio::select! {
                c = self.model.complete(&request, |t| observer.text(t)) => c?,
                () = cancel.cancelled() => return Err(TurnError::Cancelled),
            };
            let message = choice.message;
            let calls = message.tool_calls.clone();
            self.messages.push(ChatMessage {
                role: "assistant".into(),
                content: message.content.clone(),
                tool_calls: calls.clone(),
                tool_call_id: None,
            });
            if calls.is_empty() || round >= self.max_tool_rounds {
                let stopped = !calls.is_empty();
                let mut answer = message.content.unwrap_or_default();
                if stopped {
                    // The model still wants tools: say so rather than leave calls unanswered.
                    self.messages.pop();
                    self.messages.push(ChatMessage {
                        role: "assistant".into(),
                        content: Some(answer.clone()),
                        ..Default::default()
                    });
                    if answer.is_empty() {
                        answer = format!(
                            "(stopped after {} tool rounds without a final answer; ask again or raise --max-tool-rounds)",
                            self.max_tool_rounds
                        );
                    }
                }
                return Ok(TurnResult {
                    answer,
                    rounds: round,
                    tool_calls: records,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                    stopped_at_round_limit: stopped,
                });
            }
            round += 1;
            for call in &calls {
                let record = self.run_call(call, &tools, observer, cancel).await?;
                self.messages.push(ChatMessage {
                    role: "tool".into(),
                    content: Some(record.result.clone()),
                    tool_call_id: Some(call.id.clone()),
                    ..Default::default()
                });
                records.push(record);
            }
        }
    }

    async fn run_call(
        &self,
        call: &ToolCall,
        tools: &[Tool],
        observer: &mut dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<ToolRecord, TurnError> {
        let name = call.function.name.as_str();
        let started = Instant::now();
        observer.tool_started(name, &call.function.arguments);
        let told = |text: String, arguments: Value| ToolRecord {
            name: name.to_string(),
            arguments,
            is_error: true,
            result_chars: text.chars().count(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            result: text,
        };
        let record = if !tools.iter().any(|t| t.name == name) {
            let known: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
            told(
                format!(
                    "Error: there is no tool named {name:?}. The tools are: {}.",
                    known.join(", ")
                ),
                Value::Null,
            )
        } else {
            let raw = if call.function.arguments.trim().is_empty() {
                "{}"
            } else {
                call.function.arguments.as_str()
            };
            match serde_json::from_str::<Value>(raw) {
                Ok(Value::Object(arguments)) => {
                    // Not dropped on cancel: the tool sees the token and cancels its work
                    // upstream (the statement) before it returns.
                    let result = self
                        .tools
                        .call(name, arguments.clone(), cancel.child_token())
                        .await;
                    if cancel.is_cancelled() {
                        return Err(TurnError::Cancelled);
                    }
                    let (text, is_error) = result_text(&result);
                    ToolRecord {
                        name: name.to_string(),
                        arguments: Value::Object(arguments),
                        is_error,
                        result_chars: text.chars().count(),
                        elapsed_ms: started.elapsed().as_millis() as u64,
                        result: text,
                    }
                }
                Ok(other) => told(
                    format!(
                        "Error: the arguments of {name} must be a JSON object, not {other}. Call it again with an object."
                    ),
                    other,
                ),
                Err(e) => told(
                    format!(
                        "Error: the arguments of {name} are not valid JSON ({e}). Call it again with a JSON object."
                    ),
                    Value::String(call.function.arguments.clone()),
                ),
            }
        };
        observer.tool_finished(&record);
        Ok(record)
    }

    /// Drops the oldest exchanges (a user message and what followed it) beyond the budget.
    fn trim_history(&mut self) {
        let size = |m: &ChatMessage| {
            m.content.as_ref().map_or(0, String::len)
                + m.tool_calls
                    .iter()
                    .map(|c| c.function.arguments.len() + c.function.name.len())
                    .sum::<usize>()
        };
        while self.messages.iter().map(size).sum::<usize>() > HISTORY_BUDGET_CHARS {
            // The next user message after the first one starts the next exchange.
            let next = self
                .messages
                .iter()
                .skip(1)
                .position(|m| m.role == "user")
                .map(|p| p + 1);
            match next {
                Some(n) => {
                    self.messages.drain(..n);
                }
                None => break,
            }
        }
    }
}

/// A tool result as the text the model reads (the tool's own bounded text).
pub fn result_text(result: &CallToolResult) -> (String, bool) {
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    let is_error = result.is_error == Some(true);
    let text = text.join("\n");
    (
        if is_error {
            format!("Error: {text}")
        } else {
            text
        },
        is_error,
    )
}

/// The arguments of a call in one short line (`query=SELECT …`), for the terminal.
pub fn brief_arguments(arguments: &str) -> String {
    let parsed: Option<JsonObject> = serde_json::from_str(arguments).ok();
    let text = match parsed {
        Some(map) => map
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                format!("{k}={}", v.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => arguments.to_string(),
    };
    let mut short: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        short.push('…');
    }
    short
}
