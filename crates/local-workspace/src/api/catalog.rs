//! Unity Catalog API 2.1 (REFERENCE.md §3) over the lakehouse directory: catalogs,
//! schemas, tables (with columns, comments and Delta properties), table summaries,
//! volumes and functions (none are defined locally), with `max_results`/`page_token`.

use serde_json::{Value, json};

use super::{HandlerResult, Req, Shared, bad_request, error, not_found, ok, page};
use crate::lakehouse::{Format, INFORMATION_SCHEMA, Lakehouse, SYSTEM, TableDetails};
use crate::types::{db_type, uc_type_text};

const METASTORE_ID: &str = "10ca1000-0000-4000-8000-00000000ca7a";
const PAGE: usize = 100;

pub(crate) async fn route(sh: &Shared, req: &Req, rest: &[&str]) -> HandlerResult {
    match rest {
        ["catalogs"] => list_catalogs(sh, req),
        ["catalogs", name] => get_catalog(sh, name),
        ["schemas"] => list_schemas(sh, req),
        ["schemas", full] => get_schema(sh, full),
        ["tables"] => list_tables(sh, req).await,
        ["tables", full] => get_table(sh, full).await,
        ["table-summaries"] => table_summaries(sh, req),
        ["volumes"] => list_volumes(sh, req),
        ["volumes", full] => get_volume(sh, full),
        ["functions"] => list_functions(sh, req),
        ["functions", full] => get_function(sh, full),
        _ => Err(not_found(
            "ENDPOINT_NOT_FOUND",
            format!("No Unity Catalog API at /{}.", rest.join("/")),
        )),
    }
}

fn lake(sh: &Shared) -> &Lakehouse {
    &sh.engine.lake
}

fn required<'a>(req: &'a Req, name: &str) -> Result<&'a str, axum::response::Response> {
    req.q(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_request(format!("Missing required parameter: {name}.")))
}

fn catalog_missing(name: &str) -> axum::response::Response {
    not_found(
        "CATALOG_DOES_NOT_EXIST",
        format!("Catalog '{name}' does not exist."),
    )
}

fn schema_missing(c: &str, s: &str) -> axum::response::Response {
    not_found(
        "SCHEMA_DOES_NOT_EXIST",
        format!("Schema '{c}.{s}' does not exist."),
    )
}

fn find_catalog(sh: &Shared, name: &str) -> Result<String, axum::response::Response> {
    lake(sh)
        .find_catalog(name)
        .ok_or_else(|| catalog_missing(name))
}

fn find_schema(
    sh: &Shared,
    c: &str,
    s: &str,
) -> Result<(String, String), axum::response::Response> {
    let c = find_catalog(sh, c)?;
    let s = lake(sh)
        .find_schema(&c, s)
        .ok_or_else(|| schema_missing(&c, s))?;
    Ok((c, s))
}

fn catalog_info(sh: &Shared, c: &str) -> Value {
    let l = lake(sh);
    let path = l.catalog_dir(c);
    let t = crate::layout::mtime_ms(&path);
    let owner = crate::layout::user_name();
    let mut v = json!({
        "name": c,
        "full_name": c,
        "catalog_type": if c == SYSTEM { "SYSTEM_CATALOG" } else { "MANAGED_CATALOG" },
        "owner": if c == SYSTEM { "System user".to_string() } else { owner.clone() },
        "metastore_id": METASTORE_ID,
        "created_at": t,
        "created_by": owner,
        "updated_at": t,
        "updated_by": owner,
        "isolation_mode": "OPEN",
        "securable_type": "CATALOG",
        "properties": {},
    });
    if c != SYSTEM {
        v["storage_root"] = json!(file_url(&path));
        v["storage_location"] = json!(file_url(&path));
    }
    if let Some(cm) = l.catalog_comment(c) {
        v["comment"] = json!(cm);
    }
    v
}

fn schema_info(sh: &Shared, c: &str, s: &str) -> Value {
    let l = lake(sh);
    let path = l.schema_dir(c, s);
    let t = crate::layout::mtime_ms(&path);
    let owner = crate::layout::user_name();
    let mut v = json!({
        "name": s,
        "catalog_name": c,
        "full_name": format!("{c}.{s}"),
        "catalog_type": if c == SYSTEM { "SYSTEM_CATALOG" } else { "MANAGED_CATALOG" },
        "owner": owner,
        "metastore_id": METASTORE_ID,
        "schema_id": crate::lakehouse::uuid_from(&format!("{c}.{s}")),
        "created_at": t,
        "created_by": owner,
        "updated_at": t,
        "updated_by": owner,
        "properties": {},
    });
    if s != INFORMATION_SCHEMA {
        v["storage_root"] = json!(file_url(&path));
        v["storage_location"] = json!(file_url(&path));
    }
    if let Some(cm) = l.schema_comment(c, s) {
        v["comment"] = json!(cm);
    }
    v
}

