//! Unity Catalog volumes on disk (REFERENCE.md §8), the local [`VolumeFiles`] backend:
//! `/Volumes/<catalog>/<schema>/<volume>/<path>` is `<dir>/volumes/<catalog>/<schema>/<volume>/<path>`
//! (catalog, schema and volume names matched as Unity Catalog matches them). The protocol
//! (paths, overwrite, paging, headers, ranges, DBFS shapes) is `workspace-server`'s; this
//! workspace has no DBFS root, so a DBFS path outside `/Volumes` does not exist.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use databricks_api::backend::{Answer, FileEntry, FileMetadata, VolumeFiles, async_trait};
use databricks_api::error::{ApiError, ErrorCode};

use super::Shared;
use crate::layout;

fn internal(what: &str, path: &str, e: std::io::Error) -> ApiError {
    ApiError::new(ErrorCode::InternalError, format!("{what} {path}: {e}"))
}

fn metadata_on_disk(p: &Path) -> Option<FileMetadata> {
    let m = std::fs::metadata(p).ok()?;
    Some(FileMetadata {
        is_directory: m.is_dir(),
        size: if m.is_dir() { 0 } else { m.len() },
        modified_ms: layout::mtime_ms(p),
    })
}

impl Shared {
    /// Where a volume path is on disk; `None` when it is not inside an existing volume.
    /// Names are checked before anything touches the disk.
    fn volume_file(&self, path: &str) -> Result<Option<PathBuf>, ApiError> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let ["Volumes", catalog, schema, volume, tail @ ..] = parts.as_slice() else {
            return Ok(None);
        };
        if let Some(bad) = tail.iter().find(|s| !layout::valid_segment(s)) {
            return Err(ApiError::invalid_parameter(format!(
                "Path {path} has an invalid component '{bad}'."
            )));
        }
        let base = self.layout.volumes();
        let Some(c) = layout::find_dir(&base, catalog) else {
            return Ok(None);
        };
        let Some(s) = layout::find_dir(&base.join(&c), schema) else {
            return Ok(None);
        };
        let Some(v) = layout::find_dir(&base.join(&c).join(&s), volume) else {
            return Ok(None);
        };
        let root = base.join(c).join(s).join(v);
        Ok(Some(tail.iter().fold(root, |p, seg| p.join(seg))))
    }

    /// The path on disk of something a write or a read may touch: it must be in a volume.
    fn existing_volume_file(&self, path: &str) -> Result<PathBuf, ApiError> {
        self.volume_file(path)?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("{path} is not in a volume."))
        })
    }

    fn volume_entries(&self, path: &str) -> Result<Vec<FileEntry>, ApiError> {
        let dir = self.existing_volume_file(path)?;
        let names = layout::subdirs(&dir).into_iter().chain(layout::files(&dir));
        Ok(names
            .filter_map(|name| {
                let metadata = metadata_on_disk(&dir.join(&name))?;
                Some(FileEntry { name, metadata })
            })
            .collect())
    }

    fn read_volume_file(&self, path: &str, range: Range<u64>) -> Result<Vec<u8>, ApiError> {
        let p = self.existing_volume_file(path)?;
        let mut file = std::fs::File::open(&p).map_err(|e| internal("read", path, e))?;
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| internal("read", path, e))?;
        let mut bytes = Vec::new();
        file.take(range.end.saturating_sub(range.start))
            .read_to_end(&mut bytes)
            .map_err(|e| internal("read", path, e))?;
        Ok(bytes)
    }

    fn write_volume_file(&self, path: &str, content: &[u8]) -> Result<(), ApiError> {
        self.check_writable("Uploading to a volume")?;
        let p = self.existing_volume_file(path)?;
        layout::write_atomic(&p, content).map_err(|e| internal("upload", path, e))
    }

    fn make_volume_dirs(&self, path: &str) -> Result<(), ApiError> {
        self.check_writable("Creating directories in a volume")?;
        let p = self.existing_volume_file(path)?;
        std::fs::create_dir_all(&p).map_err(|e| internal("mkdirs", path, e))
    }

    fn delete_volume_file(&self, path: &str) -> Result<(), ApiError> {
        self.check_writable("Deleting from a volume")?;
        let p = self.existing_volume_file(path)?;
        std::fs::remove_file(&p).map_err(|e| internal("delete", path, e))
    }

    fn delete_volume_dir(&self, path: &str) -> Result<(), ApiError> {
        self.check_writable("Deleting directories in a volume")?;
        let p = self.existing_volume_file(path)?;
        // The server saw no entries; hidden ones (never listed) still keep it.
        std::fs::remove_dir(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::DirectoryNotEmpty => ApiError::invalid_parameter(format!(
                "The directory {path} holds hidden entries: it is not empty."
            )),
            _ => internal("delete", path, e),
        })
    }

    fn rename_volume_file(&self, from: &str, to: &str) -> Result<(), ApiError> {
        self.check_writable("Moving files in a volume")?;
        let source = self.existing_volume_file(from)?;
        let target = self.existing_volume_file(to)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| internal("move", to, e))?;
        }
        std::fs::rename(&source, &target).map_err(|e| internal("move", from, e))
    }
}

#[async_trait]
impl VolumeFiles for Shared {
    async fn metadata(&self, path: &str) -> Answer<Option<FileMetadata>> {
        Ok(self
            .volume_file(path)?
            .as_deref()
            .and_then(metadata_on_disk))
    }

    async fn entries(&self, path: &str) -> Answer<Vec<FileEntry>> {
        self.volume_entries(path)
    }

    async fn read(&self, path: &str, range: Range<u64>) -> Answer<Vec<u8>> {
        self.read_volume_file(path, range)
    }

    async fn write(&self, path: &str, content: &[u8]) -> Answer<()> {
        self.write_volume_file(path, content)
    }

    async fn mkdirs(&self, path: &str) -> Answer<()> {
        self.make_volume_dirs(path)
    }

    async fn delete_file(&self, path: &str) -> Answer<()> {
        self.delete_volume_file(path)
    }

    async fn delete_directory(&self, path: &str) -> Answer<()> {
        self.delete_volume_dir(path)
    }

    async fn rename(&self, from: &str, to: &str) -> Answer<()> {
        self.rename_volume_file(from, to)
    }
}
