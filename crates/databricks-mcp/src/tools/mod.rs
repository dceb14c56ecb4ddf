//! The tool registry: tools are data (name, description, schemas, annotations, toolset,
//! handler), declared once per toolset module and listed in one ordered table.
//!
//! Handlers take typed arguments. Arguments that do not match the schema become an
//! `isError` tool result naming the problem (MCP 2025-11-25: input validation errors are
//! tool errors, so the model can correct itself); only an unknown tool name is a
//! protocol error.

pub mod catalog;
pub mod compute;
pub mod files;
pub mod functions;
pub mod genie;
pub mod genie_one;
pub mod history;
pub mod jobs;
pub mod managed_sql;
pub mod page;
pub mod pipelines;
pub mod runs;
pub mod serving;
pub mod sql;
pub mod vector_search;
pub mod workspace;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock as Content, JsonObject, Tool, ToolAnnotations,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::context::CallContext;
use crate::error::ToolError;

pub use page::{Field, ListPage, ListSpec, PageArgs, next_page_hint, values};

/// Largest `arguments` object accepted, serialized: Databricks' 16 MiB statement limit plus
/// room for JSON escapes and the other arguments. A bigger payload is refused before any
/// work.
pub const MAX_ARGUMENTS_BYTES: usize = 17 * 1024 * 1024;

/// Tool groups, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Toolset {
    Sql,
    Catalog,
    Jobs,
    Compute,
    Pipelines,
    Workspace,
    Files,
    VectorSearch,
    Genie,
    Functions,
    Serving,
}

impl Toolset {
    /// Every toolset, in listing order.
    pub const ALL: [Toolset; 11] = [
        Toolset::Sql,
        Toolset::Catalog,
        Toolset::Jobs,
        Toolset::Compute,
        Toolset::Pipelines,
        Toolset::Workspace,
        Toolset::Files,
        Toolset::VectorSearch,
        Toolset::Genie,
        Toolset::Functions,
        Toolset::Serving,
    ];

    /// Whether the toolset is served without `--toolsets`. Genie, Vector Search and
    /// Serving are not: they need spaces, indexes and endpoints many workspaces do not
    /// have (the managed routes serve the first two anyway), and every tool listed costs
    /// the model context.
    pub fn on_by_default(self) -> bool {
        !matches!(
            self,
            Toolset::VectorSearch | Toolset::Genie | Toolset::Serving
        )
    }

    /// The toolset called `name` (as `--toolsets` spells it).
    pub fn parse(name: &str) -> Option<Toolset> {
        Toolset::ALL.into_iter().find(|t| t.name() == name.trim())
    }

    /// What the toolset is for, in a phrase (server instructions, `tools`).
    pub fn purpose(self) -> &'static str {
        match self {
            Toolset::Sql => "run SQL on a warehouse and page through results",
            Toolset::Catalog => "browse Unity Catalog: catalogs, schemas, tables, columns",
            Toolset::Jobs => "jobs and their runs",
            Toolset::Compute => "clusters and SQL warehouses",
            Toolset::Pipelines => "Lakeflow Declarative (DLT) pipelines",
            Toolset::Workspace => "notebooks and files of the workspace",
            Toolset::Files => "Unity Catalog volumes and their files",
            Toolset::VectorSearch => "Vector Search endpoints, indexes and queries",
            Toolset::Genie => "ask Genie spaces in natural language",
            Toolset::Functions => "call Unity Catalog functions",
            Toolset::Serving => "Model Serving endpoints: list and query models",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Toolset::Sql => "sql",
            Toolset::Catalog => "catalog",
            Toolset::Jobs => "jobs",
            Toolset::Compute => "compute",
            Toolset::Pipelines => "pipelines",
            Toolset::Workspace => "workspace",
            Toolset::Files => "files",
            Toolset::VectorSearch => "vector_search",
            Toolset::Genie => "genie",
            Toolset::Functions => "functions",
            Toolset::Serving => "serving",
        }
    }
}

/// What a successful tool call produces: compact text for the model and the same data
/// as JSON for programs.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub text: String,
    pub structured: Option<Value>,
}

