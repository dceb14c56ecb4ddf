//! Reading Delta tables fast: providers cached per table version, and plain Parquet scans
//! for the tables that need nothing of Delta beyond the list of their files.
//!
//! Opening a Delta table replays its log, and delta-rs's own scan reads all of a table's
//! files in one partition; for a small query both cost more than the query itself. A
//! provider is reused while the table's latest commit is the one it was built from,
//! which a listing of `_delta_log` tells (a write through this workspace or another
//! process adds a commit file; a table deleted and written again has new commit files).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::options::ReadOptions as _;
use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake::DeltaTable;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow as _;
use serde_json::Value;

/// Providers kept at most (tables × versions read recently).
const CAPACITY: usize = 256;

/// What identifies a version of a table on disk: its number and its commit file's
/// modification time and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    version: u64,
    modified: SystemTime,
    len: u64,
}

/// A table directory and a version (`None`: the latest).
type Key = (PathBuf, Option<u64>);
type Entry = (Stamp, Arc<dyn TableProvider>);

/// Providers by table and version, with the stamp of the version each was built from.
#[derive(Default)]
pub(crate) struct ProviderCache {
    map: Mutex<HashMap<Key, Entry>>,
}

impl ProviderCache {
    pub fn get(
        &self,
        table: &Path,
        version: Option<u64>,
        stamp: &Stamp,
    ) -> Option<Arc<dyn TableProvider>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(table.to_path_buf(), version)) {
            Some((s, p)) if s == stamp => Some(p.clone()),
            _ => None,
        }
    }

    pub fn put(
        &self,
        table: &Path,
        version: Option<u64>,
        stamp: Stamp,
        provider: Arc<dyn TableProvider>,
    ) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let key = (table.to_path_buf(), version);
        if map.len() >= CAPACITY && !map.contains_key(&key) {
            // Rarely reached; forgetting everything keeps this simple and bounded.
            map.clear();
        }
        map.insert(key, (stamp, provider));
    }
}

/// The stamp of the table's latest version: the highest-numbered commit file in
/// `_delta_log`. `None` when it cannot be told (then nothing is cached).
pub(crate) fn latest_stamp(table: &Path) -> Option<Stamp> {
    let log = table.join("_delta_log");
    let latest = std::fs::read_dir(&log)
        .ok()?
        .flatten()
        .filter_map(|e| commit_version(&e.file_name().to_string_lossy()))
        .max()?;
    stamp_of(table, latest)
}

/// The stamp of one version, from its commit file.
pub(crate) fn stamp_of(table: &Path, version: u64) -> Option<Stamp> {
    let meta = std::fs::metadata(table.join(format!("_delta_log/{version:020}.json"))).ok()?;
    Some(Stamp {
        version,
        modified: meta.modified().ok()?,
        len: meta.len(),
    })
}

impl Stamp {
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// `00000000000000000012.json` → 12.
fn commit_version(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reader features a plain Parquet scan honours (deletion vectors and column mapping only
/// when the table does not use them, which is checked separately).
const PLAIN_READER_FEATURES: [&str; 6] = [
    "deletionVectors",
    "columnMapping",
    "timestampNtz",
    "v2Checkpoint",
    "vacuumProtocolCheck",
    "checkpointProtection",
];

/// A DataFusion Parquet listing of the table's files, when reading its files as they are
/// gives the table's rows: no partition columns, no column mapping, no deletion vectors,
/// no reader feature beyond [`PLAIN_READER_FEATURES`], no nested columns (whose
/// nullability Delta and the files may state differently). `None` otherwise: delta-rs
/// then reads it.
pub(crate) async fn plain_parquet(
    table: &DeltaTable,
    reader: &SessionContext,
) -> Option<Arc<dyn TableProvider>> {
    let state = table.snapshot().ok()?;
    let protocol = serde_json::to_value(state.protocol()).ok()?;
    let metadata = serde_json::to_value(state.metadata()).ok()?;
    let features_ok = protocol
        .get("readerFeatures")
        .and_then(Value::as_array)
        .is_none_or(|fs| {
            fs.iter().all(|f| {
                f.as_str()
                    .is_some_and(|f| PLAIN_READER_FEATURES.contains(&f))
            })
        });
    let unpartitioned = metadata
        .get("partitionColumns")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let mapping = metadata
        .get("configuration")
        .and_then(|c| c.get("delta.columnMapping.mode"))
        .and_then(Value::as_str)
        .unwrap_or("none");
    if !features_ok || !unpartitioned || !mapping.eq_ignore_ascii_case("none") {
        return None;
    }
    let schema: Schema = state.snapshot().schema().as_ref().try_into_arrow().ok()?;
    if schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return None;
    }
    let session = reader.state();
    let schema = if session
        .config()
        .options()
        .execution
        .parquet
        .schema_force_view_types
    {
        with_view_types(&schema)
    } else {
        schema
    };
    let log_store = table.log_store();
    let mut urls = Vec::new();
    for file in state.log_data() {
        if file.deletion_vector_descriptor().is_some() {
            return None;
        }
        urls.push(ListingTableUrl::parse(log_store.to_uri(&file.object_store_path())).ok()?);
    }
    if urls.is_empty() {
        // A listing needs a path; delta-rs answers an empty table.
        return None;
    }
    let options = ParquetReadOptions::default()
        .to_listing_options(session.config(), session.default_table_options());
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(Arc::new(schema));
    let listing = ListingTable::try_new(config).ok()?;
    Some(Arc::new(listing))
}

/// The schema with strings and binaries as view types, as DataFusion reads Parquet files
/// by default (`schema_force_view_types`): the scan then keeps the arrays the Parquet
/// reader builds instead of copying every string into a `Utf8` array (TPC-H Q12 and
/// Q19 spent 70–90 ms of ~260 ms doing that). Answers are written as `Utf8` again
/// (`render`), and writes as Delta's `string` (`delta`).
fn with_view_types(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 => {
                f.as_ref().clone().with_data_type(DataType::Utf8View)
            }
            DataType::Binary | DataType::LargeBinary => {
                f.as_ref().clone().with_data_type(DataType::BinaryView)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_file_names() {
        assert_eq!(commit_version("00000000000000000012.json"), Some(12));
        assert_eq!(
            commit_version("00000000000000000012.checkpoint.parquet"),
            None
        );
        assert_eq!(commit_version("_last_checkpoint"), None);
        assert_eq!(commit_version("12.json"), None);
    }
}
