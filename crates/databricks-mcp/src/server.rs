//! The MCP server: an rmcp `ServerHandler` over the tool registries. This is the only
//! place that turns MCP requests into tool calls.
//!
//! One `DatabricksMcp` serves every surface (`surfaces.rs`): the surface of a request
//! is the one its HTTP route put in the request's extensions, else the server's own
//! (`--surface` over stdio, the full surface by default).

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, DiscoverResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, InitializeRequestParams,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::context::CallContext;
use crate::logging::SessionLevel;
use crate::state::AppState;
use crate::surfaces::{Surface, SurfaceError, Surfaces};
use crate::tools::{Registry, SurfaceOptions, ToolDef};

pub const SERVER_NAME: &str = "databricks-mcp";
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone)]
pub struct DatabricksMcp {
    state: Arc<AppState>,
    surfaces: Arc<Surfaces>,
    /// The surface of requests whose route names none (stdio, `/mcp`).
    surface: Surface,
    instructions: Arc<String>,
    /// The level a legacy session chose with `logging/setLevel` (one per session).
    log_level: SessionLevel,
    /// Tool calls running as MCP tasks (`tasks.rs`), shared by every session, each
    /// readable only by the client that started it.
    tasks: Arc<rmcp::task_manager::TaskManager>,
    task_owners: Arc<crate::tasks::TaskOwners>,
}

impl DatabricksMcp {
    pub fn new(state: Arc<AppState>) -> DatabricksMcp {
        let options = SurfaceOptions {
            allow_writes: state.settings.allow_writes,
        };
        DatabricksMcp::with_all_tools(state, crate::tools::Registry::every(options))
    }

    /// The same, from every tool of the full surface built beforehand with the state's
    /// options ([`crate::tools::Registry::every`]; the binary builds them on a thread of
    /// their own while it starts: their JSON Schemas are the largest piece of start-up
    /// work).
    pub fn with_all_tools(state: Arc<AppState>, all: crate::tools::Registry) -> DatabricksMcp {
        let surfaces = Surfaces::from_all(
            all,
            SurfaceOptions {
                allow_writes: state.settings.allow_writes,
            },
            &state.settings.tools,
        );
        let instructions = instructions(&state, surfaces.full());
        DatabricksMcp {
            state,
            surfaces: Arc::new(surfaces),
            surface: Surface::Full,
            instructions: Arc::new(instructions),
            log_level: SessionLevel::default(),
            tasks: Arc::new(rmcp::task_manager::TaskManager::new()),
            task_owners: Arc::default(),
        }
    }

    /// The handler of a new session: shares everything but the session's log level.
    pub fn for_session(&self) -> DatabricksMcp {
        DatabricksMcp {
            log_level: SessionLevel::default(),
            ..self.clone()
        }
    }

    /// Serves `surface` by default (`serve --surface` over stdio).
    pub fn with_surface(mut self, surface: Surface) -> DatabricksMcp {
        self.surface = surface;
        self
    }

    /// Cancelling it cancels every call in flight (the stdio transport does on end of
    /// input).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// The full surface's registry.
    pub fn registry(&self) -> &Registry {
        self.surfaces.full()
    }

    /// Names of the tools of the static surfaces (`/mcp`, `/api/2.0/mcp/sql`,
    /// `/api/2.0/mcp/genie`) that are not read-only: an OAuth token needs the write scope
    /// to call them.
    pub fn write_tool_names(&self) -> Vec<String> {
        self.surfaces
            .full()
            .iter()
            .chain(self.surfaces.sql().iter())
            .chain(self.surfaces.genie_one().iter())
            .filter(|t| !t.is_read_only())
            .map(|t| t.name().to_string())
            .collect()
    }

    /// The default surface of this server.
    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    /// The tools of `surface` (computed from the workspace for the managed ones).
    pub async fn tools_of(&self, surface: &Surface) -> Result<Vec<Tool>, McpError> {
        Ok(self
            .surfaces
            .registry(&self.state, surface)
            .await
            .map_err(surface_error)?
            .list())
    }

