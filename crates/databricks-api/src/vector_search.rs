//! Vector Search API 2.0 (REFERENCE.md §9): endpoints, indexes and similarity queries.
//!
//! Query results are typed loosely on purpose: `data_array` cells are arbitrary JSON
//! values (strings, numbers, arrays…) although the SDKs type them as strings, and the
//! service appends a `score` column to the requested ones.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most results one query may return (the service's hard cap).
pub const MAX_QUERY_RESULTS: u32 = 10_000;

/// The reranker model the service provides.
pub const DATABRICKS_RERANKER: &str = "databricks_reranker";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `STANDARD` or `STORAGE_OPTIMIZED` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_status: Option<EndpointStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_indexes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<String>,
    /// `[{key, value}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_tags: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_budget_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_info: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointStatus {
    /// `ONLINE`, `OFFLINE`, `PROVISIONING`, `RED_STATE`, `YELLOW_STATE`, `DELETED` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An index as listed (`GET /indexes`); [`VectorIndex`] has the details.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MiniVectorIndex {
    /// Full name `catalog.schema.index`.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// `DELTA_SYNC` or `DIRECT_ACCESS` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_subtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

/// `GET /indexes/{index_name}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VectorIndex {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_subtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IndexStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_sync_index_spec: Option<DeltaSyncIndexSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_access_index_spec: Option<DirectAccessIndexSpec>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IndexStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_row_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeltaSyncIndexSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding_source_columns: Vec<EmbeddingSourceColumn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding_vector_columns: Vec<EmbeddingVectorColumn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_to_sync: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_writeback_table: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DirectAccessIndexSpec {
    /// JSON object text mapping column names to types, e.g. `{"id": "int"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_json: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding_source_columns: Vec<EmbeddingSourceColumn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding_vector_columns: Vec<EmbeddingVectorColumn>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmbeddingSourceColumn {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_model_endpoint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_endpoint_name_for_query: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmbeddingVectorColumn {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_dimension: Option<i64>,
}

impl VectorIndex {
    /// Columns whose embeddings the service computes (it can embed a text query).
    pub fn embedding_source_columns(&self) -> Vec<&EmbeddingSourceColumn> {
        let delta = self
            .delta_sync_index_spec
            .iter()
            .flat_map(|s| s.embedding_source_columns.iter());
        let direct = self
            .direct_access_index_spec
            .iter()
            .flat_map(|s| s.embedding_source_columns.iter());
        delta.chain(direct).collect()
    }

    /// Columns holding self-managed embedding vectors.
    pub fn embedding_vector_columns(&self) -> Vec<&EmbeddingVectorColumn> {
        let delta = self
            .delta_sync_index_spec
            .iter()
            .flat_map(|s| s.embedding_vector_columns.iter());
        let direct = self
            .direct_access_index_spec
            .iter()
            .flat_map(|s| s.embedding_vector_columns.iter());
        delta.chain(direct).collect()
    }

    /// The column names the index itself declares: `columns_to_sync` of a Delta Sync
    /// index, the keys of a Direct Access index's `schema_json`. Empty when the index
    /// does not say (a Delta Sync index syncing every column of its source table).
    pub fn declared_columns(&self) -> Vec<String> {
        if let Some(spec) = &self.delta_sync_index_spec
            && !spec.columns_to_sync.is_empty()
        {
            return spec.columns_to_sync.clone();
        }
        if let Some(schema) = self
            .direct_access_index_spec
            .as_ref()
            .and_then(|s| s.schema_json.as_deref())
            && let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<Value>(schema)
        {
            return map.keys().cloned().collect();
        }
        Vec::new()
    }

