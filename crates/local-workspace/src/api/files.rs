//! Files API 2.0 for Unity Catalog volumes (REFERENCE.md §8.1):
//! `/api/2.0/fs/files/Volumes/<catalog>/<schema>/<volume>/<path>` and
//! `/api/2.0/fs/directories/...`, stored under `<dir>/volumes/`.

use std::path::PathBuf;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::json;

use super::{
    HandlerResult, Req, Shared, bad_request, bytes_response, empty, error, ok, page, read_only,
};
use crate::layout;

fn http_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

fn not_found(path: &str) -> Response {
    error(404, "NOT_FOUND", format!("The path {path} does not exist."))
}

/// Resolves `/Volumes/c/s/v/rest...` to a path on disk; the volume must exist.
fn resolve(sh: &Shared, rest: &[&str]) -> Result<(PathBuf, String), Response> {
    let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
    let display = format!("/{}", rest.join("/"));
    let ["Volumes", c, s, v, tail @ ..] = rest.as_slice() else {
        return Err(bad_request(format!(
            "Path {display} is not a volume path: expected /Volumes/<catalog>/<schema>/<volume>/..."
        )));
    };
    let base = sh.layout.volumes();
    let missing_volume = || {
        error(
            404,
            "NOT_FOUND",
            format!("Volume '{c}.{s}.{v}' does not exist."),
        )
    };
    let c = layout::find_dir(&base, c).ok_or_else(missing_volume)?;
    let s = layout::find_dir(&base.join(&c), s).ok_or_else(missing_volume)?;
    let v = layout::find_dir(&base.join(&c).join(&s), v).ok_or_else(missing_volume)?;
    let mut p = base.join(&c).join(&s).join(&v);
    for seg in tail {
        if !layout::valid_segment(seg) {
            return Err(bad_request(format!(
                "Path {display} has an invalid component '{seg}'."
            )));
        }
        p = p.join(seg);
    }
    Ok((p, display))
}

pub(crate) fn route(
    sh: &Shared,
    req: &Req,
    method: &str,
    kind: &str,
    rest: &[&str],
) -> HandlerResult {
    let (path, display) = resolve(sh, rest)?;
    match (kind, method) {
        ("files", "GET" | "HEAD") => {
            if !path.is_file() {
                return Err(not_found(&display));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("{display}: {e}")))?;
            let total = bytes.len();
            let (status, body) = match req.header("range").and_then(|r| parse_range(r, total)) {
                Some((a, b)) => (206, bytes[a..=b].to_vec()),
                None => (200, bytes),
            };
            let len = body.len();
            let mut r = if method == "HEAD" {
                empty(200)
            } else {
                bytes_response(status, "application/octet-stream", body)
            };
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
                h.insert(header::CONTENT_LENGTH, v);
            }
            if let Ok(v) = HeaderValue::from_str(&http_date(layout::mtime_ms(&path))) {
                h.insert(header::LAST_MODIFIED, v);
            }
            Ok(r)
        }
        ("files", "PUT") => {
            if !sh.allow_writes() {
                return Err(read_only("Uploading to a volume"));
            }
            let overwrite = req.q_bool("overwrite").unwrap_or(true);
            if path.is_dir() {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!("{display} is a directory."),
                ));
            }
            if path.exists() && !overwrite {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!(
                        "The file {display} already exists: pass overwrite=true to replace it."
                    ),
                ));
            }
            layout::write_atomic(&path, &req.body)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("{display}: {e}")))?;
            Ok(empty(204))
        }
        ("files", "DELETE") => {
            if !sh.allow_writes() {
                return Err(read_only("Deleting from a volume"));
            }
            if !path.is_file() {
                return Err(not_found(&display));
            }
            std::fs::remove_file(&path)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("{display}: {e}")))?;
            Ok(empty(204))
        }
        ("directories", "GET") => {
            if !path.is_dir() {
                return Err(not_found(&display));
            }
            let mut entries = Vec::new();
            let base = display.trim_end_matches('/').to_string();
            for d in layout::subdirs(&path) {
                entries.push(json!({
                    "path": format!("{base}/{d}/"),
                    "name": d,
                    "is_directory": true,
                }));
            }
            for f in layout::files(&path) {
                let p = path.join(&f);
                entries.push(json!({
                    "path": format!("{base}/{f}"),
                    "name": f,
                    "is_directory": false,
                    "file_size": std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
                    "last_modified": layout::mtime_ms(&p),
                }));
            }
            let size = req.q_i64("page_size")?.filter(|n| *n > 0).or(Some(0));
            let (items, next) = page(&entries, size, req.q("page_token"), 1000)?;
            let mut v = json!({});
            if !items.is_empty() {
                v["contents"] = json!(items);
            }
            if let Some(n) = next {
                v["next_page_token"] = json!(n);
            }
            ok(v)
        }
        ("directories", "HEAD") => {
            if path.is_dir() {
                Ok(empty(200))
            } else {
                Err(empty(404))
            }
        }
        ("directories", "PUT") => {
            if !sh.allow_writes() {
                return Err(read_only("Creating directories in a volume"));
            }
            if path.is_file() {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!("{display} is a file."),
                ));
            }
            std::fs::create_dir_all(&path)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("{display}: {e}")))?;
            Ok(empty(204))
        }
        ("directories", "DELETE") => {
            if !sh.allow_writes() {
                return Err(read_only("Deleting directories in a volume"));
            }
            if !path.is_dir() {
                return Err(not_found(&display));
            }
            if std::fs::read_dir(&path)
                .map(|mut r| r.next().is_some())
                .unwrap_or(false)
            {
                return Err(error(
                    400,
                    "DIRECTORY_NOT_EMPTY",
                    format!("The directory {display} is not empty."),
                ));
            }
            std::fs::remove_dir(&path)
                .map_err(|e| error(500, "INTERNAL_ERROR", format!("{display}: {e}")))?;
            Ok(empty(204))
        }
        _ => Err(error(
            405,
            "METHOD_NOT_ALLOWED",
            format!("{method} is not supported on /api/2.0/fs/{kind}."),
        )),
    }
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive range within `len`.
fn parse_range(h: &str, len: usize) -> Option<(usize, usize)> {
    let spec = h.strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-3", 10), Some((0, 3)));
        assert_eq!(parse_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(parse_range("bytes=-2", 10), Some((8, 9)));
        assert_eq!(parse_range("bytes=9-20", 10), Some((9, 9)));
        assert_eq!(parse_range("bytes=20-", 10), None);
    }
}
