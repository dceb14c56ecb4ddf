//! Vector Search (REFERENCE.md §9): the [`VectorSearch`] backend of the workspace server.
//! An index is a JSON definition in `<dir>/vector_search/indexes/<name>.json` over a Delta
//! table with an embedding column and/or a text column. Queries are exact nearest-neighbour scans of the table:
//! `query_vector` against the embedding column (score `1 / (1 + L2²)`), `query_text`
//! through a built-in deterministic *lexical* embedding (hashed bag of words, cosine
//! similarity) — labelled as such, since it matches shared words, not meaning.

use databricks_api::backend::{Answer, VectorSearch, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::vector_search::{
    EndpointInfo, EndpointStatus, Filter, FilterOp, IndexStatus, QueryColumn, QueryType, ScoredRow,
    ScoredRows, VectorIndex, VectorQuery,
};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, col, lit};
use serde_json::Value;

use super::Shared;

/// The one vector search endpoint.
pub(crate) const ENDPOINT: &str = "local";
/// Name of the built-in embedding.
pub(crate) const LEXICAL_MODEL: &str = "local-lexical-hash-embedding";
/// Dimension of the built-in embedding.
pub(crate) const DIMENSION: usize = 256;

const LEXICAL_NOTE: &str = "query_text uses the local workspace's built-in lexical embedding (hashed bag of words, 256 dimensions): it matches shared words, not meaning. Configure a real embedding model for semantic search.";

const STOPWORDS: [&str; 24] = [
    "the", "a", "an", "of", "and", "or", "to", "in", "on", "for", "with", "is", "are", "be", "by",
    "as", "at", "it", "its", "this", "that", "from", "each", "per",
];

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|t| t.chars().count() > 1 && !STOPWORDS.contains(&t.as_str()))
        .map(|t| {
            if t.len() > 3 && t.ends_with('s') && !t.ends_with("ss") {
                t[..t.len() - 1].to_string()
            } else {
                t
            }
        })
        .collect()
}

