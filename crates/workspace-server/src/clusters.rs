//! Clusters API 2.1 (REFERENCE.md §5), also served under 2.0: list, get, start, restart,
//! delete (terminate) and events.
//!
//! The protocol lives here — the required `cluster_id`, the error for an unknown cluster,
//! which state allows which action, filters, sort, both paging schemes of events — and
//! the data and the state changes come from the backend.

use axum::response::Response;
use databricks_api::backend::Clusters;
use databricks_api::compute::{
    Cluster, ClusterEvent, ClusterEventsPage, ClusterEventsRequest, ClustersPage, cluster_not_found,
};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::paging::slice;

use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// List page size for `page_size` 0, and the largest one (§5.1: the server may cap).
const LIST_PAGE: usize = 100;
/// Events page size for `page_size` or `limit` 0 or absent, and the largest (§5.5).
const EVENTS_PAGE: i64 = 50;
const EVENTS_MAX: i64 = 500;

/// `rest`: the path after `/api/2.{0,1}/clusters/`.
pub(crate) async fn route(backend: &dyn Clusters, req: &ApiRequest, rest: &[&str]) -> Answer {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", ["list"]) => list(backend, req).await,
        ("GET" | "HEAD", ["get"]) => {
            let id = req.required_param("cluster_id")?;
            let cluster = backend
                .cluster(&id)
                .await?
                .ok_or_else(|| cluster_not_found(&id))?;
            Ok(json_response(200, &cluster))
        }
        ("POST", ["start"]) => act(backend, req, Action::Start).await,
        ("POST", ["restart"]) => act(backend, req, Action::Restart).await,
        ("POST", ["delete"]) => act(backend, req, Action::Terminate).await,
        ("POST", ["events"]) => events(backend, req).await,
        _ => Err(endpoint_not_found(req)),
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Start,
    Restart,
    Terminate,
}

/// §5.3/§5.4 and restart: each answers `{}` once the backend has begun the change. An
/// action that has already happened (terminating a terminated cluster, restarting one
/// that is starting) changes nothing; one the state does not allow is `INVALID_STATE`.
async fn act(backend: &dyn Clusters, req: &ApiRequest, action: Action) -> Answer {
    let id = req.required_param("cluster_id")?;
    let state = backend
        .cluster_state(&id)
        .await?
        .ok_or_else(|| cluster_not_found(&id))?;
    let unexpected = |advice: &str| {
        ApiError::new(
            ErrorCode::InvalidState,
            format!(
                "Cluster {id} is in unexpected state {}{advice}.",
                pretty(&state)
            ),
        )
    };
    match (action, state.as_str()) {
        (Action::Start, "TERMINATED" | "ERROR") => backend.start_cluster(&id).await?,
        (Action::Start, _) => return Err(unexpected("")),
        (Action::Restart, "RUNNING") => backend.restart_cluster(&id).await?,
        (Action::Restart, "PENDING" | "RESTARTING") => {}
        (Action::Restart, _) => {
            return Err(unexpected(": start it instead of restarting it"));
        }
        (Action::Terminate, "TERMINATING" | "TERMINATED") => {}
        (Action::Terminate, _) => backend.terminate_cluster(&id).await?,
    }
    Ok(json_response(200, &serde_json::Map::new()))
}

/// `Pending` for `PENDING`, as the service writes states in messages.
fn pretty(state: &str) -> String {
    let lower = state.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// §5.1. Without `page_size` and `page_token` every cluster in one answer (what the 2.0
/// API always did); otherwise token pages of `page_size` (0 ⇒ [`LIST_PAGE`], capped
/// there). Filters are resent with each page, as the reference asks.
async fn list(backend: &dyn Clusters, req: &ApiRequest) -> Answer {
    let token = req.param("page_token")?;
    let size = match req.integer_param("page_size")? {
        Some(n) if n < 0 => {
            return Err(ApiError::invalid_parameter(
                "page_size must be greater than or equal to 0",
            ));
        }
        None if token.is_none() => None,
        Some(0) | None => Some(LIST_PAGE),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX).min(LIST_PAGE)),
    };
    let offset = decode_token("clusters", token.as_deref())?;
    let clusters = listed(backend.clusters().await?, req)?;
    let (mut clusters, next) = slice(clusters, offset, size);
    for cluster in &mut clusters {
        cluster.spec = None;
    }
    let prev = (offset > 0).then(|| {
        let back = offset.saturating_sub(size.unwrap_or(offset));
        encode_token("clusters", back)
    });
    Ok(json_response(
        200,
        &ClustersPage {
            clusters,
            next_page_token: next.map(|n| encode_token("clusters", n)),
            prev_page_token: prev,
        },
    ))
}

/// The clusters `filter_by` keeps, in the order `sort_by` asks for.
fn listed(mut clusters: Vec<Cluster>, req: &ApiRequest) -> Result<Vec<Cluster>, ApiError> {
    let states = req.param_values("filter_by.cluster_states")?;
    let sources = req.param_values("filter_by.cluster_sources")?;
    let policies = req.param_values("filter_by.policy_id")?;
    // No backend pins clusters: asking for pinned ones finds none.
    let pinned_only = req.flag_param("filter_by.is_pinned")?;
    let by_name = match req.param("sort_by.field")?.as_deref() {
        None | Some("DEFAULT") => false,
        Some("CLUSTER_NAME") => true,
        Some(other) => {
            return Err(invalid_enum(
                "sort_by.field",
                other,
                "CLUSTER_NAME, DEFAULT",
            ));
        }
    };
    let descending = is_descending(req.param("sort_by.direction")?, "sort_by.direction", false)?;
    let kept = |values: &[String], value: &Option<String>| {
        values.is_empty() || value.as_ref().is_some_and(|v| values.contains(v))
    };
    clusters.retain(|c| {
        !pinned_only
            && kept(&states, &c.state)
            && kept(&sources, &c.cluster_source)
            && kept(&policies, &c.policy_id)
    });
    if by_name {
        clusters.sort_by(|a, b| a.cluster_name.cmp(&b.cluster_name));
    }
    if descending {
        clusters.reverse();
    }
    Ok(clusters)
}

