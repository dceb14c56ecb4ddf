//! Vector Search: the full surface's `list_vector_indexes` and `query_vector_index`, and
//! the managed-compatible per-index tools of `/api/2.0/mcp/vector-search/{catalog}/{schema}[/{index}]`
//! (one tool per index, named `{catalog}__{schema}__{index}`, argument `query`).
//!
//! An agent presets how an index is searched with the call's `_meta` (the managed
//! server's keys, read bare or with the `com.databricks/` prefix), each mapped onto the
//! query API (REFERENCE.md §9.3):
//!
//! | `_meta` key | default | API |
//! |---|---|---|
//! | `num_results` | 5 | `num_results` |
//! | `columns` (comma-separated) | every column not starting with `__` (nor holding embedding vectors) | `columns` |
//! | `columns_to_rerank` (comma-separated) | none | `reranker {model: databricks_reranker, parameters.columns_to_rerank}` |
//! | `filters` (a JSON object, as text) | none | `filters_json` |
//! | `query_type` | `ANN` | `query_type` (`ANN`, `HYBRID`, `FULL_TEXT`) |
//! | `score_threshold` | none | `score_threshold` |
//! | `include_score` | false | keeps the `score` column the service appends |
//!
//! Values may arrive as strings (`"3"`, `"true"`, `"id,text"`) or as native JSON
//! (`3`, `true`, `["id", "text"]`, `{"lang": "en"}`); an invalid value is a tool error
//! naming the key. `_meta` wins over the full surface's arguments, as for warehouses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use databricks_client::services::vector_search::{
    MAX_QUERY_RESULTS, MiniVectorIndex, QueryVectorIndexRequest, Reranker,
};
use databricks_client::{DatabricksClient, ErrorKind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, TextFormat};
use crate::tools::catalog::validate_name;

/// Results returned when neither `_meta` nor the arguments say (the managed default).
pub const DEFAULT_NUM_RESULTS: u32 = 5;

/// How long an index's description (endpoint, default columns) is reused.
pub const INDEX_INFO_TTL: Duration = Duration::from_secs(300);

/// Most index descriptions kept.
const INDEX_CACHE_CAPACITY: usize = 512;

/// Most `query-next-page` calls one query makes.
const MAX_NEXT_PAGES: usize = 10;

/// The `_meta` keys of the managed Vector Search server.
pub const META_KEYS: [&str; 7] = [
    "num_results",
    "columns",
    "columns_to_rerank",
    "filters",
    "query_type",
    "score_threshold",
    "include_score",
];

/// How one query runs: the managed server's `_meta` settings, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySettings {
    pub num_results: u32,
    /// Columns to return; `None` = the index's columns not starting with `__`.
    pub columns: Option<Vec<String>>,
    pub columns_to_rerank: Option<Vec<String>>,
    /// A JSON object, as text.
    pub filters_json: Option<String>,
    pub query_type: String,
    pub score_threshold: Option<f64>,
    pub include_score: bool,
}

impl Default for QuerySettings {
    fn default() -> Self {
        QuerySettings {
            num_results: DEFAULT_NUM_RESULTS,
            columns: None,
            columns_to_rerank: None,
            filters_json: None,
            query_type: "ANN".to_string(),
            score_threshold: None,
            include_score: false,
        }
    }
}

/// A `_meta` value by its bare key or `com.databricks/` key; null and blank strings
/// count as absent.
fn meta_value<'a>(meta: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let v = meta
        .get(key)
        .or_else(|| meta.get(&format!("com.databricks/{key}")))?;
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        other => Some(other),
    }
}

fn invalid(key: &str, value: &Value, expected: &str) -> ToolError {
    let shown = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let shown: String = shown.chars().take(200).collect();
    ToolError::new(format!(
        "_meta.{key} is invalid ({shown}): expected {expected}. Fix the _meta preset in the agent's code."
    ))
}

