//! The DBFS writes (REFERENCE.md §8.2): `put`, `mkdirs`, `delete`, `move`, and the
//! streaming upload `create` → `add-block` … → `close`. Bodies are JSON, contents base64.
//!
//! Decided where the reference is silent (following the service's API documentation):
//! - `overwrite` is false unless set, for `put` and `create`; a file or directory in the
//!   way is 409 `RESOURCE_ALREADY_EXISTS`, as is a file where a parent directory must be.
//!   Missing parent directories are made.
//! - `put`'s `contents` and each `add-block`'s `data` carry at most 1 MB decoded; more is
//!   400 `MAX_BLOCK_SIZE_EXCEEDED`. An absent `contents` is an empty file (clients omit an
//!   empty string). The multipart form upload is not served: 501 `NOT_IMPLEMENTED`.
//! - `delete` of a path where nothing is answers 200, as the service does; a non-empty
//!   directory without `recursive` is 400 `IO_ERROR`, as the service documents.
//! - `move` needs the source (404 `RESOURCE_DOES_NOT_EXIST`) and no destination (409
//!   `RESOURCE_ALREADY_EXISTS`); a directory moves with its content, never into itself.
//! - A streamed file appears at `close`, whole; until then nothing is at its path.
//!   `create` checks `overwrite` and `close` checks it again. A handle names a stream of
//!   the workspace that opened it; an unknown, closed or expired one is 404
//!   `RESOURCE_DOES_NOT_EXIST`. See [`Streams`] for the bounds.
//! - Paths under `/Volumes` must be inside a volume that exists (a volume itself is made
//!   and removed through Unity Catalog, not DBFS); the root is never written.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::response::Response;
use base64::Engine as _;
use databricks_api::backend::VolumeFiles;
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::files::{
    AddBlockRequest, CloseRequest, CreateRequest, CreateResponse, DBFS_MAX_BLOCK, DbfsEmpty,
    DeleteRequest, MkDirsRequest, MoveRequest, PutRequest,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{child_path, dbfs_not_found, dbfs_path, file_in_the_way};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// Answers `POST /api/2.0/dbfs/{endpoint}` for a write endpoint.
pub(super) async fn route(
    backend: &dyn VolumeFiles,
    streams: &Streams,
    req: &ApiRequest,
    endpoint: &str,
) -> Result<Response, ApiError> {
    match endpoint {
        "put" => put(backend, body(req)?).await,
        "mkdirs" => mkdirs(backend, body(req)?).await,
        "delete" => delete(backend, body(req)?).await,
        "move" => move_path(backend, body(req)?).await,
        "create" => create(backend, streams, body(req)?).await,
        "add-block" => add_block(streams, body(req)?),
        "close" => close(backend, streams, body(req)?).await,
        _ => Err(endpoint_not_found(req)),
    }
}

fn empty() -> Response {
    json_response(200, &DbfsEmpty {})
}

/// The request body as the endpoint's model: a JSON object (an empty body is an empty
/// object); a multipart form is refused plainly rather than misread.
fn body<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
    let multipart = req.header("content-type").is_some_and(|v| {
        v.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    });
    if multipart {
        return Err(ApiError::new(
            ErrorCode::NotImplemented,
            "Multipart form uploads are not served by this workspace: send a JSON body with \
             base64 `contents` (at most 1 MB) to dbfs/put, or stream larger files with \
             dbfs/create, dbfs/add-block and dbfs/close.",
        ));
    }
    let value = match &req.body {
        Some(v @ Value::Object(_)) => v.clone(),
        None if req.raw_body.iter().all(u8::is_ascii_whitespace) => {
            Value::Object(serde_json::Map::new())
        }
        _ => {
            return Err(ApiError::invalid_parameter(
                "The request body must be a JSON object.",
            ));
        }
    };
    serde_json::from_value(value)
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid request body: {e}.")))
}

/// A required path field, normalized.
fn required_path(name: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_parameter(name));
    }
    dbfs_path(value)
}

