//! The lakehouse on disk: catalogs, schemas and tables under `<dir>/catalogs`, each table a
//! Delta table, a directory of Parquet or CSV files, or a single `.parquet`/`.csv` file.
//! Resolution is case-insensitive (Databricks identifiers are); every failure names the
//! object. Nothing here writes to disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use deltalake::DeltaTable;
use serde_json::Value;

use crate::error::SqlError;
use crate::layout::{self, Layout};

/// The catalog holding `information_schema` views over every catalog.
pub(crate) const SYSTEM: &str = "system";
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

/// How a table's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Delta,
    Parquet,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Delta => "DELTA",
            Format::Parquet => "PARQUET",
            Format::Csv => "CSV",
        }
    }
}

/// A table found on disk.
#[derive(Debug, Clone)]
pub(crate) struct TableLoc {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub path: PathBuf,
    pub format: Format,
}

impl TableLoc {
    /// `` `c`.`s`.`t` `` as Databricks quotes names in messages.
    pub fn quoted(&self) -> String {
        quoted3(&self.catalog, &self.schema, &self.name)
    }
    pub fn full_name(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.name)
    }
}

pub(crate) fn quoted3(c: &str, s: &str, t: &str) -> String {
    format!("`{c}`.`{s}`.`{t}`")
}

/// One column of a table, with its comment.
#[derive(Debug, Clone)]
pub(crate) struct ColumnDetails {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub comment: Option<String>,
    /// Spark JSON of the field (`{"name":..,"type":..,"nullable":..,"metadata":{..}}`).
    pub type_json: Value,
}

/// What Unity Catalog / DESCRIBE say about a table.
#[derive(Debug, Clone)]
pub(crate) struct TableDetails {
    pub loc: TableLoc,
    pub schema: SchemaRef,
    pub comment: Option<String>,
    pub columns: Vec<ColumnDetails>,
    pub partition_columns: Vec<String>,
    pub properties: BTreeMap<String, String>,
    pub version: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub table_id: String,
    pub num_files: usize,
    pub size_bytes: u64,
    pub min_reader_version: Option<i64>,
    pub min_writer_version: Option<i64>,
}

/// One commit of a Delta log.
#[derive(Debug, Clone)]
pub(crate) struct Commit {
    pub version: i64,
    pub timestamp: i64,
    pub operation: String,
    pub parameters: Value,
    pub user: Option<String>,
    pub metrics: Value,
}

#[derive(Clone)]
pub(crate) struct Lakehouse {
    pub layout: Layout,
    /// Used only to infer Parquet/CSV schemas and build their providers.
    reader: SessionContext,
    /// Delta providers by table version, shared by every clone.
    delta: Arc<crate::delta_read::ProviderCache>,
}

impl Lakehouse {
    pub fn new(layout: Layout) -> Lakehouse {
        Lakehouse {
            layout,
            reader: SessionContext::new(),
            delta: Arc::default(),
        }
    }

    /// Catalog names: directories under `catalogs/` plus `system`.
    pub fn catalogs(&self) -> Vec<String> {
        let mut v = layout::subdirs(&self.layout.catalogs());
        if !v.iter().any(|c| c == SYSTEM) {
            v.push(SYSTEM.to_string());
            v.sort();
        }
        v
    }

    pub fn find_catalog(&self, name: &str) -> Option<String> {
        if name.eq_ignore_ascii_case(SYSTEM) {
            return Some(SYSTEM.to_string());
        }
        layout::find_dir(&self.layout.catalogs(), name)
    }

    pub fn catalog_dir(&self, catalog: &str) -> PathBuf {
        self.layout.catalogs().join(catalog)
    }

    /// A catalog's comment: the text of `<catalog>/_comment` when present.
    pub fn catalog_comment(&self, catalog: &str) -> Option<String> {
        if catalog == SYSTEM {
            return Some("System catalog: information_schema views over every catalog.".into());
        }
        read_comment(&self.catalog_dir(catalog).join(COMMENT_FILE))
    }

