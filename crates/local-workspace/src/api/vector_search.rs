//! Vector Search API 2.0 (REFERENCE.md §9). An index is a JSON definition in
//! `<dir>/vector_search/indexes/<name>.json` over a Delta table with an embedding column
//! and/or a text column. Queries are exact nearest-neighbour scans of the table:
//! `query_vector` against the embedding column (score `1 / (1 + L2²)`), `query_text`
//! through a built-in deterministic *lexical* embedding (hashed bag of words, cosine
//! similarity) — labelled as such, since it matches shared words, not meaning.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, col, lit};
use serde_json::{Value, json};

use super::{HandlerResult, Req, Shared, bad_request, error, not_found, ok};

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
        v[i] += sign * w;
    };
    for t in &toks {
        add(t, 1.0);
    }
    for pair in toks.windows(2) {
        add(&format!("{} {}", pair[0], pair[1]), 0.5);
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

fn indexes(sh: &Shared) -> Vec<Value> {
    let dir = sh.layout.vector_indexes();
    crate::layout::files(&dir)
        .iter()
        .filter(|f| f.ends_with(".json"))
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(|v| v.get("name").and_then(Value::as_str).is_some())
        .collect()
}

fn index(sh: &Shared, name: &str) -> Result<Value, axum::response::Response> {
    indexes(sh)
        .into_iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| {
            not_found(
                "RESOURCE_DOES_NOT_EXIST",
                format!("Vector search index {name} does not exist."),
            )
        })
}

fn endpoint(sh: &Shared) -> Value {
    json!({
        "name": ENDPOINT,
        "id": crate::lakehouse::uuid_from("vector-search-endpoint"),
        "endpoint_type": "STANDARD",
        "endpoint_status": {"state": "ONLINE", "message": "Exact nearest-neighbour search in the local workspace."},
        "num_indexes": indexes(sh).len(),
        "creator": crate::layout::user_name(),
        "creation_timestamp": sh.started_ms,
        "last_updated_timestamp": sh.started_ms,
        "last_updated_user": crate::layout::user_name(),
    })
}

fn summary(v: &Value) -> Value {
    json!({
        "name": v.get("name"),
        "endpoint_name": v.get("endpoint_name").cloned().unwrap_or(json!(ENDPOINT)),
        "index_type": v.get("index_type").cloned().unwrap_or(json!("DELTA_SYNC")),
        "primary_key": v.get("primary_key"),
        "creator": crate::layout::user_name(),
    })
}

fn spec(v: &Value) -> &Value {
    v.get("delta_sync_index_spec")
        .or_else(|| v.get("direct_access_index_spec"))
        .unwrap_or(&Value::Null)
}