    /// The surface a request is for: its route's, else this server's.
    fn surface_of(&self, context: &RequestContext<RoleServer>) -> Surface {
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Surface>())
            .cloned()
            .unwrap_or_else(|| self.surface.clone())
    }

    /// The tool `name` of `surface`; a name the cached list lacks refreshes it once.
    async fn find_tool(&self, surface: &Surface, name: &str) -> Result<ToolDef, McpError> {
        let registry = self
            .surfaces
            .registry(&self.state, surface)
            .await
            .map_err(surface_error)?;
        if let Some(def) = registry.get(name) {
            return Ok(def.clone());
        }
        if matches!(surface, Surface::Full | Surface::Sql | Surface::GenieOne) {
            return Err(unknown_tool(name));
        }
        let registry = self
            .surfaces
            .refreshed(&self.state, surface)
            .await
            .map_err(surface_error)?;
        registry
            .get(name)
            .cloned()
            .ok_or_else(|| unknown_tool(name))
    }

    /// The full surface also offers resources, prompts and completions; the managed
    /// surfaces offer tools only, as Databricks' own do, but for the SQL route's one
    /// resource: the result view its tools link (MCP Apps: a linked view must exist on
    /// the server, and hosts read it with `resources/read`).
    #[allow(deprecated)] // the logging capability: clients still use it
    fn info_for(&self, surface: &Surface) -> ServerConfig {
        let capabilities = if matches!(surface, Surface::Full) {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_completions()
                .enable_logging()
                .enable_tasks()
                .build()
        } else if matches!(surface, Surface::Sql) {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_logging()
                .build()
        } else {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build()
        };
        let mut capabilities = capabilities;
        if matches!(surface, Surface::Full | Surface::Sql) {
            // MCP Apps: hosts that look for the extension before reading tools' `_meta.ui`
            // learn here that this server has a view (the SQL tools link it).
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .insert(
                    crate::view::EXTENSION_ID.to_string(),
                    crate::view::extension_settings(),
                );
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(SERVER_NAME, SERVER_VERSION)
                    .with_title("Databricks MCP server"),
            )
            .with_instructions(surface.instructions(&self.instructions))
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The context of a request that reads the workspace outside a tool (resources,
    /// prompts, completions): cancelled with the request or the server.
    fn request_context(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> (CallContext, tokio_util::sync::DropGuard) {
        let cancel = self.state.shutdown.child_token();
        let guard = cancel.clone().drop_guard();
        let (request_ct, linked) = (context.ct.clone(), cancel.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = request_ct.cancelled() => linked.cancel(),
                () = linked.cancelled() => {}
            }
        });
        let ctx = CallContext::new(self.state.clone(), Map::new(), cancel)
            .with_log(crate::logging::sink_for(context, &self.log_level));
        (ctx, guard)
    }

    /// Resources, prompts and completions exist on the full surface only.
    fn require_full_surface(
        &self,
        context: &RequestContext<RoleServer>,
        what: &str,
    ) -> Result<(), McpError> {
        if matches!(self.surface_of(context), Surface::Full) {
            Ok(())
        } else {
            Err(McpError::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!("{what} are served on the /mcp endpoint only; this route serves tools"),
                None,
            ))
        }
    }

    /// Runs one tool outside any MCP session (the `call` command): same registry, same
    /// validation, same error mapping.
    pub async fn call_direct(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        meta: Map<String, Value>,
    ) -> Result<rmcp::model::CallToolResult, McpError> {
        let def = match self.find_tool(&self.surface, name).await {
            Ok(def) => def,
            Err(e) => match self.gated_write(&self.surface, name) {
                Some(refusal) => return Ok(refusal.into_result()),
                None => return Err(e),
            },
        };
        let ctx = CallContext::new(self.state.clone(), meta, CancellationToken::new())
            .with_channel(crate::confirm::Channel::for_command_line(), "cli".into());
        Ok(def.call(ctx, arguments).await)
    }

    /// Runs one tool for the in-process chat: `cancel` cancels it (and its statement
    /// upstream); writes are confirmed on the terminal.
    pub async fn call_cancellable(
        &self,
        name: &str,
        arguments: rmcp::model::JsonObject,
        cancel: CancellationToken,
    ) -> Result<rmcp::model::CallToolResult, McpError> {
        let def = match self.find_tool(&self.surface, name).await {
            Ok(def) => def,
            Err(e) => match self.gated_write(&self.surface, name) {
                Some(refusal) => return Ok(refusal.into_result()),
                None => return Err(e),
            },
        };
        let ctx = CallContext::new(self.state.clone(), Map::new(), cancel)
            .with_channel(crate::confirm::Channel::for_command_line(), "chat".into());
        Ok(def.call(ctx, Some(arguments)).await)
    }

    /// The refusal of a write tool called by name on a read-only server: it exists, but
    /// only the operator can enable it.
    fn gated_write(&self, surface: &Surface, name: &str) -> Option<crate::error::ToolError> {
        if !matches!(surface, Surface::Full) || !self.surfaces.is_gated_write(name) {
            return None;
        }
        Some(crate::error::ToolError::new(format!(
            "{name} changes the workspace, and this server is read-only: the operator must restart it with --allow-writes (or DATABRICKS_MCP_ALLOW_WRITES=true) to enable it. No tool argument can change that."
        )))
    }
}

