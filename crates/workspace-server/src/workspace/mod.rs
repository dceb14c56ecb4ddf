//! Workspace API 2.0 (REFERENCE.md §7): list, get-status, export, import, mkdirs, delete.
//!
//! The protocol lives here: path rules (absolute, the `/Workspace` prefix, no `.`/`..`),
//! the format and language enums, base64 and the 10 MB limit, what each format imports
//! as and exports to ([`notebook`]), directory exports ([`zip`]), `overwrite` and
//! `recursive`. A backend stores objects and their bytes.

mod notebook;
mod zip;

use axum::response::Response;
use base64::Engine as _;
use databricks_api::backend::{WorkspaceObjects, WorkspaceWrite};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::workspace::{
    ExportResponse, Format, Language, ListResponse, MAX_CONTENT, ObjectInfo,
};

use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::{bytes_response, json_response};

/// `rest`: the path after `/api/2.0/workspace`.
pub(crate) async fn route(
    backend: &dyn WorkspaceObjects,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    let empty = || json_response(200, &serde_json::Map::new());
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["list"]) => list(backend, req).await,
        ("GET" | "HEAD", ["get-status"]) => {
            let path = normalize(&req.required_param("path")?)?;
            Ok(json_response(200, &backend.object(&path).await?))
        }
        ("GET" | "HEAD", ["export"]) => export(backend, req).await,
        ("POST", ["import"]) => import(backend, req).await.map(|()| empty()),
        ("POST", ["mkdirs"]) => mkdirs(backend, req).await.map(|()| empty()),
        ("POST", ["delete"]) => delete(backend, req).await.map(|()| empty()),
        _ => Err(endpoint_not_found(req)),
    }
}

/// An absolute workspace path as backends see it: no `/Workspace` prefix, no trailing or
/// repeated `/`, the root as `/`. `.` and `..` are refused rather than resolved, so a
/// path names one object however a backend stores it.
pub(crate) fn normalize(path: &str) -> Result<String, ApiError> {
    if !path.starts_with('/') {
        return Err(ApiError::invalid_parameter(format!(
            "Path ({path}) must be an absolute path."
        )));
    }
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.first() == Some(&"Workspace") {
        parts.remove(0);
    }
    if let Some(bad) = parts.iter().find(|p| matches!(**p, "." | "..")) {
        return Err(ApiError::invalid_parameter(format!(
            "Path ({path}) has an invalid component '{bad}'."
        )));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// The directory that holds `path` (`/` for a top-level object).
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Path ({path}) doesn't exist."),
    )
}

/// `RESOURCE_ALREADY_EXISTS` as the Workspace API sends it: with 400, not the 409 the
/// code usually travels with (recorded answers of `workspace/import` and `mkdirs`).
fn already_exists(message: String) -> ApiError {
    ApiError::new(ErrorCode::ResourceAlreadyExists, message).with_status(400)
}

fn too_large(what: &str, size: usize) -> ApiError {
    ApiError::new(
        ErrorCode::MaxNotebookSizeExceeded,
        format!("The {what} is {size} bytes, over the limit of {MAX_CONTENT} bytes."),
    )
}

fn format_param(req: &ApiRequest) -> Result<Format, ApiError> {
    match req.param("format")? {
        None => Ok(Format::Source),
        Some(f) => Format::parse(&f).ok_or_else(|| {
            let all: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
            ApiError::invalid_parameter(format!(
                "Invalid format '{f}': one of {} (case-sensitive).",
                all.join(", ")
            ))
        }),
    }
}

/// `list`: the children of a directory (`objects` absent when there are none), or the
/// object itself for a notebook or file; `notebooks_modified_after` drops notebooks not
/// modified after that time (ms).
async fn list(backend: &dyn WorkspaceObjects, req: &ApiRequest) -> Result<Response, ApiError> {
    let path = normalize(&req.required_param("path")?)?;
    let since = req.integer_param("notebooks_modified_after")?;
    let object = backend.object(&path).await?;
    let objects = if object.is_directory() {
        backend.children(&path).await?
    } else {
        vec![object]
    };
    let objects = objects
        .into_iter()
        .filter(|o| match since {
            Some(ms) if o.is_notebook() => o.modified_at.is_some_and(|m| m > ms),
            _ => true,
        })
        .collect();
    Ok(json_response(200, &ListResponse { objects }))
}

async fn export(backend: &dyn WorkspaceObjects, req: &ApiRequest) -> Result<Response, ApiError> {
    let path = normalize(&req.required_param("path")?)?;
    let format = format_param(req)?;
    let direct = req.flag_param("direct_download")?;
    let object = backend.object(&path).await?;
    let (bytes, file_type) = if object.is_directory() {
        export_directory(backend, &path, format).await?
    } else {
        let content = backend.content(&path).await?;
        export_object(&object, content, format)?
    };
    if bytes.len() > MAX_CONTENT {
        return Err(too_large("export", bytes.len()));
    }
    if direct {
        return Ok(bytes_response(200, "application/octet-stream", bytes));
    }
    Ok(json_response(
        200,
        &ExportResponse {
            content: base64::engine::general_purpose::STANDARD.encode(&bytes),
            file_type: Some(file_type).filter(|t| !t.is_empty()),
        },
    ))
}