fn source_table(v: &Value) -> Option<String> {
    spec(v)
        .get("source_table")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn first_col(v: &Value, key: &str) -> Option<String> {
    spec(v)
        .get(key)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub(crate) async fn route(
    sh: &Arc<Shared>,
    req: &Req,
    method: &str,
    rest: &[&str],
) -> HandlerResult {
    match (method, rest) {
        ("GET", ["endpoints"]) => ok(json!({"endpoints": [endpoint(sh)]})),
        ("GET", ["endpoints", name]) => {
            if *name == ENDPOINT {
                ok(endpoint(sh))
            } else {
                Err(not_found(
                    "RESOURCE_DOES_NOT_EXIST",
                    format!(
                        "Vector search endpoint {name} does not exist; the local workspace has one: {ENDPOINT}."
                    ),
                ))
            }
        }
        ("GET", ["indexes"]) => {
            let ep = req
                .q("endpoint_name")
                .ok_or_else(|| bad_request("Missing required parameter: endpoint_name."))?;
            let list: Vec<Value> = indexes(sh)
                .iter()
                .filter(|v| {
                    v.get("endpoint_name")
                        .and_then(Value::as_str)
                        .unwrap_or(ENDPOINT)
                        == ep
                })
                .map(summary)
                .collect();
            if list.is_empty() {
                ok(json!({}))
            } else {
                ok(json!({"vector_indexes": list}))
            }
        }
        ("GET", ["indexes", name]) => get_index(sh, name).await,
        ("POST", ["indexes", name, "query"]) => query(sh, req, name).await,
        ("POST", ["indexes", name, "query-next-page"]) => {
            let _ = index(sh, name)?;
            ok(json!({"manifest": {"column_count": 0}, "result": {"row_count": 0}}))
        }
        ("POST", ["indexes", name, "sync"]) => {
            let _ = index(sh, name)?;
            ok(json!({}))
        }
        _ => Err(error(
            404,
            "ENDPOINT_NOT_FOUND",
            format!("No vector search API '{method} {}'.", rest.join("/")),
        )),
    }
}

async fn get_index(sh: &Shared, name: &str) -> HandlerResult {
    let v = index(sh, name)?;
    let mut out = summary(&v);
    for k in ["delta_sync_index_spec", "direct_access_index_spec"] {
        if let Some(s) = v.get(k) {
            out[k] = s.clone();
        }
    }
    let count = match source_table(&v) {
        Some(t) => sh
            .engine
            .query(&format!("SELECT count(*) AS n FROM {}", quote_name(&t)))
            .await
            .ok()
            .and_then(|r| {
                let c = cast(r.batch.columns().first()?, &DataType::Int64).ok()?;
                let a = c.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                (a.len() == 1).then(|| a.value(0))
            }),
        None => None,
    };
    out["status"] = json!({
        "ready": count.is_some(),
        "indexed_row_count": count.unwrap_or(0),
        "message": if count.is_some() { LEXICAL_NOTE.to_string() } else { "The source table cannot be read.".to_string() },
        "index_url": format!("local/vector-search/endpoints/{ENDPOINT}/indexes/{name}"),
    });
    ok(out)
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

/// `filters_json`: `{"col": v, "col >": v, "col NOT": v, "col LIKE": "x", "col": [a, b]}`.
fn filters(json_text: &str, columns: &[String]) -> Result<Option<Expr>, String> {
    let v: Value = serde_json::from_str(json_text)
        .map_err(|e| format!("filters_json is not valid JSON: {e}"))?;
    let obj = v.as_object().ok_or("filters_json must be a JSON object")?;
    let mut out: Option<Expr> = None;
    for (key, value) in obj {
        let mut parts = key.trim().rsplitn(2, ' ');
        let last = parts.next().unwrap_or("");
        let (name, op) = match parts.next() {
            Some(n) => (n.trim(), last.trim()),
            None => (last, "="),
        };
        let colname = columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!(
                    "filters_json: unknown column '{name}' (columns: {})",
                    columns.join(", ")
                )
            })?;
        let c = col(format!("\"{colname}\""));
        let e = match (op.to_ascii_uppercase().as_str(), value) {
            (_, Value::Array(items)) => {
                let list: Vec<Expr> = items.iter().filter_map(json_lit).collect();
                let negated = op.eq_ignore_ascii_case("NOT");
                c.in_list(list, negated)
            }
            ("=", v) => c.eq(json_lit(v).ok_or("filters_json: unsupported value")?),
            ("NOT" | "!=", v) => c.not_eq(json_lit(v).ok_or("filters_json: unsupported value")?),
            (">", v) => c.gt(json_lit(v).ok_or("filters_json: unsupported value")?),
            (">=", v) => c.gt_eq(json_lit(v).ok_or("filters_json: unsupported value")?),
            ("<", v) => c.lt(json_lit(v).ok_or("filters_json: unsupported value")?),
            ("<=", v) => c.lt_eq(json_lit(v).ok_or("filters_json: unsupported value")?),
            ("LIKE", Value::String(s)) => c.like(lit(format!("%{s}%"))),
            (other, _) => {
                return Err(format!(
                    "filters_json: unsupported operator '{other}' in key '{key}'"
                ));
            }
        };
        out = Some(match out {
            None => e,
            Some(prev) => prev.and(e),
        });
    }
    Ok(out)
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

async fn query(sh: &Shared, req: &Req, name: &str) -> HandlerResult {
    let idx = index(sh, name)?;
    let body = &req.json;
    let columns: Vec<String> = body
        .get("columns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if columns.is_empty() {
        return Err(bad_request(
            "Missing required field: columns (the columns to return).",
        ));
    }
    let num = body
        .get("num_results")
        .and_then(Value::as_i64)
        .unwrap_or(10);
    if !(1..=10_000).contains(&num) {
        return Err(bad_request(format!(
            "num_results must be between 1 and 10000, got {num}."
        )));
    }
    let threshold = body
        .get("score_threshold")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let query_vector: Option<Vec<f32>> = body
        .get("query_vector")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect());
    let query_text = body
        .get("query_text")
        .and_then(Value::as_str)
        .map(str::to_string);
    if query_vector.is_none() && query_text.is_none() {
        return Err(bad_request("Pass query_text or query_vector."));
    }
    let table = source_table(&idx).ok_or_else(|| {
        error(
            400,
            "INVALID_STATE",
            format!("Index {name} has no source_table in its definition."),
        )
    })?;
    let vector_col = first_col(&idx, "embedding_vector_columns");
    let text_col = first_col(&idx, "embedding_source_columns");
    let parts: Vec<String> = table.split('.').map(str::to_string).collect();
    let (c, s, t) = crate::engine::qualify(
        &parts,
        crate::engine::DEFAULT_CATALOG,
        crate::engine::DEFAULT_SCHEMA,
    )
    .map_err(|e| error(400, "INVALID_STATE", e.databricks_message()))?;
    let loc = sh
        .engine
        .lake
        .locate(&c, &s, &t)
        .map_err(|e| error(400, "INVALID_STATE", e.databricks_message()))?;
    let mut df = sh
        .engine
        .table_frame(&loc)
        .await
        .map_err(|e| error(400, "INVALID_STATE", e.databricks_message()))?;
    let schema_cols: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for c in &columns {
        if !schema_cols.iter().any(|s| s == c) {
            return Err(bad_request(format!(
                "Column '{c}' is not in the index (columns: {}).",
                schema_cols.join(", ")
            )));
        }
    }
    if let Some(f) = body
        .get("filters_json")
        .and_then(Value::as_str)
        .filter(|f| !f.trim().is_empty())
        && let Some(e) = filters(f, &schema_cols).map_err(bad_request)?
    {
        df = df
            .filter(e)
            .map_err(|e| bad_request(format!("filters_json: {e}")))?;
    }
    let result = crate::engine::collect(df, None, None)
        .await
        .map_err(|e| error(400, "INVALID_STATE", e.databricks_message()))?;
    let batch: &RecordBatch = &result.batch;
    let col_of = |n: &str| {
        batch
            .schema()
            .index_of(n)
            .ok()
            .map(|i| batch.column(i).clone())
    };
    let query = match (&query_vector, &query_text) {
        (Some(v), _) => Query::Vector(v),
        (None, Some(t)) => Query::Text(t),
        (None, None) => return Err(bad_request("Pass query_text or query_vector.")),
    };
    let mut scored = score_rows(
        batch,
        name,
        &query,
        vector_col.as_deref(),
        text_col.as_deref(),
    )?;
    scored.retain(|(s, _)| *s >= threshold);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(usize::try_from(num).unwrap_or(10));
    let cols: Vec<Arc<dyn Array>> = columns.iter().filter_map(|c| col_of(c)).collect();
    let rows: Vec<Value> = scored
        .iter()
        .map(|(score, i)| {
            let mut row: Vec<Value> = cols
                .iter()
                .map(|c| crate::render::json_value(c.as_ref(), *i))
                .collect();
            row.push(json!(score));
            Value::Array(row)
        })
        .collect();
    let mut manifest_cols: Vec<Value> = columns
        .iter()
        .map(|c| {
            let t = batch
                .schema()
                .field_with_name(c)
                .map(|f| crate::types::uc_type_text(f.data_type()))
                .unwrap_or_else(|_| "string".into());
            json!({"name": c, "type_text": t})
        })
        .collect();
    manifest_cols.push(json!({"name": "score", "type_text": "double"}));
    ok(json!({
        "manifest": {"column_count": manifest_cols.len(), "columns": manifest_cols},
        "result": {"row_count": rows.len(), "data_array": rows},
    }))
}

/// What a query is compared by.
enum Query<'a> {
    Vector(&'a [f32]),
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
) -> Result<Vec<(f64, usize)>, axum::response::Response> {
    let col_of = |n: &str| {
        batch
            .schema()
            .index_of(n)
            .ok()
            .map(|i| batch.column(i).clone())
    };
    let mut scored: Vec<(f64, usize)> = Vec::with_capacity(batch.num_rows());
    match *query {
        Query::Vector(qv) => {
            let vc = vector_col.and_then(col_of).ok_or_else(|| {
                bad_request(format!(
                    "Index {name} has no embedding vector column: use query_text."
                ))
            })?;
            for i in 0..batch.num_rows() {
                let Some(v) = f32_values(vc.as_ref(), i) else {
                    continue;
                };
                if v.len() != qv.len() {
                    return Err(bad_request(format!(
                        "query_vector has {} dimensions but the index's vectors have {}.",
                        qv.len(),
                        v.len()
                    )));
                }
                let d2: f64 = v
                    .iter()
                    .zip(qv)
                    .map(|(a, b)| f64::from(a - b).powi(2))
                    .sum();
                scored.push((1.0 / (1.0 + d2), i));
            }
        }
        Query::Text(text) => {
            let tc = text_col.and_then(col_of).ok_or_else(|| {
                bad_request(format!(
                    "Index {name} has no embedding source (text) column: use query_vector."
                ))
            })?;
            let q = lexical_embedding(text);
            let texts = cast(&tc, &DataType::Utf8)
                .map_err(|e| error(500, "INTERNAL_ERROR", e.to_string()))?;
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
    fn filter_parsing() {
        let cols = vec!["id".to_string(), "lang".to_string()];
        assert!(
            filters(r#"{"id >": 5, "lang": "en"}"#, &cols)
                .unwrap()
                .is_some()
        );
        assert!(filters(r#"{"id": [1, 2]}"#, &cols).unwrap().is_some());
        assert!(filters(r#"{"nope": 1}"#, &cols).is_err());
    }
}
