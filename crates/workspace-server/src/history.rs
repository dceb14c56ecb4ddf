//! Query History API 2.0 (REFERENCE.md §11): `GET /api/2.0/sql/history/queries`.
//!
//! Parameters come from the query string (dotted or bracketed `filter_by.*`) or a JSON
//! body, as clients send either. The filters are applied here (a backend may narrow its
//! listing with them, never widen it); pages are newest first and continue after the
//! last query sent, so queries that start while a client pages do not repeat items.

use axum::response::Response;
use databricks_api::backend::QueryHistory;
use databricks_api::error::ApiError;
use databricks_api::history::{ListQueriesResponse, QueryFilter, QueryInfo};

use crate::paging::{decode_cursor, encode_cursor};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

/// Page size when `max_results` is absent or 0.
const DEFAULT_PAGE: i64 = 100;
/// `max_results` must be below this (§11).
const PAGE_LIMIT: i64 = 1000;
/// The `QueryStatus` values a status filter may name.
const STATUSES: [&str; 8] = [
    "QUEUED",
    "STARTED",
    "COMPILING",
    "COMPILED",
    "RUNNING",
    "FINISHED",
    "FAILED",
    "CANCELED",
];
const SCOPE: &str = "queries";

/// `rest`: the path after `/api/2.0/sql/history`.
pub(crate) async fn route(
    backend: &dyn QueryHistory,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["queries"]) => list(backend, req).await,
        _ => Err(endpoint_not_found(req)),
    }
}

async fn list(backend: &dyn QueryHistory, req: &ApiRequest) -> Result<Response, ApiError> {
    let size = match req.integer_param("max_results")? {
        None | Some(0) => DEFAULT_PAGE,
        Some(n) if !(1..PAGE_LIMIT).contains(&n) => {
            return Err(ApiError::invalid_parameter(format!(
                "max_results must be between 1 and {}, got {n}.",
                PAGE_LIMIT - 1
            )));
        }
        Some(n) => n,
    };
    let size = usize::try_from(size).unwrap_or(1);
    let include_metrics = req.flag_param("include_metrics")?;
    let filter = filter(req)?;
    let after = match decode_cursor(SCOPE, req.param("page_token")?.as_deref())? {
        Some(cursor) => Some(parse_cursor(&cursor).ok_or_else(|| {
            ApiError::invalid_parameter("Invalid page token: pass back a token this server sent.")
        })?),
        None => None,
    };
    let mut all: Vec<QueryInfo> = backend
        .queries(&filter)
        .await?
        .into_iter()
        .filter(|q| filter.matches(q))
        .filter(|q| after.as_ref().is_none_or(|a| order_key(q) < *a))
        .collect();
    // Newest first; the id breaks ties so that the order (and the cursor) is total.
    all.sort_by_key(|q| std::cmp::Reverse(order_key(q)));
    let has_next_page = all.len() > size;
    all.truncate(size);
    let next_page_token = has_next_page
        .then(|| all.last().map(|q| encode_cursor(SCOPE, &cursor_of(q))))
        .flatten();
    if !include_metrics {
        for q in &mut all {
            q.metrics = None;
        }
    }
    Ok(json_response(
        200,
        &ListQueriesResponse {
            res: all,
            next_page_token,
            has_next_page,
        },
    ))
}

/// The `filter_by.*` parameters, type-checked.
fn filter(req: &ApiRequest) -> Result<QueryFilter, ApiError> {
    let statuses = req.param_values("filter_by.statuses")?;
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(ApiError::invalid_parameter(format!(
            "filter_by.statuses: '{bad}' is not a query status ({}).",
            STATUSES.join(", ")
        )));
    }
    let range = "filter_by.query_start_time_range";
    let start_time_ms = req.integer_param(&format!("{range}.start_time_ms"))?;
    let end_time_ms = req.integer_param(&format!("{range}.end_time_ms"))?;
    if let (Some(start), Some(end)) = (start_time_ms, end_time_ms)
        && start > end
    {
        return Err(ApiError::invalid_parameter(format!(
            "{range}: start_time_ms ({start}) is after end_time_ms ({end})."
        )));
    }
    let strings = |name: &str| -> Result<Vec<String>, ApiError> {
        Ok(req
            .param_values(name)?
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect())
    };
    Ok(QueryFilter {
        statement_ids: strings("filter_by.statement_ids")?,
        statuses,
        user_ids: req.integer_params("filter_by.user_ids")?,
        warehouse_ids: strings("filter_by.warehouse_ids")?,
        start_time_ms,
        end_time_ms,
    })
}

fn order_key(q: &QueryInfo) -> (i64, String) {
    (q.query_start_time_ms.unwrap_or(0), q.query_id.clone())
}

fn cursor_of(q: &QueryInfo) -> String {
    let (start, id) = order_key(q);
    format!("{start}:{id}")
}

fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (start, id) = cursor.split_once(':')?;
    Some((start.parse().ok()?, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_the_last_query() {
        let q = QueryInfo {
            query_id: "a:b".into(),
            query_start_time_ms: Some(42),
            ..QueryInfo::default()
        };
        assert_eq!(parse_cursor(&cursor_of(&q)), Some(order_key(&q)));
        assert_eq!(parse_cursor("x:y"), None);
    }
}
