//! The MCP server: an rmcp `ServerHandler` over the tool registry. This is the only
//! place that turns MCP requests into tool calls.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::CallContext;
use crate::state::AppState;
use crate::tools::{Registry, SurfaceOptions};

pub const SERVER_NAME: &str = "databricks-mcp";
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone)]
pub struct DatabricksMcp {
    state: Arc<AppState>,
    registry: Arc<Registry>,
    instructions: Arc<String>,
}

impl DatabricksMcp {
    pub fn new(state: Arc<AppState>) -> DatabricksMcp {
        let registry = Registry::full(SurfaceOptions {
            allow_writes: state.settings.allow_writes,
        });
        let instructions = instructions(&state);
        DatabricksMcp {
            state,
            registry: Arc::new(registry),
            instructions: Arc::new(instructions),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Runs one tool outside any MCP session (the `call` command): same registry, same
    /// validation, same error mapping.
    pub async fn call_direct(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        meta: Map<String, Value>,
    ) -> Result<rmcp::model::CallToolResult, McpError> {
        let def = self.registry.get(name).ok_or_else(|| unknown_tool(name))?;
        let ctx = CallContext::new(self.state.clone(), meta, CancellationToken::new());
        Ok(def.call(ctx, arguments).await)
    }
}

fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(
        format!("unknown tool {name:?}: call tools/list to see the tools this server offers"),
        None,
    )
}

/// Short guidance for the model: what this server is, the mode, how to start.
fn instructions(state: &AppState) -> String {
    let host = state
        .client
        .host()
        .host_str()
        .unwrap_or("the workspace")
        .to_string();
    let mode = if state.settings.allow_writes {
        "SQL writes are ENABLED by the operator: double-check statements that change data."
    } else {
        "SQL is read-only: only SELECT, WITH, VALUES, SHOW, DESCRIBE and EXPLAIN run; anything else is refused."
    };
    format!(
        "Databricks workspace {host}. {mode} To explore data: list_catalogs → list_schemas → list_tables → get_table_schema, then run_sql_query with three-part names (catalog.schema.table). Answers are compact tables capped in rows and characters; they say how to get more (cursor for lists, get_sql_result with statement_id and offset for SQL). A slow query returns its statement_id instead of failing: poll it with get_sql_result. Jobs: list_jobs, get_job_runs. Compute: list_clusters, list_warehouses. Pipelines: list_delta_pipelines. Notebooks: list_notebooks."
    )
}

impl ServerHandler for DatabricksMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(SERVER_NAME, SERVER_VERSION)
                    .with_title("Databricks MCP server"),
            )
            .with_instructions(self.instructions.as_str())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.registry.list()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.registry.get(name).map(|t| t.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let def = self
            .registry
            .get(&request.name)
            .ok_or_else(|| unknown_tool(&request.name))?;
        let progress_token = context.meta.get_progress_token();
        let meta: Map<String, Value> = context
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ctx = CallContext::new(self.state.clone(), meta, context.ct.clone())
            .with_progress(context.peer.clone(), progress_token);
        let started = std::time::Instant::now();
        let result = def.call(ctx, request.arguments).await;
        tracing::info!(
            tool = %request.name,
            is_error = result.is_error.unwrap_or(false),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "tool call"
        );
        Ok(result.into())
    }
}
