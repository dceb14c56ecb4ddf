//! Files API 2.0 over Unity Catalog volumes — REFERENCE §8.1. An in-memory file system:
//! every volume `/Volumes/<catalog>/<schema>/<volume>` exists (unless a component starts
//! with `missing`); `landing` is seeded from the fixture.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{R, Req, bad_param, decode_token, encode_token, error, http_date, lock, ok, set};

enum Node {
    Dir,
    File { bytes: Vec<u8>, modified: i64 },
}

pub(crate) struct Fs {
    nodes: BTreeMap<String, Node>,
}

fn orders_csv() -> Vec<u8> {
    let mut out = String::from("order_id,customer,amount,order_date\n");
    for i in 0..2000_u32 {
        out.push_str(&format!(
            "{},{},{}.{:02},2024-02-{:02}\n",
            1000 + i,
            ["alice", "bob", "carol", "dave"][i as usize % 4],
            10 + i % 500,
            i % 100,
            1 + i % 28
        ));
    }
    out.into_bytes()
}

impl Fs {
    pub fn new() -> Fs {
        let mut nodes = BTreeMap::new();
        for e in crate::util::items(&fixture_json("fs_directories_list.json"), "contents") {
            let path = e
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let modified = e
                .get("last_modified")
                .and_then(Value::as_i64)
                .unwrap_or(1_709_258_400_000);
            if e.get("is_directory").and_then(Value::as_bool) == Some(true) {
                nodes.insert(
                    format!("{path}/part-00000.csv"),
                    Node::File {
                        bytes: b"order_id,customer,amount,order_date\n1,alice,10.00,2024-03-01\n"
                            .to_vec(),
                        modified,
                    },
                );
                nodes.insert(path, Node::Dir);
            } else {
                nodes.insert(
                    path,
                    Node::File {
                        bytes: orders_csv(),
                        modified,
                    },
                );
            }
        }
        Fs { nodes }
    }

    fn is_dir(&self, path: &str) -> bool {
        volume_root(path).as_deref() == Some(path)
            || matches!(self.nodes.get(path), Some(Node::Dir))
    }
}

/// `/Volumes/c/s/v` of a path inside an existing volume.
fn volume_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 4
        || parts[0] != "Volumes"
        || parts[1..4].iter().any(|p| p.starts_with("missing"))
    {
        return None;
    }
    Some(format!("/Volumes/{}/{}/{}", parts[1], parts[2], parts[3]))
}

fn not_found(what: &str, path: &str) -> Response {
    error(
        404,
        "NOT_FOUND",
        format!("The {what} being accessed is not found: {path}"),
    )
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The absolute path below the 4 leading segments (`api/2.0/fs/files`).
fn target(req: &Req) -> Result<String, Response> {
    let p = req.tail_path(4);
    let p = if p.len() > 1 {
        p.trim_end_matches('/').to_string()
    } else {
        p
    };
    if volume_root(&p).is_none() {
        if !p.starts_with("/Volumes/") {
            return Err(bad_param(format!(
                "Path {p} is not a valid Unity Catalog volume path (/Volumes/<catalog>/<schema>/<volume>/...)."
            )));
        }
        return Err(not_found("volume", &p));
    }
    Ok(p)
}

/// Creates the directories between the volume root and `path` (exclusive).
fn make_parents(fs: &mut Fs, path: &str) -> Result<(), Response> {
    let root = volume_root(path).unwrap_or_default();
    let mut cur = root.clone();
    let rest = path.strip_prefix(&root).unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        cur = format!("{cur}/{part}");
        match fs.nodes.get(&cur) {
            Some(Node::File { .. }) => {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!("A file exists at {cur}; cannot create a directory there."),
                ));
            }
            Some(Node::Dir) => {}
            None => {
                fs.nodes.insert(cur.clone(), Node::Dir);
            }
        }
    }
    Ok(())
}

