//! MCP tasks (the `io.modelcontextprotocol/tasks` extension, SEP-2663, 2026-07-28): on a
//! 2026-07-28 request that declares the extension, a long-running tool (`run_sql_query`,
//! `get_sql_result`, `ask_genie`) still working after a second becomes a task the client
//! polls with `tasks/get`; `tasks/cancel`
//! cancels the call, and with it the statement on the warehouse. rmcp's `TaskManager`
//! keeps each task's state until its TTL (a statement's result is kept about an hour).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rmcp::ErrorData as McpError;

use rmcp::model::{CallToolResponse, CallToolResult, CreateTaskResult, JsonObject};
use rmcp::task_manager::{TaskExit, TaskManager, TaskOptions};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::context::CallContext;
use crate::http_auth::ClientKey;
use crate::tools::ToolDef;

/// The tools that run as a task when the client asks for tasks.
const TASK_TOOLS: &[&str] = &["run_sql_query", "get_sql_result", "ask_genie"];
/// How long a task and its result stay readable: a statement's result lifetime.
const TASK_TTL_MS: u64 = 60 * 60 * 1000;
const POLL_INTERVAL_MS: u64 = 500;
/// A call that answers within this returns its result directly, not a task.
const SHORTCUT: Duration = Duration::from_secs(1);

pub fn runs_as_task(tool: &str) -> bool {
    TASK_TOOLS.contains(&tool)
}

/// Runs `def`; when it has not answered within `SHORTCUT` the call becomes a task (the
/// "immediate result" shortcut of the extension: a quick query costs no extra round
/// trip). `cancel` is the call's token (a child of the server's shutdown), cancelled by
/// `tasks/cancel` too; it never depends on the request, which ends with the task handle.
pub async fn call_or_task(
    manager: &TaskManager,
    def: ToolDef,
    ctx: CallContext,
    cancel: CancellationToken,
    arguments: Option<JsonObject>,
) -> CallToolResponse {
    let name = def.name().to_string();
    let (answer, mut answered) = oneshot::channel::<CallToolResult>();
    tokio::spawn(async move {
        let _ = answer.send(def.call(ctx, arguments).await);
    });
    match tokio::time::timeout(SHORTCUT, &mut answered).await {
        Ok(Ok(result)) => return CallToolResponse::Complete(result),
        Ok(Err(_)) => return CallToolResponse::Complete(vanished(&name)),
        Err(_) => {}
    }
    let options = TaskOptions::new()
        .with_ttl_ms(TASK_TTL_MS)
        .with_poll_interval_ms(POLL_INTERVAL_MS)
        .with_status_message(format!("{name} is running"));
    let task = manager.spawn(options, move |task| {
        Box::pin(async move {
            let linked = {
                let (task, cancel) = (task.clone(), cancel.clone());
                tokio::spawn(async move {
                    task.cancelled().await;
                    cancel.cancel();
                })
            };
            let result = answered.await.unwrap_or_else(|_| vanished(&name));
            linked.abort();
            if task.is_cancel_requested() {
                Err(TaskExit::Cancelled)
            } else {
                Ok(result)
            }
        })
    });
    CallToolResponse::Task(CreateTaskResult::new(task))
}

/// The call's task ended without an answer (it panicked): an error result, not a hang.
fn vanished(tool: &str) -> CallToolResult {
    crate::error::ToolError::new(format!("{tool} stopped without an answer (internal error)"))
        .into_result()
}

/// Who created each task (the HTTP client's identity; `None` over stdio, where the
/// process has one client): another identity's task id is "not found", as another
/// identity's session is.
#[derive(Default)]
pub struct TaskOwners(Mutex<HashMap<String, Option<ClientKey>>>);

/// Owners are forgotten once their task has expired, checked when the table grows past this.
const OWNERS_SWEEP_AT: usize = 1024;

impl TaskOwners {
    pub fn record(&self, manager: &TaskManager, task_id: &str, owner: Option<ClientKey>) {
        let mut owners = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if owners.len() >= OWNERS_SWEEP_AT {
            owners.retain(|id, _| manager.get_task(id).is_ok());
        }
        owners.insert(task_id.to_string(), owner);
    }

    /// Ok when `owner` created `task_id`; else the error an unknown id gets.
    pub fn check(&self, task_id: &str, owner: Option<ClientKey>) -> Result<(), McpError> {
        let owners = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match owners.get(task_id) {
            Some(o) if *o == owner => Ok(()),
            _ => Err(McpError::invalid_params(
                format!(
                    "unknown task {task_id:?} (it never existed, belongs to another client, or expired)"
                ),
                None,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_visible_to_its_owner_only() {
        let manager = TaskManager::new();
        let owners = TaskOwners::default();
        let alice = Some(ClientKey::Token(0));
        owners.record(&manager, "t1", alice);
        assert!(owners.check("t1", alice).is_ok());
        assert!(owners.check("t1", Some(ClientKey::Token(1))).is_err());
        assert!(owners.check("t1", None).is_err());
        assert!(owners.check("t2", alice).is_err());
        owners.record(&manager, "t3", None);
        assert!(owners.check("t3", None).is_ok());
    }
}
