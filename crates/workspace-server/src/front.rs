//! The HTTP front of one workspace on a loopback listener: reads each request into an
//! [`ApiRequest`], lets the pre-signed downloads through without credentials, checks the
//! bearer token, and asks [`dispatch`](crate::dispatch). A backend that serves through it
//! has no HTTP code of its own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use databricks_api::error::{ApiError, ErrorCode};
use serde_json::Value;

use crate::{ApiRequest, Backends, dispatch, dispatch_download, error_response};

/// Largest request body (volume uploads are the big ones).
const MAX_BODY: usize = 512 * 1024 * 1024;

/// A front serving one workspace; dropped when [`Served::shutdown`] returns.
pub struct Served {
    /// `http://127.0.0.1:PORT` (or `http://[::1]:PORT`).
    pub base_url: String,
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

struct Front {
    backends: Backends,
    token: String,
}

/// Serves the workspace whose services `backends` builds (given the front's own URL, which
/// statements' links and warehouses' JDBC URLs name) on `listener`, every `/api/` call
/// authenticated by `token`.
pub fn serve(
    listener: tokio::net::TcpListener,
    token: String,
    backends: impl FnOnce(&str) -> Backends,
) -> std::io::Result<Served> {
    let addr = listener.local_addr()?;
    let base_url = match addr {
        SocketAddr::V4(a) => format!("http://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    };
    let front = Arc::new(Front {
        backends: backends(&base_url),
        token,
    });
    let app = Router::new().fallback(handle).with_state(front);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::warn!("workspace API stopped: {e}");
        }
    });
    Ok(Served {
        base_url,
        addr,
        stop,
        task,
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
    if let Some(response) = dispatch_download(&front.backends, &request).await {
        return response;
    }
    if !authorized(&front.token, &request) {
        return error_response(ApiError::new(
            ErrorCode::Unauthenticated,
            "Invalid or missing access token: send 'Authorization: Bearer <token>' with the token the workspace printed.",
        ));
    }
    match dispatch(&front.backends, &request).await {
        Some(response) => response,
        None => error_response(crate::request::endpoint_not_found(&request)),
    }
}

fn authorized(token: &str, request: &ApiRequest) -> bool {
    let Some((scheme, given)) = request
        .header("authorization")
        .and_then(|v| v.split_once(' '))
    else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(given.trim().as_bytes(), token.as_bytes())
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
