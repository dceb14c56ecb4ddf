//! What happened to the data: `get_table_history` (Delta versions, through the warehouse),
//! `get_table_lineage` (where a table comes from and what reads it) and
//! `get_query_history` (the statements warehouses ran).

use databricks_client::ErrorKind;
use databricks_client::services::operations::{LineageNode, QueryFilter};
use databricks_client::services::sql::StatementState;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::validate_name;
use super::sql::{FollowUp, choose_warehouse, execute, fetch_rows, statement_request};
use super::{ListSpec, ToolDef, ToolKind, ToolOutput, Toolset, values};
use crate::context::CallContext;
use crate::error::ToolError;
use crate::render::{self, timestamp_ms};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableHistoryArgs {
    /// The table's full name: catalog.schema.table.
    pub table: String,
    /// Most versions to show, newest first (default 20, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableLineageArgs {
    /// The table's full name: catalog.schema.table.
    pub table: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryHistoryArgs {
    /// Only statements of this SQL warehouse.
    #[serde(default)]
    pub warehouse_id: Option<String>,
    /// Only statements run by this user (user name, e.g. an email address).
    #[serde(default)]
    pub user: Option<String>,
    /// Only statements in this state: QUEUED, RUNNING, CANCELED, FAILED or FINISHED.
    #[serde(default)]
    pub status: Option<String>,
    /// Only statements started at or after this time: RFC 3339 ("2024-05-01T00:00:00Z") or epoch milliseconds.
    #[serde(default)]
    pub since: Option<String>,
    /// Statements per page (default 25, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The next_cursor of an earlier answer.
    #[serde(default)]
    pub cursor: Option<String>,
}

const QUERY_HISTORY: ListSpec = ListSpec {
    tool: "get_query_history",
    key: "queries",
    columns: &[
        "started",
        "user",
        "status",
        "duration_ms",
        "rows",
        "statement",
        "error",
    ],
    item: "Statements, newest first, as the Query History API describes them: query_id, status, query_text, statement_type, warehouse_id, user_name, query_start_time_ms, duration (ms), rows_produced, error_message.",
    fields: &[],
};

pub fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            "get_table_history",
            "Get table history",
            "What changed in a Delta table: its versions, newest first, with time, operation (WRITE, MERGE, DELETE, …), user and operation metrics (rows written, files). Runs DESCRIBE HISTORY on a SQL warehouse.",
            Toolset::Catalog,
            ToolKind::ReadGet,
            get_table_history,
        ),
        ToolDef::new(
            "get_table_lineage",
            "Get table lineage",
            "Where a table's data comes from and where it goes: its upstream and downstream tables, with the notebooks, jobs and pipelines that connect them.",
            Toolset::Catalog,
            ToolKind::ReadGet,
            get_table_lineage,
        ),
        ToolDef::list(
            &QUERY_HISTORY,
            "Get query history",
            "The statements SQL warehouses ran, newest first, with user, status, duration, rows and error: which queries are slow or failing. Filter by warehouse, user, status and start time.",
            Toolset::Sql,
            get_query_history,
        ),
    ]
}

/// `catalog.schema.table`, each part checked.
fn full_name(table: &str) -> Result<[String; 3], ToolError> {
    let parts: Vec<&str> = table.trim().split('.').collect();
    let [catalog, schema, name] = parts.as_slice() else {
        return Err(ToolError::new(format!(
            "table {table:?} must be a full name: catalog.schema.table (list_tables shows them)"
        )));
    };
    Ok([
        validate_name("catalog", catalog)?,
        validate_name("schema", schema)?,
        validate_name("table", name)?,
    ])
}

fn quoted([catalog, schema, table]: &[String; 3]) -> String {
    format!("`{catalog}`.`{schema}`.`{table}`")
}

/// Columns of `DESCRIBE HISTORY` the answer shows, in this order.
const HISTORY_COLUMNS: [&str; 5] = [
    "version",
    "timestamp",
    "operation",
    "userName",
    "operationMetrics",
];

