//! MCP resources: workspace objects a client can attach to a conversation by URI,
//! without a warehouse. `resources/list` offers the catalogs and schemas as entry
//! points; the templates reach tables, notebooks, jobs, runs and statement results.
//!
//! The text is the compact form the tools answer with, bounded in size. A URI that
//! names nothing is "resource not found"; a URI that is not ours is invalid params.
//!
//! The result view (`ui://databricks-mcp/result-view`, an MCP App: `view.rs`) is listed
//! first and read here too.

use std::fmt::Write as _;

use base64::Engine as _;
use databricks_client::ErrorKind;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::json;

use crate::context::CallContext;
use crate::error::ToolError;
use crate::lookup::Kind;
use crate::render::{self, TextFormat};
use crate::tools::catalog::{describe_table, validate_name};
use crate::tools::runs;

pub const SCHEME: &str = "databricks://";
/// Entries of one `resources/list` page.
const PAGE: usize = 100;
/// Catalogs whose schemas are listed (the rest are listed as catalogs only).
const CATALOGS_EXPANDED: usize = 50;
/// The longest resource text; longer ones are cut with a note.
const MAX_TEXT: usize = 100_000;

/// The templates, in the order clients show them.
pub fn templates() -> ListResourceTemplatesResult {
    let template = |uri: &str, name: &str, title: &str, description: &str| {
        ResourceTemplate::new(uri, name)
            .with_title(title)
            .with_description(description)
            .with_mime_type("text/plain")
    };
    ListResourceTemplatesResult::with_all_items(vec![
        template(
            "databricks://tables/{catalog}/{schema}/{table}",
            "table",
            "Table metadata",
            "A Unity Catalog table or view: columns with types, nullability and comments, table comment, format, owner, partitioning, last modified. Metadata only: no warehouse runs.",
        ),
        template(
            "databricks://catalogs/{catalog}",
            "catalog",
            "Catalog",
            "The schemas of a Unity Catalog catalog, with comments.",
        ),
        template(
            "databricks://schemas/{catalog}/{schema}",
            "schema",
            "Schema",
            "The tables and views of a schema, with type, format and comment.",
        ),
        template(
            "databricks://notebooks/{+path}",
            "notebook",
            "Notebook or folder",
            "The source of a workspace notebook or file (path without the leading slash, e.g. Users/me@example.com/etl); a folder lists its children.",
        ),
        template(
            "databricks://jobs/{job_id}",
            "job",
            "Job",
            "A Lakeflow job: settings, schedule, tasks and its most recent runs.",
        ),
        template(
            "databricks://runs/{run_id}",
            "run",
            "Job run",
            "A job run: state, tasks, and each task's output, error and trace.",
        ),
        template(
            "databricks://statements/{statement_id}",
            "statement",
            "SQL statement result",
            "A SQL statement's state and the first page of its result (while the result is kept, about an hour).",
        ),
    ])
}

/// One page of the entry points: every catalog, then the schemas of each (bounded).
pub async fn list(
    ctx: &CallContext,
    cursor: Option<&str>,
) -> Result<ListResourcesResult, McpError> {
    let offset = match cursor {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| {
            McpError::invalid_params(
                format!("invalid cursor {c:?}: pass the nextCursor of the previous page"),
                None,
            )
        })?,
    };
    let mut entries = vec![crate::view::resource()];
    entries.extend(entry_points(ctx).await.map_err(|e| to_mcp(e, None))?);
    let page: Vec<Resource> = entries.iter().skip(offset).take(PAGE).cloned().collect();
    let next = offset + page.len();
    let mut result = ListResourcesResult::with_all_items(page);
    result.next_cursor = (next < entries.len()).then(|| encode_cursor(next));
    Ok(result)
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("resources:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("resources:")?
        .parse()
        .ok()
}

async fn entry_points(ctx: &CallContext) -> Result<Vec<Resource>, ToolError> {
    let state = &ctx.state;
    let catalogs = state
        .lookup
        .names(&state.client, Kind::Catalogs, "")
        .await
        .map_err(|e| ToolError::upstream("Listing catalogs", e))?;
    let mut entries: Vec<Resource> = catalogs
        .iter()
        .map(|c| {
            text_resource(
                format!("{SCHEME}catalogs/{}", encode_segment(&c.value)),
                &c.value,
                format!("Catalog {}", c.value),
                "Its schemas.",
            )
        })
        .collect();
    for catalog in catalogs.iter().take(CATALOGS_EXPANDED) {
        // A catalog this identity cannot browse is listed without its schemas.
        let Ok(schemas) = state
            .lookup
            .names(&state.client, Kind::Schemas, &catalog.value)
            .await
        else {
            continue;
        };
        entries.extend(schemas.iter().map(|s| {
            let full = format!("{}.{}", catalog.value, s.value);
            text_resource(
                format!(
                    "{SCHEME}schemas/{}/{}",
                    encode_segment(&catalog.value),
                    encode_segment(&s.value)
                ),
                &full,
                format!("Schema {full}"),
                "Its tables and views.",
            )
        }));
    }
    Ok(entries)
}