pub(crate) fn file_url(p: &std::path::Path) -> String {
    url::Url::from_file_path(p)
        .map(|u| u.to_string())
        .unwrap_or_else(|()| format!("file://{}", p.display()))
}

fn list_catalogs(sh: &Shared, req: &Req) -> HandlerResult {
    let names = lake(sh).catalogs();
    let (items, next) = page(&names, req.q_i64("max_results")?, req.q("page_token"), PAGE)?;
    let mut v = json!({"catalogs": items.iter().map(|c| catalog_info(sh, c)).collect::<Vec<_>>()});
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn get_catalog(sh: &Shared, name: &str) -> HandlerResult {
    let c = find_catalog(sh, name)?;
    ok(catalog_info(sh, &c))
}

fn list_schemas(sh: &Shared, req: &Req) -> HandlerResult {
    let c = find_catalog(sh, required(req, "catalog_name")?)?;
    let names = lake(sh).schemas(&c);
    let (items, next) = page(&names, req.q_i64("max_results")?, req.q("page_token"), PAGE)?;
    let mut v =
        json!({"schemas": items.iter().map(|s| schema_info(sh, &c, s)).collect::<Vec<_>>()});
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn split_full(
    full: &str,
    parts: usize,
    what: &str,
) -> Result<Vec<String>, axum::response::Response> {
    let v: Vec<String> = full.split('.').map(str::to_string).collect();
    if v.len() != parts || v.iter().any(String::is_empty) {
        return Err(bad_request(format!(
            "'{full}' is not a valid {what} name: expected {} dot-separated parts.",
            parts
        )));
    }
    Ok(v)
}

fn get_schema(sh: &Shared, full: &str) -> HandlerResult {
    let p = split_full(full, 2, "schema")?;
    let (c, s) = find_schema(sh, &p[0], &p[1])?;
    ok(schema_info(sh, &c, &s))
}

pub(crate) fn column_json(d: &TableDetails) -> Vec<Value> {
    d.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = db_type(&c.data_type);
            let mut v = json!({
                "name": c.name,
                "type_text": uc_type_text(&c.data_type),
                "type_name": t.uc_type_name,
                "type_json": c.type_json.to_string(),
                "position": i,
                "nullable": c.nullable,
            });
            if let (Some(p), Some(s)) = (t.precision, t.scale) {
                v["type_precision"] = json!(p);
                v["type_scale"] = json!(s);
            }
            if let Some(iv) = t.interval {
                v["type_interval_type"] = json!(iv);
            }
            if let Some(cm) = &c.comment {
                v["comment"] = json!(cm);
            }
            if let Some(p) = d.partition_columns.iter().position(|p| p == &c.name) {
                v["partition_index"] = json!(p);
            }
            v
        })
        .collect()
}

fn table_json(d: &TableDetails, omit_columns: bool, omit_properties: bool) -> Value {
    let owner = crate::layout::user_name();
    let mut v = json!({
        "name": d.loc.name,
        "catalog_name": d.loc.catalog,
        "schema_name": d.loc.schema,
        "full_name": d.loc.full_name(),
        "table_type": if d.loc.format == Format::Delta { "MANAGED" } else { "EXTERNAL" },
        "data_source_format": d.loc.format.name(),
        "storage_location": file_url(&d.loc.path),
        "owner": owner,
        "metastore_id": METASTORE_ID,
        "table_id": d.table_id,
        "created_at": d.created_at,
        "created_by": owner,
        "updated_at": d.updated_at,
        "updated_by": owner,
    });
    if !omit_columns {
        v["columns"] = json!(column_json(d));
    }
    if !omit_properties && !d.properties.is_empty() {
        v["properties"] = json!(d.properties);
    }
    if let Some(c) = &d.comment {
        v["comment"] = json!(c);
    }
    if let Some(ver) = d.version {
        v["delta_runtime_properties_kvpairs"] = json!({
            "delta_runtime_properties": {
                "delta.lastCommitTimestamp": d.updated_at.to_string(),
                "delta.lastUpdateVersion": ver.to_string(),
            }
        });
    }
    v
}

