//! Pipelines API 2.0 (REFERENCE.md §6, Lakeflow Declarative Pipelines): list, get,
//! create and delete pipelines, list, get and start updates, stop, and the event log.
//!
//! The protocol lives here — page sizes and tokens, the list's `filter` and `order_by`,
//! the event log's `filter`, `order_by` and the rule that a page token comes alone, the
//! checks of a start request, the 404s, and the 409 for a second active update — and the
//! pipelines, their updates and their events come from the backend.

mod events;

use axum::response::Response;
use databricks_api::backend::{Pipelines, UpdateStart};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::paging::slice;
use databricks_api::pipelines::{
    CreatePipelineResponse, GetUpdateResponse, PipelineDetails, PipelineSpec, PipelinesPage,
    StartUpdateRequest, StartUpdateResponse, UPDATE_CAUSES, UpdatesPage, pipeline_not_found,
    update_not_found,
};
use serde_json::{Map, Value};

use crate::catalog::like;
use crate::paging::{decode_token, encode_token};
use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;

type Answer = Result<Response, ApiError>;

/// `max_results` of the pipeline list (§6.1): the default, and the largest allowed.
const LIST_PAGE: (i64, i64) = (25, 100);
/// `max_results` of the update list (the reference is silent; as the pipeline list).
const UPDATES_PAGE: (i64, i64) = (25, 100);
/// `max_results` of the event log (the reference is silent; clients send up to 250).
const EVENTS_PAGE: (i64, i64) = (25, 250);
/// Request-only flags of a create, not part of the stored settings.
const CREATE_FLAGS: [&str; 2] = ["dry_run", "allow_duplicate_names"];

/// `rest`: the path after `/api/2.0/pipelines`.
pub(crate) async fn route(backend: &dyn Pipelines, req: &ApiRequest, rest: &[&str]) -> Answer {
    match (req.method.as_str(), rest) {
        ("GET" | "HEAD", [] | [""]) => list(backend, req).await,
        ("POST", [] | [""]) => create(backend, req).await,
        ("GET" | "HEAD", [id]) => {
            let pipeline = known(backend, id).await?;
            Ok(json_response(200, &pipeline))
        }
        ("DELETE", [id]) => {
            known(backend, id).await?;
            backend.delete_pipeline(id).await?;
            Ok(empty())
        }
        ("GET" | "HEAD", [id, "updates"]) => list_updates(backend, req, id).await,
        ("POST", [id, "updates"]) => start_update(backend, req, id).await,
        ("GET" | "HEAD", [id, "updates", update_id]) => {
            let Some(update) = backend.update(id, update_id).await? else {
                known(backend, id).await?;
                return Err(update_not_found(id, update_id));
            };
            let answer = GetUpdateResponse {
                update: Some(update),
            };
            Ok(json_response(200, &answer))
        }
        ("POST", [id, "stop"]) => {
            known(backend, id).await?;
            backend.stop(id).await?;
            Ok(empty())
        }
        ("GET" | "HEAD", [id, "events"]) => events::list(backend, req, id).await,
        _ => Err(endpoint_not_found(req)),
    }
}

fn empty() -> Response {
    json_response(200, &Map::new())
}

/// The pipeline, or 404 `RESOURCE_DOES_NOT_EXIST`.
async fn known(backend: &dyn Pipelines, id: &str) -> Result<PipelineDetails, ApiError> {
    backend
        .pipeline(id)
        .await?
        .ok_or_else(|| pipeline_not_found(id))
}

/// `max_results`: absent or 0 ⇒ the default, above the largest or negative ⇒ 400.
fn page_size(req: &ApiRequest, (default, max): (i64, i64)) -> Result<usize, ApiError> {
    let n = match req.integer_param("max_results")? {
        None | Some(0) => default,
        Some(n) if !(1..=max).contains(&n) => {
            return Err(ApiError::invalid_parameter(format!(
                "max_results must be between 1 and {max}, got {n}."
            )));
        }
        Some(n) => n,
    };
    Ok(usize::try_from(n).unwrap_or(1))
}

