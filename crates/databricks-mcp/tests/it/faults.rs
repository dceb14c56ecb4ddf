//! Upstream faults: retried where the SDKs retry, reported clearly where not, and the
//! server keeps serving after each.

use std::time::{Duration, Instant};

use databricks_client::ClientOptions;
use databricks_emulator::{Emulator, FaultResponse, FaultRule, fixture};
use databricks_mcp::{DatabricksMcp, Settings};
use serde_json::json;

use crate::support::{Harness, fast_options, is_error, state_for, text};

#[tokio::test]
async fn a_429_with_retry_after_is_retried_to_success() {
    let h = Harness::start().await;
    h.emulator.push_fault(FaultRule::get(
        "/api/2.1/clusters/list",
        vec![
            FaultResponse::json(429, fixture("error_429_request_limit_exceeded.json"))
                .with_header("Retry-After", "1"),
        ],
    ));
    let started = Instant::now();
    let r = h.call("list_clusters", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    assert_eq!(
        crate::support::requests(&h.emulator, "GET", "/api/2.1/clusters/list").len(),
        2
    );
}

#[tokio::test]
async fn a_burst_of_503s_is_retried_to_success() {
    let h = Harness::start().await;
    let burst = (0..4)
        .map(|_| FaultResponse::json(503, fixture("error_503_temporarily_unavailable.json")))
        .collect();
    h.emulator
        .push_fault(FaultRule::get("/api/2.2/jobs/list", burst));
    let r = h.call("list_jobs", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        crate::support::requests(&h.emulator, "GET", "/api/2.2/jobs/list").len(),
        5
    );
}

#[tokio::test]
async fn a_500_is_not_retried_and_is_a_clear_tool_error() {
    let h = Harness::start().await;
    h.emulator.push_fault(FaultRule::get(
        "/api/2.0/pipelines",
        vec![FaultResponse::json(500, fixture("error_500_internal.json"))],
    ));
    let r = h.call("list_delta_pipelines", json!({})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("500") && t.contains("INTERNAL_ERROR") && t.contains("try again"),
        "{t}"
    );
    assert_eq!(
        crate::support::requests(&h.emulator, "GET", "/api/2.0/pipelines").len(),
        1
    );
    // Still serving.
    let r = h.call("list_delta_pipelines", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn permission_denied_and_not_found_say_what_to_do() {
    let h = Harness::start().await;
    h.emulator.push_fault(FaultRule::get(
        "/api/2.1/unity-catalog/catalogs",
        vec![FaultResponse::json(
            403,
            fixture("error_403_permission_denied.json"),
        )],
    ));
    let r = h.call("list_catalogs", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("permission"), "{}", text(&r));
}

#[tokio::test]
async fn connection_refused_is_reported_and_the_server_keeps_serving() {
    // Bind then drop an emulator so its port refuses connections.
    let emulator = Emulator::start().await;
    let state = state_for(&emulator, Settings::default(), fast_options());
    emulator.shutdown().await;
    let alive = Emulator::start().await;
    let h = Harness::connect(alive, DatabricksMcp::new(state)).await;
    let r = h.call("list_clusters", json!({})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("cannot connect"), "{t}");
    let tools = h.client.list_all_tools().await.unwrap();
    assert!(!tools.is_empty(), "the server still answers");
}

#[tokio::test]
async fn a_timeout_is_reported_and_the_server_keeps_serving() {
    let emulator = Emulator::start().await;
    emulator.push_fault(FaultRule::get(
        "/api/2.1/clusters/list",
        (0..5)
            .map(|_| FaultResponse::status(200).with_delay(Duration::from_secs(3)))
            .collect(),
    ));
    let options = ClientOptions {
        http_timeout: Duration::from_millis(300),
        ..fast_options()
    };
    let state = state_for(&emulator, Settings::default(), options);
    let h = Harness::connect(emulator, DatabricksMcp::new(state)).await;
    let r = h.call("list_clusters", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("no answer"), "{}", text(&r));
    let r = h.call("list_catalogs", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn the_databricks_token_never_appears_in_answers() {
    let h = Harness::start().await;
    h.emulator.push_fault(FaultRule::get(
        "/api/2.1/clusters/list",
        vec![FaultResponse::json(
            401,
            fixture("error_401_unauthenticated.json"),
        )],
    ));
    let r = h.call("list_clusters", json!({})).await;
    assert!(is_error(&r));
    let pat = h.emulator.pat().to_string();
    assert!(!text(&r).contains(&pat));
    let r = h.call("run_sql_query", json!({"query": "SELECT 1"})).await;
    assert!(!serde_json::to_string(&r).unwrap().contains(&pat));
}

/// A failed call ends with the one hint of its kind (the tool's own when it has one),
/// never the client's generic one too, and the failure is counted by kind.
#[tokio::test]
async fn the_hint_follows_the_kind_of_failure_and_failures_are_counted() {
    let h = Harness::start().await;
    let path = "/api/2.1/unity-catalog/schemas";
    let cases = [
        (
            FaultResponse::json(404, fixture("error_404_resource_does_not_exist.json")),
            "Call list_catalogs",
        ),
        (
            FaultResponse::json(403, fixture("error_403_permission_denied.json")),
            "needs USE CATALOG on main",
        ),
        (
            FaultResponse::json(400, fixture("error_400_invalid_parameter_value.json")),
            "check the names and values",
        ),
    ];
    for (fault, hint) in cases {
        h.emulator.push_fault(FaultRule::get(path, vec![fault]));
        let r = h.call("list_schemas", json!({"catalog": "main"})).await;
        assert!(is_error(&r));
        let t = text(&r);
        assert!(
            t.starts_with("Listing schemas of catalog main failed: Databricks API error"),
            "{t}"
        );
        assert!(t.contains(hint), "{t}");
        assert!(!t.contains("list the parent"), "one hint only: {t}");
    }
    let counts = h.server.state().failures.snapshot();
    assert_eq!(counts.get("not_found"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("permission_denied"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("bad_request"), Some(&1), "{counts:?}");
}
