//! Files toolset: Unity Catalog volumes and their files — `list_volumes`,
//! `list_volume_files`, `read_volume_file`, and (with writes) `upload_volume_file`.
//!
//! Paths are `/Volumes/<catalog>/<schema>/<volume>/…`, checked before any call: nothing
//! outside a volume, no `..`. A read shows text as text, previews CSV, JSON lines and
//! Parquet as rows, and summarizes other binary files (size, kind); every read is bounded.

use base64::Engine as _;
use databricks_client::ErrorKind;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Field, ListSpec, PageArgs, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};

/// Largest upload, decoded (a larger file goes through the Files API directly).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes one read fetches.
const MAX_READ_BYTES: u64 = 1024 * 1024;
/// Parquet files up to this size are previewed (the footer is at the end: the whole file
/// is read).
const MAX_PARQUET_PREVIEW: u64 = 32 * 1024 * 1024;
/// Rows of a preview.
const PREVIEW_ROWS: usize = 20;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListVolumesArgs {
    pub catalog: String,
    pub schema: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListVolumeFilesArgs {
    /// A volume directory: /Volumes/<catalog>/<schema>/<volume>[/…].
    pub path: String,
    #[serde(flatten)]
    pub page: PageArgs<100, 1000>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadVolumeFileArgs {
    /// A volume file: /Volumes/<catalog>/<schema>/<volume>/….
    pub path: String,
    /// First byte to read (default 0), for text files read in parts.
    #[serde(default)]
    pub offset: Option<u64>,
    /// Most bytes to read (default: the answer budget; at most 1 MiB).
    #[serde(default)]
    pub length: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadVolumeFileArgs {
    /// The file to write: /Volumes/<catalog>/<schema>/<volume>/….
    pub path: String,
    /// The file's content: text, or base64 when encoding is "base64" (at most 10 MiB).
    pub content: String,
    /// "text" (default) or "base64".
    #[serde(default)]
    pub encoding: Option<String>,
    /// Replace an existing file (default false: refuse).
    #[serde(default)]
    pub overwrite: Option<bool>,
}

const LIST_VOLUMES: ListSpec = ListSpec {
    tool: "list_volumes",
    key: "volumes",
    columns: &["name", "type", "path", "comment"],
    item: "Volumes as Unity Catalog describes them: name, full_name, volume_type, storage_location, comment, owner.",
    fields: &[],
};

const LIST_VOLUME_FILES: ListSpec = ListSpec {
    tool: "list_volume_files",
    key: "contents",
    columns: &["name", "kind", "bytes", "modified"],
    item: "Directory entries: path, name, is_directory, file_size, last_modified (ms).",
    fields: &[Field {
        name: "path",
        json_type: "string",
        description: "The directory listed.",
    }],
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::list(
            &LIST_VOLUMES,
            "List volumes",
            "List the Unity Catalog volumes of a schema (catalog + schema): where files live, as /Volumes/<catalog>/<schema>/<volume>.",
            Toolset::Files,
            list_volumes,
        ),
        ToolDef::list(
            &LIST_VOLUME_FILES,
            "List volume files",
            "List a volume directory's files and folders with size and modification time.",
            Toolset::Files,
            list_volume_files,
        ),
        ToolDef::new(
            "read_volume_file",
            "Read volume file",
            "Read a file in a volume: text shown (in parts: offset, length), CSV, JSON lines and Parquet previewed as rows, other binary files summarized.",
            Toolset::Files,
            ToolKind::ReadGet,
            read_volume_file,
        ),
        ToolDef::new(
            "upload_volume_file",
            "Upload volume file",
            "Write a file to a volume (text, or base64 for binary; at most 10 MiB); refused if it exists, unless overwrite.",
            Toolset::Files,
            ToolKind::Action {
                destructive: true,
                idempotent: true,
            },
            upload_volume_file,
        ),
    ]
}

/// A checked volume path: absolute, under `/Volumes/<catalog>/<schema>/<volume>`, no
/// `..`, `.` or empty segments, no control characters. `at_least` is 4 for anything in a
/// volume, 5 for a file inside one.
pub fn volume_path(path: &str, at_least: usize) -> Result<String, ToolError> {
    let path = path.trim();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let fits =
        path.starts_with("/Volumes/") && path.len() <= 4096 && !path.chars().any(char::is_control);
    if !fits {
        return Err(ToolError::new(format!(
            "path {path:?} is not a volume path: it must start with /Volumes/<catalog>/<schema>/<volume>"
        )));
    }
    let segments: Vec<&str> = match segments.split_last() {
        Some((&"", rest)) => rest.to_vec(),
        _ => segments,
    };
    if segments.iter().any(|s| matches!(*s, ".." | "." | "")) {
        return Err(ToolError::new(format!(
            "path {path:?} must not contain \"..\", \".\" or empty segments"
        )));
    }
    if segments.len() < at_least {
        return Err(ToolError::new(if at_least > 4 {
            format!("path {path:?} names a volume or less: give a file inside the volume")
        } else {
            format!(
                "path {path:?} must name at least a volume: /Volumes/<catalog>/<schema>/<volume>"
            )
        }));
    }
    Ok(format!("/{}", segments.join("/")))
}

fn name_part(value: &str, what: &str) -> Result<String, ToolError> {
    let v = value.trim();
    if v.is_empty() || v.contains(['.', '/']) || v.chars().any(char::is_control) {
        return Err(ToolError::new(format!(
            "{what} {value:?} must be one name (no dots or slashes)"
        )));
    }
    Ok(v.to_string())
}

async fn list_volumes(ctx: CallContext, args: ListVolumesArgs) -> Result<ToolOutput, ToolError> {
    let catalog = name_part(&args.catalog, "catalog")?;
    let schema = name_part(&args.schema, "schema")?;
    let volumes = ctx
        .state
        .client
        .list_volumes(&catalog, &schema)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing the volumes of {catalog}.{schema}"), e).hint_for(
                ErrorKind::NotFound,
                format!("Call list_schemas with catalog {catalog:?} to see its schemas."),
            )
        })?;
    let rows = volumes.iter().map(|v| {
        let name = v.name.clone();
        vec![
            Some(name.clone()),
            v.volume_type.clone(),
            Some(format!("/Volumes/{catalog}/{schema}/{name}")),
            v.comment.clone(),
        ]
    });
    let summary = format!(
        "{} volume{} in {catalog}.{schema}.",
        volumes.len(),
        if volumes.len() == 1 { "" } else { "s" }
    );
    Ok(LIST_VOLUMES
        .page(rows, values(&volumes), None)
        .summary(summary)
        .answer(&ctx))
}

