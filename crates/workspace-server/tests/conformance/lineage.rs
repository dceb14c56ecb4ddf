//! Table lineage (`/api/2.0/lineage-tracking/table-lineage`): a required three-part
//! `table_name`, the Unity Catalog not-found codes, camelCase nodes, entities only with
//! `include_entity_lineage`, parameters from the query string or a JSON body.

use databricks_api::lineage::TableLineage;
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error, encode};

const LINEAGE: &str = "/api/2.0/lineage-tracking/table-lineage";

conformance! {
    lineage_needs_a_three_part_table_name => super::lineage_needs_a_three_part_table_name;
    lineage_of_unknown_tables_has_the_catalog_codes => super::lineage_of_unknown_tables_has_the_catalog_codes;
    lineage_has_its_shape_both_ways => super::lineage_has_its_shape_both_ways;
}

async fn lineage_needs_a_three_part_table_name(t: Target) {
    let k = &t.known;
    for query in [
        String::new(),
        "?table_name=".to_string(),
        format!("?table_name={}.{}", k.catalog, k.schema),
        format!("?table_name={}..{}", k.catalog, k.table),
        format!(
            "?table_name={}.{}.{}&include_entity_lineage=maybe",
            k.catalog, k.schema, k.table
        ),
    ] {
        assert_error(
            &t.get(&format!("{LINEAGE}{query}")).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    assert_error(
        &t.get_with_body(LINEAGE, &json!({"include_entity_lineage": true}))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.send(Method::POST, LINEAGE, true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

async fn lineage_of_unknown_tables_has_the_catalog_codes(t: Target) {
    let k = &t.known;
    for (name, code) in [
        (
            format!("{}.{}.missing_table", k.catalog, k.schema),
            "TABLE_DOES_NOT_EXIST",
        ),
        (
            format!("{}.missing_schema.{}", k.catalog, k.table),
            "SCHEMA_DOES_NOT_EXIST",
        ),
        ("missing_catalog.a.b".to_string(), "CATALOG_DOES_NOT_EXIST"),
    ] {
        assert_error(
            &t.get(&format!("{LINEAGE}?table_name={}", encode(&name)))
                .await,
            404,
            code,
        );
    }
}

fn table_names(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| {
            let t = n.get("tableInfo")?;
            Some(format!(
                "{}.{}.{}",
                t["catalog_name"].as_str()?,
                t["schema_name"].as_str()?,
                t["name"].as_str()?
            ))
        })
        .collect()
}

const ENTITY_KEYS: [&str; 4] = ["notebookInfos", "jobInfos", "pipelineInfos", "queryInfos"];

async fn lineage_has_its_shape_both_ways(t: Target) {
    let t = t.writable().await;
    let (table, upstream) = t.with_lineage().await;
    let (status, v) = t
        .get(&format!(
            "{LINEAGE}?table_name={}&include_entity_lineage=true",
            encode(&table)
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(table_names(&v["upstreams"]).contains(&upstream), "{v}");
    // Every table node is complete, and the entities name what wrote it.
    for node in v["upstreams"].as_array().expect("upstreams") {
        if let Some(info) = node.get("tableInfo") {
            for key in ["name", "catalog_name", "schema_name"] {
                assert!(info[key].as_str().is_some_and(|s| !s.is_empty()), "{node}");
            }
        }
        assert!(
            ENTITY_KEYS.iter().any(|k| node.get(*k).is_some()),
            "an entity with include_entity_lineage: {node}"
        );
    }
    let lineage: TableLineage = serde_json::from_value(v.clone()).expect("a TableLineage");
    assert!(!lineage.upstreams.is_empty());
    // A JSON body says the same as the query string (the documented curl form).
    let (_, body) = t
        .get_with_body(
            LINEAGE,
            &json!({"table_name": table, "include_entity_lineage": true}),
        )
        .await;
    assert_eq!(body, v);
    // Without the flag: the tables, no entities.
    let (status, bare) = t
        .get(&format!("{LINEAGE}?table_name={}", encode(&table)))
        .await;
    assert_eq!(status, 200, "{bare}");
    assert!(
        table_names(&bare["upstreams"]).contains(&upstream),
        "{bare}"
    );
    for node in bare["upstreams"]
        .as_array()
        .into_iter()
        .chain(bare["downstreams"].as_array())
        .flatten()
    {
        assert!(ENTITY_KEYS.iter().all(|k| node.get(*k).is_none()), "{node}");
    }
    // The edge seen from its other end.
    let (status, up) = t
        .get(&format!("{LINEAGE}?table_name={}", encode(&upstream)))
        .await;
    assert_eq!(status, 200, "{up}");
    assert!(table_names(&up["downstreams"]).contains(&table), "{up}");
    // A table nothing wrote from or into: an empty answer.
    let k = &t.known;
    let quiet = format!("{}.{}.{}_lineage_free", k.catalog, k.schema, k.table);
    let quiet = if t.backend == crate::support::Backend::Local {
        format!("{}.{}.{}", k.catalog, k.schema, k.table)
    } else {
        quiet
    };
    let (status, none) = t
        .get(&format!("{LINEAGE}?table_name={}", encode(&quiet)))
        .await;
    assert_eq!((status, none), (200, json!({})));
}
