//! The result view: SQL results as an interactive MCP App (the `io.modelcontextprotocol/ui`
//! extension, MCP Apps 2026-01-26) — a sortable, typed table and a chart — and the same
//! view as a standalone page (`call --view`) or the chart alone as SVG (`call --chart`).
//!
//! The view is one self-contained HTML file (`result_view.html`): no network access, no
//! library, its CSP both in the file and in the resource's `_meta.ui.csp` (empty domain
//! lists). The SQL tools link it through their `_meta.ui.resourceUri`; a host that
//! renders MCP Apps reads it with `resources/read`, shows it in a sandboxed iframe and
//! passes it the tool result, whose `structuredContent` it draws. Hosts without Apps see
//! the same text answer as before. The view pages further rows by calling
//! `get_sql_result` through the host (`tools/call`).
//!
//! Its charts are drawn by hand-written code, in JavaScript in the view and in Rust in
//! [`chart`] for `--chart`: a charting library would be most of the file's size for
//! three chart kinds, would need inlining at build time (a build step this crate does
//! not have), and neither side could then follow the other's rules.

pub mod chart;

use rmcp::model::{MetaObject, ReadResourceResult, Resource, ResourceContents};
use serde_json::{Map, Value, json};

/// The view's resource URI.
pub const URI: &str = "ui://databricks-mcp/result-view";
/// The MIME type of an MCP App's HTML (MCP Apps, "UI Resource Format").
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";

/// The MCP Apps extension's identifier in `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";

/// The server's settings of the MCP Apps extension: the view's mime type.
pub fn extension_settings() -> rmcp::model::JsonObject {
    let mut settings = rmcp::model::JsonObject::new();
    settings.insert("mimeTypes".into(), serde_json::json!([MIME_TYPE]));
    settings
}
/// The view.
pub const HTML: &str = include_str!("result_view.html");
/// The element that carries a standalone page's data; empty (`null`) in the resource.
const EMBEDDED: &str = r#"<script type="application/json" id="embedded-result">null</script>"#;

/// The tools whose results the view draws: the full surface's SQL tools and the managed
/// SQL surface's (same statement answers, Statement Execution shape).
pub const TOOLS: &[&str] = &[
    "run_sql_query",
    "get_sql_result",
    "execute_sql",
    "execute_sql_read_only",
    "poll_sql_result",
];

/// A tool's `_meta` linking it to the view: `ui.resourceUri`, and the flat
/// `ui/resourceUri` the specification deprecates but hosts built before it still read
/// (the official `registerAppTool` sets both). No `visibility`: its default,
/// `["model", "app"]`, is what these tools are — the model calls them, and the view
/// calls `get_sql_result` for further pages.
pub fn tool_meta() -> MetaObject {
    let mut meta = Map::new();
    meta.insert("ui".into(), json!({ "resourceUri": URI }));
    meta.insert("ui/resourceUri".into(), json!(URI));
    MetaObject(meta)
}

/// `_meta.ui` of the resource: no external origin of any kind (empty CSP domain lists),
/// and a border from the host.
fn resource_meta() -> MetaObject {
    let mut meta = Map::new();
    meta.insert(
        "ui".into(),
        json!({
            "csp": {
                "connectDomains": [],
                "resourceDomains": [],
                "frameDomains": [],
                "baseUriDomains": []
            },
            "prefersBorder": true
        }),
    );
    MetaObject(meta)
}

/// The view's entry in `resources/list`, with its `_meta.ui` so a host can review the
/// policy before reading it.
pub fn resource() -> Resource {
    Resource::new(URI, "result-view")
        .with_title("SQL result view")
        .with_description(
            "Interactive view of a SQL result (MCP App): a sortable table and a chart chosen from the column types, with further pages fetched through get_sql_result.",
        )
        .with_mime_type(MIME_TYPE)
        .with_size(HTML.len() as u64)
        .with_meta(resource_meta())
}

/// `resources/read` of the view.
pub fn read() -> ReadResourceResult {
    ReadResourceResult::new(vec![
        ResourceContents::text(HTML, URI)
            .with_mime_type(MIME_TYPE)
            .with_meta(resource_meta()),
    ])
}

