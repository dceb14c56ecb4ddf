//! Tool surfaces: the full surface (`/mcp`) and the managed-server-compatible ones,
//! each at the path Databricks serves it under:
//!
//! | route | `--surface` (stdio) | tools |
//! |---|---|---|
//! | `/api/2.0/mcp/sql` | `sql` | `execute_sql`, `execute_sql_read_only`, `poll_sql_result` |
//! | `/api/2.0/mcp/vector-search/{catalog}/{schema}[/{index}]`, `/api/2.0/mcp/ai-search/…` (its new name) | `vector-search:` or `ai-search:CATALOG.SCHEMA[.INDEX]` | `{catalog}__{schema}__{index}(query)` per index |
//! | `/api/2.0/mcp/genie/{space_id}` | `genie:SPACE_ID` | `query_space_{id}`, `poll_response_{id}` |
//! | `/api/2.0/mcp/genie` (Genie One) | `genie-one` | `genie_ask`, `genie_poll_response`, `genie_get_query_result`, `genie_cancel_response` |
//! | `/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]` | `functions:CATALOG.SCHEMA[.FUNCTION]` | `{catalog}__{schema}__{function}(…)` per function |
//!
//! The vector-search, genie and functions surfaces are computed from the workspace
//! (list the schema's indexes or functions, read the space). **Caching:** a surface's
//! tool list is kept for [`TOOL_LIST_TTL`] (60 s) and shared by every client and
//! session (so `tools/list` is the same for everyone and costs the workspace one
//! listing a minute per surface, not one per client); concurrent first requests wait
//! for one listing. A `tools/call` naming a tool the cached list lacks refreshes the
//! list once (an index created a moment ago) if it is older than
//! [`REFRESH_ON_MISS_AFTER`]. Failed listings are not cached. At most
//! [`MAX_CACHED_SURFACES`] surfaces are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use databricks_client::ErrorKind;
use databricks_client::services::vector_search::MiniVectorIndex;

use crate::state::AppState;
use crate::tools::vector_search::{self, IndexCache};
use crate::tools::{
    Registry, SurfaceOptions, ToolSelection, functions, genie, genie_one, managed_sql,
};

/// How long a computed tool list is reused.
pub const TOOL_LIST_TTL: Duration = Duration::from_secs(60);

/// A call naming an unknown tool refreshes a list at least this old.
pub const REFRESH_ON_MISS_AFTER: Duration = Duration::from_secs(5);

/// Most computed surfaces kept in memory (route parameters come from clients).
pub const MAX_CACHED_SURFACES: usize = 256;

/// The route prefix of the managed-compatible surfaces.
pub const MANAGED_PREFIX: &str = "/api/2.0/mcp";

/// Which tools a request sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Surface {
    /// Every tool of this server (`/mcp`).
    Full,
    /// The managed Databricks SQL server.
    Sql,
    /// The managed Vector Search server of a schema, or of one index.
    VectorSearch {
        catalog: String,
        schema: String,
        index: Option<String>,
    },
    /// The managed Genie server of one space.
    Genie { space_id: String },
    /// The managed Genie One server: Genie over all the workspace's data.
    GenieOne,
    /// The managed Unity Catalog functions server of a schema, or of one function.
    Functions {
        catalog: String,
        schema: String,
        function: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurfaceError {
    #[error(
        "invalid surface {0:?}: expected sql, vector-search:CATALOG.SCHEMA[.INDEX] (or ai-search:…), genie:SPACE_ID, genie-one or functions:CATALOG.SCHEMA[.FUNCTION]"
    )]
    Spec(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Upstream(String),
}

fn name(what: &str, value: &str) -> Result<String, SurfaceError> {
    crate::tools::catalog::validate_name(what, value)
        .map_err(|e| SurfaceError::InvalidName(e.to_string()))
}

impl Surface {
    /// A vector-search surface from route parameters (validated).
    pub fn vector_search(
        catalog: &str,
        schema: &str,
        index: Option<&str>,
    ) -> Result<Surface, SurfaceError> {
        Ok(Surface::VectorSearch {
            catalog: name("catalog", catalog)?,
            schema: name("schema", schema)?,
            index: index.map(|i| name("index", i)).transpose()?,
        })
    }

