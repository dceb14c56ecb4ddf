//! Files API 2.0 and DBFS (REFERENCE.md §8): volume paths, uploads and `overwrite`,
//! downloads with their headers and byte ranges, directory listings and their pages,
//! mkdir and rmdir; DBFS reads, writes and streamed uploads, the same on both backends.

use base64::Engine as _;
use databricks_api::files::{
    CreateResponse, DBFS_MAX_BLOCK, DirectoryEntry, DirectoryListing, FileInfo, ListStatusResponse,
    ReadResponse,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Backend, Target, assert_error, encode};

const FILES: &str = "/api/2.0/fs/files";
const DIRS: &str = "/api/2.0/fs/directories";
const DBFS: &str = "/api/2.0/dbfs";

conformance! {
    paths_are_checked => super::paths_are_checked;
    uploads_and_downloads_keep_the_bytes => super::uploads_and_downloads_keep_the_bytes;
    overwrite_is_the_default => super::overwrite_is_the_default;
    byte_ranges_are_served => super::byte_ranges_are_served;
    listings_page_by_token => super::listings_page_by_token;
    directories_are_made_and_removed => super::directories_are_made_and_removed;
    dbfs_reads_show_the_same_tree => super::dbfs_reads_show_the_same_tree;
    a_read_only_workspace_refuses_writes => super::a_read_only_workspace_refuses_writes;
    dbfs_put_writes_base64_contents => super::dbfs_put_writes_base64_contents;
    dbfs_mkdirs_makes_parents => super::dbfs_mkdirs_makes_parents;
    dbfs_streams_write_at_close => super::dbfs_streams_write_at_close;
    dbfs_moves_files_and_directories => super::dbfs_moves_files_and_directories;
    dbfs_deletes_need_recursive_for_content => super::dbfs_deletes_need_recursive_for_content;
}

/// An answer without JSON: status, headers, body bytes.
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> (u16, Value) {
        (
            self.status,
            serde_json::from_slice(&self.body).unwrap_or(Value::Null),
        )
    }
}

impl Target {
    /// A volume of this backend that exists: the emulator's recorded one, the local
    /// workspace's `main.default.files`.
    fn volume(&self) -> &'static str {
        match self.backend {
            Backend::Emulator => "/Volumes/main/sales/landing",
            Backend::Local => "/Volumes/main/default/files",
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Raw {
        let mut request = self
            .http()
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/octet-stream")
                .body(body);
        }
        let response = request.send().await.expect("request");
        Raw {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body").to_vec(),
        }
    }

    async fn put_file(&self, path: &str, query: &str, body: &[u8]) -> Raw {
        let url = format!("{FILES}{}{query}", encoded(path));
        self.raw(Method::PUT, &url, &[], Some(body.to_vec())).await
    }

