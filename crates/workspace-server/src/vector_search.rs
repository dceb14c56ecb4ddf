//! Vector Search API 2.0 (REFERENCE.md §9): endpoints, indexes, queries and their next
//! pages.
//!
//! The protocol lives here: the required `endpoint_name` of the index list, the 404 for an
//! unknown endpoint or index, token pages of both lists, every check of a query's body
//! (required `columns`, the range of `num_results`, which of `query_text` and
//! `query_vector` the query type and the index allow, `filters_json` parsed into
//! conditions), the result's shape (the requested columns, then `score`) and its groups of
//! at most 1,000 rows continued by `query-next-page`. A backend only searches its data.

use axum::response::Response;
use base64::Engine as _;
use databricks_api::backend::VectorSearch;
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::paging::slice;
use databricks_api::vector_search::{
    EndpointInfo, EndpointsPage, Filter, FilterOp, IndexesPage, MAX_QUERY_RESULTS, QUERY_FIELDS,
    QueryColumn, QueryManifest, QueryResult, QueryType, QueryVectorIndexResponse, SCORE_COLUMN,
    SCORE_TYPE, ScoredRow, VectorIndex, VectorQuery,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// Endpoints or indexes per page (the lists take no page size).
const LIST_PAGE: usize = 100;
/// §9.3: results come in groups of at most 1,000.
const RESULT_PAGE: usize = 1000;
/// `num_results` when the query does not say.
const DEFAULT_RESULTS: usize = 10;
/// Body fields of `query-next-page`.
const NEXT_PAGE_FIELDS: &[&str] = &["endpoint_name", "page_token"];

/// `rest`: the path after `/api/2.0/vector-search/`.
pub(crate) async fn route(backend: &dyn VectorSearch, req: &ApiRequest, rest: &[&str]) -> Answer {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["endpoints"]) => list_endpoints(backend, req).await,
        ("GET" | "HEAD", ["endpoints", name]) => {
            let endpoint = endpoint(backend, name).await?;
            Ok(json_response(200, &endpoint))
        }
        ("GET" | "HEAD", ["indexes"]) => list_indexes(backend, req).await,
        ("GET" | "HEAD", ["indexes", name]) => {
            // Every index here can be reranked: the flag changes nothing but must be one.
            req.flag_param("ensure_reranker_compatible")?;
            Ok(json_response(200, &index(backend, name).await?))
        }
        ("POST", ["indexes", name, "query"]) => query(backend, req, name).await,
        ("POST", ["indexes", name, "query-next-page"]) => next_page(backend, req, name).await,
        _ => Err(endpoint_not_found(req)),
    }
}

fn not_found(what: &str, name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Vector search {what} {name} does not exist."),
    )
}

async fn endpoint(backend: &dyn VectorSearch, name: &str) -> Result<EndpointInfo, ApiError> {
    backend
        .endpoints()
        .await?
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| not_found("endpoint", name))
}

async fn index(backend: &dyn VectorSearch, name: &str) -> Result<VectorIndex, ApiError> {
    backend
        .index(name)
        .await?
        .ok_or_else(|| not_found("index", name))
}

/// A page of a list by `page_token`, [`LIST_PAGE`] items at a time.
fn list_page<T>(
    items: Vec<T>,
    req: &ApiRequest,
    scope: &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let offset = decode_token(scope, req.param("page_token")?.as_deref())?;
    let (items, next) = slice(items, offset, Some(LIST_PAGE));
    Ok((items, next.map(|n| encode_token(scope, n))))
}

/// §9.1.
async fn list_endpoints(backend: &dyn VectorSearch, req: &ApiRequest) -> Answer {
    let (endpoints, next_page_token) =
        list_page(backend.endpoints().await?, req, "vector-search-endpoints")?;
    Ok(json_response(
        200,
        &EndpointsPage {
            endpoints,
            next_page_token,
        },
    ))
}