/// A notebook in the asked format, or a file's bytes (every format exports a file as it
/// is): the bytes and their `file_type`.
fn export_object(
    object: &ObjectInfo,
    content: Vec<u8>,
    format: Format,
) -> Result<(Vec<u8>, String), ApiError> {
    let language = object.language.as_deref().and_then(Language::parse);
    let Some(language) = language.filter(|_| object.is_notebook()) else {
        let ext = name_of(&object.path)
            .rsplit_once('.')
            .map(|(_, e)| e.to_string());
        return Ok((content, ext.unwrap_or_default()));
    };
    let name = name_of(&object.path);
    let source = notebook::Source::parse(language, &content);
    Ok(match format {
        Format::Source | Format::Auto | Format::Raw => (content, language.extension().to_string()),
        Format::Html => (source.to_html(name).into_bytes(), "html".to_string()),
        Format::Jupyter => (source.to_jupyter(name)?, "ipynb".to_string()),
        Format::RMarkdown if language == Language::R => {
            (source.to_r_markdown().into_bytes(), "Rmd".to_string())
        }
        Format::RMarkdown => {
            return Err(ApiError::invalid_parameter(
                "R_MARKDOWN exports R notebooks only.",
            ));
        }
        Format::Dbc => return Err(dbc_unsupported()),
    })
}

fn dbc_unsupported() -> ApiError {
    ApiError::new(
        ErrorCode::NotImplemented,
        "DBC archives are not supported by this workspace: use SOURCE, AUTO or JUPYTER.",
    )
}

/// A directory as a ZIP archive of its notebooks' sources (`name.ext`) and, with `AUTO`,
/// its files, under the directory's name; only `SOURCE`, `AUTO` (and `DBC`) export
/// directories.
async fn export_directory(
    backend: &dyn WorkspaceObjects,
    path: &str,
    format: Format,
) -> Result<(Vec<u8>, String), ApiError> {
    match format {
        Format::Source | Format::Auto => {}
        Format::Dbc => return Err(dbc_unsupported()),
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "Format {} cannot export a directory: use SOURCE, AUTO or DBC.",
                other.as_str()
            )));
        }
    }
    let root = if path == "/" {
        "workspace"
    } else {
        name_of(path)
    };
    let mut archive = zip::Writer::default();
    let mut pending = vec![(path.to_string(), root.to_string())];
    while let Some((dir, prefix)) = pending.pop() {
        for child in backend.children(&dir).await? {
            let name = format!("{prefix}/{}", name_of(&child.path));
            if child.is_directory() {
                pending.push((child.path.clone(), name));
                continue;
            }
            let language = child.language.as_deref().and_then(Language::parse);
            let entry = match language.filter(|_| child.is_notebook()) {
                Some(language) => format!("{name}.{}", language.extension()),
                None if format == Format::Auto && child.object_type.as_deref() == Some("FILE") => {
                    name
                }
                None => continue,
            };
            archive.add(&entry, &backend.content(&child.path).await?);
            if archive.len() > MAX_CONTENT {
                return Err(too_large("export", archive.len()));
            }
        }
    }
    Ok((archive.finish(), "zip".to_string()))
}

/// What an import becomes: the path (a notebook loses its source extension under
/// `AUTO` and `JUPYTER`), and the object.
struct Imported {
    path: String,
    object: WorkspaceWrite,
}

async fn import(backend: &dyn WorkspaceObjects, req: &ApiRequest) -> Result<(), ApiError> {
    let path = normalize(&req.required_param("path")?)?;
    if path == "/" {
        return Err(ApiError::invalid_parameter(
            "Cannot import to the workspace root.",
        ));
    }
    let format = format_param(req)?;
    let language = match req.param("language")? {
        None => None,
        Some(l) => Some(Language::parse(&l).ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "Invalid language '{l}': one of PYTHON, SQL, SCALA, R."
            ))
        })?),
    };
    let overwrite = req.flag_param("overwrite")?;
    if overwrite && format == Format::Dbc {
        return Err(ApiError::invalid_parameter(
            "overwrite cannot be used with the DBC format.",
        ));
    }
    let encoded = req.param("content")?.unwrap_or_default();
    let content = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| ApiError::invalid_parameter(format!("content is not valid base64: {e}")))?;
    if content.len() > MAX_CONTENT {
        return Err(too_large("imported content", content.len()));
    }
    let imported = convert_import(path, format, language, content)?;
    check_import_target(backend, &imported.path, overwrite).await?;
    backend.write(&imported.path, imported.object).await
}

