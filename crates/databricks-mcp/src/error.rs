//! Tool-level failures. Each becomes a `CallToolResult` with `isError: true` whose
//! text says what happened and what to do next; none is a protocol error.

use rmcp::model::{CallToolResult, ContentBlock as Content};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    pub message: String,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> ToolError {
        ToolError {
            message: message.into(),
        }
    }

    /// A failed Databricks call, prefixed with what the tool was doing.
    pub fn upstream(doing: &str, error: databricks_client::Error) -> ToolError {
        ToolError::new(format!("{doing} failed: {error}"))
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

    pub fn into_result(self) -> CallToolResult {
        CallToolResult::error(vec![Content::text(self.message)])
    }
}
