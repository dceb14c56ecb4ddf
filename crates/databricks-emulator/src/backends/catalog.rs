//! Unity Catalog (REFERENCE §3) as fixture data: the [`UnityCatalog`] backend the shared
//! workspace server routes to. Any catalog / schema name exists except names starting
//! with `missing`; listings are the fixtures renamed to the requested names.

use databricks_api::backend::{Answer, Lineage, UnityCatalog, async_trait};
use databricks_api::catalog::{CatalogInfo, SchemaInfo, TableInfo, TableSummary, VolumeInfo};
use databricks_api::error::{ApiError, ErrorBody, ErrorCode};
use databricks_api::functions::FunctionInfo;
use databricks_api::lineage::{LineageNode, LineageTable, TableLineage};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{fixture_model, items, remove, replace_strings, set};

/// The fixtures' Unity Catalog.
pub(crate) struct FixtureCatalog;

fn missing(name: &str) -> bool {
    name.starts_with("missing")
}

/// Checks `catalog` (and `schema`) exist.
fn check_parent(catalog: &str, schema: Option<&str>) -> Result<(), ApiError> {
    if missing(catalog) {
        return Err(ApiError::new(
            ErrorCode::CatalogDoesNotExist,
            format!("Catalog '{catalog}' does not exist."),
        ));
    }
    if let Some(s) = schema.filter(|s| missing(s)) {
        return Err(ApiError::new(
            ErrorCode::SchemaDoesNotExist,
            format!("Schema '{catalog}.{s}' does not exist."),
        ));
    }
    Ok(())
}

fn models<T: DeserializeOwned>(vs: Vec<Value>) -> Result<Vec<T>, ApiError> {
    vs.into_iter().map(fixture_model).collect()
}

/// Renames a schema-level object (schema, table, volume, function) to catalog `c`
/// (and schema `s`), keeping its own name.
fn rename(v: &mut Value, c: &str, s: Option<&str>) {
    let old_c = v
        .get("catalog_name")
        .and_then(Value::as_str)
        .unwrap_or("main")
        .to_string();
    let old_s = v
        .get("schema_name")
        .and_then(Value::as_str)
        .map(str::to_string);
    match (s, old_s) {
        (Some(s), Some(old_s)) => {
            replace_strings(v, &format!("{old_c}.{old_s}."), &format!("{c}.{s}."));
            set(v, json!({ "schema_name": s }));
        }
        _ => replace_strings(v, &format!("{old_c}."), &format!("{c}.")),
    }
    set(v, json!({ "catalog_name": c }));
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let full = match s {
        Some(s) => format!("{c}.{s}.{name}"),
        None => format!("{c}.{name}"),
    };
    set(v, json!({ "full_name": full }));
}

/// The items of fixture `file`'s `key`, renamed to `c` (and `s`).
fn listing(file: &str, key: &str, c: &str, s: Option<&str>) -> Vec<Value> {
    let mut all = items(&fixture_json(file), key);
    for v in &mut all {
        rename(v, c, s);
    }
    all
}

/// The listing of fixture `file`'s `key` under catalog `c` (and schema `s`), which must exist.
fn listed<T: DeserializeOwned>(
    file: &str,
    key: &str,
    c: &str,
    s: Option<&str>,
) -> Result<Vec<T>, ApiError> {
    check_parent(c, s)?;
    models(listing(file, key, c, s))
}

/// The listed item called `name`, else the first one, named `name`.
fn named(all: Vec<Value>, name: &str, full: String) -> Value {
    let mut v = all
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
        .or(all.first())
        .cloned()
        .unwrap_or_else(|| json!({}));
    set(&mut v, json!({ "name": name, "full_name": full }));
    v
}

/// The source table of the Delta Sync vector index of the fixtures
/// (`vs_index_get.json`): any table of this name has the columns the index's query
/// fixture returns, plus an internal one.
const VECTOR_SOURCE_TABLE: &str = "en_wiki";