/// The object an import writes, by format:
/// - `SOURCE`: a notebook in `language`, else the language of the content's header line,
///   else of the path's extension; the path as given.
/// - `AUTO`: a notebook when the content starts with a notebook header (the path loses a
///   matching source extension: `etl.py` ⇒ `etl`), otherwise a workspace file.
/// - `RAW`: a workspace file.
/// - `JUPYTER` and `R_MARKDOWN`: converted to SOURCE cells (the path loses `.ipynb`/`.Rmd`).
fn convert_import(
    path: String,
    format: Format,
    language: Option<Language>,
    content: Vec<u8>,
) -> Result<Imported, ApiError> {
    let name = name_of(&path).to_string();
    let extension = name
        .rsplit_once('.')
        .map(|(stem, ext)| (stem.to_string(), ext.to_string()));
    let ext_language = extension
        .as_ref()
        .and_then(|(_, ext)| Language::from_extension(ext));
    let first_line = content.split(|b| *b == b'\n').next().unwrap_or_default();
    let header_language = Language::from_header(&String::from_utf8_lossy(first_line), ext_language);
    let notebook = |path: String, language: Language, content: Vec<u8>| Imported {
        path,
        object: WorkspaceWrite {
            language: Some(language),
            content: notebook::with_header(language, content),
        },
    };
    // The last `.` of the path is the name's: `extension` was read from the name.
    let without_extension = |path: &str| match path.rsplit_once('.') {
        Some((stem, _)) if extension.is_some() => stem.to_string(),
        _ => path.to_string(),
    };
    match format {
        Format::Source => {
            let language = language.or(header_language).or(ext_language).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "language is required to import a SOURCE notebook whose content has no notebook header (PYTHON, SQL, SCALA or R).",
                )
            })?;
            Ok(notebook(path, language, content))
        }
        Format::Auto => match header_language {
            Some(found) => {
                let stripped = if ext_language.is_some() {
                    without_extension(&path)
                } else {
                    path
                };
                Ok(notebook(stripped, language.unwrap_or(found), content))
            }
            None => Ok(Imported {
                path,
                object: WorkspaceWrite {
                    language: None,
                    content,
                },
            }),
        },
        Format::Raw => Ok(Imported {
            path,
            object: WorkspaceWrite {
                language: None,
                content,
            },
        }),
        Format::Jupyter => {
            let (language, source) = notebook::from_jupyter(&content, language)?;
            let path = match &extension {
                Some((_, ext)) if ext.eq_ignore_ascii_case("ipynb") => without_extension(&path),
                _ => path,
            };
            Ok(notebook(path, language, source))
        }
        Format::RMarkdown => {
            let source = notebook::from_r_markdown(&content);
            let path = match &extension {
                Some((_, ext)) if ext.eq_ignore_ascii_case("rmd") => without_extension(&path),
                _ => path,
            };
            Ok(notebook(path, Language::R, source))
        }
        Format::Html => Err(ApiError::new(
            ErrorCode::NotImplemented,
            "Importing HTML notebooks is not supported by this workspace: use SOURCE, AUTO or JUPYTER.",
        )),
        Format::Dbc => Err(dbc_unsupported()),
    }
}

/// The parent must be a directory; an existing object is replaced only with `overwrite`
/// and never when it is a directory.
async fn check_import_target(
    backend: &dyn WorkspaceObjects,
    path: &str,
    overwrite: bool,
) -> Result<(), ApiError> {
    let parent = parent_of(path);
    match backend.object(parent).await {
        Ok(p) if p.is_directory() => {}
        Ok(_) => {
            return Err(ApiError::invalid_parameter(format!(
                "The parent ({parent}) is not a directory."
            )));
        }
        Err(e) if e.status == 404 => {
            return Err(ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("The parent folder ({parent}) does not exist."),
            ));
        }
        Err(e) => return Err(e),
    }
    match backend.object(path).await {
        Ok(existing) if existing.is_directory() => Err(already_exists(format!(
            "Path ({path}) already exists and is a directory."
        ))),
        Ok(_) if !overwrite => Err(already_exists(format!(
            "Path ({path}) already exists: pass overwrite=true to replace it."
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.status == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the directory and its parents; a no-op when it exists; an error when the path
/// or one of its parents is a notebook or file.
async fn mkdirs(backend: &dyn WorkspaceObjects, req: &ApiRequest) -> Result<(), ApiError> {
    let path = normalize(&req.required_param("path")?)?;
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        match backend.object(&prefix).await {
            Ok(o) if o.is_directory() => continue,
            Ok(_) => {
                return Err(already_exists(format!(
                    "Path ({prefix}) already exists and is not a directory."
                )));
            }
            Err(e) if e.status == 404 => return backend.mkdirs(&path).await,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn delete(backend: &dyn WorkspaceObjects, req: &ApiRequest) -> Result<(), ApiError> {
    let raw = req.required_param("path")?;
    let path = normalize(&raw)?;
    let recursive = req.flag_param("recursive")?;
    if path == "/" {
        return Err(ApiError::invalid_parameter(
            "The workspace root cannot be deleted.",
        ));
    }
    let object = backend.object(&path).await.map_err(|e| match e.status {
        404 => not_found(&raw),
        _ => e,
    })?;
    if object.is_directory() && !recursive && !backend.children(&path).await?.is_empty() {
        return Err(ApiError::new(
            ErrorCode::DirectoryNotEmpty,
            format!("Folder ({path}) is not empty: pass recursive=true to delete it."),
        ));
    }
    backend.delete(&path).await
}
