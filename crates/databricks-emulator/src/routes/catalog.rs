//! Unity Catalog API 2.1 (REFERENCE §3). Read-only. Any catalog / schema name exists except
//! names starting with `missing`; listings are the fixtures renamed to the requested names.

use axum::response::Response;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::util::{R, Req, bad_param, decode_token, encode_token, error, items, ok, set};

/// Server cap for catalogs / schemas / tables / functions pages.
const CAP: usize = 1000;
/// Server cap for volumes / table summaries.
const CAP_LARGE: usize = 10_000;

pub(crate) fn route(req: &Req, rest: &[&str]) -> Option<R> {
    Some(match rest {
        ["catalogs"] => list_catalogs(req),
        ["catalogs", name] => get_catalog(name),
        ["schemas"] => list_schemas(req),
        ["schemas", full] => get_schema(full),
        ["tables"] => list_tables(req),
        ["tables", full] => get_table(req, full),
        ["table-summaries"] => table_summaries(req),
        ["volumes"] => list_volumes(req),
        ["volumes", full] => get_volume(full),
        ["functions"] => list_functions(req),
        ["functions", full] => get_function(full),
        _ => return None,
    })
}

fn missing(name: &str) -> bool {
    name.starts_with("missing")
}

fn catalog_not_found(name: &str) -> Response {
    error(
        404,
        "CATALOG_DOES_NOT_EXIST",
        format!("Catalog '{name}' does not exist."),
    )
}

fn schema_not_found(full: &str) -> Response {
    error(
        404,
        "SCHEMA_DOES_NOT_EXIST",
        format!("Schema '{full}' does not exist."),
    )
}

/// Checks `catalog` (and `schema`) exist.
fn check_parent(catalog: &str, schema: Option<&str>) -> Result<(), Response> {
    if missing(catalog) {
        return Err(catalog_not_found(catalog));
    }
    if let Some(s) = schema.filter(|s| missing(s)) {
        return Err(schema_not_found(&format!("{catalog}.{s}")));
    }
    Ok(())
}

/// Splits `a.b` / `a.b.c` full names, 400 if the arity is wrong.
fn split_name<'a>(full: &'a str, parts: usize, what: &str) -> Result<Vec<&'a str>, Response> {
    let v: Vec<&str> = full.split('.').collect();
    if v.len() != parts || v.iter().any(|p| p.is_empty()) {
        return Err(bad_param(format!(
            "Invalid {what} name '{full}': expected {} dot-separated parts.",
            parts
        )));
    }
    Ok(v)
}

/// One page of a listing as `{key: [...], next_page_token?}`.
fn listing(req: &Req, key: &str, all: Vec<Value>, cap: usize) -> R {
    let size = crate::util::uc_page_size(req, cap)?;
    let offset = decode_token(key, req.q("page_token"))?;
    let (page, next) = crate::util::page(&all, offset, size);
    let mut out = json!({});
    if !page.is_empty() {
        set(&mut out, key, Value::Array(page));
    }
    if let Some(n) = next {
        set(&mut out, "next_page_token", json!(encode_token(key, n)));
    }
    ok(out)
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
            crate::util::replace_strings(v, &format!("{old_c}.{old_s}."), &format!("{c}.{s}."));
            set(v, "schema_name", json!(s));
        }
        _ => crate::util::replace_strings(v, &format!("{old_c}."), &format!("{c}.")),
    }
    set(v, "catalog_name", json!(c));
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let full = match s {
        Some(s) => format!("{c}.{s}.{name}"),
        None => format!("{c}.{name}"),
    };
    set(v, "full_name", json!(full));
}

fn list_catalogs(req: &Req) -> R {
    listing(
        req,
        "catalogs",
        items(&fixture_json("uc_catalogs_list.json"), "catalogs"),
        CAP,
    )
}

fn get_catalog(name: &str) -> R {
    check_parent(name, None)?;
    let all = items(&fixture_json("uc_catalogs_list.json"), "catalogs");
    if let Some(c) = all
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
    {
        return ok(c.clone());
    }
    let mut c = all.first().cloned().unwrap_or_else(|| json!({}));
    crate::util::replace_strings(&mut c, "main", name);
    set(&mut c, "name", json!(name));
    set(&mut c, "full_name", json!(name));
    ok(c)
}

fn schemas_of(catalog: &str) -> Vec<Value> {
    let mut all = items(&fixture_json("uc_schemas_list.json"), "schemas");
    for s in &mut all {
        rename(s, catalog, None);
    }
    all
}

fn list_schemas(req: &Req) -> R {
    let catalog = req.q_req("catalog_name")?;
    check_parent(catalog, None)?;
    listing(req, "schemas", schemas_of(catalog), CAP)
}

fn get_schema(full: &str) -> R {
    let p = split_name(full, 2, "schema")?;
    check_parent(p[0], Some(p[1]))?;
    let all = schemas_of(p[0]);
    let mut s = all
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(p[1]))
        .or(all.first())
        .cloned()
        .unwrap_or_else(|| json!({}));
    set(&mut s, "name", json!(p[1]));
    set(&mut s, "full_name", json!(full));
    ok(s)
}

fn tables_of(catalog: &str, schema: &str) -> Vec<Value> {
    let mut all = items(&fixture_json("uc_tables_list.json"), "tables");
    for t in &mut all {
        rename(t, catalog, Some(schema));
    }
    all
}

