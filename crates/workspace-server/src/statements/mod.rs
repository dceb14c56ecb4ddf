//! SQL Statement Execution API 2.0 (REFERENCE.md §1), written once: the execute
//! request's checks, `wait_timeout` and `on_wait_timeout`, polling, cancel, result chunks
//! in the three dispositions (INLINE, EXTERNAL_LINKS, the hybrid INLINE_OR_EXTERNAL_LINKS)
//! and formats, and the pre-signed downloads behind external links. A backend
//! ([`SqlStatements`]) runs each statement and hands back its rows.

mod archive;
mod download;
mod formats;
mod package;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use databricks_api::backend::{ResultFormat, SqlStatements, StatementRun};
use databricks_api::error::{ApiError, ErrorCode};
use databricks_api::sql::{
    ChunkInfo, ExternalLink, ResultData, ResultManifest, ResultSchema, ServiceError,
    StatementParameter, StatementResponse, StatementState, StatementStatus,
};
use serde_json::Value;

use crate::request::{ApiRequest, endpoint_not_found};
use crate::response::json_response;
use package::{Disposition, Packaged, Payload};
use store::{Seen, Settled, Statement, Store};

pub use download::DOWNLOAD_PREFIX;

/// Statement text larger than this is refused (§1.5).
const MAX_STATEMENT_BYTES: usize = 16 * 1024 * 1024;
/// External links stay valid this long (§1.4: at most 15 minutes).
const LINK_TTL_MS: i64 = 15 * 60 * 1000;

/// The statements of one workspace: its backend, the statements it has accepted, and the
/// URL its external links point at.
pub struct StatementService {
    backend: Arc<dyn SqlStatements>,
    store: Store,
    base_url: String,
    /// Whether the backend's workspace accepts `INLINE_OR_EXTERNAL_LINKS`.
    hybrid_disposition: bool,
}

impl StatementService {
    /// `base_url` is the front's own URL: external links are served from it.
    pub fn new(backend: Arc<dyn SqlStatements>, base_url: impl Into<String>) -> StatementService {
        StatementService {
            store: Store::new(backend.result_archive()),
            hybrid_disposition: backend.accepts_hybrid_disposition(),
            backend,
            base_url: base_url.into(),
        }
    }
}

/// `/api/2.0/sql/statements/...`
pub(crate) async fn route(
    service: &StatementService,
    request: &ApiRequest,
    rest: &[&str],
) -> Result<Response, ApiError> {
    match (request.method.as_str(), rest) {
        ("POST", [] | [""]) => service.execute(request).await,
        ("GET", [id]) => {
            let statement = service.known(id)?;
            Ok(json_response(200, &service.answer(id, &statement).await))
        }
        ("POST", [id, "cancel"]) => {
            service.known(id)?.cancel();
            Ok(json_response(200, &serde_json::Map::new()))
        }
        ("GET", [id, "result", "chunks", index]) => service.chunk(id, index).await,
        _ => Err(endpoint_not_found(request)),
    }
}

/// The execute request, checked.
struct Execute {
    run: StatementRun,
    wait: Duration,
    cancel_on_timeout: bool,
    disposition: Disposition,
    format: ResultFormat,
}

impl StatementService {
    async fn execute(&self, request: &ApiRequest) -> Result<Response, ApiError> {
        let execute = self.checked(request)?;
        let id = execute.run.statement_id.clone();
        let execution = self.backend.start(execute.run).await?;
        let statement = self.store.insert(
            &id,
            Statement::new(execution, execute.disposition, execute.format),
        );
        if !execute.wait.is_zero() {
            // Timing out is not an error: the statement is reported as it is.
            let _ = tokio::time::timeout(execute.wait, statement.settled()).await;
        }
        // One look per answer: a scripted execution moves on each time it is looked at.
        let mut seen = statement.look(&id, &self.store).await;
        if execute.cancel_on_timeout && !execute.wait.is_zero() && !seen.state().is_terminal() {
            statement.cancel();
            seen = statement.look(&id, &self.store).await;
        }
        // Asynchronous mode answers at once with the statement accepted (§1.1), however
        // far a fast backend already got with it.
        if execute.wait.is_zero() && matches!(seen, Seen::Running) {
            seen = Seen::Pending;
        }
        Ok(json_response(200, &self.response(&id, &statement, seen)))
    }