    /// A functions surface from route parameters (validated).
    pub fn functions(
        catalog: &str,
        schema: &str,
        function: Option<&str>,
    ) -> Result<Surface, SurfaceError> {
        Ok(Surface::Functions {
            catalog: name("catalog", catalog)?,
            schema: name("schema", schema)?,
            function: function.map(|f| name("function", f)).transpose()?,
        })
    }

    /// A genie surface from a route parameter (validated).
    pub fn genie(space_id: &str) -> Result<Surface, SurfaceError> {
        Ok(Surface::Genie {
            space_id: genie::validate_id("space", space_id)
                .map_err(|e| SurfaceError::InvalidName(e.to_string()))?,
        })
    }

    /// Parses a `--surface` value: `full`, `sql`, `vector-search:CATALOG.SCHEMA[.INDEX]`,
    /// `genie:SPACE_ID`, `genie-one` or `functions:CATALOG.SCHEMA[.FUNCTION]`.
    pub fn parse_spec(spec: &str) -> Result<Surface, SurfaceError> {
        let spec = spec.trim();
        let (kind, rest) = match spec.split_once(':') {
            Some((k, r)) => (k.trim().to_ascii_lowercase(), Some(r.trim())),
            None => (spec.to_ascii_lowercase(), None),
        };
        let bad = || SurfaceError::Spec(spec.to_string());
        match (kind.as_str(), rest) {
            ("full", None) => Ok(Surface::Full),
            ("sql", None) => Ok(Surface::Sql),
            ("genie-one" | "genie_one", None) => Ok(Surface::GenieOne),
            ("vector-search" | "vector_search" | "ai-search" | "ai_search", Some(r)) => {
                let parts: Vec<&str> = r.split('.').collect();
                match parts.as_slice() {
                    [c, s] => Surface::vector_search(c, s, None),
                    [c, s, i] => Surface::vector_search(c, s, Some(i)),
                    _ => Err(bad()),
                }
            }
            ("genie", Some(id)) => Surface::genie(id),
            ("functions", Some(r)) => {
                let parts: Vec<&str> = r.split('.').collect();
                match parts.as_slice() {
                    [c, s] => Surface::functions(c, s, None),
                    [c, s, f] => Surface::functions(c, s, Some(f)),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// The HTTP path this surface is served at.
    pub fn route(&self) -> String {
        match self {
            Surface::Full => "/mcp".to_string(),
            Surface::Sql => format!("{MANAGED_PREFIX}/sql"),
            Surface::VectorSearch {
                catalog,
                schema,
                index,
            } => match index {
                Some(i) => format!("{MANAGED_PREFIX}/vector-search/{catalog}/{schema}/{i}"),
                None => format!("{MANAGED_PREFIX}/vector-search/{catalog}/{schema}"),
            },
            Surface::Genie { space_id } => format!("{MANAGED_PREFIX}/genie/{space_id}"),
            Surface::GenieOne => format!("{MANAGED_PREFIX}/genie"),
            Surface::Functions {
                catalog,
                schema,
                function,
            } => match function {
                Some(f) => format!("{MANAGED_PREFIX}/functions/{catalog}/{schema}/{f}"),
                None => format!("{MANAGED_PREFIX}/functions/{catalog}/{schema}"),
            },
        }
    }

    /// Guidance for the model on this surface (the server's `instructions`).
    pub fn instructions(&self, full: &str) -> String {
        match self {
            Surface::Full => full.to_string(),
            Surface::Sql => "Databricks SQL (managed-server compatible). Run SQL with execute_sql_read_only (reads) or execute_sql; a statement still running returns its statement_id: poll it with poll_sql_result. The warehouse is chosen by the request's _meta.warehouse_id, else automatically.".to_string(),
            Surface::VectorSearch { catalog, schema, index } => format!(
                "Databricks Vector Search over {} (managed-server compatible): one tool per index, named catalog__schema__index, taking a text query. Result count, columns, filters, search type, reranking and score threshold come from the request's _meta.",
                match index {
                    Some(i) => format!("index {catalog}.{schema}.{i}"),
                    None => format!("the indexes of {catalog}.{schema}"),
                }
            ),
            Surface::Genie { space_id } => format!(
                "Databricks Genie space {space_id} (managed-server compatible): ask questions about its data in natural language with query_space_{space_id}; poll a slow answer with poll_response_{space_id}."
            ),
            Surface::GenieOne => "Databricks Genie One (managed-server compatible): ask questions about the workspace's data in natural language. genie_ask starts an answer and returns conversation_id, response_id and status; call genie_poll_response with them until the status is completed, incomplete or failed, then read the final_answer (and a query's rows with genie_get_query_result). Pass conversation_id to genie_ask for a follow-up; genie_cancel_response stops an answer. The warehouse is chosen by the request's _meta.warehouse_id, else the server's default, else by Genie One.".to_string(),
            Surface::Functions { catalog, schema, function } => format!(
                "Databricks Unity Catalog functions of {} (managed-server compatible): one tool per function, named catalog__schema__function, run on a SQL warehouse.",
                match function {
                    Some(f) => format!("{catalog}.{schema}.{f}"),
                    None => format!("{catalog}.{schema}"),
                }
            ),
        }
    }
}

impl std::str::FromStr for Surface {
    type Err = SurfaceError;

    fn from_str(s: &str) -> Result<Surface, SurfaceError> {
        Surface::parse_spec(s)
    }
}

/// `serve` options of this module, flattened into `ServeArgs` (cli.rs): the stdio
/// surface and the HTTP security settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ManagedServeArgs {
    /// Serve one managed-compatible surface over stdio instead of every tool: sql, vector-search:CATALOG.SCHEMA[.INDEX] (or ai-search:…), genie:SPACE_ID, genie-one or functions:CATALOG.SCHEMA[.FUNCTION]. Over HTTP every surface has its own route (/api/2.0/mcp/...).
    #[arg(long, value_name = "KIND:SPEC", value_parser = check_spec)]
    pub surface: Option<String>,
    #[command(flatten)]
    pub security: crate::http_auth::SecurityArgs,
}

/// Validates a `--surface` value at parse time (kept as text: small CLI structs).
fn check_spec(spec: &str) -> Result<String, SurfaceError> {
    Surface::parse_spec(spec).map(|_| spec.to_string())
}

impl ManagedServeArgs {
    /// The `--surface` asked for, if any.
    pub fn surface(&self) -> Result<Option<Surface>, SurfaceError> {
        self.surface.as_deref().map(Surface::parse_spec).transpose()
    }
}

struct Cached {
    at: Instant,
    registry: Arc<Registry>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The tool registries of every surface: the static ones built once, the computed
/// ones cached (see the module documentation).
pub struct Surfaces {
    full: Arc<Registry>,
    /// The full surface's write tools left out because writes are off (a call by name
    /// gets "the operator must enable writes", not "unknown tool").
    gated_writes: std::collections::HashSet<String>,
    sql: Arc<Registry>,
    genie_one: Arc<Registry>,
    computed: Mutex<HashMap<Surface, Slot>>,
    indexes: Arc<IndexCache>,
}

impl Surfaces {
    /// The full surface serves the operator's `selection`; the managed surfaces keep
    /// their fixed tool sets.
    pub fn new(options: SurfaceOptions, selection: &ToolSelection) -> Surfaces {
        Surfaces::from_all(Registry::every(options), options, selection)
    }

    /// The same from every tool of the full surface built beforehand with the same
    /// `options` ([`Registry::every`]).
    pub fn from_all(all: Registry, options: SurfaceOptions, selection: &ToolSelection) -> Surfaces {
        let gated_writes = all
            .iter()
            .filter(|t| t.kind.needs_writes() && !options.allow_writes)
            .map(|t| t.name().to_string())
            .collect();
        Surfaces {
            full: Arc::new(all.gate(options).select(selection)),
            gated_writes,
            sql: Arc::new(Registry::gated(managed_sql::tools(options), options)),
            genie_one: Arc::new(Registry::gated(genie_one::tools(), options)),
            computed: Mutex::new(HashMap::new()),
            indexes: Arc::new(IndexCache::default()),
        }
    }

    /// The full surface (also what `tools --json` prints).
    /// The managed SQL surface's registry.
    pub fn sql(&self) -> &Arc<Registry> {
        &self.sql
    }

    pub fn full(&self) -> &Arc<Registry> {
        &self.full
    }

    /// Whether `name` is a write tool of the full surface, left out because writes are off.
    pub fn is_gated_write(&self, name: &str) -> bool {
        self.gated_writes.contains(name)
    }

    /// The Genie One surface's registry.
    pub fn genie_one(&self) -> &Arc<Registry> {
        &self.genie_one
    }

    /// The registry of `surface`, computed from the workspace when needed.
    pub async fn registry(
        &self,
        state: &AppState,
        surface: &Surface,
    ) -> Result<Arc<Registry>, SurfaceError> {
        self.get(state, surface, TOOL_LIST_TTL).await
    }

    /// Like [`registry`](Self::registry), but recomputes a list older than
    /// [`REFRESH_ON_MISS_AFTER`] (for a call naming a tool the list lacks).
    pub async fn refreshed(
        &self,
        state: &AppState,
        surface: &Surface,
    ) -> Result<Arc<Registry>, SurfaceError> {
        self.get(state, surface, REFRESH_ON_MISS_AFTER).await
    }

    async fn get(
        &self,
        state: &AppState,
        surface: &Surface,
        max_age: Duration,
    ) -> Result<Arc<Registry>, SurfaceError> {
        match surface {
            Surface::Full => return Ok(self.full.clone()),
            Surface::Sql => return Ok(self.sql.clone()),
            Surface::GenieOne => return Ok(self.genie_one.clone()),
            _ => {}
        }
        let slot = self.slot(surface);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.at.elapsed() < max_age
        {
            return Ok(c.registry.clone());
        }
        let (registry, cacheable) = self.compute(state, surface).await?;
        let registry = Arc::new(registry);
        if cacheable {
            *cached = Some(Cached {
                at: Instant::now(),
                registry: registry.clone(),
            });
        }
        Ok(registry)
    }

    fn slot(&self, surface: &Surface) -> Slot {
        let mut map = match self.computed.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(slot) = map.get(surface) {
            return slot.clone();
        }
        if map.len() >= MAX_CACHED_SURFACES {
            // Drop the slots nobody is computing right now (their lists are
            // recomputed on next use).
            map.retain(|_, slot| slot.try_lock().is_err());
        }
        let slot: Slot = Arc::new(tokio::sync::Mutex::new(None));
        map.insert(surface.clone(), slot.clone());
        slot
    }

    /// Builds a surface's tools; the flag says whether the result may be cached.
    async fn compute(
        &self,
        state: &AppState,
        surface: &Surface,
    ) -> Result<(Registry, bool), SurfaceError> {
        let client = &state.client;
        let started = Instant::now();
        let out = match surface {
            Surface::Full => (Registry::from_tools(Vec::new()), false),
            Surface::Sql | Surface::GenieOne => (Registry::from_tools(Vec::new()), false),
            Surface::VectorSearch {
                catalog,
                schema,
                index,
            } => {
                let indexes: Vec<MiniVectorIndex> = match index {
                    Some(i) => {
                        let full = format!("{catalog}.{schema}.{i}");
                        let index = client
                            .get_vector_index(&full)
                            .await
                            .map_err(|e| upstream(&format!("Reading vector index {full}"), e))?;
                        vec![MiniVectorIndex {
                            name: if index.name.is_empty() {
                                full
                            } else {
                                index.name
                            },
                            endpoint_name: index.endpoint_name,
                            endpoint_id: index.endpoint_id,
                            index_type: index.index_type,
                            index_subtype: index.index_subtype,
                            primary_key: index.primary_key,
                            creator: index.creator,
                        }]
                    }
                    None => vector_search::indexes_in_schema(client, catalog, schema)
                        .await
                        .map_err(|e| {
                            upstream(
                                &format!("Listing the vector indexes of {catalog}.{schema}"),
                                e,
                            )
                        })?,
                };
                let mut seen = std::collections::HashSet::new();
                let tools = indexes
                    .iter()
                    .filter_map(|i| {
                        let tool = vector_search::index_tool(i, self.indexes.clone());
                        if tool.is_none() {
                            tracing::warn!(index = %i.name, "index skipped: its name cannot be an MCP tool name");
                        }
                        tool
                    })
                    .filter(|t| seen.insert(t.name().to_string()))
                    .collect();
                (Registry::from_tools(tools), true)
            }
            Surface::Genie { space_id } => match client.get_genie_space(space_id).await {
                Ok(space) => (
                    Registry::from_tools(
                        genie::space_tools(space_id, Some(&space))
                            .map_err(|e| SurfaceError::InvalidName(e.to_string()))?,
                    ),
                    true,
                ),
                Err(e) if e.kind() == Some(ErrorKind::NotFound) => {
                    return Err(upstream(&format!("Reading Genie space {space_id}"), e));
                }
                Err(e) => {
                    // The space's title only improves the descriptions: serve generic
                    // ones now and try again on the next request.
                    tracing::warn!(space_id = %space_id, "cannot read the Genie space: {e}");
                    (
                        Registry::from_tools(
                            genie::space_tools(space_id, None)
                                .map_err(|e| SurfaceError::InvalidName(e.to_string()))?,
                        ),
                        false,
                    )
                }
            },
            Surface::Functions {
                catalog,
                schema,
                function,
            } => {
                let infos = match function {
                    Some(f) => {
                        let full = format!("{catalog}.{schema}.{f}");
                        vec![
                            client
                                .get_function(&full)
                                .await
                                .map_err(|e| upstream(&format!("Reading function {full}"), e))?,
                        ]
                    }
                    None => client
                        .list_all_functions(catalog, schema)
                        .await
                        .map_err(|e| {
                            upstream(&format!("Listing the functions of {catalog}.{schema}"), e)
                        })?,
                };
                (Registry::from_tools(functions::schema_tools(&infos)), true)
            }
        };
        tracing::info!(
            surface = %surface.route(),
            tools = out.0.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "computed tool list"
        );
        Ok(out)
    }
}

fn upstream(doing: &str, e: databricks_client::Error) -> SurfaceError {
    if e.kind() == Some(ErrorKind::NotFound) {
        SurfaceError::NotFound(format!("{doing} failed: {e}"))
    } else {
        SurfaceError::Upstream(format!("{doing} failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(Surface::parse_spec("sql"), Ok(Surface::Sql));
        assert_eq!(Surface::parse_spec("full"), Ok(Surface::Full));
        assert_eq!(Surface::parse_spec("genie-one"), Ok(Surface::GenieOne));
        assert_eq!(
            Surface::GenieOne.route(),
            "/api/2.0/mcp/genie",
            "distinct from a space's /api/2.0/mcp/genie/{{space_id}}"
        );
        assert_eq!(
            Surface::parse_spec("ai-search:main.docs"),
            Surface::parse_spec("vector-search:main.docs"),
        );
        assert_eq!(
            Surface::parse_spec("vector-search:main.docs"),
            Ok(Surface::VectorSearch {
                catalog: "main".into(),
                schema: "docs".into(),
                index: None
            })
        );
        assert_eq!(
            Surface::parse_spec("functions:main.tools.f").map(|s| s.route()),
            Ok("/api/2.0/mcp/functions/main/tools/f".to_string())
        );
        assert_eq!(
            Surface::parse_spec("genie:01ef").map(|s| s.route()),
            Ok("/api/2.0/mcp/genie/01ef".to_string())
        );
        for bad in [
            "",
            "vector-search",
            "vector-search:main",
            "vector-search:a.b.c.d",
            "genie:../x",
            "genie-one:x",
            "sql:x",
            "jobs",
        ] {
            assert!(Surface::parse_spec(bad).is_err(), "{bad}");
        }
    }
}