    /// A schema's comment: the text of `<catalog>/<schema>/_comment` when present.
    pub fn schema_comment(&self, catalog: &str, schema: &str) -> Option<String> {
        if schema == INFORMATION_SCHEMA {
            return Some("Views describing the objects of the catalog.".into());
        }
        read_comment(&self.schema_dir(catalog, schema).join(COMMENT_FILE))
    }

    /// Schemas of an existing catalog (its directories plus `information_schema`).
    pub fn schemas(&self, catalog: &str) -> Vec<String> {
        if catalog == SYSTEM {
            return vec![INFORMATION_SCHEMA.to_string()];
        }
        let mut v = layout::subdirs(&self.catalog_dir(catalog));
        if !v.iter().any(|s| s == INFORMATION_SCHEMA) {
            v.push(INFORMATION_SCHEMA.to_string());
            v.sort();
        }
        v
    }

    pub fn find_schema(&self, catalog: &str, name: &str) -> Option<String> {
        if name.eq_ignore_ascii_case(INFORMATION_SCHEMA) {
            return Some(INFORMATION_SCHEMA.to_string());
        }
        if catalog == SYSTEM {
            return None;
        }
        layout::find_dir(&self.catalog_dir(catalog), name)
    }

    pub fn schema_dir(&self, catalog: &str, schema: &str) -> PathBuf {
        self.catalog_dir(catalog).join(schema)
    }

    /// Table names of an existing schema (not `information_schema`).
    pub fn tables(&self, catalog: &str, schema: &str) -> Vec<String> {
        if schema == INFORMATION_SCHEMA {
            return Vec::new();
        }
        let dir = self.schema_dir(catalog, schema);
        let mut v = layout::subdirs(&dir);
        for f in layout::files(&dir) {
            if let Some(stem) = single_file_stem(&f)
                && !v.iter().any(|t| t == stem)
            {
                v.push(stem.to_string());
            }
        }
        v.sort();
        v
    }

    /// Resolves a three-part name to a table on disk.
    pub fn locate(&self, catalog: &str, schema: &str, table: &str) -> Result<TableLoc, SqlError> {
        let display = quoted3(catalog, schema, table);
        let Some(c) = self.find_catalog(catalog) else {
            return Err(SqlError::table_not_found(
                &display,
                &format!(
                    "Catalog `{catalog}` does not exist (catalogs: {}).",
                    self.catalogs().join(", ")
                ),
            ));
        };
        let Some(s) = self.find_schema(&c, schema) else {
            return Err(SqlError::table_not_found(
                &display,
                &format!(
                    "Schema `{c}`.`{schema}` does not exist (schemas of `{c}`: {}).",
                    self.schemas(&c).join(", ")
                ),
            ));
        };
        if s == INFORMATION_SCHEMA {
            return Err(SqlError::table_not_found(&display, ""));
        }
        let dir = self.schema_dir(&c, &s);
        if let Some(t) = layout::find_dir(&dir, table) {
            let path = dir.join(&t);
            let format = detect_format(&path).ok_or_else(|| {
                SqlError::new(
                    "DELTA_MISSING_DELTA_TABLE",
                    "42P01",
                    format!(
                        "Table {} has no data: its directory {} holds no Delta log (_delta_log), Parquet or CSV files.",
                        quoted3(&c, &s, &t),
                        path.display()
                    ),
                )
            })?;
            return Ok(TableLoc {
                catalog: c,
                schema: s,
                name: t,
                path,
                format,
            });
        }
        // Single-file tables: <schema>/<table>.parquet or .csv.
        if layout::valid_segment(table) {
            for f in layout::files(&dir) {
                if let Some(stem) = single_file_stem(&f)
                    && stem.eq_ignore_ascii_case(table)
                {
                    let format = if f.to_ascii_lowercase().ends_with(".csv") {
                        Format::Csv
                    } else {
                        Format::Parquet
                    };
                    return Ok(TableLoc {
                        catalog: c.clone(),
                        schema: s.clone(),
                        name: stem.to_string(),
                        path: dir.join(&f),
                        format,
                    });
                }
            }
        }
        Err(SqlError::table_not_found(&quoted3(&c, &s, table), ""))
    }