    fn checked(&self, request: &ApiRequest) -> Result<Execute, ApiError> {
        let Some(Value::Object(body)) = request.body.as_ref() else {
            return Err(ApiError::new(
                ErrorCode::MalformedRequest,
                "Could not parse request object: expected a JSON object.",
            ));
        };
        let text = |name: &str| -> Result<Option<&str>, ApiError> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(ApiError::invalid_parameter(format!(
                    "{name} must be a string, got {other}."
                ))),
            }
        };
        let statement = text("statement")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::missing_parameter("statement"))?;
        if statement.len() > MAX_STATEMENT_BYTES {
            return Err(ApiError::invalid_parameter(
                "The statement is larger than 16 MiB.",
            ));
        }
        let warehouse_id = text("warehouse_id")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::missing_parameter("warehouse_id"))?;
        let wait = wait_timeout(text("wait_timeout")?)?;
        let cancel_on_timeout = match text("on_wait_timeout")? {
            None | Some("CONTINUE") => false,
            Some("CANCEL") => true,
            Some(other) => {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid value for on_wait_timeout: '{other}'. Must be CONTINUE or CANCEL."
                )));
            }
        };
        let disposition = self.disposition(text("disposition")?)?;
        let format = result_format(text("format")?, disposition)?;
        Ok(Execute {
            run: StatementRun {
                statement_id: uuid::Uuid::new_v4().to_string(),
                statement: statement.to_string(),
                warehouse_id: warehouse_id.to_string(),
                catalog: text("catalog")?.map(str::to_string),
                schema: text("schema")?.map(str::to_string),
                parameters: parameters(body.get("parameters"))?,
                row_limit: limit(body.get("row_limit"), "row_limit")?,
                byte_limit: limit(body.get("byte_limit"), "byte_limit")?,
                user_agent: request.header("user-agent").map(str::to_string),
            },
            wait,
            cancel_on_timeout,
            disposition,
            format,
        })
    }

    fn disposition(&self, given: Option<&str>) -> Result<Disposition, ApiError> {
        match given {
            None | Some("INLINE") => Ok(Disposition::Inline),
            Some("EXTERNAL_LINKS") => Ok(Disposition::External),
            Some(databricks_api::attachment::HYBRID_DISPOSITION) if self.hybrid_disposition => {
                Ok(Disposition::Hybrid)
            }
            Some(other) => Err(ApiError::invalid_parameter(format!(
                "Invalid value for disposition: '{other}'. Must be INLINE or EXTERNAL_LINKS{}.",
                if self.hybrid_disposition {
                    " or INLINE_OR_EXTERNAL_LINKS"
                } else {
                    ""
                }
            ))),
        }
    }

    fn known(&self, id: &str) -> Result<Arc<Statement>, ApiError> {
        self.store.get(id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ResourceDoesNotExist,
                format!("Statement {id} does not exist: it never did, or it was purged."),
            )
        })
    }

    /// The StatementResponse of a GET.
    async fn answer(&self, id: &str, statement: &Statement) -> StatementResponse {
        let seen = statement.look(id, &self.store).await;
        self.response(id, statement, seen)
    }

    /// The StatementResponse of an execute or a GET that found the statement `seen`.
    fn response(&self, id: &str, statement: &Statement, seen: Seen) -> StatementResponse {
        let status = |state| StatementStatus {
            state,
            ..StatementStatus::default()
        };
        let mut response = StatementResponse {
            statement_id: id.to_string(),
            ..StatementResponse::default()
        };
        match seen {
            Seen::Settled(Settled::Failed(failure)) => {
                response.status = StatementStatus {
                    state: StatementState::Failed,
                    error: Some(ServiceError {
                        error_code: Some(failure.error_code),
                        message: Some(failure.message),
                    }),
                    sql_state: failure.sql_state,
                }
            }
            Seen::Settled(Settled::Succeeded(result)) => {
                response.status = status(StatementState::Succeeded);
                response.manifest = Some(manifest(&result));
                response.result = self.chunk_data(id, statement, &result, 0);
            }
            seen => response.status = status(seen.state()),
        }
        response
    }

    /// `GET …/result/chunks/{index}`: any chunk of a SUCCEEDED statement.
    async fn chunk(&self, id: &str, index: &str) -> Result<Response, ApiError> {
        let statement = self.known(id)?;
        let index: usize = index
            .parse()
            .map_err(|_| ApiError::invalid_parameter(format!("Invalid chunk index '{index}'.")))?;
        let result = match statement.look(id, &self.store).await {
            Seen::Settled(Settled::Succeeded(result)) => result,
            Seen::Settled(Settled::Closed) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidState,
                    format!(
                        "The result of statement {id} is no longer available (CLOSED): run the statement again."
                    ),
                ));
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidState,
                    format!(
                        "Statement {id} is in state {}; result chunks are only available for SUCCEEDED statements.",
                        other.state().as_str()
                    ),
                ));
            }
        };
        let data = self
            .chunk_data(id, &statement, &result, index)
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Chunk index {index} is out of range; the result has {} chunk(s).",
                    result.chunks.len()
                ))
            })?;
        Ok(json_response(200, &data))
    }

    /// Chunk `index` as ResultData: its rows, its attachment, or a fresh link to it.
    fn chunk_data(
        &self,
        id: &str,
        statement: &Statement,
        result: &Packaged,
        index: usize,
    ) -> Option<ResultData> {
        let chunk = result.chunks.get(index)?;
        let next = (index + 1 < result.chunks.len()).then_some(index + 1);
        let next_chunk_index = next.map(|n| n as i64);
        let next_chunk_internal_link =
            next.map(|n| format!("/api/2.0/sql/statements/{id}/result/chunks/{n}"));
        let mut data = ResultData {
            chunk_index: Some(index as i64),
            row_offset: Some(chunk.row_offset as i64),
            row_count: Some(chunk.row_count as i64),
            next_chunk_index,
            next_chunk_internal_link: next_chunk_internal_link.clone(),
            ..ResultData::default()
        };
        match &chunk.payload {
            Payload::Rows(rows) => {
                data.data_array = (chunk.row_count > 0).then(|| rows.clone());
            }
            Payload::Attachment(text) => {
                data.byte_count = Some(chunk.byte_count as i64);
                data.attachment = Some(text.clone());
            }
            Payload::Download(_) => {
                let expires_ms = now_ms().saturating_add(LINK_TTL_MS);
                return Some(ResultData {
                    external_links: vec![ExternalLink {
                        external_link: download::link(
                            &self.base_url,
                            id,
                            index,
                            expires_ms,
                            statement.secret(),
                        ),
                        expiration: Some(rfc3339_ms(expires_ms)),
                        chunk_index: index as i64,
                        row_offset: chunk.row_offset as i64,
                        row_count: chunk.row_count as i64,
                        byte_count: Some(chunk.byte_count as i64),
                        next_chunk_index,
                        next_chunk_internal_link,
                        ..ExternalLink::default()
                    }],
                    ..ResultData::default()
                });
            }
        }
        Some(data)
    }
}

