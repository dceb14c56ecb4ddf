//! Workspace API 2.0 (REFERENCE.md §7): paths, formats, overwrite, listing, mkdirs and
//! delete, the same on both backends.

use base64::Engine as _;
use databricks_api::workspace::{ExportResponse, ListResponse, ObjectInfo};
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Backend, Target, assert_error, encode};

const WS: &str = "/api/2.0/workspace";
const DIR: &str = "/Users/conformance@example.com/ws";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

conformance! {
    paths_are_checked => super::paths_are_checked;
    notebooks_export_in_each_format => super::notebooks_export_in_each_format;
    imports_follow_format_and_overwrite => super::imports_follow_format_and_overwrite;
    listings_show_children_and_filter_notebooks => super::listings_show_children_and_filter_notebooks;
    mkdirs_and_delete_follow_the_reference => super::mkdirs_and_delete_follow_the_reference;
    directories_export_as_zip_archives => super::directories_export_as_zip_archives;
    a_read_only_workspace_refuses_writes => super::a_read_only_workspace_refuses_writes;
}

const NOTEBOOK: &str =
    "print('hello')\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC # A <title>\n";

impl Target {
    async fn mkdirs(&self, path: &str) -> (u16, Value) {
        self.post(&format!("{WS}/mkdirs"), &json!({ "path": path }))
            .await
    }

    async fn import(&self, body: Value) -> (u16, Value) {
        self.post(&format!("{WS}/import"), &body).await
    }

    async fn status(&self, path: &str) -> (u16, Value) {
        self.get(&format!("{WS}/get-status?path={}", encode(path)))
            .await
    }

    async fn export(&self, path: &str, format: &str) -> (u16, Value) {
        self.get(&format!(
            "{WS}/export?path={}&format={format}",
            encode(path)
        ))
        .await
    }

    /// A fresh directory with one Python notebook `nb` in it.
    async fn with_notebook(&self) -> String {
        assert_eq!(self.mkdirs(DIR).await.0, 200);
        let path = format!("{DIR}/nb");
        let (status, v) = self
            .import(json!({
                "path": path, "format": "SOURCE", "language": "PYTHON",
                "content": B64.encode(NOTEBOOK), "overwrite": true,
            }))
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v, json!({}));
        path
    }
}

fn exported(v: Value) -> (Vec<u8>, Option<String>) {
    let export: ExportResponse = serde_json::from_value(v).expect("an export");
    (
        B64.decode(export.content).expect("base64"),
        export.file_type,
    )
}

