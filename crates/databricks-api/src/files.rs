//! Files API 2.0 (REFERENCE.md §8.1): Unity Catalog volume paths. Contents travel as raw
//! bytes; only directory listings are JSON.

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

/// `GET /api/2.0/fs/directories{path}`: short pages are possible; only the token's
/// absence ends a listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DirectoryListing {
    #[serde(default)]
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
