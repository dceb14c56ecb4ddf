//! Vector Search API 2.0 — REFERENCE §9. Endpoints and indexes from the fixtures; queries
//! return deterministic rows for the requested columns plus a trailing `score` column.

use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{R, Req, bad_param, items, not_found, ok, set};

/// Results per page (the service pages by 1000) and overall cap.
const PAGE: usize = 1000;
const CAP: usize = 10_000;

pub(crate) fn route(req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", ["endpoints"]) => ok(json!({ "endpoints": endpoints() })),
        ("GET", ["endpoints", name]) => endpoints()
            .into_iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            .map_or_else(
                || {
                    Err(not_found(format!(
                        "Vector search endpoint {name} not found."
                    )))
                },
                ok,
            ),
        ("GET", ["indexes"]) => list_indexes(req),
        ("GET", ["indexes", name]) => get_index(name).and_then(ok),
        ("POST", ["indexes", name, "query"]) => query(req, name),
        ("POST", ["indexes", name, "query-next-page"]) => next_page(req, name),
        _ => return None,
    })
}

fn endpoints() -> Vec<Value> {
    items(&fixture_json("vs_endpoints_list.json"), "endpoints")
}

fn list_indexes(req: &Req) -> R {
    let endpoint = req.q_req("endpoint_name")?;
    if !endpoints()
        .iter()
        .any(|e| e.get("name").and_then(Value::as_str) == Some(endpoint))
    {
        return Err(not_found(format!(
            "Vector search endpoint {endpoint} not found."
        )));
    }
    let list: Vec<Value> = items(&fixture_json("vs_indexes_list.json"), "vector_indexes")
        .into_iter()
        .filter(|i| i.get("endpoint_name").and_then(Value::as_str) == Some(endpoint))
        .collect();
    if list.is_empty() {
        return ok(json!({}));
    }
    ok(json!({ "vector_indexes": list }))
}

fn get_index(name: &str) -> Result<Value, Response> {
    let detailed = fixture_json("vs_index_get.json");
    if detailed.get("name").and_then(Value::as_str) == Some(name) {
        return Ok(detailed);
    }
    let listed = items(&fixture_json("vs_indexes_list.json"), "vector_indexes")
        .into_iter()
        .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| not_found(format!("Vector index {name} does not exist.")))?;
    let mut v = listed;
    set(
        &mut v,
        "status",
        json!({"ready": true, "indexed_row_count": 512, "message": "Index is ready"}),
    );
    if v.get("index_type").and_then(Value::as_str) == Some("DIRECT_ACCESS") {
        set(
            &mut v,
            "direct_access_index_spec",
            json!({
                "embedding_vector_columns": [{"name": "embedding", "embedding_dimension": 8}],
                "schema_json": "{\"faq_id\": \"int\", \"question\": \"string\", \"answer\": \"string\", \"embedding\": \"array<float>\"}"
            }),
        );
    }
    Ok(v)
}

/// The state a result listing needs to continue: carried in `next_page_token`.
struct Listing {
    columns: Vec<String>,
    offset: usize,
    total: usize,
}

/// Relevance of result `r`: the fixture's scores first, then slowly decreasing.
fn score(r: usize) -> f64 {
    const FIXTURE: [f64; 3] = [0.8734, 0.7612, 0.6021];
    match FIXTURE.get(r) {
        Some(s) => *s,
        None => ((0.6 - (r - 2) as f64 * 0.00005).max(0.0001) * 100_000.0).round() / 100_000.0,
    }
}

fn render(index: &str, l: &Listing) -> Value {
    let fixture = fixture_json("vs_query.json");
    let fixture_cols: Vec<String> = fixture
        .pointer("/manifest/columns")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let fixture_rows = fixture
        .pointer("/result/data_array")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut columns: Vec<Value> = l
        .columns
        .iter()
        .map(|c| {
            let t = fixture_cols
                .iter()
                .position(|f| f == c)
                .and_then(|i| {
                    fixture
                        .pointer(&format!("/manifest/columns/{i}/type_text"))
                        .cloned()
                })
                .unwrap_or(json!(if c.ends_with("id") { "int" } else { "string" }));
            json!({ "name": c, "type_text": t })
        })
        .collect();
    columns.push(json!({ "name": "score", "type_text": "float" }));
    let end = (l.offset + PAGE).min(l.total);
    let rows: Vec<Value> = (l.offset..end)
        .map(|r| {
            let mut row: Vec<Value> = l
                .columns
                .iter()
                .map(|c| {
                    let from_fixture = fixture_cols
                        .iter()
                        .position(|f| f == c)
                        .and_then(|i| fixture_rows.get(r)?.get(i).cloned());
                    from_fixture.unwrap_or_else(|| {
                        if c.ends_with("id") {
                            json!(1000 + r)
                        } else {
                            json!(format!("{c} {r}"))
                        }
                    })
                })
                .collect();
            row.push(json!(score(r)));
            Value::Array(row)
        })
        .collect();
    let mut result = json!({ "row_count": rows.len() });
    if !rows.is_empty() {
        set(&mut result, "data_array", Value::Array(rows));
    }
    let mut out = json!({
        "manifest": { "column_count": columns.len(), "columns": columns },
        "result": result,
    });
    if end < l.total {
        let token = json!({"i": index, "c": l.columns, "o": end, "t": l.total}).to_string();
        set(
            &mut out,
            "next_page_token",
            json!(base64::engine::general_purpose::STANDARD.encode(token)),
        );
    }
    out
}

