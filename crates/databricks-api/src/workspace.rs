//! Workspace API 2.0 (REFERENCE.md §7): list, get-status, export, import, mkdirs, delete,
//! and the notebook source conventions both sides rely on (languages, the header line,
//! the cell separator).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    #[serde(default)]
    pub path: String,
    /// `NOTEBOOK`, `DIRECTORY`, `LIBRARY`, `FILE`, `REPO`, `DASHBOARD` (kept open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<i64>,
    /// The id other APIs use for the object (a string; for dashboards not the object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// `PYTHON`, `SCALA`, `SQL`, `R`: notebooks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    /// Files only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Directories only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_info: Option<DirectoryInfo>,
}

impl ObjectInfo {
    /// A directory or a Git folder: something with children.
    pub fn is_directory(&self) -> bool {
        matches!(self.object_type.as_deref(), Some("DIRECTORY" | "REPO"))
    }

    pub fn is_notebook(&self) -> bool {
        self.object_type.as_deref() == Some("NOTEBOOK")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectoryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_git_folder: Option<bool>,
}

/// `GET workspace/list`: `objects` is absent for an empty directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectInfo>,
}

/// `GET /api/2.0/workspace/export` without `direct_download`: the content in base64.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExportResponse {
    #[serde(default)]
    pub content: String,
    /// The file extension of the exported object (`py`, `sql`, `scala`, `r`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
}

/// `POST workspace/import` body (§7): `content` is base64, at most 10 MB.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportRequest {
    pub path: String,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
}

/// `POST workspace/mkdirs` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MkdirsRequest {
    pub path: String,
}

/// `POST workspace/delete` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeleteRequest {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

/// The largest content import accepts and export produces (10 MB).
pub const MAX_CONTENT: usize = 10 * 1024 * 1024;

/// Import and export formats; case-sensitive on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Source,
    Html,
    Jupyter,
    Dbc,
    RMarkdown,
    Auto,
    Raw,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Source,
        Format::Html,
        Format::Jupyter,
        Format::Dbc,
        Format::RMarkdown,
        Format::Auto,
        Format::Raw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Source => "SOURCE",
            Format::Html => "HTML",
            Format::Jupyter => "JUPYTER",
            Format::Dbc => "DBC",
            Format::RMarkdown => "R_MARKDOWN",
            Format::Auto => "AUTO",
            Format::Raw => "RAW",
        }
    }

    pub fn parse(value: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == value)
    }
}

/// A notebook's language, and how its source file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Sql,
    Scala,
    R,
}

impl Language {
    pub const ALL: [Language; 4] = [
        Language::Python,
        Language::Sql,
        Language::Scala,
        Language::R,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "PYTHON",
            Language::Sql => "SQL",
            Language::Scala => "SCALA",
            Language::R => "R",
        }
    }

    /// Case-sensitive, as the API's enum.
    pub fn parse(value: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == value)
    }

    /// The extension of the exported source (`file_type`).
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Sql => "sql",
            Language::Scala => "scala",
            Language::R => "r",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|l| l.extension().eq_ignore_ascii_case(ext))
    }

    /// The line comment that carries the header, the cell separators and magics.
    pub fn comment(self) -> &'static str {
        match self {
            Language::Python | Language::R => "#",
            Language::Sql => "--",
            Language::Scala => "//",
        }
    }

    /// The first line of an exported SOURCE notebook.
    pub fn header(self) -> String {
        format!("{} Databricks notebook source", self.comment())
    }

    /// The line between two cells.
    pub fn cell_separator(self) -> String {
        format!("{} COMMAND ----------", self.comment())
    }

    /// The language whose header `first_line` is; `#` is Python's unless `hint` says R.
    pub fn from_header(first_line: &str, hint: Option<Language>) -> Option<Language> {
        let line = first_line.trim_end_matches('\r').trim();
        let found = Language::ALL.into_iter().find(|l| line == l.header())?;
        Some(match (found, hint) {
            (Language::Python, Some(Language::R)) => Language::R,
            _ => found,
        })
    }
}