impl ToolOutput {
    pub fn new(text: impl Into<String>, structured: Value) -> ToolOutput {
        ToolOutput {
            text: text.into(),
            structured: Some(structured),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
type Handler =
    Arc<dyn Fn(CallContext, JsonObject) -> BoxFuture<Result<ToolOutput, ToolError>> + Send + Sync>;

/// What a tool does. All four annotation hints follow from it, so no tool spells them
/// out, and the registry serves [`ToolKind::Action`] tools only when the operator
/// enabled writes (one gate for SQL writes and every tool that changes the workspace).
///
/// `openWorldHint` is false unless said otherwise: a tool's domain is the configured
/// workspace, not an open set of external entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Lists objects of the workspace, a page at a time.
    ReadList,
    /// Reads one object, or runs a read-only query.
    ReadGet,
    /// Asks a question: changes no data, but each call leaves a trace (a Genie
    /// conversation), so a repeat is not a no-op.
    ReadAsk,
    /// Stops work the caller started (a Genie One turn): changes no data, so it is served
    /// without `--allow-writes`, but it is not read-only either.
    Stop,
    /// Changes the workspace; served only with `--allow-writes`.
    Action { destructive: bool, idempotent: bool },
    /// Runs a Unity Catalog function: read-only when its body is SQL; another body
    /// (Python) may reach outside the workspace.
    Function { sql_body: bool, deterministic: bool },
}

/// The four MCP annotation hints of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl ToolKind {
    pub fn hints(self) -> Hints {
        let read = |idempotent| Hints {
            read_only: true,
            destructive: false,
            idempotent,
            open_world: false,
        };
        match self {
            ToolKind::ReadList | ToolKind::ReadGet => read(true),
            ToolKind::ReadAsk => read(false),
            ToolKind::Stop => Hints {
                read_only: false,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            ToolKind::Action {
                destructive,
                idempotent,
            } => Hints {
                read_only: false,
                destructive,
                idempotent,
                open_world: false,
            },
            ToolKind::Function {
                sql_body,
                deterministic,
            } => Hints {
                read_only: sql_body,
                destructive: false,
                idempotent: deterministic,
                open_world: !sql_body,
            },
        }
    }

    /// Whether the tool is served only when the operator enabled writes.
    pub fn needs_writes(self) -> bool {
        matches!(self, ToolKind::Action { .. })
    }

    /// The hints; the title is the tool's own `title`, not repeated here.
    fn annotations(self) -> ToolAnnotations {
        let h = self.hints();
        ToolAnnotations::new()
            .read_only(h.read_only)
            .destructive(h.destructive)
            .idempotent(h.idempotent)
            .open_world(h.open_world)
    }
}

#[derive(Clone)]
pub struct ToolDef {
    pub tool: Tool,
    pub toolset: Toolset,
    pub kind: ToolKind,
    /// The schema of its `structuredContent`, advertised as `outputSchema` or not (a list
    /// page's is pinned by tests, not sent: see [`ToolDef::list`]).
    pub structured: Option<Arc<JsonObject>>,
    handler: Handler,
}

impl ToolDef {
    /// Declares a tool whose arguments deserialize into `A` (its JSON Schema becomes the
    /// input schema; doc comments become property descriptions).
    pub fn new<A, F, Fut>(
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
        toolset: Toolset,
        kind: ToolKind,
        handler: F,
    ) -> ToolDef
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(CallContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        let name: String = name.into();
        let schema = rmcp::handler::server::common::schema_for_type::<A>();
        let handler = Arc::new(handler);
        let tool_name = name.clone();
        ToolDef::with_schema(
            name,
            title,
            description,
            toolset,
            kind,
            schema,
            move |ctx, args: JsonObject| {
                let handler = handler.clone();
                let tool_name = tool_name.clone();
                async move {
                    let args: A = serde_json::from_value(Value::Object(args))
                        .map_err(|e| ToolError::invalid_arguments(&tool_name, &e))?;
                    handler(ctx, args).await
                }
            },
        )
    }

    /// Declares a tool with an explicit input schema whose handler validates the raw
    /// `arguments` object itself (tools generated from workspace metadata, such as one
    /// tool per Unity Catalog function).
    pub fn with_schema<F, Fut>(
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
        toolset: Toolset,
        kind: ToolKind,
        input_schema: Arc<JsonObject>,
        handler: F,
    ) -> ToolDef
    where
        F: Fn(CallContext, JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        let title: String = title.into();
        let description: String = description.into();
        let mut input_schema = portable_schema(&input_schema);
        if kind.needs_writes() {
            input_schema = with_confirmation_code(&input_schema);
        }
        let annotations = kind.annotations();
        let tool = Tool::new(name.into(), description, input_schema)
            .with_title(title)
            .with_annotations(annotations);
        let handler = Arc::new(handler);
        ToolDef {
            tool,
            toolset,
            kind,
            structured: None,
            handler: Arc::new(move |ctx, args| {
                let handler = handler.clone();
                Box::pin(async move { handler(ctx, args).await })
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.tool.name
    }

    /// Leaves `confirmation_code` out of the published input schema (a surface that must
    /// keep another server's exact schema); the argument is still accepted.
    pub fn without_code_argument(mut self) -> ToolDef {
        let mut schema = self.tool.input_schema.as_ref().clone();
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            properties.remove(crate::confirm::CODE_ARGUMENT);
        }
        self.tool.input_schema = Arc::new(schema);
        self
    }

    /// `name(required, …, optional?, …)`: the arguments at a glance (`tools`, README).
    pub fn signature(&self) -> String {
        let schema = &self.tool.input_schema;
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut params: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .map(|k| match required.contains(&k.as_str()) {
                        true => k.clone(),
                        false => format!("{k}?"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        params.sort_by_key(|p| p.ends_with('?'));
        format!("{}({})", self.name(), params.join(", "))
    }

    /// Whether the tool is read-only (`readOnlyHint: true`); others may change the
    /// workspace.
    pub fn is_read_only(&self) -> bool {
        self.kind.hints().read_only
    }

    /// Declares the tool's `outputSchema`: its `structuredContent` is always a `T`. The
    /// schema is for programs, so it goes without descriptions (the type's doc comments
    /// say what each field means); the model reads the text answer. It is shallow (see
    /// [`shallow_schema`]): clients validate every result against it.
    pub fn with_output_schema<T: JsonSchema + 'static>(mut self) -> ToolDef {
        // One copy of rmcp's cached schema, rewritten in place.
        let generated = rmcp::handler::server::common::schema_for_output::<T>();
        let mut value = Value::Object(generated.as_ref().clone());
        make_root_portable(&mut value);
        strip_descriptions(&mut value);
        shallow_schema(&mut value);
        let schema = match value {
            Value::Object(object) => Arc::new(object),
            // Never: every step keeps the root an object.
            _ => generated,
        };
        self.structured = Some(schema.clone());
        self.tool.output_schema = Some(schema);
        self
    }

    /// Declares a list tool: its name comes from `spec`, its kind is
    /// [`ToolKind::ReadList`]. Its `structuredContent` follows the spec's schema, which is
    /// not advertised as `outputSchema`: items are the API's objects, untyped, so it would
    /// tell a program little and cost every model context (the default `tools/list` is
    /// kept within 22 KB); tests check the content against it.
    pub fn list<A, F, Fut>(
        spec: &ListSpec,
        title: impl Into<String>,
        description: impl Into<String>,
        toolset: Toolset,
        handler: F,
    ) -> ToolDef
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(CallContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        ToolDef::new(
            spec.tool,
            title,
            description,
            toolset,
            ToolKind::ReadList,
            handler,
        )
        .with_structured(spec.output_schema())
    }

    /// Links the tool to the result view (MCP Apps): hosts that render apps show its
    /// result as a table and a chart; the text answer is unchanged for the others.
    pub fn with_view(mut self) -> ToolDef {
        self.tool.meta = Some(crate::view::tool_meta());
        self
    }

    fn with_structured(mut self, schema: JsonObject) -> ToolDef {
        self.structured = Some(Arc::new(schema));
        self
    }

    /// Runs the tool where no input can be asked for (tasks, the `call` command); every
    /// failure becomes an `isError` result with actionable text.
    pub async fn call(&self, ctx: CallContext, arguments: Option<JsonObject>) -> CallToolResult {
        match self.call_response(ctx, arguments).await {
            CallToolResponse::Complete(result) => result,
            _ => ToolError::new(format!(
                "{} needs the person's confirmation, which cannot be asked for here",
                self.name()
            ))
            .into_result(),
        }
    }

    /// Runs the tool for a `tools/call`: its result, or (a write on a 2026-07-28 request)
    /// the `input_required` round that asks the person. Write attempts go to the audit
    /// log.
    pub async fn call_response(
        &self,
        mut ctx: CallContext,
        arguments: Option<JsonObject>,
    ) -> CallToolResponse {
        let mut arguments = arguments.unwrap_or_default();
        if self.kind.needs_writes() {
            // The code is the confirmation's, not the handler's: what it confirms is the
            // rest of the arguments.
            ctx.write.code = match arguments.remove(crate::confirm::CODE_ARGUMENT) {
                Some(Value::String(code)) if !code.trim().is_empty() => Some(code),
                _ => None,
            };
            ctx.write.tool = self.name().to_string();
            ctx.write.arguments = arguments.clone();
        }
        let write = ctx.write.clone();
        let state = ctx.state.clone();
        let response = self.run(ctx, arguments).await;
        if self.kind.needs_writes() {
            audit(&state, &write, &response);
        }
        response
    }

    async fn run(&self, ctx: CallContext, arguments: JsonObject) -> CallToolResponse {
        let size = serde_json::to_vec(&arguments)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > MAX_ARGUMENTS_BYTES {
            return ToolError::new(format!(
                "the arguments of {} are {:.1} MiB; the limit is {} MiB (Databricks accepts \
                 statements up to 16 MiB). Send a shorter text.",
                self.name(),
                size as f64 / (1024.0 * 1024.0),
                MAX_ARGUMENTS_BYTES / (1024 * 1024)
            ))
            .into_response();
        }
        let state = ctx.state.clone();
        match (self.handler)(ctx, arguments).await {
            Ok(out) => {
                let mut result = CallToolResult::success(vec![Content::text(out.text)]);
                result.structured_content = out.structured;
                result.into()
            }
            Err(e) if !e.is_failure() => e.into_response(),
            Err(e) => {
                let count = state.failures.record(e.kind());
                let kind = crate::error::kind_label(e.kind());
                if e.kind().is_some() {
                    tracing::warn!(tool = %self.name(), kind, count, "tool failed: Databricks call");
                } else {
                    tracing::debug!(tool = %self.name(), kind, count, "tool failed");
                }
                e.into_response()
            }
        }
    }
}

/// The audit line of a write tool's call. A SQL call is audited only when it was a write
/// (it asked for a confirmation): reads are not write attempts.
fn audit(
    state: &crate::state::AppState,
    write: &crate::confirm::WriteCall,
    response: &CallToolResponse,
) {
    let Some(log) = &state.writes.audit else {
        return;
    };
    let record = write.recorded();
    if write.tool == "run_sql_query" && record.confirmation.is_none() {
        return;
    }
    let (outcome, message) = match response {
        CallToolResponse::Complete(r) if r.is_error == Some(true) => {
            (crate::audit::Outcome::Failed, first_text(r))
        }
        CallToolResponse::Complete(r) if record.confirmation.is_some_and(is_held_back) => {
            (crate::audit::Outcome::NotDone, first_text(r))
        }
        CallToolResponse::Complete(_) => (crate::audit::Outcome::Done, None),
        _ => (crate::audit::Outcome::NotDone, None),
    };
    log.record(&crate::audit::Entry {
        tool: &write.tool,
        arguments: &write.arguments,
        client: &write.client,
        record,
        outcome,
        message: message.as_deref(),
    });
}

/// Confirmation outcomes after which nothing was done.
fn is_held_back(confirmation: &str) -> bool {
    matches!(
        confirmation,
        "declined" | "cancelled" | "code_issued" | "asked" | "unavailable"
    )
}

fn first_text(result: &CallToolResult) -> Option<String> {
    result
        .content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.clone()))
}

/// Adds the optional `confirmation_code` argument of the code flow to a write tool's
/// input schema.
fn with_confirmation_code(schema: &JsonObject) -> Arc<JsonObject> {
    let mut schema = schema.clone();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert(
            crate::confirm::CODE_ARGUMENT.to_string(),
            json!({
                "type": "string",
                "description": "Only when an earlier call answered with a confirmation code: the code, after the user agreed."
            }),
        );
    }
    Arc::new(schema)
}

/// A schema every client accepts (MCP Inspector `--strict`, single-type dialects such as
/// Gemini's function declarations): an optional value is a plain type that may be absent,
/// never `["string", "null"]` or `anyOf [.., {"type": "null"}]` (so outputs leave `None`
/// fields out rather than writing `null`), and no bare `true` element schema.
///
/// It is also lean, since every client puts the tool list in the model's context: no
/// `$schema` (2020-12 is the default dialect), no root `title` (the Rust type's name),
/// no `format` of Rust integer widths (`uint32`, `int64`: not JSON Schema formats).
pub fn portable_schema(schema: &JsonObject) -> Arc<JsonObject> {
    let mut value = Value::Object(schema.clone());
    make_root_portable(&mut value);
    match value {
        Value::Object(object) => Arc::new(object),
        _ => Arc::new(schema.clone()),
    }
}

/// [`portable_schema`] in place, for a schema's root.
fn make_root_portable(value: &mut Value) {
    if let Value::Object(root) = value {
        root.remove("title");
    }
    make_portable(value);
}

fn make_portable(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("$schema");
            if object
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(is_rust_number_format)
            {
                object.remove("format");
            }
            let mut nullable = Vec::new();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if strip_null(property) {
                        nullable.push(name.clone());
                    }
                }
            }
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.retain(|r| !nullable.iter().any(|n| r == n));
            }
            for (key, child) in object.iter_mut() {
                // `additionalProperties: false` (unknown arguments refused) is understood
                // everywhere; a bare `true` element schema is not.
                if key == "items" && child == &Value::Bool(true) {
                    *child = Value::Object(Default::default());
                }
                // An array element may be null (a SQL NULL cell): it cannot be absent
                // instead, so a nullable element keeps its null as an `anyOf` branch of
                // single types (no type array).
                if key == "items" {
                    split_type_union(child);
                }
                make_portable(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(make_portable),
        _ => {}
    }
}

/// `{"type": ["string", "null"], …}` → `{"anyOf": [{"type": "string"}, {"type": "null"}], …}`.
fn split_type_union(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        object.remove("type");
        let branches: Vec<Value> = types.into_iter().map(|t| json!({"type": t})).collect();
        object.insert("anyOf".to_string(), Value::Array(branches));
    }
}

