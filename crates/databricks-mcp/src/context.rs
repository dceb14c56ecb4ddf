//! What a tool handler gets: the shared state, the call's `_meta`, its cancellation
//! token and, when the client asked for them, a way to report progress.

use std::sync::Arc;

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::error::ToolError;
use crate::logging::{Level, LogSink};
use crate::state::AppState;

#[derive(Clone)]
pub struct CallContext {
    pub state: Arc<AppState>,
    pub meta: Map<String, Value>,
    pub ct: CancellationToken,
    progress: Option<(Peer<RoleServer>, ProgressToken)>,
    log: Option<LogSink>,
    /// The call as a write confirmation and the audit log see it.
    pub write: crate::confirm::WriteCall,
}

impl CallContext {
    pub fn new(
        state: Arc<AppState>,
        meta: Map<String, Value>,
        ct: CancellationToken,
    ) -> CallContext {
        CallContext {
            state,
            meta,
            ct,
            progress: None,
            log: None,
            write: Default::default(),
        }
    }

    /// How this call may reach the person to confirm a write, and who is calling.
    pub fn with_channel(mut self, channel: crate::confirm::Channel, client: String) -> CallContext {
        self.write.channel = channel;
        self.write.client = client;
        self
    }

    /// Log messages of this call go to `sink` (when the client asked for them).
    pub fn with_log(mut self, sink: Option<LogSink>) -> CallContext {
        self.log = sink;
        self
    }

    /// A message for the person watching the client (`notifications/message`), sent
    /// only when the client asked for this level.
    pub async fn log(&self, level: Level, message: impl Into<String>) {
        if let Some(sink) = &self.log {
            sink.send(level, message.into()).await;
        }
    }

    pub fn with_progress(
        mut self,
        peer: Peer<RoleServer>,
        token: Option<ProgressToken>,
    ) -> CallContext {
        self.progress = token.map(|t| (peer, t));
        self
    }

    /// A `_meta` value that must be a string (an id): absent, `null` or blank is `None`;
    /// any other type is an error, never coerced or ignored. Keys are looked up bare and
    /// with the `com.databricks/` prefix.
    pub fn meta_text(&self, key: &str) -> Result<Option<String>, ToolError> {
        let Some(value) = self
            .meta
            .get(key)
            .or_else(|| self.meta.get(&format!("com.databricks/{key}")))
        else {
            return Ok(None);
        };
        match value {
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_string())),
            Value::Null => Ok(None),
            other => Err(ToolError::new(format!(
                "_meta.{key} must be a string, got {} {other}; pass it as a JSON string, \
                 e.g. \"{key}\": \"abc123\"",
                json_type(other)
            ))),
        }
    }

    /// Sends a progress notification when the client gave a progress token; a failure
    /// to send (client gone) is not an error of the tool.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: impl Into<String>) {
        if let Some((peer, token)) = &self.progress {
            let mut param = ProgressNotificationParam::new(token.clone(), progress)
                .with_message(message.into());
            if let Some(t) = total {
                param = param.with_total(t);
            }
            if let Err(e) = peer.notify_progress(param).await {
                tracing::debug!("progress notification not sent: {e}");
            }
        }
    }

    pub fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }
}

/// The JSON type of a value, with its article, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
