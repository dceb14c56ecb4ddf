//! Files API and DBFS data (REFERENCE §8): an in-memory tree, the [`VolumeFiles`] backend
//! of the shared server. Every volume `/Volumes/<catalog>/<schema>/<volume>` exists
//! (unless a component starts with `missing`); `landing` is seeded from
//! `fs_directories_list.json`, and the DBFS root from `dbfs_list.json` and
//! `dbfs_read.json`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;

use base64::Engine as _;
use databricks_api::backend::{Answer, FileEntry, FileMetadata, VolumeFiles};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::files::{DirectoryListing, ListStatusResponse, ReadResponse};

use crate::fixtures::fixture_as;
use crate::util::lock;

enum Node {
    Dir { modified: i64 },
    File { bytes: Vec<u8>, modified: i64 },
}

impl Node {
    fn metadata(&self) -> FileMetadata {
        match self {
            Node::Dir { modified } => FileMetadata {
                is_directory: true,
                size: 0,
                modified_ms: *modified,
            },
            Node::File { bytes, modified } => FileMetadata {
                is_directory: false,
                size: bytes.len() as u64,
                modified_ms: *modified,
            },
        }
    }
}

pub(crate) struct FixtureFiles {
    nodes: Mutex<BTreeMap<String, Node>>,
}

/// The recorded listing's file, made large enough to page through (2,000 rows).
fn orders_csv() -> Vec<u8> {
    let mut out = String::from("order_id,customer,amount,order_date\n");
    for i in 0..2000_u32 {
        out.push_str(&format!(
            "{},{},{}.{:02},2024-02-{:02}\n",
            1000 + i,
            ["alice", "bob", "carol", "dave"]
                .get(i as usize % 4)
                .copied()
                .unwrap_or("alice"),
            10 + i % 500,
            i % 100,
            1 + i % 28
        ));
    }
    out.into_bytes()
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
                let bytes = part.to_vec();
                nodes.insert(
                    format!("{}/part-00000.csv", e.path),
                    Node::File { bytes, modified },
                );
                nodes.insert(e.path, Node::Dir { modified });
            } else {
                let bytes = orders_csv();
                nodes.insert(e.path, Node::File { bytes, modified });
            }
        }
        // The DBFS fixtures name their directory `<tmp>`; here it is `/tmp`.
        let dbfs: ListStatusResponse = fixture_as("dbfs_list.json");
        let read: ReadResponse = fixture_as("dbfs_read.json");
        let content = base64::engine::general_purpose::STANDARD
            .decode(&read.data)
            .unwrap_or_default();
        nodes.insert("/tmp".into(), Node::Dir { modified: SEEDED });
        for f in dbfs.files {
            let path = f.path.replace("<tmp>", "/tmp");
            let modified = f.modification_time;
            let node = if f.is_dir {
                Node::Dir { modified }
            } else {
                let bytes = content.clone();
                Node::File { bytes, modified }
            };
            nodes.insert(path, node);
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
    fn metadata_of(&self, path: &str) -> Option<FileMetadata> {
        match lock(&self.nodes).get(path) {
            Some(node) => Some(node.metadata()),
            None => implicit_directory(path).then_some(FileMetadata {
                is_directory: true,
                size: 0,
                modified_ms: SEEDED,
            }),
        }
    }

    fn entries_of(&self, path: &str) -> Vec<FileEntry> {
        let prefix = match path {
            "/" => "/".to_string(),
            _ => format!("{path}/"),
        };
        lock(&self.nodes)
            .iter()
            .filter_map(|(p, node)| {
                let name = p.strip_prefix(&prefix)?;
                (!name.is_empty() && !name.contains('/')).then(|| FileEntry {
                    name: name.to_string(),
                    metadata: node.metadata(),
                })
            })
            .collect()
    }

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
                nodes.insert(prefix.clone(), Node::Dir { modified: now });
            }
        }
    }
}

impl VolumeFiles for FixtureFiles {
    fn metadata<'a>(&'a self, path: &'a str) -> Answer<'a, Option<FileMetadata>> {
        Box::pin(async move { Ok(self.metadata_of(path)) })
    }

    fn entries<'a>(&'a self, path: &'a str) -> Answer<'a, Vec<FileEntry>> {
        Box::pin(async move { Ok(self.entries_of(path)) })
    }

    fn read<'a>(&'a self, path: &'a str, range: Range<u64>) -> Answer<'a, Vec<u8>> {
        Box::pin(async move {
            match lock(&self.nodes).get(path) {
                Some(Node::File { bytes, .. }) => {
                    let start = usize::try_from(range.start).unwrap_or(usize::MAX);
                    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
                    Ok(bytes
                        .get(start.min(bytes.len())..end.min(bytes.len()))
                        .unwrap_or_default()
                        .to_vec())
                }
                _ => Err(missing(path)),
            }
        })
    }

    fn write<'a>(&'a self, path: &'a str, content: &'a [u8]) -> Answer<'a, ()> {
        Box::pin(async move {
            let mut nodes = lock(&self.nodes);
            FixtureFiles::make_parents(&mut nodes, path, false);
            let node = Node::File {
                bytes: content.to_vec(),
                modified: crate::util::now_ms(),
            };
            nodes.insert(path.to_string(), node);
            Ok(())
        })
    }

    fn mkdirs<'a>(&'a self, path: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            FixtureFiles::make_parents(&mut lock(&self.nodes), path, true);
            Ok(())
        })
    }

    fn delete_file<'a>(&'a self, path: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            match lock(&self.nodes).remove(path) {
                Some(_) => Ok(()),
                None => Err(missing(path)),
            }
        })
    }

    fn delete_directory<'a>(&'a self, path: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            lock(&self.nodes).remove(path);
            Ok(())
        })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
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
        })
    }
}