/// How a write in this call can be confirmed by the person: elicitation the way the
/// request's protocol revision does it, when the client declared it.
fn confirmation_channel(
    context: &RequestContext<RoleServer>,
    modern: bool,
    request: &CallToolRequestParams,
) -> crate::confirm::Channel {
    use crate::confirm::Channel;
    let can_elicit = context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    match (can_elicit, modern) {
        (false, _) => Channel::Code,
        (true, true) => Channel::Rounds {
            responses: request.input_responses.clone(),
            state: request.request_state.clone(),
        },
        (true, false) => Channel::Elicit(context.peer.clone()),
    }
}

/// Who is calling, for the audit log and to bind confirmation codes: the HTTP client's
/// identity (never a secret), or `stdio`.
fn client_label(context: &RequestContext<RoleServer>) -> String {
    use crate::http_auth::ClientKey;
    match client_key(context) {
        None => "stdio".into(),
        Some(ClientKey::Token(i)) => format!("http token #{}", i + 1),
        Some(ClientKey::Subject(digest)) => format!(
            "oauth subject {}",
            digest
                .iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        Some(ClientKey::Address(ip)) => format!("http {ip}"),
        Some(ClientKey::Anonymous) => "http".into(),
    }
}

/// The HTTP client's identity (the guard put it in the request), `None` over stdio.
fn client_key(context: &RequestContext<RoleServer>) -> Option<crate::http_auth::ClientKey> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<crate::http_auth::ClientKey>())
        .copied()
}

fn surface_error(e: SurfaceError) -> McpError {
    match e {
        SurfaceError::Upstream(m) => McpError::internal_error(
            format!("cannot compute the tool list of this route: {m}"),
            None,
        ),
        other => McpError::invalid_params(format!("this route serves no tools: {other}"), None),
    }
}

fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(
        format!("unknown tool {name:?}: call tools/list to see the tools this server offers"),
        None,
    )
}