    /// The Delta table a Delta Sync index is built from.
    pub fn source_table(&self) -> Option<&str> {
        self.delta_sync_index_spec
            .as_ref()
            .and_then(|s| s.source_table.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// Body of `POST /indexes/{index_name}/query`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryVectorIndexRequest {
    /// Columns to return (required by the API).
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_results: Option<u32>,
    /// A JSON object encoded as a string, e.g. `{"id >": 5}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters_json: Option<String>,
    /// `ANN` (default), `HYBRID` or `FULL_TEXT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_to_rerank: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reranker: Option<Reranker>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facets: Vec<String>,
}

/// The body fields of a query (REFERENCE.md §9.3), in the order the reference lists them.
pub const QUERY_FIELDS: &[&str] = &[
    "columns",
    "query_text",
    "query_vector",
    "num_results",
    "filters_json",
    "query_type",
    "score_threshold",
    "columns_to_rerank",
    "reranker",
    "query_columns",
    "sort_columns",
    "facets",
];

/// Body of `POST /indexes/{index_name}/query-next-page`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryNextPageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// `reranker` of a query: the top results are reordered by a reranking model over the
/// concatenated text of `columns_to_rerank`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reranker {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub parameters: RerankerParameters,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankerParameters {
    #[serde(default)]
    pub columns_to_rerank: Vec<String>,
}

impl Reranker {
    /// The service's own reranker over `columns`.
    pub fn databricks(columns: Vec<String>) -> Reranker {
        Reranker {
            model: DATABRICKS_RERANKER.to_string(),
            parameters: RerankerParameters {
                columns_to_rerank: columns,
            },
        }
    }
}

/// Answer of a query (and of `query-next-page`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueryVectorIndexResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<QueryManifest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<QueryResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facet_result: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueryManifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_count: Option<i64>,
    #[serde(default)]
    pub columns: Vec<QueryColumn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facet_column_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facet_columns: Vec<QueryColumn>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryColumn {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QueryResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<i64>,
    /// Rows; cells are any JSON value. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_array: Vec<Vec<Value>>,
}

impl QueryVectorIndexResponse {
    pub fn column_names(&self) -> Vec<String> {
        self.manifest
            .as_ref()
            .map(|m| m.columns.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    pub fn rows(&self) -> &[Vec<Value>] {
        self.result
            .as_ref()
            .map(|r| r.data_array.as_slice())
            .unwrap_or(&[])
    }

    /// The continuation token, when more results exist.
    pub fn next_page(&self) -> Option<&str> {
        self.next_page_token.as_deref().filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<EndpointInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IndexesPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vector_indexes: Vec<MiniVectorIndex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The name of the column the service appends to the requested ones, and its type.
pub const SCORE_COLUMN: &str = "score";
pub const SCORE_TYPE: &str = "float";

/// How a query searches (`query_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryType {
    /// Nearest neighbours of the query's embedding (the default).
    Ann,
    /// Nearest neighbours combined with keyword relevance.
    Hybrid,
    /// Keyword relevance only.
    FullText,
}

impl QueryType {
    /// The type `query_type` names (any case), `None` for an unknown one.
    pub fn parse(name: &str) -> Option<QueryType> {
        match name.to_ascii_uppercase().as_str() {
            "ANN" => Some(QueryType::Ann),
            "HYBRID" => Some(QueryType::Hybrid),
            "FULL_TEXT" => Some(QueryType::FullText),
            _ => None,
        }
    }
}

/// The comparison a `filters_json` key names after its column (standard endpoints: a bare
/// column is equality, a list value is any of its values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterOp {
    /// `"col"`: equal to the value, or to any value of a list.
    Eq,
    /// `"col NOT"`: different from the value, or from every value of a list.
    Not,
    Lt,
    Le,
    Gt,
    Ge,
    /// `"col LIKE"`: the text contains the value as a whole word (token), any case.
    Like,
}

impl FilterOp {
    /// The operator of a key's suffix (`<`, `<=`, `>`, `>=`, `NOT`, `LIKE`, any case).
    pub fn parse(suffix: &str) -> Option<FilterOp> {
        match suffix.to_ascii_uppercase().as_str() {
            "<" => Some(FilterOp::Lt),
            "<=" => Some(FilterOp::Le),
            ">" => Some(FilterOp::Gt),
            ">=" => Some(FilterOp::Ge),
            "NOT" => Some(FilterOp::Not),
            "LIKE" => Some(FilterOp::Like),
            _ => None,
        }
    }
}

/// One condition of `filters_json`; the conditions of one object all hold (AND).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub column: String,
    pub op: FilterOp,
    /// Scalars (string, number, boolean); more than one only for `Eq` and `Not` (a list).
    pub values: Vec<Value>,
}

impl Filter {
    /// Whether a cell satisfies the condition. A null cell satisfies none; numbers compare
    /// as numbers, strings as strings (a number and a numeric string as numbers), and
    /// values of other types are never equal, nor ordered.
    pub fn matches(&self, cell: &Value) -> bool {
        if cell.is_null() {
            return false;
        }
        let first = self.values.first();
        let ordered = |want: fn(std::cmp::Ordering) -> bool| {
            first.and_then(|v| compare(cell, v)).is_some_and(want)
        };
        match self.op {
            FilterOp::Eq => self
                .values
                .iter()
                .any(|v| compare(cell, v).is_some_and(|o| o.is_eq())),
            FilterOp::Not => self
                .values
                .iter()
                .all(|v| !compare(cell, v).is_some_and(|o| o.is_eq())),
            FilterOp::Lt => ordered(|o| o.is_lt()),
            FilterOp::Le => ordered(|o| o.is_le()),
            FilterOp::Gt => ordered(|o| o.is_gt()),
            FilterOp::Ge => ordered(|o| o.is_ge()),
            FilterOp::Like => match (cell.as_str(), first.and_then(Value::as_str)) {
                (Some(text), Some(token)) => has_token(text, token),
                _ => false,
            },
        }
    }
}

/// Whether `text` has `token` as one of its words (split at anything not alphanumeric),
/// ignoring case.
pub fn has_token(text: &str, token: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|word| !word.is_empty() && word.eq_ignore_ascii_case(token))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compare(cell: &Value, value: &Value) -> Option<std::cmp::Ordering> {
    match (cell, value) {
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::Number(_), _) | (_, Value::Number(_)) => number(cell)?.partial_cmp(&number(value)?),
        _ => None,
    }
}

/// A query as the server checked it (REFERENCE.md §9.3): what a backend searches with.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    /// The columns to return, in order (at least one).
    pub columns: Vec<String>,
    /// How many rows at most, 1 to [`MAX_QUERY_RESULTS`].
    pub num_results: usize,
    /// Rows scoring below it are left out.
    pub score_threshold: f64,
    pub query_type: QueryType,
    /// The text to search for (nonblank), when given.
    pub query_text: Option<String>,
    /// The embedding to search near (nonempty), when given.
    pub query_vector: Option<Vec<f64>>,
    /// Every condition holds on a returned row.
    pub filters: Vec<Filter>,
}