fn parse_num_results(key: &str, v: &Value) -> Result<u32, ToolError> {
    let expected =
        &format!("a whole number of results from 1 to {MAX_QUERY_RESULTS}, e.g. 5 or \"5\"");
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(key, v, expected))?;
    if n < 1 || n > MAX_QUERY_RESULTS as i64 {
        return Err(invalid(key, v, expected));
    }
    Ok(n as u32)
}

fn parse_columns(key: &str, v: &Value) -> Result<Vec<String>, ToolError> {
    let expected = "column names separated by commas, e.g. \"id,text\" (or a JSON array of names)";
    let names: Vec<String> = match v {
        Value::String(s) => s
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| invalid(key, v, expected))
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect(),
        _ => return Err(invalid(key, v, expected)),
    };
    if names.is_empty()
        || names
            .iter()
            .any(|n| n.len() > 255 || n.chars().any(char::is_control))
    {
        return Err(invalid(key, v, expected));
    }
    let mut unique = Vec::with_capacity(names.len());
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    Ok(unique)
}

fn parse_filters(key: &str, v: &Value) -> Result<String, ToolError> {
    let expected = "a JSON object of filters, as a string or an object, e.g. '{\"lang\": \"en\", \"year >=\": 2023}'";
    let object = match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => return Err(invalid(key, v, expected)),
        },
        Value::Object(o) => o.clone(),
        _ => return Err(invalid(key, v, expected)),
    };
    Ok(Value::Object(object).to_string())
}

fn parse_query_type(key: &str, v: &Value) -> Result<String, ToolError> {
    let expected =
        "ANN (approximate nearest neighbour, the default), HYBRID (vector + keyword) or FULL_TEXT";
    let s = v.as_str().ok_or_else(|| invalid(key, v, expected))?;
    let upper = s.trim().to_ascii_uppercase();
    match upper.as_str() {
        "ANN" | "HYBRID" | "FULL_TEXT" => Ok(upper),
        _ => Err(invalid(key, v, expected)),
    }
}

fn parse_score_threshold(key: &str, v: &Value) -> Result<f64, ToolError> {
    let expected = "a number, e.g. 0.5 or \"0.5\"";
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite() && *f >= 0.0)
    .ok_or_else(|| invalid(key, v, expected))?;
    Ok(f)
}

fn parse_bool(key: &str, v: &Value) -> Result<bool, ToolError> {
    let expected = "true or false (as a boolean or a string)";
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(invalid(key, v, expected)),
        },
        _ => Err(invalid(key, v, expected)),
    }
}

impl QuerySettings {
    /// `base` overridden by every Vector Search key present in `meta`.
    pub fn with_meta(mut self, meta: &Map<String, Value>) -> Result<QuerySettings, ToolError> {
        if let Some(v) = meta_value(meta, "num_results") {
            self.num_results = parse_num_results("num_results", v)?;
        }
        if let Some(v) = meta_value(meta, "columns") {
            self.columns = Some(parse_columns("columns", v)?);
        }
        if let Some(v) = meta_value(meta, "columns_to_rerank") {
            self.columns_to_rerank = Some(parse_columns("columns_to_rerank", v)?);
        }
        if let Some(v) = meta_value(meta, "filters") {
            self.filters_json = Some(parse_filters("filters", v)?);
        }
        if let Some(v) = meta_value(meta, "query_type") {
            self.query_type = parse_query_type("query_type", v)?;
        }
        if let Some(v) = meta_value(meta, "score_threshold") {
            self.score_threshold = Some(parse_score_threshold("score_threshold", v)?);
        }
        if let Some(v) = meta_value(meta, "include_score") {
            self.include_score = parse_bool("include_score", v)?;
        }
        Ok(self)
    }
}

/// What a query needs to know about an index.
#[derive(Debug, Clone)]
pub struct IndexInfo {
    pub name: String,
    pub endpoint_name: Option<String>,
    /// The columns returned when `_meta.columns` is not set: every column of the index
    /// not starting with `__`.
    pub default_columns: Vec<String>,
}