/// §6.1: pipelines kept by `filter`, sorted by `order_by` (`id asc` by default), in token
/// pages of `max_results`.
async fn list(backend: &dyn Pipelines, req: &ApiRequest) -> Answer {
    let size = page_size(req, LIST_PAGE)?;
    let order = list_order(&req.param_values("order_by")?)?;
    let filter = req
        .param("filter")?
        .filter(|f| !f.trim().is_empty())
        .map(|f| ListFilter::parse(&f))
        .transpose()?;
    let offset = decode_token("pipelines", req.param("page_token")?.as_deref())?;
    let mut all = backend.pipelines().await?;
    all.retain(|p| filter.as_ref().is_none_or(|f| f.matches(p)));
    all.sort_by(|a, b| {
        order
            .iter()
            .map(|(key, descending)| {
                let ordering = match key {
                    ListKey::Name => a.name.cmp(&b.name),
                    ListKey::Id => a.pipeline_id.cmp(&b.pipeline_id),
                };
                if *descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let (page, next) = slice(all, offset, Some(size));
    Ok(json_response(
        200,
        &PipelinesPage {
            statuses: page.into_iter().map(PipelineDetails::summary).collect(),
            next_page_token: next.map(|n| encode_token("pipelines", n)),
        },
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKey {
    Id,
    Name,
}

/// `order_by` values (`id`/`name`, then `asc`/`desc`), with `id asc` last so the order is
/// total.
fn list_order(values: &[String]) -> Result<Vec<(ListKey, bool)>, ApiError> {
    let mut order = Vec::new();
    for value in values.iter().filter(|v| !v.trim().is_empty()) {
        let mut words = value.split_whitespace();
        let key = match words.next().map(str::to_ascii_lowercase).as_deref() {
            Some("id") => ListKey::Id,
            Some("name") => ListKey::Name,
            _ => return Err(invalid_order(value, "id or name")),
        };
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(invalid_order(value, "id or name")),
        };
        if words.next().is_some() {
            return Err(invalid_order(value, "id or name"));
        }
        order.push((key, descending));
    }
    order.push((ListKey::Id, false));
    Ok(order)
}

fn invalid_order(value: &str, fields: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Invalid order_by '{value}': order by {fields}, optionally followed by asc or desc."
    ))
}

/// The list's `filter` (§6.1): one condition, composite filters are not supported.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListFilter {
    /// `name LIKE '<pattern>'`.
    NameLike(String),
    /// `notebook='<path>'`: pipelines with that notebook among their libraries.
    Notebook(String),
}

impl ListFilter {
    fn parse(filter: &str) -> Result<ListFilter, ApiError> {
        let invalid = || {
            ApiError::invalid_parameter(format!(
                "Invalid filter '{filter}': use notebook='<path>' or name LIKE '<pattern>' (composite filters are not supported)."
            ))
        };
        let text = filter.trim();
        let field_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (field, rest) = text.split_at(field_end);
        let rest = rest.trim_start();
        match field.to_ascii_lowercase().as_str() {
            "name" => {
                let (keyword, literal) = rest.split_at_checked(4).ok_or_else(invalid)?;
                if !keyword.eq_ignore_ascii_case("like") {
                    return Err(invalid());
                }
                quoted(literal)
                    .map(ListFilter::NameLike)
                    .ok_or_else(invalid)
            }
            "notebook" => rest
                .strip_prefix('=')
                .and_then(quoted)
                .map(ListFilter::Notebook)
                .ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }

    fn matches(&self, pipeline: &PipelineDetails) -> bool {
        match self {
            ListFilter::NameLike(pattern) => pipeline
                .name
                .as_deref()
                .is_some_and(|name| like(pattern, name)),
            ListFilter::Notebook(path) => pipeline.spec.as_ref().is_some_and(|spec| {
                spec.libraries.iter().any(|l| {
                    l.notebook
                        .as_ref()
                        .and_then(|n| n.path.as_deref())
                        .is_some_and(|p| workspace_path(p) == workspace_path(path))
                })
            }),
        }
    }
}

/// A workspace path without the optional `/Workspace` prefix, as both forms name a notebook.
fn workspace_path(path: &str) -> &str {
    path.strip_prefix("/Workspace")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path)
}

/// The text of one SQL string literal making the whole of `text` (`''` is a quote);
/// `None` when `text` is not exactly one literal.
pub(crate) fn quoted(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    let unescaped = inner.replace("''", "\u{0}");
    if unescaped.contains('\'') {
        return None;
    }
    Some(unescaped.replace('\u{0}', "'"))
}

/// §6.3: the updates, newest first, up to and including `until_update_id` when it is one
/// of them, in token pages of `max_results` with a way back.
async fn list_updates(backend: &dyn Pipelines, req: &ApiRequest, id: &str) -> Answer {
    let size = page_size(req, UPDATES_PAGE)?;
    let scope = format!("pipeline-updates/{id}");
    let offset = decode_token(&scope, req.param("page_token")?.as_deref())?;
    let until = req.param("until_update_id")?;
    let mut updates = backend
        .updates(id)
        .await?
        .ok_or_else(|| pipeline_not_found(id))?;
    if let Some(until) = until
        && let Some(at) = updates.iter().position(|u| u.update_id == until)
    {
        updates.truncate(at.saturating_add(1));
    }
    let (updates, next) = slice(updates, offset, Some(size));
    Ok(json_response(
        200,
        &UpdatesPage {
            updates,
            next_page_token: next.map(|n| encode_token(&scope, n)),
            prev_page_token: (offset > 0)
                .then(|| encode_token(&scope, offset.saturating_sub(size))),
        },
    ))
}

/// §6.4: a start request checked (a JSON object of the declared fields, a known `cause`,
/// `API_CALL` when absent), then one update at a time: 409 while another is active.
async fn start_update(backend: &dyn Pipelines, req: &ApiRequest, id: &str) -> Answer {
    let mut request = start_request(req)?;
    known(backend, id).await?;
    request.cause.get_or_insert_with(|| "API_CALL".to_string());
    match backend.start_update(id, &request).await? {
        UpdateStart::Started(update_id) => {
            Ok(json_response(200, &StartUpdateResponse { update_id }))
        }
        UpdateStart::Active(active) => Err(ApiError::new(
            ErrorCode::ResourceConflict,
            format!(
                "An active update {active} already exists for pipeline {id}: stop it or wait for it to end."
            ),
        )),
    }
}

fn start_request(req: &ApiRequest) -> Result<StartUpdateRequest, ApiError> {
    let body = json_body(req)?;
    let request: StartUpdateRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid start update request: {e}")))?;
    if let Some(cause) = request.cause.as_deref()
        && !UPDATE_CAUSES.contains(&cause)
    {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid cause '{cause}': expected one of {}.",
            UPDATE_CAUSES.join(", ")
        )));
    }
    Ok(request)
}