    /// Opens a Delta table (latest version, or `version`).
    pub async fn open_delta(
        &self,
        loc: &TableLoc,
        version: Option<i64>,
    ) -> Result<DeltaTable, SqlError> {
        let url = table_url(&loc.path)?;
        let opened = match version {
            None => deltalake::open_table(url).await,
            Some(v) => {
                let v = u64::try_from(v).map_err(|_| {
                    SqlError::new(
                        "DELTA_VERSION_NOT_FOUND",
                        "22003",
                        format!(
                            "Cannot time travel Delta table {} to version {v}.",
                            loc.quoted()
                        ),
                    )
                })?;
                deltalake::open_table_with_version(url, v).await
            }
        };
        opened.map_err(|e| unreadable(loc, &e.to_string()))
    }

    /// A DataFusion provider for the table (Delta at `version` when given).
    pub async fn provider(
        &self,
        loc: &TableLoc,
        version: Option<i64>,
    ) -> Result<Arc<dyn TableProvider>, SqlError> {
        match loc.format {
            Format::Delta => {
                // A negative version is rejected by `open_delta`.
                let wanted = version.and_then(|v| u64::try_from(v).ok());
                let stamp = match wanted {
                    None if version.is_some() => None,
                    None => crate::delta_read::latest_stamp(&loc.path),
                    Some(v) => crate::delta_read::stamp_of(&loc.path, v),
                };
                if let Some(stamp) = &stamp
                    && let Some(p) = self.delta.get(&loc.path, wanted, stamp)
                {
                    return Ok(p);
                }
                let t = self.open_delta(loc, version).await?;
                let provider = match crate::delta_read::plain_parquet(&t, &self.reader).await {
                    Some(p) => p,
                    None => t
                        .table_provider()
                        .await
                        .map_err(|e| unreadable(loc, &e.to_string()))?,
                };
                // Only when the stamp is of the version opened (a commit may land between).
                if let Some(stamp) = stamp
                    && t.version() == Some(stamp.version())
                {
                    self.delta.put(&loc.path, wanted, stamp, provider.clone());
                }
                Ok(provider)
            }
            Format::Parquet | Format::Csv => {
                if version.is_some() {
                    return Err(SqlError::unsupported(format_args!(
                        "time travel on {} table {}: only Delta tables have versions",
                        loc.format.name(),
                        loc.quoted()
                    )));
                }
                let mut path = loc.path.to_string_lossy().into_owned();
                if loc.path.is_dir() && !path.ends_with('/') {
                    path.push('/');
                }
                let df = if loc.format == Format::Parquet {
                    self.reader
                        .read_parquet(path, ParquetReadOptions::default())
                        .await
                } else {
                    self.reader
                        .read_csv(path, CsvReadOptions::new().has_header(true))
                        .await
                };
                let df = df.map_err(|e| unreadable(loc, &e.to_string()))?;
                Ok(df.into_view())
            }
        }
    }