async fn paths_are_checked(t: Target) {
    assert_error(
        &t.get(&format!("{WS}/get-status")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(&t.status("Users/x").await, 400, "INVALID_PARAMETER_VALUE");
    assert_error(
        &t.status("/Users/../etc").await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.status("/Users/nobody/nothing").await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.get(&format!("{WS}/list?path={}", encode("/nope/nope")))
            .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.send(Method::GET, &format!("{WS}/rename"), true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    // The root is a directory, with or without the `/Workspace` prefix.
    for root in ["/", "/Workspace", "/Workspace/"] {
        let (status, v) = t.status(root).await;
        assert_eq!(status, 200, "{root}: {v}");
        assert_eq!(v["object_type"], "DIRECTORY", "{root}: {v}");
        assert_eq!(v["path"], "/", "{root}: {v}");
    }
}

async fn notebooks_export_in_each_format(t: Target) {
    let t = t.writable().await;
    let path = t.with_notebook().await;
    let (status, v) = t.status(&format!("/Workspace{path}")).await;
    assert_eq!(status, 200, "{v}");
    let info: ObjectInfo = serde_json::from_value(v).expect("object info");
    assert_eq!(info.path, path);
    assert_eq!(info.object_type.as_deref(), Some("NOTEBOOK"));
    assert_eq!(info.language.as_deref(), Some("PYTHON"));
    assert!(
        info.object_id.is_some() && info.resource_id.is_some(),
        "{info:?}"
    );

    // SOURCE: the header line first, then the cells as imported.
    let (source, file_type) = exported(t.export(&path, "SOURCE").await.1);
    let text = String::from_utf8(source.clone()).expect("utf-8");
    assert!(
        text.starts_with("# Databricks notebook source\nprint('hello')"),
        "{text}"
    );
    assert_eq!(file_type.as_deref(), Some("py"));
    let (default_format, _) = exported(
        t.get(&format!("{WS}/export?path={}", encode(&path)))
            .await
            .1,
    );
    assert_eq!(default_format, source);

    // direct_download: the same bytes, raw.
    let raw = reqwest::Client::new()
        .get(format!(
            "{}{WS}/export?path={}&direct_download=true",
            t.base_url,
            encode(&path)
        ))
        .bearer_auth(&t.token)
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.bytes().await.expect("body").as_ref(), source.as_slice());

    // JUPYTER: nbformat 4 with a code and a Markdown cell.
    let (ipynb, file_type) = exported(t.export(&path, "JUPYTER").await.1);
    assert_eq!(file_type.as_deref(), Some("ipynb"));
    let notebook: Value = serde_json::from_slice(&ipynb).expect("a Jupyter notebook");
    assert_eq!(notebook["nbformat"], 4);
    let kinds: Vec<&str> = notebook["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(|c| c["cell_type"].as_str())
        .collect();
    assert_eq!(kinds, ["code", "markdown"]);

    // HTML: the cells, escaped.
    let (html, file_type) = exported(t.export(&path, "HTML").await.1);
    assert_eq!(file_type.as_deref(), Some("html"));
    let html = String::from_utf8(html).expect("utf-8");
    assert!(
        html.contains("A &lt;title&gt;") && !html.contains("<title>\n"),
        "{html}"
    );

    assert_error(
        &t.export(&path, "source").await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.export(&path, "R_MARKDOWN").await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn imports_follow_format_and_overwrite(t: Target) {
    let t = t.writable().await;
    let path = t.with_notebook().await;
    let id = t.status(&path).await.1["object_id"].clone();
    let sql = B64.encode("-- Databricks notebook source\nSELECT 1");

    // An existing object is replaced only with overwrite, keeping its id.
    let again = json!({"path": path, "format": "SOURCE", "language": "SQL", "content": sql});
    assert_error(
        &t.import(again.clone()).await,
        400,
        "RESOURCE_ALREADY_EXISTS",
    );
    let mut replace = again;
    replace["overwrite"] = json!(true);
    assert_eq!(t.import(replace).await.0, 200);
    let (status, v) = t.status(&path).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["language"], "SQL", "{v}");
    assert_eq!(v["object_id"], id, "{v}");
    let (source, file_type) = exported(t.export(&path, "SOURCE").await.1);
    assert_eq!(source, b"-- Databricks notebook source\nSELECT 1");
    assert_eq!(file_type.as_deref(), Some("sql"));

    // AUTO: a notebook by its header (losing the extension), else a file.
    let auto = format!("{DIR}/etl.sql");
    assert_eq!(
        t.import(json!({"path": auto, "format": "AUTO", "content": sql}))
            .await
            .0,
        200
    );
    let (_, v) = t.status(&format!("{DIR}/etl")).await;
    assert_eq!(
        (v["object_type"].as_str(), v["language"].as_str()),
        (Some("NOTEBOOK"), Some("SQL")),
        "{v}"
    );
    let notes = format!("{DIR}/notes.txt");
    let text = B64.encode("just text\n");
    assert_eq!(
        t.import(json!({"path": notes, "format": "AUTO", "content": text}))
            .await
            .0,
        200
    );
    let (_, v) = t.status(&notes).await;
    assert_eq!(
        (v["object_type"].as_str(), v["size"].as_i64()),
        (Some("FILE"), Some(10)),
        "{v}"
    );
    let (bytes, file_type) = exported(t.export(&notes, "AUTO").await.1);
    assert_eq!(
        (bytes.as_slice(), file_type.as_deref()),
        (&b"just text\n"[..], Some("txt"))
    );

    // JUPYTER imports become SOURCE notebooks without `.ipynb`.
    let ipynb = json!({"cells": [{"cell_type": "code", "source": ["x = 1\n", "print(x)"]}],
        "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 0});
    let jupyter = json!({"path": format!("{DIR}/from_jupyter.ipynb"), "format": "JUPYTER",
        "content": B64.encode(ipynb.to_string())});
    assert_eq!(t.import(jupyter).await.0, 200);
    let (source, _) = exported(t.export(&format!("{DIR}/from_jupyter"), "SOURCE").await.1);
    assert_eq!(
        String::from_utf8_lossy(&source),
        "# Databricks notebook source\nx = 1\nprint(x)\n"
    );

    for (body, status, code) in [
        (
            json!({"path": "/no/such/dir/nb", "language": "SQL", "content": sql}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            json!({"path": format!("{DIR}/bad"), "language": "SQL", "content": "%%%"}),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"path": format!("{DIR}/bad"), "language": "COBOL", "content": sql}),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"path": format!("{DIR}/bad"), "format": "raw", "content": sql}),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"path": format!("{DIR}/bad"), "content": B64.encode("no header")}),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"content": sql, "language": "SQL"}),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            json!({"path": DIR, "language": "SQL", "content": sql, "overwrite": true}),
            400,
            "RESOURCE_ALREADY_EXISTS",
        ),
    ] {
        assert_error(&t.import(body.clone()).await, status, code);
    }
}