fn vector_source_columns(t: &mut Value) {
    let columns: Vec<Value> = [
        ("id", "int", "INT"),
        ("title", "string", "STRING"),
        ("text", "string", "STRING"),
        ("url", "string", "STRING"),
        ("__db_synced_at", "timestamp", "TIMESTAMP"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, text, type_name))| {
        json!({"name": name, "type_text": text, "type_name": type_name, "position": i, "nullable": true})
    })
    .collect();
    let comment = "English Wikipedia articles (vector search source)";
    set(t, json!({ "columns": columns, "comment": comment }));
    remove(t, "table_constraints");
}

/// The full name of object `name` of schema `c.s`; `not_found(full name)` when it is
/// missing (or the error of its missing catalog or schema).
fn full_name(
    (c, s, name): (&str, &str, &str),
    not_found: impl FnOnce(&str) -> ApiError,
) -> Result<String, ApiError> {
    check_parent(c, Some(s))?;
    let full = format!("{c}.{s}.{name}");
    if missing(name) {
        return Err(not_found(&full));
    }
    Ok(full)
}

/// 404 `TABLE_DOES_NOT_EXIST`, as `error_404_table_not_found.json` records it.
fn table_not_found(full: &str) -> ApiError {
    match fixture_model::<ErrorBody>(fixture_json("error_404_table_not_found.json")) {
        Ok(body) => ApiError {
            status: 404,
            body: ErrorBody {
                message: format!("Table '{full}' does not exist."),
                ..body
            },
        },
        Err(e) => e,
    }
}

fn table(c: &str, s: &str, name: &str) -> Result<TableInfo, ApiError> {
    let full = full_name((c, s, name), table_not_found)?;
    // A name from the list fixture gets that entry (e.g. `orders_recent` is a VIEW); any
    // other name gets the full `uc_tables_get.json` object.
    let listed = items(&fixture_json("uc_tables_list.json"), "tables")
        .into_iter()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(name) && name != "orders");
    let mut t = listed.unwrap_or_else(|| fixture_json("uc_tables_get.json"));
    if name == VECTOR_SOURCE_TABLE {
        vector_source_columns(&mut t);
    }
    rename(&mut t, c, Some(s));
    fixture_model(named(vec![t], name, full))
}

#[async_trait]
impl UnityCatalog for FixtureCatalog {
    async fn catalogs(&self) -> Answer<Vec<CatalogInfo>> {
        models(items(&fixture_json("uc_catalogs_list.json"), "catalogs"))
    }

    async fn catalog(&self, name: &str) -> Answer<CatalogInfo> {
        check_parent(name, None)?;
        let all = items(&fixture_json("uc_catalogs_list.json"), "catalogs");
        if let Some(c) = all
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        {
            return fixture_model(c.clone());
        }
        let mut c = all.first().cloned().unwrap_or_else(|| json!({}));
        replace_strings(&mut c, "main", name);
        fixture_model(named(vec![c], name, name.to_string()))
    }

    async fn schemas(&self, catalog: &str) -> Answer<Vec<SchemaInfo>> {
        listed("uc_schemas_list.json", "schemas", catalog, None)
    }

    async fn schema(&self, catalog: &str, schema: &str) -> Answer<SchemaInfo> {
        check_parent(catalog, Some(schema))?;
        let all = listing("uc_schemas_list.json", "schemas", catalog, None);
        fixture_model(named(all, schema, format!("{catalog}.{schema}")))
    }

    async fn tables(&self, catalog: &str, schema: &str) -> Answer<Vec<TableInfo>> {
        listed("uc_tables_list.json", "tables", catalog, Some(schema))
    }

    async fn table(&self, c: &str, s: &str, name: &str) -> Answer<TableInfo> {
        table(c, s, name)
    }

    async fn volumes(&self, catalog: &str, schema: &str) -> Answer<Vec<VolumeInfo>> {
        listed("uc_volumes_list.json", "volumes", catalog, Some(schema))
    }