impl IndexInfo {
    /// Reads the index and, for a Delta Sync index that syncs its whole source table,
    /// the table's columns.
    async fn resolve(client: &DatabricksClient, name: &str) -> Result<IndexInfo, ToolError> {
        let index = client.get_vector_index(name).await.map_err(|e| {
            ToolError::upstream(&format!("Reading vector index {name}"), e)
                .hint_for(
                    ErrorKind::NotFound,
                    "Call list_vector_indexes to see the indexes that exist.",
                )
                .needs(&format!("SELECT on {name}"))
        })?;
        let mut columns = index.declared_columns();
        if columns.is_empty()
            && let Some(table) = index.source_table()
        {
            match client.get_table(table).await {
                Ok(t) => columns = t.columns.into_iter().map(|c| c.name).collect(),
                Err(e) => {
                    tracing::warn!(index = name, "cannot read the source table's columns: {e}")
                }
            }
        }
        if columns.is_empty() {
            columns.extend(index.primary_key.clone());
            columns.extend(
                index
                    .embedding_source_columns()
                    .iter()
                    .map(|c| c.name.clone()),
            );
        }
        if let Some(pk) = &index.primary_key
            && !columns.contains(pk)
        {
            columns.insert(0, pk.clone());
        }
        // Embedding vectors (hundreds of floats a row) are never useful to a model:
        // they are left out like the service's internal `__` columns.
        let vectors: Vec<String> = index
            .embedding_vector_columns()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let mut default_columns: Vec<String> = Vec::new();
        for c in columns {
            if !c.starts_with("__")
                && !c.is_empty()
                && !vectors.contains(&c)
                && !default_columns.contains(&c)
            {
                default_columns.push(c);
            }
        }
        Ok(IndexInfo {
            name: if index.name.is_empty() {
                name.to_string()
            } else {
                index.name
            },
            endpoint_name: index.endpoint_name.filter(|e| !e.is_empty()),
            default_columns,
        })
    }
}

/// Index descriptions by name, reused for [`INDEX_INFO_TTL`] (one `get index` and at
/// most one `get table` per index every five minutes, not per query).
#[derive(Default)]
pub struct IndexCache {
    entries: Mutex<HashMap<String, (Instant, Arc<IndexInfo>)>>,
}

impl IndexCache {
    pub async fn get(
        &self,
        client: &DatabricksClient,
        name: &str,
    ) -> Result<Arc<IndexInfo>, ToolError> {
        let key = name.to_ascii_lowercase();
        if let Ok(entries) = self.entries.lock()
            && let Some((at, info)) = entries.get(&key)
            && at.elapsed() < INDEX_INFO_TTL
        {
            return Ok(info.clone());
        }
        let info = Arc::new(IndexInfo::resolve(client, name).await?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= INDEX_CACHE_CAPACITY {
                entries.retain(|_, (at, _)| at.elapsed() < INDEX_INFO_TTL);
                if entries.len() >= INDEX_CACHE_CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), info.clone()));
        }
        Ok(info)
    }

    /// Forgets an index (after a query failed in a way stale metadata could explain).
    pub fn forget(&self, name: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&name.to_ascii_lowercase());
        }
    }
}

