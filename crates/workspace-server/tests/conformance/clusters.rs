//! Clusters API 2.1 (REFERENCE.md §5), served under 2.0 too.

use std::time::{Duration, Instant};

use databricks_api::compute::{Cluster, ClusterEvent, ClusterEventsPage, ClustersPage};
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const LIST: &str = "/api/2.1/clusters/list";

conformance! {
    clusters_are_listed_whole_or_in_pages => super::clusters_are_listed_whole_or_in_pages;
    a_cluster_is_read_by_id_under_both_versions => super::a_cluster_is_read_by_id_under_both_versions;
    cluster_id_is_required => super::cluster_id_is_required;
    unknown_clusters_are_invalid_parameters => super::unknown_clusters_are_invalid_parameters;
    list_filters_sort_and_checks_parameters => super::list_filters_sort_and_checks_parameters;
    actions_follow_the_cluster_state => super::actions_follow_the_cluster_state;
    events_page_with_tokens => super::events_page_with_tokens;
    events_page_with_offsets => super::events_page_with_offsets;
    events_are_filtered_and_parameters_checked => super::events_are_filtered_and_parameters_checked;
}

fn ids(clusters: &[Value]) -> Vec<&str> {
    clusters
        .iter()
        .filter_map(|c| c["cluster_id"].as_str())
        .collect()
}

/// §5.1: no `page_size` ⇒ one answer; `page_size` = 1 ⇒ the same clusters in pages, each
/// page after the first saying how to go back. The list leaves `spec` out.
async fn clusters_are_listed_whole_or_in_pages(t: Target) {
    let (status, v) = t.get(LIST).await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let all: ClustersPage = serde_json::from_value(v.clone()).expect("clusters");
    assert!(all.clusters.iter().any(|c| c.cluster_id == t.known.cluster));
    assert!(all.clusters.iter().all(|c| c.spec.is_none()), "{v}");
    let expected: Vec<&str> = all.clusters.iter().map(|c| c.cluster_id.as_str()).collect();
    for version in ["2.0", "2.1"] {
        let (paged, pages) = t
            .all_pages(
                &format!("/api/{version}/clusters/list?page_size=1"),
                "clusters",
            )
            .await;
        assert_eq!(ids(&paged), expected);
        assert_eq!(pages, expected.len());
    }
    let (_, first) = t.get(&format!("{LIST}?page_size=1")).await;
    assert!(first.get("prev_page_token").is_none(), "{first}");
    if let Some(token) = first["next_page_token"].as_str() {
        let (_, second) = t
            .get(&format!("{LIST}?page_size=1&page_token={}", encode(token)))
            .await;
        let back = second["prev_page_token"].as_str().expect("prev_page_token");
        let (_, again) = t
            .get(&format!("{LIST}?page_size=1&page_token={}", encode(back)))
            .await;
        assert_eq!(
            ids(as_array(&again["clusters"])),
            ids(as_array(&first["clusters"]))
        );
    }
}

fn as_array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

async fn a_cluster_is_read_by_id_under_both_versions(t: Target) {
    for version in ["2.0", "2.1"] {
        let path = format!("/api/{version}/clusters/get?cluster_id={}", t.known.cluster);
        let (status, v) = t.get(&path).await;
        assert_eq!(status, 200, "{v}");
        let cluster: Cluster = serde_json::from_value(v).expect("a cluster");
        assert_eq!(cluster.cluster_id, t.known.cluster);
        assert_eq!(cluster.state.as_deref(), Some("RUNNING"));
        assert!(cluster.cluster_name.is_some_and(|n| !n.is_empty()));
    }
}

