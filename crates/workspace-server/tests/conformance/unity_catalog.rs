//! Unity Catalog API 2.1 (REFERENCE.md §3).

use databricks_api::catalog::{CatalogsPage, SchemaInfo, TableInfo, TablesPage};
use reqwest::Method;
use serde_json::Value;

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const UC: &str = "/api/2.1/unity-catalog";

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

conformance! {
    lists_everything_without_max_results => super::lists_everything_without_max_results;
    pages_follow_max_results_and_tokens => super::pages_follow_max_results_and_tokens;
    max_results_is_checked => super::max_results_is_checked;
    page_tokens_are_checked => super::page_tokens_are_checked;
    required_parameters_are_checked => super::required_parameters_are_checked;
    missing_parents_have_their_codes => super::missing_parents_have_their_codes;
    tables_are_read_by_full_name => super::tables_are_read_by_full_name;
    list_options_shape_tables => super::list_options_shape_tables;
    table_summaries_filter_by_pattern => super::table_summaries_filter_by_pattern;
    schemas_and_catalogs_are_read_by_name => super::schemas_and_catalogs_are_read_by_name;
    unknown_routes_and_methods_are_not_found => super::unknown_routes_and_methods_are_not_found;
    requests_without_the_token_are_refused => super::requests_without_the_token_are_refused;
}

/// §3: `max_results` unset ⇒ everything in one answer, no token.
async fn lists_everything_without_max_results(t: Target) {
    let (status, v) = t.get(&format!("{UC}/catalogs")).await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let page: CatalogsPage = serde_json::from_value(v).expect("a CatalogsPage");
    assert!(page.catalogs.len() >= 2);
    assert!(
        page.catalogs
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(t.known.catalog))
    );
    let k = &t.known;
    let (status, v) = t
        .get(&format!(
            "{UC}/tables?catalog_name={}&schema_name={}",
            k.catalog, k.schema
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("next_page_token").is_none(), "{v}");
    let page: TablesPage = serde_json::from_value(v).expect("a TablesPage");
    assert!(page.tables.iter().any(|t| t.name == k.table));
}

/// `max_results` = n pages by n; following the tokens gives the whole listing once.
async fn pages_follow_max_results_and_tokens(t: Target) {
    let k = &t.known;
    let base = format!(
        "{UC}/tables?catalog_name={}&schema_name={}&omit_columns=true",
        k.catalog, k.schema
    );
    let (_, everything) = t.get(&base).await;
    let everything = names(everything["tables"].as_array().expect("tables"));
    let (paged, pages) = t
        .all_pages(&format!("{base}&max_results=1"), "tables")
        .await;
    assert_eq!(names(&paged), everything);
    assert_eq!(pages, everything.len());
    let (catalogs, _) = t
        .all_pages(&format!("{UC}/catalogs?max_results=2"), "catalogs")
        .await;
    let (_, all) = t.get(&format!("{UC}/catalogs")).await;
    assert_eq!(
        names(&catalogs),
        names(all["catalogs"].as_array().expect("catalogs"))
    );
    // 0 ⇒ the server's page size: still the whole (short) listing, in pages.
    let (zero, _) = t
        .all_pages(&format!("{base}&max_results=0"), "tables")
        .await;
    assert_eq!(names(&zero), everything);
}

async fn max_results_is_checked(t: Target) {
    assert_error(
        &t.get(&format!("{UC}/catalogs?max_results=-1")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{UC}/catalogs?max_results=many")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn page_tokens_are_checked(t: Target) {
    assert_error(
        &t.get(&format!(
            "{UC}/catalogs?max_results=1&page_token=not-a-token"
        ))
        .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    // A token of one listing does not continue another.
    let (_, v) = t.get(&format!("{UC}/catalogs?max_results=1")).await;
    let token = v["next_page_token"].as_str().expect("a next page");
    let k = &t.known;
    assert_error(
        &t.get(&format!(
            "{UC}/schemas?catalog_name={}&max_results=1&page_token={}",
            k.catalog,
            encode(token)
        ))
        .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn required_parameters_are_checked(t: Target) {
    let k = &t.known;
    for path in [
        format!("{UC}/schemas"),
        format!("{UC}/tables?catalog_name={}", k.catalog),
        format!("{UC}/tables?schema_name={}", k.schema),
        format!("{UC}/volumes?catalog_name={}", k.catalog),
        format!("{UC}/functions?catalog_name={}", k.catalog),
        format!("{UC}/table-summaries"),
        format!("{UC}/schemas?catalog_name="),
    ] {
        assert_error(&t.get(&path).await, 400, "INVALID_PARAMETER_VALUE");
    }
}

async fn missing_parents_have_their_codes(t: Target) {
    let k = &t.known;
    assert_error(
        &t.get(&format!("{UC}/schemas?catalog_name=missing_catalog"))
            .await,
        404,
        "CATALOG_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{UC}/catalogs/missing_catalog")).await,
        404,
        "CATALOG_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!(
            "{UC}/tables?catalog_name={}&schema_name=missing_schema",
            k.catalog
        ))
        .await,
        404,
        "SCHEMA_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{UC}/schemas/{}.missing_schema", k.catalog))
            .await,
        404,
        "SCHEMA_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!(
            "{UC}/tables/{}.{}.missing_table",
            k.catalog, k.schema
        ))
        .await,
        404,
        "TABLE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!(
            "{UC}/functions/{}.{}.missing_function",
            k.catalog, k.schema
        ))
        .await,
        404,
        "FUNCTION_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!(
            "{UC}/volumes/{}.{}.missing_volume",
            k.catalog, k.schema
        ))
        .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
}