    async fn file(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Raw {
        let url = format!("{FILES}{}", encoded(path));
        self.raw(method, &url, headers, None).await
    }

    async fn dir(&self, method: Method, path: &str) -> Raw {
        let url = format!("{DIRS}{}", encoded(path));
        self.raw(method, &url, &[], None).await
    }

    /// POST a DBFS write: status and JSON body.
    async fn dbfs(&self, endpoint: &str, body: Value) -> (u16, Value) {
        self.post(&format!("{DBFS}/{endpoint}"), &body).await
    }

    /// A DBFS path's FileInfo, `None` when nothing is there.
    async fn dbfs_status(&self, path: &str) -> Option<FileInfo> {
        let answer = self
            .get(&format!("{DBFS}/get-status?path={}", encode(path)))
            .await;
        match answer.0 {
            200 => Some(serde_json::from_value(answer.1).expect("file info")),
            _ => {
                assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
                None
            }
        }
    }

    /// A whole file's bytes through the Files API.
    async fn bytes_of(&self, path: &str) -> Vec<u8> {
        let got = self.file(Method::GET, path, &[]).await;
        assert_eq!(got.status, 200, "{path}: {:?}", got.json());
        got.body
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Each segment percent-encoded, `/` kept, as the reference asks of clients.
fn encoded(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

async fn paths_are_checked(t: Target) {
    let vol = t.volume();
    for bad in [
        format!("{FILES}/tmp/a/b/c"),
        format!("{DIRS}/Volumes/main"),
        // A decoded `/` separates components: `a/../b` is refused, not resolved.
        format!("{FILES}{vol}/a%2F..%2Fb"),
    ] {
        assert_error(
            &t.send(Method::GET, &bad, true).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    assert_error(
        &t.file(Method::GET, &format!("{vol}/no such file.csv"), &[])
            .await
            .json(),
        404,
        "NOT_FOUND",
    );
    assert_error(
        &t.dir(Method::GET, "/Volumes/missing_catalog/s/v")
            .await
            .json(),
        404,
        "NOT_FOUND",
    );
    let missing_volume = t
        .put_file("/Volumes/missing_catalog/s/v/a.txt", "", b"x")
        .await;
    assert_error(&missing_volume.json(), 404, "NOT_FOUND");
    // A directory is not a file, nor a file a directory.
    assert_error(
        &t.file(Method::GET, vol, &[]).await.json(),
        404,
        "NOT_FOUND",
    );
    let (status, v) = t.dir(Method::GET, vol).await.json();
    assert_eq!(status, 200, "{v}");
    let listing: DirectoryListing = serde_json::from_value(v).expect("a listing");
    let file = listing
        .contents
        .iter()
        .find(|e| !e.is_directory)
        .expect("a file in the volume");
    assert_error(
        &t.dir(Method::GET, &file.path).await.json(),
        404,
        "NOT_FOUND",
    );
    assert_eq!(t.dir(Method::HEAD, &file.path).await.status, 404);
    assert_eq!(t.dir(Method::HEAD, vol).await.status, 200);
}

async fn uploads_and_downloads_keep_the_bytes(t: Target) {
    let t = t.writable().await;
    let path = format!("{}/conformance/sub dir/all bytes.bin", t.volume());
    let bytes: Vec<u8> = (0..=255).collect();
    let put = t.put_file(&path, "", &bytes).await;
    assert_eq!(put.status, 204, "{:?}", put.json());
    assert!(put.body.is_empty());

    let got = t.file(Method::GET, &path, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, bytes);
    assert_eq!(got.header("content-length"), "256");
    assert_eq!(got.header("content-type"), "application/octet-stream");
    let modified = got.header("last-modified");
    assert!(
        modified.len() == 29 && modified.ends_with(" GMT") && modified.as_bytes()[3] == b',',
        "an RFC 7231 date: {modified}"
    );

    let head = t.file(Method::HEAD, &path, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), "256");
    assert_eq!(head.header("last-modified"), modified);

    // The parents were made.
    let parent = format!("{}/conformance/sub dir", t.volume());
    assert_eq!(t.dir(Method::HEAD, &parent).await.status, 200);

    let deleted = t.file(Method::DELETE, &path, &[]).await;
    assert_eq!(deleted.status, 204);
    assert_error(
        &t.file(Method::GET, &path, &[]).await.json(),
        404,
        "NOT_FOUND",
    );
    assert_eq!(t.file(Method::HEAD, &path, &[]).await.status, 404);
    assert_error(
        &t.file(Method::DELETE, &path, &[]).await.json(),
        404,
        "NOT_FOUND",
    );
}

async fn overwrite_is_the_default(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-overwrite", t.volume());
    let path = format!("{dir}/a.txt");
    assert_eq!(t.put_file(&path, "", b"one").await.status, 204);
    assert_eq!(t.put_file(&path, "", b"two").await.status, 204);
    assert_eq!(t.file(Method::GET, &path, &[]).await.body, b"two");
    let refused = t.put_file(&path, "?overwrite=false", b"three").await;
    assert_error(&refused.json(), 409, "ALREADY_EXISTS");
    assert_eq!(t.file(Method::GET, &path, &[]).await.body, b"two");
    assert_eq!(
        t.put_file(&path, "?overwrite=true", b"four").await.status,
        204
    );
    assert_eq!(t.file(Method::GET, &path, &[]).await.body, b"four");
    let bad = t.put_file(&path, "?overwrite=maybe", b"five").await;
    assert_error(&bad.json(), 400, "INVALID_PARAMETER_VALUE");
    // Neither a directory nor a path below a file can become a file.
    assert_error(
        &t.put_file(&dir, "", b"x").await.json(),
        409,
        "ALREADY_EXISTS",
    );
    let below = t.put_file(&format!("{path}/b.txt"), "", b"x").await;
    assert_error(&below.json(), 409, "ALREADY_EXISTS");
    // An empty file is a file.
    let empty = format!("{dir}/empty");
    assert_eq!(
        t.put_file(&empty, "?overwrite=false", b"").await.status,
        204
    );
    let got = t.file(Method::GET, &empty, &[]).await;
    assert_eq!((got.status, got.body.len()), (200, 0));
}

async fn byte_ranges_are_served(t: Target) {
    let t = t.writable().await;
    let path = format!("{}/conformance-ranges/hundred.bin", t.volume());
    let bytes: Vec<u8> = (0..100).collect();
    assert_eq!(t.put_file(&path, "", &bytes).await.status, 204);
    for (range, first, last) in [
        ("bytes=10-19", 10, 19),
        ("bytes=90-", 90, 99),
        ("bytes=-5", 95, 99),
        ("bytes=95-200", 95, 99),
    ] {
        let got = t.file(Method::GET, &path, &[("range", range)]).await;
        assert_eq!(got.status, 206, "{range}");
        assert_eq!(got.body, bytes[first..=last], "{range}");
        assert_eq!(
            got.header("content-range"),
            format!("bytes {first}-{last}/100"),
            "{range}"
        );
        assert_eq!(
            got.header("content-length"),
            (last - first + 1).to_string(),
            "{range}"
        );
        // HEAD answers what GET would, without the body.
        let head = t.file(Method::HEAD, &path, &[("range", range)]).await;
        assert_eq!(head.status, 206, "{range}");
        assert!(head.body.is_empty());
        assert_eq!(head.header("content-range"), got.header("content-range"));
    }
    let past = t.file(Method::GET, &path, &[("range", "bytes=100-")]).await;
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), "bytes */100");
    // Several ranges are not served: the whole file.
    let many = t
        .file(Method::GET, &path, &[("range", "bytes=0-1,5-6")])
        .await;
    assert_eq!((many.status, many.body.len()), (200, 100));
}

async fn listings_page_by_token(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-listing", t.volume());
    let names = ["b.csv", "a.csv", "e.csv", "c.csv", "d.csv"];
    for name in names {
        let path = format!("{dir}/{name}");
        assert_eq!(t.put_file(&path, "", name.as_bytes()).await.status, 204);
    }
    assert_eq!(t.dir(Method::PUT, &format!("{dir}/sub")).await.status, 204);
    let base = format!("{DIRS}{}?page_size=2", encoded(&dir));
    let (items, pages) = t.all_pages(&base, "contents").await;
    let listed: Vec<&str> = items.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(listed, ["a.csv", "b.csv", "c.csv", "d.csv", "e.csv", "sub"]);
    assert_eq!(pages, 3);
    let entries: Vec<DirectoryEntry> =
        serde_json::from_value(Value::Array(items.clone())).expect("entries");
    let file = &entries[0];
    assert_eq!(file.path, format!("{dir}/a.csv"));
    assert!(!file.is_directory);
    assert_eq!(file.file_size, Some(5));
    assert!(file.last_modified.is_some_and(|ms| ms > 1_600_000_000_000));
    let sub = &entries[5];
    assert_eq!(sub.path, format!("{dir}/sub"));
    assert!(sub.is_directory);
    assert_eq!(sub.file_size, None);
    // Unset, 0 and above 1000 all mean 1000.
    for query in ["", "?page_size=0", "?page_size=5000"] {
        let (status, v) = t.get(&format!("{DIRS}{}{query}", encoded(&dir))).await;
        assert_eq!(status, 200, "{query}: {v}");
        assert_eq!(v["contents"].as_array().map(Vec::len), Some(6), "{query}");
        assert!(v.get("next_page_token").is_none(), "{query}: {v}");
    }
    assert_error(
        &t.get(&format!("{DIRS}{}?page_size=-1", encoded(&dir)))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{base}&page_token=bogus")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    // A token continues its own listing only.
    let (_, first) = t.get(&base).await;
    let token = first["next_page_token"].as_str().expect("a token");
    let other = format!("{DIRS}{}?page_token={}", encoded(t.volume()), encode(token));
    assert_error(&t.get(&other).await, 400, "INVALID_PARAMETER_VALUE");
    // An empty directory lists as `{}`.
    let (status, v) = t.get(&format!("{DIRS}{}/sub", encoded(&dir))).await;
    assert_eq!((status, v), (200, serde_json::json!({})));
}

async fn directories_are_made_and_removed(t: Target) {
    let t = t.writable().await;
    let top = format!("{}/conformance-dirs", t.volume());
    let deep = format!("{top}/a/b");
    assert_eq!(t.dir(Method::PUT, &deep).await.status, 204);
    for dir in [&top, &format!("{top}/a"), &deep] {
        assert_eq!(t.dir(Method::HEAD, dir).await.status, 200, "{dir}");
    }
    // Again: nothing to do.
    assert_eq!(t.dir(Method::PUT, &deep).await.status, 204);
    let file = format!("{top}/a/f.txt");
    assert_eq!(t.put_file(&file, "", b"f").await.status, 204);
    assert_error(
        &t.dir(Method::PUT, &file).await.json(),
        409,
        "ALREADY_EXISTS",
    );
    assert_error(
        &t.dir(Method::PUT, &format!("{file}/below")).await.json(),
        409,
        "ALREADY_EXISTS",
    );
    // Only an empty directory goes, and only a directory.
    assert_error(
        &t.dir(Method::DELETE, &format!("{top}/a")).await.json(),
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(&t.dir(Method::DELETE, &file).await.json(), 404, "NOT_FOUND");
    assert_error(
        &t.file(Method::DELETE, &deep, &[]).await.json(),
        404,
        "NOT_FOUND",
    );
    assert_eq!(t.dir(Method::DELETE, &deep).await.status, 204);
    assert_eq!(t.file(Method::DELETE, &file, &[]).await.status, 204);
    assert_eq!(t.dir(Method::DELETE, &format!("{top}/a")).await.status, 204);
    assert_eq!(t.dir(Method::HEAD, &format!("{top}/a")).await.status, 404);
    assert_error(
        &t.dir(Method::DELETE, &format!("{top}/a")).await.json(),
        404,
        "NOT_FOUND",
    );
    // A volume is not removed through the Files API.
    let volume = t.dir(Method::DELETE, t.volume()).await;
    assert_error(&volume.json(), 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(t.dir(Method::HEAD, t.volume()).await.status, 200);
}

async fn dbfs_reads_show_the_same_tree(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-dbfs", t.volume());
    let path = format!("{dir}/hello.txt");
    assert_eq!(t.put_file(&path, "", b"hello dbfs!\n").await.status, 204);
    assert_eq!(t.dir(Method::PUT, &format!("{dir}/sub")).await.status, 204);

    for asked in [path.clone(), format!("dbfs:{path}")] {
        let (status, v) = t
            .get(&format!("{DBFS}/get-status?path={}", encode(&asked)))
            .await;
        assert_eq!(status, 200, "{v}");
        let info: FileInfo = serde_json::from_value(v).expect("file info");
        assert_eq!(info.path, path);
        assert!(!info.is_dir);
        assert_eq!(info.file_size, 12);
        assert!(info.modification_time > 1_600_000_000_000);
    }
    let (status, v) = t.get(&format!("{DBFS}/list?path={}", encode(&dir))).await;
    assert_eq!(status, 200, "{v}");
    let listed: ListStatusResponse = serde_json::from_value(v).expect("a listing");
    let shown: Vec<(&str, bool, i64)> = listed
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.is_dir, f.file_size))
        .collect();
    let sub = format!("{dir}/sub");
    assert_eq!(shown, [(path.as_str(), false, 12), (sub.as_str(), true, 0)]);
    // A file lists as itself; an empty directory as `{}`.
    let (_, v) = t.get(&format!("{DBFS}/list?path={}", encode(&path))).await;
    assert_eq!(v["files"][0]["path"], path.as_str());
    let (status, v) = t.get(&format!("{DBFS}/list?path={}", encode(&sub))).await;
    assert_eq!((status, v), (200, serde_json::json!({})));

    let read = |query: &str| format!("{DBFS}/read?path={}{query}", encode(&path));
    let (status, v) = t.get(&read("")).await;
    assert_eq!(status, 200, "{v}");
    let whole: ReadResponse = serde_json::from_value(v).expect("a read");
    assert_eq!(
        (whole.bytes_read, whole.data.as_str()),
        (12, "aGVsbG8gZGJmcyEK")
    );
    let (_, v) = t.get(&read("&offset=6&length=4")).await;
    assert_eq!(
        (v["bytes_read"].as_i64(), v["data"].as_str()),
        (Some(4), Some("ZGJmcw=="))
    );
    let (status, v) = t.get(&read("&offset=12")).await;
    assert_eq!((status, v["bytes_read"].as_i64()), (200, Some(0)));
    assert_error(
        &t.get(&read("&length=2000000")).await,
        400,
        "MAX_READ_SIZE_EXCEEDED",
    );
    assert_error(
        &t.get(&read("&offset=-1")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{DBFS}/read?path={}", encode(&dir))).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    for missing in [format!("{dir}/nope"), "/no/such/path".to_string()] {
        assert_error(
            &t.get(&format!("{DBFS}/get-status?path={}", encode(&missing)))
                .await,
            404,
            "RESOURCE_DOES_NOT_EXIST",
        );
    }
    assert_error(
        &t.get(&format!("{DBFS}/get-status?path=relative/path"))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_error(
        &t.get(&format!("{DBFS}/list")).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    // Reads are GETs; an unknown endpoint is none.
    assert_error(
        &t.post(&format!("{DBFS}/chmod"), &json!({"path": "/x"}))
            .await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

async fn a_read_only_workspace_refuses_writes(t: Target) {
    if t.backend == Backend::Emulator {
        return;
    }
    let vol = t.volume();
    let new_file = t.put_file(&format!("{vol}/read-only.txt"), "", b"x").await;
    assert_error(&new_file.json(), 403, "PERMISSION_DENIED");
    let new_dir = t.dir(Method::PUT, &format!("{vol}/read-only")).await;
    assert_error(&new_dir.json(), 403, "PERMISSION_DENIED");
    let (_, v) = t.dir(Method::GET, vol).await.json();
    let listing: DirectoryListing = serde_json::from_value(v).expect("a listing");
    let file = listing
        .contents
        .iter()
        .find(|e| !e.is_directory)
        .expect("a file in the volume");
    let deleted = t.file(Method::DELETE, &file.path, &[]).await;
    assert_error(&deleted.json(), 403, "PERMISSION_DENIED");
    assert_eq!(t.file(Method::HEAD, &file.path, &[]).await.status, 200);
    // DBFS writes go through the same gate.
    let put = json!({"path": format!("{vol}/read-only.txt"), "contents": b64(b"x")});
    assert_error(&t.dbfs("put", put).await, 403, "PERMISSION_DENIED");
    let mkdirs = json!({"path": format!("{vol}/read-only")});
    assert_error(&t.dbfs("mkdirs", mkdirs).await, 403, "PERMISSION_DENIED");
    let delete = json!({"path": file.path});
    assert_error(&t.dbfs("delete", delete).await, 403, "PERMISSION_DENIED");
    let moved = json!({"source_path": file.path, "destination_path": format!("{vol}/moved")});
    assert_error(&t.dbfs("move", moved).await, 403, "PERMISSION_DENIED");
    let (status, v) = t
        .dbfs("create", json!({"path": format!("{vol}/streamed.txt")}))
        .await;
    assert_eq!(status, 200, "{v}");
    let handle = v["handle"].clone();
    assert_eq!(
        t.dbfs("add-block", json!({"handle": handle, "data": b64(b"x")}))
            .await
            .0,
        200
    );
    assert_error(
        &t.dbfs("close", json!({"handle": handle})).await,
        403,
        "PERMISSION_DENIED",
    );
    assert_eq!(t.file(Method::HEAD, &file.path, &[]).await.status, 200);
}

async fn dbfs_put_writes_base64_contents(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-dbfs-put", t.volume());
    // Missing parents are made; `dbfs:` is accepted.
    let path = format!("{dir}/deep/all bytes.bin");
    let bytes: Vec<u8> = (0..=255).collect();
    let put = json!({"path": format!("dbfs:{path}"), "contents": b64(&bytes)});
    assert_eq!(t.dbfs("put", put).await, (200, json!({})));
    assert_eq!(t.bytes_of(&path).await, bytes);
    let (_, v) = t.get(&format!("{DBFS}/read?path={}", encode(&path))).await;
    assert_eq!(v["data"], b64(&bytes));
    let info = t.dbfs_status(&path).await.expect("the file");
    assert_eq!((info.is_dir, info.file_size), (false, 256));

    // `overwrite` is false unless set.
    let again = json!({"path": path, "contents": b64(b"two")});
    assert_error(&t.dbfs("put", again).await, 409, "RESOURCE_ALREADY_EXISTS");
    let refused = json!({"path": path, "contents": b64(b"two"), "overwrite": false});
    assert_error(
        &t.dbfs("put", refused).await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_eq!(t.bytes_of(&path).await, bytes);
    let replace = json!({"path": path, "contents": b64(b"two"), "overwrite": true});
    assert_eq!(t.dbfs("put", replace).await.0, 200);
    assert_eq!(t.bytes_of(&path).await, b"two");
    // No contents is an empty file.
    let empty = format!("{dir}/empty");
    assert_eq!(t.dbfs("put", json!({"path": empty})).await.0, 200);
    assert_eq!(t.dbfs_status(&empty).await.map(|i| i.file_size), Some(0));

    // A directory, or a file where a directory must be, is in the way.
    let onto_dir = json!({"path": format!("{dir}/deep"), "contents": "", "overwrite": true});
    assert_error(
        &t.dbfs("put", onto_dir).await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );
    let below_file = json!({"path": format!("{path}/x"), "contents": ""});
    assert_error(
        &t.dbfs("put", below_file).await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );

    // 1 MB at most, base64, a path.
    let full = format!("{dir}/full.bin");
    let most = json!({"path": full, "contents": b64(&vec![1; DBFS_MAX_BLOCK])});
    assert_eq!(t.dbfs("put", most).await.0, 200);
    let over =
        json!({"path": format!("{dir}/over.bin"), "contents": b64(&vec![1; DBFS_MAX_BLOCK + 1])});
    assert_error(&t.dbfs("put", over).await, 400, "MAX_BLOCK_SIZE_EXCEEDED");
    assert_eq!(t.dbfs_status(&format!("{dir}/over.bin")).await, None);
    let bad = json!({"path": format!("{dir}/bad.bin"), "contents": "not base64!"});
    assert_error(&t.dbfs("put", bad).await, 400, "INVALID_PARAMETER_VALUE");
    for body in [
        json!({"contents": ""}),
        json!({"path": "relative"}),
        json!("text"),
    ] {
        assert_error(&t.dbfs("put", body).await, 400, "INVALID_PARAMETER_VALUE");
    }
    // A volume is not a file, nor is a volume that does not exist a place for one.
    let volume = json!({"path": t.volume(), "contents": ""});
    assert_error(&t.dbfs("put", volume).await, 400, "INVALID_PARAMETER_VALUE");
    let missing = json!({"path": "/Volumes/missing_catalog/s/v/a.txt", "contents": ""});
    assert_error(
        &t.dbfs("put", missing).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );

    // The multipart form is refused plainly.
    let form = format!(
        "--b\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n{dir}/form.txt\r\n\
         --b\r\nContent-Disposition: form-data; name=\"contents\"; filename=\"f\"\r\n\r\nx\r\n--b--\r\n"
    );
    let response = t
        .http()
        .post(format!("{}{DBFS}/put", t.base_url))
        .bearer_auth(&t.token)
        .header("content-type", "multipart/form-data; boundary=b")
        .body(form)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let v: Value = response.json().await.expect("an error body");
    assert_error(&(status, v), 501, "NOT_IMPLEMENTED");
    assert_eq!(t.dbfs_status(&format!("{dir}/form.txt")).await, None);
}

async fn dbfs_mkdirs_makes_parents(t: Target) {
    let t = t.writable().await;
    let top = format!("{}/conformance-dbfs-mkdirs", t.volume());
    let deep = format!("{top}/a/b/c");
    assert_eq!(
        t.dbfs("mkdirs", json!({"path": deep})).await,
        (200, json!({}))
    );
    for dir in [&top, &format!("{top}/a"), &deep] {
        let info = t.dbfs_status(dir).await.expect("the directory");
        assert!(info.is_dir, "{dir}");
        assert_eq!(info.file_size, 0);
    }
    // Again, or on the volume: nothing to do.
    assert_eq!(t.dbfs("mkdirs", json!({"path": deep})).await.0, 200);
    assert_eq!(t.dbfs("mkdirs", json!({"path": t.volume()})).await.0, 200);
    // A file at the path or at a prefix of it.
    let file = format!("{top}/a/f.txt");
    let put = json!({"path": file, "contents": b64(b"f")});
    assert_eq!(t.dbfs("put", put).await.0, 200);
    for path in [file.clone(), format!("{file}/below")] {
        assert_error(
            &t.dbfs("mkdirs", json!({"path": path})).await,
            409,
            "RESOURCE_ALREADY_EXISTS",
        );
    }
    assert_error(
        &t.dbfs("mkdirs", json!({})).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
    let outside = json!({"path": "/Volumes/main"});
    assert_error(
        &t.dbfs("mkdirs", outside).await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn dbfs_streams_write_at_close(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-dbfs-stream", t.volume());
    let path = format!("{dir}/sub/streamed.bin");
    let (status, v) = t.dbfs("create", json!({"path": path})).await;
    assert_eq!(status, 200, "{v}");
    let created: CreateResponse = serde_json::from_value(v).expect("a handle");
    let handle = created.handle;
    let first: Vec<u8> = vec![7; DBFS_MAX_BLOCK];
    let second = b"the end".to_vec();
    for block in [&first, &second] {
        let add = json!({"handle": handle, "data": b64(block)});
        assert_eq!(t.dbfs("add-block", add).await, (200, json!({})));
    }
    // Nothing is at the path until the stream closes.
    assert_eq!(t.dbfs_status(&path).await, None);
    // A block over 1 MB is refused; the stream stays open.
    let over = json!({"handle": handle, "data": b64(&vec![0; DBFS_MAX_BLOCK + 1])});
    assert_error(
        &t.dbfs("add-block", over).await,
        400,
        "MAX_BLOCK_SIZE_EXCEEDED",
    );
    assert_eq!(
        t.dbfs("close", json!({"handle": handle})).await,
        (200, json!({}))
    );
    let written = t.bytes_of(&path).await;
    assert_eq!(written.len(), first.len() + second.len());
    assert!(written.starts_with(&first) && written.ends_with(&second));
    let info = t.dbfs_status(&path).await.expect("the file");
    assert_eq!(info.file_size, i64::try_from(written.len()).expect("size"));

    // A closed handle, or one never given, names no stream.
    for endpoint in ["close", "add-block"] {
        for unknown in [handle, 987_654_321] {
            let body = json!({"handle": unknown, "data": b64(b"x")});
            assert_error(
                &t.dbfs(endpoint, body).await,
                404,
                "RESOURCE_DOES_NOT_EXIST",
            );
        }
    }
    // `overwrite` is false unless set, checked at create.
    assert_error(
        &t.dbfs("create", json!({"path": path})).await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_error(
        &t.dbfs("create", json!({"path": dir, "overwrite": true}))
            .await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );
    // An empty stream with overwrite replaces the file with an empty one.
    let (_, v) = t
        .dbfs("create", json!({"path": path, "overwrite": true}))
        .await;
    let handle = v["handle"].as_i64().expect("a handle");
    assert_eq!(t.dbfs("close", json!({"handle": handle})).await.0, 200);
    assert_eq!(t.dbfs_status(&path).await.map(|i| i.file_size), Some(0));
    // A file written while a stream without overwrite was open wins: close refuses.
    let late = format!("{dir}/late.txt");
    let (_, v) = t.dbfs("create", json!({"path": late})).await;
    let handle = v["handle"].as_i64().expect("a handle");
    assert_eq!(
        t.dbfs("put", json!({"path": late, "contents": b64(b"first")}))
            .await
            .0,
        200
    );
    assert_error(
        &t.dbfs("close", json!({"handle": handle})).await,
        409,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_eq!(t.bytes_of(&late).await, b"first");
    assert_error(
        &t.dbfs("add-block", json!({"handle": "h", "data": ""}))
            .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

async fn dbfs_moves_files_and_directories(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-dbfs-move", t.volume());
    let put = |path: String, bytes: &[u8]| json!({"path": path, "contents": b64(bytes)});
    let file = format!("{dir}/a.txt");
    assert_eq!(t.dbfs("put", put(file.clone(), b"a")).await.0, 200);
    // A file, into a directory that does not exist yet.
    let moved = format!("{dir}/elsewhere/b.txt");
    let body = json!({"source_path": file, "destination_path": format!("dbfs:{moved}")});
    assert_eq!(t.dbfs("move", body).await, (200, json!({})));
    assert_eq!(t.dbfs_status(&file).await, None);
    assert_eq!(t.bytes_of(&moved).await, b"a");

    // A directory moves with its content.
    let tree = format!("{dir}/tree");
    assert_eq!(
        t.dbfs("put", put(format!("{tree}/x.txt"), b"x")).await.0,
        200
    );
    assert_eq!(
        t.dbfs("put", put(format!("{tree}/sub/y.txt"), b"y"))
            .await
            .0,
        200
    );
    let renamed = format!("{dir}/renamed");
    let body = json!({"source_path": tree, "destination_path": renamed});
    assert_eq!(t.dbfs("move", body).await.0, 200);
    assert_eq!(t.dbfs_status(&tree).await, None);
    assert!(t.dbfs_status(&renamed).await.is_some_and(|i| i.is_dir));
    assert_eq!(t.bytes_of(&format!("{renamed}/x.txt")).await, b"x");
    assert_eq!(t.bytes_of(&format!("{renamed}/sub/y.txt")).await, b"y");
    let (_, v) = t
        .get(&format!("{DBFS}/list?path={}", encode(&renamed)))
        .await;
    let listed: ListStatusResponse = serde_json::from_value(v).expect("a listing");
    let names: Vec<&str> = listed.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [format!("{renamed}/sub"), format!("{renamed}/x.txt")]
    );

    // Onto something that exists, file or directory: refused, nothing moves.
    for onto in [moved.clone(), format!("{dir}/elsewhere")] {
        let body = json!({"source_path": renamed, "destination_path": onto});
        assert_error(&t.dbfs("move", body).await, 409, "RESOURCE_ALREADY_EXISTS");
    }
    assert_eq!(t.bytes_of(&format!("{renamed}/x.txt")).await, b"x");
    // The source must exist; a directory does not go into itself.
    let body =
        json!({"source_path": format!("{dir}/nope"), "destination_path": format!("{dir}/new")});
    assert_error(&t.dbfs("move", body).await, 404, "RESOURCE_DOES_NOT_EXIST");
    let body = json!({"source_path": renamed, "destination_path": format!("{renamed}/sub/inner")});
    assert_error(&t.dbfs("move", body).await, 400, "INVALID_PARAMETER_VALUE");
    let body = json!({"source_path": renamed});
    assert_error(&t.dbfs("move", body).await, 400, "INVALID_PARAMETER_VALUE");
}

async fn dbfs_deletes_need_recursive_for_content(t: Target) {
    let t = t.writable().await;
    let dir = format!("{}/conformance-dbfs-delete", t.volume());
    let file = format!("{dir}/a/f.txt");
    let deep = format!("{dir}/a/b/c/g.txt");
    for path in [&file, &deep] {
        let put = json!({"path": path, "contents": b64(b"x")});
        assert_eq!(t.dbfs("put", put).await.0, 200);
    }
    // A non-empty directory goes only with `recursive`.
    for body in [
        json!({"path": dir}),
        json!({"path": dir, "recursive": false}),
    ] {
        assert_error(&t.dbfs("delete", body).await, 400, "IO_ERROR");
    }
    assert_eq!(t.bytes_of(&deep).await, b"x");
    // A file; an empty directory without `recursive`.
    assert_eq!(
        t.dbfs("delete", json!({"path": file})).await,
        (200, json!({}))
    );
    assert_eq!(t.dbfs_status(&file).await, None);
    let empty = format!("{dir}/empty");
    assert_eq!(t.dbfs("mkdirs", json!({"path": empty})).await.0, 200);
    assert_eq!(t.dbfs("delete", json!({"path": empty})).await.0, 200);
    assert_eq!(t.dbfs_status(&empty).await, None);
    // The whole tree.
    let body = json!({"path": dir, "recursive": true});
    assert_eq!(t.dbfs("delete", body).await, (200, json!({})));
    for gone in [&dir, &format!("{dir}/a/b"), &deep] {
        assert_eq!(t.dbfs_status(gone).await, None, "{gone}");
    }
    // Nothing there: 200, as the service answers.
    for path in [dir.clone(), format!("{dir}/never/was")] {
        let body = json!({"path": path, "recursive": true});
        assert_eq!(t.dbfs("delete", body).await, (200, json!({})));
    }
    // Never a volume, nor the root.
    for path in [t.volume(), "/"] {
        let body = json!({"path": path, "recursive": true});
        assert_error(
            &t.dbfs("delete", body).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    assert_eq!(t.dir(Method::HEAD, t.volume()).await.status, 200);
}
