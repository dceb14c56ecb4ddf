//! `/__emulator/…` control routes: the test hooks of [`crate::Emulator`] over HTTP, for tests
//! that drive the binary (Python, benchmarks). Not recorded, not authenticated, no faults.
//!
//! | Method + path | Body | Effect |
//! |---|---|---|
//! | GET /__emulator/requests | — | recorded requests (JSON array of RecordedRequest) |
//! | DELETE /__emulator/requests | — | clear them |
//! | POST /__emulator/faults | FaultRule JSON (`delay_ms` per response) | push a fault rule |
//! | DELETE /__emulator/faults | — | drop all fault rules |
//! | POST /__emulator/latency | `{"ms": N}` | set the latency |
//! | POST /__emulator/scripts | `{"contains": "...", "script": StatementScript}` | script statements |
//! | DELETE /__emulator/scripts | — | forget scripts |
//! | POST /__emulator/expire-tokens | — | expire issued OAuth tokens |
//! | GET /__emulator/stats | — | `{requests, token_requests, cancelled_statements}` |

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

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
struct Latency {
    ms: u64,
}

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
    let done = || json_response(200, &json!({}));
    let bad_param =
        |message: String| error_response(ApiError::new(ErrorCode::InvalidParameterValue, message));
    let path = uri.path().trim_end_matches('/');
    match (method.as_str(), path) {
        ("GET", "/__emulator/requests") => json_response(200, &*lock(&st.requests)),
        ("DELETE", "/__emulator/requests") => {
            lock(&st.requests).clear();
            done()
        }
        ("POST", "/__emulator/faults") => match serde_json::from_slice::<FaultRule>(&body) {
            Ok(rule) => {
                st.push_fault(rule);
                done()
            }
            Err(e) => bad_param(format!("invalid fault rule: {e}")),
        },
        ("DELETE", "/__emulator/faults") => {
            lock(&st.faults).clear();
            done()
        }
        ("POST", "/__emulator/latency") => match serde_json::from_slice::<Latency>(&body) {
            Ok(l) => {
                *lock(&st.latency) = Duration::from_millis(l.ms);
                done()
            }
            Err(e) => bad_param(format!("invalid latency: {e}")),
        },
        ("POST", "/__emulator/scripts") => match serde_json::from_slice::<Script>(&body) {
            Ok(s) => match s.script.validate() {
                Ok(()) => {
                    lock(&st.scripts).push((s.contains, s.script));
                    done()
                }
                Err(e) => bad_param(format!("invalid script: {e}")),
            },
            Err(e) => bad_param(format!("invalid script: {e}")),
        },
        ("DELETE", "/__emulator/scripts") => {
            lock(&st.scripts).clear();
            done()
        }
        ("POST", "/__emulator/expire-tokens") => {
            st.expire_tokens();
            done()
        }
        ("GET", "/__emulator/stats") => json_response(
            200,
            &json!({
                "requests": lock(&st.requests).len(),
                "token_requests": st.token_requests.load(Ordering::Relaxed),
                "cancelled_statements": *lock(&st.cancelled),
            }),
        ),
        _ => error_response(ApiError::new(
            ErrorCode::EndpointNotFound,
            format!("No API found for '{method} {path}'"),
        )),
    }
}
