//! Workspace toolset: `list_notebooks`, `export_notebook`, and (with writes)
//! `import_notebook`.

use databricks_client::ErrorKind;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::timestamp_ms;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNotebooksArgs {
    /// Absolute workspace folder, e.g. "/Users/someone@example.com". Default "/".
    #[serde(default)]
    pub path: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

const LIST_NOTEBOOKS: ListSpec = ListSpec {
    tool: "list_notebooks",
    key: "objects",
    columns: &["path", "type", "language", "modified"],
    item: "Workspace objects (notebooks, files, folders) as the Workspace API describes them, folders first.",
    fields: &[
        Field {
            name: "path",
            json_type: "string",
            description: "The folder listed.",
        },
        Field {
            name: "total",
            json_type: "integer",
            description: "Objects in the folder, all pages.",
        },
    ],
};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportNotebookArgs {
    /// Absolute workspace path of the notebook or file (from list_notebooks).
    pub path: String,
    /// First character to show (default 0): the next_offset of an earlier answer.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Most characters to show (default and cap: the server's answer budget).
    #[serde(default)]
    pub max_chars: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportNotebookArgs {
    /// Absolute workspace path to write, e.g. "/Users/someone@example.com/etl".
    pub path: String,
    /// The notebook's source code (text; cells separated as Databricks exports them).
    pub content: String,
    /// PYTHON, SQL, SCALA or R.
    pub language: String,
    /// Replace an existing notebook at path (default false: refuse).
    #[serde(default)]
    pub overwrite: Option<bool>,
}

/// Workspace import takes at most 10 MB of content.
const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_NOTEBOOKS,
            "List notebooks",
            "List the notebooks, files and folders directly inside a workspace folder, with language and modification time; call it again with a folder's path to go deeper (start at \"/\").",
            Toolset::Workspace,
            list_notebooks,
        ),
        ToolDef::new(
            "export_notebook",
            "Export notebook",
            "The source of a notebook or workspace file (language, cell count), paged by characters: what a notebook does.",
            Toolset::Workspace,
            ToolKind::ReadGet,
            export_notebook,
        ),
        ToolDef::new(
            "import_notebook",
            "Import notebook",
            "Write a notebook's source to a workspace path (refused if one exists, unless overwrite).",
            Toolset::Workspace,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            import_notebook,
        ),
    ]
}

/// The cell separator line of an exported notebook, per language's comment.
fn is_cell_separator(line: &str) -> bool {
    let t = line.trim();
    [
        "# COMMAND ----------",
        "-- COMMAND ----------",
        "// COMMAND ----------",
    ]
    .contains(&t)
}

async fn export_notebook(
    ctx: CallContext,
    args: ExportNotebookArgs,
) -> Result<ToolOutput, ToolError> {
    let path = validate_path(&args.path)?;
    let client = &ctx.state.client;
    let not_found = |e| {
        ToolError::upstream(&format!("Exporting {path}"), e).hint_for(
            ErrorKind::NotFound,
            format!("{path} does not exist: call list_notebooks on its folder."),
        )
    };
    let status = client.workspace_status(&path).await.map_err(not_found)?;
    if matches!(status.object_type.as_deref(), Some("DIRECTORY" | "REPO")) {
        return Err(ToolError::new(format!(
            "{path} is a folder: call list_notebooks with it to see what it holds"
        )));
    }
    let bytes = client
        .export_workspace_source(&path)
        .await
        .map_err(not_found)?;
    let source = String::from_utf8_lossy(&bytes);
    let total = source.chars().count();
    let cells = 1 + source.lines().filter(|l| is_cell_separator(l)).count();
    let budget = ctx.state.settings.max_chars.saturating_sub(400).max(1000);
    let max = args.max_chars.map_or(budget, |m| {
        usize::try_from(m).unwrap_or(budget).clamp(1, budget)
    });
    let offset = args
        .offset
        .map_or(0, |o| usize::try_from(o).unwrap_or(usize::MAX));
    if offset > total {
        return Err(ToolError::new(format!(
            "offset {offset} is past the end: {path} has {total} characters"
        )));
    }
    let shown: String = source.chars().skip(offset).take(max).collect();
    let end = offset + shown.chars().count();
    let language = status.language.as_deref().unwrap_or("file");
    let mut text = format!(
        "{} {path} ({language}, {cells} cell{}, {total} characters)",
        if status.object_type.as_deref() == Some("NOTEBOOK") {
            "Notebook"
        } else {
            "File"
        },
        if cells == 1 { "" } else { "s" }
    );
    let next = (end < total).then_some(end);
    if offset > 0 || next.is_some() {
        text.push_str(&format!(", characters {offset}–{end}"));
    }
    text.push_str(":\n");
    text.push_str(&shown);
    if let Some(n) = next {
        text.push_str(&format!(
            "\n[{} more characters: call export_notebook with offset {n}]",
            total - end
        ));
    }
    Ok(ToolOutput::new(
        text,
        json!({
            "path": path,
            "language": status.language,
            "object_type": status.object_type,
            "cells": cells,
            "total_chars": total,
            "offset": offset,
            "source": shown,
            "next_offset": next,
        }),
    ))
}

