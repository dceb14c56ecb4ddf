//! Tool-level failures. Each becomes a `CallToolResult` with `isError: true` whose
//! text says what happened and what to do next; none is a protocol error.
//!
//! A failed Databricks call keeps the client's [`ErrorKind`], so that the one hint the
//! text ends with fits the failure (not found → list the parent; permission denied →
//! which permission; rate limited → retry later), and failures can be counted by kind.

use std::collections::BTreeMap;
use std::sync::Mutex;

use databricks_client::ErrorKind;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock as Content, InputRequests, InputRequiredResult,
};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.text())]
pub struct ToolError {
    /// What happened.
    what: String,
    /// What to do next: at most one sentence or two, chosen by kind.
    hint: Option<String>,
    /// The API error class, when a Databricks call failed.
    kind: Option<ErrorKind>,
    /// What the answer is: a failure, or a write that was not confirmed (not an error).
    outcome: Outcome,
}

/// An answer other than the tool's result.
#[derive(Debug, Clone, Default)]
pub enum Outcome {
    /// The call failed: `isError: true`.
    #[default]
    Failure,
    /// A write the person did not confirm (declined, cancelled, or a code to pass back):
    /// an ordinary answer, nothing was done.
    NotConfirmed,
    /// 2026-07-28: ask the person (`input_required`), with the server-side handle the
    /// retry echoes.
    InputRequired(Box<InputRequiredResult>),
}

impl ToolError {
    /// A failure the tool itself found (bad argument, refused statement, …); the text
    /// says what to do.
    pub fn new(message: impl Into<String>) -> ToolError {
        ToolError {
            what: message.into(),
            hint: None,
            kind: None,
            outcome: Outcome::Failure,
        }
    }

    /// A write that was not done because the person did not confirm it (yet).
    pub fn not_confirmed(message: impl Into<String>) -> ToolError {
        ToolError {
            outcome: Outcome::NotConfirmed,
            ..ToolError::new(message)
        }
    }

    /// The person must be asked first (MRTR): `handle` is echoed back as `requestState`.
    pub fn input_required(requests: InputRequests, handle: String) -> ToolError {
        ToolError {
            outcome: Outcome::InputRequired(Box::new(InputRequiredResult::new(
                Some(requests),
                Some(handle),
            ))),
            ..ToolError::new("the person must confirm this action")
        }
    }

    /// Whether this is a failure (counted, logged), not a write the person held back.
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failure)
    }

    /// A failed Databricks call, prefixed with what the tool was doing and ended with
    /// the hint of its kind (refine it with [`hint_for`](Self::hint_for) or
    /// [`needs`](Self::needs)).
    pub fn upstream(doing: &str, error: databricks_client::Error) -> ToolError {
        let kind = error.kind();
        ToolError {
            what: format!("{doing} failed: {}", detail(&error)),
            hint: kind.map(|k| default_hint(k, &error)),
            kind,
            outcome: Outcome::Failure,
        }
    }

    /// Replaces the hint when the failure is of `kind` (a tool knows better what to
    /// list or check than the default).
    pub fn hint_for(mut self, kind: ErrorKind, hint: impl Into<String>) -> ToolError {
        if self.kind == Some(kind) {
            self.hint = Some(hint.into());
        }
        self
    }

    /// Replaces the hint, whatever the kind (when the next step does not depend on it).
    pub fn with_hint(mut self, hint: impl Into<String>) -> ToolError {
        self.hint = Some(hint.into());
        self
    }

    /// Names the permission the call needs, for a permission-denied failure.
    pub fn needs(self, permission: &str) -> ToolError {
        self.hint_for(
            ErrorKind::PermissionDenied,
            format!(
                "The server's Databricks identity needs {permission}: ask a workspace admin to grant it, or use another object."
            ),
        )
    }

    /// The API error class behind this failure, if a Databricks call failed.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The whole text the model sees.
    pub fn text(&self) -> String {
        match &self.hint {
            Some(h) => format!("{} {h}", self.what.trim_end()),
            None => self.what.clone(),
        }
    }

    /// Arguments that do not fit the tool's input schema.
    pub fn invalid_arguments(tool: &str, error: &serde_json::Error) -> ToolError {
        let detail = error.to_string();
        // serde's "at line 1 column N" refers to our re-serialized value, not the
        // caller's text: drop it.
        let detail = detail.split(" at line ").next().unwrap_or(&detail);
        ToolError::new(format!(
            "invalid arguments for {tool}: {detail}. Check the tool's input schema and call it again."
        ))
    }

    /// The answer on a path that cannot ask for input (tasks, the `call` command): an
    /// input request there is a failure.
    pub fn into_result(self) -> CallToolResult {
        match self.outcome {
            Outcome::NotConfirmed => CallToolResult::success(vec![Content::text(self.text())]),
            _ => CallToolResult::error(vec![Content::text(self.text())]),
        }
    }

    /// The answer of a `tools/call`.
    pub fn into_response(self) -> CallToolResponse {
        match self.outcome {
            Outcome::InputRequired(result) => CallToolResponse::InputRequired(*result),
            _ => self.into_result().into(),
        }
    }
}