/// Cuts an object schema down to its top-level fields and their JSON types: no `$defs`,
/// `$ref`, `anyOf` or bounds, nested arrays and objects typed only as such. Clients
/// validate every result against the `outputSchema`, and the official Python SDK 1.x
/// checks the schema itself each time (cost grows with every subschema: 7.4 ms for the
/// full `run_sql_query` schema, 3.5 ms for this one, 0.3 ms for `{"type":"object"}`); the
/// fields' meaning is in the tool's documentation and the text answer.
fn shallow_schema(root: &mut Value) {
    let Value::Object(object) = root else {
        return;
    };
    let defs = object.remove("$defs");
    let Some(Value::Object(properties)) = object.get_mut("properties") else {
        return;
    };
    for property in properties.values_mut() {
        let resolved = match property.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .strip_prefix("#/$defs/")
                .and_then(|name| defs.as_ref()?.get(name))
                .cloned()
                .unwrap_or(Value::Null),
            None => property.clone(),
        };
        *property = match json_types(&resolved) {
            Some(types) => json!({ "type": types }),
            None => json!({}),
        };
    }
}

/// The JSON type(s) a schema allows: its `type`, or the union of an `anyOf` of typed
/// schemas; `None` when it cannot be said simply.
fn json_types(schema: &Value) -> Option<Value> {
    if let Some(t) = schema.get("type") {
        return Some(t.clone());
    }
    let branches = schema.get("anyOf")?.as_array()?;
    let mut types = Vec::new();
    for branch in branches {
        match branch.get("type")? {
            Value::String(t) => types.push(Value::String(t.clone())),
            Value::Array(ts) => types.extend(ts.iter().cloned()),
            _ => return None,
        }
    }
    Some(match types.len() {
        1 => types.remove(0),
        _ => Value::Array(types),
    })
}

