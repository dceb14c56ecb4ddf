//! Unity Catalog API 2.1 (REFERENCE.md §3): every list and get, read-only.
//!
//! The protocol lives here — required parameters, full-name arity, the `max_results`
//! rules, page tokens, the list-only options — and the data comes from the backend.

use axum::response::Response;
use databricks_api::backend::UnityCatalog;
use databricks_api::catalog::{
    CatalogsPage, SchemasPage, TableInfo, TableSummariesPage, TablesPage, VolumesPage,
};
use databricks_api::error::ApiError;
use databricks_api::functions::FunctionsPage;
use databricks_api::paging::{UcPageRule, slice};

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// `rest`: the path after `/api/2.1/unity-catalog/`.
pub(crate) async fn route(uc: &dyn UnityCatalog, req: &ApiRequest, rest: &[&str]) -> Answer {
    if req.method != "GET" && req.method != "HEAD" {
        return Err(endpoint_not_found(req));
    }
    match rest {
        ["catalogs"] => {
            let (catalogs, next_page_token) =
                page(req, "catalogs", UcPageRule::OBJECTS, uc.catalogs().await?)?;
            ok(&CatalogsPage {
                catalogs,
                next_page_token,
            })
        }
        ["catalogs", name] => ok(&uc.catalog(name).await?),
        ["schemas"] => {
            let catalog = req.required("catalog_name")?;
            let all = uc.schemas(catalog).await?;
            let (schemas, next_page_token) = page(req, "schemas", UcPageRule::OBJECTS, all)?;
            ok(&SchemasPage {
                schemas,
                next_page_token,
            })
        }
        ["schemas", full] => {
            let [catalog, schema] = split(full, "schema")?;
            ok(&uc.schema(catalog, schema).await?)
        }
        ["tables"] => list_tables(uc, req).await,
        ["tables", full] => {
            req.flag("include_delta_metadata")?;
            let [catalog, schema, table] = split(full, "table")?;
            ok(&uc.table(catalog, schema, table).await?)
        }
        ["table-summaries"] => table_summaries(uc, req).await,
        ["volumes"] => {
            let (catalog, schema) = (req.required("catalog_name")?, req.required("schema_name")?);
            let all = uc.volumes(catalog, schema).await?;
            let (volumes, next_page_token) = page(req, "volumes", UcPageRule::LARGE, all)?;
            ok(&VolumesPage {
                volumes,
                next_page_token,
            })
        }
        ["volumes", full] => {
            let [catalog, schema, volume] = split(full, "volume")?;
            ok(&uc.volume(catalog, schema, volume).await?)
        }
        ["functions"] => {
            let (catalog, schema) = (req.required("catalog_name")?, req.required("schema_name")?);
            let all = uc.functions(catalog, schema).await?;
            let (functions, next_page_token) = page(req, "functions", UcPageRule::OBJECTS, all)?;
            ok(&FunctionsPage {
                functions,
                next_page_token,
            })
        }
        ["functions", full] => {
            let [catalog, schema, function] = split(full, "function")?;
            ok(&uc.function(catalog, schema, function).await?)
        }
        _ => Err(endpoint_not_found(req)),
    }
}

fn ok<T: serde::Serialize>(value: &T) -> Answer {
    Ok(json_response(200, value))
}

/// The page `max_results`/`page_token` ask for, and the token of the next one.
fn page<T>(
    req: &ApiRequest,
    scope: &str,
    rule: UcPageRule,
    all: Vec<T>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = rule.page_size(req.integer("max_results")?)?;
    let offset = decode_token(scope, req.query("page_token"))?;
    let (items, next) = slice(all, offset, size);
    Ok((items, next.map(|n| encode_token(scope, n))))
}