async fn get_table_history(
    ctx: CallContext,
    args: TableHistoryArgs,
) -> Result<ToolOutput, ToolError> {
    let name = full_name(&args.table)?;
    let display = name.join(".");
    let limit = args.limit.unwrap_or(20).clamp(1, 100);
    let choice = choose_warehouse(&ctx, None).await?;
    let sql = format!("DESCRIBE HISTORY {} LIMIT {limit}", quoted(&name));
    let request = statement_request(&ctx.state.settings, &sql, &choice);
    let response = execute(
        &ctx,
        request,
        &choice,
        ctx.state.settings.sql_timeout,
        FollowUp::None,
    )
    .await?;
    let state = response.status.state;
    if state != StatementState::Succeeded {
        let message = response
            .status
            .error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| format!("the statement ended {state:?}"));
        let hint = if message.contains("TABLE_OR_VIEW_NOT_FOUND") || message.contains("not found") {
            " Check the name with list_tables."
        } else if message.to_ascii_lowercase().contains("delta") {
            " History exists for Delta tables only."
        } else {
            ""
        };
        return Err(ToolError::new(format!(
            "Reading the history of {display} failed: {message}.{hint}"
        )));
    }
    let columns: Vec<String> = response
        .manifest
        .as_ref()
        .map(|m| m.schema.columns.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let rows = fetch_rows(&ctx.state.client, &response, 0, limit as usize).await?;
    let index: Vec<Option<usize>> = HISTORY_COLUMNS
        .iter()
        .map(|want| columns.iter().position(|c| c.eq_ignore_ascii_case(want)))
        .collect();
    let picked: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|row| {
            index
                .iter()
                .map(|i| i.and_then(|i| row.get(i).cloned().flatten()))
                .collect()
        })
        .collect();
    let header: Vec<String> = ["version", "time", "operation", "user", "metrics"]
        .map(String::from)
        .to_vec();
    let budget = ctx.state.settings.max_chars.saturating_sub(300);
    let table = render::table(&header, picked.clone(), budget);
    let text = if rows.is_empty() {
        format!("{display} has no history.")
    } else {
        let mut text = format!(
            "{display}: {} version{}, newest first.\n{}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            table.text
        );
        if table.rows_shown < rows.len() {
            text.push_str(&format!(
                "\n[{} more versions cut to fit; ask for fewer with limit]",
                rows.len() - table.rows_shown
            ));
        }
        text.push_str(&format!(
            "\nRead an older version with run_sql_query: SELECT * FROM {display} VERSION AS OF <version>."
        ));
        text
    };
    let versions: Vec<Value> = picked
        .iter()
        .map(|r| {
            Value::Object(
                HISTORY_COLUMNS
                    .iter()
                    .zip(r)
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect(),
            )
        })
        .collect();
    Ok(ToolOutput::new(
        text,
        json!({"table": display, "versions": versions}),
    ))
}

async fn get_table_lineage(
    ctx: CallContext,
    args: TableLineageArgs,
) -> Result<ToolOutput, ToolError> {
    let name = full_name(&args.table)?;
    let display = name.join(".");
    let lineage = ctx
        .state
        .client
        .table_lineage(&display)
        .await
        .map_err(|e| {
            ToolError::upstream(&format!("Reading the lineage of {display}"), e)
                .hint_for(
                    ErrorKind::NotFound,
                    format!(
                        "Check the name with list_tables (catalog \"{}\", schema \"{}\").",
                        name[0], name[1]
                    ),
                )
                .needs(&format!("BROWSE or SELECT on {display}"))
        })?;
    let describe = |nodes: &[LineageNode]| -> Vec<String> {
        nodes
            .iter()
            .map(|n| {
                let what = match (&n.table_info, &n.file_info) {
                    (Some(t), _) => format!(
                        "{}{}",
                        t.full_name(),
                        t.table_type
                            .as_deref()
                            .map(|k| format!(" ({k})"))
                            .unwrap_or_default()
                    ),
                    (None, Some(f)) => f
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or("a path")
                        .to_string(),
                    (None, None) => "(unnamed)".into(),
                };
                let mut via = Vec::new();
                via.extend(
                    n.notebook_infos
                        .iter()
                        .filter_map(|e| e.notebook_id.map(|id| format!("notebook {id}"))),
                );
                via.extend(n.job_infos.iter().filter_map(|e| {
                    e.job_id.map(|id| match e.job_run_id {
                        Some(run) => format!("job {id} (run {run})"),
                        None => format!("job {id}"),
                    })
                }));
                via.extend(
                    n.pipeline_infos
                        .iter()
                        .filter_map(|e| e.pipeline_id.as_ref().map(|id| format!("pipeline {id}"))),
                );
                via.dedup();
                if via.is_empty() {
                    format!("- {what}")
                } else {
                    format!("- {what}, via {}", via.join(", "))
                }
            })
            .collect()
    };
    let up = describe(&lineage.upstreams);
    let down = describe(&lineage.downstreams);
    let mut text = format!("Lineage of {display}:");
    if up.is_empty() && down.is_empty() {
        text.push_str(" none recorded (lineage is recorded when queries, jobs or pipelines read or write the table through Unity Catalog).");
    } else {
        text.push_str(&format!(
            "\nUpstream (reads from), {}:\n{}",
            up.len(),
            if up.is_empty() {
                "(none)".into()
            } else {
                up.join("\n")
            }
        ));
        text.push_str(&format!(
            "\nDownstream (read by), {}:\n{}",
            down.len(),
            if down.is_empty() {
                "(none)".into()
            } else {
                down.join("\n")
            }
        ));
    }
    let text = render::clip(&text, ctx.state.settings.max_chars);
    Ok(ToolOutput::new(
        text,
        json!({"table": display, "upstreams": lineage.upstreams, "downstreams": lineage.downstreams}),
    ))
}

