//! Workspace API 2.0 (REFERENCE.md §7), the local backend, over `<dir>/workspace/`:
//! notebooks are source files whose first line is the Databricks notebook header
//! (`-- Databricks notebook source` for SQL, `# Databricks notebook source` for Python
//! and R, `// ...` for Scala), exposed without their extension; other files are
//! workspace files. The protocol (paths, formats, overwrite, recursive) is
//! `workspace-server`'s.

use std::path::{Path, PathBuf};

use databricks_api::backend::{Answer, WorkspaceObjects, WorkspaceWrite, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
pub(crate) use databricks_api::workspace::Language;
use databricks_api::workspace::ObjectInfo;

use super::Shared;
use crate::layout;

/// What a workspace path is on disk.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Directory(PathBuf),
    Notebook(PathBuf, Language),
    File(PathBuf),
}

/// Whether a file is a notebook (by extension and header line).
fn notebook_language(path: &Path) -> Option<Language> {
    let lang = Language::from_extension(path.extension()?.to_str()?)?;
    let text = std::fs::read(path).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    (Language::from_header(&String::from_utf8_lossy(first), Some(lang)) == Some(lang))
        .then_some(lang)
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
    for lang in Language::ALL {
        let f = dir.join(format!("{name}.{}", lang.extension()));
        if f.is_file() && notebook_language(&f) == Some(lang) {
            return Some(Object::Notebook(f, lang));
        }
    }
    None
}

fn info(segs: &[String], obj: &Object) -> ObjectInfo {
    let path = display_path(segs);
    let id = layout::stable_id(&path);
    let (kind, on_disk, language) = match obj {
        Object::Directory(p) => ("DIRECTORY", p, None),
        Object::Notebook(p, lang) => ("NOTEBOOK", p, Some(lang.as_str().to_string())),
        Object::File(p) => ("FILE", p, None),
    };
    let size = matches!(obj, Object::File(_)).then(|| {
        std::fs::metadata(on_disk)
            .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    });
    ObjectInfo {
        path,
        object_type: Some(kind.to_string()),
        object_id: Some(id),
        resource_id: Some(id.to_string()),
        language,
        created_at: Some(layout::mtime_ms(on_disk)),
        modified_at: Some(layout::mtime_ms(on_disk)),
        size,
        directory_info: None,
    }
}

fn missing(path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("Path ({path}) doesn't exist."),
    )
}

fn internal(what: &str, path: &str, e: std::io::Error) -> ApiError {
    ApiError::new(ErrorCode::InternalError, format!("{what} {path}: {e}"))
}

impl Shared {
    fn workspace_object(&self, path: &str) -> Result<(Vec<String>, Object), ApiError> {
        let segs = segments(path).map_err(ApiError::invalid_parameter)?;
        let obj = resolve(&self.layout.workspace(), &segs).ok_or_else(|| missing(path))?;
        Ok((segs, obj))
    }