/// Short guidance for the model: what this server is, the mode, and how to start with
/// the tools actually served (the operator may serve only some toolsets).
fn instructions(state: &AppState, registry: &Registry) -> String {
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
    let workspace = match &state.local {
        Some(local) => format!(
            "The embedded local workspace in {} (no Databricks account configured: DataFusion + Delta Lake on this machine, with TPC-H sample data in samples.tpch; one warehouse, the local engine)",
            local.dir.display()
        ),
        None => format!("Databricks workspace {host}"),
    };
    let has = |name: &str| registry.get(name).is_some();
    let mut guide = Vec::new();
    if has("list_catalogs") && has("run_sql_query") {
        guide.push("To explore data: list_catalogs → list_schemas → list_tables → get_table_schema, then run_sql_query with three-part names (catalog.schema.table).".to_string());
    }
    guide.push("Answers are CSV or compact tables capped in rows and characters; they say how to get more (cursor for lists, get_sql_result with statement_id and offset for SQL).".to_string());
    if has("get_sql_result") {
        guide.push(
            "A slow query returns its statement_id instead of failing: poll it with get_sql_result."
                .to_string(),
        );
    }
    let toolsets: Vec<String> = registry
        .toolsets()
        .into_iter()
        .map(|toolset| {
            let names: Vec<&str> = registry
                .iter()
                .filter(|t| t.toolset == toolset)
                .map(|t| t.name())
                .collect();
            format!(
                "{} ({}): {}",
                toolset.name(),
                toolset.purpose(),
                names.join(", ")
            )
        })
        .collect();
    format!(
        "{workspace}. {mode} {} Tools by toolset — {}.",
        guide.join(" "),
        toolsets.join("; ")
    )
}

