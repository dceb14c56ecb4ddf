//! Answers: a model as JSON, or the error body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use databricks_api::error::ApiError;
use serde::Serialize;

/// `value` as a JSON body with `status`.
pub fn json_response<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (status_of(status), body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        // Models serialize; a failure here is a bug, still answered as the API would.
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"error_code\":\"INTERNAL_ERROR\",\"message\":\"{e}\"}}"),
        )
            .into_response(),
    }
}

/// `{"error_code", "message"}` with the error's status; a 503 says when to retry, as
/// Databricks' front ends do (clients honour `Retry-After`).
pub fn error_response(error: ApiError) -> Response {
    let mut response = json_response(error.status, &error.body);
    if error.status == 503 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Raw bytes with their content type (downloads, `direct_download` exports).
pub fn bytes_response(status: u16, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut response = (status_of(status), bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn status_of(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
