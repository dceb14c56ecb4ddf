//! Workspace toolset: `list_notebooks`.

use databricks_client::ErrorKind;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Field, ListSpec, PageArgs, ToolDef, ToolOutput, Toolset, values};
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

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef::list(
        &LIST_NOTEBOOKS,
        "List notebooks",
        "List the notebooks, files and folders directly inside a workspace folder, with language and modification time; call it again with a folder's path to go deeper (start at \"/\").",
        Toolset::Workspace,
        list_notebooks,
    )]
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
