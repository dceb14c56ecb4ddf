//! The directory layout of a local workspace.
//!
//! ```text
//! <dir>/catalogs/<catalog>/<schema>/<table>/      Delta table (_delta_log), or Parquet / CSV files
//! <dir>/catalogs/<catalog>/<schema>/<table>.parquet|.csv   single-file tables
//! <dir>/volumes/<catalog>/<schema>/<volume>/...  Unity Catalog volumes (Files API)
//! <dir>/workspace/...                            workspace objects (notebooks as source files)
//! <dir>/jobs/<job_id>.json                       job settings
//! <dir>/runs/<run_id>.json                       job runs and their output
//! <dir>/pipelines/<pipeline_id>.json             pipeline specs; updates under <pipeline_id>/
//! <dir>/vector_search/indexes/<index>.json       vector search index definitions
//! <dir>/lineage/edges.json                       table lineage recorded by writes
//! <dir>/genie/spaces/<space_id>.json             Genie spaces: title, description, tables
//! ```
//!
//! Finished statement results are kept outside it, in the user's cache directory
//! (`api/statements.rs`): a read never changes the workspace directory.
//!
//! Names starting with `.` or `_` are hidden (Delta logs, temporary directories, markers).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Paths of one workspace directory.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: PathBuf) -> Layout {
        Layout { root }
    }
    pub fn catalogs(&self) -> PathBuf {
        self.root.join("catalogs")
    }
    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }
    pub fn workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }
    pub fn jobs(&self) -> PathBuf {
        self.root.join("jobs")
    }
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }
    pub fn pipelines(&self) -> PathBuf {
        self.root.join("pipelines")
    }
    /// Where finished statement results of this workspace are kept for a later process
    /// (`call get_sql_result`): `$XDG_CACHE_HOME` (else `~/.cache`, else the temporary
    /// directory)`/databricks-mcp/statements/<digest of the workspace path>`.
    pub fn statement_results(&self) -> PathBuf {
        use sha2::Digest;
        let root = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        let digest = sha2::Sha256::digest(root.to_string_lossy().as_bytes());
        let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("databricks-mcp").join("statements").join(key)
    }
    pub fn lineage(&self) -> PathBuf {
        self.root.join("lineage")
    }
    pub fn genie_spaces(&self) -> PathBuf {
        self.root.join("genie").join("spaces")
    }
    pub fn vector_indexes(&self) -> PathBuf {
        self.root.join("vector_search").join("indexes")
    }
}

/// Whether `name` may be used as a catalog, schema, table, volume or file name segment.
pub(crate) fn valid_segment(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
}

/// Whether a directory entry is hidden from listings.
pub(crate) fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// Visible subdirectories of `dir`, sorted. Missing directory → empty.
pub(crate) fn subdirs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if hidden(&name) {
                continue;
            }
            if e.path().is_dir() {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

/// Visible files of `dir`, sorted.
pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if hidden(&name) {
                continue;
            }
            if e.path().is_file() {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

/// Finds the entry of `dir` named `name`: exact match first, then ASCII case-insensitive
/// (Databricks identifiers are case-insensitive).
pub(crate) fn find_dir(dir: &Path, name: &str) -> Option<String> {
    if !valid_segment(name) || hidden(name) {
        return None;
    }
    if dir.join(name).is_dir() {
        return Some(name.to_string());
    }
    subdirs(dir)
        .into_iter()
        .find(|d| d.eq_ignore_ascii_case(name))
}

/// Modification time in epoch milliseconds (0 if unknown).
pub(crate) fn mtime_ms(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Now in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Writes `bytes` to `path` atomically (temporary file + rename), creating parents.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent"))?;
    std::fs::create_dir_all(parent)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = parent.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A stable positive 63-bit id for a string (FNV-1a), for object ids.
pub(crate) fn stable_id(s: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::try_from(h >> 1).unwrap_or(i64::MAX)
}

/// `$XDG_DATA_HOME/databricks-mcp/local`, else `~/.local/share/databricks-mcp/local`, else
/// `./.databricks-mcp-local`.
pub(crate) fn default_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return p.join("databricks-mcp").join("local");
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("databricks-mcp")
            .join("local");
    }
    if let Some(profile) = std::env::var_os("USERPROFILE").filter(|v| !v.is_empty()) {
        return PathBuf::from(profile)
            .join("AppData")
            .join("Local")
            .join("databricks-mcp")
            .join("local");
    }
    PathBuf::from(".databricks-mcp-local")
}

/// The user name shown as owner/creator of local objects.
pub(crate) fn user_name() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.is_empty() && u.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "local".to_string());
    format!("{user}@localhost")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert!(valid_segment("lineitem"));
        assert!(!valid_segment(".."));
        assert!(!valid_segment("a/b"));
        assert!(!valid_segment(""));
        assert!(hidden("_delta_log"));
        assert!(hidden(".tmp"));
    }

    #[test]
    fn stable_ids_are_positive_and_stable() {
        assert_eq!(stable_id("/Shared"), stable_id("/Shared"));
        assert!(stable_id("x") >= 0);
        assert_ne!(stable_id("a"), stable_id("b"));
    }
}