fn text_resource(uri: String, name: &str, title: String, description: &str) -> Resource {
    Resource::new(uri, name)
        .with_title(title)
        .with_description(description)
        .with_mime_type("text/plain")
}

/// What a URI names.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Catalog(String),
    Schema(String, String),
    Table(String, String, String),
    Notebook(String),
    Job(i64),
    Run(i64),
    Statement(String),
}

fn parse(uri: &str) -> Result<Target, String> {
    let rest = uri
        .strip_prefix(SCHEME)
        .ok_or_else(|| format!("{uri:?} is not a databricks:// resource URI"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (kind, path) = rest.split_once('/').unwrap_or((rest, ""));
    let segments: Vec<String> = path
        .split('/')
        .map(decode_segment)
        .collect::<Result<_, _>>()?;
    let name = |what: &str, s: &str| validate_name(what, s).map_err(|e| e.text());
    let id = |what: &str, s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{what} {s:?} is not a positive number"))
    };
    match (kind, segments.as_slice()) {
        ("catalogs", [c]) => Ok(Target::Catalog(name("catalog", c)?)),
        ("schemas", [c, s]) => Ok(Target::Schema(name("catalog", c)?, name("schema", s)?)),
        ("tables", [c, s, t]) => Ok(Target::Table(
            name("catalog", c)?,
            name("schema", s)?,
            name("table", t)?,
        )),
        ("notebooks", parts) if !parts.is_empty() => {
            if parts
                .iter()
                .any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\0'))
            {
                return Err(format!(
                    "{uri:?}: a notebook path has no empty, . or .. segments"
                ));
            }
            Ok(Target::Notebook(format!("/{}", parts.join("/"))))
        }
        ("jobs", [j]) => Ok(Target::Job(id("job_id", j)?)),
        ("runs", [r]) => Ok(Target::Run(id("run_id", r)?)),
        ("statements", [s]) => Ok(Target::Statement(s.clone())),
        _ => Err(format!(
            "{uri:?} matches no resource template of this server (resources/templates/list shows them)"
        )),
    }
}

/// Percent-decodes one path segment (RFC 3986); invalid escapes or UTF-8 are refused.
fn decode_segment(segment: &str) -> Result<String, String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in {segment:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{segment:?} is not UTF-8 once decoded"))
}

/// Percent-encodes what may not stand in a URI path segment.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@!$&'()*+,;=:".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `resources/read` of a `ui://` URI: the result view, or not found.
pub fn read_ui(uri: &str) -> Result<ReadResourceResult, McpError> {
    if uri == crate::view::URI {
        Ok(crate::view::read())
    } else {
        Err(McpError::resource_not_found(
            format!(
                "{uri:?} is no view of this server; its view is {}",
                crate::view::URI
            ),
            Some(json!({"uri": uri})),
        ))
    }
}

/// `resources/read`.
pub async fn read(ctx: &CallContext, uri: &str) -> Result<ReadResourceResult, McpError> {
    if uri.starts_with("ui://") {
        return read_ui(uri);
    }
    let target = parse(uri).map_err(|m| McpError::invalid_params(m, Some(json!({"uri": uri}))))?;
    let (text, mime) = render_target(ctx, &target)
        .await
        .map_err(|e| to_mcp(e, Some(uri)))?;
    let text = if text.len() > MAX_TEXT {
        format!(
            "{}\n[cut at {MAX_TEXT} characters of {}]",
            render::clip(&text, MAX_TEXT),
            text.len()
        )
    } else {
        text
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(mime),
    ]))
}

/// A failed read: an object that does not exist is "resource not found" (rmcp answers
/// -32602 on 2026-07-28, -32002 before); bad input is invalid params; the rest internal.
fn to_mcp(e: ToolError, uri: Option<&str>) -> McpError {
    let data = uri.map(|u| json!({"uri": u}));
    match e.kind() {
        Some(ErrorKind::NotFound) => McpError::resource_not_found(e.text(), data),
        None => McpError::invalid_params(e.text(), data),
        Some(_) => McpError::internal_error(e.text(), data),
    }
}

async fn render_target(ctx: &CallContext, target: &Target) -> Result<(String, String), ToolError> {
    let plain = |text: String| (text, "text/plain".to_string());
    match target {
        Target::Table(c, s, t) => Ok(plain(describe_table(ctx, c, s, t).await?.text)),
        Target::Catalog(c) => Ok(plain(catalog_text(ctx, c).await?)),
        Target::Schema(c, s) => Ok(plain(schema_text(ctx, c, s).await?)),
        Target::Notebook(path) => notebook_text(ctx, path).await,
        Target::Job(id) => Ok(plain(runs::job_text(ctx, *id).await?)),
        Target::Run(id) => Ok(plain(runs::run_text(ctx, *id).await?)),
        Target::Statement(id) => {
            let page = crate::tools::sql::statement_page(
                ctx,
                id,
                0,
                ctx.state.settings.max_rows,
                TextFormat::Csv,
            )
            .await?;
            Ok(plain(page.text))
        }
    }
}

