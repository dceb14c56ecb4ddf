//! Files API 2.0 (REFERENCE.md §8.1): Unity Catalog volume paths. Contents travel as raw
//! bytes; only directory listings are JSON. And the DBFS API's reads (§8.2).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DirectoryEntry {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_directory: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
    /// Epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

/// Most entries a directory listing page holds (`page_size` is coerced to it).
pub const MAX_PAGE_SIZE: usize = 1000;

/// `GET /api/2.0/fs/directories{path}`: short pages are possible; only the token's
/// absence ends a listing. `contents` is absent for an empty directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DirectoryListing {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<DirectoryEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The API path of a volume path: `/api/2.0/fs/{kind}` then each segment
/// percent-encoded, `/` kept. `kind` is `files` or `directories`.
pub fn api_path(kind: &str, volume_path: &str) -> String {
    let mut out = format!("/api/2.0/fs/{kind}");
    for segment in volume_path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// DBFS `FileInfo`: `get-status`, and each entry of `list`. `file_size` is 0 for
/// directories.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileInfo {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub is_dir: bool,
    #[serde(default)]
    pub file_size: i64,
    /// Epoch milliseconds.
    #[serde(default)]
    pub modification_time: i64,
}

/// `GET /api/2.0/dbfs/list`: not paged; `files` is absent for an empty directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ListStatusResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileInfo>,
}

/// `GET /api/2.0/dbfs/read`: `data` is the bytes read, base64.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReadResponse {
    #[serde(default)]
    pub bytes_read: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
}

/// The most a DBFS `read` returns, and what it returns without `length`.
pub const DBFS_MAX_READ: i64 = 1024 * 1024;
pub const DBFS_DEFAULT_READ: i64 = 512 * 1024;