    pub(crate) fn check_writable(&self, what: &str) -> Result<(), ApiError> {
        if self.allow_writes() {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::PermissionDenied,
            format!(
                "{what} is not allowed: the local workspace is read-only (start it with writes allowed, e.g. --allow-writes)."
            ),
        ))
    }

    fn workspace_children(&self, path: &str) -> Result<Vec<ObjectInfo>, ApiError> {
        let (segs, obj) = self.workspace_object(path)?;
        let Object::Directory(dir) = obj else {
            return Err(ApiError::invalid_parameter(format!(
                "Path ({path}) is not a directory."
            )));
        };
        let mut objects = Vec::new();
        for d in layout::subdirs(&dir) {
            let mut s = segs.clone();
            s.push(d.clone());
            objects.push(info(&s, &Object::Directory(dir.join(&d))));
        }
        for f in layout::files(&dir) {
            let p = dir.join(&f);
            let mut s = segs.clone();
            let obj = match notebook_language(&p) {
                Some(lang) => {
                    let stem = Path::new(&f).file_stem().and_then(|x| x.to_str());
                    s.push(stem.unwrap_or(&f).to_string());
                    Object::Notebook(p, lang)
                }
                None => {
                    s.push(f.clone());
                    Object::File(p)
                }
            };
            objects.push(info(&s, &obj));
        }
        Ok(objects)
    }

    /// Stores a notebook as `<name>.<ext>` and a file as `<name>`, then removes whatever
    /// else stood for this path (a notebook in another language, a file).
    fn write_workspace_object(&self, path: &str, object: WorkspaceWrite) -> Result<(), ApiError> {
        self.check_writable("Importing into the workspace")?;
        let root = self.layout.workspace();
        let segs = segments(path).map_err(ApiError::invalid_parameter)?;
        let Some((name, parent)) = segs.split_last() else {
            return Err(ApiError::invalid_parameter(
                "Cannot import to the workspace root.",
            ));
        };
        let dir = parent.iter().fold(root.clone(), |p, s| p.join(s));
        let target = match object.language {
            Some(lang) => dir.join(format!("{name}.{}", lang.extension())),
            None => dir.join(name),
        };
        // `etl.py` on disk is either notebook `etl` or file `etl.py`: never both.
        if object.language.is_some() && target.is_file() && notebook_language(&target).is_none() {
            let message = format!(
                "Path ({path}) cannot be stored: the workspace file {}.{} uses its name on disk.",
                display_path(&segs),
                target
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default()
            );
            return Err(ApiError::new(ErrorCode::ResourceAlreadyExists, message).with_status(400));
        }
        if target.is_dir() {
            let message = format!("Path ({path}) is a directory on disk.");
            return Err(ApiError::new(ErrorCode::ResourceAlreadyExists, message).with_status(400));
        }
        layout::write_atomic(&target, &object.content).map_err(|e| internal("import", path, e))?;
        for _ in 0..8 {
            match resolve(&root, &segs) {
                Some(Object::Notebook(p, _) | Object::File(p)) if p != target => {
                    std::fs::remove_file(&p).map_err(|e| internal("import", path, e))?;
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn make_workspace_dirs(&self, path: &str) -> Result<(), ApiError> {
        self.check_writable("Creating workspace directories")?;
        let segs = segments(path).map_err(ApiError::invalid_parameter)?;
        let dir = segs.iter().fold(self.layout.workspace(), |p, s| p.join(s));
        std::fs::create_dir_all(&dir).map_err(|e| internal("mkdirs", path, e))
    }

    fn delete_workspace_object(&self, path: &str) -> Result<(), ApiError> {
        self.check_writable("Deleting workspace objects")?;
        match self.workspace_object(path)?.1 {
            Object::Directory(d) => std::fs::remove_dir_all(&d),
            Object::Notebook(p, _) | Object::File(p) => std::fs::remove_file(&p),
        }
        .map_err(|e| internal("delete", path, e))
    }
}

#[async_trait]
impl WorkspaceObjects for Shared {
    async fn object(&self, path: &str) -> Answer<ObjectInfo> {
        let (segs, obj) = self.workspace_object(path)?;
        Ok(info(&segs, &obj))
    }

    async fn children(&self, path: &str) -> Answer<Vec<ObjectInfo>> {
        self.workspace_children(path)
    }

    async fn content(&self, path: &str) -> Answer<Vec<u8>> {
        match self.workspace_object(path)?.1 {
            Object::Notebook(p, _) | Object::File(p) => {
                std::fs::read(&p).map_err(|e| internal("export", path, e))
            }
            Object::Directory(_) => Err(ApiError::invalid_parameter(format!(
                "Path ({path}) is a directory."
            ))),
        }
    }

    async fn write(&self, path: &str, object: WorkspaceWrite) -> Answer<()> {
        self.write_workspace_object(path, object)
    }

    async fn mkdirs(&self, path: &str) -> Answer<()> {
        self.make_workspace_dirs(path)
    }

    async fn delete(&self, path: &str) -> Answer<()> {
        self.delete_workspace_object(path)
    }
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