/// Body fields of a query (REFERENCE §9.3); anything else is refused, so a client that
/// misspells a field learns it here rather than having it silently ignored.
const QUERY_FIELDS: &[&str] = &[
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

/// Checks the types of the optional query fields.
fn check_query_body(req: &Req) -> Result<(), Response> {
    let Some(body) = req.json.as_object() else {
        return Err(bad_param("The request body must be a JSON object."));
    };
    if let Some(unknown) = body.keys().find(|k| !QUERY_FIELDS.contains(&k.as_str())) {
        return Err(bad_param(format!("Unknown field: {unknown}")));
    }
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    if let Some(t) = body.get("query_text")
        && !t.is_string()
    {
        return Err(bad_param("query_text must be a string."));
    }
    if let Some(t) = body.get("score_threshold")
        && !t.is_number()
    {
        return Err(bad_param("score_threshold must be a number."));
    }
    if let Some(t) = body.get("num_results")
        && !(t.is_i64() || t.is_u64())
    {
        return Err(bad_param("num_results must be an integer."));
    }
    if let Some(c) = body.get("columns_to_rerank")
        && !strings(c)
    {
        return Err(bad_param(
            "columns_to_rerank must be a list of column names.",
        ));
    }
    if let Some(r) = body.get("reranker") {
        let model_ok = r.get("model").is_some_and(Value::is_string);
        let columns_ok = r
            .pointer("/parameters/columns_to_rerank")
            .is_some_and(strings);
        if !model_ok || !columns_ok {
            return Err(bad_param(
                "reranker must be {\"model\": <name>, \"parameters\": {\"columns_to_rerank\": [<column>, ...]}}.",
            ));
        }
    }
    Ok(())
}

fn query(req: &Req, name: &str) -> R {
    let index = get_index(name)?;
    check_query_body(req)?;
    let columns: Vec<String> = match req.json.get("columns").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => return Err(bad_param("Missing required field: columns")),
    };
    let query_type = req.b_str("query_type").unwrap_or("ANN");
    if !matches!(
        query_type.to_ascii_uppercase().as_str(),
        "ANN" | "HYBRID" | "FULL_TEXT"
    ) {
        return Err(bad_param(format!(
            "Invalid query_type: {query_type}. Must be ANN, HYBRID or FULL_TEXT."
        )));
    }
    let text = req.b_str("query_text").filter(|t| !t.is_empty());
    let vector = req.json.get("query_vector").and_then(Value::as_array);
    if text.is_none() && vector.is_none() {
        return Err(bad_param(
            "Either query_text or query_vector must be provided.",
        ));
    }
    let direct = index.get("index_type").and_then(Value::as_str) == Some("DIRECT_ACCESS");
    if direct && vector.is_none() && query_type.eq_ignore_ascii_case("ANN") {
        return Err(bad_param(format!(
            "Index {name} does not compute embeddings; query_vector is required for ANN queries."
        )));
    }
    if let Some(f) = req.json.get("filters_json").filter(|f| !f.is_null()) {
        let ok_filter = f
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .is_some_and(|v| v.is_object());
        if !ok_filter {
            return Err(bad_param(format!(
                "Invalid filters_json: {f}. Expected a JSON object encoded as a string."
            )));
        }
    }
    let num = match req.b_i64("num_results")? {
        None => 10,
        Some(n) if n < 1 => {
            return Err(bad_param(format!("num_results must be positive, got {n}.")));
        }
        Some(n) => (n as usize).min(CAP),
    };
    let threshold = req
        .json
        .get("score_threshold")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let total = (0..num).take_while(|r| score(*r) >= threshold).count();
    ok(render(
        name,
        &Listing {
            columns,
            offset: 0,
            total,
        },
    ))
}

fn next_page(req: &Req, name: &str) -> R {
    get_index(name)?;
    let token = req.b_req("page_token")?;
    let invalid = || bad_param(format!("Invalid page token: '{token}'"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    if v.get("i").and_then(Value::as_str) != Some(name) {
        return Err(invalid());
    }
    let columns = v
        .get("c")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .ok_or_else(invalid)?;
    let offset = v.get("o").and_then(Value::as_u64).ok_or_else(invalid)? as usize;
    let total = v.get("t").and_then(Value::as_u64).ok_or_else(invalid)? as usize;
    ok(render(
        name,
        &Listing {
            columns,
            offset,
            total,
        },
    ))
}
