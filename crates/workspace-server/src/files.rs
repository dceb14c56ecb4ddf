//! Files API 2.0 (REFERENCE.md §8.1) and DBFS (§8.2).
//!
//! The protocol lives here: volume paths (absolute `/Volumes/<catalog>/<schema>/<volume>/…`,
//! percent-decoded segments, no `.`/`..`), `overwrite` (unset ⇒ overwrite), directory
//! listings paged by `page_size` and a cursor token, what must exist before a write, the
//! download headers and byte ranges, and the DBFS `list`/`get-status`/`read` shapes. The
//! DBFS writes and their streams are in [`dbfs_writes`]. A backend stores a tree of
//! directories and files and their bytes.

mod dbfs_writes;

pub(crate) use dbfs_writes::Streams;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use databricks_api::backend::{FileEntry, FileMetadata, VolumeFiles};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::files::{
    DBFS_DEFAULT_READ, DBFS_MAX_READ, DirectoryEntry, DirectoryListing, FileInfo,
    ListStatusResponse, MAX_PAGE_SIZE, ReadResponse,
};

use crate::paging::{decode_cursor, encode_cursor};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::{error_response, json_response};

/// `rest`: the path after `/api/2.0/fs`.
pub(crate) async fn route_fs(
    backend: &dyn VolumeFiles,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        (method, ["files", path @ ..]) => {
            let path = volume_path(path)?;
            match method {
                "GET" | "HEAD" => download(backend, req, &path).await,
                "PUT" => upload(backend, req, &path).await,
                "DELETE" => delete_file(backend, &path).await,
                _ => Err(endpoint_not_found(req)),
            }
        }
        (method, ["directories", path @ ..]) => {
            let path = volume_path(path)?;
            match method {
                "GET" => list_directory(backend, req, &path).await,
                "HEAD" => match backend.metadata(&path).await? {
                    Some(m) if m.is_directory => Ok(no_content(StatusCode::OK)),
                    _ => Err(directory_not_found()),
                },
                "PUT" => create_directory(backend, &path).await,
                "DELETE" => delete_directory(backend, &path).await,
                _ => Err(endpoint_not_found(req)),
            }
        }
        _ => Err(endpoint_not_found(req)),
    }
}

/// `rest`: the path after `/api/2.0/dbfs`; `streams` are the workspace's open uploads.
pub(crate) async fn route_dbfs(
    backend: &dyn VolumeFiles,
    streams: &dbfs_writes::Streams,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["get-status"]) => {
            let path = dbfs_path(&req.required_param("path")?)?;
            let meta = dbfs_metadata(backend, &path).await?;
            Ok(json_response(200, &file_info(&path, meta)))
        }
        ("GET" | "HEAD", ["list"]) => dbfs_list(backend, req).await,
        ("GET" | "HEAD", ["read"]) => dbfs_read(backend, req).await,
        ("POST", [endpoint]) => dbfs_writes::route(backend, streams, req, endpoint).await,
        _ => Err(endpoint_not_found(req)),
    }
}

// ---------------------------------------------------------------------------------------
// Paths

/// The components of an absolute path, each already percent-decoded by the front. A
/// decoded `/` (`%2F`) separates components as a literal one does; empty components are
/// dropped; `.` and `..` are refused rather than resolved, so a path names one object
/// however a backend stores it.
fn components(path: &str) -> Result<Vec<&str>, ApiError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if let Some(bad) = parts.iter().find(|p| matches!(**p, "." | "..")) {
        return Err(ApiError::invalid_parameter(format!(
            "Path {path} has an invalid component '{bad}'."
        )));
    }
    Ok(parts)
}

/// The volume path of the segments after `/api/2.0/fs/{files,directories}`:
/// `/Volumes/<catalog>/<schema>/<volume>[/…]`, normalized.
fn volume_path(segments: &[&str]) -> Result<String, ApiError> {
    let joined = format!("/{}", segments.join("/"));
    let parts = components(&joined)?;
    match parts.as_slice() {
        ["Volumes", _, _, _, ..] => Ok(format!("/{}", parts.join("/"))),
        _ => Err(ApiError::invalid_parameter(format!(
            "Path {joined} is not a Unity Catalog volume path: expected /Volumes/<catalog>/<schema>/<volume>/..."
        ))),
    }
}

