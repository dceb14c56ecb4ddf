//! Query history (REFERENCE.md §11): every statement the local warehouse runs — through
//! the Statement Execution API and in jobs' SQL tasks — recorded when it starts and
//! updated when it ends. In memory and bounded to the newest [`CAPACITY`]: like a
//! warehouse's history it is about recent activity, and a restart starts it afresh.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use databricks_api::backend::{Answer, QueryHistory, async_trait};
use databricks_api::history::{QueryFilter, QueryInfo};
use serde_json::json;

use super::{Shared, lock};
use crate::WAREHOUSE_ID;
use crate::error::SqlError;
use crate::layout::now_ms;

/// Queries kept; the oldest are forgotten first.
const CAPACITY: usize = 10_000;

/// The local user's id, as SCIM `Me` reports it (`"1"`).
const USER_ID: i64 = 1;

#[derive(Default)]
pub(crate) struct History {
    /// Oldest first.
    queries: Mutex<VecDeque<QueryInfo>>,
}

/// Where a statement came from, for `client_application` and `query_source`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    /// The product of the caller's User-Agent (`databricks-sdk-py/0.50.0 …` → its first
    /// token).
    pub client: Option<String>,
    /// `(job_id, job_run_id, task_run_id)` for a job's SQL task.
    pub job: Option<(i64, i64, i64)>,
}

impl History {
    /// Records a statement that starts now; the returned guard records how it ends.
    pub fn start(self: &Arc<Self>, id: &str, sql: &str, origin: &Origin) -> Recording {
        let query_source = origin.job.map(|(job, run, task)| {
            json!({"job_info": {
                "job_id": job.to_string(),
                "job_run_id": run.to_string(),
                "job_task_run_id": task.to_string(),
            }})
        });
        self.start_from(id, sql, origin, query_source)
    }

    /// A statement Genie runs for a question about a space's data (`query_source`
    /// names the space).
    pub fn start_for_genie(
        self: &Arc<Self>,
        id: &str,
        sql: &str,
        origin: &Origin,
        space_id: &str,
    ) -> Recording {
        self.start_from(id, sql, origin, Some(json!({"genie_space_id": space_id})))
    }

    fn start_from(
        self: &Arc<Self>,
        id: &str,
        sql: &str,
        origin: &Origin,
        query_source: Option<serde_json::Value>,
    ) -> Recording {
        let user = crate::layout::user_name();
        let info = QueryInfo {
            query_id: id.to_string(),
            status: Some("RUNNING".to_string()),
            query_text: Some(sql.to_string()),
            statement_type: Some(statement_type(sql).to_string()),
            warehouse_id: Some(WAREHOUSE_ID.to_string()),
            endpoint_id: Some(WAREHOUSE_ID.to_string()),
            user_id: Some(USER_ID),
            user_name: Some(user.clone()),
            executed_as_user_id: Some(USER_ID),
            executed_as_user_name: Some(user),
            client_application: origin.client.clone(),
            query_start_time_ms: Some(now_ms()),
            is_final: Some(false),
            query_source,
            ..QueryInfo::default()
        };
        let mut queries = lock(&self.queries);
        queries.push_back(info);
        while queries.len() > CAPACITY {
            queries.pop_front();
        }
        Recording {
            history: self.clone(),
            id: id.to_string(),
            done: false,
        }
    }

    fn finish(&self, id: &str, status: &str, rows: Option<usize>, error: Option<String>) {
        let mut queries = lock(&self.queries);
        // Recent statements end first: search from the newest.
        let Some(q) = queries.iter_mut().rev().find(|q| q.query_id == id) else {
            return;
        };
        let end = now_ms();
        let duration = end - q.query_start_time_ms.unwrap_or(end);
        let rows = rows.map(|r| i64::try_from(r).unwrap_or(i64::MAX));
        q.status = Some(status.to_string());
        q.execution_end_time_ms = Some(end);
        q.query_end_time_ms = Some(end);
        q.duration = Some(duration);
        q.rows_produced = rows;
        q.error_message = error;
        q.is_final = Some(true);
        q.metrics = Some(json!({
            "total_time_ms": duration,
            "execution_time_ms": duration,
            "compilation_time_ms": 0,
            "rows_produced_count": rows.unwrap_or(0),
            "result_from_cache": false,
        }));
    }

    /// Newest first, as far as `filter` narrows them (the server applies it again).
    fn list(&self, filter: &QueryFilter) -> Vec<QueryInfo> {
        lock(&self.queries)
            .iter()
            .rev()
            .filter(|q| filter.matches(q))
            .cloned()
            .collect()
    }
}