/// Runs `query` against the index with `settings` and shapes the answer.
pub async fn run_query(
    ctx: &CallContext,
    cache: &IndexCache,
    index_name: &str,
    query: &str,
    settings: &QuerySettings,
) -> Result<ToolOutput, ToolError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(ToolError::new(
            "query is empty: give the text to search for",
        ));
    }
    let client = &ctx.state.client;
    let info = cache.get(client, index_name).await?;
    let columns = match &settings.columns {
        Some(c) => c.clone(),
        None => info.default_columns.clone(),
    };
    if columns.is_empty() {
        return Err(ToolError::new(format!(
            "cannot tell which columns index {} has: set _meta.columns (comma-separated names)",
            info.name
        )));
    }
    let request = QueryVectorIndexRequest {
        columns: columns.clone(),
        query_text: Some(query.to_string()),
        num_results: Some(settings.num_results),
        filters_json: settings.filters_json.clone(),
        query_type: Some(settings.query_type.clone()),
        score_threshold: settings.score_threshold,
        reranker: settings.columns_to_rerank.clone().map(Reranker::databricks),
        ..Default::default()
    };
    let call = client.query_vector_index(&info.name, &request);
    let mut response = tokio::select! {
        r = call => r,
        _ = ctx.ct.cancelled() => return Err(ToolError::new("cancelled by the client")),
    }
    .map_err(|e| {
        if matches!(e.kind(), Some(ErrorKind::NotFound | ErrorKind::BadRequest)) {
            cache.forget(&info.name);
        }
        ToolError::upstream(&format!("Querying vector index {}", info.name), e)
    })?;
    let names = response.column_names();
    let mut rows: Vec<Vec<Value>> = std::mem::take(
        &mut response
            .result
            .get_or_insert_with(Default::default)
            .data_array,
    );
    let mut pages = 0;
    while rows.len() < settings.num_results as usize && pages < MAX_NEXT_PAGES {
        let (Some(token), Some(endpoint)) = (response.next_page(), info.endpoint_name.as_deref())
        else {
            break;
        };
        pages += 1;
        let token = token.to_string();
        response = client
            .query_vector_index_next_page(&info.name, endpoint, &token)
            .await
            .map_err(|e| {
                ToolError::upstream(&format!("Reading more results of index {}", info.name), e)
            })?;
        let more = response.rows().to_vec();
        if more.is_empty() {
            break;
        }
        rows.extend(more);
    }
    rows.truncate(settings.num_results as usize);
    Ok(shape(
        ctx,
        &info.name,
        &columns,
        names,
        rows,
        settings.include_score,
    ))
}

/// Drops the service's `score` column unless asked for, and renders the rows.
fn shape(
    ctx: &CallContext,
    index: &str,
    requested: &[String],
    mut names: Vec<String>,
    mut rows: Vec<Vec<Value>>,
    include_score: bool,
) -> ToolOutput {
    if !include_score
        && let Some(i) = names.iter().rposition(|c| c == "score")
        && (!requested.iter().any(|c| c == "score") || names.len() > requested.len())
    {
        names.remove(i);
        for row in &mut rows {
            if i < row.len() {
                row.remove(i);
            }
        }
    }
    let types = vec!["STRING".to_string(); names.len()];
    let cells = rows.iter().map(|row| {
        (0..names.len())
            .map(|i| render::json_cell(row.get(i)))
            .collect::<Vec<_>>()
    });
    let budget = ctx.state.settings.max_chars.saturating_sub(300);
    let rendered = render::rows_in(TextFormat::Csv, &names, &types, cells, budget);
    let mut text = if rows.is_empty() {
        format!("No results in index {index} for this query.")
    } else {
        let mut t = rendered.text;
        t.push_str(&format!(
            "\n\n{} result{} from index {index}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        ));
        if rendered.rows_shown < rows.len() {
            t.push_str(&format!(
                ", {} shown (the answer's character budget was reached; ask for fewer columns or results)",
                rendered.rows_shown
            ));
        }
        t.push('.');
        t
    };
    if !rows.is_empty() {
        text.push_str(" Most relevant first.");
    }
    let results: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut o = Map::new();
            for (i, n) in names.iter().enumerate() {
                o.insert(n.clone(), row.get(i).cloned().unwrap_or(Value::Null));
            }
            Value::Object(o)
        })
        .collect();
    ToolOutput::new(
        text,
        json!({
            "index": index,
            "columns": names,
            "results": results,
            "result_count": rows.len(),
        }),
    )
}

/// `catalog.schema.index`, validated (each part a Unity Catalog name).
pub fn validate_index_name(name: &str) -> Result<String, ToolError> {
    let parts: Vec<&str> = name.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(ToolError::new(format!(
            "{name:?} is not a vector index name: expected catalog.schema.index (call list_vector_indexes to see them)"
        )));
    }
    let parts = parts
        .iter()
        .map(|p| validate_name("index name part", p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("."))
}

