//! Typed errors. Every error format of the REST reference (§13) is parsed into an
//! [`ApiError`] whose `Display` says what happened and what to do next, because the
//! text reaches a model or a person verbatim.

use std::fmt;
use std::time::Duration;

use crate::auth::AuthError;
use crate::config::ConfigError;

/// Class of an API failure, decided by `error_code` when it is specific and by the
/// HTTP status otherwise (the SDKs' mapping, REFERENCE.md §13.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    BadRequest,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    ResourceConflict,
    TooManyRequests,
    Cancelled,
    Internal,
    NotImplemented,
    TemporarilyUnavailable,
    DeadlineExceeded,
    Unknown,
}

impl ErrorKind {
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::ResourceConflict,
            429 => ErrorKind::TooManyRequests,
            499 => ErrorKind::Cancelled,
            500 => ErrorKind::Internal,
            501 => ErrorKind::NotImplemented,
            503 => ErrorKind::TemporarilyUnavailable,
            504 => ErrorKind::DeadlineExceeded,
            s if (400..500).contains(&s) => ErrorKind::BadRequest,
            s if s >= 500 => ErrorKind::Internal,
            _ => ErrorKind::Unknown,
        }
    }

    /// `error_code` refinements; unknown codes fall back to the HTTP status.
    fn from_code(code: &str) -> Option<ErrorKind> {
        Some(match code {
            "INVALID_PARAMETER_VALUE" | "INVALID_STATE" | "BAD_REQUEST" | "MALFORMED_REQUEST" => {
                ErrorKind::BadRequest
            }
            "UNAUTHENTICATED" | "UNAUTHORIZED" => ErrorKind::Unauthenticated,
            "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
            "RESOURCE_DOES_NOT_EXIST" | "NOT_FOUND" => ErrorKind::NotFound,
            "ABORTED" | "ALREADY_EXISTS" | "RESOURCE_ALREADY_EXISTS" | "RESOURCE_CONFLICT" => {
                ErrorKind::ResourceConflict
            }
            "RESOURCE_EXHAUSTED" | "REQUEST_LIMIT_EXCEEDED" | "TOO_MANY_REQUESTS" => {
                ErrorKind::TooManyRequests
            }
            "UNKNOWN" | "DATA_LOSS" | "INTERNAL_ERROR" | "INTERNAL_SERVER_ERROR" => {
                ErrorKind::Internal
            }
            "TEMPORARILY_UNAVAILABLE" => ErrorKind::TemporarilyUnavailable,
            "DEADLINE_EXCEEDED" => ErrorKind::DeadlineExceeded,
            "NOT_IMPLEMENTED" => ErrorKind::NotImplemented,
            _ => return None,
        })
    }

    /// What the caller can do about it, in one sentence.
    pub fn hint(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "Check the arguments and try again.",
            ErrorKind::Unauthenticated => {
                "The Databricks credentials were rejected: check DATABRICKS_TOKEN or the profile in ~/.databrickscfg, or run `databricks auth login`."
            }
            ErrorKind::PermissionDenied => {
                "The configured identity lacks permission for this object; ask a workspace admin for access or use another object."
            }
            ErrorKind::NotFound => {
                "The object does not exist or is not visible to this identity; check the name or id (list the parent to see what exists)."
            }
            ErrorKind::ResourceConflict => {
                "The object is in a conflicting state; check its current state and try again."
            }
            ErrorKind::TooManyRequests => {
                "Databricks is rate limiting this client; wait a little and try again with fewer calls."
            }
            ErrorKind::Cancelled => "The request was cancelled.",
            ErrorKind::Internal => {
                "Databricks reported an internal error; try again, and report it if it persists."
            }
            ErrorKind::NotImplemented => "This operation is not supported by this workspace.",
            ErrorKind::TemporarilyUnavailable => {
                "The service is temporarily unavailable; try again in a minute."
            }
            ErrorKind::DeadlineExceeded => {
                "The request timed out on the Databricks side; try again."
            }
            ErrorKind::Unknown => "Try again; report it if it persists.",
        }
    }
}

