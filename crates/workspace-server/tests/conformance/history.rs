//! Query history (REFERENCE.md §11): newest first, token pages with `has_next_page`,
//! `max_results` below 1000, `filter_by.*` from the query string (dotted or bracketed) or
//! a JSON body, every parameter type-checked.

use databricks_api::history::ListQueriesResponse;
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const QUERIES: &str = "/api/2.0/sql/history/queries";

conformance! {
    history_is_newest_first_in_token_pages => super::history_is_newest_first_in_token_pages;
    history_max_results_is_checked => super::history_max_results_is_checked;
    history_filters_by_status => super::history_filters_by_status;
    history_parameter_types_are_checked => super::history_parameter_types_are_checked;
    history_metrics_only_when_asked => super::history_metrics_only_when_asked;
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|q| q["query_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn history_is_newest_first_in_token_pages(t: Target) {
    t.with_query_history().await;
    let (status, v) = t.get(QUERIES).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["has_next_page"], false, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let all: ListQueriesResponse = serde_json::from_value(v).expect("a ListQueriesResponse");
    assert!(all.res.len() >= 2, "{:?}", all.res);
    let starts: Vec<i64> = all
        .res
        .iter()
        .map(|q| q.query_start_time_ms.unwrap_or(0))
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {starts:?}"
    );
    assert!(
        all.res
            .iter()
            .all(|q| !q.query_id.is_empty() && q.status.is_some())
    );
    let expected: Vec<String> = all.res.iter().map(|q| q.query_id.clone()).collect();
    let (paged, pages) = t
        .all_pages(&format!("{QUERIES}?max_results=1"), "res")
        .await;
    assert_eq!(ids(&paged), expected);
    assert_eq!(pages, expected.len());
    let (_, first) = t.get(&format!("{QUERIES}?max_results=1")).await;
    assert_eq!(first["has_next_page"], true, "{first}");
}

async fn history_max_results_is_checked(t: Target) {
    for bad in ["1000", "5000", "-1", "many"] {
        assert_error(
            &t.get(&format!("{QUERIES}?max_results={bad}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    let (status, v) = t.get(&format!("{QUERIES}?max_results=999")).await;
    assert_eq!(status, 200, "{v}");
    assert_error(
        &t.get_with_body(QUERIES, &json!({"max_results": 1000}))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn history_filters_by_status(t: Target) {
    t.with_query_history().await;
    let statuses = |v: &Value| -> Vec<String> {
        v["res"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| q["status"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (status, failed) = t.get(&format!("{QUERIES}?filter_by.statuses=FAILED")).await;
    assert_eq!(status, 200, "{failed}");
    let got = statuses(&failed);
    assert!(
        !got.is_empty() && got.iter().all(|s| s == "FAILED"),
        "{failed}"
    );
    // The Go SDK's bracketed form, repeated keys, and a JSON body say the same.
    let (_, bracketed) = t
        .get(&format!(
            "{QUERIES}?{}=FAILED",
            encode("filter_by[statuses]")
        ))
        .await;
    assert_eq!(ids_of(&bracketed), ids_of(&failed));
    let (_, body) = t
        .get_with_body(QUERIES, &json!({"filter_by": {"statuses": ["FAILED"]}}))
        .await;
    assert_eq!(ids_of(&body), ids_of(&failed));
    let (_, both) = t
        .get(&format!(
            "{QUERIES}?filter_by.statuses=FAILED&filter_by.statuses=FINISHED"
        ))
        .await;
    let got = statuses(&both);
    assert!(
        got.iter().any(|s| s == "FINISHED") && got.iter().any(|s| s == "FAILED"),
        "{both}"
    );
    // Filters narrow by id and by start time too.
    let one = ids_of(&failed)[0].clone();
    let (_, by_id) = t
        .get(&format!(
            "{QUERIES}?filter_by.statement_ids={}",
            encode(&one)
        ))
        .await;
    assert_eq!(ids_of(&by_id), vec![one]);
    let (_, future) = t
        .get(&format!(
            "{QUERIES}?filter_by.query_start_time_range.start_time_ms=4102444800000"
        ))
        .await;
    assert!(future.get("res").is_none(), "{future}");
    assert_error(
        &t.get(&format!("{QUERIES}?filter_by.statuses=DONE")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

fn ids_of(v: &Value) -> Vec<String> {
    ids(v["res"].as_array().map_or(&[], Vec::as_slice))
}

async fn history_parameter_types_are_checked(t: Target) {
    for bad in [
        "include_metrics=maybe",
        "filter_by.user_ids=alice",
        "filter_by.query_start_time_range.start_time_ms=yesterday",
        "filter_by.query_start_time_range.start_time_ms=20&filter_by.query_start_time_range.end_time_ms=10",
        "max_results=1&page_token=not-a-token",
    ] {
        assert_error(
            &t.get(&format!("{QUERIES}?{bad}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    assert_error(
        &t.get_with_body(QUERIES, &json!({"filter_by": {"user_ids": [{"id": 1}]}}))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    // A token of another listing does not continue this one.
    let (_, v) = t.get("/api/2.1/unity-catalog/catalogs?max_results=1").await;
    let token = v["next_page_token"].as_str().expect("a next page");
    assert_error(
        &t.get(&format!("{QUERIES}?page_token={}", encode(token)))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.send(Method::POST, QUERIES, true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        &t.send(Method::GET, QUERIES, false).await,
        401,
        "UNAUTHENTICATED",
    );
}

async fn history_metrics_only_when_asked(t: Target) {
    t.with_query_history().await;
    let (_, v) = t.get(QUERIES).await;
    let res = v["res"].as_array().expect("queries");
    assert!(res.iter().all(|q| q.get("metrics").is_none()), "{v}");
    let (status, v) = t.get(&format!("{QUERIES}?include_metrics=true")).await;
    assert_eq!(status, 200, "{v}");
    let all: ListQueriesResponse = serde_json::from_value(v).expect("a ListQueriesResponse");
    assert!(!all.res.is_empty());
}
