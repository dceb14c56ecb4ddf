//! The statements a workspace has accepted, and how long they live (§1.2): a result stays
//! fetchable for an hour after success (then the statement is CLOSED), a finished
//! statement is forgotten 12 hours after it finished, and at most [`MAX_RESULTS`]
//! results are held at once (older ones close first).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use databricks_api::backend::{Execution, Progress, ResultFormat, StatementFailure};
use databricks_api::sql::StatementState;

use super::archive::Archive;
use super::package::{self, Disposition, Packaged};

/// Results stay fetchable this long after success.
const RESULT_TTL: Duration = Duration::from_secs(3600);
/// Finished statements are forgotten this long after finishing.
const PURGE_AFTER: Duration = Duration::from_secs(12 * 3600);
/// At most this many results are held in memory.
const MAX_RESULTS: usize = 64;
/// Results up to about this many bytes are packaged on the calling thread.
const PACKAGE_IN_PLACE_BYTES: usize = 64 * 1024;

/// A statement's terminal outcome, kept once seen so that its result is packaged once.
#[derive(Clone)]
pub(super) enum Settled {
    Succeeded(Arc<Packaged>),
    Failed(StatementFailure),
    Canceled,
    Closed,
}

impl Settled {
    pub(super) fn state(&self) -> StatementState {
        match self {
            Settled::Succeeded(_) => StatementState::Succeeded,
            Settled::Failed(_) => StatementState::Failed,
            Settled::Canceled => StatementState::Canceled,
            Settled::Closed => StatementState::Closed,
        }
    }
}

/// What one look at a statement finds.
pub(super) enum Seen {
    Pending,
    Running,
    Settled(Settled),
}

impl Seen {
    pub(super) fn state(&self) -> StatementState {
        match self {
            Seen::Pending => StatementState::Pending,
            Seen::Running => StatementState::Running,
            Seen::Settled(settled) => settled.state(),
        }
    }
}

pub(super) struct Statement {
    /// `None` for a result read back from the archive: nothing runs any more.
    execution: Option<Box<dyn Execution>>,
    disposition: Disposition,
    format: ResultFormat,
    /// Signs this statement's external links.
    secret: String,
    settled: Mutex<Option<(Settled, Instant)>>,
    /// Held while a result is packaged, so that two polls package it once.
    packaging: tokio::sync::Mutex<()>,
}

impl Statement {
    pub(super) fn new(
        execution: Box<dyn Execution>,
        disposition: Disposition,
        format: ResultFormat,
    ) -> Statement {
        Statement {
            execution: Some(execution),
            disposition,
            format,
            secret: uuid::Uuid::new_v4().simple().to_string(),
            settled: Mutex::new(None),
            packaging: tokio::sync::Mutex::new(()),
        }
    }