/// Removes every `description` of a schema (a property named `description` stays).
fn strip_descriptions(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("description");
            for (key, child) in object.iter_mut() {
                if key == "properties"
                    && let Value::Object(properties) = child
                {
                    properties.values_mut().for_each(strip_descriptions);
                } else {
                    strip_descriptions(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

/// The `format`s schemars writes for Rust number types; they are not JSON Schema formats
/// and no client validates them.
fn is_rust_number_format(format: &str) -> bool {
    matches!(
        format,
        "int8"
            | "int16"
            | "int32"
            | "int64"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uint"
            | "int"
            | "float"
            | "double"
    )
}

/// Removes `null` from a schema's type, or its `{"type": "null"}` alternative; true when it
/// did.
fn strip_null(schema: &mut Value) -> bool {
    let Value::Object(object) = schema else {
        return false;
    };
    let mut stripped = false;
    if let Some(Value::Array(types)) = object.get_mut("type") {
        let before = types.len();
        types.retain(|t| t != "null");
        stripped = types.len() != before;
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".to_string(), only);
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(alternatives)) = object.get_mut(key) else {
            continue;
        };
        let before = alternatives.len();
        alternatives.retain(|a| a.get("type") != Some(&Value::String("null".to_string())));
        if alternatives.len() == before {
            continue;
        }
        stripped = true;
        if let [only] = alternatives.as_slice() {
            let only = only.clone();
            object.remove(key);
            if let Value::Object(inner) = only {
                for (k, v) in inner {
                    object.entry(k).or_insert(v);
                }
            }
        }
    }
    if object.get("default") == Some(&Value::Null) {
        object.remove("default");
    }
    stripped
}

/// Which tools of the full surface the operator serves (`--toolsets`, `--tools`): a tool
/// is served when its toolset or its name is selected; with neither option, every tool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolSelection {
    pub toolsets: Vec<Toolset>,
    pub tools: Vec<String>,
}

/// A `--toolsets` or `--tools` value that names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("unknown toolset {0:?}; the toolsets are: {1}")]
    UnknownToolset(String, String),
    #[error("unknown tool {0:?}; `databricks-mcp tools` lists them")]
    UnknownTool(String),
}

impl ToolSelection {
    /// Parses comma-separated lists; tool names are checked against the full surface.
    pub fn parse(toolsets: &[String], tools: &[String]) -> Result<ToolSelection, SelectionError> {
        let split = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let mut selection = ToolSelection::default();
        for name in split(toolsets) {
            if name == "all" {
                selection.toolsets = Toolset::ALL.to_vec();
                continue;
            }
            if name == "default" {
                for t in Toolset::ALL.into_iter().filter(|t| t.on_by_default()) {
                    if !selection.toolsets.contains(&t) {
                        selection.toolsets.push(t);
                    }
                }
                continue;
            }
            let toolset = Toolset::parse(&name).ok_or_else(|| {
                let all: Vec<&str> = Toolset::ALL.iter().map(|t| t.name()).collect();
                SelectionError::UnknownToolset(name.clone(), all.join(", "))
            })?;
            if !selection.toolsets.contains(&toolset) {
                selection.toolsets.push(toolset);
            }
        }
        let known = Registry::full(SurfaceOptions { allow_writes: true });
        for name in split(tools) {
            if known.get(&name).is_none() {
                return Err(SelectionError::UnknownTool(name));
            }
            if !selection.tools.contains(&name) {
                selection.tools.push(name);
            }
        }
        Ok(selection)
    }

    /// Every toolset (`--toolsets all`).
    pub fn all() -> ToolSelection {
        ToolSelection {
            toolsets: Toolset::ALL.to_vec(),
            tools: Vec::new(),
        }
    }

    /// Whether nothing was chosen: the toolsets that are on by default are served.
    pub fn is_default(&self) -> bool {
        self.toolsets.is_empty() && self.tools.is_empty()
    }

    pub fn allows(&self, def: &ToolDef) -> bool {
        if self.is_default() {
            return def.toolset.on_by_default();
        }
        self.toolsets.contains(&def.toolset) || self.tools.iter().any(|t| t == def.name())
    }
}

/// The ordered set of tools a server exposes.
#[derive(Clone)]
pub struct Registry {
    tools: Vec<ToolDef>,
}

/// Options that change the tool surface.
#[derive(Debug, Clone, Copy, Default)]
pub struct SurfaceOptions {
    pub allow_writes: bool,
}

impl Registry {
    /// Every tool of the full `/mcp` surface, in toolset then declaration order.
    pub fn full(options: SurfaceOptions) -> Registry {
        Registry::every(options).gate(options)
    }

    /// The same with the [`ToolKind::Action`] tools kept whatever the options (the
    /// options still shape some tools: `run_sql_query` runs writes only when allowed).
    pub fn every(options: SurfaceOptions) -> Registry {
        let mut tools = Vec::new();
        tools.extend(sql::tools(options));
        tools.extend(catalog::tools());
        tools.extend(history::tools());
        tools.extend(jobs::tools());
        tools.extend(compute::tools());
        tools.extend(pipelines::tools());
        tools.extend(workspace::tools());
        tools.extend(files::tools());
        tools.extend(vector_search::tools());
        tools.extend(genie::tools());
        tools.extend(serving::tools());
        tools.sort_by_key(|t| t.toolset);
        Registry { tools }
    }

    /// `tools` in this order, without the [`ToolKind::Action`] ones unless the operator
    /// enabled writes.
    pub fn gated(tools: Vec<ToolDef>, options: SurfaceOptions) -> Registry {
        Registry {
            tools: tools
                .into_iter()
                .filter(|t| options.allow_writes || !t.kind.needs_writes())
                .collect(),
        }
    }

    /// The same tools without the [`ToolKind::Action`] ones unless the operator enabled
    /// writes.
    pub fn gate(self, options: SurfaceOptions) -> Registry {
        Registry::gated(self.tools, options)
    }

    /// The tools `selection` allows, in the same order.
    pub fn select(self, selection: &ToolSelection) -> Registry {
        Registry {
            tools: self
                .tools
                .into_iter()
                .filter(|t| selection.allows(t))
                .collect(),
        }
    }

    /// The toolsets that have at least one tool here, in order.
    pub fn toolsets(&self) -> Vec<Toolset> {
        let mut sets: Vec<Toolset> = self.tools.iter().map(|t| t.toolset).collect();
        sets.dedup();
        sets
    }

    /// A registry of exactly these tools, in this order (the managed-compatible
    /// surfaces build theirs from workspace metadata).
    pub fn from_tools(tools: Vec<ToolDef>) -> Registry {
        Registry { tools }
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub fn list(&self) -> Vec<Tool> {
        self.tools.iter().map(|t| t.tool.clone()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name() == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ToolDef> {
        self.tools.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    struct NoArgs {}

    fn tool(name: &str, kind: ToolKind) -> ToolDef {
        ToolDef::new(
            name,
            name,
            "test",
            Toolset::Jobs,
            kind,
            |_, _: NoArgs| async { Err(ToolError::new("unused")) },
        )
    }

    #[test]
    fn kinds_derive_all_four_hints() {
        let h = ToolKind::ReadList.hints();
        assert!(h.read_only && !h.destructive && h.idempotent && !h.open_world);
        let h = ToolKind::ReadAsk.hints();
        assert!(h.read_only && !h.idempotent);
        let h = ToolKind::Action {
            destructive: true,
            idempotent: false,
        }
        .hints();
        assert!(!h.read_only && h.destructive && !h.idempotent && !h.open_world);
        let h = ToolKind::Function {
            sql_body: false,
            deterministic: true,
        }
        .hints();
        assert!(!h.read_only && !h.destructive && h.idempotent && h.open_world);
        let def = tool("t", ToolKind::ReadGet);
        let a = def.tool.annotations.clone().unwrap_or_default();
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (Some(true), Some(false), Some(true), Some(false))
        );
    }

    #[test]
    fn action_tools_are_served_only_with_writes() {
        let tools = || {
            vec![
                tool("read", ToolKind::ReadGet),
                tool(
                    "act",
                    ToolKind::Action {
                        destructive: false,
                        idempotent: true,
                    },
                ),
            ]
        };
        let names = |r: &Registry| r.iter().map(|t| t.name().to_string()).collect::<Vec<_>>();
        let read_only = Registry::gated(
            tools(),
            SurfaceOptions {
                allow_writes: false,
            },
        );
        assert_eq!(names(&read_only), vec!["read"]);
        let writes = Registry::gated(tools(), SurfaceOptions { allow_writes: true });
        assert_eq!(names(&writes), vec!["read", "act"]);
        // The full surface holds no action in read-only mode.
        let full = Registry::full(SurfaceOptions::default());
        assert!(full.iter().all(|t| !t.kind.needs_writes()));
    }
}
