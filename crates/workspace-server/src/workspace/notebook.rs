//! A notebook's SOURCE form and the formats converted from and to it.
//!
//! SOURCE is the header line, then cells separated by `<comment> COMMAND ----------`;
//! a cell whose lines all start with `<comment> MAGIC` is a magic cell (`%md` for
//! Markdown, `%sql`, `%sh`, …). Exports to HTML, Jupyter and R Markdown, and imports
//! from Jupyter and R Markdown, go through [`Source`].

use databricks_api::error::ApiError;
use databricks_api::workspace::Language;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Code(String),
    Markdown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    pub language: Language,
    pub cells: Vec<Cell>,
}

/// `content` with the language's header line first (added when missing).
pub(crate) fn with_header(language: Language, content: Vec<u8>) -> Vec<u8> {
    let first = content.split(|b| *b == b'\n').next().unwrap_or_default();
    if Language::from_header(&String::from_utf8_lossy(first), Some(language)) == Some(language) {
        return content;
    }
    let mut out = format!("{}\n", language.header()).into_bytes();
    out.extend_from_slice(&content);
    out
}

impl Source {
    pub(crate) fn parse(language: Language, content: &[u8]) -> Source {
        let text = String::from_utf8_lossy(content).replace("\r\n", "\n");
        let mut lines: Vec<&str> = text.lines().collect();
        if lines
            .first()
            .is_some_and(|l| Language::from_header(l, Some(language)).is_some())
        {
            lines.remove(0);
        }
        let separator = language.cell_separator();
        let cells = lines
            .split(|l| l.trim() == separator)
            .map(|cell| cell_of(language, cell))
            .filter(|cell| !matches!(cell, Cell::Code(c) | Cell::Markdown(c) if c.is_empty()))
            .collect();
        Source { language, cells }
    }

    /// The SOURCE form: header, cells, separators.
    pub(crate) fn to_source(&self) -> Vec<u8> {
        let comment = self.language.comment();
        let magic = |text: &str, first: Option<&str>| -> String {
            first
                .into_iter()
                .chain(text.lines())
                .map(|l| format!("{comment} MAGIC {l}").trim_end().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let cells: Vec<String> = self
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Code(code) => code.clone(),
                Cell::Markdown(md) => magic(md, Some("%md")),
            })
            .collect();
        let separator = format!("\n\n{}\n\n", self.language.cell_separator());
        format!("{}\n{}\n", self.language.header(), cells.join(&separator)).into_bytes()
    }

    pub(crate) fn to_html(&self, name: &str) -> String {
        let mut body = String::new();
        for cell in &self.cells {
            let (class, text) = match cell {
                Cell::Code(c) => ("code", c),
                Cell::Markdown(m) => ("markdown", m),
            };
            body.push_str(&format!(
                "<div class=\"cell {class}\"><pre>{}</pre></div>\n",
                escape_html(text)
            ));
        }
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body data-language=\"{}\">\n{body}</body></html>\n",
            escape_html(name),
            self.language.as_str()
        )
    }

    /// An nbformat 4 notebook.
    pub(crate) fn to_jupyter(&self, name: &str) -> Result<Vec<u8>, ApiError> {
        let cells = self
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Code(code) => JupyterCell {
                    cell_type: "code",
                    metadata: serde_json::Map::new(),
                    source: source_lines(code),
                    outputs: Some(Vec::new()),
                    execution_count: Some(Value::Null),
                },
                Cell::Markdown(md) => JupyterCell {
                    cell_type: "markdown",
                    metadata: serde_json::Map::new(),
                    source: source_lines(md),
                    outputs: None,
                    execution_count: None,
                },
            })
            .collect();
        let language = self.language.as_str().to_ascii_lowercase();
        let notebook = JupyterNotebook {
            cells,
            metadata: JupyterMetadata {
                language_info: LanguageInfo { name: language },
                databricks: DatabricksInfo {
                    notebook_name: name.to_string(),
                    language: self.language.as_str(),
                },
            },
            nbformat: 4,
            nbformat_minor: 0,
        };
        serde_json::to_vec_pretty(&notebook)
            .map_err(|e| ApiError::invalid_parameter(format!("Cannot export as JUPYTER: {e}")))
    }

    /// R Markdown: code cells as ```{r} chunks, Markdown cells as text.
    pub(crate) fn to_r_markdown(&self) -> String {
        let parts: Vec<String> = self
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Code(code) => format!("```{{r}}\n{code}\n```"),
                Cell::Markdown(md) => md.clone(),
            })
            .collect();
        format!("{}\n", parts.join("\n\n"))
    }
}

