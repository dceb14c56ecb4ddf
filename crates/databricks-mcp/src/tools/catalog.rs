//! Unity Catalog toolset: `list_catalogs`, `list_schemas`, `list_tables`,
//! `list_databases`, `get_table_schema`.
//!
//! Metadata comes from the Unity Catalog REST API, never from SQL, so no name given by
//! a model is ever spliced into a statement; names are still validated so a mistake
//! gets a clear message instead of an opaque 404.

use base64::Engine;
use databricks_client::services::catalog::TableInfo;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use databricks_client::ErrorKind;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCatalogsArgs {
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSchemasArgs {
    /// Catalog whose schemas to list.
    pub catalog: String,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTablesArgs {
    /// Catalog of the schema.
    pub catalog: String,
    /// Schema whose tables to list.
    pub schema: String,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDatabasesArgs {
    /// Only this catalog's databases; omit to walk every catalog.
    #[serde(default)]
    pub catalog: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTableSchemaArgs {
    /// The database (schema) holding the table, as `catalog.schema`, or just `schema` for the `main` catalog.
    pub database_name: String,
    /// The table name (or its full `catalog.schema.table` name).
    pub table_name: String,
}

const CATALOG: Field = Field {
    name: "catalog",
    json_type: "string",
    description: "The catalog listed.",
};

const LIST_CATALOGS: ListSpec = ListSpec {
    tool: "list_catalogs",
    key: "catalogs",
    columns: &["name", "type", "comment"],
    item: "Catalogs as Unity Catalog describes them.",
    fields: &[],
};

const LIST_SCHEMAS: ListSpec = ListSpec {
    tool: "list_schemas",
    key: "schemas",
    columns: &["name", "comment"],
    item: "Schemas as Unity Catalog describes them.",
    fields: &[CATALOG],
};

const LIST_TABLES: ListSpec = ListSpec {
    tool: "list_tables",
    key: "tables",
    columns: &["name", "type", "format", "comment"],
    item: "Tables and views: name, full_name, table_type, data_source_format, comment.",
    fields: &[
        CATALOG,
        Field {
            name: "schema",
            json_type: "string",
            description: "The schema listed.",
        },
    ],
};

const LIST_DATABASES: ListSpec = ListSpec {
    tool: "list_databases",
    key: "databases",
    columns: &["database", "comment"],
    item: "Databases (Unity Catalog schemas): catalog, schema, name (catalog.schema), comment.",
    fields: &[],
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_CATALOGS,
            "List catalogs",
            "List the Unity Catalog catalogs visible to this identity, with type and comment. Start here to explore data; then list_schemas and list_tables.",
            Toolset::Catalog,
            list_catalogs,
        ),
        ToolDef::list(
            &LIST_SCHEMAS,
            "List schemas",
            "List the schemas (databases) of one Unity Catalog catalog, with comments.",
            Toolset::Catalog,
            list_schemas,
        ),
        ToolDef::list(
            &LIST_TABLES,
            "List tables",
            "List the tables and views of one schema (catalog + schema), with type, format and comment. Use get_table_schema for a table's columns.",
            Toolset::Catalog,
            list_tables,
        ),
        ToolDef::list(
            &LIST_DATABASES,
            "List databases",
            "List databases (Unity Catalog schemas) as catalog.schema names across all catalogs, or of one: to find where data lives.",
            Toolset::Catalog,
            list_databases,
        ),
        ToolDef::new(
            "get_table_schema",
            "Get table schema",
            "Get a table's columns (name, type, nullable, comment), partitioning, format, owner and comment from Unity Catalog; use it before writing SQL.",
            Toolset::Catalog,
            ToolKind::ReadGet,
            get_table_schema,
        ),
    ]
}

/// A failed listing of the schemas of `catalog`, with the hints that fit.
fn schemas_error(catalog: &str, e: databricks_client::Error) -> ToolError {
    ToolError::upstream(&format!("Listing schemas of catalog {catalog}"), e)
        .hint_for(
            ErrorKind::NotFound,
            "Call list_catalogs to see the catalogs that exist.",
        )
        .needs(&format!("USE CATALOG on {catalog}"))
}

/// A Unity Catalog name part: non-empty, at most 255 characters, no dots, slashes or
/// control characters (backticks around it are accepted and removed).
pub fn validate_name(what: &str, name: &str) -> Result<String, ToolError> {
    let trimmed = name.trim();
    let unquoted = trimmed
        .strip_prefix('`')
        .and_then(|s| s.strip_suffix('`'))
        .unwrap_or(trimmed);
    let bad = unquoted.is_empty()
        || unquoted.len() > 255
        || unquoted
            .chars()
            .any(|c| c.is_control() || matches!(c, '.' | '/' | '`'));
    if bad {
        return Err(ToolError::new(format!(
            "{what} {name:?} is not a valid Unity Catalog name (1-255 characters, no dots, slashes, backticks or control characters)"
        )));
    }
    Ok(unquoted.to_string())
}

async fn list_catalogs(ctx: CallContext, args: ListCatalogsArgs) -> Result<ToolOutput, ToolError> {
    let page = ctx
        .state
        .client
        .list_catalogs(Some(args.page.size()), args.page.cursor())
        .await
        .map_err(|e| ToolError::upstream("Listing catalogs", e))?;
    let rows = page.items.iter().map(|c| {
        vec![
            Some(c.name.clone()),
            c.catalog_type.clone(),
            c.comment.clone(),
        ]
    });
    Ok(LIST_CATALOGS
        .page(rows, values(&page.items), page.next_page_token)
        .answer(&ctx))
}

async fn list_schemas(ctx: CallContext, args: ListSchemasArgs) -> Result<ToolOutput, ToolError> {
    let catalog = validate_name("catalog", &args.catalog)?;
    let page = ctx
        .state
        .client
        .list_schemas(&catalog, Some(args.page.size()), args.page.cursor())
        .await
        .map_err(|e| schemas_error(&catalog, e))?;
    let rows = page
        .items
        .iter()
        .map(|s| vec![Some(s.name.clone()), s.comment.clone()]);
    Ok(LIST_SCHEMAS
        .page(rows, values(&page.items), page.next_page_token)
        .field("catalog", &catalog)
        .summary(format!("{} schemas in {catalog}.", page.items.len()))
        .answer(&ctx))
}

async fn list_tables(ctx: CallContext, args: ListTablesArgs) -> Result<ToolOutput, ToolError> {
    let catalog = validate_name("catalog", &args.catalog)?;
    let schema = validate_name("schema", &args.schema)?;
    let page = ctx
        .state
        .client
        .list_tables(&catalog, &schema, Some(args.page.size()), args.page.cursor())
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing tables of {catalog}.{schema}"), e)
                .hint_for(
                    ErrorKind::NotFound,
                    format!("Call list_schemas with catalog=\"{catalog}\" to see the schemas that exist."),
                )
                .needs(&format!("USE CATALOG on {catalog} and USE SCHEMA on {catalog}.{schema}"))
        })?;
    let rows = page.items.iter().map(|t| {
        vec![
            Some(t.name.clone()),
            t.table_type.clone(),
            t.data_source_format.clone(),
            t.comment.clone(),
        ]
    });
    let tables = page
        .items
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "full_name": t.full_name.clone().unwrap_or_else(|| format!("{catalog}.{schema}.{}", t.name)),
                "table_type": t.table_type,
                "data_source_format": t.data_source_format,
                "comment": t.comment,
            })
        })
        .collect();
    Ok(LIST_TABLES
        .page(rows, tables, page.next_page_token)
        .field("catalog", &catalog)
        .field("schema", &schema)
        .summary(format!(
            "{} tables in {catalog}.{schema}.",
            page.items.len()
        ))
        .answer(&ctx))
}