    /// A finished result, as another process packaged it.
    pub(super) fn archived(result: Packaged, secret: String, finished: Instant) -> Statement {
        Statement {
            execution: None,
            disposition: Disposition::Inline,
            format: result.format,
            secret,
            settled: Mutex::new(Some((Settled::Succeeded(Arc::new(result)), finished))),
            packaging: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn secret(&self) -> &str {
        &self.secret
    }

    /// Resolves when the execution settles (at once for an archived result).
    pub(super) async fn settled(&self) {
        if let Some(execution) = &self.execution {
            execution.settled().await;
        }
    }

    /// Asks the execution to stop; a statement that has finished stays as it is.
    pub(super) fn cancel(&self) {
        if let Some(execution) = &self.execution {
            execution.cancel();
        }
    }

    fn outcome(&self) -> Option<Settled> {
        lock(&self.settled).as_ref().map(|(s, _)| s.clone())
    }

    fn keep(&self, settled: Settled) -> Settled {
        let mut slot = lock(&self.settled);
        match &*slot {
            Some((earlier, _)) => earlier.clone(),
            None => {
                *slot = Some((settled.clone(), Instant::now()));
                settled
            }
        }
    }

    /// Where the statement is: its kept outcome, else what its execution says now. A
    /// result seen for the first time is packaged (off the async threads: rendering a
    /// large one takes a while) and written to the archive before anyone is told, as a
    /// `call` process may exit as soon as it has its answer.
    pub(super) async fn look(&self, id: &str, store: &Store) -> Seen {
        if let Some(settled) = self.outcome() {
            return Seen::Settled(settled);
        }
        let Some(execution) = &self.execution else {
            return Seen::Settled(Settled::Closed);
        };
        let rows = match execution.observe() {
            Progress::Pending => return Seen::Pending,
            Progress::Running => return Seen::Running,
            Progress::Failed(failure) => return Seen::Settled(self.keep(Settled::Failed(failure))),
            Progress::Canceled => return Seen::Settled(self.keep(Settled::Canceled)),
            Progress::Closed => return Seen::Settled(self.keep(Settled::Closed)),
            Progress::Succeeded(rows) => rows,
        };
        let _packaging = self.packaging.lock().await;
        if let Some(settled) = self.outcome() {
            return Seen::Settled(settled);
        }
        let (disposition, format) = (self.disposition, self.format);
        // A small result (most are) is packaged here: a hop to the blocking pool would
        // cost more than rendering it.
        let small = rows
            .row_bytes()
            .saturating_mul(usize::try_from(rows.row_count()).unwrap_or(usize::MAX))
            <= PACKAGE_IN_PLACE_BYTES;
        let packaged = if small {
            package::package(rows.as_ref(), disposition, format)
        } else {
            tokio::task::spawn_blocking(move || {
                package::package(rows.as_ref(), disposition, format)
            })
            .await
            .unwrap_or_else(|_| {
                Err(StatementFailure {
                    error_code: "INTERNAL_ERROR".into(),
                    message: "The result could not be packaged.".into(),
                    sql_state: None,
                })
            })
        };
        let settled = match packaged {
            Ok(result) => {
                let result = Arc::new(result);
                store.archive(id, &self.secret, &result).await;
                Settled::Succeeded(result)
            }
            Err(failure) => Settled::Failed(failure),
        };
        Seen::Settled(self.keep(settled))
    }
}

/// Every statement of a workspace, oldest first.
pub(super) struct Store {
    map: Mutex<HashMap<String, Arc<Statement>>>,
    order: Mutex<VecDeque<String>>,
    archive: Option<Arc<Archive>>,
}

impl Store {
    pub(super) fn new(archive: Option<PathBuf>) -> Store {
        Store {
            map: Mutex::default(),
            order: Mutex::default(),
            archive: archive.map(|dir| Arc::new(Archive::new(dir))),
        }
    }

    pub(super) fn insert(&self, id: &str, statement: Statement) -> Arc<Statement> {
        let statement = Arc::new(statement);
        lock(&self.map).insert(id.to_string(), Arc::clone(&statement));
        lock(&self.order).push_back(id.to_string());
        self.housekeeping();
        statement
    }

    /// A statement this process accepted, or a result another process archived.
    pub(super) fn get(&self, id: &str) -> Option<Arc<Statement>> {
        self.housekeeping();
        if let Some(statement) = lock(&self.map).get(id).cloned() {
            return Some(statement);
        }
        let (result, secret, age) = self.archive.as_ref()?.read(id, RESULT_TTL)?;
        let finished = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        Some(self.insert(id, Statement::archived(result, secret, finished)))
    }

    async fn archive(&self, id: &str, secret: &str, result: &Arc<Packaged>) {
        let Some(archive) = self.archive.clone() else {
            return;
        };
        let (id, secret, result) = (id.to_string(), secret.to_string(), Arc::clone(result));
        let _ = tokio::task::spawn_blocking(move || archive.write(&id, &secret, &result)).await;
    }

    /// Closes expired results, forgets old statements, bounds the results held.
    fn housekeeping(&self) {
        let now = Instant::now();
        let mut order = lock(&self.order);
        let mut map = lock(&self.map);
        let mut results = 0;
        for id in order.iter().rev() {
            let Some(statement) = map.get(id) else {
                continue;
            };
            let mut slot = lock(&statement.settled);
            if let Some((Settled::Succeeded(_), at)) = &*slot {
                let at = *at;
                results += 1;
                if now.duration_since(at) > RESULT_TTL || results > MAX_RESULTS {
                    *slot = Some((Settled::Closed, at));
                }
            }
        }
        while let Some(id) = order.front().cloned() {
            let finished = map
                .get(&id)
                .and_then(|s| lock(&s.settled).as_ref().map(|(_, at)| *at));
            match finished {
                Some(at) if now.duration_since(at) > PURGE_AFTER => {
                    map.remove(&id);
                    order.pop_front();
                }
                None if !map.contains_key(&id) => {
                    order.pop_front();
                }
                _ => break,
            }
        }
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