    /// Everything Unity Catalog and DESCRIBE report about a table.
    pub async fn details(&self, loc: &TableLoc) -> Result<TableDetails, SqlError> {
        match loc.format {
            Format::Delta => self.delta_details(loc).await,
            Format::Parquet | Format::Csv => {
                let provider = self.provider(loc, None).await?;
                let schema = provider.schema();
                let columns = schema
                    .fields()
                    .iter()
                    .map(|f| ColumnDetails {
                        name: f.name().clone(),
                        data_type: f.data_type().clone(),
                        nullable: f.is_nullable(),
                        comment: None,
                        type_json: serde_json::json!({
                            "name": f.name(),
                            "type": crate::types::spark_json_type(f.data_type()),
                            "nullable": f.is_nullable(),
                            "metadata": {},
                        }),
                    })
                    .collect();
                let (num_files, size_bytes) = dir_stats(&loc.path, loc.format);
                let mtime = layout::mtime_ms(&loc.path);
                Ok(TableDetails {
                    loc: loc.clone(),
                    schema,
                    comment: None,
                    columns,
                    partition_columns: Vec::new(),
                    properties: BTreeMap::new(),
                    version: None,
                    created_at: mtime,
                    updated_at: mtime,
                    table_id: uuid_from(&loc.full_name()),
                    num_files,
                    size_bytes,
                    min_reader_version: None,
                    min_writer_version: None,
                })
            }
        }
    }

    async fn delta_details(&self, loc: &TableLoc) -> Result<TableDetails, SqlError> {
        let table = self.open_delta(loc, None).await?;
        let provider = table
            .table_provider()
            .await
            .map_err(|e| unreadable(loc, &e.to_string()))?;
        let schema = provider.schema();
        let state = table
            .snapshot()
            .map_err(|e| unreadable(loc, &e.to_string()))?;
        let metadata = state.metadata();
        let protocol = state.protocol();
        let delta_fields: Vec<Value> = serde_json::from_str::<Value>(metadata.schema_string())
            .ok()
            .and_then(|v| v.get("fields").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                let delta = delta_fields
                    .iter()
                    .find(|d| d.get("name").and_then(Value::as_str) == Some(f.name().as_str()));
                let comment = delta
                    .and_then(|d| d.pointer("/metadata/comment"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let type_json = delta.cloned().unwrap_or_else(|| {
                    serde_json::json!({
                        "name": f.name(),
                        "type": crate::types::spark_json_type(f.data_type()),
                        "nullable": f.is_nullable(),
                        "metadata": {},
                    })
                });
                ColumnDetails {
                    name: f.name().clone(),
                    data_type: f.data_type().clone(),
                    nullable: f.is_nullable(),
                    comment,
                    type_json,
                }
            })
            .collect();
        let mut properties: BTreeMap<String, String> = metadata
            .configuration()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        properties.insert(
            "delta.minReaderVersion".into(),
            protocol.min_reader_version().to_string(),
        );
        properties.insert(
            "delta.minWriterVersion".into(),
            protocol.min_writer_version().to_string(),
        );
        let version = i64::try_from(state.version()).ok();
        let commits = commits(&loc.path);
        let created_at = metadata
            .created_time()
            .or_else(|| commits.first().map(|c| c.timestamp))
            .unwrap_or_else(|| layout::mtime_ms(&loc.path));
        let updated_at = commits.last().map(|c| c.timestamp).unwrap_or(created_at);
        let (num_files, size_bytes) = match table.get_file_uris() {
            Ok(uris) => {
                let mut n = 0;
                let mut size = 0;
                for u in uris {
                    n += 1;
                    if let Ok(p) = url::Url::parse(&u).and_then(|u| {
                        u.to_file_path()
                            .map_err(|()| url::ParseError::RelativeUrlWithoutBase)
                    }) {
                        size += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                    }
                }
                (n, size)
            }
            Err(_) => (0, 0),
        };
        Ok(TableDetails {
            loc: loc.clone(),
            schema,
            comment: metadata.description().map(str::to_string),
            columns,
            partition_columns: metadata.partition_columns().to_vec(),
            properties,
            version,
            created_at,
            updated_at,
            table_id: metadata.id().to_string(),
            num_files,
            size_bytes,
            min_reader_version: Some(i64::from(protocol.min_reader_version())),
            min_writer_version: Some(i64::from(protocol.min_writer_version())),
        })
    }
}

/// `file://` URL of a table directory.
pub(crate) fn table_url(path: &Path) -> Result<url::Url, SqlError> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    url::Url::from_directory_path(&abs)
        .map_err(|()| SqlError::internal(format!("cannot make a URL of {}", abs.display())))
}