fn not_found_hint(path: &str) -> String {
    let parent = path.rsplit_once('/').map_or("/Volumes", |(p, _)| p);
    format!("Call list_volume_files on {parent} to see what exists.")
}

async fn list_volume_files(
    ctx: CallContext,
    args: ListVolumeFilesArgs,
) -> Result<ToolOutput, ToolError> {
    let path = volume_path(&args.path, 4)?;
    let page = ctx
        .state
        .client
        .list_directory(&path, args.page.size(), args.page.cursor())
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Listing {path}"), e)
                .hint_for(ErrorKind::NotFound, not_found_hint(&path))
        })?;
    let rows = page.items.iter().map(|e| {
        vec![
            Some(e.name.clone()),
            Some(if e.is_directory { "folder" } else { "file" }.to_string()),
            e.file_size.map(|s| s.to_string()),
            timestamp_ms(e.last_modified),
        ]
    });
    Ok(LIST_VOLUME_FILES
        .page(rows, values(&page.items), page.next_page_token)
        .field("path", &path)
        .answer(&ctx))
}

/// What a file looks like from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Parquet,
    Csv(u8),
    JsonLines,
    Json,
    Text,
    Binary(&'static str),
}

fn kind_of(path: &str, head: &[u8]) -> Kind {
    let lower = path.to_ascii_lowercase();
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if head.starts_with(b"PAR1") || extension == "parquet" {
        return Kind::Parquet;
    }
    let magic: [(&[u8], &'static str); 8] = [
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF document"),
        (
            b"PK\x03\x04",
            "ZIP archive (or a file format built on it: xlsx, docx, jar, whl)",
        ),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"ORC", "ORC data file"),
        (b"Obj\x01", "Avro data file"),
    ];
    if let Some((_, what)) = magic.iter().find(|(m, _)| head.starts_with(m)) {
        return Kind::Binary(what);
    }
    // Text: UTF-8 (a cut last character allowed) without NUL.
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if !valid || head.contains(&0) {
        return Kind::Binary("binary data");
    }
    match extension {
        "csv" => Kind::Csv(b','),
        "tsv" => Kind::Csv(b'\t'),
        "jsonl" | "ndjson" => Kind::JsonLines,
        "json" => Kind::Json,
        _ => Kind::Text,
    }
}

