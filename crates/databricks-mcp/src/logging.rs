//! Log messages for the person watching the client (`notifications/message`): a
//! statement queued while its warehouse starts, a retry after a rate limit, a result the
//! warehouse truncated. Never a secret: messages carry ids, states and error texts only.
//!
//! Legacy sessions (≤ 2025-11-25) choose a level with `logging/setLevel`; until then
//! they get nothing. On 2026-07-28 a request carries its level in
//! `_meta["io.modelcontextprotocol/logLevel"]` and gets messages only then, on its own
//! response stream (the specification forbids them otherwise).
#![allow(deprecated)] // rmcp marks logging deprecated (SEP-2577); clients still use it.

use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};
use serde_json::json;

/// The levels this server sends at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

impl Level {
    fn mcp(self) -> LoggingLevel {
        match self {
            Level::Info => LoggingLevel::Info,
            Level::Warning => LoggingLevel::Warning,
        }
    }
}

/// The level a legacy session chose with `logging/setLevel`.
#[derive(Clone, Default)]
pub struct SessionLevel(Arc<Mutex<Option<LoggingLevel>>>);

impl SessionLevel {
    pub fn set(&self, level: LoggingLevel) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(level);
    }

    fn get(&self) -> Option<LoggingLevel> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where one request's messages go, and from which level on.
#[derive(Clone)]
pub struct LogSink {
    peer: Peer<RoleServer>,
    threshold: LoggingLevel,
}

/// The sink for a request: its own `_meta` level first, else the session's.
pub fn sink_for(context: &RequestContext<RoleServer>, session: &SessionLevel) -> Option<LogSink> {
    let threshold = context.meta.log_level().or_else(|| session.get())?;
    Some(LogSink {
        peer: context.peer.clone(),
        threshold,
    })
}

/// Severity order of RFC 5424, as the specification uses it.
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl LogSink {
    pub fn wants(&self, level: Level) -> bool {
        rank(level.mcp()) >= rank(self.threshold)
    }

    /// Sends `message` when `level` reaches the threshold; a client gone is not an error.
    pub async fn send(&self, level: Level, message: String) {
        if !self.wants(level) {
            return;
        }
        let param = LoggingMessageNotificationParam::new(level.mcp(), json!(message))
            .with_logger("databricks-mcp");
        if let Err(e) = self.peer.notify_logging_message(param).await {
            tracing::debug!("log notification not sent: {e}");
        }
    }

    /// The client's events (retries) as messages, for `databricks_client::events::observed`.
    pub fn observer(&self) -> databricks_client::events::Observer {
        let sink = self.clone();
        Arc::new(move |event| {
            let databricks_client::events::ClientEvent::Retrying {
                endpoint,
                attempt,
                wait,
                reason,
            } = event
            else {
                return;
            };
            let message = format!(
                "{endpoint}: attempt {attempt} failed, retrying in {:.1} s ({reason})",
                wait.as_secs_f64()
            );
            let sink = sink.clone();
            tokio::spawn(async move { sink.send(Level::Warning, message).await });
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_by_severity() {
        assert!(rank(LoggingLevel::Warning) > rank(LoggingLevel::Info));
        assert!(rank(LoggingLevel::Emergency) > rank(LoggingLevel::Critical));
        assert_eq!(rank(LoggingLevel::Debug), 0);
    }
}