/// A backend's answer to a query: the requested columns with their types, and the rows
/// (cells in the columns' order) with their scores, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoredRows {
    pub columns: Vec<QueryColumn>,
    pub rows: Vec<ScoredRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoredRow {
    pub cells: Vec<Value>,
    pub score: f64,
}

impl VectorIndex {
    /// The index as the list shows it.
    pub fn summary(&self) -> MiniVectorIndex {
        MiniVectorIndex {
            name: self.name.clone(),
            endpoint_name: self.endpoint_name.clone(),
            endpoint_id: self.endpoint_id.clone(),
            index_type: self.index_type.clone(),
            index_subtype: self.index_subtype.clone(),
            primary_key: self.primary_key.clone(),
            creator: self.creator.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_request_serializes_only_what_is_set() {
        let r = QueryVectorIndexRequest {
            columns: vec!["id".into(), "text".into()],
            query_text: Some("tokens".into()),
            num_results: Some(3),
            reranker: Some(Reranker::databricks(vec!["text".into()])),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&r).ok(),
            Some(json!({
                "columns": ["id", "text"],
                "query_text": "tokens",
                "num_results": 3,
                "reranker": {"model": "databricks_reranker", "parameters": {"columns_to_rerank": ["text"]}}
            }))
        );
    }

    #[test]
    fn responses_tolerate_absent_fields_and_mixed_cells() {
        let r: QueryVectorIndexResponse = serde_json::from_value(json!({
            "manifest": {"columns": [{"name": "id"}, {"name": "tags"}, {"name": "score"}]},
            "result": {"row_count": 1, "data_array": [[1, ["a", "b"], 0.5]]}
        }))
        .unwrap_or_default();
        assert_eq!(r.column_names(), vec!["id", "tags", "score"]);
        assert_eq!(r.rows()[0][1], json!(["a", "b"]));
        let empty: QueryVectorIndexResponse = serde_json::from_value(json!({})).unwrap_or_default();
        assert!(empty.rows().is_empty());
        assert!(empty.next_page().is_none());
    }

    #[test]
    fn filters_compare_by_type_and_match_tokens() {
        let f = |op, values: Vec<Value>| Filter {
            column: "c".into(),
            op,
            values,
        };
        assert!(f(FilterOp::Ge, vec![json!(2023)]).matches(&json!(2024)));
        assert!(!f(FilterOp::Ge, vec![json!(2023)]).matches(&json!(2022.5)));
        assert!(f(FilterOp::Gt, vec![json!(5)]).matches(&json!("6")));
        assert!(f(FilterOp::Eq, vec![json!("en"), json!("fr")]).matches(&json!("fr")));
        assert!(!f(FilterOp::Eq, vec![json!("en")]).matches(&json!(null)));
        assert!(f(FilterOp::Not, vec![json!("en"), json!("fr")]).matches(&json!("de")));
        assert!(!f(FilterOp::Not, vec![json!("en")]).matches(&json!("en")));
        assert!(f(FilterOp::Like, vec![json!("token")]).matches(&json!("Rotate a Token now")));
        assert!(!f(FilterOp::Like, vec![json!("tok")]).matches(&json!("a token")));
        assert!(!f(FilterOp::Lt, vec![json!("b")]).matches(&json!(1)));
        assert_eq!(QueryType::parse("full_text"), Some(QueryType::FullText));
        assert_eq!(FilterOp::parse("like"), Some(FilterOp::Like));
    }

    #[test]
    fn declared_columns_come_from_the_spec() {
        let direct: VectorIndex = serde_json::from_value(json!({
            "name": "c.s.i",
            "direct_access_index_spec": {"schema_json": "{\"id\": \"int\", \"text\": \"string\"}"}
        }))
        .unwrap_or_default();
        let mut cols = direct.declared_columns();
        cols.sort();
        assert_eq!(cols, vec!["id", "text"]);
        let delta: VectorIndex = serde_json::from_value(json!({
            "name": "c.s.i",
            "delta_sync_index_spec": {"source_table": "c.s.t", "columns_to_sync": ["a", "b"]}
        }))
        .unwrap_or_default();
        assert_eq!(delta.declared_columns(), vec!["a", "b"]);
        assert_eq!(delta.source_table(), Some("c.s.t"));
    }
}