/// A non-2xx answer from the Databricks REST API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    /// `error_code` from the body (numeric codes rendered as text), or derived from
    /// the HTTP reason when the body had none.
    pub error_code: String,
    pub message: String,
    pub kind: ErrorKind,
    /// Delay asked for by `Retry-After` or a `RetryInfo` detail.
    pub retry_after: Option<Duration>,
    pub request_id: Option<String>,
    /// `details[]` entries, kept raw (unknown `@type`s are tolerated).
    pub details: Vec<serde_json::Value>,
    /// `METHOD /path` of the request that failed (never the query string).
    pub endpoint: String,
}

impl ApiError {
    /// Parses an error body of any of the documented shapes (§13.1).
    pub fn from_response(
        status: u16,
        endpoint: String,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> ApiError {
        let reason = http_reason(status);
        let mut error_code = String::new();
        let mut message = String::new();
        let mut details = Vec::new();
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim();
        if let Ok(serde_json::Value::Object(obj)) =
            serde_json::from_str::<serde_json::Value>(trimmed)
        {
            if let Some(code) = obj.get("error_code") {
                error_code = match code {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
            }
            if let Some(m) = obj.get("message").and_then(|m| m.as_str()) {
                message = m.to_string();
            }
            if let Some(serde_json::Value::Array(d)) = obj.get("details") {
                details = d.clone();
            }
            // SCIM form.
            let scim = obj.contains_key("schemas") || obj.contains_key("scimType");
            if let (true, Some(detail)) = (scim, obj.get("detail").and_then(|d| d.as_str())) {
                let scim_type = obj.get("scimType").and_then(|d| d.as_str()).unwrap_or("");
                message = if detail == "null" {
                    "SCIM API Internal Error".to_string()
                } else {
                    format!("{scim_type} {detail}").trim().to_string()
                };
                error_code = format!("SCIM_{status}");
            }
            // Legacy 1.2 form and OAuth form.
            if let (true, Some(e)) = (
                message.is_empty(),
                obj.get("error").and_then(|e| e.as_str()),
            ) {
                message = e.to_string();
                if let Some(desc) = obj.get("error_description").and_then(|d| d.as_str()) {
                    if error_code.is_empty() {
                        error_code = e.to_uppercase();
                    }
                    message = desc.to_string();
                }
            }
        } else if !trimmed.is_empty() {
            if trimmed.starts_with('<') {
                message = html_message(trimmed).unwrap_or_default();
            } else if let Some((code, msg)) = trimmed.split_once(": ") {
                if !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    error_code = code.to_string();
                    message = msg.to_string();
                } else {
                    message = trimmed.to_string();
                }
            } else {
                message = trimmed.to_string();
            }
        }
        if message.is_empty() {
            message = reason.to_string();
        }
        if error_code.is_empty() {
            error_code = reason.to_uppercase().replace([' ', '-'], "_");
        }
        let kind =
            ErrorKind::from_code(&error_code).unwrap_or_else(|| ErrorKind::from_status(status));
        let mut request_id = None;
        let mut retry_after = retry_after;
        for d in &details {
            match d.get("@type").and_then(|t| t.as_str()) {
                Some(t) if t.ends_with("RequestInfo") => {
                    request_id = d
                        .get("request_id")
                        .and_then(|r| r.as_str())
                        .map(str::to_string);
                }
                Some(t) if t.ends_with("RetryInfo") && retry_after.is_none() => {
                    retry_after = d
                        .get("retry_delay")
                        .and_then(|r| r.as_str())
                        .and_then(parse_proto_duration);
                }
                _ => {}
            }
        }
        ApiError {
            status,
            error_code,
            message: truncate(&message, 2000),
            kind,
            retry_after,
            request_id,
            details,
            endpoint,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Databricks API error {} {} on {}: {} {}",
            self.status,
            self.error_code,
            self.endpoint,
            self.message.trim_end_matches('.'),
            self.kind.hint()
        )
    }
}

impl std::error::Error for ApiError {}

/// Every failure of a client call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error(
        "cannot connect to {host}: {detail}. Check DATABRICKS_HOST and that the workspace is reachable from this machine"
    )]
    Connect { host: String, detail: String },
    #[error(
        "no answer from {host} within {seconds:.1} s ({endpoint}); the workspace may be overloaded or unreachable — try again",
        seconds = .after.as_secs_f64()
    )]
    Timeout {
        host: String,
        endpoint: String,
        after: Duration,
    },
    #[error("network error talking to {host} ({endpoint}): {detail}")]
    Network {
        host: String,
        endpoint: String,
        detail: String,
    },
    #[error(
        "gave up on {endpoint} after {attempts} attempts over {seconds:.1} s: {last}",
        seconds = .elapsed.as_secs_f64()
    )]
    RetriesExhausted {
        endpoint: String,
        attempts: u32,
        elapsed: Duration,
        last: Box<Error>,
    },
    #[error("unexpected response from {endpoint}: {detail}")]
    Decode { endpoint: String, detail: String },
    #[error("invalid request: {0}")]
    InvalidInput(String),
    #[error("the operation was cancelled")]
    Cancelled,
}

