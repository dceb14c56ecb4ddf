//! `/__emulator/…` control routes: test hooks of [`crate::Emulator`] over HTTP, for tests
//! that drive the binary (the Inspector run, the binary's own test). Not recorded, not
//! authenticated, no faults.
//!
//! | Method + path | Body | Effect |
//! |---|---|---|
//! | GET /__emulator/requests | — | recorded requests (JSON array of RecordedRequest) |
//! | DELETE /__emulator/requests | — | clear them |
//! | POST /__emulator/faults | FaultRule JSON (`delay_ms` per response) | push a fault rule |
//! | POST /__emulator/scripts | `{"contains": "...", "script": StatementScript}` | script statements |

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::response::Response;
use databricks_api::error::{ApiError, ErrorCode};
use serde::Deserialize;
use serde_json::json;
use workspace_server::{error_response, json_response};

use crate::server::Shared;
use crate::util::lock;
use crate::{FaultRule, StatementScript};

#[derive(Deserialize)]
struct Script {
    contains: String,
    script: StatementScript,
}

pub(crate) async fn handle(
    State(st): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/');
    let done = match (method.as_str(), path) {
        ("GET", "/__emulator/requests") => return json_response(200, &*lock(&st.requests)),
        ("DELETE", "/__emulator/requests") => {
            lock(&st.requests).clear();
            Ok(())
        }
        ("POST", "/__emulator/faults") => serde_json::from_slice::<FaultRule>(&body)
            .map(|rule| st.push_fault(rule))
            .map_err(|e| format!("invalid fault rule: {e}")),
        ("POST", "/__emulator/scripts") => serde_json::from_slice::<Script>(&body)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                s.script.validate()?;
                lock(&st.scripts).push((s.contains, s.script));
                Ok(())
            })
            .map_err(|e| format!("invalid script: {e}")),
        _ => {
            return error_response(ApiError::new(
                ErrorCode::EndpointNotFound,
                format!("No API found for '{method} {path}'"),
            ));
        }
    };
    match done {
        Ok(()) => json_response(200, &json!({})),
        Err(message) => error_response(ApiError::invalid_parameter(message)),
    }
}