/// One cell's lines: a magic cell loses its `MAGIC` prefixes, `%md` makes it Markdown.
fn cell_of(language: Language, lines: &[&str]) -> Cell {
    let prefix = format!("{} MAGIC", language.comment());
    let body: Vec<&str> = trim_blank(lines).to_vec();
    let is_magic = !body.is_empty()
        && body
            .iter()
            .all(|l| l.starts_with(&prefix) || l.trim().is_empty());
    if !is_magic {
        return Cell::Code(body.join("\n"));
    }
    let stripped: Vec<&str> = body
        .iter()
        .map(|l| {
            let rest = l.strip_prefix(&prefix).unwrap_or(l);
            rest.strip_prefix(' ').unwrap_or(rest)
        })
        .collect();
    match stripped.split_first() {
        Some((first, rest)) if first.trim_start().starts_with("%md") => {
            let head = first.trim_start().trim_start_matches("%md").trim();
            let text: Vec<&str> = std::iter::once(head)
                .filter(|h| !h.is_empty())
                .chain(rest.iter().copied())
                .collect();
            Cell::Markdown(trim_blank(&text).join("\n"))
        }
        _ => Cell::Code(stripped.join("\n")),
    }
}

fn trim_blank<'a, 'b>(lines: &'a [&'b str]) -> &'a [&'b str] {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines.get(s..=e).unwrap_or_default(),
        _ => &[],
    }
}

/// nbformat's `source`: lines keeping their `\n`, the last without.
fn source_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i < last {
                format!("{l}\n")
            } else {
                (*l).to_string()
            }
        })
        .collect()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Serialize)]
struct JupyterNotebook {
    cells: Vec<JupyterCell>,
    metadata: JupyterMetadata,
    nbformat: u32,
    nbformat_minor: u32,
}

#[derive(Serialize)]
struct JupyterCell {
    cell_type: &'static str,
    metadata: serde_json::Map<String, Value>,
    source: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_count: Option<Value>,
}

#[derive(Serialize)]
struct JupyterMetadata {
    language_info: LanguageInfo,
    #[serde(rename = "application/vnd.databricks.v1+notebook")]
    databricks: DatabricksInfo,
}

#[derive(Serialize)]
struct LanguageInfo {
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DatabricksInfo {
    notebook_name: String,
    language: &'static str,
}

/// A Jupyter notebook as SOURCE: its language (`language`, else the notebook's metadata,
/// else Python) and content.
pub(crate) fn from_jupyter(
    content: &[u8],
    language: Option<Language>,
) -> Result<(Language, Vec<u8>), ApiError> {
    let notebook: Value = serde_json::from_slice(content).map_err(|e| {
        ApiError::invalid_parameter(format!("The content is not a Jupyter notebook: {e}"))
    })?;
    let Some(cells) = notebook.get("cells").and_then(Value::as_array) else {
        return Err(ApiError::invalid_parameter(
            "The content is not a Jupyter notebook: no cells.",
        ));
    };
    let named = ["language_info", "kernelspec"].iter().find_map(|key| {
        let meta = notebook.get("metadata")?.get(key)?;
        let name = meta
            .get("name")
            .or_else(|| meta.get("language"))?
            .as_str()?;
        Language::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(name) || l.extension() == name)
    });
    let language = language.or(named).unwrap_or(Language::Python);
    let text = |cell: &Value| match cell.get("source") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    };
    let cells = cells
        .iter()
        .filter_map(|cell| {
            let body = text(cell).trim_end().to_string();
            match cell.get("cell_type").and_then(Value::as_str) {
                Some("markdown") => Some(Cell::Markdown(body)),
                Some("code") | Some("raw") => Some(Cell::Code(body)),
                _ => None,
            }
        })
        .filter(|cell| !matches!(cell, Cell::Code(c) | Cell::Markdown(c) if c.trim().is_empty()))
        .collect();
    Ok((language, Source { language, cells }.to_source()))
}