/// The body as a JSON object; no body is an empty one.
fn json_body(req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    match &req.body {
        Some(Value::Object(fields)) => Ok(fields.clone()),
        None | Some(Value::Null) if req.raw_body.iter().all(u8::is_ascii_whitespace) => {
            Ok(Map::new())
        }
        _ => Err(ApiError::invalid_parameter(
            "The request body must be a JSON object.",
        )),
    }
}

/// Create: the settings as a JSON object with a `name`; the request-only flags dropped.
async fn create(backend: &dyn Pipelines, req: &ApiRequest) -> Answer {
    let mut body = json_body(req)?;
    for flag in CREATE_FLAGS {
        body.remove(flag);
    }
    let spec: PipelineSpec = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid pipeline settings: {e}")))?;
    if spec.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::missing_parameter("name"));
    }
    let pipeline_id = backend.create_pipeline(&spec).await?;
    Ok(json_response(200, &CreatePipelineResponse { pipeline_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filters_are_one_condition() {
        assert_eq!(
            ListFilter::parse("name LIKE '%sales%'"),
            Ok(ListFilter::NameLike("%sales%".into()))
        );
        assert_eq!(
            ListFilter::parse(" notebook = '/Users/a/it''s' "),
            Ok(ListFilter::Notebook("/Users/a/it's".into()))
        );
        for bad in [
            "name = 'x'",
            "name LIKE 'a' AND name LIKE 'b'",
            "owner LIKE 'x'",
            "notebook='x",
            "name LIKE",
        ] {
            assert!(ListFilter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_order_ends_with_the_id() {
        assert_eq!(
            list_order(&["name desc".into()]),
            Ok(vec![(ListKey::Name, true), (ListKey::Id, false)])
        );
        assert!(list_order(&["size".into()]).is_err());
        assert!(list_order(&["id sideways".into()]).is_err());
    }

    #[test]
    fn workspace_paths_compare_without_the_prefix() {
        assert_eq!(workspace_path("/Workspace/Users/a"), "/Users/a");
        assert_eq!(workspace_path("/Users/a"), "/Users/a");
        assert_eq!(workspace_path("/Workspaces"), "/Workspaces");
    }
}