/// Base64 `value` decoded, at most [`DBFS_MAX_BLOCK`] bytes.
fn block(name: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|e| ApiError::invalid_parameter(format!("{name} is not valid base64: {e}.")))?;
    if bytes.len() > DBFS_MAX_BLOCK {
        return Err(ApiError::new(
            ErrorCode::MaxBlockSizeExceeded,
            format!(
                "{name} holds {} bytes: the limit is {DBFS_MAX_BLOCK} bytes. Stream larger files with dbfs/create, dbfs/add-block and dbfs/close.",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------
// Paths a write may touch

/// What a write does at a path: whether a volume itself may be named (only `mkdirs`,
/// which then has nothing to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    VolumeAllowed,
    InsideVolume,
}

/// The volume root of a path under `/Volumes`, `None` for another DBFS path; refuses the
/// root, `/Volumes` paths outside a volume, and (unless allowed) a volume itself.
fn check_shape(path: &str, target: Target) -> Result<Option<String>, ApiError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => Err(ApiError::invalid_parameter(
            "The DBFS root cannot be written, deleted or moved.",
        )),
        ["Volumes", catalog, schema, volume, rest @ ..] => {
            if rest.is_empty() && target == Target::InsideVolume {
                return Err(ApiError::invalid_parameter(format!(
                    "{path} is a volume: volumes are created and removed through Unity Catalog, not DBFS."
                )));
            }
            Ok(Some(format!("/Volumes/{catalog}/{schema}/{volume}")))
        }
        ["Volumes", ..] => Err(ApiError::invalid_parameter(format!(
            "{path} is not inside a volume: expected /Volumes/<catalog>/<schema>/<volume>/..."
        ))),
        _ => Ok(None),
    }
}

/// The shape checked, the volume (if any) existing, and no file where `path`'s parent
/// directories (and `path` itself when `inclusive`) must be.
async fn check_target(
    backend: &dyn VolumeFiles,
    path: &str,
    target: Target,
    inclusive: bool,
) -> Result<(), ApiError> {
    let volume = check_shape(path, target)?;
    if let Some(root) = &volume
        && !backend
            .metadata(root)
            .await?
            .is_some_and(|m| m.is_directory)
    {
        return Err(ApiError::new(
            ErrorCode::ResourceDoesNotExist,
            format!("The volume {root} does not exist."),
        ));
    }
    // Directories above a volume are the catalog's, not the tree's: start inside it.
    let skip = if volume.is_some() { 4 } else { 0 };
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let count = if inclusive {
        parts.len()
    } else {
        parts.len().saturating_sub(1)
    };
    let below = parts.into_iter().take(count).skip(skip);
    match file_in_the_way(backend, volume.unwrap_or_default(), below).await? {
        Some(file) => Err(already_exists(format!(
            "A file exists at {file}: it cannot be a directory."
        ))),
        None => Ok(()),
    }
}

fn already_exists(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ResourceAlreadyExists, message)
}

/// Nothing may be at `path` unless it is a file and `overwrite` is set.
async fn check_overwrite(
    backend: &dyn VolumeFiles,
    path: &str,
    overwrite: bool,
) -> Result<(), ApiError> {
    match backend.metadata(path).await? {
        Some(m) if m.is_directory => Err(already_exists(format!(
            "A directory already exists at the input path dbfs:{path}."
        ))),
        Some(_) if !overwrite => Err(already_exists(format!(
            "A file already exists at the input path dbfs:{path}: set overwrite to replace it."
        ))),
        _ => Ok(()),
    }
}

/// The parent directory of a normalized path that is not the root.
fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((parent, _)) => parent,
    }
}

// ---------------------------------------------------------------------------------------
// put, mkdirs, delete, move

async fn put(backend: &dyn VolumeFiles, request: PutRequest) -> Result<Response, ApiError> {
    let path = required_path("path", &request.path)?;
    let contents = block("contents", request.contents.as_deref().unwrap_or_default())?;
    check_target(backend, &path, Target::InsideVolume, false).await?;
    check_overwrite(backend, &path, request.overwrite).await?;
    backend.write(&path, &contents).await?;
    Ok(empty())
}