/// An R Markdown document as an R notebook's SOURCE: chunks become code cells, the text
/// between them Markdown cells.
pub(crate) fn from_r_markdown(content: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(content).replace("\r\n", "\n");
    let mut cells = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_chunk = false;
    let flush = |lines: &mut Vec<&str>, code: bool, cells: &mut Vec<Cell>| {
        let body = trim_blank(lines).join("\n");
        if !body.is_empty() {
            cells.push(if code {
                Cell::Code(body)
            } else {
                Cell::Markdown(body)
            });
        }
        lines.clear();
    };
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        match (in_chunk, fence) {
            (false, true) => {
                flush(&mut current, false, &mut cells);
                in_chunk = true;
            }
            (true, true) => {
                flush(&mut current, true, &mut cells);
                in_chunk = false;
            }
            _ => current.push(line),
        }
    }
    flush(&mut current, in_chunk, &mut cells);
    Source {
        language: Language::R,
        cells,
    }
    .to_source()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "# Databricks notebook source\nprint('hello')\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC # Title\n# MAGIC Some text\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1\n";

    #[test]
    fn cells_and_magics_are_read_from_source() {
        let source = Source::parse(Language::Python, SOURCE.as_bytes());
        assert_eq!(
            source.cells,
            vec![
                Cell::Code("print('hello')".into()),
                Cell::Markdown("# Title\nSome text".into()),
                Cell::Code("%sql\nSELECT 1".into()),
            ]
        );
    }

    #[test]
    fn jupyter_round_trips_to_the_same_cells() {
        let source = Source::parse(Language::Python, SOURCE.as_bytes());
        let ipynb = source.to_jupyter("demo").expect("export");
        let (language, back) = from_jupyter(&ipynb, None).expect("import");
        assert_eq!(language, Language::Python);
        assert_eq!(Source::parse(Language::Python, &back), source);
        let v: Value = serde_json::from_slice(&ipynb).expect("json");
        assert_eq!(v["nbformat"], 4);
        assert_eq!(v["cells"][1]["cell_type"], "markdown");
        assert!(v["cells"][1].get("outputs").is_none());
        assert_eq!(v["cells"][0]["outputs"], serde_json::json!([]));
    }

    #[test]
    fn r_markdown_round_trips_code_and_text() {
        let rmd = "Intro text\n\n```{r}\nx <- 1\nprint(x)\n```\n\nMore\n";
        let source = from_r_markdown(rmd.as_bytes());
        let parsed = Source::parse(Language::R, &source);
        assert_eq!(
            parsed.cells,
            vec![
                Cell::Markdown("Intro text".into()),
                Cell::Code("x <- 1\nprint(x)".into()),
                Cell::Markdown("More".into()),
            ]
        );
        assert!(
            parsed
                .to_r_markdown()
                .contains("```{r}\nx <- 1\nprint(x)\n```")
        );
    }

    #[test]
    fn html_is_escaped() {
        let source = Source::parse(Language::Sql, b"SELECT '<b>' AS x");
        let html = source.to_html("a<b");
        assert!(html.contains("SELECT &#39;") || html.contains("SELECT '&lt;b&gt;'"));
        assert!(html.contains("<title>a&lt;b</title>"));
    }

    #[test]
    fn a_missing_header_is_added_once() {
        let with = with_header(Language::Sql, b"SELECT 1".to_vec());
        assert_eq!(with, b"-- Databricks notebook source\nSELECT 1");
        assert_eq!(with_header(Language::Sql, with.clone()), with);
    }
}
