//! The HTTP front of one workspace: reads each request into an [`ApiRequest`], lets the
//! pre-signed downloads through without credentials, checks the bearer token, and asks
//! [`dispatch`](crate::dispatch). [`serve`] puts it on a loopback listener with a fresh
//! token (the local workspace); [`router`] hands it to a front that adds routes and layers
//! of its own (the emulator). A backend that serves through it has no HTTP code.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use databricks_api::error::{ApiError, ErrorCode};
use serde_json::Value;

use databricks_api::backend::Backends;

use crate::{ApiRequest, Workspace, dispatch, dispatch_download, error_response};

/// Largest request body (volume uploads are the big ones).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// The workspace API served on loopback. Dropping it leaves the server running until the
/// runtime ends; [`RunningApi::shutdown`] stops it.
pub struct RunningApi {
    /// `http://127.0.0.1:PORT` (or `http://[::1]:PORT`).
    pub base_url: String,
    /// The bearer token every `/api/` request must carry, fresh for each server.
    pub token: String,
    addr: SocketAddr,
    server: ServerTask,
}

impl std::fmt::Debug for RunningApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningApi")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl RunningApi {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// An HTTP server running on the current runtime until [`ServerTask::shutdown`] (or until
/// it is dropped and the runtime ends).
pub struct ServerTask {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerTask {
    /// Serves `app` on `listener`.
    pub fn spawn(listener: tokio::net::TcpListener, app: Router) -> ServerTask {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::warn!("workspace API stopped: {e}");
            }
        });
        ServerTask { stop, task }
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Stops accepting connections without waiting.
    pub fn stop(self) {
        let _ = self.stop.send(());
    }
}

/// Why a workspace could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0}: the workspace API serves loopback addresses only (127.0.0.1 or ::1)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Whether an API call's bearer token (`None` without one) is accepted, or the 401 to
/// answer.
type Authorize = Box<dyn Fn(Option<&str>) -> Result<(), ApiError> + Send + Sync>;

struct Front {
    workspace: Workspace,
    authorized: Authorize,
}

/// The workspace's routes as one router, for a front that adds its own around them (the
/// emulator's OAuth and control routes, its faults and latency as layers): pre-signed
/// downloads answered without credentials, every API call (`/api/…`, Model Serving's
/// `/serving-endpoints/…`) only with a bearer token that `authorized` accepts; any other
/// path is 404, token or not, as on a workspace.
pub fn router(
    workspace: Workspace,
    authorized: impl Fn(Option<&str>) -> Result<(), ApiError> + Send + Sync + 'static,
) -> Router {
    let front = Arc::new(Front {
        workspace,
        authorized: Box::new(authorized),
    });
    Router::new().fallback(handle).with_state(front)
}

/// Serves the workspace whose services `backends` builds (given the front's own URL, which
/// statements' links and warehouses' JDBC URLs name) on `addr`, a loopback address (port
/// 0 picks one), every `/api/` call authenticated by a fresh random token.
pub async fn serve(
    addr: SocketAddr,
    backends: impl FnOnce(&str) -> Backends,
) -> Result<RunningApi, ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(addr));
    }
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let base_url = match addr {
        SocketAddr::V4(a) => format!("http://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    };
    let token = format!(
        "dapi{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let expected = token.clone();
    let app = router(
        Workspace::new(backends(&base_url), &base_url),
        move |given| match given {
            Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
            _ => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "Invalid or missing access token: send 'Authorization: Bearer <token>' with the token the workspace printed.",
            )),
        },
    );
    let server = ServerTask::spawn(listener, app);
    tracing::info!("workspace API listening on {base_url}");
    Ok(RunningApi {
        base_url,
        token,
        addr,
        server,
    })
}

async fn handle(State(front): State<Arc<Front>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                ApiError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("Could not read the request body: {e}"),
                )
                .with_status(413),
            );
        }
    };
    let request = ApiRequest::read(&parts, body);
    if let Some(response) = dispatch_download(&front.workspace, &request).await {
        return response;
    }
    let api_call = ["/api/", "/serving-endpoints/"]
        .iter()
        .any(|prefix| request.raw_path.starts_with(prefix));
    if api_call && let Err(refused) = (front.authorized)(bearer_token(&request)) {
        return error_response(refused);
    }
    let response = match dispatch(&front.workspace, &request).await {
        Some(response) => response,
        None => error_response(crate::request::endpoint_not_found(&request)),
    };
    if request.method == "HEAD" {
        // The headers (Content-Length included) without the body.
        return Response::from_parts(response.into_parts().0, axum::body::Body::empty());
    }
    response
}

/// The token of `Authorization: Bearer <token>`, if the request carries one.
fn bearer_token(request: &ApiRequest) -> Option<&str> {
    let (scheme, token) = request.header("authorization")?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ApiRequest {
    /// A request as it arrived: the path's segments and the query percent-decoded, the
    /// body parsed when it is JSON.
    pub fn read(parts: &Parts, body: Bytes) -> ApiRequest {
        let raw_path = parts.uri.path().to_string();
        ApiRequest {
            method: parts.method.as_str().to_ascii_uppercase(),
            segments: raw_path.split('/').skip(1).map(percent_decode).collect(),
            raw_path,
            query: parse_query(parts.uri.query()),
            body: (!body.is_empty())
                .then(|| serde_json::from_slice::<Value>(&body).ok())
                .flatten(),
            raw_body: body,
            headers: parts.headers.clone(),
        }
    }
}

/// `%XX` escapes decoded (an invalid one is kept as it is), as UTF-8 with replacement.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match escaped {
            Some((high, low)) => {
                out.push(high * 16 + low);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `a=1&b=x+y`: pairs in order, `+` as a space, percent-decoded.
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_or_kept() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%e2%9c%93"), "✓");
        assert_eq!(
            parse_query(Some("a=1&b=x+y&c=%2F&&d")),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "/".into()),
                ("d".into(), String::new())
            ]
        );
    }

    #[test]
    fn tokens_are_compared_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