/// §9.2: the indexes of one endpoint, which must exist.
async fn list_indexes(backend: &dyn VectorSearch, req: &ApiRequest) -> Answer {
    let name = req.required_param("endpoint_name")?;
    endpoint(backend, &name).await?;
    let indexes: Vec<_> = backend
        .indexes()
        .await?
        .iter()
        .filter(|i| i.endpoint_name.as_deref() == Some(name.as_str()))
        .map(VectorIndex::summary)
        .collect();
    let scope = format!("vector-search-indexes/{name}");
    let (vector_indexes, next_page_token) = list_page(indexes, req, &scope)?;
    Ok(json_response(
        200,
        &IndexesPage {
            vector_indexes,
            next_page_token,
        },
    ))
}

/// What a result's `next_page_token` carries: the query as it was sent (it is checked and
/// run again, so a token holds nothing a request could not) and where the next group
/// starts.
#[derive(Serialize, Deserialize)]
struct ResultToken {
    index: String,
    offset: usize,
    request: Value,
}

/// §9.3.
async fn query(backend: &dyn VectorSearch, req: &ApiRequest, name: &str) -> Answer {
    let index = index(backend, name).await?;
    let body = body_object(req, QUERY_FIELDS)?;
    let request = Value::Object(body.clone());
    results(backend, &index, request, 0).await
}

/// The next group of a query's results: `page_token` from its answer; `endpoint_name`,
/// when sent, must be the index's.
async fn next_page(backend: &dyn VectorSearch, req: &ApiRequest, name: &str) -> Answer {
    let index = index(backend, name).await?;
    body_object(req, NEXT_PAGE_FIELDS)?;
    let token = req.required_param("page_token")?;
    if let Some(endpoint) = req.param("endpoint_name")?
        && index.endpoint_name.as_deref() != Some(endpoint.as_str())
    {
        return Err(ApiError::invalid_parameter(format!(
            "Index {name} is not served by endpoint {endpoint}."
        )));
    }
    let invalid = || ApiError::invalid_parameter(format!("Invalid page token: '{token}'"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .map_err(|_| invalid())?;
    let carried: ResultToken = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    if carried.index != index.name {
        return Err(invalid());
    }
    results(backend, &index, carried.request, carried.offset).await
}

/// The JSON object body of a POST, with only `fields` (a misspelt field is an error, not
/// silently ignored).
fn body_object<'a>(
    req: &'a ApiRequest,
    fields: &[&str],
) -> Result<&'a Map<String, Value>, ApiError> {
    let body = req
        .body
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid_parameter("The request body must be a JSON object."))?;
    if let Some(unknown) = body.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(ApiError::invalid_parameter(format!(
            "Unknown field: {unknown}. Expected one of: {}.",
            fields.join(", ")
        )));
    }
    Ok(body)
}