async fn tables_are_read_by_full_name(t: Target) {
    let k = &t.known;
    let full = format!("{}.{}.{}", k.catalog, k.schema, k.table);
    let (status, v) = t.get(&format!("{UC}/tables/{full}")).await;
    assert_eq!(status, 200, "{v}");
    let table: TableInfo = serde_json::from_value(v).expect("a TableInfo");
    assert_eq!(table.full_name.as_deref(), Some(full.as_str()));
    assert_eq!(
        (table.catalog_name.as_str(), table.schema_name.as_str()),
        (k.catalog, k.schema)
    );
    assert!(!table.columns.is_empty());
    let positions: Vec<Option<i64>> = table.columns.iter().map(|c| c.position).collect();
    let expected: Vec<Option<i64>> = (0..).take(positions.len()).map(Some).collect();
    assert_eq!(positions, expected, "columns are numbered from 0");
    assert!(
        table
            .columns
            .iter()
            .all(|c| c.type_name.is_some() && c.type_text.is_some())
    );
    // Wrong arity is a parameter error, not a missing table.
    for bad in [
        format!("{}.{}", k.catalog, k.schema),
        format!("{full}.extra"),
        format!("{}..{}", k.catalog, k.table),
    ] {
        assert_error(
            &t.get(&format!("{UC}/tables/{bad}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
}

/// §3.3: the list never carries constraints; `omit_*` drop what they name.
async fn list_options_shape_tables(t: Target) {
    let k = &t.known;
    let base = format!(
        "{UC}/tables?catalog_name={}&schema_name={}",
        k.catalog, k.schema
    );
    let (_, v) = t.get(&base).await;
    let tables = v["tables"].as_array().expect("tables");
    assert!(tables.iter().all(|t| t.get("table_constraints").is_none()));
    assert!(tables.iter().any(|t| t.get("columns").is_some()));
    assert!(tables.iter().any(|t| t.get("owner").is_some()));
    let (_, v) = t
        .get(&format!(
            "{base}&omit_columns=true&omit_username=true&omit_properties=true"
        ))
        .await;
    for table in v["tables"].as_array().expect("tables") {
        for key in ["columns", "owner", "created_by", "updated_by", "properties"] {
            assert!(table.get(key).is_none(), "{key} in {table}");
        }
    }
    assert_error(
        &t.get(&format!("{base}&omit_columns=perhaps")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn table_summaries_filter_by_pattern(t: Target) {
    let k = &t.known;
    let (pattern, matching) = k.table_pattern;
    let (status, v) = t
        .get(&format!(
            "{UC}/table-summaries?catalog_name={}&schema_name_pattern={}&table_name_pattern={}",
            k.catalog,
            k.schema,
            encode(pattern)
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    let full: Vec<&str> = v["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["full_name"].as_str())
        .collect();
    assert!(
        full.contains(&format!("{}.{}.{matching}", k.catalog, k.schema).as_str()),
        "{v}"
    );
    assert!(
        full.iter().all(|f| !f.ends_with(&format!(".{}", k.table))),
        "{v}"
    );
}

async fn schemas_and_catalogs_are_read_by_name(t: Target) {
    let k = &t.known;
    let (status, v) = t
        .get(&format!("{UC}/schemas/{}.{}", k.catalog, k.schema))
        .await;
    assert_eq!(status, 200, "{v}");
    let schema: SchemaInfo = serde_json::from_value(v).expect("a SchemaInfo");
    assert_eq!(
        schema.full_name.as_deref(),
        Some(format!("{}.{}", k.catalog, k.schema).as_str())
    );
    let (status, v) = t.get(&format!("{UC}/catalogs/{}", k.catalog)).await;
    assert_eq!((status, v["name"].as_str()), (200, Some(k.catalog)), "{v}");
    assert_error(
        &t.get(&format!("{UC}/schemas/{}", k.catalog)).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn unknown_routes_and_methods_are_not_found(t: Target) {
    assert_error(
        &t.get(&format!("{UC}/nothing-here")).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        &t.send(Method::POST, &format!("{UC}/catalogs"), true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

async fn requests_without_the_token_are_refused(t: Target) {
    let answer = t.send(Method::GET, &format!("{UC}/catalogs"), false).await;
    assert_error(&answer, 401, "UNAUTHENTICATED");
}