async fn read_volume_file(
    ctx: CallContext,
    args: ReadVolumeFileArgs,
) -> Result<ToolOutput, ToolError> {
    let path = volume_path(&args.path, 5)?;
    let client = &ctx.state.client;
    let fail = |e| {
        ToolError::upstream(&format!("Reading {path}"), e)
            .hint_for(ErrorKind::NotFound, not_found_hint(&path))
    };
    let budget = ctx.state.settings.max_chars.saturating_sub(400).max(1000) as u64;
    let length = args.length.unwrap_or(budget).clamp(1, MAX_READ_BYTES);
    let offset = args.offset.unwrap_or(0);
    let Some(size) = client.file_size(&path).await.map_err(fail)? else {
        return Err(ToolError::new(format!(
            "{path} does not exist. {}",
            not_found_hint(&path)
        )));
    };
    if size == 0 {
        return Ok(ToolOutput::new(
            format!("{path} is empty (0 bytes)."),
            json!({"path": path, "size": 0}),
        ));
    }
    if offset >= size {
        return Err(ToolError::new(format!(
            "offset {offset} is past the end: {path} has {size} bytes"
        )));
    }
    let read = client
        .read_file(&path, offset, length)
        .await
        .map_err(fail)?;
    let head: &[u8] = &read.bytes;
    let kind = if offset == 0 {
        kind_of(&path, head)
    } else {
        Kind::Text
    };
    let end = offset + head.len() as u64;
    let structured = |extra: Value| {
        let mut v = json!({"path": path, "size": size, "offset": offset, "bytes_read": head.len()});
        if let (Value::Object(v), Value::Object(extra)) = (&mut v, extra) {
            v.extend(extra);
        }
        v
    };
    let text = match kind {
        Kind::Parquet => {
            let (text, rows) = parquet_preview(&ctx, &path, size).await?;
            return Ok(ToolOutput::new(
                text,
                structured(json!({"kind": "parquet", "rows": rows})),
            ));
        }
        Kind::Binary(what) => {
            return Ok(ToolOutput::new(
                format!("{path}: {what}, {size} bytes; not shown as text."),
                structured(json!({"kind": "binary", "detected": what})),
            ));
        }
        Kind::Csv(separator) => csv_preview(head, separator, size, &path),
        Kind::JsonLines | Kind::Json => json_preview(head, size, &path, kind == Kind::JsonLines),
        Kind::Text => None,
    };
    if let Some((text, rows)) = text {
        return Ok(ToolOutput::new(
            text,
            structured(json!({"kind": "rows", "rows": rows})),
        ));
    }
    let shown = String::from_utf8_lossy(head).into_owned();
    let mut text = format!("{path} ({size} bytes), bytes {offset}–{end}:\n{shown}");
    if end < size {
        text.push_str(&format!(
            "\n[{} more bytes: call read_volume_file with offset {end}]",
            size - end
        ));
    }
    Ok(ToolOutput::new(
        text,
        structured(
            json!({"kind": "text", "text": shown, "next_offset": (end < size).then_some(end)}),
        ),
    ))
}

/// The complete lines of `head` (the last may be cut by the read).
fn whole_lines(head: &[u8], complete: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if !complete && !text.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// Splits one CSV line: quoted fields may hold the separator and doubled quotes.
fn split_csv(line: &str, separator: u8) -> Vec<Option<String>> {
    let separator = char::from(separator);
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (c, false) if c == separator => fields.push(Some(std::mem::take(&mut field))),
            (c, _) => field.push(c),
        }
    }
    fields.push(Some(field));
    fields
        .into_iter()
        .map(|f| f.filter(|s| !s.is_empty()))
        .collect()
}

fn csv_preview(head: &[u8], separator: u8, size: u64, path: &str) -> Option<(String, Vec<Value>)> {
    let lines = whole_lines(head, head.len() as u64 >= size);
    let (header, body) = lines.split_first()?;
    let columns: Vec<String> = split_csv(header, separator)
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.unwrap_or_else(|| format!("_c{i}")))
        .collect();
    let rows: Vec<Vec<Option<String>>> = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(PREVIEW_ROWS)
        .map(|l| split_csv(l, separator))
        .collect();
    let table = render::table(&columns, rows.clone(), 12_000);
    let structured = rows
        .iter()
        .map(|r| {
            Value::Object(
                columns
                    .iter()
                    .zip(r.iter().chain(std::iter::repeat(&None)))
                    .map(|(c, v)| (c.clone(), json!(v)))
                    .collect(),
            )
        })
        .collect();
    Some((
        format!(
            "{path} ({size} bytes), CSV; the first {} rows:\n{}\nQuery all of it with run_sql_query: SELECT * FROM read_files('{path}', format => 'csv', header => true)",
            table.rows_shown, table.text
        ),
        structured,
    ))
}

