//! Model Serving: the local workspace has no models of its own. Given an OpenAI-compatible
//! chat server ([`ChatModel`]: Ollama, llama.cpp, vLLM, a hosted API), it lists one chat
//! endpoint named after the model and forwards chats to `{url}/chat/completions`. The
//! shared workspace server checks the requests and streams the answers.

use std::sync::RwLock;
use std::time::Duration;

use databricks_api::backend::{Answer, Serving, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::serving::{
    ChatRequest, ChatResponse, EndpointConfig, EndpointState, ServedEntity, ServingEndpoint,
};
use serde_json::{Value, json};

use crate::error::LocalError;

/// The endpoint's name when the model has none.
pub const DEFAULT_MODEL_ENDPOINT: &str = "local-model";
const CHAT_TASK: &str = "llm/v1/chat";
/// Connecting to the model server: it is usually on this machine.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole answer: local models on a CPU are slow.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);
/// How much of a model server's error body a message quotes, in characters.
const QUOTED_CHARS: usize = 500;

/// An OpenAI-compatible chat model the local workspace serves as a Model Serving endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatModel {
    /// The API's base URL, e.g. `http://127.0.0.1:11434/v1`: chats are posted to
    /// `{url}/chat/completions`.
    pub url: String,
    /// The model: the endpoint's name (else [`DEFAULT_MODEL_ENDPOINT`]) and the `model` of
    /// the requests forwarded (unless the caller names one).
    pub name: Option<String>,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl ChatModel {
    /// A model at `url`, unnamed, without a token.
    pub fn new(url: impl Into<String>) -> ChatModel {
        ChatModel {
            url: url.into(),
            name: None,
            token: None,
        }
    }

    /// The endpoint's name.
    pub fn endpoint_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(DEFAULT_MODEL_ENDPOINT)
    }

    fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.url.trim_end_matches('/'))
    }
}

impl std::fmt::Debug for ChatModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatModel")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A forwarded chat that failed.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    #[error("the model server at {url} did not answer: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the model server at {url} answered HTTP {status}: {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
    #[error("the model server at {url} did not answer a chat completion: {reason}")]
    Malformed { url: String, reason: String },
}

impl From<ForwardError> for ApiError {
    fn from(e: ForwardError) -> ApiError {
        let code = match &e {
            ForwardError::Unreachable { .. } => ErrorCode::TemporarilyUnavailable,
            ForwardError::Refused { status: 429, .. } => ErrorCode::RequestLimitExceeded,
            // The model server's own credentials are not the caller's: its 401 or 403
            // is not the caller's either.
            ForwardError::Refused { status, .. } if *status < 500 => {
                ErrorCode::InvalidParameterValue
            }
            ForwardError::Refused { .. } => ErrorCode::TemporarilyUnavailable,
            ForwardError::Malformed { .. } => ErrorCode::InternalError,
        };
        ApiError::new(code, format!("Could not chat: {e}."))
    }
}

/// The model, and a client made for it.
#[derive(Clone)]
struct Configured {
    model: ChatModel,
    http: reqwest::Client,
}

/// The [`Serving`] backend: no endpoint, or the one of the configured model.
pub(crate) struct LocalServing {
    configured: RwLock<Option<Configured>>,
    creator: String,
}

impl LocalServing {
    pub fn new(creator: String) -> LocalServing {
        LocalServing {
            configured: RwLock::new(None),
            creator,
        }
    }

    /// Serves `model` from now on (`None`: no endpoint).
    pub fn set(&self, model: Option<ChatModel>) -> Result<(), LocalError> {
        let configured = model
            .map(|model| {
                check_url(&model.url)?;
                let http = reqwest::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(ANSWER_TIMEOUT)
                    .build()
                    .map_err(|e| {
                        LocalError::InvalidOptions(format!("cannot make an HTTP client: {e}"))
                    })?;
                Ok::<_, LocalError>(Configured { model, http })
            })
            .transpose()?;
        *self.configured.write().unwrap_or_else(|p| p.into_inner()) = configured;
        Ok(())
    }

    pub fn model(&self) -> Option<ChatModel> {
        self.current().map(|c| c.model)
    }

