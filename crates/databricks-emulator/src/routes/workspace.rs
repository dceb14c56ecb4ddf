//! Workspace API 2.0 — REFERENCE §7. A small in-memory tree (seeded from the fixture) that
//! import / mkdirs / delete modify. Paths may be given with or without the `/Workspace`
//! prefix.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::fixtures::fixture_json;
use crate::server::Shared;
use crate::util::{R, Req, bad_param, empty, error, items, lock, not_found, ok, set};

/// Largest notebook/file content accepted or exported (10 MB).
const MAX_CONTENT: usize = 10 * 1024 * 1024;

struct Obj {
    info: Value,
    content: Vec<u8>,
}

pub(crate) struct Tree {
    objects: BTreeMap<String, Obj>,
    next_id: i64,
}

fn notebook_source(language: &str, body: &str) -> Vec<u8> {
    let (comment, _) = comment_for(language);
    format!("{comment} Databricks notebook source\n{body}\n").into_bytes()
}

fn comment_for(language: &str) -> (&'static str, &'static str) {
    match language {
        "SQL" => ("--", "sql"),
        "SCALA" => ("//", "scala"),
        "R" => ("#", "r"),
        _ => ("#", "py"),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

impl Tree {
    pub fn new() -> Tree {
        let mut t = Tree {
            objects: BTreeMap::new(),
            next_id: 1_100_000_000_000_001,
        };
        let dir = |t: &mut Tree, path: &str| {
            let id = t.fresh_id();
            t.objects.insert(
                path.to_string(),
                Obj {
                    info: json!({"path": path, "object_type": "DIRECTORY", "object_id": id, "resource_id": id.to_string()}),
                    content: Vec::new(),
                },
            );
        };
        for d in [
            "/",
            "/Users",
            "/Shared",
            "/Users/alice@example.com",
            "/Users/alice@example.com/project",
            "/Users/bob@example.com",
        ] {
            dir(&mut t, d);
        }
        let notebook = |t: &mut Tree, path: &str, language: &str, body: &str| {
            let id = t.fresh_id();
            t.objects.insert(
                path.to_string(),
                Obj {
                    info: json!({
                        "path": path, "object_type": "NOTEBOOK", "language": language,
                        "object_id": id, "resource_id": id.to_string(),
                        "created_at": 1_700_000_000_000_i64, "modified_at": 1_709_000_000_000_i64,
                    }),
                    content: notebook_source(language, body),
                },
            );
        };
        notebook(
            &mut t,
            "/Users/alice@example.com/analysis",
            "PYTHON",
            "display(spark.table('main.sales.orders'))",
        );
        notebook(
            &mut t,
            "/Users/alice@example.com/queries",
            "SQL",
            "SELECT count(*) FROM main.sales.orders",
        );
        notebook(
            &mut t,
            "/Users/alice@example.com/project/report",
            "SQL",
            "SELECT region, sum(amount) FROM main.sales.orders GROUP BY region",
        );
        notebook(&mut t, "/Shared/onboarding", "SCALA", "println(\"hello\")");
        let readme = b"# Project\n\nMonthly sales report.\n".to_vec();
        let id = t.fresh_id();
        t.objects.insert(
            "/Users/alice@example.com/project/README.md".to_string(),
            Obj {
                info: json!({
                    "path": "/Users/alice@example.com/project/README.md", "object_type": "FILE",
                    "object_id": id, "resource_id": id.to_string(), "size": readme.len(),
                    "created_at": 1_700_000_000_000_i64, "modified_at": 1_709_000_000_000_i64,
                }),
                content: readme,
            },
        );
        // Bob's objects come from the fixtures (workspace_list.json, get_status, export).
        let export = fixture_json("workspace_export.json");
        let ingest = base64::engine::general_purpose::STANDARD
            .decode(s(&export, "content"))
            .unwrap_or_default();
        for o in items(&fixture_json("workspace_list.json"), "objects") {
            let path = s(&o, "path").to_string();
            let content = match s(&o, "object_type") {
                "NOTEBOOK" => ingest.clone(),
                "FILE" => {
                    let size = o.get("size").and_then(Value::as_u64).unwrap_or(0) as usize;
                    let mut sql = b"-- publish\nINSERT INTO main.sales.orders_published SELECT * FROM main.sales.orders;\n".to_vec();
                    sql.resize(size.max(sql.len()), b' ');
                    sql
                }
                _ => Vec::new(),
            };
            t.objects.insert(path, Obj { info: o, content });
        }
        t
    }

    fn fresh_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn is_dir(&self, path: &str) -> bool {
        self.objects
            .get(path)
            .is_some_and(|o| matches!(s(&o.info, "object_type"), "DIRECTORY" | "REPO"))
    }

    fn children(&self, path: &str) -> Vec<&Obj> {
        self.objects
            .iter()
            .filter(|(p, _)| p.as_str() != "/" && parent_of(p) == path)
            .map(|(_, o)| o)
            .collect()
    }
}

/// Normalises a request path: absolute, no trailing `/`, `/Workspace` prefix removed.
fn norm(path: &str) -> Result<String, Response> {
    if !path.starts_with('/') {
        return Err(bad_param(format!(
            "Path ({path}) must be an absolute path."
        )));
    }
    let p = path.trim_end_matches('/');
    let p = match p.strip_prefix("/Workspace") {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest,
        _ => p,
    };
    Ok(if p.is_empty() {
        "/".to_string()
    } else {
        p.to_string()
    })
}

fn missing(path: &str) -> Response {
    not_found(format!("Path ({path}) doesn't exist."))
}

pub(crate) fn route(st: &Shared, req: &Req, m: &str, rest: &[&str]) -> Option<R> {
    Some(match (m, rest) {
        ("GET", ["list"]) => list(st, req),
        ("GET", ["get-status"]) => get_status(st, req),
        ("GET", ["export"]) => export(st, req),
        ("POST", ["import"]) => import(st, req),
        ("POST", ["mkdirs"]) => mkdirs(st, req),
        ("POST", ["delete"]) => delete(st, req),
        _ => return None,
    })
}

fn list(st: &Shared, req: &Req) -> R {
    let raw = req.q_req("path")?;
    let path = norm(raw)?;
    let since = req.q_i64("notebooks_modified_after")?;
    let t = lock(&st.workspace);
    let obj = t.objects.get(&path).ok_or_else(|| missing(raw))?;
    if !t.is_dir(&path) {
        return ok(json!({ "objects": [obj.info] }));
    }
    let objects: Vec<Value> = t
        .children(&path)
        .into_iter()
        .filter(|o| {
            since.is_none_or(|ms| {
                s(&o.info, "object_type") != "NOTEBOOK"
                    || o.info
                        .get("modified_at")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                        > ms
            })
        })
        .map(|o| o.info.clone())
        .collect();
    if objects.is_empty() {
        return ok(json!({}));
    }
    ok(json!({ "objects": objects }))
}

fn get_status(st: &Shared, req: &Req) -> R {
    let raw = req.q_req("path")?;
    let path = norm(raw)?;
    let t = lock(&st.workspace);
    let obj = t.objects.get(&path).ok_or_else(|| missing(raw))?;
    ok(obj.info.clone())
}

/// An empty ZIP archive (end-of-central-directory record only): stands in for directory
/// and DBC exports.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn export(st: &Shared, req: &Req) -> R {
    let raw = req.q_req("path")?;
    let path = norm(raw)?;
    let format = req.q("format").unwrap_or("SOURCE");
    if !matches!(
        format,
        "SOURCE" | "HTML" | "JUPYTER" | "DBC" | "R_MARKDOWN" | "AUTO" | "RAW"
    ) {
        return Err(bad_param(format!("Invalid export format: {format}")));
    }
    let direct = req.q_bool("direct_download")?;
    let t = lock(&st.workspace);
    let obj = t.objects.get(&path).ok_or_else(|| missing(raw))?;
    let kind = s(&obj.info, "object_type");
    let (bytes, file_type): (Vec<u8>, String) = match kind {
        "DIRECTORY" | "REPO" => {
            if !matches!(format, "DBC" | "SOURCE" | "AUTO") {
                return Err(bad_param(format!(
                    "Export format {format} is not supported for directories; use DBC, SOURCE or AUTO."
                )));
            }
            (
                EMPTY_ZIP.to_vec(),
                if format == "DBC" { "dbc" } else { "zip" }.to_string(),
            )
        }
        "NOTEBOOK" => {
            let language = s(&obj.info, "language");
            let (_, ext) = comment_for(language);
            match format {
                "HTML" => (
                    format!(
                        "<!DOCTYPE html><html><head><title>{}</title></head><body><pre>{}</pre></body></html>",
                        path.rsplit('/').next().unwrap_or_default(),
                        String::from_utf8_lossy(&obj.content)
                    )
                    .into_bytes(),
                    "html".to_string(),
                ),
                "JUPYTER" => (
                    json!({
                        "cells": [{"cell_type": "code", "source": [String::from_utf8_lossy(&obj.content)], "metadata": {}, "outputs": [], "execution_count": 0}],
                        "metadata": {"language_info": {"name": ext}},
                        "nbformat": 4, "nbformat_minor": 0
                    })
                    .to_string()
                    .into_bytes(),
                    "ipynb".to_string(),
                ),
                "DBC" => (EMPTY_ZIP.to_vec(), "dbc".to_string()),
                _ => (obj.content.clone(), ext.to_string()),
            }
        }
        _ => {
            let ext = path
                .rsplit('/')
                .next()
                .and_then(|n| n.rsplit_once('.'))
                .map(|(_, e)| e.to_string())
                .unwrap_or_default();
            (obj.content.clone(), ext)
        }
    };
    if bytes.len() > MAX_CONTENT {
        return Err(error(
            400,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            format!("File size exceeds the export limit of {MAX_CONTENT} bytes."),
        ));
    }
    if direct {
        return Ok((
            crate::util::status_code(200),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            Body::from(bytes),
        )
            .into_response());
    }
    let mut out = json!({ "content": base64::engine::general_purpose::STANDARD.encode(&bytes) });
    if !file_type.is_empty() {
        set(&mut out, "file_type", json!(file_type));
    }
    ok(out)
}

fn import(st: &Shared, req: &Req) -> R {
    let raw = req.b_req("path")?;
    let mut path = norm(raw)?;
    let format = req.b_str("format").unwrap_or("SOURCE");
    if !matches!(
        format,
        "SOURCE" | "HTML" | "JUPYTER" | "DBC" | "R_MARKDOWN" | "AUTO" | "RAW"
    ) {
        return Err(bad_param(format!("Invalid import format: {format}")));
    }
    let language = req.b_str("language");
    if let Some(l) = language
        && !matches!(l, "PYTHON" | "SQL" | "SCALA" | "R")
    {
        return Err(bad_param(format!("Invalid language: {l}")));
    }
    let overwrite = req
        .json
        .get("overwrite")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if overwrite && format == "DBC" {
        return Err(bad_param("overwrite is not supported for the DBC format."));
    }
    let content = base64::engine::general_purpose::STANDARD
        .decode(req.b_str("content").unwrap_or_default())
        .map_err(|_| bad_param("The content is not valid base64."))?;
    if content.len() > MAX_CONTENT {
        return Err(error(
            400,
            "MAX_NOTEBOOK_SIZE_EXCEEDED",
            format!(
                "File size imported is ({} bytes), exceeded max size ({MAX_CONTENT} bytes)",
                content.len()
            ),
        ));
    }
    let text = String::from_utf8_lossy(&content);
    let marker_language = [
        ("# Databricks notebook source", "PYTHON"),
        ("-- Databricks notebook source", "SQL"),
        ("// Databricks notebook source", "SCALA"),
    ]
    .iter()
    .find(|(m, _)| text.starts_with(m))
    .map(|(_, l)| *l);
    let ext_language = |p: &str| match p.rsplit_once('.').map(|(_, e)| e) {
        Some("py") => Some("PYTHON"),
        Some("sql") => Some("SQL"),
        Some("scala") => Some("SCALA"),
        Some("r" | "R") => Some("R"),
        _ => None,
    };
    let notebook_language = match format {
        "RAW" => None,
        "AUTO" => marker_language,
        "JUPYTER" => Some(language.unwrap_or("PYTHON")),
        _ => Some(language.or_else(|| ext_language(&path)).unwrap_or("PYTHON")),
    };
    // AUTO-imported notebooks lose their file extension (`etl.py` ⇒ notebook `etl`).
    if format == "AUTO"
        && notebook_language.is_some()
        && ext_language(&path).is_some()
        && let Some((stem, _)) = path.rsplit_once('.')
    {
        path = stem.to_string();
    }
    let mut t = lock(&st.workspace);
    let parent = parent_of(&path).to_string();
    if !t.is_dir(&parent) {
        return Err(not_found(format!(
            "The parent folder ({parent}) does not exist."
        )));
    }
    if let Some(existing) = t.objects.get(&path)
        && (!overwrite || matches!(s(&existing.info, "object_type"), "DIRECTORY" | "REPO"))
    {
        return Err(error(
            400,
            "RESOURCE_ALREADY_EXISTS",
            format!("Path ({path}) already exists."),
        ));
    }
    let id = match t.objects.get(&path) {
        Some(o) => o
            .info
            .get("object_id")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        None => t.fresh_id(),
    };
    let now = crate::util::now_ms();
    let info = match notebook_language {
        Some(l) => json!({
            "path": path, "object_type": "NOTEBOOK", "language": l, "object_id": id,
            "resource_id": id.to_string(), "created_at": now, "modified_at": now,
        }),
        None => json!({
            "path": path, "object_type": "FILE", "object_id": id, "resource_id": id.to_string(),
            "size": content.len(), "created_at": now, "modified_at": now,
        }),
    };
    t.objects.insert(path, Obj { info, content });
    empty()
}

fn mkdirs(st: &Shared, req: &Req) -> R {
    let path = norm(req.b_req("path")?)?;
    let mut t = lock(&st.workspace);
    let mut cur = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        cur.push('/');
        cur.push_str(part);
        match t.objects.get(&cur) {
            Some(_) if t.is_dir(&cur) => {}
            Some(_) => {
                return Err(error(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    format!("Path ({cur}) already exists and is not a directory."),
                ));
            }
            None => {
                let id = t.fresh_id();
                t.objects.insert(
                    cur.clone(),
                    Obj {
                        info: json!({"path": cur, "object_type": "DIRECTORY", "object_id": id, "resource_id": id.to_string()}),
                        content: Vec::new(),
                    },
                );
            }
        }
    }
    empty()
}

fn delete(st: &Shared, req: &Req) -> R {
    let raw = req.b_req("path")?;
    let path = norm(raw)?;
    let recursive = req
        .json
        .get("recursive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if path == "/" {
        return Err(bad_param("Cannot delete the workspace root."));
    }
    let mut t = lock(&st.workspace);
    if !t.objects.contains_key(&path) {
        return Err(missing(raw));
    }
    let prefix = format!("{path}/");
    let below: Vec<String> = t
        .objects
        .keys()
        .filter(|k| k.starts_with(&prefix))
        .cloned()
        .collect();
    if !below.is_empty() && !recursive {
        return Err(error(
            400,
            "DIRECTORY_NOT_EMPTY",
            format!("Folder ({path}) is not empty."),
        ));
    }
    for k in below {
        t.objects.remove(&k);
    }
    t.objects.remove(&path);
    empty()
}
