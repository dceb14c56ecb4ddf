//! Workspace API 2.0 (REFERENCE.md §7) over `<dir>/workspace/`: notebooks are source files
//! whose first line is the Databricks notebook header (`-- Databricks notebook source` for
//! SQL, `# Databricks notebook source` for Python and R, `// ...` for Scala), exposed
//! without their extension; other files are workspace files.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};

use super::{HandlerResult, Req, Shared, bad_request, error, not_found, ok, read_only};
use crate::layout;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Python,
    Sql,
    Scala,
    R,
}

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "PYTHON",
            Language::Sql => "SQL",
            Language::Scala => "SCALA",
            Language::R => "R",
        }
    }
    fn ext(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Sql => "sql",
            Language::Scala => "scala",
            Language::R => "r",
        }
    }
    fn header(self) -> &'static str {
        match self {
            Language::Python | Language::R => "# Databricks notebook source",
            Language::Sql => "-- Databricks notebook source",
            Language::Scala => "// Databricks notebook source",
        }
    }
    fn from_ext(ext: &str) -> Option<Language> {
        match ext.to_ascii_lowercase().as_str() {
            "py" => Some(Language::Python),
            "sql" => Some(Language::Sql),
            "scala" => Some(Language::Scala),
            "r" => Some(Language::R),
            _ => None,
        }
    }
    fn from_name(n: &str) -> Option<Language> {
        match n.to_ascii_uppercase().as_str() {
            "PYTHON" => Some(Language::Python),
            "SQL" => Some(Language::Sql),
            "SCALA" => Some(Language::Scala),
            "R" => Some(Language::R),
            _ => None,
        }
    }
}

/// What a workspace path is on disk.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Directory(PathBuf),
    Notebook(PathBuf, Language),
    File(PathBuf),
}

/// Whether a file is a notebook (by extension and header line).
fn notebook_language(path: &Path) -> Option<Language> {
    let lang = Language::from_ext(path.extension()?.to_str()?)?;
    let text = std::fs::read(path).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let first = String::from_utf8_lossy(first);
    (first.trim() == lang.header()).then_some(lang)
}

/// Validated segments of a workspace path (`/Workspace` prefix accepted).
pub(crate) fn segments(path: &str) -> Result<Vec<String>, String> {
    if !path.starts_with('/') {
        return Err(format!("Path ({path}) must be absolute."));
    }
    let mut segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if segs.first().map(String::as_str) == Some("Workspace") {
        segs.remove(0);
    }
    for s in &segs {
        if !layout::valid_segment(s) || s.starts_with('.') {
            return Err(format!("Path ({path}) has an invalid component '{s}'."));
        }
    }
    Ok(segs)
}

pub(crate) fn display_path(segs: &[String]) -> String {
    format!("/{}", segs.join("/"))
}

/// Resolves a workspace path to an object on disk.
pub(crate) fn resolve(root: &Path, segs: &[String]) -> Option<Object> {
    let p = segs.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    if p.is_dir() {
        return Some(Object::Directory(p));
    }
    if p.is_file() && notebook_language(&p).is_none() {
        return Some(Object::File(p));
    }
    let (name, parent) = segs.split_last()?;
    let dir = parent.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    for lang in [
        Language::Python,
        Language::Sql,
        Language::Scala,
        Language::R,
    ] {
        let f = dir.join(format!("{name}.{}", lang.ext()));
        if f.is_file() && notebook_language(&f) == Some(lang) {
            return Some(Object::Notebook(f, lang));
        }
    }
    None
}

fn info(segs: &[String], obj: &Object) -> Value {
    let path = display_path(segs);
    let id = layout::stable_id(&path);
    match obj {
        Object::Directory(p) => json!({
            "path": path, "object_type": "DIRECTORY", "object_id": id,
            "resource_id": id.to_string(),
            "created_at": layout::mtime_ms(p), "modified_at": layout::mtime_ms(p),
        }),
        Object::Notebook(p, lang) => json!({
            "path": path, "object_type": "NOTEBOOK", "language": lang.name(),
            "object_id": id, "resource_id": id.to_string(),
            "created_at": layout::mtime_ms(p), "modified_at": layout::mtime_ms(p),
        }),
        Object::File(p) => json!({
            "path": path, "object_type": "FILE", "object_id": id,
            "resource_id": id.to_string(),
            "size": std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            "created_at": layout::mtime_ms(p), "modified_at": layout::mtime_ms(p),
        }),
    }
}

fn missing(path: &str) -> axum::response::Response {
    not_found(
        "RESOURCE_DOES_NOT_EXIST",
        format!("Path ({path}) doesn't exist."),
    )
}

fn path_param(req: &Req, from_body: bool) -> Result<&str, axum::response::Response> {
    let p = if from_body {
        req.body_str("path")
    } else {
        req.q("path")
    };
    p.filter(|p| !p.is_empty())
        .ok_or_else(|| bad_request("Missing required parameter: path."))
}