/// `/Volumes/<catalog>/<schema>/<volume>` of a normalized volume path.
fn volume_root(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).take(4).collect();
    format!("/{}", parts.join("/"))
}

/// A DBFS path: absolute, `dbfs:` prefix accepted, normalized (the root is `/`).
fn dbfs_path(path: &str) -> Result<String, ApiError> {
    let bare = path.strip_prefix("dbfs:").unwrap_or(path);
    if !bare.starts_with('/') {
        return Err(ApiError::invalid_parameter(format!(
            "Path {path} must be an absolute DBFS path."
        )));
    }
    Ok(format!("/{}", components(bare)?.join("/")))
}

// ---------------------------------------------------------------------------------------
// Errors, as the Files API sends them

fn file_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "The file being accessed is not found.")
}

fn directory_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "The directory being accessed is not found.",
    )
    .with_reason("FILES_API_DIRECTORY_IS_NOT_FOUND")
}

fn volume_not_found(path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("The volume {} does not exist.", volume_root(path)),
    )
}

fn already_exists(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::AlreadyExists, message)
}

fn dbfs_not_found(path: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("No file or directory exists on path {path}."),
    )
}

// ---------------------------------------------------------------------------------------
// Files

fn no_content(status: StatusCode) -> Response {
    status.into_response()
}

/// The bytes a `Range` header asks for, inclusive, within a file of `total` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// No range, or one this server ignores (several ranges, another unit, malformed):
    /// the whole file with 200, as RFC 9110 allows.
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

fn parse_range(value: Option<&str>, total: u64) -> Range {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Range::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.parse::<u64>(), last.parse::<u64>()) {
        // `-n`: the last n bytes.
        (Err(_), Ok(n)) if first.is_empty() => match n.min(total) {
            0 => return Range::Unsatisfiable,
            n => (total - n, total.saturating_sub(1)),
        },
        (Ok(a), Err(_)) if last.is_empty() => (a, total.saturating_sub(1)),
        (Ok(a), Ok(b)) if a <= b => (a, b.min(total.saturating_sub(1))),
        _ => return Range::Whole,
    };
    if parsed.0 >= total {
        return Range::Unsatisfiable;
    }
    Range::Part(parsed.0, parsed.1)
}

/// GET and HEAD of a file: the bytes (or a range of them) with `content-length`,
/// `content-type`, `last-modified`; HEAD sends the same status and headers, no body.
async fn download(
    backend: &dyn VolumeFiles,
    req: &ApiRequest,
    path: &str,
) -> Result<Response, ApiError> {
    let meta = match backend.metadata(path).await? {
        Some(m) if !m.is_directory => m,
        _ => return Err(file_not_found()),
    };
    let total = meta.size;
    let (status, start, end) = match parse_range(req.header("range"), total) {
        Range::Whole => (StatusCode::OK, 0, total),
        Range::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        Range::Unsatisfiable => {
            let mut response = error_response(
                ApiError::invalid_parameter(format!(
                    "The range is not satisfiable: the file has {total} bytes."
                ))
                .with_status(416),
            );
            insert(
                &mut response,
                header::CONTENT_RANGE,
                format!("bytes */{total}"),
            );
            return Ok(response);
        }
    };
    let body = if req.method == "HEAD" {
        Vec::new()
    } else {
        backend.read(path, start..end).await?
    };
    let mut response = (status, body).into_response();
    let content_type = HeaderValue::from_static("application/octet-stream");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    insert(
        &mut response,
        header::CONTENT_LENGTH,
        (end - start).to_string(),
    );
    insert(
        &mut response,
        header::LAST_MODIFIED,
        http_date(meta.modified_ms),
    );
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_string());
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {start}-{}/{total}", end - 1);
        insert(&mut response, header::CONTENT_RANGE, range);
    }
    Ok(response)
}