/// `a.b` or `a.b.c` into its `N` parts; a wrong arity or an empty part is a 400.
pub(crate) fn split<'a, const N: usize>(
    full: &'a str,
    what: &str,
) -> Result<[&'a str; N], ApiError> {
    let parts: Vec<&str> = full.split('.').collect();
    let invalid = || {
        ApiError::invalid_parameter(format!(
            "Invalid {what} name '{full}': expected {N} dot-separated parts."
        ))
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(invalid());
    }
    parts.try_into().map_err(|_| invalid())
}

async fn list_tables(uc: &dyn UnityCatalog, req: &ApiRequest) -> Answer {
    let (catalog, schema) = (req.required("catalog_name")?, req.required("schema_name")?);
    let omit_columns = req.flag("omit_columns")?;
    let omit_properties = req.flag("omit_properties")?;
    let omit_username = req.flag("omit_username")?;
    let all = uc.tables(catalog, schema).await?;
    let (mut tables, next_page_token) = page(req, "tables", UcPageRule::OBJECTS, all)?;
    for table in &mut tables {
        list_shape(table, omit_columns, omit_properties, omit_username);
    }
    ok(&TablesPage {
        tables,
        next_page_token,
    })
}

/// What the list call leaves out: constraints and view dependencies always (§3.3), the
/// rest on request.
fn list_shape(table: &mut TableInfo, columns: bool, properties: bool, username: bool) {
    table.table_constraints.clear();
    table.view_dependencies = None;
    if columns {
        table.columns.clear();
    }
    if properties {
        table.properties = None;
    }
    if username {
        table.owner = None;
        table.created_by = None;
        table.updated_by = None;
    }
}

async fn table_summaries(uc: &dyn UnityCatalog, req: &ApiRequest) -> Answer {
    let catalog = req.required("catalog_name")?;
    let schema_pattern = req.query("schema_name_pattern").filter(|p| !p.is_empty());
    let table_pattern = req.query("table_name_pattern").filter(|p| !p.is_empty());
    let all: Vec<_> = uc
        .table_summaries(catalog)
        .await?
        .into_iter()
        .filter(|t| {
            let full = t.full_name.as_deref().unwrap_or_default();
            let mut parts = full.splitn(3, '.').skip(1);
            let (schema, table) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            schema_pattern.is_none_or(|p| like(p, schema))
                && table_pattern.is_none_or(|p| like(p, table))
        })
        .collect();
    let (tables, next_page_token) = page(req, "table-summaries", UcPageRule::LARGE, all)?;
    ok(&TableSummariesPage {
        tables,
        next_page_token,
    })
}

/// SQL `LIKE` (`%` any run, `_` one character), case-insensitive as Unity Catalog names.
pub(crate) fn like(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    // matched[j]: the pattern so far matches the first j characters of the text.
    let mut matched = vec![false; text.len() + 1];
    if let Some(first) = matched.first_mut() {
        *first = true;
    }
    for &p in &pattern {
        let mut next = vec![false; text.len() + 1];
        let at = |v: &[bool], k: Option<usize>| k.and_then(|k| v.get(k)).copied() == Some(true);
        for j in 0..=text.len() {
            let before = j.checked_sub(1);
            let value = match p {
                '%' => at(&matched, Some(j)) || at(&next, before),
                '_' => at(&matched, before),
                c => at(&matched, before) && before.and_then(|b| text.get(b)) == Some(&c),
            };
            if let Some(slot) = next.get_mut(j) {
                *slot = value;
            }
        }
        matched = next;
    }
    matched.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("ord%", "orders"));
        assert!(like("%DER_", "orders"));
        assert!(like("%", ""));
        assert!(!like("ord", "orders"));
        assert!(!like("_", ""));
    }

    #[test]
    fn full_names_have_their_arity() {
        assert_eq!(split::<3>("a.b.c", "table").ok(), Some(["a", "b", "c"]));
        assert!(split::<3>("a.b", "table").is_err());
        assert!(split::<2>("a..", "schema").is_err());
        assert!(split::<2>("a.b.c", "schema").is_err());
    }
}