/// A missing or empty `cluster_id` is 400 `INVALID_PARAMETER_VALUE` everywhere.
async fn cluster_id_is_required(t: Target) {
    assert_error(
        &t.get("/api/2.1/clusters/get").await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get("/api/2.1/clusters/get?cluster_id=").await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    for action in ["start", "restart", "delete", "events"] {
        for body in [json!({}), json!({"cluster_id": ""})] {
            assert_error(
                &t.post(&format!("/api/2.1/clusters/{action}"), &body).await,
                400,
                "INVALID_PARAMETER_VALUE",
            );
        }
    }
}

/// An unknown cluster is 400 `INVALID_PARAMETER_VALUE` "Cluster … does not exist" (what
/// the service answers; SDKs map it to not-found); an unknown route is 404.
async fn unknown_clusters_are_invalid_parameters(t: Target) {
    let mut answers = vec![t.get("/api/2.1/clusters/get?cluster_id=nope").await];
    for action in ["start", "restart", "delete", "events"] {
        let path = format!("/api/2.0/clusters/{action}");
        answers.push(t.post(&path, &json!({"cluster_id": "nope"})).await);
    }
    for answer in &answers {
        assert_error(answer, 400, "INVALID_PARAMETER_VALUE");
        assert_eq!(
            answer.1["message"], "Cluster nope does not exist",
            "{}",
            answer.1
        );
    }
    for (method, path) in [
        (Method::GET, "/api/2.1/clusters/events"),
        (Method::POST, "/api/2.1/clusters/reboot"),
        (Method::POST, "/api/2.1/clusters/list"),
    ] {
        assert_error(&t.send(method, path, true).await, 404, "ENDPOINT_NOT_FOUND");
    }
}

async fn list_filters_sort_and_checks_parameters(t: Target) {
    let (_, running) = t
        .get(&format!("{LIST}?filter_by.cluster_states=RUNNING"))
        .await;
    let running = as_array(&running["clusters"]).to_vec();
    assert!(ids(&running).contains(&t.known.cluster));
    assert!(running.iter().all(|c| c["state"] == "RUNNING"));
    // The Go SDK's bracketed form, repeated values, and nothing left: `{}`.
    let (status, none) = t
        .get(&format!(
            "{LIST}?filter_by[cluster_states]=ERROR&filter_by[cluster_states]=UNKNOWN"
        ))
        .await;
    assert_eq!((status, none), (200, json!({})));
    let (_, pinned) = t.get(&format!("{LIST}?filter_by.is_pinned=true")).await;
    assert_eq!(pinned, json!({}));
    let (_, by_name) = t
        .get(&format!(
            "{LIST}?sort_by.field=CLUSTER_NAME&sort_by.direction=DESC"
        ))
        .await;
    let names: Vec<&str> = as_array(&by_name["clusters"])
        .iter()
        .filter_map(|c| c["cluster_name"].as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    for query in [
        "page_size=-1",
        "page_size=many",
        "page_size=1&page_token=bogus",
        "sort_by.field=SIZE",
        "sort_by.direction=UP",
        "filter_by.is_pinned=maybe",
    ] {
        assert_error(
            &t.get(&format!("{LIST}?{query}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
}

/// Reads the cluster until it is in `state` (a backend reports a transitional state for a
/// moment or for one read): the cluster as then read.
async fn wait_for(t: &Target, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, v) = t
            .get(&format!("/api/2.1/clusters/get?cluster_id={id}"))
            .await;
        assert_eq!(status, 200, "{v}");
        if v["state"] == state {
            return v;
        }
        assert!(Instant::now() < deadline, "never {state}: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn action(t: &Target, name: &str) -> (u16, Value) {
    t.post(
        &format!("/api/2.1/clusters/{name}"),
        &json!({"cluster_id": t.known.cluster}),
    )
    .await
}

/// §5.3/§5.4 and restart: `{}` when the state allows the action, nothing done when it
/// already happened, `INVALID_STATE` otherwise.
async fn actions_follow_the_cluster_state(t: Target) {
    let id = t.known.cluster;
    assert_error(&action(&t, "start").await, 400, "INVALID_STATE");
    assert_eq!(action(&t, "restart").await, (200, json!({})));
    wait_for(&t, id, "RUNNING").await;
    assert_eq!(action(&t, "delete").await, (200, json!({})));
    let terminated = wait_for(&t, id, "TERMINATED").await;
    assert_eq!(terminated["termination_reason"]["code"], "USER_REQUEST");
    assert_eq!(action(&t, "delete").await, (200, json!({})), "idempotent");
    let refused = action(&t, "restart").await;
    assert_error(&refused, 400, "INVALID_STATE");
    assert!(
        refused.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("Terminated")),
        "{}",
        refused.1
    );
    assert_eq!(action(&t, "start").await, (200, json!({})));
    let (_, starting) = t
        .get(&format!("/api/2.1/clusters/get?cluster_id={id}"))
        .await;
    assert!(
        matches!(starting["state"].as_str(), Some("PENDING" | "RUNNING")),
        "{starting}"
    );
    wait_for(&t, id, "RUNNING").await;
    let (_, events) = t
        .post(
            "/api/2.1/clusters/events",
            &json!({"cluster_id": id, "event_types": ["RESTARTING", "TERMINATING", "TERMINATED", "STARTING"]}),
        )
        .await;
    let types: Vec<&str> = as_array(&events["events"])
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types.get(..4),
        Some(["STARTING", "TERMINATED", "TERMINATING", "RESTARTING"].as_slice()),
        "{events}"
    );
}

/// Every event of the known cluster, newest first, in one answer.
async fn all_events(t: &Target) -> Vec<ClusterEvent> {
    let (status, v) = t
        .post(
            "/api/2.0/clusters/events",
            &json!({"cluster_id": t.known.cluster, "page_size": 500}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let page: ClusterEventsPage = serde_json::from_value(v).expect("events");
    assert!(page.next_page_token.is_none());
    page.events
}

/// §5.5 token paging: `next_page_token`, `prev_page_token` after the first page,
/// `total_count` 0; newest first unless `order` is `ASC`.
async fn events_page_with_tokens(t: Target) {
    assert_eq!(action(&t, "restart").await.0, 200);
    let all = all_events(&t).await;
    assert!(all.len() >= 3, "{all:?}");
    let times: Vec<i64> = all.iter().map(|e| e.timestamp.unwrap_or(0)).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(
        all.iter()
            .all(|e| e.cluster_id.as_deref() == Some(t.known.cluster))
    );
    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"cluster_id": t.known.cluster, "page_size": 2});
        if let Some(token) = &token {
            body["page_token"] = json!(token);
        }
        let (status, v) = t.post("/api/2.1/clusters/events", &body).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["total_count"], 0, "{v}");
        assert_eq!(v.get("prev_page_token").is_some(), token.is_some(), "{v}");
        assert!(v.get("next_page").is_none(), "{v}");
        let page: ClusterEventsPage = serde_json::from_value(v).expect("events");
        paged.extend(page.events);
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let (_, ascending) = t
        .post(
            "/api/2.1/clusters/events",
            &json!({"cluster_id": t.known.cluster, "order": "ASC", "page_size": 500}),
        )
        .await;
    let ascending: ClusterEventsPage = serde_json::from_value(ascending).expect("events");
    let mut reversed = all;
    reversed.reverse();
    assert_eq!(ascending.events, reversed);
}

/// §5.5 deprecated offset paging: `next_page` is the whole request for the next page and
/// `total_count` counts every event the filters keep.
async fn events_page_with_offsets(t: Target) {
    assert_eq!(action(&t, "restart").await.0, 200);
    let all = all_events(&t).await;
    let mut request = json!({"cluster_id": t.known.cluster, "offset": 0, "limit": 2});
    let mut paged = Vec::new();
    loop {
        let (status, v) = t.post("/api/2.1/clusters/events", &request).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["total_count"], all.len(), "{v}");
        assert!(v.get("next_page_token").is_none(), "{v}");
        let page: ClusterEventsPage = serde_json::from_value(v.clone()).expect("events");
        paged.extend(page.events);
        match v.get("next_page") {
            Some(next) => {
                assert_eq!(next["cluster_id"], t.known.cluster, "{v}");
                assert_eq!(next["offset"], paged.len(), "{v}");
                request = next.clone();
            }
            None => break,
        }
    }
    assert_eq!(paged, all);
}

async fn events_are_filtered_and_parameters_checked(t: Target) {
    let id = t.known.cluster;
    let all = all_events(&t).await;
    let (_, running) = t
        .post(
            "/api/2.1/clusters/events",
            &json!({"cluster_id": id, "event_types": ["RUNNING"]}),
        )
        .await;
    let running: ClusterEventsPage = serde_json::from_value(running).expect("events");
    assert!(!running.events.is_empty());
    assert!(
        running
            .events
            .iter()
            .all(|e| e.type_.as_deref() == Some("RUNNING"))
    );
    let newest = all.first().and_then(|e| e.timestamp).expect("a timestamp");
    let (_, window) = t
        .post(
            "/api/2.1/clusters/events",
            &json!({"cluster_id": id, "start_time": newest, "end_time": newest}),
        )
        .await;
    let window: ClusterEventsPage = serde_json::from_value(window).expect("events");
    assert!(!window.events.is_empty());
    assert!(window.events.iter().all(|e| e.timestamp == Some(newest)));
    let (status, none) = t
        .post(
            "/api/2.1/clusters/events",
            &json!({"cluster_id": id, "end_time": 0}),
        )
        .await;
    assert_eq!((status, none), (200, json!({"total_count": 0})));
    for bad in [
        json!({"page_size": 501}),
        json!({"page_size": -1}),
        json!({"limit": 501}),
        json!({"offset": -1}),
        json!({"order": "UP"}),
        json!({"page_token": "bogus"}),
        json!({"start_time": "yesterday"}),
    ] {
        let mut body = bad.clone();
        body["cluster_id"] = json!(id);
        assert_error(
            &t.post("/api/2.1/clusters/events", &body).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
}