fn manifest(result: &Packaged) -> ResultManifest {
    let external = result.external();
    ResultManifest {
        format: Some(result.format.as_str().to_string()),
        schema: ResultSchema {
            column_count: Some(result.columns.len() as i64),
            columns: result.columns.clone(),
        },
        total_chunk_count: Some(result.chunks.len() as i64),
        chunks: result
            .chunks
            .iter()
            .enumerate()
            .map(|(index, chunk)| ChunkInfo {
                chunk_index: index as i64,
                row_offset: chunk.row_offset as i64,
                row_count: chunk.row_count as i64,
                // Not given for INLINE rows (§1.1).
                byte_count: (!matches!(chunk.payload, Payload::Rows(_)))
                    .then_some(chunk.byte_count as i64),
            })
            .collect(),
        total_row_count: Some(result.total_rows as i64),
        total_byte_count: external.then(|| result.chunks.iter().map(|c| c.byte_count as i64).sum()),
        truncated: result.truncated,
        result_compression: result
            .compressed
            .then(|| databricks_api::attachment::LZ4_FRAME.to_string()),
    }
}

/// `"<N>s"`: 0 (asynchronous) or 5 to 50 seconds; 10 when absent.
fn wait_timeout(given: Option<&str>) -> Result<Duration, ApiError> {
    let Some(given) = given else {
        return Ok(Duration::from_secs(10));
    };
    given
        .strip_suffix('s')
        .and_then(|n| n.trim().parse::<u64>().ok())
        .filter(|n| *n == 0 || (5..=50).contains(n))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "Invalid value for wait_timeout: '{given}'. Must be 0s or between 5s and 50s."
            ))
        })
}

