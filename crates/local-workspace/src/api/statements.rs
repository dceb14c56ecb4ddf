//! The local warehouse as the statement service's backend: each statement runs on the
//! engine's own runtime (a heavy query never starves the threads that answer the API),
//! records its query history and lineage, and hands its rows to the server, which keeps
//! the statement, chunks the result and serves its links.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use databricks_api::backend::{
    Answer, Execution, Progress, ResultRows, SqlStatements, StatementFailure, StatementRun,
    async_trait,
};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::ColumnInfo;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;

use super::{Shared, lock};
use crate::WAREHOUSE_ID;
use crate::dialect::Param;
use crate::engine::{ExecOptions, QueryResult};
use crate::error::SqlError;

/// The backend of `/api/2.0/sql/statements`.
pub(crate) struct LocalStatements {
    pub shared: Arc<Shared>,
}

#[async_trait]
impl SqlStatements for LocalStatements {
    async fn start(&self, run: StatementRun) -> Answer<Box<dyn Execution>> {
        self.admit(&run)?;
        Ok(Box::new(self.spawn(run)) as Box<dyn Execution>)
    }

    /// Each `databricks-mcp call` is a process of its own: results are kept on disk so the
    /// next one can page through them.
    fn result_archive(&self) -> Option<std::path::PathBuf> {
        Some(self.shared.layout.statement_results())
    }
}

impl LocalStatements {
    /// Refuses a statement for another warehouse, or one that may read `samples.tpch`
    /// while it is being generated (clients retry the 503 after its Retry-After, so the
    /// first query simply waits).
    fn admit(&self, run: &StatementRun) -> Result<(), ApiError> {
        if run.warehouse_id != WAREHOUSE_ID {
            return Err(ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!(
                    "SQL warehouse {} does not exist. The local workspace has one warehouse: {WAREHOUSE_ID}.",
                    run.warehouse_id
                ),
            ));
        }
        if let Some((retry, message)) = self.shared.samples.unavailable()
            && run.statement.to_ascii_lowercase().contains("samples")
        {
            let code = if retry {
                ErrorCode::TemporarilyUnavailable
            } else {
                ErrorCode::InternalError
            };
            return Err(ApiError::new(code, message));
        }
        Ok(())
    }

    fn spawn(&self, run: StatementRun) -> LocalExecution {
        let opts = ExecOptions {
            catalog: run.catalog,
            schema: run.schema,
            params: run
                .parameters
                .into_iter()
                .map(|p| {
                    let param = Param {
                        value: p.value,
                        type_: p.type_,
                    };
                    (p.name, param)
                })
                .collect::<HashMap<_, _>>(),
            row_limit: run
                .row_limit
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            byte_limit: run
                .byte_limit
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let origin = super::history::Origin {
            client: super::history::client_application(run.user_agent.as_deref()),
            job: None,
        };
        // Dropped unfinished when a cancel aborts the task: the history then says CANCELED.
        let recording = self
            .shared
            .history
            .start(&run.statement_id, &run.statement, &origin);
        self.shared.compute.statement_starts();
        let state = Arc::new(Mutex::new(State::Queued));
        let (done, watch) = tokio::sync::watch::channel(false);
        let (shared, runner, id, sql) = (
            self.shared.clone(),
            state.clone(),
            run.statement_id,
            run.statement,
        );
        let task = crate::engine_runtime().spawn(async move {
            set_if_unfinished(&runner, State::Running);
            let result = shared.engine.execute(&sql, &opts).await;
            if result.is_ok() {
                shared.record_lineage(
                    shared.engine.lineage_of(&sql, &opts),
                    &super::lineage::Entity::query(&id),
                );
            }
            let finished = match result {
                Ok(result) => {
                    recording.finished(Ok(result.batch.num_rows()));
                    State::Succeeded(Arc::new(BatchRows::new(result)))
                }
                Err(e) => {
                    recording.finished(Err(&e));
                    State::Failed(failure(&e))
                }
            };
            set_if_unfinished(&runner, finished);
            let _ = done.send(true);
        });
        let execution = LocalExecution {
            state,
            watch,
            abort: task.abort_handle(),
        };
        // A panic in the engine is the statement's failure, not a statement left running.
        let watcher = execution.state.clone();
        tokio::spawn(async move {
            if let Err(e) = task.await
                && e.is_panic()
            {
                set_if_unfinished(
                    &watcher,
                    State::Failed(failure(&SqlError::internal(
                        "the local engine panicked while running the statement",
                    ))),
                );
            }
        });
        execution
    }
}

