//! The one HTTP client every Databricks call goes through: a shared connection pool,
//! authentication, a client-side rate limiter, retries with jittered backoff that honour
//! `Retry-After`, an overall deadline, and error parsing.
//!
//! Retry policy (REFERENCE.md §13.3): 429 and 503 always; the SDKs' transient message
//! substrings; connection failures (the request never reached the server) on any
//! method and timeouts on GET only, a bounded number of times. 500 and other 4xx are
//! never retried. A 401 invalidates the cached token and is retried once, for OAuth.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Credentials;
use crate::config::Config;
use crate::error::{ApiError, Error, ErrorKind};
pub use crate::pool::ClientOptions;
use crate::pool::LazyHttp;

/// Requests per second allowed by default: generous for one server, but it keeps a
/// runaway agent from hammering a workspace (the Go SDK's default is 15/s, which
/// visibly slows concurrent calls).
pub const DEFAULT_RATE_LIMIT: f64 = 100.0;

/// Message fragments the SDKs treat as transient whatever the status.
const TRANSIENT_MESSAGES: &[&str] = &[
    "UnknownWorkerEnvironmentException",
    "does not have any associated worker environments",
    "There is no worker environment with id",
    "Unknown worker environment",
    "ClusterNotReadyException",
    "Timed out after ",
    "deadline exceeded",
    "Please try again later or try a faster operation.",
    "RPC token bucket limit has been exceeded",
];

/// A cheaply clonable handle to a Databricks workspace.
#[derive(Clone)]
pub struct DatabricksClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: LazyHttp,
    host: url::Url,
    host_label: String,
    credentials: Credentials,
    limiter: Option<DefaultDirectRateLimiter>,
    options: ClientOptions,
    workspace_id: Option<String>,
}

impl std::fmt::Debug for DatabricksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabricksClient")
            .field("host", &self.inner.host_label)
            .field("auth_type", &self.inner.credentials.auth_type())
            .finish_non_exhaustive()
    }
}

impl DatabricksClient {
    pub fn new(config: &Config) -> Result<DatabricksClient, Error> {
        Self::with_options(config, ClientOptions::from_config(config))
    }

