//! Files API and DBFS data (REFERENCE §8): an in-memory tree, the [`VolumeFiles`] backend
//! of the shared server. Every volume `/Volumes/<catalog>/<schema>/<volume>` exists
//! (unless a component starts with `missing`); `landing` is seeded from
//! `fs_directories_list.json`, and the DBFS root from `dbfs_list.json` and
//! `dbfs_read.json`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;

use base64::Engine as _;
use databricks_api::backend::{Answer, FileEntry, FileMetadata, VolumeFiles, async_trait};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::files::{DirectoryListing, ListStatusResponse, ReadResponse};

use crate::fixtures::fixture_as;
use crate::util::lock;

/// A file, or a directory (no bytes).
struct Node {
    bytes: Option<Vec<u8>>,
    modified: i64,
}

impl Node {
    fn dir(modified: i64) -> Node {
        Node {
            bytes: None,
            modified,
        }
    }

    fn file(bytes: Vec<u8>, modified: i64) -> Node {
        Node {
            bytes: Some(bytes),
            modified,
        }
    }

    fn metadata(&self) -> FileMetadata {
        FileMetadata {
            is_directory: self.bytes.is_none(),
            size: self.bytes.as_ref().map_or(0, |b| b.len() as u64),
            modified_ms: self.modified,
        }
    }
}

pub(crate) struct FixtureFiles {
    nodes: Mutex<BTreeMap<String, Node>>,
}

/// The recorded listing's file, made large enough to page through (2,000 rows).
fn orders_csv() -> Vec<u8> {
    let customers = ["alice", "bob", "carol", "dave"].into_iter().cycle();
    let rows = (0..2000_u32).zip(customers).map(|(i, customer)| {
        let (id, amount, day) = (1000 + i, 10 + i % 500, 1 + i % 28);
        format!("{id},{customer},{amount}.{:02},2024-02-{day:02}\n", i % 100)
    });
    let header = std::iter::once("order_id,customer,amount,order_date\n".to_string());
    header.chain(rows).collect::<String>().into_bytes()
}

const SEEDED: i64 = 1_709_258_400_000;

impl FixtureFiles {
    pub fn new() -> FixtureFiles {
        let mut nodes = BTreeMap::new();
        let listing: DirectoryListing = fixture_as("fs_directories_list.json");
        for e in listing.contents {
            let modified = e.last_modified.unwrap_or(SEEDED);
            if e.is_directory {
                let part = b"order_id,customer,amount,order_date\n1,alice,10.00,2024-03-01\n";
                let part_file = format!("{}/part-00000.csv", e.path);
                nodes.insert(part_file, Node::file(part.to_vec(), modified));
                nodes.insert(e.path, Node::dir(modified));
            } else {
                nodes.insert(e.path, Node::file(orders_csv(), modified));
            }
        }
        // The DBFS fixtures name their directory `<tmp>`; here it is `/tmp`.
        let dbfs: ListStatusResponse = fixture_as("dbfs_list.json");
        let read: ReadResponse = fixture_as("dbfs_read.json");
        let content = base64::engine::general_purpose::STANDARD
            .decode(&read.data)
            .unwrap_or_default();
        nodes.insert("/tmp".into(), Node::dir(SEEDED));
        for f in dbfs.files {
            let bytes = (!f.is_dir).then(|| content.clone());
            let node = Node {
                bytes,
                modified: f.modification_time,
            };
            nodes.insert(f.path.replace("<tmp>", "/tmp"), node);
        }
        FixtureFiles {
            nodes: Mutex::new(nodes),
        }
    }
}

/// Whether `path` is the root or a volume: directories that always exist.
fn implicit_directory(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    matches!(parts.as_slice(), ["Volumes", c, s, v] if ![c, s, v].iter().any(|p| p.starts_with("missing")))
}

fn missing(path: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("{path} does not exist."))
}

impl FixtureFiles {
    /// Inserts the directories from the root down to `path` (excluded unless `inclusive`).
    fn make_parents(nodes: &mut BTreeMap<String, Node>, path: &str, inclusive: bool) {
        let now = crate::util::now_ms();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let count = if inclusive {
            parts.len()
        } else {
            parts.len().saturating_sub(1)
        };
        let mut prefix = String::new();
        for part in parts.iter().take(count) {
            prefix.push('/');
            prefix.push_str(part);
            if !implicit_directory(&prefix) && !nodes.contains_key(&prefix) {
                nodes.insert(prefix.clone(), Node::dir(now));
            }
        }
    }
}

#[async_trait]
impl VolumeFiles for FixtureFiles {
    async fn metadata(&self, path: &str) -> Answer<Option<FileMetadata>> {
        let node = lock(&self.nodes).get(path).map(Node::metadata);
        let implicit = || implicit_directory(path).then(|| Node::dir(SEEDED).metadata());
        Ok(node.or_else(implicit))
    }

    async fn entries(&self, path: &str) -> Answer<Vec<FileEntry>> {
        let prefix = match path {
            "/" => "/".to_string(),
            _ => format!("{path}/"),
        };
        let entries = (lock(&self.nodes).iter())
            .filter_map(|(p, node)| {
                let name = p.strip_prefix(&prefix)?;
                (!name.is_empty() && !name.contains('/')).then(|| FileEntry {
                    name: name.to_string(),
                    metadata: node.metadata(),
                })
            })
            .collect();
        Ok(entries)
    }

    async fn read(&self, path: &str, range: Range<u64>) -> Answer<Vec<u8>> {
        match lock(&self.nodes).get(path).and_then(|n| n.bytes.as_ref()) {
            Some(bytes) => {
                let start = usize::try_from(range.start).unwrap_or(usize::MAX);
                let end = usize::try_from(range.end).unwrap_or(usize::MAX);
                Ok(bytes
                    .get(start.min(bytes.len())..end.min(bytes.len()))
                    .unwrap_or_default()
                    .to_vec())
            }
            None => Err(missing(path)),
        }
    }

    async fn write(&self, path: &str, content: &[u8]) -> Answer<()> {
        let mut nodes = lock(&self.nodes);
        FixtureFiles::make_parents(&mut nodes, path, false);
        let node = Node::file(content.to_vec(), crate::util::now_ms());
        nodes.insert(path.to_string(), node);
        Ok(())
    }

    async fn mkdirs(&self, path: &str) -> Answer<()> {
        FixtureFiles::make_parents(&mut lock(&self.nodes), path, true);
        Ok(())
    }

    async fn delete_file(&self, path: &str) -> Answer<()> {
        match lock(&self.nodes).remove(path) {
            Some(_) => Ok(()),
            None => Err(missing(path)),
        }
    }

    async fn delete_directory(&self, path: &str) -> Answer<()> {
        lock(&self.nodes).remove(path);
        Ok(())
    }

    async fn rename(&self, from: &str, to: &str) -> Answer<()> {
        let mut nodes = lock(&self.nodes);
        let Some(node) = nodes.remove(from) else {
            return Err(missing(from));
        };
        let inside = format!("{from}/");
        let below: Vec<String> = nodes
            .keys()
            .filter(|p| p.starts_with(&inside))
            .cloned()
            .collect();
        FixtureFiles::make_parents(&mut nodes, to, false);
        for old in below {
            if let Some(child) = nodes.remove(&old) {
                let rest = old.get(from.len()..).unwrap_or_default();
                nodes.insert(format!("{to}{rest}"), child);
            }
        }
        nodes.insert(to.to_string(), node);
        Ok(())
    }
}