fn insert(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}

/// `overwrite`: unset (or empty) overwrites, as the reference says.
fn overwrite(req: &ApiRequest) -> Result<bool, ApiError> {
    match req.query("overwrite") {
        None | Some("") => Ok(true),
        Some(_) => req.flag("overwrite"),
    }
}

/// The volume exists, and no file stands where `path` needs a directory (its parents
/// inside the volume, and `path` itself when `path_too`).
async fn check_directories(
    backend: &dyn VolumeFiles,
    path: &str,
    path_too: bool,
) -> Result<(), ApiError> {
    let root = volume_root(path);
    match backend.metadata(&root).await? {
        Some(m) if m.is_directory => {}
        _ => return Err(volume_not_found(path)),
    }
    let rest: Vec<&str> = path[root.len()..]
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let count = if path_too {
        rest.len()
    } else {
        rest.len().saturating_sub(1)
    };
    match file_in_the_way(backend, root, rest.into_iter().take(count)).await? {
        Some(file) => Err(already_exists(format!(
            "A file exists at {file}: it cannot be a directory."
        ))),
        None => Ok(()),
    }
}

/// The first of the directories `prefix/part1`, `prefix/part1/part2`, … that is a file,
/// if one is: looked at in order, stopping at the first that does not exist (nothing
/// below it does).
pub(crate) async fn file_in_the_way(
    backend: &dyn VolumeFiles,
    mut prefix: String,
    parts: impl Iterator<Item = &str>,
) -> Result<Option<String>, ApiError> {
    for part in parts {
        prefix.push('/');
        prefix.push_str(part);
        match backend.metadata(&prefix).await? {
            Some(m) if !m.is_directory => return Ok(Some(prefix)),
            None => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// PUT a file: raw bytes; missing parent directories are created.
async fn upload(
    backend: &dyn VolumeFiles,
    req: &ApiRequest,
    path: &str,
) -> Result<Response, ApiError> {
    let overwrite = overwrite(req)?;
    check_directories(backend, path, false).await?;
    match backend.metadata(path).await? {
        Some(m) if m.is_directory => {
            return Err(already_exists(format!("A directory exists at {path}.")));
        }
        Some(_) if !overwrite => {
            return Err(already_exists("The file being created already exists."));
        }
        _ => {}
    }
    backend.write(path, &req.raw_body).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

async fn delete_file(backend: &dyn VolumeFiles, path: &str) -> Result<Response, ApiError> {
    match backend.metadata(path).await? {
        Some(m) if !m.is_directory => {}
        _ => return Err(file_not_found()),
    }
    backend.delete_file(path).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

// ---------------------------------------------------------------------------------------
// Directories

/// A directory's entries sorted by name, so that pages follow one order.
async fn sorted_entries(backend: &dyn VolumeFiles, path: &str) -> Result<Vec<FileEntry>, ApiError> {
    let mut entries = backend.entries(path).await?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

fn child_path(dir: &str, name: &str) -> String {
    match dir {
        "/" => format!("/{name}"),
        _ => format!("{dir}/{name}"),
    }
}

/// GET a directory: `page_size` (unset or 0 ⇒ 1000, above 1000 coerced to 1000) entries
/// after the token's cursor, the path of the last entry sent, so a listing that changes
/// between pages neither repeats nor skips an entry that stayed.
async fn list_directory(
    backend: &dyn VolumeFiles,
    req: &ApiRequest,
    path: &str,
) -> Result<Response, ApiError> {
    let size = match req.integer("page_size")? {
        None | Some(0) => MAX_PAGE_SIZE,
        Some(n) if n < 0 => {
            return Err(ApiError::invalid_parameter(format!(
                "page_size must not be negative, got {n}."
            )));
        }
        Some(n) => usize::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)),
    };
    let after = match decode_cursor("contents", req.query("page_token"))? {
        None => None,
        Some(last) => match last.strip_prefix(path).and_then(|r| r.strip_prefix('/')) {
            Some(name) if !name.is_empty() && !name.contains('/') => Some(name.to_string()),
            _ => {
                return Err(ApiError::invalid_parameter(
                    "The page token belongs to another directory listing.",
                ));
            }
        },
    };
    match backend.metadata(path).await? {
        Some(m) if m.is_directory => {}
        _ => return Err(directory_not_found()),
    }
    let entries = sorted_entries(backend, path).await?;
    let remaining: Vec<FileEntry> = entries
        .into_iter()
        .filter(|e| after.as_deref().is_none_or(|a| e.name.as_str() > a))
        .collect();
    let more = remaining.len() > size;
    let contents: Vec<DirectoryEntry> = remaining
        .into_iter()
        .take(size)
        .map(|e| directory_entry(path, e))
        .collect();
    let next_page_token = match contents.last() {
        Some(last) if more => Some(encode_cursor("contents", &last.path)),
        _ => None,
    };
    Ok(json_response(
        200,
        &DirectoryListing {
            contents,
            next_page_token,
        },
    ))
}

/// An entry as the listing shows it: size and modification time for files only.
fn directory_entry(dir: &str, entry: FileEntry) -> DirectoryEntry {
    let FileMetadata {
        is_directory,
        size,
        modified_ms,
    } = entry.metadata;
    DirectoryEntry {
        path: child_path(dir, &entry.name),
        name: entry.name,
        is_directory,
        file_size: (!is_directory).then(|| i64::try_from(size).unwrap_or(i64::MAX)),
        last_modified: (!is_directory).then_some(modified_ms),
    }
}

/// PUT a directory: creates it and its parents; a no-op when it exists.
async fn create_directory(backend: &dyn VolumeFiles, path: &str) -> Result<Response, ApiError> {
    check_directories(backend, path, true).await?;
    if !backend
        .metadata(path)
        .await?
        .is_some_and(|m| m.is_directory)
    {
        backend.mkdirs(path).await?;
    }
    Ok(no_content(StatusCode::NO_CONTENT))
}

/// DELETE a directory: only an empty one, never the volume itself.
async fn delete_directory(backend: &dyn VolumeFiles, path: &str) -> Result<Response, ApiError> {
    match backend.metadata(path).await? {
        Some(m) if m.is_directory => {}
        _ => return Err(directory_not_found()),
    }
    if path == volume_root(path) {
        return Err(ApiError::invalid_parameter(format!(
            "{path} is a volume: a volume cannot be deleted through the Files API."
        )));
    }
    if !backend.entries(path).await?.is_empty() {
        return Err(
            ApiError::invalid_parameter("The directory being deleted is not empty.")
                .with_reason("FILES_API_DIRECTORY_IS_NOT_EMPTY"),
        );
    }
    backend.delete_directory(path).await?;
    Ok(no_content(StatusCode::NO_CONTENT))
}

// ---------------------------------------------------------------------------------------
// DBFS

async fn dbfs_metadata(backend: &dyn VolumeFiles, path: &str) -> Result<FileMetadata, ApiError> {
    backend
        .metadata(path)
        .await?
        .ok_or_else(|| dbfs_not_found(path))
}

fn file_info(path: &str, meta: FileMetadata) -> FileInfo {
    FileInfo {
        path: path.to_string(),
        is_dir: meta.is_directory,
        file_size: if meta.is_directory {
            0
        } else {
            i64::try_from(meta.size).unwrap_or(i64::MAX)
        },
        modification_time: meta.modified_ms,
    }
}

/// `list`: a directory's entries (`files` absent when there are none), or the file itself.
async fn dbfs_list(backend: &dyn VolumeFiles, req: &ApiRequest) -> Result<Response, ApiError> {
    let path = dbfs_path(&req.required_param("path")?)?;
    let meta = dbfs_metadata(backend, &path).await?;
    let files = if meta.is_directory {
        sorted_entries(backend, &path)
            .await?
            .into_iter()
            .map(|e| file_info(&child_path(&path, &e.name), e.metadata))
            .collect()
    } else {
        vec![file_info(&path, meta)]
    };
    Ok(json_response(200, &ListStatusResponse { files }))
}

/// `read`: `length` bytes (default 0.5 MB, at most 1 MB) from `offset`, base64; past the
/// end, none.
async fn dbfs_read(backend: &dyn VolumeFiles, req: &ApiRequest) -> Result<Response, ApiError> {
    let path = dbfs_path(&req.required_param("path")?)?;
    let offset = req.integer_param("offset")?.unwrap_or(0);
    let length = req.integer_param("length")?.unwrap_or(DBFS_DEFAULT_READ);
    if offset < 0 || length < 0 {
        return Err(ApiError::invalid_parameter(
            "offset and length must not be negative.",
        ));
    }
    if length > DBFS_MAX_READ {
        return Err(ApiError::new(
            ErrorCode::MaxReadSizeExceeded,
            format!("length {length} is over the limit of {DBFS_MAX_READ} bytes."),
        ));
    }
    let meta = dbfs_metadata(backend, &path).await?;
    if meta.is_directory {
        return Err(ApiError::invalid_parameter(format!(
            "{path} is a directory: only files can be read."
        )));
    }
    // Both are non-negative here.
    let start = offset.unsigned_abs().min(meta.size);
    let end = start.saturating_add(length.unsigned_abs()).min(meta.size);
    let bytes = if start < end {
        backend.read(&path, start..end).await?
    } else {
        Vec::new()
    };
    Ok(json_response(
        200,
        &ReadResponse {
            bytes_read: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Dates

/// An RFC 7231 IMF-fixdate (`Fri, 01 Mar 2024 02:00:00 GMT`) of epoch milliseconds.
pub(crate) fn http_date(ms: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = ms.div_euclid(86_400_000);
    let seconds = ms.rem_euclid(86_400_000) / 1000;
    let (year, month, day) = civil_from_days(days);
    let weekday = usize::try_from(days.rem_euclid(7)).unwrap_or(0);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS.get(weekday).copied().unwrap_or("Thu"),
        MONTHS
            .get(month.saturating_sub(1))
            .copied()
            .unwrap_or("Jan"),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// (year, month 1–12, day) of a day counted from 1970-01-01 (the proleptic Gregorian
/// calendar, by eras of 400 years).
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month).unwrap_or(1), day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 10), Range::Whole);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Range::Part(0, 3));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Range::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-2"), 10), Range::Part(8, 9));
        assert_eq!(parse_range(Some("bytes=-20"), 10), Range::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=9-20"), 10), Range::Part(9, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Range::Whole);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Range::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 10), Range::Whole);
    }

    #[test]
    fn paths_are_normalized_or_refused() {
        assert_eq!(
            volume_path(&["Volumes", "c", "s", "v", "", "a b", ""]),
            Ok("/Volumes/c/s/v/a b".to_string())
        );
        assert_eq!(
            volume_path(&["Volumes", "c", "s", "v", "a/b"]),
            Ok("/Volumes/c/s/v/a/b".to_string())
        );
        for bad in [
            &["Volumes", "c", "s"][..],
            &["tmp", "a", "b", "c"],
            &["Volumes", "c", "s", "v", "a/../b"],
            &["Volumes", "c", "s", ".."],
        ] {
            assert_eq!(volume_path(bad).map_err(|e| e.status), Err(400), "{bad:?}");
        }
        assert_eq!(dbfs_path("dbfs:/tmp/"), Ok("/tmp".to_string()));
        assert_eq!(dbfs_path("/"), Ok("/".to_string()));
        assert!(dbfs_path("tmp").is_err());
    }

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(1_709_258_405_123),
            "Fri, 01 Mar 2024 02:00:05 GMT"
        );
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