pub(crate) fn route(sh: &Shared, req: &Req, method: &str, op: &str) -> HandlerResult {
    let root = sh.layout.workspace();
    match (method, op) {
        ("GET", "list") => {
            let path = path_param(req, false)?;
            let segs = segments(path).map_err(bad_request)?;
            let obj = resolve(&root, &segs).ok_or_else(|| missing(path))?;
            let Object::Directory(dir) = &obj else {
                return ok(json!({"objects": [info(&segs, &obj)]}));
            };
            let after = req.q_i64("notebooks_modified_after")?;
            let mut objects = Vec::new();
            for d in layout::subdirs(dir) {
                let mut s = segs.clone();
                s.push(d.clone());
                objects.push(info(&s, &Object::Directory(dir.join(&d))));
            }
            for f in layout::files(dir) {
                let p = dir.join(&f);
                let mut s = segs.clone();
                let obj = match notebook_language(&p) {
                    Some(lang) => {
                        let stem = Path::new(&f)
                            .file_stem()
                            .and_then(|x| x.to_str())
                            .unwrap_or(&f)
                            .to_string();
                        s.push(stem);
                        if after.is_some_and(|a| layout::mtime_ms(&p) <= a) {
                            continue;
                        }
                        Object::Notebook(p, lang)
                    }
                    None => {
                        s.push(f.clone());
                        Object::File(p)
                    }
                };
                objects.push(info(&s, &obj));
            }
            if objects.is_empty() {
                ok(json!({}))
            } else {
                ok(json!({"objects": objects}))
            }
        }
        ("GET", "get-status") => {
            let path = path_param(req, false)?;
            let segs = segments(path).map_err(bad_request)?;
            let obj = resolve(&root, &segs).ok_or_else(|| missing(path))?;
            ok(info(&segs, &obj))
        }
        ("GET", "export") => export(&root, req),
        ("POST", "import") => {
            if !sh.allow_writes() {
                return Err(read_only("Importing into the workspace"));
            }
            import(&root, req)
        }
        ("POST", "mkdirs") => {
            if !sh.allow_writes() {
                return Err(read_only("Creating workspace directories"));
            }
            let path = path_param(req, true)?;
            let segs = segments(path).map_err(bad_request)?;
            let p = segs.iter().fold(root.clone(), |p, s| p.join(s));
            if let Some(Object::Notebook(..) | Object::File(_)) = resolve(&root, &segs) {
                return Err(error(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    format!("Path ({path}) already exists and is not a directory."),
                ));
            }
            std::fs::create_dir_all(&p)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("mkdirs {path}: {e}")))?;
            ok(json!({}))
        }
        ("POST", "delete") => {
            if !sh.allow_writes() {
                return Err(read_only("Deleting workspace objects"));
            }
            let path = path_param(req, true)?;
            let segs = segments(path).map_err(bad_request)?;
            if segs.is_empty() {
                return Err(bad_request("The workspace root cannot be deleted."));
            }
            let recursive = req
                .json
                .get("recursive")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match resolve(&root, &segs).ok_or_else(|| missing(path))? {
                Object::Directory(d) => {
                    let empty = std::fs::read_dir(&d)
                        .map(|mut r| r.next().is_none())
                        .unwrap_or(true);
                    if !empty && !recursive {
                        return Err(error(
                            400,
                            "DIRECTORY_NOT_EMPTY",
                            format!(
                                "Folder ({path}) is not empty: pass recursive=true to delete it."
                            ),
                        ));
                    }
                    std::fs::remove_dir_all(&d)
                        .map_err(|e| error(500, "INTERNAL_ERROR", format!("delete {path}: {e}")))?;
                }
                Object::Notebook(p, _) | Object::File(p) => {
                    std::fs::remove_file(&p)
                        .map_err(|e| error(500, "INTERNAL_ERROR", format!("delete {path}: {e}")))?;
                }
            }
            ok(json!({}))
        }
        _ => Err(not_found(
            "ENDPOINT_NOT_FOUND",
            format!("No workspace API '{method} {op}'."),
        )),
    }
}

fn export(root: &Path, req: &Req) -> HandlerResult {
    let path = path_param(req, false)?;
    let segs = segments(path).map_err(bad_request)?;
    let format = req.q("format").unwrap_or("SOURCE");
    if !matches!(format, "SOURCE" | "AUTO" | "RAW") {
        return Err(bad_request(format!(
            "Export format {format} is not supported by the local workspace: use SOURCE, AUTO or RAW."
        )));
    }
    let obj = resolve(root, &segs).ok_or_else(|| missing(path))?;
    let (file, file_type) = match &obj {
        Object::Directory(_) => {
            return Err(bad_request(format!(
                "({path}) is a directory: the local workspace exports notebooks and files only."
            )));
        }
        Object::Notebook(p, lang) => (p.clone(), lang.ext().to_string()),
        Object::File(p) => (
            p.clone(),
            p.extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_string(),
        ),
    };
    let bytes = std::fs::read(&file)
        .map_err(|e| error(500, "INTERNAL_ERROR", format!("export {path}: {e}")))?;
    if bytes.len() > 10 * 1024 * 1024 {
        return Err(error(
            400,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            format!("({path}) is larger than 10 MB."),
        ));
    }
    if req.q_bool("direct_download").unwrap_or(false) {
        return Ok(super::bytes_response(
            200,
            "application/octet-stream",
            bytes,
        ));
    }
    ok(json!({
        "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "file_type": file_type,
    }))
}

