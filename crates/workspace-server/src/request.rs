//! A request as the services read it: method, decoded path segments, query parameters.

use databricks_api::error::{ApiError, ErrorCode};

/// One HTTP request, already read by a front.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// Upper-case method.
    pub method: String,
    /// The path as received (percent-encoded), for messages.
    pub raw_path: String,
    /// Percent-decoded path segments, without the leading empty one.
    pub segments: Vec<String>,
    /// Decoded query parameters in order (repeated keys repeated).
    pub query: Vec<(String, String)>,
}

impl ApiRequest {
    /// First value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter the reference marks required: absent or empty is a 400.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.query(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// An integer query parameter; empty counts as absent.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.query(name) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                ApiError::invalid_parameter(format!(
                    "Query parameter '{name}' must be an integer, got '{v}'."
                ))
            }),
        }
    }

    /// A boolean query parameter (`true`/`false`, any case); absent is false.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.query(name) {
            None | Some("") => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "Query parameter '{name}' must be true or false, got '{v}'."
            ))),
        }
    }
}

/// 404 `ENDPOINT_NOT_FOUND`: no API at this method and path.
pub(crate) fn endpoint_not_found(request: &ApiRequest) -> ApiError {
    ApiError::new(
        ErrorCode::EndpointNotFound,
        format!("No API found for '{} {}'", request.method, request.raw_path),
    )
}