fn json_preview(
    head: &[u8],
    size: u64,
    path: &str,
    lines_only: bool,
) -> Option<(String, Vec<Value>)> {
    let whole = head.len() as u64 >= size;
    // A whole JSON document that is an array of objects, or JSON lines.
    let objects: Vec<serde_json::Map<String, Value>> = match (lines_only, whole) {
        (false, true) => match serde_json::from_slice::<Value>(head).ok()? {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .take(PREVIEW_ROWS)
                .collect(),
            _ => return None,
        },
        _ => {
            let parsed: Vec<_> = whole_lines(head, whole)
                .iter()
                .filter(|l| !l.trim().is_empty())
                .take(PREVIEW_ROWS)
                .map(|l| serde_json::from_str::<serde_json::Map<String, Value>>(l))
                .collect::<Result<_, _>>()
                .ok()?;
            parsed
        }
    };
    if objects.is_empty() {
        return None;
    }
    let mut columns: Vec<String> = Vec::new();
    for o in &objects {
        for k in o.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = objects.iter().map(|o| {
        columns
            .iter()
            .map(|c| render::json_cell(o.get(c)))
            .collect::<Vec<_>>()
    });
    let table = render::table(&columns, rows, 12_000);
    Some((
        format!(
            "{path} ({size} bytes), JSON; the first {} records:\n{}",
            table.rows_shown, table.text
        ),
        objects.into_iter().map(Value::Object).collect(),
    ))
}

async fn parquet_preview(
    ctx: &CallContext,
    path: &str,
    size: u64,
) -> Result<(String, Vec<Vec<Option<String>>>), ToolError> {
    let query_hint =
        format!("Query it with run_sql_query: SELECT * FROM parquet.`{path}` LIMIT 20");
    if size > MAX_PARQUET_PREVIEW {
        return Ok((
            format!(
                "{path}: Parquet file of {size} bytes, too large to preview here. {query_hint}"
            ),
            Vec::new(),
        ));
    }
    let read = ctx
        .state
        .client
        .read_file(path, 0, size)
        .await
        .map_err(|e| ToolError::upstream(&format!("Reading {path}"), e))?;
    let bytes = read.bytes;
    // The reader panics on some malformed files; the bytes are the workspace's, so a bad
    // file is an answer, not a crashed call.
    let decoded = std::panic::catch_unwind(move || decode_parquet(bytes))
        .unwrap_or_else(|_| Err("the Parquet reader rejected the file".to_string()));
    if decoded.as_ref().is_err_and(|e| e == NO_PARQUET) {
        return Ok((
            format!("{path}: Parquet file of {size} bytes ({NO_PARQUET}). {query_hint}"),
            Vec::new(),
        ));
    }
    match decoded {
        Ok((columns, total, rows)) => {
            let table = render::table(&columns, rows.clone(), 12_000);
            Ok((
                format!(
                    "{path}: Parquet, {size} bytes, {total} rows, {} columns; the first {}:\n{}\n{query_hint}",
                    columns.len(),
                    table.rows_shown,
                    table.text
                ),
                rows,
            ))
        }
        Err(e) => Ok((
            format!("{path}: Parquet file of {size} bytes that could not be read ({e})."),
            Vec::new(),
        )),
    }
}

type Preview = (Vec<String>, i64, Vec<Vec<Option<String>>>);

/// Why a build without the `parquet` feature shows no rows.
const NO_PARQUET: &str = "this build previews no Parquet";

#[cfg(not(feature = "parquet"))]
fn decode_parquet(_: bytes::Bytes) -> Result<Preview, String> {
    Err(NO_PARQUET.to_string())
}

#[cfg(feature = "parquet")]
fn decode_parquet(bytes: bytes::Bytes) -> Result<Preview, String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| e.to_string())?;
    let total = builder.metadata().file_metadata().num_rows();
    let columns: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.data_type()))
        .collect();
    let reader = builder
        .with_batch_size(PREVIEW_ROWS)
        .with_limit(PREVIEW_ROWS)
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let n = batch.num_rows();
        databricks_client::services::results::append_rows(&batch, 0..n, &mut rows);
        if rows.len() >= PREVIEW_ROWS {
            break;
        }
    }
    Ok((columns, total, rows))
}