    fn current(&self) -> Option<Configured> {
        self.configured
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn endpoint_of(&self, model: &ChatModel) -> ServingEndpoint {
        let name = model.endpoint_name();
        ServingEndpoint {
            name: name.to_string(),
            id: None,
            task: Some(CHAT_TASK.to_string()),
            state: Some(EndpointState {
                ready: Some("READY".into()),
                config_update: Some("NOT_UPDATING".into()),
            }),
            config: Some(EndpointConfig {
                served_entities: vec![ServedEntity {
                    name: Some(name.to_string()),
                    external_model: Some(json!({
                        "provider": "openai-compatible",
                        "name": model.name,
                        "task": CHAT_TASK,
                    })),
                    ..ServedEntity::default()
                }],
            }),
            creator: Some(self.creator.clone()),
            creation_timestamp: None,
            last_updated_timestamp: None,
            description: Some(format!("The OpenAI-compatible model at {}.", model.url)),
        }
    }

    /// The configured model if `name` is its endpoint.
    fn find(&self, name: &str) -> Result<Configured, ApiError> {
        match self.current() {
            Some(c) if c.model.endpoint_name() == name => Ok(c),
            Some(_) => Err(unknown(name, "")),
            None => Err(unknown(
                name,
                " (the local workspace serves a chat model only when given an OpenAI-compatible model URL, --local-model-url)",
            )),
        }
    }
}

fn unknown(name: &str, hint: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Endpoint with name '{name}' does not exist{hint}."),
    )
}

fn check_url(url: &str) -> Result<(), LocalError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| LocalError::InvalidOptions(format!("model URL '{url}': {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(LocalError::InvalidOptions(format!(
            "model URL '{url}' must be http or https"
        )));
    }
    Ok(())
}

#[async_trait]
impl Serving for LocalServing {
    async fn endpoints(&self) -> Answer<Vec<ServingEndpoint>> {
        Ok(self
            .current()
            .map(|c| self.endpoint_of(&c.model))
            .into_iter()
            .collect())
    }

    async fn endpoint(&self, name: &str) -> Answer<ServingEndpoint> {
        Ok(self.endpoint_of(&self.find(name)?.model))
    }

    async fn chat(&self, name: &str, request: &ChatRequest) -> Answer<ChatResponse> {
        let configured = self.find(name)?;
        Ok(forward(&configured, request).await?)
    }
}

/// Posts the request, whole (the shared server streams), and reads the completion.
async fn forward(c: &Configured, request: &ChatRequest) -> Result<ChatResponse, ForwardError> {
    let url = c.model.completions_url();
    let mut body = request.clone();
    body.stream = None;
    if body.model.is_none() {
        body.model = c.model.name.clone().filter(|n| !n.is_empty());
    }
    let mut post = c.http.post(&url).json(&body);
    if let Some(token) = c.model.token.as_deref().filter(|t| !t.is_empty()) {
        post = post.bearer_auth(token);
    }
    let unreachable = |e: reqwest::Error| ForwardError::Unreachable {
        url: url.clone(),
        reason: reason(&e),
    };
    let answer = post.send().await.map_err(unreachable)?;
    let status = answer.status().as_u16();
    let bytes = answer.bytes().await.map_err(unreachable)?;
    if !(200..300).contains(&status) {
        return Err(ForwardError::Refused {
            url,
            status,
            message: error_message(&bytes),
        });
    }
    let response: ChatResponse =
        serde_json::from_slice(&bytes).map_err(|e| ForwardError::Malformed {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    if response.choices.is_empty() {
        return Err(ForwardError::Malformed {
            url,
            reason: "no choices".into(),
        });
    }
    Ok(response)
}

/// An error and its causes, which say what failed (connection refused, timed out).
fn reason(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// OpenAI's `{"error": {"message"}}`, Databricks' `{"message"}`, else the body's start.
fn error_message(body: &[u8]) -> String {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let message = json.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    message.unwrap_or_else(|| {
        String::from_utf8_lossy(body)
            .chars()
            .take(QUOTED_CHARS)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names() {
        let mut model = ChatModel::new("http://127.0.0.1:1/v1/");
        assert_eq!(
            model.completions_url(),
            "http://127.0.0.1:1/v1/chat/completions"
        );
        assert_eq!(model.endpoint_name(), DEFAULT_MODEL_ENDPOINT);
        model.name = Some("llama3".into());
        model.token = Some("secret".into());
        assert_eq!(model.endpoint_name(), "llama3");
        assert!(!format!("{model:?}").contains("secret"));
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn error_messages_are_read_from_either_shape() {
        assert_eq!(
            error_message(br#"{"error": {"message": "no such model"}}"#),
            "no such model"
        );
        assert_eq!(error_message(br#"{"message": "m"}"#), "m");
        assert_eq!(error_message(b"plain"), "plain");
    }
}