async fn catalog_text(ctx: &CallContext, catalog: &str) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let page = client
        .list_schemas(catalog, None, None)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing the schemas of catalog {catalog}"), e)
        })?;
    let rows = page
        .items
        .iter()
        .map(|s| vec![Some(s.name.clone()), s.comment.clone()]);
    let table = render::table(
        &["schema".to_string(), "comment".to_string()],
        rows,
        MAX_TEXT,
    );
    Ok(format!(
        "Catalog {catalog}: {} schemas{}.\n{}",
        page.items.len(),
        if page.next_page_token.is_some() {
            " (first page)"
        } else {
            ""
        },
        table.text
    ))
}

async fn schema_text(ctx: &CallContext, catalog: &str, schema: &str) -> Result<String, ToolError> {
    let client = &ctx.state.client;
    let page = client
        .list_tables(catalog, schema, None, None)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing the tables of {catalog}.{schema}"), e)
        })?;
    let rows = page.items.iter().map(|t| {
        vec![
            Some(t.name.clone()),
            t.table_type.clone(),
            t.data_source_format.clone(),
            t.comment.clone(),
        ]
    });
    let header = ["table", "type", "format", "comment"].map(String::from);
    let table = render::table(&header, rows, MAX_TEXT);
    Ok(format!(
        "Schema {catalog}.{schema}: {} tables and views{}. Each is databricks://tables/{}/{}/<table>.\n{}",
        page.items.len(),
        if page.next_page_token.is_some() {
            " (first page)"
        } else {
            ""
        },
        encode_segment(catalog),
        encode_segment(schema),
        table.text
    ))
}

async fn notebook_text(ctx: &CallContext, path: &str) -> Result<(String, String), ToolError> {
    let client = &ctx.state.client;
    let not_found = |e| {
        ToolError::upstream(&format!("Reading {path}"), e).hint_for(
            ErrorKind::NotFound,
            format!("{path} does not exist: call list_notebooks on its folder."),
        )
    };
    let status = client.workspace_status(path).await.map_err(not_found)?;
    if matches!(status.object_type.as_deref(), Some("DIRECTORY" | "REPO")) {
        let children = client.list_workspace(path).await.map_err(not_found)?;
        let rows = children.iter().map(|o| {
            vec![
                Some(o.path.clone()),
                o.object_type.clone(),
                o.language.clone(),
            ]
        });
        let header = ["path", "type", "language"].map(String::from);
        let table = render::table(&header, rows, MAX_TEXT);
        return Ok((
            format!("Folder {path}: {} objects.\n{}", children.len(), table.text),
            "text/plain".into(),
        ));
    }
    let bytes = client
        .export_workspace_source(path)
        .await
        .map_err(not_found)?;
    let mime = match status.language.as_deref() {
        Some("PYTHON") => "text/x-python",
        Some("SQL") => "application/sql",
        Some("SCALA") => "text/x-scala",
        Some("R") => "text/x-r",
        _ => "text/plain",
    };
    Ok((String::from_utf8_lossy(&bytes).into_owned(), mime.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_to_targets() {
        assert_eq!(
            parse("databricks://tables/samples/tpch/nation"),
            Ok(Target::Table(
                "samples".into(),
                "tpch".into(),
                "nation".into()
            ))
        );
        assert_eq!(
            parse("databricks://notebooks/Users/me%40example.com/my%20etl"),
            Ok(Target::Notebook("/Users/me@example.com/my etl".into()))
        );
        assert_eq!(parse("databricks://jobs/42"), Ok(Target::Job(42)));
        assert_eq!(
            parse("databricks://catalogs/main"),
            Ok(Target::Catalog("main".into()))
        );
        assert!(parse("databricks://jobs/-1").is_err());
        assert!(parse("databricks://tables/a/b").is_err());
        assert!(parse("databricks://notebooks/Users/../etc").is_err());
        assert!(parse("databricks://notebooks/").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("databricks://tables/a/b/c%ZZ").is_err());
        assert!(parse("databricks://tables/a/b/x`; DROP").is_err());
    }

    #[test]
    fn segments_round_trip() {
        for s in ["plain", "with space", "me@example.com", "a/b", "ü"] {
            assert_eq!(decode_segment(&encode_segment(s)).as_deref(), Ok(s));
        }
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(200)), Some(200));
        assert_eq!(decode_cursor("nonsense"), None);
    }
}
