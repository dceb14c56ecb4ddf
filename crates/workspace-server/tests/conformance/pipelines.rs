//! Pipelines API 2.0 (REFERENCE.md §6, Lakeflow Declarative Pipelines).

use std::time::{Duration, Instant};

use base64::Engine as _;
use databricks_api::pipelines::{
    GetUpdateResponse, PipelineDetails, PipelineEventsPage, PipelinesPage, UpdatesPage,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Backend, Target, assert_error, encode};

const LIST: &str = "/api/2.0/pipelines";
/// A query the local workspace takes seconds over (an update to stop while it runs).
const SLOW_SQL: &str = "SELECT count(*) AS n FROM samples.tpch.lineitem a CROSS JOIN samples.tpch.lineitem b CROSS JOIN samples.tpch.nation c";

conformance! {
    pipelines_are_listed_in_pages => super::pipelines_are_listed_in_pages;
    list_filters_and_order => super::list_filters_and_order;
    a_pipeline_is_read_by_id => super::a_pipeline_is_read_by_id;
    unknown_pipelines_and_updates_are_not_found => super::unknown_pipelines_and_updates_are_not_found;
    an_update_runs_to_its_end_and_leaves_events => super::an_update_runs_to_its_end_and_leaves_events;
    events_page_filter_and_order => super::events_page_filter_and_order;
    one_update_at_a_time_and_stop_cancels_it => super::one_update_at_a_time_and_stop_cancels_it;
    bad_parameters_are_rejected => super::bad_parameters_are_rejected;
}

/// A pipeline of the backend that is IDLE and whose update completes: the emulator's
/// `orders_dlt`, the local workspace's sample pipeline.
fn known_pipeline(t: &Target) -> &'static str {
    match t.backend {
        Backend::Emulator => "a12cd3e4-0ab1-1abc-1a2b-1a2bcd3e4fg5",
        Backend::Local => "10ca1000-0000-4000-8000-000000000001",
    }
}