fn failure(e: &SqlError) -> StatementFailure {
    StatementFailure {
        error_code: e.error_code.to_string(),
        message: e.databricks_message(),
        sql_state: Some(e.sql_state.clone()),
    }
}

enum State {
    /// Waiting for a thread of the engine.
    Queued,
    Running,
    Succeeded(Arc<BatchRows>),
    Failed(StatementFailure),
    Canceled,
}

/// Moves a statement on unless it already finished (a cancel may have come first).
fn set_if_unfinished(state: &Mutex<State>, next: State) {
    let mut current = lock(state);
    if matches!(*current, State::Queued | State::Running) {
        *current = next;
    }
}

struct LocalExecution {
    state: Arc<Mutex<State>>,
    /// Turns true when the engine is done; closed when its task ended otherwise.
    watch: tokio::sync::watch::Receiver<bool>,
    abort: tokio::task::AbortHandle,
}

#[async_trait]
impl Execution for LocalExecution {
    fn observe(&self) -> Progress {
        match &*lock(&self.state) {
            State::Queued => Progress::Pending,
            State::Running => Progress::Running,
            State::Succeeded(rows) => Progress::Succeeded(rows.clone()),
            State::Failed(failure) => Progress::Failed(failure.clone()),
            State::Canceled => Progress::Canceled,
        }
    }

    async fn settled(&self) {
        let mut watch = self.watch.clone();
        let finished = || !matches!(*lock(&self.state), State::Queued | State::Running);
        while !finished() {
            if watch.changed().await.is_err() {
                // The task ended without saying (aborted or panicked): settled.
                return;
            }
        }
    }

    fn cancel(&self) {
        let mut state = lock(&self.state);
        if matches!(*state, State::Queued | State::Running) {
            self.abort.abort();
            *state = State::Canceled;
        }
    }
}

/// A query's rows, in one Arrow batch.
struct BatchRows {
    batch: RecordBatch,
    columns: Vec<ColumnInfo>,
    truncated: bool,
}

impl BatchRows {
    fn new(result: QueryResult) -> BatchRows {
        let columns = crate::render::manifest_columns(&result.schema)
            .into_iter()
            .filter_map(|c| serde_json::from_value(c).ok())
            .collect();
        BatchRows {
            batch: result.batch,
            columns,
            truncated: result.truncated,
        }
    }

    fn slice(&self, rows: Range<u64>) -> RecordBatch {
        let total = self.batch.num_rows();
        let start = usize::try_from(rows.start).unwrap_or(usize::MAX).min(total);
        let end = usize::try_from(rows.end)
            .unwrap_or(usize::MAX)
            .clamp(start, total);
        self.batch.slice(start, end - start)
    }
}

impl ResultRows for BatchRows {
    fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }

    fn row_count(&self) -> u64 {
        self.batch.num_rows() as u64
    }

    fn truncated(&self) -> bool {
        self.truncated
    }

    fn row_bytes(&self) -> usize {
        (self.batch.get_array_memory_size() / self.batch.num_rows().max(1)).max(1)
    }

    fn batch(&self, rows: Range<u64>) -> Result<RecordBatch, ArrowError> {
        Ok(self.slice(rows))
    }
}