/// /api/2.0/fs/files{path}
pub(crate) fn files(st: &Shared, req: &Req, m: &str) -> R {
    let path = target(req)?;
    let now = crate::util::now_ms();
    let mut fs = lock(&st.files);
    match m {
        "GET" | "HEAD" => {
            let Some(Node::File { bytes, modified }) = fs.nodes.get(&path) else {
                return Err(not_found("file", &path));
            };
            let total = bytes.len();
            let (status, range) = match req.header("range").and_then(|r| parse_range(r, total)) {
                Some(Ok((a, b))) => (206, Some((a, b))),
                Some(Err(())) => {
                    return Ok((
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        [(header::CONTENT_RANGE, format!("bytes */{total}"))],
                    )
                        .into_response());
                }
                None => (200, None),
            };
            let body = match range {
                Some((a, b)) => bytes[a..=b].to_vec(),
                None => bytes.clone(),
            };
            let mut resp =
                (crate::util::status_code(status), Body::from(body.clone())).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            if let Ok(v) = HeaderValue::from_str(&http_date(*modified)) {
                h.insert(header::LAST_MODIFIED, v);
            }
            if let Some((a, b)) = range
                && let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{b}/{total}"))
            {
                h.insert(header::CONTENT_RANGE, v);
            }
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            Ok(resp)
        }
        "PUT" => {
            let overwrite = match req.q("overwrite") {
                None => true,
                Some(_) => req.q_bool("overwrite")?,
            };
            if fs.is_dir(&path) {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!("A directory exists at {path}."),
                ));
            }
            if fs.nodes.contains_key(&path) && !overwrite {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    "The file being created already exists.",
                ));
            }
            make_parents(&mut fs, &path)?;
            fs.nodes.insert(
                path,
                Node::File {
                    bytes: req.body.to_vec(),
                    modified: now,
                },
            );
            Ok(no_content())
        }
        "DELETE" => match fs.nodes.get(&path) {
            Some(Node::File { .. }) => {
                fs.nodes.remove(&path);
                Ok(no_content())
            }
            _ => Err(not_found("file", &path)),
        },
        _ => Err(crate::util::endpoint_not_found(&req.method, &req.raw_path)),
    }
}

/// `Range: bytes=a-b | a- | -n` → inclusive byte range, `Err` if unsatisfiable.
fn parse_range(h: &str, total: usize) -> Option<Result<(usize, usize), ()>> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            if n == 0 || total == 0 {
                return Some(Err(()));
            }
            (total.saturating_sub(n), total - 1)
        }
        (a, "") => (a.parse().ok()?, total.saturating_sub(1)),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<usize>().ok()?.min(total.saturating_sub(1)),
        ),
    };
    if r.0 >= total || r.0 > r.1 {
        return Some(Err(()));
    }
    Some(Ok(r))
}

/// /api/2.0/fs/directories{path}
pub(crate) fn directories(st: &Shared, req: &Req, m: &str) -> R {
    let path = target(req)?;
    let _now = crate::util::now_ms();
    let mut fs = lock(&st.files);
    match m {
        "GET" => {
            if !fs.is_dir(&path) {
                return Err(not_found("directory", &path));
            }
            let size = match req.q_i64("page_size")? {
                None | Some(0) => 1000,
                Some(n) if !(1..=1000).contains(&n) => {
                    return Err(bad_param(format!(
                        "page_size must be between 1 and 1000, got {n}"
                    )));
                }
                Some(n) => n as usize,
            };
            let offset = decode_token("contents", req.q("page_token"))?;
            let prefix = format!("{path}/");
            let all: Vec<Value> = fs
                .nodes
                .iter()
                .filter_map(|(p, n)| {
                    let name = p.strip_prefix(&prefix)?;
                    if name.contains('/') {
                        return None;
                    }
                    Some(match n {
                        Node::Dir => json!({"path": p, "name": name, "is_directory": true}),
                        Node::File { bytes, modified } => json!({
                            "path": p, "name": name, "is_directory": false,
                            "file_size": bytes.len(), "last_modified": modified,
                        }),
                    })
                })
                .collect();
            let (page, next) = crate::util::page(&all, offset, size);
            let mut out = json!({});
            if !page.is_empty() {
                set(&mut out, "contents", Value::Array(page));
            }
            if let Some(n) = next {
                set(
                    &mut out,
                    "next_page_token",
                    json!(encode_token("contents", n)),
                );
            }
            ok(out)
        }
        "HEAD" => {
            if fs.is_dir(&path) {
                Ok(StatusCode::OK.into_response())
            } else {
                Err(not_found("directory", &path))
            }
        }
        "PUT" => {
            if matches!(fs.nodes.get(&path), Some(Node::File { .. })) {
                return Err(error(
                    409,
                    "ALREADY_EXISTS",
                    format!("A file exists at {path}."),
                ));
            }
            make_parents(&mut fs, &path)?;
            if !fs.is_dir(&path) {
                fs.nodes.insert(path, Node::Dir);
            }
            Ok(no_content())
        }
        "DELETE" => {
            if !fs.is_dir(&path) {
                return Err(not_found("directory", &path));
            }
            let prefix = format!("{path}/");
            if fs.nodes.keys().any(|k| k.starts_with(&prefix)) {
                return Err(error(
                    400,
                    "DIRECTORY_NOT_EMPTY",
                    format!("The directory {path} is not empty."),
                ));
            }
            fs.nodes.remove(&path);
            Ok(no_content())
        }
        _ => Err(crate::util::endpoint_not_found(&req.method, &req.raw_path)),
    }
}
