//! Vector Search API 2.0 (REFERENCE.md §9): endpoints, indexes, queries and their pages.

use databricks_api::vector_search::{
    EndpointInfo, EndpointsPage, IndexesPage, QueryVectorIndexResponse, VectorIndex,
};
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const API: &str = "/api/2.0/vector-search";

conformance! {
    endpoints_are_listed_and_read_by_name => super::endpoints_are_listed_and_read_by_name;
    indexes_are_listed_by_endpoint_and_read_by_name => super::indexes_are_listed_by_endpoint_and_read_by_name;
    a_query_answers_the_columns_then_the_score => super::a_query_answers_the_columns_then_the_score;
    query_bodies_are_checked => super::query_bodies_are_checked;
    query_inputs_follow_the_query_type => super::query_inputs_follow_the_query_type;
    filters_are_parsed_and_applied => super::filters_are_parsed_and_applied;
    results_come_in_groups_of_a_thousand => super::results_come_in_groups_of_a_thousand;
}

fn query_path(index: &str) -> String {
    format!("{API}/indexes/{index}/query")
}

/// §9.1: the endpoints in one page (there are few); one by name; an unknown name is 404.
async fn endpoints_are_listed_and_read_by_name(t: Target) {
    let (items, pages) = t.all_pages(&format!("{API}/endpoints?"), "endpoints").await;
    assert_eq!(pages, 1);
    let (status, v) = t.get(&format!("{API}/endpoints")).await;
    assert_eq!(status, 200, "{v}");
    let page: EndpointsPage = serde_json::from_value(v).expect("an endpoints page");
    assert_eq!(page.endpoints.len(), items.len());
    let known = page
        .endpoints
        .iter()
        .find(|e| e.name == t.known.vector_endpoint)
        .expect("the known endpoint is listed");
    assert!(known.endpoint_status.is_some(), "{known:?}");
    let (status, v) = t
        .get(&format!("{API}/endpoints/{}", t.known.vector_endpoint))
        .await;
    assert_eq!(status, 200, "{v}");
    let one: EndpointInfo = serde_json::from_value(v).expect("an endpoint");
    assert_eq!(one.name, t.known.vector_endpoint);
    assert_error(
        &t.get(&format!("{API}/endpoints/no-such-endpoint")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{API}/endpoints?page_token=bogus")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

/// §9.2: `endpoint_name` is required and must name an endpoint; the list shows each
/// index's summary, `get` its status and spec; an unknown index is 404.
async fn indexes_are_listed_by_endpoint_and_read_by_name(t: Target) {
    let list = format!("{API}/indexes");
    assert_error(&t.get(&list).await, 400, "INVALID_PARAMETER_VALUE");
    assert_error(
        &t.get(&format!("{list}?endpoint_name=no-such-endpoint"))
            .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let first_page = format!("{list}?endpoint_name={}", t.known.vector_endpoint);
    let (status, v) = t.get(&first_page).await;
    assert_eq!(status, 200, "{v}");
    let page: IndexesPage = serde_json::from_value(v.clone()).expect("an indexes page");
    let listed = page
        .vector_indexes
        .iter()
        .find(|i| i.name == t.known.vector_index)
        .unwrap_or_else(|| panic!("{} is not listed: {v}", t.known.vector_index));
    assert_eq!(
        listed.endpoint_name.as_deref(),
        Some(t.known.vector_endpoint)
    );
    assert!(listed.primary_key.is_some(), "{v}");
    assert!(
        v["vector_indexes"]
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i.get("status").is_none())),
        "the list shows summaries: {v}"
    );
    assert_error(
        &t.get(&format!("{first_page}&page_token=bogus")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    let get = format!("{list}/{}", t.known.vector_index);
    let (status, v) = t.get(&get).await;
    assert_eq!(status, 200, "{v}");
    let index: VectorIndex = serde_json::from_value(v.clone()).expect("an index");
    assert_eq!(index.name, t.known.vector_index);
    assert!(index.status.as_ref().and_then(|s| s.ready).is_some(), "{v}");
    assert!(!index.embedding_source_columns().is_empty(), "{v}");
    let (status, _) = t
        .get(&format!("{get}?ensure_reranker_compatible=true"))
        .await;
    assert_eq!(status, 200);
    assert_error(
        &t.get(&format!("{get}?ensure_reranker_compatible=maybe"))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{list}/main.default.no_such_index")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

fn scores(v: &Value) -> Vec<f64> {
    v["result"]["data_array"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.as_array()?.last()?.as_f64())
                .collect()
        })
        .unwrap_or_default()
}

fn column(v: &Value, i: usize) -> Vec<Value> {
    v["result"]["data_array"]
        .as_array()
        .map(|rows| rows.iter().map(|r| r[i].clone()).collect())
        .unwrap_or_default()
}

/// §9.3: the requested columns in order then `score`, `column_count`, `row_count`, at most
/// `num_results` rows, best first; `score_threshold` leaves the others out.
async fn a_query_answers_the_columns_then_the_score(t: Target) {
    let path = query_path(t.known.vector_index);
    let (status, v) = t
        .post(
            &path,
            &json!({"columns": ["title", "id"], "query_text": "revenue orders", "num_results": 3}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let response: QueryVectorIndexResponse = serde_json::from_value(v.clone()).expect("a result");
    assert_eq!(response.column_names(), ["title", "id", "score"]);
    let manifest = response.manifest.as_ref().expect("a manifest");
    assert_eq!(manifest.column_count, Some(3));
    assert!(
        manifest.columns.iter().all(|c| c.type_text.is_some()),
        "{v}"
    );
    let rows = response.rows();
    assert_eq!(rows.len(), 3, "{v}");
    assert_eq!(response.result.as_ref().and_then(|r| r.row_count), Some(3));
    assert!(rows.iter().all(|r| r.len() == 3 && r[1].is_number()), "{v}");
    let s = scores(&v);
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "best first: {s:?}");
    assert!(response.next_page().is_none(), "{v}");
    // The default is 10 results; a threshold above the best score leaves none.
    let (_, v) = t
        .post(&path, &json!({"columns": ["id"], "query_text": "revenue"}))
        .await;
    assert!(scores(&v).len() <= 10, "{v}");
    let best = s.first().copied().unwrap_or(0.0);
    let (status, v) = t
        .post(
            &path,
            &json!({"columns": ["id"], "query_text": "revenue orders", "score_threshold": best + 0.5}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"]["row_count"], 0, "{v}");
    assert!(v["result"].get("data_array").is_none(), "{v}");
    let (status, v) = t
        .post(
            &path,
            &json!({"columns": ["id"], "query_text": "revenue orders", "score_threshold": best}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(scores(&v).iter().all(|s| *s >= best), "{v}");
}

/// §9.3: `columns` required, `num_results` from 1 to 10,000, typed fields, no unknown
/// field, columns the index has; an unknown index is 404.
async fn query_bodies_are_checked(t: Target) {
    let path = query_path(t.known.vector_index);
    for body in [
        json!({"query_text": "x"}),
        json!({"columns": [], "query_text": "x"}),
        json!({"columns": "id", "query_text": "x"}),
        json!({"columns": ["id"], "query_text": "x", "num_results": 0}),
        json!({"columns": ["id"], "query_text": "x", "num_results": 10001}),
        json!({"columns": ["id"], "query_text": "x", "num_results": "3"}),
        json!({"columns": ["id"], "query_text": "x", "score_threshold": "high"}),
        json!({"columns": ["id"], "query_text": 5}),
        json!({"columns": ["id"], "query_text": "x", "colums": ["id"]}),
        json!({"columns": ["id"], "query_text": "x", "reranker": {"model": "databricks_reranker"}}),
        json!({"columns": ["no_such_column"], "query_text": "x"}),
        json!("not an object"),
        json!([1]),
    ] {
        let answer = t.post(&path, &body).await;
        assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    }
    let (status, v) = t
        .post(
            &path,
            &json!({"columns": ["id"], "query_text": "x", "reranker": {"model": "databricks_reranker", "parameters": {"columns_to_rerank": ["title"]}}}),
        )
        .await;
    assert_eq!(status, 200, "a reranker is accepted: {v}");
    assert_error(
        &t.post(
            &path,
            &json!({"columns": ["id"], "query_text": "x", "facets": ["title"]}),
        )
        .await,
        501,
        "NOT_IMPLEMENTED",
    );
    assert_error(
        &t.post(
            &query_path("main.default.no_such_index"),
            &json!({"columns": ["id"], "query_text": "x"}),
        )
        .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

/// §9.3: a text or a vector; ANN not both; FULL_TEXT text only; HYBRID text; `query_type`
/// known (any case); a vector of the index's dimension.
async fn query_inputs_follow_the_query_type(t: Target) {
    let path = query_path(t.known.vector_index);
    let ok = |query_type: &str| json!({"columns": ["id"], "query_text": "orders", "query_type": query_type});
    for query_type in ["ANN", "HYBRID", "FULL_TEXT", "hybrid"] {
        let (status, v) = t.post(&path, &ok(query_type)).await;
        assert_eq!(status, 200, "{query_type}: {v}");
    }
    let (_, index) = t
        .get(&format!("{API}/indexes/{}", t.known.vector_index))
        .await;
    let index: VectorIndex = serde_json::from_value(index).expect("an index");
    let dimension = index
        .embedding_vector_columns()
        .first()
        .and_then(|c| c.embedding_dimension)
        .unwrap_or(8);
    let vector = vec![0.5; usize::try_from(dimension).expect("a dimension")];
    for body in [
        json!({"columns": ["id"]}),
        json!({"columns": ["id"], "query_text": ""}),
        json!({"columns": ["id"], "query_text": "x", "query_type": "SEMANTIC"}),
        json!({"columns": ["id"], "query_text": "x", "query_vector": vector}),
        json!({"columns": ["id"], "query_vector": vector, "query_type": "FULL_TEXT"}),
        json!({"columns": ["id"], "query_vector": vector, "query_type": "HYBRID"}),
        json!({"columns": ["id"], "query_vector": []}),
        json!({"columns": ["id"], "query_vector": ["a"]}),
    ] {
        assert_error(&t.post(&path, &body).await, 400, "INVALID_PARAMETER_VALUE");
    }
    if !index.embedding_vector_columns().is_empty() {
        let wrong = json!({"columns": ["id"], "query_vector": [0.5, 0.5, 0.5]});
        assert_error(&t.post(&path, &wrong).await, 400, "INVALID_PARAMETER_VALUE");
        let (status, v) = t
            .post(&path, &json!({"columns": ["id"], "query_vector": vector}))
            .await;
        assert_eq!(status, 200, "{v}");
        let (status, v) = t
            .post(
                &path,
                &json!({"columns": ["id"], "query_text": "x", "query_vector": vector, "query_type": "HYBRID"}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
    }
}

/// `filters_json`: a JSON object as a string; a bare column is equality (a list: any of
/// its values), `NOT`, `<`, `<=`, `>`, `>=` and `LIKE` (a whole word) follow the column.
async fn filters_are_parsed_and_applied(t: Target) {
    let path = query_path(t.known.vector_index);
    let filtered = |filters: Value| json!({"columns": ["id", "title"], "query_text": "orders", "num_results": 50, "filters_json": filters.to_string()});
    let (status, all) = t.post(&path, &filtered(json!({}))).await;
    assert_eq!(status, 200, "{all}");
    let ids: Vec<i64> = column(&all, 0).iter().filter_map(Value::as_i64).collect();
    assert!(ids.len() >= 3, "{all}");
    let (a, b) = (ids[0], ids[2]);
    let (_, v) = t.post(&path, &filtered(json!({"id": [a, b]}))).await;
    let mut got: Vec<i64> = column(&v, 0).iter().filter_map(Value::as_i64).collect();
    got.sort_unstable();
    let mut want = vec![a, b];
    want.sort_unstable();
    assert_eq!(got, want, "{v}");
    let (_, v) = t.post(&path, &filtered(json!({"id NOT": a}))).await;
    let got: Vec<i64> = column(&v, 0).iter().filter_map(Value::as_i64).collect();
    assert!(!got.is_empty() && !got.contains(&a), "{v}");
    let (_, v) = t
        .post(&path, &filtered(json!({"id >=": b, "id <": b + 1})))
        .await;
    assert_eq!(column(&v, 0), vec![json!(b)], "{v}");
    let title = column(&all, 1)[0].as_str().unwrap_or_default().to_string();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .expect("a word of the title")
        .to_ascii_lowercase();
    let (_, v) = t.post(&path, &filtered(json!({"title LIKE": word}))).await;
    let titles = column(&v, 1);
    assert!(titles.contains(&json!(title)), "{v}");
    assert!(
        titles.iter().all(|t| t
            .as_str()
            .unwrap_or_default()
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case(&word))),
        "{v}"
    );
    for bad in [
        json!("id = 5"),
        json!("[1, 2]"),
        json!(json!({"id !=": 5}).to_string()),
        json!(json!({"id >": [1, 2]}).to_string()),
        json!(json!({"id": null}).to_string()),
        json!(json!({"no_such_column": 1}).to_string()),
        json!(5),
    ] {
        let body = json!({"columns": ["id"], "query_text": "orders", "filters_json": bad});
        assert_error(&t.post(&path, &body).await, 400, "INVALID_PARAMETER_VALUE");
    }
}

/// §9.3 paging: at most 1,000 rows an answer; `query-next-page` with `endpoint_name` and
/// the token answers the next group, the last one without a token. Tokens are checked.
async fn results_come_in_groups_of_a_thousand(t: Target) {
    let t = t.writable().await;
    let (index, key) = t.with_large_vector_index();
    let (status, first) = t
        .post(
            &query_path(&index),
            &json!({"columns": [key], "query_text": "special requests", "num_results": 1200}),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["result"]["row_count"], 1000, "{}", first["manifest"]);
    let token = first["next_page_token"]
        .as_str()
        .expect("a next page")
        .to_string();
    let next = format!("{API}/indexes/{index}/query-next-page");
    let endpoint = if index == t.known.vector_index {
        t.known.vector_endpoint
    } else {
        "local"
    };
    let (status, second) = t
        .post(
            &next,
            &json!({"endpoint_name": endpoint, "page_token": token}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["result"]["row_count"], 200);
    assert!(
        second.get("next_page_token").is_none(),
        "{}",
        second["manifest"]
    );
    assert_eq!(second["manifest"], first["manifest"]);
    let mut ids = column(&first, 0);
    ids.extend(column(&second, 0));
    let distinct: std::collections::BTreeSet<String> = ids.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), 1200);
    let mut s = scores(&first);
    s.extend(scores(&second));
    assert!(
        s.windows(2).all(|w| w[0] >= w[1]),
        "best first across pages"
    );
    // Without the endpoint, as the token alone names the query.
    let (status, again) = t.post(&next, &json!({"page_token": token})).await;
    assert_eq!(status, 200);
    assert_eq!(again["result"], second["result"]);
    for body in [
        json!({"endpoint_name": endpoint}),
        json!({"page_token": "bogus"}),
        json!({"page_token": encode("bogus")}),
        json!({"endpoint_name": "no-such-endpoint", "page_token": token}),
        json!({"page_token": token, "extra": 1}),
    ] {
        assert_error(&t.post(&next, &body).await, 400, "INVALID_PARAMETER_VALUE");
    }
    // A token names its index.
    if index != t.known.vector_index {
        let other = format!("{API}/indexes/{}/query-next-page", t.known.vector_index);
        assert_error(
            &t.post(&other, &json!({"page_token": token})).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
}