/// The built-in deterministic lexical embedding: signed feature hashing of words (weight 1)
/// and word pairs (weight 0.5), L2-normalised.
pub(crate) fn lexical_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIMENSION];
    let toks = tokens(text);
    let mut add = |feature: &str, w: f32| {
        let h = fnv(feature);
        let i = (h % DIMENSION as u64) as usize;
        let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
        if let Some(x) = v.get_mut(i) {
            *x += sign * w;
        }
    };
    for t in &toks {
        add(t, 1.0);
    }
    for (a, b) in toks.iter().zip(toks.iter().skip(1)) {
        add(&format!("{a} {b}"), 0.5);
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// Every index definition of the workspace, as the API shows it (without a status).
fn definitions(sh: &Shared) -> Vec<VectorIndex> {
    let dir = sh.layout.vector_indexes();
    let mut indexes: Vec<VectorIndex> = crate::layout::files(&dir)
        .iter()
        .filter(|f| f.ends_with(".json"))
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .filter_map(|t| serde_json::from_str::<VectorIndex>(&t).ok())
        .filter(|v| !v.name.is_empty())
        .map(|mut v| {
            v.endpoint_name.get_or_insert_with(|| ENDPOINT.to_string());
            v.index_type.get_or_insert_with(|| "DELTA_SYNC".to_string());
            v.creator = Some(crate::layout::user_name());
            v.status = None;
            v
        })
        .collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    indexes
}

fn endpoint(sh: &Shared) -> EndpointInfo {
    EndpointInfo {
        name: ENDPOINT.to_string(),
        id: Some(crate::lakehouse::uuid_from("vector-search-endpoint")),
        endpoint_type: Some("STANDARD".to_string()),
        endpoint_status: Some(EndpointStatus {
            state: Some("ONLINE".to_string()),
            message: Some("Exact nearest-neighbour search in the local workspace.".to_string()),
        }),
        num_indexes: Some(i64::try_from(definitions(sh).len()).unwrap_or(i64::MAX)),
        creator: Some(crate::layout::user_name()),
        creation_timestamp: Some(sh.started_ms),
        last_updated_timestamp: Some(sh.started_ms),
        last_updated_user: Some(crate::layout::user_name()),
        ..EndpointInfo::default()
    }
}

#[async_trait]
impl VectorSearch for Shared {
    async fn endpoints(&self) -> Answer<Vec<EndpointInfo>> {
        Ok(vec![endpoint(self)])
    }

    async fn indexes(&self) -> Answer<Vec<VectorIndex>> {
        Ok(definitions(self))
    }

    async fn index(&self, name: &str) -> Answer<Option<VectorIndex>> {
        let Some(mut index) = definitions(self).into_iter().find(|v| v.name == name) else {
            return Ok(None);
        };
        index.status = Some(status(self, &index).await);
        Ok(Some(index))
    }

    async fn query(&self, index: &VectorIndex, query: &VectorQuery) -> Answer<ScoredRows> {
        search(self, index, query).await
    }
}

/// Ready when the source table can be counted.
async fn status(sh: &Shared, index: &VectorIndex) -> IndexStatus {
    let count = match index.source_table() {
        Some(t) => sh
            .engine
            .query(&format!("SELECT count(*) AS n FROM {}", quote_name(t)))
            .await
            .ok()
            .and_then(|r| {
                let c = cast(r.batch.columns().first()?, &DataType::Int64).ok()?;
                let a = c.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                (a.len() == 1).then(|| a.value(0))
            }),
        None => None,
    };
    IndexStatus {
        ready: Some(count.is_some()),
        indexed_row_count: Some(count.unwrap_or(0)),
        message: Some(if count.is_some() {
            LEXICAL_NOTE.to_string()
        } else {
            "The source table cannot be read.".to_string()
        }),
        index_url: Some(format!(
            "local/vector-search/endpoints/{ENDPOINT}/indexes/{}",
            index.name
        )),
    }
}

/// `` `a`.`b`.`c` `` from `a.b.c`.
fn quote_name(full: &str) -> String {
    full.split('.')
        .map(|p| format!("`{}`", p.replace('`', "``")))
        .collect::<Vec<_>>()
        .join(".")
}

fn json_lit(v: &Value) -> Option<Expr> {
    match v {
        Value::String(s) => Some(lit(s.clone())),
        Value::Bool(b) => Some(lit(*b)),
        Value::Number(n) => n.as_i64().map(lit).or_else(|| n.as_f64().map(lit)),
        _ => None,
    }
}

/// The filters as one DataFusion predicate on the table's columns, except `LIKE` (a
/// whole-word match, which [`Filter::matches`] applies to the rows read).
fn filter_expr(filters: &[Filter], columns: &[String]) -> Result<Option<Expr>, ApiError> {
    let mut out: Option<Expr> = None;
    for f in filters.iter().filter(|f| f.op != FilterOp::Like) {
        let c = col(format!("\"{}\"", f.column));
        let values: Vec<Expr> = f.values.iter().filter_map(json_lit).collect();
        let first = values
            .first()
            .cloned()
            .ok_or_else(|| ApiError::invalid_parameter("filters_json: unsupported value"))?;
        let e = match f.op {
            FilterOp::Eq if values.len() > 1 => c.in_list(values, false),
            FilterOp::Not if values.len() > 1 => c.in_list(values, true),
            FilterOp::Eq => c.eq(first),
            FilterOp::Not => c.not_eq(first),
            FilterOp::Lt => c.lt(first),
            FilterOp::Le => c.lt_eq(first),
            FilterOp::Gt => c.gt(first),
            FilterOp::Ge => c.gt_eq(first),
            FilterOp::Like => continue,
        };
        out = Some(match out {
            None => e,
            Some(prev) => prev.and(e),
        });
    }
    check_columns(
        filters.iter().map(|f| f.column.as_str()),
        columns,
        "filters_json: column",
    )?;
    Ok(out)
}

/// Every name must be a column of the index's table.
fn check_columns<'a>(
    names: impl Iterator<Item = &'a str>,
    columns: &[String],
    what: &str,
) -> Result<(), ApiError> {
    for name in names {
        if !columns.iter().any(|c| c == name) {
            return Err(ApiError::invalid_parameter(format!(
                "{what} '{name}' is not in the index (columns: {}).",
                columns.join(", ")
            )));
        }
    }
    Ok(())
}