/// A running statement's entry. Dropped without [`Recording::finished`] — its task was
/// aborted by a cancel — the statement is recorded CANCELED.
pub(crate) struct Recording {
    history: Arc<History>,
    id: String,
    done: bool,
}

impl Recording {
    /// Records the outcome: FINISHED with its rows, or FAILED with the error.
    pub fn finished(mut self, outcome: Result<usize, &SqlError>) {
        self.done = true;
        match outcome {
            Ok(rows) => self.history.finish(&self.id, "FINISHED", Some(rows), None),
            Err(e) => self
                .history
                .finish(&self.id, "FAILED", None, Some(e.databricks_message())),
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if std::thread::panicking() {
            let message = "The local engine panicked while running the statement.".to_string();
            self.history.finish(&self.id, "FAILED", None, Some(message));
        } else {
            self.history.finish(&self.id, "CANCELED", None, None);
        }
    }
}

#[async_trait]
impl QueryHistory for Shared {
    async fn queries(&self, filter: &QueryFilter) -> Answer<Vec<QueryInfo>> {
        Ok(self.history.list(filter))
    }
}

/// The product token of a User-Agent (`databricks-sdk-py/0.50.0 python/3.12 …` →
/// `databricks-sdk-py/0.50.0`), at most 128 characters.
pub(crate) fn client_application(user_agent: Option<&str>) -> Option<String> {
    let first = user_agent?.split_whitespace().next()?;
    Some(first.chars().take(128).collect())
}

/// `statement_type` from the first keyword, past comments and parentheses, as the
/// `QueryStatementType` values name them; anything else is `OTHER`.
pub(crate) fn statement_type(sql: &str) -> &'static str {
    const TYPES: [&str; 22] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE",
        "SHOW", "DESCRIBE", "USE", "SET", "EXPLAIN", "GRANT", "REVOKE", "COPY", "OPTIMIZE",
        "REFRESH", "REPLACE", "ANALYZE", "OTHER",
    ];
    let word = first_keyword(sql).to_ascii_uppercase();
    let word = match word.as_str() {
        "WITH" | "VALUES" | "FROM" | "TABLE" => "SELECT",
        "DESC" => "DESCRIBE",
        other => other,
    };
    TYPES
        .iter()
        .find(|t| **t == word)
        .copied()
        .unwrap_or("OTHER")
}

/// The first word of the text that is not in a comment, skipping opening parentheses.
fn first_keyword(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, next)| next);
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_types_come_from_the_first_keyword() {
        assert_eq!(statement_type("select 1"), "SELECT");
        assert_eq!(
            statement_type("-- note\n/* x */ (WITH a AS (SELECT 1) SELECT * FROM a)"),
            "SELECT"
        );
        assert_eq!(statement_type("  insert into t values (1)"), "INSERT");
        assert_eq!(statement_type("MERGE INTO t USING s ON t.a = s.a"), "MERGE");
        assert_eq!(statement_type("DESC TABLE t"), "DESCRIBE");
        assert_eq!(statement_type("SELEC 1"), "OTHER");
        assert_eq!(statement_type(""), "OTHER");
    }

    #[test]
    fn client_applications_are_the_product_token() {
        assert_eq!(
            client_application(Some("databricks-sdk-py/0.50.0 python/3.12.1 os/linux")),
            Some("databricks-sdk-py/0.50.0".to_string())
        );
        assert_eq!(client_application(None), None);
        assert_eq!(client_application(Some("  ")), None);
    }

    #[test]
    fn a_dropped_recording_is_canceled_and_the_oldest_are_forgotten() {
        let history = Arc::new(History::default());
        let origin = Origin::default();
        history.start("a", "SELECT 1", &origin).finished(Ok(1));
        drop(history.start("b", "SELECT 2", &origin));
        let all = history.list(&QueryFilter::default());
        let status: Vec<_> = all
            .iter()
            .map(|q| (q.query_id.as_str(), q.status.as_deref()))
            .collect();
        assert_eq!(
            status,
            vec![("b", Some("CANCELED")), ("a", Some("FINISHED"))]
        );
        assert_eq!(all[1].rows_produced, Some(1));
        for i in 0..CAPACITY {
            history
                .start(&i.to_string(), "SELECT 1", &origin)
                .finished(Ok(0));
        }
        assert_eq!(history.list(&QueryFilter::default()).len(), CAPACITY);
    }
}
