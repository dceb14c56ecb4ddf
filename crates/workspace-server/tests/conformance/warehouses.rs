//! SQL Warehouses API 2.0 (REFERENCE.md §2).

use databricks_api::sql::{ListWarehousesResponse, Warehouse, WarehouseState};
use reqwest::Method;

use crate::conformance;
use crate::support::{Target, assert_error};

const WAREHOUSES: &str = "/api/2.0/sql/warehouses";

conformance! {
    warehouses_are_listed_whole_or_in_pages => super::warehouses_are_listed_whole_or_in_pages;
    a_warehouse_is_read_by_id => super::a_warehouse_is_read_by_id;
    unknown_warehouses_are_not_found => super::unknown_warehouses_are_not_found;
    starting_a_running_warehouse_changes_nothing => super::starting_a_running_warehouse_changes_nothing;
    page_size_is_checked => super::page_size_is_checked;
}

/// §2.1: no `page_size` ⇒ one answer; `page_size` = 1 ⇒ the same warehouses in pages.
async fn warehouses_are_listed_whole_or_in_pages(t: Target) {
    let (status, v) = t.get(WAREHOUSES).await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let all: ListWarehousesResponse = serde_json::from_value(v).expect("warehouses");
    assert!(all.warehouses.iter().any(|w| w.id == t.known.warehouse));
    let (paged, pages) = t
        .all_pages(&format!("{WAREHOUSES}?page_size=1"), "warehouses")
        .await;
    let ids: Vec<&str> = paged.iter().filter_map(|w| w["id"].as_str()).collect();
    let expected: Vec<&str> = all.warehouses.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(pages, expected.len());
}

async fn a_warehouse_is_read_by_id(t: Target) {
    let (status, v) = t.get(&format!("{WAREHOUSES}/{}", t.known.warehouse)).await;
    assert_eq!(status, 200, "{v}");
    let warehouse: Warehouse = serde_json::from_value(v).expect("a warehouse");
    assert_eq!(warehouse.id, t.known.warehouse);
    assert_eq!(warehouse.state, WarehouseState::Running);
    assert!(!warehouse.name.is_empty());
}

async fn unknown_warehouses_are_not_found(t: Target) {
    for (method, path) in [
        (Method::GET, format!("{WAREHOUSES}/nope")),
        (Method::POST, format!("{WAREHOUSES}/nope/start")),
        (Method::POST, format!("{WAREHOUSES}/nope/stop")),
    ] {
        assert_error(
            &t.send(method, &path, true).await,
            404,
            "RESOURCE_DOES_NOT_EXIST",
        );
    }
    assert_error(
        &t.send(
            Method::POST,
            &format!("{WAREHOUSES}/{}/reboot", t.known.warehouse),
            true,
        )
        .await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

/// §2.3: start is idempotent and answers `{}`.
async fn starting_a_running_warehouse_changes_nothing(t: Target) {
    let (status, v) = t
        .send(
            Method::POST,
            &format!("{WAREHOUSES}/{}/start", t.known.warehouse),
            true,
        )
        .await;
    assert_eq!((status, v), (200, serde_json::json!({})));
    let (_, v) = t.get(&format!("{WAREHOUSES}/{}", t.known.warehouse)).await;
    assert_eq!(v["state"], "RUNNING", "{v}");
}

async fn page_size_is_checked(t: Target) {
    assert_error(
        &t.get(&format!("{WAREHOUSES}?page_size=-1")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{WAREHOUSES}?page_size=1&page_token=bogus"))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}