impl Error {
    /// The API error at the root of this error, if any.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e.as_ref()),
            Error::RetriesExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<ErrorKind> {
        self.api().map(|e| e.kind)
    }
}

fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

fn html_message(html: &str) -> Option<String> {
    let between = |open: &str, close: &str| -> Option<String> {
        let lower = html.to_ascii_lowercase();
        let start = lower.find(open)? + open.len();
        let end = lower[start..].find(close)? + start;
        Some(html.get(start..end)?.trim().to_string())
    };
    between("<pre>", "</pre>").or_else(|| between("<title>", "</title>"))
}

fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        ApiError::from_response(status, "GET /x".into(), None, body.as_bytes())
    }

    #[test]
    fn standard_json_error() {
        let e = parse(
            404,
            r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Job 5 does not exist."}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.error_code, "RESOURCE_DOES_NOT_EXIST");
        assert!(e.to_string().contains("Job 5 does not exist"));
    }

    #[test]
    fn unknown_code_falls_back_to_status() {
        let e = parse(
            404,
            r#"{"error_code":"TABLE_DOES_NOT_EXIST","message":"t"}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
    }

    #[test]
    fn numeric_error_code() {
        let e = parse(400, r#"{"error_code":1234,"message":"m"}"#);
        assert_eq!(e.error_code, "1234");
        assert_eq!(e.kind, ErrorKind::BadRequest);
    }

    #[test]
    fn legacy_and_scim_and_text_and_html_and_empty() {
        assert_eq!(parse(400, r#"{"error":"bad thing"}"#).message, "bad thing");
        let scim = parse(
            404,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User not found","status":"404","scimType":"invalidValue"}"#,
        );
        assert_eq!(scim.error_code, "SCIM_404");
        assert_eq!(scim.message, "invalidValue User not found");
        let text = parse(503, "TEMPORARILY_UNAVAILABLE: try later");
        assert_eq!(text.error_code, "TEMPORARILY_UNAVAILABLE");
        assert_eq!(text.message, "try later");
        let html = parse(
            502,
            "<html><head><title>Bad Gateway</title></head><body>x</body></html>",
        );
        assert_eq!(html.message, "Bad Gateway");
        assert_eq!(html.error_code, "BAD_GATEWAY");
        let empty = parse(503, "");
        assert_eq!(empty.message, "Service Unavailable");
        assert_eq!(empty.kind, ErrorKind::TemporarilyUnavailable);
    }

    #[test]
    fn details_are_read() {
        let e = parse(
            429,
            r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down","details":[
                {"@type":"type.googleapis.com/google.rpc.RequestInfo","request_id":"req-1"},
                {"@type":"type.googleapis.com/google.rpc.RetryInfo","retry_delay":"2s"},
                {"@type":"type.example/Unknown","x":1}]}"#,
        );
        assert_eq!(e.kind, ErrorKind::TooManyRequests);
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    }
}