    pub fn with_options(
        config: &Config,
        options: ClientOptions,
    ) -> Result<DatabricksClient, Error> {
        let http = LazyHttp::new(&options);
        let credentials = Credentials::from_config(config, http.clone())?;
        let limiter = match options.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT) {
            r if r.is_finite() && r > 0.0 => {
                let per_second = NonZeroU32::new(r.ceil().min(u32::MAX as f64) as u32)
                    .unwrap_or(NonZeroU32::MIN);
                // A full bucket of one second's worth: a lone call is never delayed.
                Some(RateLimiter::direct(Quota::per_second(per_second)))
            }
            _ => None,
        };
        let host_label = config.host.host_str().unwrap_or("workspace").to_string();
        Ok(DatabricksClient {
            inner: Arc::new(Inner {
                http,
                host: config.host.clone(),
                host_label,
                credentials,
                limiter,
                options,
                workspace_id: config.workspace_id.clone(),
            }),
        })
    }

    /// The workspace URL (no credentials in it).
    pub fn host(&self) -> &url::Url {
        &self.inner.host
    }

    pub fn auth_type(&self) -> &'static str {
        self.inner.credentials.auth_type()
    }

    /// The shared connection pool, for downloads that must not carry the Databricks
    /// credentials (pre-signed external links).
    pub fn raw_http(&self) -> Result<&reqwest::Client, Error> {
        self.inner.http.get().map_err(Error::InvalidInput)
    }

    /// Forces an authentication round trip (used by `doctor`).
    pub async fn check_credentials(&self) -> Result<(), Error> {
        self.inner.credentials.authorization().await?;
        Ok(())
    }

    /// Calls a declared endpoint of the REST contract: its method, and its path template
    /// filled with `params` (each encoded as one segment); `query` for parameters, `body`
    /// for a POST's JSON.
    pub async fn call<E: databricks_api::endpoints::Endpoint>(
        &self,
        params: &[&str],
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<E::Response, Error> {
        let method = match E::METHOD {
            databricks_api::endpoints::Method::Get => Method::GET,
            databricks_api::endpoints::Method::Post => Method::POST,
        };
        let body = match (E::METHOD, body) {
            (databricks_api::endpoints::Method::Post, None) => Some(serde_json::json!({})),
            (_, body) => body,
        };
        self.send(method, &E::path(params), query, body).await
    }

    /// [`call`](Self::call) for a POST whose body is a model.
    pub async fn call_with<E: databricks_api::endpoints::Endpoint>(
        &self,
        params: &[&str],
        body: &(impl Serialize + ?Sized),
    ) -> Result<E::Response, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.call::<E>(params, &[], Some(body)).await
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.send(Method::POST, path, &[], Some(body)).await
    }

    /// Sends one API request with retries, and decodes the JSON answer (an empty body
    /// decodes as `{}`).
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T, Error> {
        let endpoint = format!("{method} {path}");
        let bytes = self.send_raw(method, path, query, body).await?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            endpoint,
            detail: e.to_string(),
        })
    }

    /// Like [`send`](Self::send) but returns the body bytes undecoded.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<bytes::Bytes, Error> {
        let body = match body {
            Some(json) => RequestBody::Json(json),
            None => RequestBody::None,
        };
        self.send_body(method, path, query, body, &[]).await
    }

    /// One API request with any body and extra headers (`Range`, …), with the same
    /// authentication and retries; the answer's bytes undecoded.
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: RequestBody,
        headers: &[(&'static str, String)],
    ) -> Result<bytes::Bytes, Error> {
        Ok(self.exchange(method, path, query, body, headers).await?.1)
    }

    /// A GET of `range` (`bytes=a-b`) of a raw resource: the bytes, and the whole size
    /// when the server said (`Content-Range: bytes a-b/total`, or `Content-Length` of a
    /// full answer).
    pub async fn send_ranged(
        &self,
        path: &str,
        range: String,
    ) -> Result<(bytes::Bytes, Option<u64>), Error> {
        let (headers, bytes) = self
            .exchange(
                Method::GET,
                path,
                &[],
                RequestBody::None,
                &[("range", range)],
            )
            .await?;
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let total = match text(header::CONTENT_RANGE) {
            Some(range) => range.rsplit('/').next().and_then(|t| t.trim().parse().ok()),
            None => text(header::CONTENT_LENGTH)
                .and_then(|l| l.trim().parse().ok())
                .or(Some(bytes.len() as u64)),
        };
        Ok((bytes, total))
    }

    /// POSTs `body` and hands back the response once its status is a success, so the
    /// caller reads the body as it arrives (server-sent events). A 429 or 503 before the
    /// body starts is retried as [`send`](Self::send) retries it; nothing is retried once
    /// the body flows.
    pub async fn send_streaming(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, Error> {
        self.respond(
            Method::POST,
            path,
            &[],
            RequestBody::Json(body.clone()),
            &[],
            Reading::Streamed,
        )
        .await
    }

    /// A HEAD request: the answer's headers (404 is an error of kind not found).
    pub async fn send_head(&self, path: &str) -> Result<HeaderMap, Error> {
        Ok(self
            .exchange(Method::HEAD, path, &[], RequestBody::None, &[])
            .await?
            .0)
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: RequestBody,
        headers: &[(&'static str, String)],
    ) -> Result<(HeaderMap, bytes::Bytes), Error> {
        let endpoint = format!("{method} {path}");
        let response = self
            .respond(method, path, query, body, headers, Reading::Whole)
            .await?;
        let headers = response.headers().clone();
        response
            .bytes()
            .await
            .map(|b| (headers, b))
            .map_err(|e| self.network_error(&endpoint, e))
    }

    /// One API request with the retry policy: the successful response, its body unread.
    async fn respond(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: RequestBody,
        headers: &[(&'static str, String)],
        reading: Reading,
    ) -> Result<reqwest::Response, Error> {
        let inner = &*self.inner;
        let endpoint = format!("{method} {path}");
        let url = inner
            .host
            .join(path)
            .map_err(|e| Error::InvalidInput(format!("bad API path {path:?}: {e}")))?;
        let started = Instant::now();
        let deadline = started + inner.options.retry_timeout;
        let mut attempts: u32 = 0;
        let mut network_retries: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempts += 1;
            if let Some(limiter) = &inner.limiter {
                limiter.until_ready().await;
            }
            let request = self
                .request(&method, &url, query, &body, headers, reading)
                .await?;
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!(%endpoint, status = status.as_u16(), attempt = attempts, "databricks api");
                    if status.is_success() {
                        return Ok(response);
                    }
                    let api = api_error(response, &endpoint).await?;
                    // A 401 with refreshable credentials is tried once more with fresh
                    // ones (the cached token may have been revoked); a second is final.
                    if status == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && inner.credentials.is_refreshable()
                    {
                        reauthenticated = true;
                        inner.credentials.invalidate();
                        continue;
                    }
                    if !is_retryable(&api) {
                        return Err(Error::Api(Box::new(api)));
                    }
                    let wait = api
                        .retry_after
                        .unwrap_or_else(|| backoff(inner.options.backoff_base, attempts));
                    (Error::Api(Box::new(api)), wait)
                }
                Err(e) => {
                    let retryable = network_retries < inner.options.max_network_retries
                        && (e.is_connect() || (e.is_timeout() && method == Method::GET));
                    let error = self.network_error(&endpoint, e);
                    if !retryable {
                        return Err(wrap_exhausted(error, &endpoint, attempts, started));
                    }
                    network_retries += 1;
                    (error, backoff(inner.options.backoff_base, attempts))
                }
            };
            let (error, wait) = failure;
            if Instant::now() + wait > deadline {
                return Err(wrap_exhausted(error, &endpoint, attempts, started));
            }
            tracing::info!(%endpoint, attempt = attempts, wait_ms = wait.as_millis() as u64, "retrying: {error}");
            crate::events::emit(crate::events::ClientEvent::Retrying {
                endpoint: endpoint.to_string(),
                attempt: attempts,
                wait,
                reason: error.to_string(),
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt's request, with the current credentials and the headers of the
    /// workspace and of the way the answer is read.
    async fn request(
        &self,
        method: &Method,
        url: &url::Url,
        query: &[(&str, String)],
        body: &RequestBody,
        headers: &[(&'static str, String)],
        reading: Reading,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let inner = &*self.inner;
        let authorization = inner.credentials.authorization().await?;
        let mut request = inner
            .http
            .get()
            .map_err(Error::InvalidInput)?
            .request(method.clone(), url.clone())
            .header(header::AUTHORIZATION, authorization);
        request = match reading {
            Reading::Whole => request
                .header(header::ACCEPT, "application/json")
                .timeout(inner.options.http_timeout),
            // A streamed answer lasts as long as the model writes: no overall timeout.
            Reading::Streamed => {
                request.header(header::ACCEPT, "text/event-stream, application/json")
            }
        };
        if let Some(id) = &inner.workspace_id {
            request = request.header("X-Databricks-Workspace-Id", id);
        }
        if !query.is_empty() {
            request = request.query(query);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match body {
            RequestBody::None => {}
            RequestBody::Json(json) => request = request.json(json),
            RequestBody::Bytes(bytes) => {
                request = request
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone());
            }
        }
        Ok(request)
    }

    fn network_error(&self, endpoint: &str, e: reqwest::Error) -> Error {
        let host = self.inner.host_label.clone();
        if e.is_timeout() {
            return Error::Timeout {
                host,
                endpoint: endpoint.to_string(),
                after: self.inner.options.http_timeout,
            };
        }
        let is_connect = e.is_connect();
        let detail = error_chain(&e.without_url());
        if is_connect {
            Error::Connect { host, detail }
        } else {
            Error::Network {
                host,
                endpoint: endpoint.to_string(),
                detail,
            }
        }
    }
}

/// How a response body is read: whole, within the HTTP timeout, or as it streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Whole,
    Streamed,
}

/// The body of a request.
#[derive(Debug, Clone)]
pub enum RequestBody {
    None,
    Json(serde_json::Value),
    /// Raw bytes (`application/octet-stream`): file uploads.
    Bytes(bytes::Bytes),
}

/// The error of a response whose status is not a success, its body read; a redirect
/// (often to a login page) is an error of its own, which no retry changes.
async fn api_error(response: reqwest::Response, endpoint: &str) -> Result<ApiError, Error> {
    let status = response.status();
    if status.is_redirection() {
        return Err(Error::Api(Box::new(ApiError {
            status: status.as_u16(),
            error_code: "REDIRECTED".into(),
            message: "the workspace answered with a redirect (often to a login page: private link or IP access list)".into(),
            kind: ErrorKind::Unauthenticated,
            retry_after: None,
            request_id: None,
            details: vec![],
            endpoint: endpoint.to_string(),
        })));
    }
    let retry_after = retry_after_header(response.headers());
    let body = response.bytes().await.unwrap_or_default();
    Ok(ApiError::from_response(
        status.as_u16(),
        endpoint.to_string(),
        retry_after,
        &body,
    ))
}

fn wrap_exhausted(error: Error, endpoint: &str, attempts: u32, started: Instant) -> Error {
    if attempts <= 1 {
        error
    } else {
        Error::RetriesExhausted {
            endpoint: endpoint.to_string(),
            attempts,
            elapsed: started.elapsed(),
            last: Box::new(error),
        }
    }
}

fn is_retryable(e: &ApiError) -> bool {
    matches!(e.status, 429 | 503)
        || matches!(
            e.kind,
            ErrorKind::TooManyRequests | ErrorKind::TemporarilyUnavailable
        )
        || TRANSIENT_MESSAGES.iter().any(|m| e.message.contains(m))
}

/// Exponential backoff capped at 10 s with equal jitter, so many clients that failed
/// together do not retry together.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    let capped = exp.min(Duration::from_secs(10));
    let half = capped / 2;
    half + half.mul_f64(fastrand::f64())
}

/// `Retry-After` as seconds or an HTTP date; capped at 10 minutes.
fn retry_after_header(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = value.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        Duration::from_secs_f64(secs.min(600.0))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(Duration::from_secs(600)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Percent-encodes one path segment (a table's full name, a workspace path part).
pub fn path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..20 {
            let b = backoff(base, attempt);
            assert!(b <= Duration::from_secs(10));
        }
        assert!(backoff(base, 1) <= Duration::from_millis(100));
        assert!(backoff(base, 4) >= Duration::from_millis(400));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, header::HeaderValue::from_static("3"));
        assert_eq!(retry_after_header(&h), Some(Duration::from_secs(3)));
        h.insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static("junk"),
        );
        assert_eq!(retry_after_header(&h), None);
        h.insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_header(&h), Some(Duration::ZERO));
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(
            path_segment("main.default.my table"),
            "main.default.my%20table"
        );
        assert_eq!(path_segment("a/b"), "a%2Fb");
    }
}