fn f32_values(arr: &dyn Array, i: usize) -> Option<Vec<f32>> {
    if arr.is_null(i) {
        return None;
    }
    let inner = match arr.data_type() {
        DataType::List(_) => arr.as_list::<i32>().value(i),
        DataType::LargeList(_) => arr.as_list::<i64>().value(i),
        DataType::FixedSizeList(_, _) => arr.as_fixed_size_list().value(i),
        _ => return None,
    };
    let c = cast(&inner, &DataType::Float32).ok()?;
    let a = c.as_primitive::<datafusion::arrow::datatypes::Float32Type>();
    Some(a.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// The rows of the index's source table that the filters other than `LIKE` keep, after
/// checking the requested columns are the table's.
async fn filtered_rows(
    sh: &Shared,
    index: &VectorIndex,
    query: &VectorQuery,
) -> Result<RecordBatch, ApiError> {
    let name = &index.name;
    let invalid_state = |message: String| ApiError::new(ErrorCode::InvalidState, message);
    let table = index.source_table().ok_or_else(|| {
        invalid_state(format!(
            "Index {name} has no source_table in its definition."
        ))
    })?;
    let parts: Vec<String> = table.split('.').map(str::to_string).collect();
    let (c, s, t) = crate::engine::qualify(
        &parts,
        crate::engine::DEFAULT_CATALOG,
        crate::engine::DEFAULT_SCHEMA,
    )
    .map_err(|e| invalid_state(e.databricks_message()))?;
    let loc = sh
        .engine
        .lake
        .locate(&c, &s, &t)
        .map_err(|e| invalid_state(e.databricks_message()))?;
    let mut df = sh
        .engine
        .table_frame(&loc)
        .await
        .map_err(|e| invalid_state(e.databricks_message()))?;
    let schema_cols: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    check_columns(
        query.columns.iter().map(String::as_str),
        &schema_cols,
        "Column",
    )?;
    if let Some(e) = filter_expr(&query.filters, &schema_cols)? {
        df = df
            .filter(e)
            .map_err(|e| ApiError::invalid_parameter(format!("filters_json: {e}")))?;
    }
    let result = crate::engine::collect(df, None, None)
        .await
        .map_err(|e| ApiError::invalid_parameter(e.databricks_message()))?;
    Ok(result.batch)
}

/// The source table's rows the filters keep, scored against the query: the best
/// `num_results` at or above the threshold.
async fn search(
    sh: &Shared,
    index: &VectorIndex,
    query: &VectorQuery,
) -> Result<ScoredRows, ApiError> {
    let name = &index.name;
    let batch = &filtered_rows(sh, index, query).await?;
    let column_of = |n: &str| {
        batch
            .schema()
            .index_of(n)
            .ok()
            .map(|i| batch.column(i).clone())
    };
    let compared = match (&query.query_vector, &query.query_text) {
        (Some(v), _) if query.query_type != QueryType::FullText => {
            Query::Vector(v.iter().map(|x| *x as f32).collect())
        }
        (_, Some(t)) => Query::Text(t),
        (Some(v), None) => Query::Vector(v.iter().map(|x| *x as f32).collect()),
        (None, None) => {
            return Err(ApiError::invalid_parameter(
                "Pass query_text or query_vector.",
            ));
        }
    };
    let vector_col = index
        .embedding_vector_columns()
        .first()
        .map(|c| c.name.clone());
    let text_col = index
        .embedding_source_columns()
        .first()
        .map(|c| c.name.clone());
    let mut scored = score_rows(
        batch,
        name,
        &compared,
        vector_col.as_deref(),
        text_col.as_deref(),
    )?;
    let likes: Vec<(&Filter, Option<std::sync::Arc<dyn Array>>)> = query
        .filters
        .iter()
        .filter(|f| f.op == FilterOp::Like)
        .map(|f| (f, column_of(&f.column)))
        .collect();
    scored.retain(|(score, i)| {
        *score >= query.score_threshold
            && likes.iter().all(|(f, c)| {
                c.as_ref()
                    .is_some_and(|c| f.matches(&databricks_api::cells::json_value(c.as_ref(), *i)))
            })
    });
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(query.num_results);
    let cols: Vec<std::sync::Arc<dyn Array>> =
        query.columns.iter().filter_map(|c| column_of(c)).collect();
    let rows = scored
        .iter()
        .map(|(score, i)| ScoredRow {
            cells: cols
                .iter()
                .map(|c| databricks_api::cells::json_value(c.as_ref(), *i))
                .collect(),
            score: *score,
        })
        .collect();
    let columns = query
        .columns
        .iter()
        .map(|c| QueryColumn {
            name: c.clone(),
            type_text: batch
                .schema()
                .field_with_name(c)
                .map(|f| crate::types::uc_type_text(f.data_type()))
                .ok(),
        })
        .collect();
    Ok(ScoredRows { columns, rows })
}

/// What a query is compared by.
enum Query<'a> {
    Vector(Vec<f32>),
    Text(&'a str),
}

/// Each row's similarity to the query (rows without a vector or text are left out):
/// `1 / (1 + squared distance)` for vectors, the cosine of lexical embeddings for text.
fn score_rows(
    batch: &RecordBatch,
    name: &str,
    query: &Query<'_>,
    vector_col: Option<&str>,
    text_col: Option<&str>,
) -> Result<Vec<(f64, usize)>, ApiError> {
    let col_of = |n: &str| {
        batch
            .schema()
            .index_of(n)
            .ok()
            .map(|i| batch.column(i).clone())
    };
    let mut scored: Vec<(f64, usize)> = Vec::with_capacity(batch.num_rows());
    match query {
        Query::Vector(qv) => {
            let vc = vector_col.and_then(col_of).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Index {name} has no embedding vector column: use query_text."
                ))
            })?;
            for i in 0..batch.num_rows() {
                let Some(v) = f32_values(vc.as_ref(), i) else {
                    continue;
                };
                if v.len() != qv.len() {
                    return Err(ApiError::invalid_parameter(format!(
                        "query_vector has {} dimensions but the index's vectors have {}.",
                        qv.len(),
                        v.len()
                    )));
                }
                let d2: f64 = v
                    .iter()
                    .zip(qv.iter())
                    .map(|(a, b)| f64::from(a - b).powi(2))
                    .sum();
                scored.push((1.0 / (1.0 + d2), i));
            }
        }
        Query::Text(text) => {
            let tc = text_col.and_then(col_of).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Index {name} has no embedding source (text) column: use query_vector."
                ))
            })?;
            let q = lexical_embedding(text);
            let texts = cast(&tc, &DataType::Utf8)
                .map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;
            let texts = texts.as_string::<i32>();
            for i in 0..batch.num_rows() {
                if texts.is_null(i) {
                    continue;
                }
                let e = lexical_embedding(texts.value(i));
                let cos: f32 = e.iter().zip(&q).map(|(a, b)| a * b).sum();
                scored.push((f64::from(cos.max(0.0)), i));
            }
        }
    }
    Ok(scored)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn embedding_is_deterministic_and_normalised() {
        let a = lexical_embedding("Revenue per nation");
        assert_eq!(a, lexical_embedding("Revenue per nation"));
        let n: f32 = a.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
        let b = lexical_embedding("nation revenue totals");
        let c = lexical_embedding("ship dates of line items");
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!(dot(&a, &b) > dot(&a, &c));
    }

    #[test]
    fn filters_become_one_predicate_on_known_columns() {
        let cols = vec!["id".to_string(), "lang".to_string()];
        let f = |column: &str, op, values: Vec<Value>| Filter {
            column: column.into(),
            op,
            values,
        };
        let both = [
            f("id", FilterOp::Gt, vec![serde_json::json!(5)]),
            f("lang", FilterOp::Eq, vec![serde_json::json!("en")]),
        ];
        assert!(filter_expr(&both, &cols).unwrap().is_some());
        let list = [f(
            "id",
            FilterOp::Not,
            vec![serde_json::json!(1), serde_json::json!(2)],
        )];
        assert!(filter_expr(&list, &cols).unwrap().is_some());
        let like = [f("lang", FilterOp::Like, vec![serde_json::json!("en")])];
        assert!(filter_expr(&like, &cols).unwrap().is_none());
        let unknown = [f("nope", FilterOp::Eq, vec![serde_json::json!(1)])];
        assert_eq!(filter_expr(&unknown, &cols).map_err(|e| e.status), Err(400));
    }
}