/// Whether a direction parameter (`ASC` or `DESC`) asks for descending order.
fn is_descending(value: Option<String>, name: &str, default: bool) -> Result<bool, ApiError> {
    match value.as_deref() {
        None => Ok(default),
        Some("ASC") => Ok(false),
        Some("DESC") => Ok(true),
        Some(other) => Err(invalid_enum(name, other, "ASC, DESC")),
    }
}

fn invalid_enum(name: &str, value: &str, allowed: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Invalid value '{value}' for {name}: expected one of {allowed}."
    ))
}

/// §5.5: the events of one cluster between `start_time` and `end_time` (inclusive), of
/// `event_types`, newest first unless `order` is `ASC`. Token paging (`page_size`,
/// `page_token`) answers `next_page_token`/`prev_page_token` and `total_count` 0; the
/// deprecated offset paging (`offset`/`limit` without a token or page size) answers
/// `next_page`, the whole request for the next page, and the total.
async fn events(backend: &dyn Clusters, req: &ApiRequest) -> Answer {
    let request = events_request(req)?;
    let id = request.cluster_id.as_str();
    let all = backend
        .cluster_events(id)
        .await?
        .ok_or_else(|| cluster_not_found(id))?;
    let mut events: Vec<ClusterEvent> = all
        .into_iter()
        .filter(|e| {
            let at = e.timestamp.unwrap_or(0);
            request.start_time.is_none_or(|from| at >= from)
                && request.end_time.is_none_or(|to| at <= to)
                && (request.event_types.is_empty()
                    || e.type_
                        .as_ref()
                        .is_some_and(|t| request.event_types.contains(t)))
        })
        .collect();
    if request.order.as_deref() != Some("ASC") {
        events.reverse();
    }
    let legacy = request.page_token.is_none()
        && request.page_size.is_none()
        && (request.offset.is_some() || request.limit.is_some());
    let page = if legacy {
        offset_page(events, &request)
    } else {
        token_page(events, &request)?
    };
    Ok(json_response(200, &page))
}

/// The events request, checked: `cluster_id` required, numbers in range, `order` known.
fn events_request(req: &ApiRequest) -> Result<ClusterEventsRequest, ApiError> {
    let sized = |name: &str| -> Result<Option<i64>, ApiError> {
        match req.integer_param(name)? {
            Some(n) if !(0..=EVENTS_MAX).contains(&n) => Err(ApiError::invalid_parameter(format!(
                "{name} must be between 0 and {EVENTS_MAX}, got {n}."
            ))),
            n => Ok(n),
        }
    };
    let offset = match req.integer_param("offset")? {
        Some(n) if n < 0 => {
            return Err(ApiError::invalid_parameter(format!(
                "offset must be greater than or equal to 0, got {n}."
            )));
        }
        n => n,
    };
    let descending = is_descending(req.param("order")?, "order", true)?;
    Ok(ClusterEventsRequest {
        cluster_id: req.required_param("cluster_id")?,
        start_time: req.integer_param("start_time")?,
        end_time: req.integer_param("end_time")?,
        event_types: req.param_values("event_types")?,
        order: Some(if descending { "DESC" } else { "ASC" }.to_string()),
        page_size: sized("page_size")?,
        page_token: req.param("page_token")?,
        offset,
        limit: sized("limit")?,
    })
}

fn page_size(n: Option<i64>) -> usize {
    let n = n.filter(|n| *n > 0).unwrap_or(EVENTS_PAGE);
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn token_page(
    events: Vec<ClusterEvent>,
    request: &ClusterEventsRequest,
) -> Result<ClusterEventsPage, ApiError> {
    let scope = format!("cluster-events/{}", request.cluster_id);
    let offset = decode_token(&scope, request.page_token.as_deref())?;
    let size = page_size(request.page_size.or(request.limit));
    let (events, next) = slice(events, offset, Some(size));
    Ok(ClusterEventsPage {
        events,
        next_page_token: next.map(|n| encode_token(&scope, n)),
        prev_page_token: (offset > 0).then(|| encode_token(&scope, offset.saturating_sub(size))),
        next_page: None,
        total_count: Some(0),
    })
}

fn offset_page(events: Vec<ClusterEvent>, request: &ClusterEventsRequest) -> ClusterEventsPage {
    let total = events.len();
    let offset = usize::try_from(request.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let size = page_size(request.limit);
    let (events, next) = slice(events, offset, Some(size));
    ClusterEventsPage {
        events,
        next_page: next.map(|n| ClusterEventsRequest {
            offset: Some(i64::try_from(n).unwrap_or(i64::MAX)),
            limit: Some(i64::try_from(size).unwrap_or(EVENTS_MAX)),
            ..request.clone()
        }),
        total_count: Some(i64::try_from(total).unwrap_or(i64::MAX)),
        ..ClusterEventsPage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_written_as_the_service_writes_them() {
        assert_eq!(pretty("PENDING"), "Pending");
        assert_eq!(pretty(""), "");
    }

    #[test]
    fn event_page_sizes_default_to_fifty() {
        assert_eq!(page_size(None), 50);
        assert_eq!(page_size(Some(0)), 50);
        assert_eq!(page_size(Some(7)), 7);
    }
}
