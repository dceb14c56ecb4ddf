//! The statement lifecycle (REFERENCE.md §1): submit with a short server-side wait, then
//! poll with backoff until a terminal state or the caller's deadline. A statement that
//! outlives the deadline is not an error: its response (still PENDING/RUNNING) is the
//! handle to poll later. When the caller cancels, the statement is cancelled upstream,
//! even if the cancel arrives while the submit is in flight, so no warehouse keeps
//! working for nobody.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::poll::{Attempt, Backoff, PollError, poll_until};
use crate::services::sql::{ExecuteStatementRequest, StatementResponse};

/// Statements are polled at 100 ms, then twice as long each time, up to 2 s: short
/// queries answer fast, long ones cost few requests.
pub const STATEMENT_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(100),
    factor: 2.0,
    max: Duration::from_secs(2),
};

/// When to stop waiting.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// After it, the statement is returned as it is (a handle to poll later).
    pub deadline: Instant,
    /// Cancelling it cancels the statement upstream and ends the wait.
    pub cancel: CancellationToken,
    pub backoff: Backoff,
}

impl WaitOptions {
    /// Waits up to `timeout` from now, with [`STATEMENT_BACKOFF`].
    pub fn within(timeout: Duration, cancel: CancellationToken) -> WaitOptions {
        WaitOptions {
            deadline: Instant::now() + timeout,
            cancel,
            backoff: STATEMENT_BACKOFF,
        }
    }
}

/// Why a statement could not be waited for. A statement that *ran* and failed is not
/// an error here: its response says FAILED.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The submit itself failed (bad warehouse, permissions, …).
    #[error("{0}")]
    Submit(Error),
    /// The caller cancelled; the statement (when it got an id) was cancelled upstream.
    #[error("cancelled by the client")]
    Cancelled { statement_id: Option<String> },
    /// Reading the statement's state failed; it may still be running.
    #[error("polling statement {statement_id} failed: {error}")]
    Poll { statement_id: String, error: Error },
    /// The submit task ended abnormally.
    #[error("internal error: {0}")]
    Internal(String),
}

impl StatementError {
    /// The API error class behind it, if any.
    pub fn kind(&self) -> Option<crate::ErrorKind> {
        match self {
            StatementError::Submit(e) | StatementError::Poll { error: e, .. } => e.kind(),
            _ => None,
        }
    }
}