/// The directory and its missing parents; nothing to do when it exists.
async fn mkdirs(backend: &dyn VolumeFiles, request: MkDirsRequest) -> Result<Response, ApiError> {
    let path = required_path("path", &request.path)?;
    check_target(backend, &path, Target::VolumeAllowed, true).await?;
    if !backend
        .metadata(&path)
        .await?
        .is_some_and(|m| m.is_directory)
    {
        backend.mkdirs(&path).await?;
    }
    Ok(empty())
}

/// Deleting a path where nothing is succeeds: the reference is silent, and the service
/// answers 200 (a delete that is retried after it went through does not fail).
async fn delete(backend: &dyn VolumeFiles, request: DeleteRequest) -> Result<Response, ApiError> {
    let path = required_path("path", &request.path)?;
    check_shape(&path, Target::InsideVolume)?;
    let Some(meta) = backend.metadata(&path).await? else {
        return Ok(empty());
    };
    if !meta.is_directory {
        backend.delete_file(&path).await?;
        return Ok(empty());
    }
    if !request.recursive && !backend.entries(&path).await?.is_empty() {
        return Err(ApiError::new(
            ErrorCode::IoError,
            format!(
                "{path} is a non-empty directory: set recursive to delete it with its content."
            ),
        ));
    }
    delete_tree(backend, &path).await?;
    Ok(empty())
}

/// Deletes directory `root` with all it holds: files as they are found, then the
/// directories deepest first.
async fn delete_tree(backend: &dyn VolumeFiles, root: &str) -> Result<(), ApiError> {
    let mut directories = vec![root.to_string()];
    let mut next = 0;
    while let Some(dir) = directories.get(next).cloned() {
        for entry in backend.entries(&dir).await? {
            let path = child_path(&dir, &entry.name);
            if entry.metadata.is_directory {
                directories.push(path);
            } else {
                backend.delete_file(&path).await?;
            }
        }
        next += 1;
    }
    for dir in directories.iter().rev() {
        backend.delete_directory(dir).await?;
    }
    Ok(())
}

async fn move_path(backend: &dyn VolumeFiles, request: MoveRequest) -> Result<Response, ApiError> {
    let source = required_path("source_path", &request.source_path)?;
    let destination = required_path("destination_path", &request.destination_path)?;
    check_shape(&source, Target::InsideVolume)?;
    check_shape(&destination, Target::InsideVolume)?;
    if backend.metadata(&source).await?.is_none() {
        return Err(dbfs_not_found(&source));
    }
    if destination
        .strip_prefix(&source)
        .is_some_and(|rest| rest.starts_with('/'))
    {
        return Err(ApiError::invalid_parameter(format!(
            "{source} cannot be moved into itself ({destination})."
        )));
    }
    check_target(backend, &destination, Target::InsideVolume, false).await?;
    if backend.metadata(&destination).await?.is_some() {
        return Err(already_exists(format!(
            "A file or directory already exists at the input path dbfs:{destination}."
        )));
    }
    let parent = parent(&destination);
    if parent != "/"
        && !backend
            .metadata(parent)
            .await?
            .is_some_and(|m| m.is_directory)
    {
        backend.mkdirs(parent).await?;
    }
    backend.rename(&source, &destination).await?;
    Ok(empty())
}

// ---------------------------------------------------------------------------------------
// Streaming upload

async fn create(
    backend: &dyn VolumeFiles,
    streams: &Streams,
    request: CreateRequest,
) -> Result<Response, ApiError> {
    let path = required_path("path", &request.path)?;
    check_target(backend, &path, Target::InsideVolume, false).await?;
    check_overwrite(backend, &path, request.overwrite).await?;
    let handle = streams
        .lock()
        .open(path, request.overwrite, Instant::now())?;
    Ok(json_response(200, &CreateResponse { handle }))
}

