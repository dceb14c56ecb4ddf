//! The model a chat talks to: a Databricks Model Serving chat endpoint (with the
//! workspace's credentials), or any OpenAI-compatible server (`--model-url`: Ollama,
//! vLLM, …). Answers stream when the server streams; text arrives through `on_text`.

use std::time::Duration;

use databricks_client::DatabricksClient;
use databricks_client::services::serving::{ChatChoice, ChatRequest, ChunkDelta, read_chunks};

/// Why a model call failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model endpoint {endpoint} failed: {source}")]
    Databricks {
        endpoint: String,
        #[source]
        source: databricks_client::Error,
    },
    #[error("the model at {url} failed: {detail}")]
    OpenAi { url: String, detail: String },
}

pub enum Model {
    /// `POST {host}/serving-endpoints/{endpoint}/invocations`.
    Databricks {
        client: DatabricksClient,
        endpoint: String,
    },
    /// `POST {url}/chat/completions`.
    OpenAi {
        http: reqwest::Client,
        url: String,
        token: Option<String>,
        model: Option<String>,
    },
}

/// Attempts of an OpenAI-compatible call that answers 429 or 503.
const OPENAI_ATTEMPTS: u32 = 4;

impl Model {
    /// What the model is, for messages.
    pub fn label(&self) -> String {
        match self {
            Model::Databricks { endpoint, .. } => format!("serving endpoint {endpoint}"),
            Model::OpenAi { url, model, .. } => match model {
                Some(m) => format!("{m} at {url}"),
                None => url.clone(),
            },
        }
    }

    /// One completion; text is passed to `on_text` as it arrives.
    pub async fn complete(
        &self,
        request: &ChatRequest,
        mut on_text: impl FnMut(&str),
    ) -> Result<ChatChoice, ModelError> {
        let on_delta = |d: &ChunkDelta| {
            if let Some(t) = &d.content {
                on_text(t);
            }
        };
        match self {
            Model::Databricks { client, endpoint } => {
                let failed = |source| ModelError::Databricks {
                    endpoint: endpoint.clone(),
                    source,
                };
                let response = client
                    .chat_stream(endpoint, request)
                    .await
                    .map_err(failed)?;
                read_chunks(response, on_delta).await.map_err(failed)
            }
            Model::OpenAi {
                http,
                url,
                token,
                model,
            } => {
                let mut request = request.clone();
                request.stream = Some(true);
                if request.model.is_none() {
                    request.model.clone_from(model);
                }
                let endpoint = format!("{}/chat/completions", url.trim_end_matches('/'));
                let failed = |detail: String| ModelError::OpenAi {
                    url: url.clone(),
                    detail,
                };
                let mut attempt = 0;
                let response = loop {
                    attempt += 1;
                    let mut call = http.post(&endpoint).json(&request);
                    if let Some(t) = token {
                        call = call.bearer_auth(t);
                    }
                    let response = call.send().await.map_err(|e| failed(e.to_string()))?;
                    let status = response.status();
                    if status.is_success() {
                        break response;
                    }
                    let retry = matches!(status.as_u16(), 429 | 503) && attempt < OPENAI_ATTEMPTS;
                    if !retry {
                        let body = response.text().await.unwrap_or_default();
                        return Err(failed(format!(
                            "HTTP {status}: {}",
                            crate::render::clip(&body, 500)
                        )));
                    }
                    let wait = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(Duration::from_millis(500 * u64::from(attempt)), |s| {
                            Duration::from_secs(s.min(30))
                        });
                    tokio::time::sleep(wait).await;
                };
                read_chunks(response, on_delta)
                    .await
                    .map_err(|e| failed(e.to_string()))
            }
        }
    }
}

/// The chat endpoints of a workspace (task `llm/v1/chat`), for the "pick one" message.
pub async fn chat_endpoints(
    client: &DatabricksClient,
) -> Result<Vec<String>, databricks_client::Error> {
    Ok(client
        .list_serving_endpoints()
        .await?
        .into_iter()
        .filter(|e| e.task.as_deref() == Some("llm/v1/chat"))
        .map(|e| e.name)
        .collect())
}