/// The managed server's tool name of an index: `{catalog}__{schema}__{index}`, with
/// characters MCP does not allow in names replaced by `_`; `None` when too long.
pub fn tool_name_for(full_name: &str) -> Option<String> {
    let name: String = full_name
        .split('.')
        .collect::<Vec<_>>()
        .join("__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (!name.is_empty() && name.len() <= 128).then_some(name)
}

/// The indexes whose full name is in `catalog.schema`, across every endpoint, by name.
pub async fn indexes_in_schema(
    client: &DatabricksClient,
    catalog: &str,
    schema: &str,
) -> Result<Vec<MiniVectorIndex>, databricks_client::Error> {
    let prefix = format!("{catalog}.{schema}.").to_ascii_lowercase();
    let mut found = Vec::new();
    for endpoint in client.list_all_vector_search_endpoints().await? {
        if endpoint.name.is_empty() {
            continue;
        }
        for index in client.list_all_vector_indexes(&endpoint.name).await? {
            if index.name.to_ascii_lowercase().starts_with(&prefix)
                && index.name.split('.').count() == 3
            {
                found.push(index);
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup_by(|a, b| a.name == b.name);
    Ok(found)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexQueryArgs {
    /// What to search for, in natural language or keywords.
    pub query: String,
}

/// The managed tool of one index: `{catalog}__{schema}__{index}(query)`.
pub fn index_tool(index: &MiniVectorIndex, cache: Arc<IndexCache>) -> Option<ToolDef> {
    let tool_name = tool_name_for(&index.name)?;
    let mut description = format!(
        "Search the Databricks Vector Search index {} for the rows most relevant to a query and return them (most relevant first).",
        index.name
    );
    if let Some(pk) = index.primary_key.as_deref().filter(|p| !p.is_empty()) {
        description.push_str(&format!(" Each row is identified by {pk}."));
    }
    description.push_str(" Give the question or keywords as query; how many results, which columns, filters and the search type are preset by the caller.");
    let full_name = index.name.clone();
    Some(ToolDef::new(
        tool_name,
        format!("Search {}", index.name),
        description,
        Toolset::VectorSearch,
        ToolKind::ReadGet,
        move |ctx: CallContext, args: IndexQueryArgs| {
            let cache = cache.clone();
            let full_name = full_name.clone();
            async move {
                let settings = QuerySettings::default().with_meta(&ctx.meta)?;
                run_query(&ctx, &cache, &full_name, &args.query, &settings).await
            }
        },
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryVectorIndexArgs {
    /// Full name of the index: catalog.schema.index (see list_vector_indexes).
    pub index_name: String,
    /// What to search for, in natural language or keywords.
    pub query: String,
    /// How many results (1-10000, default 5).
    #[serde(default)]
    pub num_results: Option<u32>,
    /// Columns to return; default every column of the index not starting with "__".
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// Filters as a JSON object, e.g. {"lang": "en", "year >=": 2023} (operators <, <=, >, >= follow the column name).
    #[serde(default)]
    pub filters: Option<Map<String, Value>>,
    /// ANN (default, by meaning), HYBRID (meaning and keywords) or FULL_TEXT (keywords).
    #[serde(default)]
    pub query_type: Option<QueryType>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryType {
    Ann,
    Hybrid,
    FullText,
}

impl QueryType {
    fn api_name(self) -> &'static str {
        match self {
            QueryType::Ann => "ANN",
            QueryType::Hybrid => "HYBRID",
            QueryType::FullText => "FULL_TEXT",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListVectorIndexesArgs {
    /// Only the indexes of this Vector Search endpoint.
    #[serde(default)]
    pub endpoint_name: Option<String>,
    /// Only indexes in this catalog.
    #[serde(default)]
    pub catalog: Option<String>,
    /// Only indexes in this schema (with catalog).
    #[serde(default)]
    pub schema: Option<String>,
}

/// Most index rows `list_vector_indexes` shows.
const MAX_LISTED_INDEXES: usize = 500;

/// The full surface's Vector Search tools.
pub fn tools() -> Vec<ToolDef> {
    let cache = Arc::new(IndexCache::default());
    vec![
        ToolDef::new(
            "list_vector_indexes",
            "List vector search indexes",
            "List the Databricks Vector Search indexes (catalog.schema.index names) with their endpoint, type and primary key, optionally only one endpoint's or one catalog/schema's. Use it to find an index for query_vector_index.",
            Toolset::VectorSearch,
            ToolKind::ReadList,
            list_vector_indexes,
        ),
        ToolDef::new(
            "query_vector_index",
            "Query vector search index",
            "Search a Databricks Vector Search index for the rows most relevant to a text query (semantic, hybrid or keyword search) and return them, most relevant first. Use it to find documents or records by meaning; give the index's full name from list_vector_indexes.",
            Toolset::VectorSearch,
            ToolKind::ReadGet,
            move |ctx: CallContext, args: QueryVectorIndexArgs| {
                let cache = cache.clone();
                async move { query_vector_index(ctx, args, &cache).await }
            },
        ),
    ]
}

async fn query_vector_index(
    ctx: CallContext,
    args: QueryVectorIndexArgs,
    cache: &IndexCache,
) -> Result<ToolOutput, ToolError> {
    let name = validate_index_name(&args.index_name)?;
    let mut base = QuerySettings::default();
    if let Some(n) = args.num_results {
        base.num_results = parse_num_results("num_results", &json!(n)).map_err(|_| {
            ToolError::new(format!(
                "num_results must be between 1 and {MAX_QUERY_RESULTS}"
            ))
        })?;
    }
    if let Some(c) = args.columns {
        base.columns = Some(
            parse_columns("columns", &json!(c))
                .map_err(|_| ToolError::new("columns must name at least one column"))?,
        );
    }
    if let Some(f) = args.filters {
        base.filters_json = Some(Value::Object(f).to_string());
    }
    if let Some(t) = args.query_type {
        base.query_type = t.api_name().to_string();
    }
    let settings = base.with_meta(&ctx.meta)?;
    run_query(&ctx, cache, &name, &args.query, &settings).await
}

async fn list_vector_indexes(
    ctx: CallContext,
    args: ListVectorIndexesArgs,
) -> Result<ToolOutput, ToolError> {
    let client = &ctx.state.client;
    let catalog = args
        .catalog
        .as_deref()
        .map(|c| validate_name("catalog", c))
        .transpose()?;
    let schema = args
        .schema
        .as_deref()
        .map(|s| validate_name("schema", s))
        .transpose()?;
    let prefix = match (&catalog, &schema) {
        (Some(c), Some(s)) => Some(format!("{c}.{s}.")),
        (Some(c), None) => Some(format!("{c}.")),
        (None, Some(_)) => {
            return Err(ToolError::new(
                "give catalog together with schema (or only catalog)",
            ));
        }
        (None, None) => None,
    }
    .map(|p| p.to_ascii_lowercase());
    let endpoints: Vec<String> = match args.endpoint_name.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => vec![e.to_string()],
        _ => client
            .list_all_vector_search_endpoints()
            .await
            .map_err(|e| ToolError::upstream("Listing Vector Search endpoints", e))?
            .into_iter()
            .map(|e| e.name)
            .filter(|n| !n.is_empty())
            .collect(),
    };
    let mut indexes = Vec::new();
    for endpoint in &endpoints {
        let listed = client
            .list_all_vector_indexes(endpoint)
            .await
            .map_err(|e| {
                ToolError::upstream(&format!("Listing the indexes of endpoint {endpoint}"), e)
                    .hint_for(
                        ErrorKind::NotFound,
                        "Omit endpoint_name to list the indexes of every endpoint.",
                    )
            })?;
        indexes.extend(listed.into_iter().filter(|i| {
            prefix
                .as_deref()
                .is_none_or(|p| i.name.to_ascii_lowercase().starts_with(p))
        }));
    }
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let total = indexes.len();
    indexes.truncate(MAX_LISTED_INDEXES);
    let columns = ["name", "endpoint", "type", "primary_key"]
        .map(String::from)
        .to_vec();
    let rows = indexes.iter().map(|i| {
        vec![
            Some(i.name.clone()),
            i.endpoint_name.clone(),
            i.index_type.clone(),
            i.primary_key.clone(),
        ]
    });
    let rendered = render::table(
        &columns,
        rows,
        ctx.state.settings.max_chars.saturating_sub(300),
    );
    let mut text = if total == 0 {
        format!(
            "No vector search indexes found ({} endpoint{} searched).",
            endpoints.len(),
            if endpoints.len() == 1 { "" } else { "s" }
        )
    } else {
        format!("{}\n\n{total} indexes", rendered.text)
    };
    if total > 0 {
        if rendered.rows_shown < total {
            text.push_str(&format!(
                ", {} shown: narrow the listing with endpoint_name, catalog or schema",
                rendered.rows_shown
            ));
        }
        text.push_str(". Query one with query_vector_index(index_name, query).");
    }
    let structured = json!({
        "indexes": indexes.iter().take(rendered.rows_shown).map(|i| json!({
            "name": i.name,
            "endpoint_name": i.endpoint_name,
            "index_type": i.index_type,
            "primary_key": i.primary_key,
        })).collect::<Vec<_>>(),
        "total": total,
    });
    Ok(ToolOutput::new(text, structured))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn strings_and_native_values_both_work() {
        let from_strings = QuerySettings::default()
            .with_meta(&meta(json!({
                "num_results": "3",
                "columns": "id, text",
                "columns_to_rerank": "text",
                "filters": "{\"lang\": \"en\"}",
                "query_type": "hybrid",
                "score_threshold": "0.5",
                "include_score": "true"
            })))
            .ok();
        let native = QuerySettings::default()
            .with_meta(&meta(json!({
                "num_results": 3,
                "columns": ["id", "text"],
                "columns_to_rerank": ["text"],
                "filters": {"lang": "en"},
                "query_type": "HYBRID",
                "score_threshold": 0.5,
                "include_score": true
            })))
            .ok();
        assert!(from_strings.is_some());
        assert_eq!(from_strings, native);
        let s = native.unwrap_or_default();
        assert_eq!(s.num_results, 3);
        assert_eq!(s.columns, Some(vec!["id".to_string(), "text".to_string()]));
        assert_eq!(s.filters_json.as_deref(), Some("{\"lang\":\"en\"}"));
        assert_eq!(s.query_type, "HYBRID");
        assert!(s.include_score);
    }

    #[test]
    fn defaults_and_prefixed_keys() {
        let s = QuerySettings::default().with_meta(&Map::new()).ok();
        assert_eq!(s, Some(QuerySettings::default()));
        let s = QuerySettings::default()
            .with_meta(&meta(
                json!({"com.databricks/num_results": 7, "columns": ""}),
            ))
            .ok()
            .unwrap_or_default();
        assert_eq!(s.num_results, 7);
        assert_eq!(s.columns, None);
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (key, value) in [
            ("num_results", json!("many")),
            ("num_results", json!(0)),
            ("num_results", json!(2.5)),
            ("num_results", json!(20000)),
            ("columns", json!(5)),
            ("columns", json!(",,")),
            ("filters", json!("lang = en")),
            ("filters", json!("[1, 2]")),
            ("query_type", json!("SEMANTIC")),
            ("score_threshold", json!("high")),
            ("score_threshold", json!(-1)),
            ("include_score", json!("yes")),
        ] {
            let err = QuerySettings::default()
                .with_meta(&meta(json!({ key: value })))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(&format!("_meta.{key}")),
                "{key}={value}: {err}"
            );
        }
    }

    #[test]
    fn tool_names_follow_the_managed_convention() {
        assert_eq!(
            tool_name_for("main.docs.en_wiki_index").as_deref(),
            Some("main__docs__en_wiki_index")
        );
        assert_eq!(tool_name_for("c.s.a b").as_deref(), Some("c__s__a_b"));
        assert_eq!(tool_name_for(&"x".repeat(200)), None);
        assert!(validate_index_name("a.b").is_err());
        assert_eq!(validate_index_name("a.b.c").ok().as_deref(), Some("a.b.c"));
    }
}