/// Where `list_databases` resumes: a catalog (by name) and the schema page token in it.
#[derive(Debug, Serialize, Deserialize)]
struct DatabasesCursor {
    catalog: String,
    #[serde(default)]
    token: Option<String>,
}

fn encode_cursor(c: &DatabasesCursor) -> String {
    let raw = serde_json::to_vec(c).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The `list_databases` cursor for `catalog` and its schema page `token`. Public with
/// [`decode_databases_cursor`] for the fuzz target (fuzz/), which checks the round trip.
#[doc(hidden)]
pub fn encode_databases_cursor(catalog: &str, token: Option<&str>) -> String {
    encode_cursor(&DatabasesCursor {
        catalog: catalog.to_string(),
        token: token.map(str::to_string),
    })
}

/// The catalog and schema page token of a `list_databases` cursor.
#[doc(hidden)]
pub fn decode_databases_cursor(s: &str) -> Result<(String, Option<String>), ToolError> {
    decode_cursor(s).map(|c| (c.catalog, c.token))
}

fn decode_cursor(s: &str) -> Result<DatabasesCursor, ToolError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ToolError::new("invalid cursor: pass the cursor exactly as a previous list_databases answer gave it, or omit it to start over"))
}

async fn list_databases(
    ctx: CallContext,
    args: ListDatabasesArgs,
) -> Result<ToolOutput, ToolError> {
    let client = &ctx.state.client;
    let size = args.page.size() as usize;
    let resume = args.page.cursor().map(decode_cursor).transpose()?;
    let catalogs: Vec<String> = match &args.catalog {
        Some(c) => vec![validate_name("catalog", c)?],
        None => {
            let all = databricks_client::pagination::collect_pages(
                None,
                usize::MAX,
                |token| async move { client.list_catalogs(Some(0), token.as_deref()).await },
            )
            .await
            .map_err(|e| ToolError::upstream("Listing catalogs", e))?;
            all.items.into_iter().map(|c| c.name).collect()
        }
    };
    let start = match &resume {
        Some(r) => catalogs.iter().position(|c| *c == r.catalog).ok_or_else(|| {
            ToolError::new(format!(
                "the cursor points at catalog {:?}, which is no longer listed; omit the cursor to start over",
                r.catalog
            ))
        })?,
        None => 0,
    };
    let mut names: Vec<(String, String, Option<String>)> = Vec::new();
    let mut next: Option<DatabasesCursor> = None;
    let mut token = resume.and_then(|r| r.token);
    'catalogs: for catalog in catalogs.iter().skip(start) {
        loop {
            let remaining = size - names.len();
            let page = client
                .list_schemas(catalog, Some(remaining.min(100) as u32), token.as_deref())
                .await
                .map_err(|e| schemas_error(catalog, e))?;
            names.extend(
                page.items
                    .into_iter()
                    .map(|s| (catalog.clone(), s.name, s.comment)),
            );
            token = page.next_page_token;
            if names.len() >= size {
                next = Some(match token.take() {
                    Some(t) => DatabasesCursor {
                        catalog: catalog.clone(),
                        token: Some(t),
                    },
                    None => match catalogs.iter().skip_while(|c| *c != catalog).nth(1) {
                        Some(following) => DatabasesCursor {
                            catalog: following.clone(),
                            token: None,
                        },
                        None => break 'catalogs,
                    },
                });
                break 'catalogs;
            }
            if token.is_none() {
                continue 'catalogs;
            }
        }
    }
    let cursor = next.as_ref().map(encode_cursor);
    let rows = names
        .iter()
        .map(|(c, s, comment)| vec![Some(format!("{c}.{s}")), comment.clone()]);
    let databases = names
        .iter()
        .map(|(c, s, comment)| json!({"catalog": c, "schema": s, "name": format!("{c}.{s}"), "comment": comment}))
        .collect();
    Ok(LIST_DATABASES.page(rows, databases, cursor).answer(&ctx))
}