fn add_block(streams: &Streams, request: AddBlockRequest) -> Result<Response, ApiError> {
    let data = block("data", &request.data)?;
    streams
        .lock()
        .append(request.handle, &data, Instant::now())?;
    Ok(empty())
}

/// Closes the stream and writes its file; the handle is gone even when the write fails.
async fn close(
    backend: &dyn VolumeFiles,
    streams: &Streams,
    request: CloseRequest,
) -> Result<Response, ApiError> {
    let stream = streams.lock().close(request.handle, Instant::now())?;
    check_target(backend, &stream.path, Target::InsideVolume, false).await?;
    check_overwrite(backend, &stream.path, stream.overwrite).await?;
    backend.write(&stream.path, &stream.data).await?;
    Ok(empty())
}

/// Streams a workspace may have open at once.
const MAX_OPEN_STREAMS: usize = 32;
/// A stream not used for this long is dropped, as the service drops its handles.
const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// The most bytes one stream buffers before `close` (the largest body the front reads).
const MAX_STREAM_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug)]
struct Stream {
    path: String,
    overwrite: bool,
    data: Vec<u8>,
    touched: Instant,
}

/// A workspace's open streaming uploads (`create` … `close`): at most
/// [`MAX_OPEN_STREAMS`], each buffering at most [`MAX_STREAM_BYTES`], dropped after
/// [`STREAM_IDLE_TIMEOUT`] unused. Handles are positive, never reused.
#[derive(Debug, Default)]
pub(crate) struct Streams(Mutex<OpenStreams>);

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, OpenStreams> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct OpenStreams {
    last: i64,
    open: BTreeMap<i64, Stream>,
}

impl OpenStreams {
    fn sweep(&mut self, now: Instant) {
        self.open
            .retain(|_, s| now.saturating_duration_since(s.touched) < STREAM_IDLE_TIMEOUT);
    }

    fn open(&mut self, path: String, overwrite: bool, now: Instant) -> Result<i64, ApiError> {
        self.sweep(now);
        let count = self.open.len();
        if count >= MAX_OPEN_STREAMS {
            return Err(ApiError::new(
                ErrorCode::RequestLimitExceeded,
                format!(
                    "{count} streams are open: close one (dbfs/close) before creating another; a stream unused for {} minutes is dropped.",
                    STREAM_IDLE_TIMEOUT.as_secs() / 60
                ),
            ));
        }
        self.last = self.last.saturating_add(1);
        let stream = Stream {
            path,
            overwrite,
            data: Vec::new(),
            touched: now,
        };
        self.open.insert(self.last, stream);
        Ok(self.last)
    }

    fn append(&mut self, handle: i64, data: &[u8], now: Instant) -> Result<(), ApiError> {
        self.sweep(now);
        let stream = self
            .open
            .get_mut(&handle)
            .ok_or_else(|| unknown_handle(handle))?;
        if stream.data.len().saturating_add(data.len()) > MAX_STREAM_BYTES {
            return Err(ApiError::invalid_parameter(format!(
                "The stream of handle {handle} would hold more than {MAX_STREAM_BYTES} bytes, the most this workspace buffers for one file."
            )));
        }
        stream.data.extend_from_slice(data);
        stream.touched = now;
        Ok(())
    }

    fn close(&mut self, handle: i64, now: Instant) -> Result<Stream, ApiError> {
        self.sweep(now);
        self.open
            .remove(&handle)
            .ok_or_else(|| unknown_handle(handle))
    }
}