/// Why a page or a chart cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ViewError {
    #[error(
        "the result holds no result set to show (a view or chart needs the answer of run_sql_query, get_sql_result, execute_sql, execute_sql_read_only or poll_sql_result that finished with rows)"
    )]
    NoResultSet,
    #[error("no chart fits this result: {0}")]
    NoChart(String),
    #[error("a {wanted} chart does not fit this result; {fits}")]
    KindDoesNotFit { wanted: String, fits: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// The view as a standalone page holding one result: it renders without a host and
/// without network access, opened from a file. `arguments` are the tool's (the query is
/// shown above the table).
pub fn standalone_page(tool: &str, arguments: &Value, structured: &Value) -> String {
    let data = json!({
        "tool": tool,
        "arguments": arguments,
        "structuredContent": structured,
    });
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "null".into());
    // Inside <script> only `</script` (and `<!--`) could end the element early: `<`
    // never appears unescaped, and U+2028/2029 are escaped for older parsers.
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    HTML.replacen(
        EMBEDDED,
        &format!(r#"<script type="application/json" id="embedded-result">{json}</script>"#),
        1,
    )
}

/// The chart of a result as a standalone SVG: `kind`, else the chart the view shows
/// first.
pub fn chart_svg(structured: &Value, kind: Option<chart::ChartKind>) -> Result<String, ViewError> {
    let data = chart::ResultData::from_structured(structured).ok_or(ViewError::NoResultSet)?;
    let plan = chart::plan(&data);
    let fits = || match plan.kinds.as_slice() {
        [] => "none fits".to_string(),
        kinds => format!(
            "these fit: {}",
            kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let kind = match kind {
        Some(k) if plan.kinds.contains(&k) => k,
        Some(k) => {
            return Err(ViewError::KindDoesNotFit {
                wanted: k.as_str().into(),
                fits: fits(),
            });
        }
        None => plan.default_kind().ok_or_else(|| {
            ViewError::NoChart(
                "a chart needs a measure (a number column) with a category, a time or another measure (see README, Result view)".into(),
            )
        })?,
    };
    chart::svg(&data, kind).ok_or_else(|| ViewError::NoChart(fits()))
}

/// What `call --view/--chart` writes.
#[derive(Debug, Default, Clone)]
pub struct Outputs {
    pub page: Option<std::path::PathBuf>,
    pub chart: Option<std::path::PathBuf>,
    pub chart_kind: Option<chart::ChartKind>,
}

/// Writes the standalone page and/or the chart of a tool's result. Both are made first,
/// so a result that cannot give one writes neither. Returns the files written.
pub fn write_outputs(
    tool: &str,
    arguments: &Value,
    structured: Option<&Value>,
    outputs: &Outputs,
) -> Result<Vec<std::path::PathBuf>, ViewError> {
    let structured = structured
        .filter(|s| is_result(s))
        .ok_or(ViewError::NoResultSet)?;
    let mut files = Vec::new();
    if let Some(path) = &outputs.page {
        files.push((path.clone(), standalone_page(tool, arguments, structured)));
    }
    if let Some(path) = &outputs.chart {
        files.push((path.clone(), chart_svg(structured, outputs.chart_kind)?));
    }
    files
        .into_iter()
        .map(|(path, content)| {
            std::fs::write(&path, content).map_err(|e| ViewError::Write {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Ok(path)
        })
        .collect()
}

/// Whether a `structuredContent` is a SQL result the view can show.
pub fn is_result(structured: &Value) -> bool {
    chart::ResultData::from_structured(structured).is_some()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_view_is_self_contained_with_a_strict_policy() {
        assert!(HTML.starts_with("<!DOCTYPE html>"));
        assert_eq!(HTML.matches(EMBEDDED).count(), 1);
        let csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
        assert!(
            HTML.contains(&format!(
                r#"<meta http-equiv="Content-Security-Policy" content="{csp}"#
            )),
            "the view's CSP"
        );
        // Nothing is loaded from anywhere: no URL but the SVG namespace.
        for needle in ["http://", "https://", "//cdn", " src=", "@import", "url("] {
            let hits: Vec<&str> = HTML
                .match_indices(needle)
                .map(|(i, _)| &HTML[i.saturating_sub(30)..(i + 60).min(HTML.len())])
                .filter(|context| !context.contains("http://www.w3.org/2000/svg"))
                .collect();
            assert!(hits.is_empty(), "{needle}: {hits:?}");
        }
    }

    #[test]
    fn a_standalone_page_embeds_the_data_safely() {
        let structured = json!({"columns": [{"name": "x", "type": "STRING"}], "rows": [["</script><script>alert(1)</script>"]]});
        let page = standalone_page(
            "run_sql_query",
            &json!({"query": "SELECT '<b>'"}),
            &structured,
        );
        assert!(!page.contains(EMBEDDED));
        assert!(!page.contains("</script><script>alert(1)"));
        let start =
            page.find(r#"id="embedded-result">"#).unwrap() + r#"id="embedded-result">"#.len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(data["structuredContent"], structured);
        assert_eq!(data["arguments"]["query"], "SELECT '<b>'");
    }

    #[test]
    fn the_tool_meta_and_the_resource_meta() {
        let meta = serde_json::to_value(tool_meta()).unwrap();
        assert_eq!(
            meta,
            json!({"ui": {"resourceUri": URI}, "ui/resourceUri": URI})
        );
        let read = serde_json::to_value(read()).unwrap();
        assert_eq!(read["contents"][0]["mimeType"], MIME_TYPE);
        assert_eq!(
            read["contents"][0]["_meta"]["ui"]["csp"]["connectDomains"],
            json!([])
        );
        assert!(URI.starts_with("ui://"));
    }

    #[test]
    fn charts_need_a_result_and_a_fitting_kind() {
        let running = json!({"statement_id": "s", "state": "RUNNING", "columns": [], "rows": []});
        assert!(matches!(
            chart_svg(&running, None),
            Err(ViewError::NoChart(_))
        ));
        assert_eq!(
            chart_svg(&json!({"x": 1}), None),
            Err(ViewError::NoResultSet)
        );
        let bars = json!({"columns": [{"name": "p", "type": "STRING"}, {"name": "n", "type": "INT"}], "rows": [["a", 1]]});
        assert!(
            chart_svg(&bars, None)
                .unwrap()
                .contains(r#"data-kind="bar""#)
        );
        assert_eq!(
            chart_svg(&bars, Some(chart::ChartKind::Line)),
            Err(ViewError::KindDoesNotFit {
                wanted: "line".into(),
                fits: "these fit: bar".into()
            })
        );
    }
}