/// `since` as epoch milliseconds: an integer, or an RFC 3339 time.
fn since_ms(since: &str) -> Result<i64, ToolError> {
    let s = since.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ToolError::new(format!(
                "since {since:?} must be an RFC 3339 time such as \"2024-05-01T00:00:00Z\" or epoch milliseconds"
            ))
        })
}

async fn get_query_history(
    ctx: CallContext,
    args: QueryHistoryArgs,
) -> Result<ToolOutput, ToolError> {
    let mut filter = QueryFilter::default();
    if let Some(w) = args
        .warehouse_id
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        filter.warehouse_ids.push(w.to_string());
    }
    if let Some(status) = args
        .status
        .as_deref()
        .map(|s| s.trim().to_ascii_uppercase())
    {
        if !["QUEUED", "RUNNING", "CANCELED", "FAILED", "FINISHED"].contains(&status.as_str()) {
            return Err(ToolError::new(format!(
                "status must be QUEUED, RUNNING, CANCELED, FAILED or FINISHED, not {status:?}"
            )));
        }
        filter.statuses.push(status);
    }
    if let Some(since) = &args.since {
        filter.start_time_ms = Some(since_ms(since)?);
    }
    let user = args
        .user
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let limit = args.limit.unwrap_or(25).clamp(1, 100);
    // The API filters users by numeric id; a name is matched here, over a larger page.
    let fetch = if user.is_some() { 999 } else { limit };
    let page = ctx
        .state
        .client
        .list_queries(&filter, fetch, args.cursor.as_deref())
        .await
        .map_err(|e| {
            ToolError::upstream("Reading the query history", e).needs(
                "CAN MONITOR on the warehouses (or workspace admin) to see other users' queries",
            )
        })?;
    let mut items = page.items;
    if let Some(u) = user {
        items.retain(|q| {
            q.user_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(u))
                || q.executed_as_user_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(u))
        });
        items.truncate(limit as usize);
    }
    let rows = items.iter().map(|q| {
        vec![
            timestamp_ms(q.query_start_time_ms),
            q.user_name.clone(),
            q.status.clone(),
            q.duration.map(|d| d.to_string()),
            q.rows_produced.map(|r| r.to_string()),
            q.query_text
                .as_deref()
                .map(|t| render::clip(&t.split_whitespace().collect::<Vec<_>>().join(" "), 300)),
            q.error_message.as_deref().map(|e| render::clip(e, 300)),
        ]
    });
    Ok(QUERY_HISTORY
        .page(rows, values(&items), page.next_page_token)
        .answer(&ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_or_milliseconds() {
        assert_eq!(
            since_ms("1709258400000").expect("test value"),
            1_709_258_400_000
        );
        assert_eq!(
            since_ms("2024-03-01T02:00:00Z").expect("test value"),
            1_709_258_400_000
        );
        assert!(since_ms("yesterday").is_err());
    }

    #[test]
    fn table_names_have_three_parts() {
        assert!(full_name("main.sales.orders").is_ok());
        assert!(full_name("sales.orders").is_err());
        assert!(full_name("a.b.c.d").is_err());
        assert!(full_name("main.sales.`x`; DROP").is_err());
    }
}