async fn listings_show_children_and_filter_notebooks(t: Target) {
    let t = t.writable().await;
    let path = t.with_notebook().await;
    let readme = format!("{DIR}/README.md");
    let body = json!({"path": readme, "format": "RAW", "content": B64.encode("# hi\n"), "overwrite": true});
    assert_eq!(t.import(body).await.0, 200);
    assert_eq!(t.mkdirs(&format!("{DIR}/empty")).await.0, 200);

    let list = |p: &str| format!("{WS}/list?path={}", encode(p));
    let (status, v) = t.get(&list(DIR)).await;
    assert_eq!(status, 200, "{v}");
    let listed: ListResponse = serde_json::from_value(v).expect("a listing");
    let mut seen: Vec<(String, String)> = listed
        .objects
        .iter()
        .map(|o| (o.path.clone(), o.object_type.clone().unwrap_or_default()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (readme.clone(), "FILE".to_string()),
            (format!("{DIR}/empty"), "DIRECTORY".to_string()),
            (path.clone(), "NOTEBOOK".to_string()),
        ]
    );
    // An empty directory has no `objects`; a notebook lists as itself.
    let (status, v) = t.get(&list(&format!("{DIR}/empty"))).await;
    assert_eq!((status, v), (200, json!({})));
    let (_, v) = t.get(&list(&path)).await;
    assert_eq!(v["objects"][0]["path"], path.as_str(), "{v}");
    // Notebooks not modified after the time are left out; other objects stay.
    let (_, v) = t
        .get(&format!(
            "{}&notebooks_modified_after=4102444800000",
            list(DIR)
        ))
        .await;
    let kinds: Vec<&str> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["object_type"].as_str())
        .collect();
    assert!(
        !kinds.contains(&"NOTEBOOK") && kinds.contains(&"FILE"),
        "{v}"
    );
}

async fn mkdirs_and_delete_follow_the_reference(t: Target) {
    let t = t.writable().await;
    let path = t.with_notebook().await;
    let deep = format!("{DIR}/a/b/c");
    assert_eq!(t.mkdirs(&deep).await, (200, json!({})));
    assert_eq!(
        t.mkdirs(&deep).await.0,
        200,
        "mkdirs is a no-op when the directory exists"
    );
    assert_eq!(
        t.status(&format!("{DIR}/a/b")).await.1["object_type"],
        "DIRECTORY"
    );
    assert_error(
        &t.mkdirs(&format!("{path}/below")).await,
        400,
        "RESOURCE_ALREADY_EXISTS",
    );

    let delete = |p: &str, recursive: bool| json!({"path": p, "recursive": recursive});
    let a = format!("{DIR}/a");
    assert_error(
        &t.post(&format!("{WS}/delete"), &delete(&a, false)).await,
        400,
        "DIRECTORY_NOT_EMPTY",
    );
    assert_eq!(
        t.post(&format!("{WS}/delete"), &delete(&a, true)).await,
        (200, json!({}))
    );
    assert_error(&t.status(&deep).await, 404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        t.post(&format!("{WS}/delete"), &delete(&path, false))
            .await
            .0,
        200
    );
    assert_error(&t.status(&path).await, 404, "RESOURCE_DOES_NOT_EXIST");
    assert_error(
        &t.post(&format!("{WS}/delete"), &delete(&path, false)).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.post(&format!("{WS}/delete"), &delete("/", true)).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn directories_export_as_zip_archives(t: Target) {
    let t = t.writable().await;
    t.with_notebook().await;
    let body = json!({"path": format!("{DIR}/data.csv"), "format": "RAW", "content": B64.encode("a,b\n1,2\n"), "overwrite": true});
    assert_eq!(t.import(body).await.0, 200);
    for (format, expected) in [
        ("SOURCE", vec!["ws/nb.py"]),
        ("AUTO", vec!["ws/data.csv", "ws/nb.py"]),
    ] {
        let (status, v) = t.export(DIR, format).await;
        assert_eq!(status, 200, "{format}: {v}");
        let (zip, file_type) = exported(v);
        assert_eq!(file_type.as_deref(), Some("zip"));
        let mut names = zip_names(&zip);
        names.sort();
        assert_eq!(names, expected, "{format}");
    }
    assert_error(&t.export(DIR, "HTML").await, 400, "INVALID_PARAMETER_VALUE");
}

/// The entry names of a ZIP archive, read from its local file headers.
fn zip_names(zip: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0;
    let u16_at = |i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
    let u32_at =
        |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    while zip.len() >= at + 30 && zip[at..at + 4] == [0x50, 0x4b, 0x03, 0x04] {
        let (size, name_len, extra) = (u32_at(at + 18), u16_at(at + 26), u16_at(at + 28));
        names.push(String::from_utf8_lossy(&zip[at + 30..at + 30 + name_len]).into_owned());
        at += 30 + name_len + extra + size;
    }
    assert_eq!(
        &zip[zip.len() - 22..zip.len() - 18],
        &[0x50, 0x4b, 0x05, 0x06],
        "end of central directory"
    );
    names
}

/// The local workspace opened read-only refuses every write (the emulator always writes).
async fn a_read_only_workspace_refuses_writes(t: Target) {
    if t.backend == Backend::Emulator {
        return;
    }
    let sql = B64.encode("SELECT 1");
    let body = json!({"path": "/read_only_nb", "language": "SQL", "content": sql});
    assert_error(&t.import(body).await, 403, "PERMISSION_DENIED");
    assert_error(
        &t.mkdirs("/Users/conformance@example.com/ro").await,
        403,
        "PERMISSION_DENIED",
    );
}
