//! A request as the services read it: method, decoded path segments, query parameters,
//! headers, the body's bytes, and the body as JSON when it is JSON.

use axum::body::Bytes;
use axum::http::HeaderMap;
use databricks_api::error::{ApiError, ErrorCode};
use serde_json::Value;

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
    /// The body parsed as JSON, when it is JSON. GET requests may carry one too: some
    /// clients (older official SDKs, the documented `curl` examples of lineage) send the
    /// parameters of a read as a JSON body.
    pub body: Option<Value>,
    /// The body as received (Files API uploads are raw bytes).
    pub raw_body: Bytes,
    /// The request headers (`Range` of downloads).
    pub headers: HeaderMap,
}

impl ApiRequest {
    /// First value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of header `name`, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

/// Parameters read from the query string or, failing that, the JSON body. Names are
/// dotted (`filter_by.statuses`); the query string may also spell them with brackets
/// (`filter_by[statuses]`, the Go SDK's form), and the body nests them as objects.
impl ApiRequest {
    /// Every value of parameter `name`: the query's (repeated keys), else the body's
    /// (an array gives its elements). Scalars only: an object is a 400.
    pub fn param_values(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let bracketed = bracket_form(name);
        let from_query: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| k == name || bracketed.as_deref() == Some(k.as_str()))
            .map(|(_, v)| v.clone())
            .collect();
        if !from_query.is_empty() {
            return Ok(from_query);
        }
        let Some(value) = self.body_at(name) else {
            return Ok(Vec::new());
        };
        let items = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        items
            .into_iter()
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(ApiError::invalid_parameter(format!(
                    "Parameter '{name}' must be a string, a number, a boolean or an array of them."
                ))),
            })
            .collect()
    }

    /// The first value of parameter `name`; empty counts as absent.
    pub fn param(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .param_values(name)?
            .into_iter()
            .next()
            .filter(|v| !v.is_empty()))
    }

    /// A parameter the reference marks required: absent or empty is a 400.
    pub fn required_param(&self, name: &str) -> Result<String, ApiError> {
        self.param(name)?
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// An integer parameter.
    pub fn integer_param(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.param(name)?
            .map(|v| parse_integer(name, &v))
            .transpose()
    }

    /// Every value of a repeated integer parameter.
    pub fn integer_params(&self, name: &str) -> Result<Vec<i64>, ApiError> {
        self.param_values(name)?
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| parse_integer(name, v))
            .collect()
    }

    /// A boolean parameter (`true`/`false`, any case); absent is false.
    pub fn flag_param(&self, name: &str) -> Result<bool, ApiError> {
        match self.param(name)? {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "Parameter '{name}' must be true or false, got '{v}'."
            ))),
        }
    }

    /// The body's value at a dotted path.
    fn body_at(&self, dotted: &str) -> Option<&Value> {
        dotted
            .split('.')
            .try_fold(self.body.as_ref()?, |v, key| v.get(key))
    }
}

/// `a.b.c` as `a[b][c]`; `None` for a name without a dot.
fn bracket_form(dotted: &str) -> Option<String> {
    let mut parts = dotted.split('.');
    let first = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return None;
    }
    Some(
        rest.iter()
            .fold(first.to_string(), |acc, p| format!("{acc}[{p}]")),
    )
}

fn parse_integer(name: &str, value: &str) -> Result<i64, ApiError> {
    value.trim().parse().map_err(|_| {
        ApiError::invalid_parameter(format!(
            "Parameter '{name}' must be an integer, got '{value}'."
        ))
    })
}

/// 404 `ENDPOINT_NOT_FOUND`: no API at this method and path.
pub(crate) fn endpoint_not_found(request: &ApiRequest) -> ApiError {
    ApiError::new(
        ErrorCode::EndpointNotFound,
        format!("No API found for '{} {}'", request.method, request.raw_path),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &[(&str, &str)], body: Option<Value>) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body,
            ..ApiRequest::default()
        }
    }

    #[test]
    fn parameters_come_from_the_query_in_either_form_or_the_body() {
        let r = request(
            &[
                ("filter_by.statuses", "FAILED"),
                ("filter_by[statuses]", "FINISHED"),
            ],
            None,
        );
        assert_eq!(
            r.param_values("filter_by.statuses"),
            Ok(vec!["FAILED".to_string(), "FINISHED".to_string()])
        );
        let r = request(
            &[],
            Some(
                serde_json::json!({"filter_by": {"user_ids": [1, 2], "query_start_time_range": {"start_time_ms": 5}}, "include_metrics": true}),
            ),
        );
        assert_eq!(r.integer_params("filter_by.user_ids"), Ok(vec![1, 2]));
        assert_eq!(
            r.integer_param("filter_by.query_start_time_range.start_time_ms"),
            Ok(Some(5))
        );
        assert_eq!(r.flag_param("include_metrics"), Ok(true));
        assert_eq!(r.param("absent"), Ok(None));
        // The query string wins over the body.
        let r = request(
            &[("table_name", "a.b.c")],
            Some(serde_json::json!({"table_name": "x.y.z"})),
        );
        assert_eq!(r.required_param("table_name"), Ok("a.b.c".to_string()));
    }

    #[test]
    fn parameter_types_are_checked() {
        let r = request(&[("max_results", "many"), ("flag", "maybe")], None);
        assert_eq!(
            r.integer_param("max_results").map_err(|e| e.status),
            Err(400)
        );
        assert_eq!(r.flag_param("flag").map_err(|e| e.status), Err(400));
        let r = request(
            &[],
            Some(serde_json::json!({"filter_by": {"statuses": {"a": 1}}})),
        );
        assert_eq!(
            r.param_values("filter_by.statuses").map_err(|e| e.status),
            Err(400)
        );
        assert_eq!(r.required_param("nope").map_err(|e| e.status), Err(400));
    }
}