/// A table that exists on disk but cannot be read: listed, with the reason as comment.
fn broken_table_json(c: &str, s: &str, t: &str, reason: &str) -> Value {
    json!({
        "name": t,
        "catalog_name": c,
        "schema_name": s,
        "full_name": format!("{c}.{s}.{t}"),
        "table_type": "MANAGED",
        "owner": crate::layout::user_name(),
        "metastore_id": METASTORE_ID,
        "comment": format!("This table cannot be read by the local workspace: {reason}"),
    })
}

async fn list_tables(sh: &Shared, req: &Req) -> HandlerResult {
    let (c, s) = find_schema(
        sh,
        required(req, "catalog_name")?,
        required(req, "schema_name")?,
    )?;
    let names = if s == INFORMATION_SCHEMA {
        crate::info_schema::VIEWS
            .iter()
            .map(|v| v.to_string())
            .collect()
    } else {
        lake(sh).tables(&c, &s)
    };
    let (items, next) = page(&names, req.q_i64("max_results")?, req.q("page_token"), PAGE)?;
    let omit_columns = req.q_bool("omit_columns").unwrap_or(false);
    let omit_properties = req.q_bool("omit_properties").unwrap_or(false);
    let mut tables = Vec::with_capacity(items.len());
    for t in items {
        if s == INFORMATION_SCHEMA {
            tables.push(json!({
                "name": t, "catalog_name": c, "schema_name": s,
                "full_name": format!("{c}.{s}.{t}"), "table_type": "VIEW",
                "owner": "System user", "metastore_id": METASTORE_ID,
            }));
            continue;
        }
        let info = match lake(sh).locate(&c, &s, &t) {
            Ok(loc) => match lake(sh).details(&loc).await {
                Ok(d) => table_json(&d, omit_columns, omit_properties),
                Err(e) => broken_table_json(&c, &s, &t, &e.message),
            },
            Err(e) => broken_table_json(&c, &s, &t, &e.message),
        };
        tables.push(info);
    }
    let mut v = json!({});
    if !tables.is_empty() {
        v["tables"] = json!(tables);
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

async fn get_table(sh: &Shared, full: &str) -> HandlerResult {
    let p = split_full(full, 3, "table")?;
    let (c, s) = match find_schema(sh, &p[0], &p[1]) {
        Ok(cs) => cs,
        Err(_) => {
            return Err(not_found(
                "TABLE_DOES_NOT_EXIST",
                format!("Table '{full}' does not exist."),
            ));
        }
    };
    let loc = match lake(sh).locate(&c, &s, &p[2]) {
        Ok(loc) => loc,
        Err(e) if e.class == "TABLE_OR_VIEW_NOT_FOUND" => {
            return Err(not_found(
                "TABLE_DOES_NOT_EXIST",
                format!("Table '{c}.{s}.{}' does not exist.", p[2]),
            ));
        }
        Err(e) => return Err(error(400, "INVALID_STATE", e.databricks_message())),
    };
    match lake(sh).details(&loc).await {
        Ok(d) => ok(table_json(&d, false, false)),
        Err(e) => Err(error(400, "INVALID_STATE", e.databricks_message())),
    }
}

fn table_summaries(sh: &Shared, req: &Req) -> HandlerResult {
    let c = find_catalog(sh, required(req, "catalog_name")?)?;
    let sp = req.q("schema_name_pattern");
    let tp = req.q("table_name_pattern");
    let like = |pat: Option<&str>, v: &str| {
        pat.is_none_or(|p| crate::commands::show_pattern_matches(p, v))
    };
    let mut all = Vec::new();
    for s in lake(sh).schemas(&c) {
        if s == INFORMATION_SCHEMA || !like(sp, &s) {
            continue;
        }
        for t in lake(sh).tables(&c, &s) {
            if like(tp, &t) {
                all.push(json!({"full_name": format!("{c}.{s}.{t}"), "table_type": "MANAGED"}));
            }
        }
    }
    let (items, next) = page(&all, req.q_i64("max_results")?, req.q("page_token"), 10_000)?;
    let mut v = json!({"tables": items});
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn volume_json(sh: &Shared, c: &str, s: &str, name: &str) -> Value {
    let p = sh.layout.volumes().join(c).join(s).join(name);
    let t = crate::layout::mtime_ms(&p);
    let owner = crate::layout::user_name();
    json!({
        "name": name,
        "catalog_name": c,
        "schema_name": s,
        "full_name": format!("{c}.{s}.{name}"),
        "volume_type": "MANAGED",
        "volume_id": crate::lakehouse::uuid_from(&format!("volume:{c}.{s}.{name}")),
        "storage_location": file_url(&p),
        "owner": owner,
        "metastore_id": METASTORE_ID,
        "created_at": t,
        "created_by": owner,
        "updated_at": t,
        "updated_by": owner,
    })
}

fn list_volumes(sh: &Shared, req: &Req) -> HandlerResult {
    let (c, s) = find_schema(
        sh,
        required(req, "catalog_name")?,
        required(req, "schema_name")?,
    )?;
    let names = crate::layout::subdirs(&sh.layout.volumes().join(&c).join(&s));
    let (items, next) = page(
        &names,
        req.q_i64("max_results")?,
        req.q("page_token"),
        10_000,
    )?;
    let mut v = json!({});
    if !items.is_empty() {
        v["volumes"] = json!(
            items
                .iter()
                .map(|n| volume_json(sh, &c, &s, n))
                .collect::<Vec<_>>()
        );
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn get_volume(sh: &Shared, full: &str) -> HandlerResult {
    let p = split_full(full, 3, "volume")?;
    let missing = || {
        not_found(
            "RESOURCE_DOES_NOT_EXIST",
            format!("Volume '{full}' does not exist."),
        )
    };
    let (c, s) = find_schema(sh, &p[0], &p[1]).map_err(|_| missing())?;
    let v = crate::layout::find_dir(&sh.layout.volumes().join(&c).join(&s), &p[2])
        .ok_or_else(missing)?;
    ok(volume_json(sh, &c, &s, &v))
}

fn function_json(f: &crate::sqlfn::SqlFunction) -> Value {
    let owner = crate::layout::user_name();
    let t = crate::layout::mtime_ms(&f.path);
    let full = format!("{}.{}.{}", f.catalog, f.schema, f.name);
    let params: Vec<Value> = f
        .def
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut v = json!({
                "name": p.name,
                "type_text": p.type_.to_ascii_lowercase(),
                "type_name": crate::sqlfn::type_name(&p.type_),
                "type_json": json!({"name": p.name, "type": p.type_.to_ascii_lowercase(), "nullable": true, "metadata": {}}).to_string(),
                "position": i,
                "parameter_mode": "IN",
                "parameter_type": "PARAM",
            });
            if let Some(c) = &p.comment {
                v["comment"] = json!(c);
            }
            v
        })
        .collect();
    let mut v = json!({
        "name": f.name,
        "catalog_name": f.catalog,
        "schema_name": f.schema,
        "full_name": full,
        "function_id": crate::lakehouse::uuid_from(&format!("function:{full}")),
        "owner": owner,
        "metastore_id": METASTORE_ID,
        "data_type": crate::sqlfn::type_name(&f.def.returns),
        "full_data_type": f.def.returns.to_ascii_lowercase(),
        "input_params": {"parameters": params},
        "routine_body": "SQL",
        "routine_definition": f.def.body,
        "parameter_style": "S",
        "is_deterministic": true,
        "is_null_call": false,
        "sql_data_access": "CONTAINS_SQL",
        "security_type": "DEFINER",
        "specific_name": f.name,
        "created_at": t,
        "created_by": owner,
        "updated_at": t,
        "updated_by": owner,
    });
    if let Some(c) = &f.def.comment {
        v["comment"] = json!(c);
    }
    v
}

fn list_functions(sh: &Shared, req: &Req) -> HandlerResult {
    let (c, s) = find_schema(
        sh,
        required(req, "catalog_name")?,
        required(req, "schema_name")?,
    )?;
    let mut fns = crate::sqlfn::list(lake(sh), &c, &s);
    fns.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, next) = page(&fns, req.q_i64("max_results")?, req.q("page_token"), PAGE)?;
    let mut v = json!({});
    if !items.is_empty() {
        v["functions"] = json!(items.iter().map(function_json).collect::<Vec<_>>());
    }
    if let Some(n) = next {
        v["next_page_token"] = json!(n);
    }
    ok(v)
}

fn get_function(sh: &Shared, full: &str) -> HandlerResult {
    let missing = || {
        not_found(
            "FUNCTION_DOES_NOT_EXIST",
            format!("Routine or Model '{full}' does not exist."),
        )
    };
    let p = split_full(full, 3, "function")?;
    let (c, s) = find_schema(sh, &p[0], &p[1]).map_err(|_| missing())?;
    crate::sqlfn::list(lake(sh), &c, &s)
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(&p[2]))
        .map(|f| ok(function_json(&f)))
        .unwrap_or_else(|| Err(missing()))
}