impl ServerHandler for DatabricksMcp {
    fn get_info(&self) -> ServerConfig {
        self.info_for(&self.surface)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        let mut result = self.negotiate_initialize(&request)?;
        // The session speaks the negotiated version, never the requested one: a client
        // that initializes again mid-session asking for a version we do not know (found
        // by fuzzing) must not switch the session to rules it cannot follow.
        let mut peer_info = request;
        peer_info.protocol_version = result.protocol_version.clone();
        context.peer.set_peer_info(peer_info);
        result.instructions = Some(self.surface_of(&context).instructions(&self.instructions));
        Ok(result)
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, McpError> {
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.info_for(&self.surface_of(&context)),
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let surface = self.surface_of(&context);
        Ok(ListToolsResult::with_all_items(
            self.tools_of(&surface).await?,
        ))
    }

    /// Used by rmcp to validate `Mcp-Param-*` headers; only the static surfaces are
    /// known without a request (the computed ones skip that validation).
    fn get_tool(&self, name: &str) -> Option<Tool> {
        match &self.surface {
            Surface::Full => self.surfaces.full().get(name).map(|t| t.tool.clone()),
            _ => None,
        }
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let surface = self.surface_of(&context);
        let def = match self.find_tool(&surface, &request.name).await {
            Ok(def) => def,
            Err(e) => match self.gated_write(&surface, &request.name) {
                Some(refusal) => return Ok(refusal.into_result().into()),
                None => return Err(e),
            },
        };
        // The HTTP guard already answered 403 for the static surfaces' write tools;
        // this also covers tools computed from the workspace (functions).
        if let Some(p) = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<crate::oauth::Principal>())
            && !p.may_write
            && !def.is_read_only()
        {
            return Ok(crate::error::ToolError::new(format!(
                "{} may change the workspace, and this client's access token lacks the {} scope: ask the authorization server for a token with it.",
                def.name(),
                p.write_scope
            ))
            .into_result()
            .into());
        }
        let progress_token = context.meta.get_progress_token();
        let meta: Map<String, Value> = context
            .meta
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // Cancelled by the client's cancel (rmcp's token) or by the server's shutdown; the
        // guard ends the linking task when the call ends.
        let cancel = self.state.shutdown.child_token();
        let _linked = cancel.clone().drop_guard();
        {
            let (request_ct, cancel) = (context.ct.clone(), cancel.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = request_ct.cancelled() => cancel.cancel(),
                    () = cancel.cancelled() => {}
                }
            });
        }
        // The extension is defined for 2026-07-28; a legacy session that lists it among
        // its capabilities (the Inspector does) gets plain results.
        let modern = context
            .protocol_version()
            .is_some_and(|v| v.as_str() >= rmcp::model::ProtocolVersion::V_2026_07_28.as_str());
        // Writes never run as tasks: their confirmation is asked within the call.
        if modern
            && !def.kind.needs_writes()
            && crate::tasks::runs_as_task(def.name())
            && context
                .client_capabilities()
                .is_some_and(|c| c.supports_tasks())
        {
            // A task outlives this request: only the server's shutdown and tasks/cancel
            // end it, and nothing is reported on a stream that may be closed.
            let cancel = self.state.shutdown.child_token();
            let ctx = CallContext::new(self.state.clone(), meta, cancel.clone());
            let response =
                crate::tasks::call_or_task(&self.tasks, def, ctx, cancel, request.arguments).await;
            if let CallToolResponse::Task(created) = &response {
                self.task_owners
                    .record(&self.tasks, &created.task.task_id, client_key(&context));
            }
            return Ok(response);
        }
        let log = crate::logging::sink_for(&context, &self.log_level);
        let ctx = CallContext::new(self.state.clone(), meta, cancel)
            .with_progress(context.peer.clone(), progress_token)
            .with_log(log.clone())
            .with_channel(
                confirmation_channel(&context, modern, &request),
                client_label(&context),
            );
        let started = std::time::Instant::now();
        let result = match log {
            Some(sink) => {
                databricks_client::events::observed(
                    sink.observer(),
                    def.call_response(ctx, request.arguments),
                )
                .await
            }
            None => def.call_response(ctx, request.arguments).await,
        };
        tracing::info!(
            surface = %surface.route(),
            tool = %request.name,
            is_error = matches!(&result, CallToolResponse::Complete(r) if r.is_error == Some(true)),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "tool call"
        );
        Ok(result)
    }

    #[allow(deprecated)] // logging/setLevel: legacy sessions still use it
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.log_level.set(request.level);
        Ok(())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        if matches!(self.surface_of(&context), Surface::Sql) {
            return Ok(ListResourcesResult::with_all_items(vec![
                crate::view::resource(),
            ]));
        }
        self.require_full_surface(&context, "resources")?;
        let (ctx, _guard) = self.request_context(&context);
        let cursor = request.as_ref().and_then(|r| r.cursor.as_deref());
        crate::resources::list(&ctx, cursor).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        if matches!(self.surface_of(&context), Surface::Sql) {
            return Ok(ListResourceTemplatesResult::with_all_items(Vec::new()));
        }
        self.require_full_surface(&context, "resources")?;
        Ok(crate::resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if matches!(self.surface_of(&context), Surface::Sql) {
            if !request.uri.starts_with("ui://") {
                return Err(McpError::invalid_params(
                    format!(
                        "this route serves one resource, {}; databricks:// resources are served on the /mcp endpoint",
                        crate::view::URI
                    ),
                    None,
                ));
            }
            return Ok(crate::resources::read_ui(&request.uri)?.into());
        }
        self.require_full_surface(&context, "resources")?;
        let (ctx, _guard) = self.request_context(&context);
        Ok(crate::resources::read(&ctx, &request.uri).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        self.require_full_surface(&context, "prompts")?;
        Ok(ListPromptsResult::with_all_items(crate::prompts::list(
            self.surfaces.full(),
        )))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        self.require_full_surface(&context, "prompts")?;
        let (ctx, _guard) = self.request_context(&context);
        let prompt = crate::prompts::get(
            &ctx,
            self.surfaces.full(),
            &request.name,
            request.arguments.as_ref(),
        )
        .await?;
        Ok(prompt.into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        self.require_full_surface(&context, "completions")?;
        let (ctx, _guard) = self.request_context(&context);
        Ok(CompleteResult::new(
            crate::completion::complete(&ctx, &request).await?,
        ))
    }

    async fn get_task(
        &self,
        request: rmcp::model::GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetTaskResult, McpError> {
        self.task_owners
            .check(&request.task_id, client_key(&context))?;
        Ok(rmcp::model::GetTaskResult::new(
            self.tasks.get_task(&request.task_id)?,
        ))
    }

    async fn update_task(
        &self,
        request: rmcp::model::UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.task_owners
            .check(&request.task_id, client_key(&context))?;
        self.tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: rmcp::model::CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.task_owners
            .check(&request.task_id, client_key(&context))?;
        self.tasks.cancel_task(&request.task_id)
    }
}