fn import(root: &Path, req: &Req) -> HandlerResult {
    let path = path_param(req, true)?;
    let segs = segments(path).map_err(bad_request)?;
    let Some((name, parent)) = segs.split_last() else {
        return Err(bad_request("Cannot import to the workspace root."));
    };
    let content = req.body_str("content").unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| bad_request(format!("content is not valid base64: {e}")))?;
    if bytes.len() > 10 * 1024 * 1024 {
        return Err(error(
            400,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            "The content is larger than 10 MB.",
        ));
    }
    let format = req.body_str("format").unwrap_or("SOURCE");
    let overwrite = req
        .json
        .get("overwrite")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let dir = parent.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    if !dir.is_dir() {
        return Err(not_found(
            "RESOURCE_DOES_NOT_EXIST",
            format!(
                "The parent folder ({}) does not exist.",
                display_path(parent)
            ),
        ));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let first = text.lines().next().unwrap_or("").trim().to_string();
    let header_lang = [Language::Sql, Language::Scala, Language::Python]
        .into_iter()
        .find(|l| first == l.header());
    let (target, data) = match format {
        "SOURCE" | "AUTO" => {
            let lang = match req.body_str("language") {
                Some(l) => Some(Language::from_name(l).ok_or_else(|| {
                    bad_request(format!(
                        "language must be PYTHON, SQL, SCALA or R, got '{l}'."
                    ))
                })?),
                None => header_lang.or_else(|| {
                    Path::new(name)
                        .extension()
                        .and_then(|e| e.to_str())
                        .and_then(Language::from_ext)
                        .filter(|_| format == "SOURCE")
                }),
            };
            match lang {
                Some(lang) => {
                    let stem = Path::new(name)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .filter(|_| {
                            Path::new(name)
                                .extension()
                                .and_then(|e| e.to_str())
                                .and_then(Language::from_ext)
                                == Some(lang)
                        })
                        .unwrap_or(name);
                    let data = if first == lang.header() {
                        bytes
                    } else {
                        format!("{}\n{text}", lang.header()).into_bytes()
                    };
                    (dir.join(format!("{stem}.{}", lang.ext())), data)
                }
                None if format == "AUTO" => (dir.join(name), bytes),
                None => {
                    return Err(bad_request(
                        "language is required to import a SOURCE notebook (PYTHON, SQL, SCALA or R).",
                    ));
                }
            }
        }
        "RAW" => (dir.join(name), bytes),
        other => {
            return Err(bad_request(format!(
                "Import format {other} is not supported by the local workspace: use SOURCE, AUTO or RAW."
            )));
        }
    };
    let exists = resolve(root, &segs).is_some() || target.exists();
    if exists && !overwrite {
        return Err(error(
            400,
            "RESOURCE_ALREADY_EXISTS",
            format!("Path ({path}) already exists: pass overwrite=true to replace it."),
        ));
    }
    if target.is_dir() {
        return Err(error(
            400,
            "RESOURCE_ALREADY_EXISTS",
            format!("Path ({path}) is a directory."),
        ));
    }
    layout::write_atomic(&target, &data)
        .map_err(|e| error(500, "INTERNAL_ERROR", format!("import {path}: {e}")))?;
    // An overwrite replaces the object at this path whatever it was: a notebook in another
    // language (another file on disk, which would otherwise still be found first) or a
    // plain file.
    for _ in 0..8 {
        match resolve(root, &segs) {
            Some(Object::Notebook(p, _) | Object::File(p)) if p != target => {
                std::fs::remove_file(&p)
                    .map_err(|e| error(500, "INTERNAL_ERROR", format!("import {path}: {e}")))?;
            }
            _ => break,
        }
    }
    ok(json!({}))
}

/// Reads a notebook or file by workspace path (for jobs and pipelines).
pub(crate) fn read_source(root: &Path, path: &str) -> Result<(String, Option<Language>), String> {
    let segs = segments(path)?;
    match resolve(root, &segs) {
        Some(Object::Notebook(p, lang)) => std::fs::read_to_string(&p)
            .map(|t| (t, Some(lang)))
            .map_err(|e| format!("{path}: {e}")),
        Some(Object::File(p)) => std::fs::read_to_string(&p)
            .map(|t| (t, None))
            .map_err(|e| format!("{path}: {e}")),
        Some(Object::Directory(_)) => Err(format!("{path} is a directory")),
        None => Err(format!("{path} does not exist in the workspace")),
    }
}