fn unknown_handle(handle: i64) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceDoesNotExist,
        format!("No open stream has handle {handle}: it was never created, is closed, or expired."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<impl Sized, ApiError>) -> String {
        match result {
            Ok(_) => "OK".to_string(),
            Err(e) => format!("{} {}", e.status, e.code()),
        }
    }

    #[test]
    fn streams_collect_blocks_until_closed() {
        let mut streams = OpenStreams::default();
        let now = Instant::now();
        let handle = streams.open("/x".into(), true, now).expect("open");
        assert!(handle > 0);
        streams.append(handle, b"ab", now).expect("append");
        streams.append(handle, b"c", now).expect("append");
        let closed = streams.close(handle, now).expect("close");
        assert_eq!(
            (closed.path.as_str(), closed.data.as_slice()),
            ("/x", &b"abc"[..])
        );
        assert!(closed.overwrite);
        // Closed is gone; handles are not reused.
        assert_eq!(
            code(streams.close(handle, now)),
            "404 RESOURCE_DOES_NOT_EXIST"
        );
        let again = streams.open("/x".into(), false, now).expect("open");
        assert_ne!(again, handle);
    }

    #[test]
    fn idle_streams_expire_and_use_keeps_them() {
        let mut streams = OpenStreams::default();
        let start = Instant::now();
        let kept = streams.open("/kept".into(), false, start).expect("open");
        let idle = streams.open("/idle".into(), false, start).expect("open");
        let later = start + STREAM_IDLE_TIMEOUT - Duration::from_secs(1);
        streams.append(kept, b"x", later).expect("still open");
        let expired = start + STREAM_IDLE_TIMEOUT;
        assert_eq!(
            code(streams.append(idle, b"x", expired)),
            "404 RESOURCE_DOES_NOT_EXIST"
        );
        assert_eq!(code(streams.close(kept, expired)), "OK");
    }

    #[test]
    fn open_streams_and_their_bytes_are_bounded() {
        let mut streams = OpenStreams::default();
        let now = Instant::now();
        let handles: Vec<i64> = (0..MAX_OPEN_STREAMS)
            .map(|i| streams.open(format!("/{i}"), false, now).expect("open"))
            .collect();
        assert_eq!(
            code(streams.open("/more".into(), false, now)),
            "429 REQUEST_LIMIT_EXCEEDED"
        );
        // Closing one frees a place.
        let first = *handles.first().expect("a handle");
        assert_eq!(code(streams.close(first, now)), "OK");
        let handle = streams.open("/more".into(), false, now).expect("open");
        let big = vec![0_u8; MAX_STREAM_BYTES];
        streams.append(handle, &big, now).expect("at the limit");
        assert_eq!(
            code(streams.append(handle, b"x", now)),
            "400 INVALID_PARAMETER_VALUE"
        );
    }

    #[test]
    fn write_paths_are_checked() {
        use Target::{InsideVolume, VolumeAllowed};
        assert_eq!(check_shape("/tmp/a", InsideVolume), Ok(None));
        assert_eq!(
            check_shape("/Volumes/c/s/v/a", InsideVolume),
            Ok(Some("/Volumes/c/s/v".to_string()))
        );
        assert_eq!(
            check_shape("/Volumes/c/s/v", VolumeAllowed),
            Ok(Some("/Volumes/c/s/v".to_string()))
        );
        for (path, target) in [
            ("/", VolumeAllowed),
            ("/Volumes", VolumeAllowed),
            ("/Volumes/c/s", VolumeAllowed),
            ("/Volumes/c/s/v", InsideVolume),
        ] {
            assert_eq!(
                code(check_shape(path, target)),
                "400 INVALID_PARAMETER_VALUE",
                "{path}"
            );
        }
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/c"), "/a/b");
    }

    #[test]
    fn blocks_are_base64_of_at_most_a_megabyte() {
        let engine = base64::engine::general_purpose::STANDARD;
        assert_eq!(block("data", "aGk="), Ok(b"hi".to_vec()));
        assert_eq!(block("data", ""), Ok(Vec::new()));
        assert_eq!(
            code(block("data", "not base64!")),
            "400 INVALID_PARAMETER_VALUE"
        );
        let full = engine.encode(vec![7_u8; DBFS_MAX_BLOCK]);
        assert_eq!(block("data", &full).map(|b| b.len()), Ok(DBFS_MAX_BLOCK));
        let over = engine.encode(vec![7_u8; DBFS_MAX_BLOCK + 1]);
        assert_eq!(code(block("data", &over)), "400 MAX_BLOCK_SIZE_EXCEEDED");
    }
}