/// File holding the comment of a catalog or schema directory (hidden from listings).
pub(crate) const COMMENT_FILE: &str = "_comment";

fn read_comment(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn unreadable(loc: &TableLoc, detail: &str) -> SqlError {
    SqlError::new(
        "FAILED_READ_FILE",
        "KD001",
        format!(
            "Cannot read {} table {} at {}: {detail}",
            loc.format.name(),
            loc.quoted(),
            loc.path.display()
        ),
    )
}

fn single_file_stem(file: &str) -> Option<&str> {
    let lower = file.to_ascii_lowercase();
    for ext in [".parquet", ".csv"] {
        if lower.ends_with(ext) && file.len() > ext.len() {
            return file.get(..file.len() - ext.len());
        }
    }
    None
}

/// The format of a table directory, `None` when it holds no data.
fn detect_format(dir: &Path) -> Option<Format> {
    if dir.join("_delta_log").is_dir() {
        return Some(Format::Delta);
    }
    let mut found = None;
    scan(dir, 0, &mut |name| {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") {
            found = Some(Format::Parquet);
            true
        } else {
            if lower.ends_with(".csv") && found.is_none() {
                found = Some(Format::Csv);
            }
            false
        }
    });
    found
}

/// Walks visible files up to 4 levels deep (partition directories); `visit` returns true
/// to stop.
fn scan(dir: &Path, depth: usize, visit: &mut dyn FnMut(&str) -> bool) -> bool {
    if depth > 4 {
        return false;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    for e in rd.flatten() {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if layout::hidden(&name) {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            if scan(&p, depth + 1, visit) {
                return true;
            }
        } else if visit(&name) {
            return true;
        }
    }
    false
}

fn dir_stats(path: &Path, format: Format) -> (usize, u64) {
    if path.is_file() {
        return (1, std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
    }
    let ext = if format == Format::Csv {
        ".csv"
    } else {
        ".parquet"
    };
    let mut n = 0;
    let mut size = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            if layout::hidden(&name) {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(ext) {
                n += 1;
                size += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (n, size)
}

/// A deterministic UUID-shaped id for a name.
pub(crate) fn uuid_from(name: &str) -> String {
    let a = layout::stable_id(name) as u64;
    let b = layout::stable_id(&format!("{name}#")) as u64;
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The commits of a Delta table, oldest first, read from its `_delta_log/*.json` files.
pub(crate) fn commits(table_dir: &Path) -> Vec<Commit> {
    let log = table_dir.join("_delta_log");
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&log) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(version) = stem.parse::<i64>() else {
            continue;
        };
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let info = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v.get("commitInfo").cloned());
        let mtime = layout::mtime_ms(&e.path());
        let get = |k: &str| info.as_ref().and_then(|i| i.get(k)).cloned();
        out.push(Commit {
            version,
            timestamp: get("inCommitTimestamp")
                .or_else(|| get("timestamp"))
                .and_then(|v| v.as_i64())
                .unwrap_or(mtime),
            operation: get("operation")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "UNKNOWN".into()),
            parameters: get("operationParameters").unwrap_or(Value::Null),
            user: get("userName").and_then(|v| v.as_str().map(str::to_string)),
            metrics: get("operationMetrics").unwrap_or(Value::Null),
        });
    }
    out.sort_by_key(|c| c.version);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_stems() {
        assert_eq!(single_file_stem("orders.csv"), Some("orders"));
        assert_eq!(single_file_stem("x.PARQUET"), Some("x"));
        assert_eq!(single_file_stem(".csv"), None);
        assert_eq!(single_file_stem("notes.txt"), None);
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_from("a.b.c");
        assert_eq!(u.len(), 36);
        assert_eq!(u, uuid_from("a.b.c"));
    }
}
