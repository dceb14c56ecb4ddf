//! What a tool handler gets: the shared state, the call's `_meta`, its cancellation
//! token and, when the client asked for them, a way to report progress.

use std::sync::Arc;

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

#[derive(Clone)]
pub struct CallContext {
    pub state: Arc<AppState>,
    pub meta: Map<String, Value>,
    pub ct: CancellationToken,
    progress: Option<(Peer<RoleServer>, ProgressToken)>,
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

    /// A `_meta` value as text: strings as they are, numbers and booleans printed.
    /// Keys are looked up bare and with the `com.databricks/` prefix.
    pub fn meta_text(&self, key: &str) -> Option<String> {
        let value = self
            .meta
            .get(key)
            .or_else(|| self.meta.get(&format!("com.databricks/{key}")))?;
        match value {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
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