/// Creates a pipeline whose one library is a SQL file defining `sql` as a materialized
/// view (the file is written to the workspace first), and with `notebook` a notebook
/// library `/Workspace/Shared/conformance/<name>` besides; its id.
async fn create_pipeline(t: &Target, name: &str, sql: &str, notebook: bool) -> String {
    let dir = "/Shared/conformance";
    let path = format!("{dir}/{name}.sql");
    let (status, v) = t
        .post("/api/2.0/workspace/mkdirs", &json!({"path": dir}))
        .await;
    assert_eq!(status, 200, "{v}");
    let content = format!("CREATE OR REFRESH MATERIALIZED VIEW {name} AS {sql};");
    let (status, v) = t
        .post(
            "/api/2.0/workspace/import",
            &json!({
                "path": path,
                "format": "AUTO",
                "overwrite": true,
                "content": base64::engine::general_purpose::STANDARD.encode(content),
            }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let mut libraries = vec![json!({"file": {"path": path}})];
    if notebook {
        libraries.push(json!({"notebook": {"path": format!("/Workspace{dir}/{name}")}}));
    }
    let (status, v) = t
        .post(
            LIST,
            &json!({
                "name": name,
                "catalog": "main",
                "schema": "default",
                "libraries": libraries,
                "dry_run": false,
            }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    v["pipeline_id"].as_str().expect("pipeline_id").to_string()
}

fn ids(statuses: &[Value]) -> Vec<String> {
    statuses
        .iter()
        .filter_map(|p| p["pipeline_id"].as_str().map(str::to_string))
        .collect()
}

/// §6.1: token pages of `max_results` hold the whole list, in id order by default.
async fn pipelines_are_listed_in_pages(t: Target) {
    let t = t.writable().await;
    create_pipeline(&t, "listed_a", "SELECT 1 AS x", false).await;
    create_pipeline(&t, "listed_b", "SELECT 2 AS x", false).await;
    let (status, v) = t.get(LIST).await;
    assert_eq!(status, 200, "{v}");
    let page: PipelinesPage = serde_json::from_value(v.clone()).expect("a pipelines page");
    let all: Vec<String> = page
        .statuses
        .iter()
        .map(|p| p.pipeline_id.clone())
        .collect();
    assert!(all.len() >= 3, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "id asc by default");
    // The list shows states, not specs.
    assert!(
        v["statuses"]
            .as_array()
            .expect("statuses")
            .iter()
            .all(|p| p.get("spec").is_none())
    );
    let (paged, pages) = t
        .all_pages(&format!("{LIST}?max_results=1"), "statuses")
        .await;
    assert_eq!(ids(&paged), all);
    assert_eq!(pages, all.len());
    let (paged, pages) = t
        .all_pages(&format!("{LIST}?max_results=2"), "statuses")
        .await;
    assert_eq!(ids(&paged), all);
    assert_eq!(pages, all.len().div_ceil(2));
}

async fn list_filters_and_order(t: Target) {
    let t = t.writable().await;
    let a = create_pipeline(&t, "ordered_a", "SELECT 1 AS x", true).await;
    let b = create_pipeline(&t, "ordered_b", "SELECT 2 AS x", false).await;
    let (_, v) = t.get(&format!("{LIST}?order_by=name%20desc")).await;
    let names: Vec<&str> = v["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let mut descending = names.clone();
    descending.sort_by(|x, y| y.cmp(x));
    assert_eq!(names, descending, "{v}");
    let (status, v) = t
        .get(&format!("{LIST}?filter={}", encode("name LIKE 'ordered%'")))
        .await;
    assert_eq!(status, 200, "{v}");
    let mut found = ids(v["statuses"].as_array().expect("statuses"));
    found.sort();
    let mut expected = vec![a.clone(), b];
    expected.sort();
    assert_eq!(found, expected, "{v}");
    // A notebook path matches with or without its /Workspace prefix.
    for path in [
        "/Shared/conformance/ordered_a",
        "/Workspace/Shared/conformance/ordered_a",
    ] {
        let filter = encode(&format!("notebook='{path}'"));
        let (status, v) = t.get(&format!("{LIST}?filter={filter}")).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            ids(v["statuses"].as_array().expect("statuses")),
            std::slice::from_ref(&a)
        );
    }
    let (status, v) = t
        .get(&format!(
            "{LIST}?filter={}",
            encode("name LIKE 'nothing-is-called-this'")
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("statuses").is_none(), "an empty list is omitted: {v}");
}

async fn a_pipeline_is_read_by_id(t: Target) {
    let id = known_pipeline(&t);
    let (status, v) = t.get(&format!("{LIST}/{id}")).await;
    assert_eq!(status, 200, "{v}");
    let pipeline: PipelineDetails = serde_json::from_value(v.clone()).expect("a pipeline");
    assert_eq!(pipeline.pipeline_id, id);
    assert_eq!(pipeline.state.as_deref(), Some("IDLE"));
    let spec = pipeline.spec.expect("the spec");
    assert_eq!(spec.id.as_deref(), Some(id));
    assert_eq!(spec.name, pipeline.name);
    assert!(!spec.libraries.is_empty(), "{v}");
    assert!(pipeline.last_modified.is_some(), "{v}");
    // The list shows the same pipeline.
    let (all, _) = t
        .all_pages(&format!("{LIST}?max_results=100"), "statuses")
        .await;
    let listed = all.iter().find(|p| p["pipeline_id"] == id).expect("listed");
    assert_eq!(listed["name"], v["name"]);
    assert_eq!(listed["state"], v["state"]);
}

/// An unknown pipeline is 404 `RESOURCE_DOES_NOT_EXIST` on every route, as is an unknown
/// update of a known pipeline.
async fn unknown_pipelines_and_updates_are_not_found(t: Target) {
    let t = t.writable().await;
    let nope = "00000000-0000-0000-0000-000000000000";
    for path in ["", "/updates", "/updates/u-1", "/events"] {
        let answer = t.get(&format!("{LIST}/{nope}{path}")).await;
        assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    }
    for path in ["/updates", "/stop"] {
        let answer = t.post(&format!("{LIST}/{nope}{path}"), &json!({})).await;
        assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    }
    let answer = t
        .send(Method::DELETE, &format!("{LIST}/{nope}"), true)
        .await;
    assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    let id = known_pipeline(&t);
    let answer = t.get(&format!("{LIST}/{id}/updates/no-such-update")).await;
    assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    let answer = t.get(&format!("{LIST}/{id}/nonsense")).await;
    assert_error(&answer, 404, "ENDPOINT_NOT_FOUND");
}

/// Reads the update until it ends: its final state.
async fn wait_for_end(t: &Target, id: &str, update_id: &str) -> GetUpdateResponse {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, v) = t.get(&format!("{LIST}/{id}/updates/{update_id}")).await;
        assert_eq!(status, 200, "{v}");
        let answer: GetUpdateResponse = serde_json::from_value(v.clone()).expect("an update");
        let update = answer.update.clone().expect("update");
        assert_eq!(update.update_id, update_id);
        if !update.is_active() {
            return answer;
        }
        assert!(Instant::now() < deadline, "the update never ended: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(t: &Target, id: &str, body: &Value) -> String {
    let (status, v) = t.post(&format!("{LIST}/{id}/updates"), body).await;
    assert_eq!(status, 200, "{v}");
    v["update_id"].as_str().expect("update_id").to_string()
}

/// §6.3–6.5: a started update runs to COMPLETED, is first in the update list and the
/// pipeline's latest updates, and leaves events newest first.
async fn an_update_runs_to_its_end_and_leaves_events(t: Target) {
    let t = t.writable().await;
    let id = known_pipeline(&t);
    let update_id = start(&t, id, &json!({"full_refresh": false})).await;
    let ended = wait_for_end(&t, id, &update_id).await;
    let update = ended.update.expect("update");
    assert_eq!(update.state.as_deref(), Some("COMPLETED"));
    assert_eq!(update.cause.as_deref(), Some("API_CALL"));
    assert_eq!(update.pipeline_id.as_deref(), Some(id));
    assert!(update.creation_time.is_some_and(|t| t > 1_700_000_000_000));
    let (status, v) = t.get(&format!("{LIST}/{id}/updates")).await;
    assert_eq!(status, 200, "{v}");
    let updates: UpdatesPage = serde_json::from_value(v.clone()).expect("updates");
    assert_eq!(
        updates.updates.first().map(|u| u.update_id.as_str()),
        Some(update_id.as_str())
    );
    let (_, v) = t.get(&format!("{LIST}/{id}")).await;
    assert_eq!(v["state"], "IDLE", "{v}");
    assert_eq!(
        v["latest_updates"][0]["update_id"],
        update_id.as_str(),
        "{v}"
    );
    assert_eq!(v["latest_updates"][0]["state"], "COMPLETED", "{v}");
    assert!(
        v["latest_updates"][0]["creation_time"].is_string(),
        "RFC 3339 here: {v}"
    );
    let (status, v) = t.get(&format!("{LIST}/{id}/events?max_results=100")).await;
    assert_eq!(status, 200, "{v}");
    let page: PipelineEventsPage = serde_json::from_value(v.clone()).expect("events");
    let of_update: Vec<_> = page
        .events
        .iter()
        .filter(|e| {
            e.origin
                .as_ref()
                .and_then(|o| o.get("update_id"))
                .and_then(Value::as_str)
                == Some(update_id.as_str())
        })
        .collect();
    assert!(of_update.len() >= 2, "{v}");
    assert!(
        of_update
            .first()
            .and_then(|e| e.message.as_deref())
            .is_some_and(|m| m.contains("COMPLETED")),
        "the newest event says the update completed: {v}"
    );
    let times: Vec<&str> = page
        .events
        .iter()
        .filter_map(|e| e.timestamp.as_deref())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    // Updates page with a way back.
    let (paged, _) = t
        .all_pages(&format!("{LIST}/{id}/updates?max_results=1"), "updates")
        .await;
    assert_eq!(paged.len(), updates.updates.len());
    let (_, first) = t.get(&format!("{LIST}/{id}/updates?max_results=1")).await;
    if let Some(next) = first["next_page_token"].as_str() {
        let (_, second) = t
            .get(&format!(
                "{LIST}/{id}/updates?max_results=1&page_token={}",
                encode(next)
            ))
            .await;
        let back = second["prev_page_token"].as_str().expect("prev_page_token");
        let (_, again) = t
            .get(&format!(
                "{LIST}/{id}/updates?max_results=1&page_token={}",
                encode(back)
            ))
            .await;
        assert_eq!(again["updates"], first["updates"]);
    }
    let (_, until) = t
        .get(&format!("{LIST}/{id}/updates?until_update_id={update_id}"))
        .await;
    assert_eq!(
        until["updates"].as_array().map(Vec::len),
        Some(1),
        "{until}"
    );
}

/// §6.5: `order_by`, `filter`, token pages that carry them (a token comes with
/// `max_results` alone).
async fn events_page_filter_and_order(t: Target) {
    let t = t.writable().await;
    let id = known_pipeline(&t);
    let update_id = start(&t, id, &json!({})).await;
    wait_for_end(&t, id, &update_id).await;
    let events = format!("{LIST}/{id}/events");
    let (_, newest) = t.get(&format!("{events}?max_results=250")).await;
    let newest = newest["events"].as_array().cloned().expect("events");
    assert!(newest.len() >= 3);
    let (_, oldest) = t
        .get(&format!(
            "{events}?max_results=250&order_by=timestamp%20asc"
        ))
        .await;
    let mut reversed = oldest["events"].as_array().cloned().expect("events");
    reversed.reverse();
    let ids_of = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_string))
            .collect()
    };
    let (newest_ids, reversed_ids) = (ids_of(&newest), ids_of(&reversed));
    assert_eq!(
        newest_ids.iter().collect::<std::collections::BTreeSet<_>>(),
        reversed_ids
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
    );
    // Pages of one event continue the ascending order of the first call: the token
    // carries it, and comes with max_results alone.
    let mut paged = Vec::new();
    let mut path = format!("{events}?max_results=1&order_by=timestamp%20asc");
    loop {
        let (status, v) = t.get(&path).await;
        assert_eq!(status, 200, "{path}: {v}");
        paged.extend(v["events"].as_array().cloned().unwrap_or_default());
        match v["next_page_token"].as_str() {
            Some(token) => path = format!("{events}?max_results=1&page_token={}", encode(token)),
            None => break,
        }
        assert!(paged.len() <= reversed.len(), "the pages never end");
    }
    assert_eq!(
        ids_of(&paged),
        ids_of(oldest["events"].as_array().expect("events"))
    );
    let (_, first) = t.get(&format!("{events}?max_results=1")).await;
    let token = first["next_page_token"].as_str().expect("a next page");
    let answer = t
        .get(&format!(
            "{events}?page_token={}&filter={}",
            encode(token),
            encode("level='INFO'")
        ))
        .await;
    assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    let answer = t
        .get(&format!(
            "{events}?page_token={}&order_by=timestamp%20asc",
            encode(token)
        ))
        .await;
    assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    let (_, second) = t
        .get(&format!(
            "{events}?max_results=1&page_token={}",
            encode(token)
        ))
        .await;
    assert!(second["prev_page_token"].is_string(), "{second}");
    // Filters: by level, by id, by time, joined by AND.
    let (status, infos) = t
        .get(&format!(
            "{events}?max_results=250&filter={}",
            encode("level in ('INFO','WARN')")
        ))
        .await;
    assert_eq!(status, 200, "{infos}");
    let infos = infos["events"].as_array().cloned().unwrap_or_default();
    assert!(!infos.is_empty());
    assert!(
        infos
            .iter()
            .all(|e| e["level"] == "INFO" || e["level"] == "WARN")
    );
    let one = newest_ids.first().expect("an event");
    let (_, by_id) = t
        .get(&format!(
            "{events}?filter={}",
            encode(&format!("id='{one}'"))
        ))
        .await;
    assert_eq!(
        ids_of(by_id["events"].as_array().expect("events")),
        std::slice::from_ref(one)
    );
    let newest_time = newest[0]["timestamp"].as_str().expect("timestamp");
    let filter = format!("timestamp > '{newest_time}' AND level='INFO'");
    let (status, later) = t.get(&format!("{events}?filter={}", encode(&filter))).await;
    assert_eq!(status, 200, "{later}");
    assert!(
        later.get("events").is_none(),
        "nothing is newer than the newest: {later}"
    );
    let filter = format!("timestamp <= '{newest_time}'");
    let (_, all) = t
        .get(&format!(
            "{events}?max_results=250&filter={}",
            encode(&filter)
        ))
        .await;
    assert_eq!(all["events"].as_array().map(Vec::len), Some(newest.len()));
}

/// §6.4: one active update at a time (409 `RESOURCE_CONFLICT`); `stop` cancels it and the
/// pipeline is IDLE again; a deleted pipeline is gone.
async fn one_update_at_a_time_and_stop_cancels_it(t: Target) {
    let t = t.writable().await;
    let id = create_pipeline(&t, "slow", SLOW_SQL, false).await;
    let update_id = start(&t, &id, &json!({"cause": "USER_ACTION"})).await;
    let answer = t.post(&format!("{LIST}/{id}/updates"), &json!({})).await;
    assert_error(&answer, 409, "RESOURCE_CONFLICT");
    let (_, v) = t.get(&format!("{LIST}/{id}")).await;
    assert_eq!(v["state"], "RUNNING", "{v}");
    let (status, v) = t.post(&format!("{LIST}/{id}/stop"), &json!({})).await;
    assert_eq!((status, v), (200, json!({})));
    let ended = wait_for_end(&t, &id, &update_id).await;
    let update = ended.update.expect("update");
    assert_eq!(update.state.as_deref(), Some("CANCELED"));
    assert_eq!(update.cause.as_deref(), Some("USER_ACTION"));
    let (_, v) = t.get(&format!("{LIST}/{id}")).await;
    assert_eq!(v["state"], "IDLE", "{v}");
    let (_, events) = t.get(&format!("{LIST}/{id}/events")).await;
    assert!(
        events["events"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("CANCELED")),
        "{events}"
    );
    // Stopping an idle pipeline changes nothing.
    let (status, _) = t.post(&format!("{LIST}/{id}/stop"), &json!({})).await;
    assert_eq!(status, 200);
    let (status, v) = t.send(Method::DELETE, &format!("{LIST}/{id}"), true).await;
    assert_eq!((status, v), (200, json!({})));
    assert_error(
        &t.get(&format!("{LIST}/{id}")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

async fn bad_parameters_are_rejected(t: Target) {
    let id = known_pipeline(&t);
    let bad = |path: String| {
        let t = &t;
        async move { assert_error(&t.get(&path).await, 400, "INVALID_PARAMETER_VALUE") }
    };
    for query in [
        "max_results=101",
        "max_results=-1",
        "max_results=many",
        "page_token=bogus",
        "order_by=size",
        "order_by=name%20sideways",
        "filter=owner%3D%27x%27",
        "filter=name%20%3D%20%27x%27",
    ] {
        bad(format!("{LIST}?{query}")).await;
    }
    let (status, v) = t.get(&format!("{LIST}?max_results=0")).await;
    assert_eq!(status, 200, "max_results 0 is the default: {v}");
    for query in ["max_results=101", "page_token=bogus"] {
        bad(format!("{LIST}/{id}/updates?{query}")).await;
    }
    for query in [
        "max_results=251",
        "order_by=name",
        "filter=owner%3D%27x%27",
        "filter=level",
        &format!("filter={}", encode("timestamp > 'yesterday'")),
        "page_token=bogus",
    ] {
        bad(format!("{LIST}/{id}/events?{query}")).await;
    }
    let start = format!("{LIST}/{id}/updates");
    for body in [
        json!({"full_refresh": "yes"}),
        json!({"cause": "WHIM"}),
        json!({"refresh_selection": "orders"}),
        json!([1]),
        json!("{not json"),
    ] {
        assert_error(&t.post(&start, &body).await, 400, "INVALID_PARAMETER_VALUE");
    }
    for body in [json!({}), json!({"name": " "}), json!({"name": 5})] {
        assert_error(&t.post(LIST, &body).await, 400, "INVALID_PARAMETER_VALUE");
    }
}
