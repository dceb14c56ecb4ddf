//! Model serving toolset (opt-in): `list_serving_endpoints`, `query_serving_endpoint`.
//!
//! Querying a chat, completions or embeddings endpoint (task `llm/v1/*`) reads: it
//! changes nothing in the workspace. Any other endpoint serves a custom model whose code
//! may do anything, so querying it is a write: refused without `--allow-writes`, and
//! confirmed by the person with it. The task is read from the endpoint before the call.

use databricks_client::ErrorKind;
use databricks_client::services::serving::{ChatMessage, ChatRequest};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ListSpec, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEndpointsArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryEndpointArgs {
    /// The serving endpoint's name (from list_serving_endpoints).
    pub name: String,
    /// For a chat endpoint: the conversation, e.g. [{"role": "user", "content": "…"}].
    #[serde(default)]
    pub messages: Option<Vec<MessageArg>>,
    /// For an embeddings or custom model endpoint: the input text, or the JSON the model takes (as text).
    #[serde(default)]
    pub input: Option<String>,
    /// Most tokens of a chat answer (default 512).
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageArg {
    /// system, user or assistant.
    pub role: String,
    pub content: String,
}

const LIST_ENDPOINTS: ListSpec = ListSpec {
    tool: "list_serving_endpoints",
    key: "endpoints",
    columns: &["name", "state", "task", "model"],
    item: "Serving endpoints: name, task (llm/v1/chat, llm/v1/embeddings, …), state (ready, config_update), config (served entities).",
    fields: &[],
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_ENDPOINTS,
            "List serving endpoints",
            "List the Model Serving endpoints with their state, task (chat, embeddings, custom) and served model: which models can be queried.",
            Toolset::Serving,
            list_serving_endpoints,
        ),
        ToolDef::new(
            "query_serving_endpoint",
            "Query serving endpoint",
            "Ask a Model Serving endpoint: messages for a chat endpoint, input for an embeddings one. A custom model endpoint counts as a write (needs --allow-writes and the user's confirmation).",
            Toolset::Serving,
            ToolKind::ReadAsk,
            query_serving_endpoint,
        ),
    ]
}

fn model_of(e: &databricks_client::services::serving::ServingEndpoint) -> Option<String> {
    let entity = e.config.as_ref()?.served_entities.first()?;
    entity
        .foundation_model
        .as_ref()
        .or(entity.external_model.as_ref())
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| entity.entity_name.clone())
}

async fn list_serving_endpoints(
    ctx: CallContext,
    _args: ListEndpointsArgs,
) -> Result<ToolOutput, ToolError> {
    let endpoints = ctx
        .state
        .client
        .list_serving_endpoints()
        .await
        .map_err(|e| ToolError::upstream("Listing the serving endpoints", e))?;
    let rows = endpoints.iter().map(|e| {
        vec![
            Some(e.name.clone()),
            e.state.as_ref().and_then(|s| s.ready.clone()),
            Some(e.task.clone().unwrap_or_else(|| "custom model".into())),
            model_of(e),
        ]
    });
    Ok(LIST_ENDPOINTS
        .page(rows, values(&endpoints), None)
        .answer(&ctx))
}

/// Whether querying an endpoint of this task only reads (a foundation or external LLM).
pub fn task_reads(task: Option<&str>) -> bool {
    task.is_some_and(|t| t.starts_with("llm/v1/"))
}

async fn query_serving_endpoint(
    ctx: CallContext,
    args: QueryEndpointArgs,
) -> Result<ToolOutput, ToolError> {
    let name = args.name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ToolError::new(
            "name must be a serving endpoint's name (see list_serving_endpoints)",
        ));
    }
    let client = &ctx.state.client;
    let endpoint = client.get_serving_endpoint(&name).await.map_err(|e| {
        ToolError::upstream(&format!("Reading serving endpoint {name}"), e).hint_for(
            ErrorKind::NotFound,
            "Call list_serving_endpoints to see the endpoints.",
        )
    })?;
    let task = endpoint.task.clone();
    if !task_reads(task.as_deref()) {
        if !ctx.state.settings.allow_writes {
            return Err(ToolError::new(format!(
                "{name} serves a custom model, whose code may change data: querying it needs a server started with --allow-writes"
            )));
        }
        ctx.confirm(
            &format!("serving endpoint {name}"),
            &format!("Query the custom model endpoint {name} (its code may have effects)?"),
        )
        .await?;
    }
    match task.as_deref() {
        Some("llm/v1/chat") => {
            let Some(messages) = args.messages.filter(|m| !m.is_empty()) else {
                return Err(ToolError::new(format!(
                    "{name} is a chat endpoint: pass messages, e.g. [{{\"role\": \"user\", \"content\": \"…\"}}]"
                )));
            };
            let request = ChatRequest {
                messages: messages
                    .into_iter()
                    .map(|m| ChatMessage {
                        role: m.role,
                        content: Some(m.content),
                        ..Default::default()
                    })
                    .collect(),
                max_tokens: Some(args.max_tokens.unwrap_or(512).clamp(1, 8192)),
                ..Default::default()
            };
            let answer = client
                .chat(&name, &request)
                .await
                .map_err(|e| ToolError::upstream(&format!("Querying {name}"), e))?;
            let text = answer
                .choices
                .first()
                .and_then(|c| c.message.content.clone())
                .unwrap_or_default();
            Ok(ToolOutput::new(
                render::clip(&text, ctx.state.settings.max_chars),
                json!(answer),
            ))
        }
        _ => {
            let Some(input) = args.input else {
                return Err(ToolError::new(format!(
                    "{name} is not a chat endpoint (task {}): pass input",
                    task.as_deref().unwrap_or("custom model")
                )));
            };
            // JSON text is sent as JSON (a custom model's record), anything else as text.
            let input = match serde_json::from_str::<Value>(&input) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                _ => Value::String(input),
            };
            let body = json!({"input": input});
            let answer: Value = client
                .send(
                    reqwest::Method::POST,
                    &format!("/serving-endpoints/{name}/invocations"),
                    &[],
                    Some(body),
                )
                .await
                .map_err(|e| ToolError::upstream(&format!("Querying {name}"), e))?;
            Ok(ToolOutput::new(
                render::clip(&answer.to_string(), ctx.state.settings.max_chars),
                answer,
            ))
        }
    }
}