/// Splits `database_name` + `table_name` into catalog, schema and table.
fn table_parts(database: &str, table: &str) -> Result<(String, String, String), ToolError> {
    let table_parts: Vec<&str> = table.trim().split('.').collect();
    if let [catalog, schema, table] = table_parts.as_slice() {
        return Ok((
            validate_name("catalog", catalog)?,
            validate_name("schema", schema)?,
            validate_name("table", table)?,
        ));
    }
    let db_parts: Vec<&str> = database.trim().split('.').collect();
    let (catalog, schema) = match db_parts.as_slice() {
        [schema] => ("main", *schema),
        [catalog, schema] => (*catalog, *schema),
        _ => {
            return Err(ToolError::new(format!(
                "database_name {database:?} should be `catalog.schema` (or just `schema` for the main catalog)"
            )));
        }
    };
    Ok((
        validate_name("catalog", catalog)?,
        validate_name("schema", schema)?,
        validate_name("table", table)?,
    ))
}

async fn get_table_schema(
    ctx: CallContext,
    args: GetTableSchemaArgs,
) -> Result<ToolOutput, ToolError> {
    let (catalog, schema, table) = table_parts(&args.database_name, &args.table_name)?;
    describe_table(&ctx, &catalog, &schema, &table).await
}

/// A table's metadata as the model reads it: type and format, comment, columns with
/// types, nullability and comments, partitioning, owner, last change, view text (also
/// the `databricks://tables/…` resource). The names are validated by the caller.
pub(crate) async fn describe_table(
    ctx: &CallContext,
    catalog: &str,
    schema: &str,
    table: &str,
) -> Result<ToolOutput, ToolError> {
    let full_name = format!("{catalog}.{schema}.{table}");
    let info: TableInfo = ctx.state.client.get_table(&full_name).await.map_err(|e| {
        ToolError::upstream(&format!("Reading table {full_name}"), e)
            .hint_for(
                ErrorKind::NotFound,
                format!("Table {full_name} was not found (or is not visible to this identity). Call list_tables with catalog=\"{catalog}\" and schema=\"{schema}\" to see the tables that exist."),
            )
            .needs(&format!("USE CATALOG on {catalog}, USE SCHEMA on {catalog}.{schema} and SELECT (or BROWSE) on {full_name}"))
    })?;
    let mut text = format!(
        "{full_name} ({}{})",
        info.table_type.as_deref().unwrap_or("TABLE"),
        info.data_source_format
            .as_deref()
            .map(|f| format!(", {f}"))
            .unwrap_or_default()
    );
    if let Some(c) = &info.comment {
        text.push_str(&format!(": {c}"));
    }
    text.push('\n');
    let columns = ["column", "type", "nullable", "comment"]
        .map(String::from)
        .to_vec();
    let rows = info.columns.iter().map(|c| {
        vec![
            Some(c.name.clone()),
            c.type_text.clone().or(c.type_name.clone()),
            Some(c.nullable.unwrap_or(true).to_string()),
            c.comment.clone(),
        ]
    });
    text.push_str(&render::table(&columns, rows, ctx.state.settings.max_chars).text);
    let partitions: Vec<&str> = {
        let mut p: Vec<_> = info
            .columns
            .iter()
            .filter(|c| c.partition_index.is_some())
            .collect();
        p.sort_by_key(|c| c.partition_index);
        p.into_iter().map(|c| c.name.as_str()).collect()
    };
    if !partitions.is_empty() {
        text.push_str(&format!("\nPartitioned by: {}", partitions.join(", ")));
    }
    if let Some(owner) = &info.owner {
        text.push_str(&format!("\nOwner: {owner}"));
    }
    if let Some(updated) = render::timestamp_ms(info.updated_at.or(info.created_at)) {
        text.push_str(&format!("\nLast modified: {updated}"));
    }
    if let Some(view) = &info.view_definition {
        text.push_str(&format!("\nView definition: {}", render::clip(view, 2000)));
    }
    let text = render::clip(&text, ctx.state.settings.max_chars);
    let structured = json!({
        "full_name": full_name,
        "table_type": info.table_type,
        "data_source_format": info.data_source_format,
        "comment": info.comment,
        "owner": info.owner,
        "columns": info.columns,
        "partition_columns": partitions,
        "view_definition": info.view_definition,
        "table_constraints": info.table_constraints,
        "updated_at": info.updated_at,
    });
    Ok(ToolOutput::new(text, structured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert_eq!(validate_name("t", "orders").ok().as_deref(), Some("orders"));
        assert_eq!(
            validate_name("t", "`my table`").ok().as_deref(),
            Some("my table")
        );
        assert!(validate_name("t", "a.b").is_err());
        assert!(validate_name("t", "x`; DROP TABLE y; --").is_err());
        assert!(validate_name("t", "").is_err());
        assert!(validate_name("t", "../etc").is_err());
    }

    #[test]
    fn table_parts_forms() {
        let p = |d: &str, t: &str| table_parts(d, t).ok();
        assert_eq!(
            p("main.sales", "orders"),
            Some(("main".into(), "sales".into(), "orders".into()))
        );
        assert_eq!(
            p("sales", "orders"),
            Some(("main".into(), "sales".into(), "orders".into()))
        );
        assert_eq!(p("", "c.s.t"), Some(("c".into(), "s".into(), "t".into())));
        assert!(p("a.b.c", "t").is_none());
    }

    #[test]
    fn cursor_round_trips() {
        let c = DatabasesCursor {
            catalog: "main".into(),
            token: Some("abc".into()),
        };
        let back = decode_cursor(&encode_cursor(&c)).ok();
        assert_eq!(
            back.map(|b| (b.catalog, b.token)),
            Some(("main".into(), Some("abc".into())))
        );
        assert!(decode_cursor("garbage!").is_err());
    }
}