/// The client error without the client's own generic hint (the tool adds a better one).
fn detail(error: &databricks_client::Error) -> String {
    use databricks_client::Error;
    let api = |e: &databricks_client::ApiError| {
        let mut s = format!(
            "Databricks API error {} {} on {}: {}.",
            e.status,
            e.error_code,
            e.endpoint,
            e.message.trim_end_matches('.')
        );
        if let Some(id) = &e.request_id {
            s.push_str(&format!(" (request id {id})"));
        }
        s
    };
    match error {
        Error::Api(e) => api(e),
        Error::RetriesExhausted {
            endpoint,
            attempts,
            elapsed,
            last,
        } => match last.api() {
            Some(e) => format!(
                "gave up on {endpoint} after {attempts} attempts over {:.1} s: {}",
                elapsed.as_secs_f64(),
                api(e)
            ),
            None => error.to_string(),
        },
        other => other.to_string(),
    }
}

/// The hint of a failure of `kind` when the tool gives none.
fn default_hint(kind: ErrorKind, error: &databricks_client::Error) -> String {
    match kind {
        ErrorKind::NotFound => "It does not exist or is not visible to this identity: list the parent to see what exists, then use a name or id from that list.".into(),
        ErrorKind::PermissionDenied => "The server's Databricks identity lacks a permission on this object: ask a workspace admin to grant it, or use another object.".into(),
        ErrorKind::TooManyRequests => match error.api().and_then(|a| a.retry_after) {
            Some(after) => format!(
                "Databricks is rate limiting this workspace's calls: retry after {} s, with fewer calls.",
                after.as_secs().max(1)
            ),
            None => "Databricks is rate limiting this workspace's calls: retry in a minute, with fewer calls.".into(),
        },
        ErrorKind::BadRequest => "Databricks refused the request: check the names and values given, then call again.".into(),
        ErrorKind::Unauthenticated => "The server's Databricks credentials were rejected: the operator must fix them (DATABRICKS_TOKEN, the profile in ~/.databrickscfg, or `databricks auth login`); retrying will not help.".into(),
        ErrorKind::ResourceConflict => "The object is in a state that does not allow this: check its current state, then try again.".into(),
        ErrorKind::TemporarilyUnavailable => "The service is temporarily unavailable: try again in a minute.".into(),
        ErrorKind::DeadlineExceeded => "Databricks timed out on its side: try again, perhaps with a smaller request.".into(),
        ErrorKind::Internal => "Databricks reported an internal error: try again, and report it (with the request id) if it persists.".into(),
        ErrorKind::NotImplemented => "This workspace does not support this operation (it may be disabled or not offered on its tier).".into(),
        ErrorKind::Cancelled => "Databricks cancelled the request: call again if it is still needed.".into(),
        ErrorKind::Unknown => "Try again; report it if it persists.".into(),
    }
}