async fn import_notebook(
    ctx: CallContext,
    args: ImportNotebookArgs,
) -> Result<ToolOutput, ToolError> {
    let path = validate_path(&args.path)?;
    if path == "/" {
        return Err(ToolError::new(
            "path must name a notebook, not the workspace root",
        ));
    }
    let language = args.language.trim().to_ascii_uppercase();
    if !["PYTHON", "SQL", "SCALA", "R"].contains(&language.as_str()) {
        return Err(ToolError::new(format!(
            "language must be PYTHON, SQL, SCALA or R, not {:?}",
            args.language
        )));
    }
    if args.content.len() > MAX_IMPORT_BYTES {
        return Err(ToolError::new(format!(
            "content is {} bytes; a notebook import takes at most 10 MiB",
            args.content.len()
        )));
    }
    if let Some(c) = args
        .content
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ToolError::new(format!(
            "content is not notebook source text (it holds the control character U+{:04X}): import_notebook takes source code, not binary files",
            u32::from(c)
        )));
    }
    let overwrite = args.overwrite.unwrap_or(false);
    let client = &ctx.state.client;
    let existing = match client.workspace_status(&path).await {
        Ok(status) => Some(status),
        Err(e) if e.kind() == Some(ErrorKind::NotFound) => None,
        Err(e) => return Err(ToolError::upstream(&format!("Checking {path}"), e)),
    };
    let replacing = match &existing {
        Some(status) if matches!(status.object_type.as_deref(), Some("DIRECTORY" | "REPO")) => {
            return Err(ToolError::new(format!(
                "{path} is a folder; choose a path inside it"
            )));
        }
        Some(_) if !overwrite => {
            return Err(ToolError::new(format!(
                "{path} already exists; pass overwrite: true to replace it (export_notebook shows what it holds)"
            )));
        }
        Some(_) => " (replacing the existing one)",
        None => "",
    };
    ctx.confirm(
        &path,
        &format!(
            "Import a {language} notebook of {} bytes to {path}{replacing}?",
            args.content.len()
        ),
    )
    .await?;
    client
        .import_notebook(&path, args.content.as_bytes(), &language, overwrite)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Importing {path}"), e)
                .hint_for(
                    ErrorKind::NotFound,
                    "Its parent folder does not exist: list_notebooks shows the folders.",
                )
                .needs("CAN EDIT on the folder")
        })?;
    Ok(ToolOutput::new(
        format!(
            "Imported {path} ({language}, {} bytes).",
            args.content.len()
        ),
        json!({"path": path, "language": language, "bytes": args.content.len(), "overwrote": existing.is_some()}),
    ))
}

fn validate_path(path: &str) -> Result<String, ToolError> {
    let path = path.trim();
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') || path.len() > 4096 || path.chars().any(char::is_control) {
        return Err(ToolError::new(format!(
            "path {path:?} must be an absolute workspace path such as \"/Users/someone@example.com\""
        )));
    }
    if path.split('/').any(|segment| segment == "..") {
        return Err(ToolError::new("path must not contain \"..\" segments"));
    }
    let trimmed = path.trim_end_matches('/');
    Ok(if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    })
}

async fn list_notebooks(
    ctx: CallContext,
    args: ListNotebooksArgs,
) -> Result<ToolOutput, ToolError> {
    let path = validate_path(args.path.as_deref().unwrap_or("/"))?;
    let size = args.page.size() as usize;
    let offset: usize = match args.page.cursor() {
        Some(c) => c.parse().map_err(|_| {
            ToolError::new("invalid cursor: pass the cursor exactly as a previous list_notebooks answer gave it")
        })?,
        None => 0,
    };
    let mut objects = ctx.state.client.list_workspace(&path).await.map_err(|e| {
        ToolError::upstream(&format!("Listing workspace folder {path}"), e)
            .hint_for(
                ErrorKind::NotFound,
                "Call list_notebooks on its parent folder (or \"/\") to see what exists.",
            )
            .needs(&format!("CAN READ on {path}"))
    })?;
    // Folders first, then by path, so pages are stable.
    objects.sort_by(|a, b| {
        let dir = |o: &databricks_client::services::workspace::ObjectInfo| {
            o.object_type.as_deref() != Some("DIRECTORY")
        };
        (dir(a), &a.path).cmp(&(dir(b), &b.path))
    });
    let total = objects.len();
    let page: Vec<_> = objects.into_iter().skip(offset).take(size).collect();
    let next = (offset + page.len() < total).then(|| (offset + page.len()).to_string());
    let rows = page.iter().map(|o| {
        vec![
            Some(o.path.clone()),
            o.object_type.clone(),
            o.language.clone(),
            timestamp_ms(o.modified_at),
        ]
    });
    let notebooks = page
        .iter()
        .filter(|o| o.object_type.as_deref() == Some("NOTEBOOK"))
        .count();
    Ok(LIST_NOTEBOOKS
        .page(rows, values(&page), next)
        .field("path", &path)
        .field("total", total)
        .summary(format!(
            "{} objects in {path} ({notebooks} notebooks).",
            page.len()
        ))
        .answer(&ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(validate_path("").ok().as_deref(), Some("/"));
        assert_eq!(validate_path("/Users/a/").ok().as_deref(), Some("/Users/a"));
        assert!(validate_path("Users").is_err());
        assert!(validate_path("/a/../b").is_err());
    }
}