fn list_tables(req: &Req) -> R {
    let catalog = req.q_req("catalog_name")?;
    let schema = req.q_req("schema_name")?;
    check_parent(catalog, Some(schema))?;
    let omit_columns = req.q_bool("omit_columns")?;
    let omit_properties = req.q_bool("omit_properties")?;
    let omit_username = req.q_bool("omit_username")?;
    let mut all = tables_of(catalog, schema);
    for t in &mut all {
        if omit_columns {
            crate::util::remove(t, "columns");
        }
        if omit_properties {
            crate::util::remove(t, "properties");
        }
        if omit_username {
            for k in ["owner", "created_by", "updated_by"] {
                crate::util::remove(t, k);
            }
        }
    }
    listing(req, "tables", all, CAP)
}

fn get_table(req: &Req, full: &str) -> R {
    req.q_bool("include_delta_metadata")?;
    let p = split_name(full, 3, "table")?;
    check_parent(p[0], Some(p[1]))?;
    if missing(p[2]) {
        let mut body = fixture_json("error_404_table_not_found.json");
        set(
            &mut body,
            "message",
            json!(format!("Table '{full}' does not exist.")),
        );
        return Err(crate::util::json_status(404, &body));
    }
    // A name from the list fixture gets that entry (e.g. `orders_recent` is a VIEW); any
    // other name gets the full `uc_tables_get.json` object.
    let listed = items(&fixture_json("uc_tables_list.json"), "tables")
        .into_iter()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(p[2]) && p[2] != "orders");
    let mut t = listed.unwrap_or_else(|| fixture_json("uc_tables_get.json"));
    if p[2] == VECTOR_SOURCE_TABLE {
        vector_source_columns(&mut t);
    }
    rename(&mut t, p[0], Some(p[1]));
    set(&mut t, "name", json!(p[2]));
    set(&mut t, "full_name", json!(full));
    ok(t)
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
    set(t, "columns", Value::Array(columns));
    set(
        t,
        "comment",
        json!("English Wikipedia articles (vector search source)"),
    );
    crate::util::remove(t, "table_constraints");
}

fn table_summaries(req: &Req) -> R {
    let catalog = req.q_req("catalog_name")?;
    check_parent(catalog, None)?;
    let schema_pat = req.q("schema_name_pattern");
    let table_pat = req.q("table_name_pattern");
    let all: Vec<Value> = items(&fixture_json("uc_table_summaries.json"), "tables")
        .into_iter()
        .filter_map(|mut t| {
            let full = t.get("full_name").and_then(Value::as_str)?.to_string();
            let parts: Vec<&str> = full.split('.').collect();
            let (schema, table) = (*parts.get(1)?, *parts.get(2)?);
            if schema_pat.is_some_and(|p| !crate::util::like(p, schema))
                || table_pat.is_some_and(|p| !crate::util::like(p, table))
            {
                return None;
            }
            set(
                &mut t,
                "full_name",
                json!(format!("{catalog}.{schema}.{table}")),
            );
            Some(t)
        })
        .collect();
    listing(req, "tables", all, CAP_LARGE)
}

fn volumes_of(catalog: &str, schema: &str) -> Vec<Value> {
    let mut all = items(&fixture_json("uc_volumes_list.json"), "volumes");
    for v in &mut all {
        rename(v, catalog, Some(schema));
    }
    all
}

fn list_volumes(req: &Req) -> R {
    let catalog = req.q_req("catalog_name")?;
    let schema = req.q_req("schema_name")?;
    check_parent(catalog, Some(schema))?;
    listing(req, "volumes", volumes_of(catalog, schema), CAP_LARGE)
}

fn get_volume(full: &str) -> R {
    let p = split_name(full, 3, "volume")?;
    check_parent(p[0], Some(p[1]))?;
    if missing(p[2]) {
        return Err(crate::util::not_found(format!(
            "Volume '{full}' does not exist."
        )));
    }
    let all = volumes_of(p[0], p[1]);
    let mut v = all
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(p[2]))
        .or(all.first())
        .cloned()
        .unwrap_or_else(|| json!({}));
    set(&mut v, "name", json!(p[2]));
    set(&mut v, "full_name", json!(full));
    ok(v)
}

fn list_functions(req: &Req) -> R {
    let catalog = req.q_req("catalog_name")?;
    let schema = req.q_req("schema_name")?;
    check_parent(catalog, Some(schema))?;
    let mut all = items(&fixture_json("uc_functions_list.json"), "functions");
    for f in &mut all {
        rename(f, catalog, Some(schema));
    }
    listing(req, "functions", all, CAP)
}

fn get_function(full: &str) -> R {
    let p = split_name(full, 3, "function")?;
    check_parent(p[0], Some(p[1]))?;
    if missing(p[2]) {
        return Err(error(
            404,
            "FUNCTION_DOES_NOT_EXIST",
            format!("Routine or Model '{full}' does not exist."),
        ));
    }
    let mut f = fixture_json("uc_functions_get.json");
    rename(&mut f, p[0], Some(p[1]));
    set(&mut f, "name", json!(p[2]));
    set(&mut f, "full_name", json!(full));
    set(&mut f, "specific_name", json!(p[2]));
    ok(f)
}