impl DatabricksClient {
    /// Submits `request` and waits for the statement until it is terminal or the
    /// deadline passes. `on_wait` runs before each poll (progress reports).
    ///
    /// The submit runs in a task of its own, so that a cancel arriving while it is in
    /// flight can still learn the statement id and cancel the statement upstream.
    pub async fn execute_and_wait<F, Fut>(
        &self,
        request: ExecuteStatementRequest,
        options: &WaitOptions,
        on_wait: F,
    ) -> Result<StatementResponse, StatementError>
    where
        F: FnMut(&StatementResponse, Attempt) -> Fut,
        Fut: Future<Output = ()>,
    {
        let client = self.clone();
        let mut submit = tokio::spawn(async move { client.execute_statement(&request).await });
        let submitted = tokio::select! {
            joined = &mut submit => joined.map_err(|e| StatementError::Internal(e.to_string()))?,
            () = options.cancel.cancelled() => {
                let client = self.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(r)) = submit.await {
                        client.cancel_if_running(&r).await;
                    }
                });
                return Err(StatementError::Cancelled { statement_id: None });
            }
        };
        let response = submitted.map_err(StatementError::Submit)?;
        self.wait_for_statement(response, options, on_wait).await
    }

    /// Polls a submitted statement until it is terminal or the deadline passes; a
    /// cancel cancels it upstream.
    pub async fn wait_for_statement<F, Fut>(
        &self,
        response: StatementResponse,
        options: &WaitOptions,
        mut on_wait: F,
    ) -> Result<StatementResponse, StatementError>
    where
        F: FnMut(&StatementResponse, Attempt) -> Fut,
        Fut: Future<Output = ()>,
    {
        let polled = poll_until(
            response,
            |r| r.status.state.is_terminal(),
            |r, attempt| {
                let report = on_wait(r, attempt);
                let id = r.statement_id.clone();
                async move {
                    report.await;
                    self.get_statement(&id).await
                }
            },
            options.backoff,
            options.deadline,
            &options.cancel,
        )
        .await;
        match polled {
            Ok(p) => Ok(p.into_inner()),
            Err(PollError::Cancelled { last }) => {
                self.cancel_if_running(&last).await;
                Err(StatementError::Cancelled {
                    statement_id: Some(last.statement_id).filter(|id| !id.is_empty()),
                })
            }
            Err(PollError::Failed { last, error }) => Err(StatementError::Poll {
                statement_id: last.statement_id,
                error,
            }),
        }
    }

    /// Cancels a statement that is not finished; a failure is logged, never returned
    /// (the caller is already giving up on it).
    pub async fn cancel_if_running(&self, response: &StatementResponse) {
        if response.status.state.is_terminal() || response.statement_id.is_empty() {
            return;
        }
        match self.cancel_statement(&response.statement_id).await {
            Ok(()) => {
                tracing::info!(statement_id = %response.statement_id, "statement cancelled upstream")
            }
            Err(e) => {
                tracing::warn!(statement_id = %response.statement_id, "cancelling statement failed: {e}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use databricks_emulator::{Emulator, StatementScript};

    use super::*;
    use crate::config::{Config, ConfigOverrides, MapEnv};
    use crate::services::sql::StatementState;

    fn client(emulator: &Emulator) -> Option<DatabricksClient> {
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", emulator.base_url())
            .with("DATABRICKS_TOKEN", emulator.pat());
        let config = Config::resolve(&ConfigOverrides::default(), &env).ok()?;
        DatabricksClient::new(&config).ok()
    }

    /// A statement for the emulator's first warehouse.
    async fn request(client: &DatabricksClient, statement: &str) -> ExecuteStatementRequest {
        let warehouses = client.list_all_warehouses().await.unwrap_or_default();
        ExecuteStatementRequest {
            statement: statement.to_string(),
            warehouse_id: warehouses.first().map(|w| w.id.clone()).unwrap_or_default(),
            wait_timeout: Some("0s".into()),
            ..Default::default()
        }
    }

    const FAST: Backoff = Backoff {
        first: Duration::from_millis(10),
        factor: 2.0,
        max: Duration::from_millis(50),
    };

    fn options(timeout: Duration, cancel: CancellationToken) -> WaitOptions {
        WaitOptions {
            deadline: Instant::now() + timeout,
            cancel,
            backoff: FAST,
        }
    }

    #[tokio::test]
    async fn a_statement_is_polled_to_its_end_with_reports() {
        let emulator = Emulator::start().await;
        emulator.script_statement(
            "slow",
            StatementScript::pending(3, StatementScript::Canceled),
        );
        let Some(client) = client(&emulator) else {
            panic!("no client");
        };
        let reports = AtomicU32::new(0);
        let r = client
            .execute_and_wait(
                request(&client, "SELECT * FROM slow").await,
                &options(Duration::from_secs(20), CancellationToken::new()),
                |_, _| {
                    reports.fetch_add(1, Ordering::SeqCst);
                    std::future::ready(())
                },
            )
            .await;
        assert_eq!(
            r.ok().map(|r| r.status.state),
            Some(StatementState::Canceled)
        );
        assert!(reports.load(Ordering::SeqCst) >= 3);
    }

    #[tokio::test]
    async fn the_deadline_hands_back_the_running_statement() {
        let emulator = Emulator::start().await;
        emulator.script_statement(
            "endless",
            StatementScript::pending(1_000_000, StatementScript::Canceled),
        );
        let Some(client) = client(&emulator) else {
            panic!("no client");
        };
        let r = client
            .execute_and_wait(
                request(&client, "SELECT * FROM endless").await,
                &options(Duration::from_millis(200), CancellationToken::new()),
                |_, _| std::future::ready(()),
            )
            .await;
        let r = r.ok();
        assert!(
            r.as_ref()
                .is_some_and(|r| !r.status.state.is_terminal() && !r.statement_id.is_empty()),
            "{r:?}"
        );
        assert!(emulator.cancelled_statements().is_empty());
    }

    #[tokio::test]
    async fn a_cancel_cancels_the_statement_upstream() {
        let emulator = Emulator::start().await;
        emulator.script_statement(
            "endless",
            StatementScript::pending(1_000_000, StatementScript::Canceled),
        );
        let Some(client) = client(&emulator) else {
            panic!("no client");
        };
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let request = request(&client, "SELECT * FROM endless").await;
        // Cancelled at its first progress report: the statement is known upstream by
        // then, however slow the machine (a timer could fire before the submit answers).
        let r = client
            .execute_and_wait(
                request,
                &options(Duration::from_secs(20), cancel),
                |_, _| {
                    trigger.cancel();
                    std::future::ready(())
                },
            )
            .await;
        let id = match r {
            Err(StatementError::Cancelled {
                statement_id: Some(id),
            }) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(emulator.cancelled_statements(), vec![id]);
    }
}
