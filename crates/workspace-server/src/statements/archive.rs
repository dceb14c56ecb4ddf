//! Finished results written to a directory, so that another process serving the same
//! workspace pages through them for the rest of their hour. The directory is this user's
//! only (results are query data); files older than the hour are swept, in every
//! workspace's directory under the same parent (a workspace that is gone leaves none).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::package::Packaged;
use super::store::lock;

/// Results larger than this stay in memory only.
const MAX_ARCHIVED_BYTES: u64 = 64 * 1024 * 1024;
/// Expired files are looked for at most this often: a sweep reads every file's metadata.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Files live this long (the results' hour).
const FILE_TTL: Duration = Duration::from_secs(3600);

pub(super) struct Archive {
    dir: PathBuf,
    swept: Mutex<Option<Instant>>,
}

/// One archived result and the secret that signs its links.
#[derive(Deserialize)]
struct Archived {
    secret: String,
    result: Packaged,
}

#[derive(Serialize)]
struct ArchivedRef<'a> {
    secret: &'a str,
    result: &'a Packaged,
}

impl Archive {
    pub(super) fn new(dir: PathBuf) -> Archive {
        Archive {
            dir,
            swept: Mutex::default(),
        }
    }

    pub(super) fn write(&self, id: &str, secret: &str, result: &Packaged) {
        self.sweep();
        let size: u64 = result.chunks.iter().map(|c| c.byte_count).sum();
        if size > MAX_ARCHIVED_BYTES || !is_statement_id(id) {
            return;
        }
        let archived = ArchivedRef { secret, result };
        let written = serde_json::to_vec(&archived)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                create_private_dir(&self.dir)?;
                let tmp = self.dir.join(format!(".{id}.tmp"));
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, self.dir.join(format!("{id}.json")))
            });
        if let Err(e) = written {
            // Still served from memory; another process then finds no such statement.
            tracing::debug!("statement {id}: result not archived: {e}");
        }
    }

    /// A result archived less than `ttl` ago, its secret, and its age.
    pub(super) fn read(&self, id: &str, ttl: Duration) -> Option<(Packaged, String, Duration)> {
        if !is_statement_id(id) {
            return None;
        }
        let path = self.dir.join(format!("{id}.json"));
        let age = std::fs::metadata(&path)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()?;
        if age > ttl {
            return None;
        }
        let archived: Archived = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        Some((archived.result, archived.secret, age))
    }

    fn sweep(&self) {
        {
            let mut swept = lock(&self.swept);
            if swept.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
                return;
            }
            *swept = Some(Instant::now());
        }
        let Some(Ok(workspaces)) = self.dir.parent().map(std::fs::read_dir) else {
            return;
        };
        for workspace in workspaces.flatten() {
            let Ok(entries) = std::fs::read_dir(workspace.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let expired = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > FILE_TTL);
                if expired {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            // Fails (and keeps it) unless it is empty.
            let _ = std::fs::remove_dir(workspace.path());
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Statement ids are UUIDs: anything else never names a file.
fn is_statement_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}