    async fn volume(&self, c: &str, s: &str, name: &str) -> Answer<VolumeInfo> {
        let full = full_name((c, s, name), |full| {
            let message = format!("Volume '{full}' does not exist.");
            ApiError::new(ErrorCode::ResourceDoesNotExist, message)
        })?;
        let all = listing("uc_volumes_list.json", "volumes", c, Some(s));
        fixture_model(named(all, name, full))
    }

    async fn functions(&self, catalog: &str, schema: &str) -> Answer<Vec<FunctionInfo>> {
        listed("uc_functions_list.json", "functions", catalog, Some(schema))
    }

    async fn function(&self, c: &str, s: &str, name: &str) -> Answer<FunctionInfo> {
        let full = full_name((c, s, name), |full| {
            let message = format!("Routine or Model '{full}' does not exist.");
            ApiError::new(ErrorCode::FunctionDoesNotExist, message)
        })?;
        let mut f = fixture_json("uc_functions_get.json");
        rename(&mut f, c, Some(s));
        set(&mut f, json!({ "specific_name": name }));
        fixture_model(named(vec![f], name, full))
    }

    async fn table_summaries(&self, catalog: &str) -> Answer<Vec<TableSummary>> {
        check_parent(catalog, None)?;
        let all = items(&fixture_json("uc_table_summaries.json"), "tables");
        let renamed = all.into_iter().filter_map(|mut t| {
            let full = t.get("full_name").and_then(Value::as_str)?.to_string();
            let mut parts = full.splitn(3, '.').skip(1);
            let (schema, table) = (parts.next()?, parts.next()?);
            set(
                &mut t,
                json!({ "full_name": format!("{catalog}.{schema}.{table}") }),
            );
            Some(t)
        });
        models(renamed.collect())
    }
}

/// The table whose lineage `lineage_table.json` is.
const LINEAGE_TABLE: (&str, &str, &str) = ("main", "sales", "orders");

/// Table lineage from `lineage_table.json`: that table's neighbours, and for each table it
/// names the reverse edge (an upstream of it has it downstream, through the same
/// entities). Other existing tables have none; missing ones answer the Unity Catalog codes.
pub(crate) struct FixtureLineage;

fn fixture_lineage(full: &str) -> Result<TableLineage, ApiError> {
    let parts: Vec<&str> = full.split('.').collect();
    let [c, s, t] = parts.as_slice() else {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid table name '{full}': expected catalog.schema.table."
        )));
    };
    // Existence (and the not-found codes) as the Unity Catalog fixtures answer them.
    table(c, s, t)?;
    let fixture: TableLineage = fixture_model(fixture_json("lineage_table.json"))?;
    let (lc, ls, lt) = LINEAGE_TABLE;
    let same = |table: &LineageTable| {
        table.catalog_name.eq_ignore_ascii_case(c)
            && table.schema_name.eq_ignore_ascii_case(s)
            && table.name.eq_ignore_ascii_case(t)
    };
    let this = LineageTable {
        name: lt.to_string(),
        catalog_name: lc.to_string(),
        schema_name: ls.to_string(),
        table_type: Some("TABLE".to_string()),
        lineage_timestamp: None,
    };
    if same(&this) {
        return Ok(fixture);
    }
    // The fixture table as seen from one of its neighbours.
    let reverse = |node: &LineageNode| LineageNode {
        table_info: Some(LineageTable {
            lineage_timestamp: node
                .table_info
                .as_ref()
                .and_then(|t| t.lineage_timestamp.clone()),
            ..this.clone()
        }),
        ..node.clone()
    };
    let neighbours = |nodes: &[LineageNode]| {
        let neighbour = |n: &&LineageNode| n.table_info.as_ref().is_some_and(same);
        nodes.iter().filter(neighbour).map(reverse).collect()
    };
    Ok(TableLineage {
        upstreams: neighbours(&fixture.downstreams),
        downstreams: neighbours(&fixture.upstreams),
    })
}

#[async_trait]
impl Lineage for FixtureLineage {
    async fn table_lineage(&self, table: &str, _entities: bool) -> Answer<TableLineage> {
        fixture_lineage(table)
    }
}
