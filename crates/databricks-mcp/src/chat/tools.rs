//! Where a chat's tools come from: this server's registry in-process (same policy:
//! read-only unless `--allow-writes`, writes confirmed on the terminal), or any MCP
//! server as a real MCP client (`--server URL` over streamable HTTP, `--server-command`
//! over stdio) — Databricks' managed endpoints included.

use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use tokio_util::sync::CancellationToken;

use crate::DatabricksMcp;

pub enum ToolHost {
    InProcess(DatabricksMcp),
    Remote(RunningService<RoleClient, ()>),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the MCP server {target}: {detail}")]
pub struct ConnectError {
    target: String,
    detail: String,
}

impl ToolHost {
    /// A client of the MCP server at `url` (streamable HTTP), with `token` as bearer.
    pub async fn http(url: &str, token: Option<String>) -> Result<ToolHost, ConnectError> {
        use rmcp::transport::StreamableHttpClientTransport;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
        if let Some(t) = token {
            config = config.auth_header(t);
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        let client = ().serve(transport).await.map_err(|e| ConnectError {
            target: url.to_string(),
            detail: e.to_string(),
        })?;
        Ok(ToolHost::Remote(client))
    }

    /// A client of the MCP server that `command` starts (stdio).
    pub async fn command(command: &[String]) -> Result<ToolHost, ConnectError> {
        use rmcp::transport::TokioChildProcess;
        let target = command.join(" ");
        let Some((program, args)) = command.split_first() else {
            return Err(ConnectError {
                target,
                detail: "no command given".into(),
            });
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args);
        let transport = TokioChildProcess::new(cmd).map_err(|e| ConnectError {
            target: target.clone(),
            detail: e.to_string(),
        })?;
        let client = ().serve(transport).await.map_err(|e| ConnectError {
            target,
            detail: e.to_string(),
        })?;
        Ok(ToolHost::Remote(client))
    }

    /// The tools offered to the model (empty if the server cannot list them).
    pub async fn list(&self) -> Vec<Tool> {
        match self {
            ToolHost::InProcess(server) => server.registry().list(),
            ToolHost::Remote(client) => match client.list_all_tools().await {
                Ok(tools) => tools,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the MCP server's tools");
                    Vec::new()
                }
            },
        }
    }

    /// Runs a tool; a failure is an error result, never a crash of the chat.
    pub async fn call(
        &self,
        name: &str,
        arguments: JsonObject,
        cancel: CancellationToken,
    ) -> CallToolResult {
        let failed = |text: String| CallToolResult::error(vec![ContentBlock::text(text)]);
        match self {
            ToolHost::InProcess(server) => {
                match server.call_cancellable(name, arguments, cancel).await {
                    Ok(result) => result,
                    Err(e) => failed(e.message.to_string()),
                }
            }
            ToolHost::Remote(client) => {
                let params = CallToolRequestParams::new(name.to_string()).with_arguments(arguments);
                tokio::select! {
                    r = client.call_tool(params) => r.unwrap_or_else(|e| failed(format!("the MCP server failed: {e}"))),
                    // rmcp's client sends notifications/cancelled when the request future drops.
                    () = cancel.cancelled() => failed("cancelled".into()),
                }
            }
        }
    }
}