async fn upload_volume_file(
    ctx: CallContext,
    args: UploadVolumeFileArgs,
) -> Result<ToolOutput, ToolError> {
    let path = volume_path(&args.path, 5)?;
    let content: Vec<u8> = match args.encoding.as_deref().map(str::trim) {
        None | Some("" | "text") => args.content.into_bytes(),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(args.content.trim())
            .map_err(|e| ToolError::new(format!("content is not valid base64: {e}")))?,
        Some(other) => {
            return Err(ToolError::new(format!(
                "encoding must be \"text\" or \"base64\", not {other:?}"
            )));
        }
    };
    if content.len() > MAX_UPLOAD_BYTES {
        return Err(ToolError::new(format!(
            "the file is {} bytes; upload_volume_file takes at most 10 MiB ({MAX_UPLOAD_BYTES} bytes)",
            content.len()
        )));
    }
    let overwrite = args.overwrite.unwrap_or(false);
    let client = &ctx.state.client;
    let existing = client
        .file_size(&path)
        .await
        .map_err(|e| ToolError::upstream(&format!("Checking {path}"), e))?;
    let replacing = match existing {
        Some(_) if !overwrite => {
            return Err(ToolError::new(format!(
                "{path} already exists; pass overwrite: true to replace it"
            )));
        }
        Some(old) => format!(" (replacing the existing file of {old} bytes)"),
        None => String::new(),
    };
    ctx.confirm(
        &path,
        &format!("Upload {} bytes to {path}{replacing}?", content.len()),
    )
    .await?;
    let bytes = content.len();
    client
        .upload_file(&path, bytes::Bytes::from(content), overwrite)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Uploading {path}"), e)
                .hint_for(
                    ErrorKind::NotFound,
                    "The volume does not exist: list_volumes shows the volumes of a schema.",
                )
                .needs("WRITE VOLUME on the volume")
        })?;
    Ok(ToolOutput::new(
        format!("Wrote {bytes} bytes to {path}."),
        json!({"path": path, "bytes": bytes, "overwrote": existing.is_some()}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_a_volume_are_accepted() {
        assert_eq!(
            volume_path("/Volumes/main/sales/landing/a.csv", 5).expect("test value"),
            "/Volumes/main/sales/landing/a.csv"
        );
        assert_eq!(
            volume_path("/Volumes/main/sales/landing/", 4).expect("test value"),
            "/Volumes/main/sales/landing"
        );
        for bad in [
            "/etc/passwd",
            "Volumes/main/sales/landing/a",
            "/Volumes/main/sales/landing/../../other/x",
            "/Volumes/main/sales/./landing/x",
            "/Volumes/main//landing/x",
            "/Volumes/main/sales/landing/a\u{0}b",
        ] {
            assert!(volume_path(bad, 5).is_err(), "{bad}");
        }
        assert!(volume_path("/Volumes/main/sales/landing", 5).is_err());
        assert!(volume_path("/Volumes/main/sales", 4).is_err());
    }

    #[test]
    fn kinds_come_from_magic_bytes_then_names() {
        assert_eq!(kind_of("/V/a/b/c/x.bin", b"PAR1abc"), Kind::Parquet);
        assert!(matches!(
            kind_of("/V/a/b/c/x", b"\x89PNG\r\n"),
            Kind::Binary(_)
        ));
        assert!(matches!(
            kind_of("/V/a/b/c/x.txt", b"ab\0c"),
            Kind::Binary(_)
        ));
        assert_eq!(kind_of("/V/a/b/c/x.CSV", b"a,b\n1,2\n"), Kind::Csv(b','));
        assert_eq!(kind_of("/V/a/b/c/x.jsonl", b"{}\n"), Kind::JsonLines);
        assert_eq!(kind_of("/V/a/b/c/notes", "é".as_bytes()), Kind::Text);
    }

    #[test]
    fn csv_fields_keep_quoted_separators() {
        assert_eq!(
            split_csv(r#"1,"a, b","say ""hi""",,x"#, b','),
            vec![
                Some("1".into()),
                Some("a, b".into()),
                Some("say \"hi\"".into()),
                None,
                Some("x".into())
            ]
        );
    }
}