/// Runs the query `request` on `index` and answers the group of results at `offset`.
async fn results(
    backend: &dyn VectorSearch,
    index: &VectorIndex,
    request: Value,
    offset: usize,
) -> Answer {
    let query = checked_query(&request, index)?;
    let answer = backend.query(index, &query).await?;
    let mut rows: Vec<ScoredRow> = answer
        .rows
        .into_iter()
        .filter(|r| r.score >= query.score_threshold)
        .collect();
    if rows.iter().any(|r| r.cells.len() != query.columns.len()) {
        return Err(ApiError::new(
            ErrorCode::InternalError,
            "The index answered rows that do not have the requested columns.",
        ));
    }
    rows.sort_by(|a, b| b.score.total_cmp(&a.score));
    rows.truncate(query.num_results);
    let (rows, next) = slice(rows, offset, Some(RESULT_PAGE));
    let next_page_token = match next {
        Some(offset) => Some(result_token(&index.name, offset, request)?),
        None => None,
    };
    let mut columns: Vec<QueryColumn> = query
        .columns
        .iter()
        .map(|name| QueryColumn {
            name: name.clone(),
            type_text: answer
                .columns
                .iter()
                .find(|c| &c.name == name)
                .and_then(|c| c.type_text.clone()),
        })
        .collect();
    columns.push(QueryColumn {
        name: SCORE_COLUMN.to_string(),
        type_text: Some(SCORE_TYPE.to_string()),
    });
    let data_array: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|r| {
            let mut cells = r.cells;
            cells.push(Value::from(r.score));
            cells
        })
        .collect();
    Ok(json_response(
        200,
        &QueryVectorIndexResponse {
            manifest: Some(QueryManifest {
                column_count: Some(count(columns.len())),
                columns,
                ..QueryManifest::default()
            }),
            result: Some(QueryResult {
                row_count: Some(count(data_array.len())),
                data_array,
            }),
            next_page_token,
            facet_result: None,
        },
    ))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn result_token(index: &str, offset: usize, request: Value) -> Result<String, ApiError> {
    let token = ResultToken {
        index: index.to_string(),
        offset,
        request,
    };
    let bytes = serde_json::to_vec(&token)
        .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The query a body asks for, checked against the reference and the index.
fn checked_query(body: &Value, index: &VectorIndex) -> Result<VectorQuery, ApiError> {
    let columns = strings(body, "columns")?.unwrap_or_default();
    if columns.is_empty() {
        return Err(ApiError::invalid_parameter(
            "Missing required field: columns (the columns to return).",
        ));
    }
    let num_results = match body.get("num_results").filter(|v| !v.is_null()) {
        None => DEFAULT_RESULTS,
        Some(n) => match n.as_i64() {
            Some(n) if (1..=i64::from(MAX_QUERY_RESULTS)).contains(&n) => {
                usize::try_from(n).unwrap_or(DEFAULT_RESULTS)
            }
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "num_results must be an integer between 1 and {MAX_QUERY_RESULTS}, got {n}."
                )));
            }
        },
    };
    let score_threshold = match body.get("score_threshold").filter(|v| !v.is_null()) {
        None => 0.0,
        Some(t) => t.as_f64().ok_or_else(|| {
            ApiError::invalid_parameter(format!("score_threshold must be a number, got {t}."))
        })?,
    };
    let query_type = match text(body, "query_type")? {
        None => QueryType::Ann,
        Some(t) => QueryType::parse(&t).ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "Invalid query_type: {t}. Must be ANN, HYBRID or FULL_TEXT."
            ))
        })?,
    };
    let filters = match text(body, "filters_json")? {
        None => Vec::new(),
        Some(f) => parse_filters(&f)?,
    };
    check_reranking(body)?;
    let query = VectorQuery {
        columns,
        num_results,
        score_threshold,
        query_type,
        query_text: text(body, "query_text")?.filter(|t| !t.trim().is_empty()),
        query_vector: query_vector(body)?,
        filters,
    };
    check_inputs(&query, index)?;
    Ok(query)
}

/// A string field; absent, null or empty ⇒ `None`.
fn text(body: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
        Some(other) => Err(ApiError::invalid_parameter(format!(
            "{name} must be a string, got {other}."
        ))),
    }
}