/// `format`, which must suit the disposition: INLINE carries JSON_ARRAY only (§1.5).
fn result_format(given: Option<&str>, disposition: Disposition) -> Result<ResultFormat, ApiError> {
    let format = match given {
        None | Some("JSON_ARRAY") => ResultFormat::JsonArray,
        Some("ARROW_STREAM") => ResultFormat::ArrowStream,
        Some("CSV") => ResultFormat::Csv,
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid value for format: '{other}'. Must be JSON_ARRAY, ARROW_STREAM or CSV."
            )));
        }
    };
    if disposition == Disposition::Inline && format != ResultFormat::JsonArray {
        return Err(ApiError::invalid_parameter(format!(
            "{} format is only supported with EXTERNAL_LINKS disposition.",
            format.as_str()
        )));
    }
    Ok(format)
}

/// `parameters`: `{name, value?, type?}` each; a value given as a number or boolean is
/// taken as its text, as the SDKs send strings.
fn parameters(given: Option<&Value>) -> Result<Vec<StatementParameter>, ApiError> {
    let items = match given {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid_parameter("parameters must be a list.")),
    };
    items
        .iter()
        .map(|item| {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::missing_parameter("parameters.name"))?;
            let value = match item.get("value") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
                Some(other) => {
                    return Err(ApiError::invalid_parameter(format!(
                        "The value of parameter '{name}' must be a string, got {other}."
                    )));
                }
            };
            let type_ = match item.get("type") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(ApiError::invalid_parameter(format!(
                        "The type of parameter '{name}' must be a string, got {other}."
                    )));
                }
            };
            Ok(StatementParameter {
                name: name.to_string(),
                value,
                type_,
            })
        })
        .collect()
}

/// `row_limit` / `byte_limit`: a non-negative integer (or a string of one, as some
/// clients send int64s).
fn limit(given: Option<&Value>, name: &str) -> Result<Option<u64>, ApiError> {
    match given {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "{name} must be a non-negative integer, got {v}."
                ))
            }),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds (`2026-12-03T11:00:00.000Z`).
fn rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_timeouts() {
        assert_eq!(wait_timeout(None), Ok(Duration::from_secs(10)));
        assert_eq!(wait_timeout(Some("0s")), Ok(Duration::ZERO));
        assert_eq!(wait_timeout(Some("50s")), Ok(Duration::from_secs(50)));
        assert!(wait_timeout(Some("3s")).is_err());
        assert!(wait_timeout(Some("51s")).is_err());
        assert!(wait_timeout(Some("ten")).is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_704_067_200_123), "2024-01-01T00:00:00.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn formats_suit_the_disposition() {
        assert!(result_format(Some("ARROW_STREAM"), Disposition::Inline).is_err());
        assert!(result_format(Some("CSV"), Disposition::Inline).is_err());
        assert_eq!(
            result_format(Some("ARROW_STREAM"), Disposition::Hybrid),
            Ok(ResultFormat::ArrowStream)
        );
        assert!(result_format(Some("XML"), Disposition::External).is_err());
    }
}
