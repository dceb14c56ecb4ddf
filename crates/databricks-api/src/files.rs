//! Files API 2.0 (REFERENCE.md §8.1): Unity Catalog volume paths. Contents travel as raw
//! bytes; only directory listings are JSON. And the DBFS API (§8.2): its reads, and its
//! writes, whose bodies are JSON (contents base64).

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

/// The most bytes one DBFS `put` (its `contents`) or `add-block` (its `data`) carries,
/// decoded; more is 400 `MAX_BLOCK_SIZE_EXCEEDED`.
pub const DBFS_MAX_BLOCK: usize = 1024 * 1024;

/// `POST /api/2.0/dbfs/put`: `contents` base64 (absent is an empty file), `overwrite`
/// false unless set. (The service also takes a multipart form; this contract does not.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PutRequest {
    #[serde(default)]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
}

/// `POST /api/2.0/dbfs/mkdirs`: the directory and its missing parents.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MkDirsRequest {
    #[serde(default)]
    pub path: String,
}

/// `POST /api/2.0/dbfs/delete`: a non-empty directory only with `recursive`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeleteRequest {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

/// `POST /api/2.0/dbfs/create`: opens a stream to write `path`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateRequest {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub overwrite: bool,
}

/// The answer of `create`: the stream's handle, for `add-block` and `close`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateResponse {
    #[serde(default)]
    pub handle: i64,
}

/// `POST /api/2.0/dbfs/add-block`: `data` base64, at most [`DBFS_MAX_BLOCK`] bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AddBlockRequest {
    #[serde(default)]
    pub handle: i64,
    #[serde(default)]
    pub data: String,
}

/// `POST /api/2.0/dbfs/close`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CloseRequest {
    #[serde(default)]
    pub handle: i64,
}

/// `POST /api/2.0/dbfs/move`: a directory moves with its content.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MoveRequest {
    #[serde(default)]
    pub source_path: String,
    #[serde(default)]
    pub destination_path: String,
}

/// What every DBFS write but `create` answers: `{}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DbfsEmpty {}