/// The label a failure is counted under: its API error kind, or `tool` for failures
/// the tool found itself (arguments, refused SQL, statements that failed).
pub fn kind_label(kind: Option<ErrorKind>) -> &'static str {
    match kind {
        None => "tool",
        Some(ErrorKind::BadRequest) => "bad_request",
        Some(ErrorKind::Unauthenticated) => "unauthenticated",
        Some(ErrorKind::PermissionDenied) => "permission_denied",
        Some(ErrorKind::NotFound) => "not_found",
        Some(ErrorKind::ResourceConflict) => "resource_conflict",
        Some(ErrorKind::TooManyRequests) => "too_many_requests",
        Some(ErrorKind::Cancelled) => "cancelled",
        Some(ErrorKind::Internal) => "internal",
        Some(ErrorKind::NotImplemented) => "not_implemented",
        Some(ErrorKind::TemporarilyUnavailable) => "temporarily_unavailable",
        Some(ErrorKind::DeadlineExceeded) => "deadline_exceeded",
        Some(ErrorKind::Unknown) => "unknown",
    }
}

/// Tool failures since start, by [`kind_label`] (for logs and diagnostics).
#[derive(Debug, Default)]
pub struct FailureCounts {
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl FailureCounts {
    /// Counts one failure of `kind`; returns the new count of that kind.
    pub fn record(&self, kind: Option<ErrorKind>) -> u64 {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = counts.entry(kind_label(kind)).or_insert(0);
        *n += 1;
        *n
    }

    /// The counts so far, by label.
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        match self.counts.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16, body: &str) -> databricks_client::Error {
        databricks_client::Error::Api(Box::new(databricks_client::ApiError::from_response(
            status,
            "GET /api/2.1/unity-catalog/tables/a.b.c".into(),
            None,
            body.as_bytes(),
        )))
    }

    #[test]
    fn one_hint_chosen_by_kind() {
        let e = ToolError::upstream(
            "Reading table a.b.c",
            api_error(
                404,
                r#"{"error_code":"TABLE_DOES_NOT_EXIST","message":"Table 'a.b.c' does not exist."}"#,
            ),
        );
        assert_eq!(e.kind(), Some(ErrorKind::NotFound));
        let text = e.text();
        assert!(
            text.starts_with(
                "Reading table a.b.c failed: Databricks API error 404 TABLE_DOES_NOT_EXIST"
            ),
            "{text}"
        );
        assert!(text.contains("list the parent"), "{text}");
        // The client's generic hint is not repeated.
        assert!(!text.contains("check the name or id"), "{text}");

        let refined = ToolError::upstream("Reading table a.b.c", api_error(404, "{}"))
            .hint_for(ErrorKind::NotFound, "Call list_tables.")
            .needs("SELECT on a.b.c");
        assert!(
            refined.text().ends_with("Call list_tables."),
            "{}",
            refined.text()
        );
        let denied = ToolError::upstream("Reading table a.b.c", api_error(403, "{}"))
            .hint_for(ErrorKind::NotFound, "Call list_tables.")
            .needs("SELECT on a.b.c");
        assert!(
            denied.text().contains("needs SELECT on a.b.c"),
            "{}",
            denied.text()
        );
    }

    #[test]
    fn failures_are_counted_by_kind() {
        let counts = FailureCounts::default();
        counts.record(Some(ErrorKind::NotFound));
        counts.record(Some(ErrorKind::NotFound));
        counts.record(None);
        let snapshot = counts.snapshot();
        assert_eq!(snapshot.get("not_found"), Some(&2));
        assert_eq!(snapshot.get("tool"), Some(&1));
    }
}