/// A list of nonempty strings; absent or null ⇒ `None`.
fn strings(body: &Value, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = body.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let wrong = || ApiError::invalid_parameter(format!("{name} must be a list of column names."));
    value
        .as_array()
        .ok_or_else(wrong)?
        .iter()
        .map(|v| {
            v.as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(wrong)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn query_vector(body: &Value) -> Result<Option<Vec<f64>>, ApiError> {
    let Some(value) = body.get("query_vector").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let wrong = || ApiError::invalid_parameter("query_vector must be a nonempty list of numbers.");
    let vector = value
        .as_array()
        .ok_or_else(wrong)?
        .iter()
        .map(|x| x.as_f64().ok_or_else(wrong))
        .collect::<Result<Vec<f64>, _>>()?;
    if vector.is_empty() {
        return Err(wrong());
    }
    Ok(Some(vector))
}

/// `reranker` and `columns_to_rerank` are checked; the order the backend's scores give is
/// kept (no backend here has a reranking model). The newer `query_columns`,
/// `sort_columns` and `facets` are refused: no backend here can honour them.
fn check_reranking(body: &Value) -> Result<(), ApiError> {
    strings(body, "columns_to_rerank")?;
    if let Some(r) = body.get("reranker").filter(|v| !v.is_null()) {
        let model_ok = r
            .get("model")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty());
        let columns_ok = r
            .pointer("/parameters/columns_to_rerank")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().all(Value::is_string));
        if !model_ok || !columns_ok {
            return Err(ApiError::invalid_parameter(
                "reranker must be {\"model\": <name>, \"parameters\": {\"columns_to_rerank\": [<column>, ...]}}.",
            ));
        }
    }
    for name in ["query_columns", "sort_columns", "facets"] {
        if strings(body, name)?.is_some_and(|v| !v.is_empty()) {
            return Err(ApiError::new(
                ErrorCode::NotImplemented,
                format!("{name} is not supported by this workspace's vector search."),
            ));
        }
    }
    Ok(())
}

/// Which inputs a query type takes (§9.3): ANN one of text and vector, not both; HYBRID
/// text, and a vector too for an index that does not compute embeddings; FULL_TEXT text
/// only. A text query needs an index that computes embeddings (unless full text), and a
/// vector must have the index's dimension.
fn check_inputs(query: &VectorQuery, index: &VectorIndex) -> Result<(), ApiError> {
    let name = &index.name;
    let (text, vector) = (query.query_text.is_some(), query.query_vector.as_ref());
    let embeds = !index.embedding_source_columns().is_empty();
    let refuse = |message: String| Err(ApiError::invalid_parameter(message));
    match query.query_type {
        _ if !text && vector.is_none() => {
            return refuse("Either query_text or query_vector must be provided.".into());
        }
        QueryType::Ann if text && vector.is_some() => {
            return refuse(
                "Send query_text or query_vector for an ANN query, not both (use HYBRID to combine them).".into(),
            );
        }
        QueryType::Ann if text && !embeds => {
            return refuse(format!(
                "Index {name} does not compute embeddings: query_vector is required for ANN queries."
            ));
        }
        QueryType::Hybrid if !text => {
            return refuse("query_text is required for HYBRID queries.".into());
        }
        QueryType::Hybrid if vector.is_none() && !embeds => {
            return refuse(format!(
                "Index {name} does not compute embeddings: HYBRID queries need query_vector too."
            ));
        }
        QueryType::FullText if !text || vector.is_some() => {
            return refuse("FULL_TEXT queries take query_text and no query_vector.".into());
        }
        _ => {}
    }
    if let Some(vector) = vector {
        let dimensions: Vec<i64> = index
            .embedding_vector_columns()
            .iter()
            .filter_map(|c| c.embedding_dimension)
            .collect();
        if let [dimension] = dimensions.as_slice()
            && count(vector.len()) != *dimension
        {
            return refuse(format!(
                "query_vector has {} dimensions but index {name} has {dimension}.",
                vector.len()
            ));
        }
    }
    Ok(())
}

/// `filters_json` of a standard endpoint: a JSON object whose keys are a column, optionally
/// followed by an operator (`<`, `<=`, `>`, `>=`, `NOT`, `LIKE`), and whose values are
/// scalars or, for equality and `NOT`, lists of them. The conditions all hold.
pub(crate) fn parse_filters(text: &str) -> Result<Vec<Filter>, ApiError> {
    let invalid = |why: String| ApiError::invalid_parameter(format!("Invalid filters_json: {why}"));
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("{e}. Expected a JSON object encoded as a string.")))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid(format!("{text} is not a JSON object.")))?;
    object
        .iter()
        .map(|(key, value)| {
            let key = key.trim();
            let (column, op) = match key.rsplit_once(char::is_whitespace) {
                None => (key, FilterOp::Eq),
                Some((column, suffix)) => {
                    let op = FilterOp::parse(suffix).ok_or_else(|| {
                        invalid(format!(
                            "unsupported operator '{suffix}' in key '{key}' (use <, <=, >, >=, NOT or LIKE)."
                        ))
                    })?;
                    (column.trim(), op)
                }
            };
            if column.is_empty() || column.chars().all(|c| "<>=!".contains(c)) {
                return Err(invalid(format!("key '{key}' names no column.")));
            }
            let values = match value {
                Value::Array(items) if matches!(op, FilterOp::Eq | FilterOp::Not) => items.clone(),
                other => vec![other.clone()],
            };
            let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            if values.is_empty() || !values.iter().all(scalar) {
                return Err(invalid(format!(
                    "the value of '{key}' must be a string, a number or a boolean{}.",
                    if matches!(op, FilterOp::Eq | FilterOp::Not) { ", or a nonempty list of them" } else { "" }
                )));
            }
            if op == FilterOp::Like && !values.iter().all(Value::is_string) {
                return Err(invalid(format!("the value of '{key}' must be a string.")));
            }
            Ok(Filter {
                column: column.to_string(),
                op,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_parse_the_documented_keys() {
        let filters = parse_filters(
            r#"{"lang": "en", "id >=": 5, "tag NOT": ["a", "b"], "text LIKE": "tok", "k": [1, 2]}"#,
        )
        .unwrap_or_default();
        let mut ops: Vec<(&str, FilterOp, usize)> = filters
            .iter()
            .map(|f| (f.column.as_str(), f.op, f.values.len()))
            .collect();
        ops.sort_by_key(|(column, _, _)| *column);
        assert_eq!(
            ops,
            vec![
                ("id", FilterOp::Ge, 1),
                ("k", FilterOp::Eq, 2),
                ("lang", FilterOp::Eq, 1),
                ("tag", FilterOp::Not, 2),
                ("text", FilterOp::Like, 1),
            ]
        );
        for bad in [
            "lang = en",
            "[1]",
            r#"{"id !=": 1}"#,
            r#"{"id >": [1, 2]}"#,
            r#"{"id": null}"#,
            r#"{"id": []}"#,
            r#"{"id": {"a": 1}}"#,
            r#"{"text LIKE": 5}"#,
            r#"{" >": 5}"#,
        ] {
            assert_eq!(parse_filters(bad).map_err(|e| e.status), Err(400), "{bad}");
        }
    }

    #[test]
    fn query_inputs_follow_the_query_type_and_the_index() {
        let computed: VectorIndex = serde_json::from_value(json!({
            "name": "c.s.i",
            "delta_sync_index_spec": {"embedding_source_columns": [{"name": "text"}]}
        }))
        .unwrap_or_default();
        let direct: VectorIndex = serde_json::from_value(json!({
            "name": "c.s.d",
            "direct_access_index_spec": {"embedding_vector_columns": [{"name": "v", "embedding_dimension": 2}]}
        }))
        .unwrap_or_default();
        let status = |body: Value, index: &VectorIndex| {
            checked_query(&body, index)
                .map(|_| 200)
                .unwrap_or_else(|e| e.status)
        };
        let cols = json!(["id"]);
        assert_eq!(
            status(json!({"columns": cols, "query_text": "x"}), &computed),
            200
        );
        assert_eq!(
            status(json!({"columns": cols, "query_text": "x"}), &direct),
            400
        );
        assert_eq!(
            status(json!({"columns": cols, "query_vector": [1, 2]}), &direct),
            200
        );
        assert_eq!(
            status(json!({"columns": cols, "query_vector": [1]}), &direct),
            400
        );
        assert_eq!(
            status(
                json!({"columns": cols, "query_text": "x", "query_vector": [1, 2]}),
                &direct
            ),
            400
        );
        assert_eq!(
            status(
                json!({"columns": cols, "query_text": "x", "query_vector": [1, 2], "query_type": "hybrid"}),
                &direct
            ),
            200
        );
        assert_eq!(
            status(
                json!({"columns": cols, "query_text": "x", "query_type": "FULL_TEXT"}),
                &direct
            ),
            200
        );
        assert_eq!(status(json!({"columns": cols}), &computed), 400);
        assert_eq!(status(json!({"query_text": "x"}), &computed), 400);
        assert_eq!(
            status(
                json!({"columns": cols, "query_text": "x", "num_results": 0}),
                &computed
            ),
            400
        );
        assert_eq!(
            status(
                json!({"columns": cols, "query_text": "x", "facets": ["a"]}),
                &computed
            ),
            501
        );
    }
}
