//! Security of the HTTP transport, in front of every route (`/mcp`, the managed
//! `/api/2.0/mcp/...` routes and the RFC 9728 metadata):
//!
//! 0. **Strict `Host`**: exactly one header, a plain `host[:port]` (no user information,
//!    no path), else `400`: an authority parser would accept `evil.com@127.0.0.1` and the
//!    metadata would echo it.
//! 1. **DNS-rebinding protection**: `Host` and `Origin` are checked against the
//!    allow-lists (loopback names plus `--allowed-host` / `--allowed-origin`) before
//!    anything else: 403. (rmcp checks the same lists again inside `/mcp`.)
//! 2. **Bearer authentication** when tokens are configured (`--auth-token-file`, one
//!    token per line, and/or `DATABRICKS_MCP_AUTH_TOKENS`, comma-separated): a request
//!    without `Authorization: Bearer <token>` or with an unknown token gets `401` and
//!    `WWW-Authenticate: Bearer resource_metadata="<base>/.well-known/oauth-protected-resource<path>"`.
//!    Tokens are compared in constant time (SHA-256 digests compared with `subtle`, all
//!    of them, whatever matches). The `Authorization` header is removed from the request
//!    once checked: the client's token never reaches a tool, a log line or Databricks,
//!    which is called with the server's own credentials (no token passthrough).
//! 3. **RFC 9728 protected-resource metadata** at `/.well-known/oauth-protected-resource`
//!    and `/.well-known/oauth-protected-resource/<route>` (no authentication needed).
//! 4. **Per-client concurrency limit**: a client (a token; without authentication, the
//!    peer address) may have `--max-concurrent-per-client` POSTs in flight (the permit
//!    is held until the response stream ends). More wait in a bounded queue (at most
//!    twice the limit, each at most [`QUEUE_WAIT`]); beyond that the answer is `429`
//!    with `Retry-After`.
//!
//! 5. **OAuth 2.1 access tokens** (`--oauth-issuer`): a bearer token that is not a
//!    static token is checked as a JWT of the issuer by [`crate::oauth`] (audience =
//!    the route's `resource`); scopes decide what it may do (`403 insufficient_scope`).
//!
//! The tool lists do not depend on the client: every authenticated client sees the same
//! `tools/list`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Environment variable with comma-separated client tokens.
pub const TOKENS_ENV: &str = "DATABRICKS_MCP_AUTH_TOKENS";

/// Shortest token accepted (a short token is guessable).
pub const MIN_TOKEN_LEN: usize = 16;

/// Longest a request waits for a concurrency permit before `429`.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Default `--max-concurrent-per-client`.
pub const DEFAULT_MAX_CONCURRENT_PER_CLIENT: usize = 32;

/// Largest `--max-concurrent-per-client`.
pub const MAX_CONCURRENT_PER_CLIENT: usize = 100_000;

/// Path of the RFC 9728 metadata.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// HTTP security options of `serve` (flattened into the CLI).
#[derive(Debug, Clone, clap::Args)]
pub struct SecurityArgs {
    /// File of bearer tokens HTTP clients must present (one per line, at least 16 characters; blank lines and lines starting with # are ignored). Tokens may also come from DATABRICKS_MCP_AUTH_TOKENS (comma-separated). Required to listen on a non-loopback address.
    #[arg(long, value_name = "PATH", env = "DATABRICKS_MCP_AUTH_TOKEN_FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// Most HTTP requests one client (one token; without authentication, one address) may have in flight; more wait briefly, then get 429.
    #[arg(long, default_value_t = DEFAULT_MAX_CONCURRENT_PER_CLIENT)]
    pub max_concurrent_per_client: usize,
    /// The server's public base URL when it is behind a proxy (e.g. https://mcp.example.com), used in WWW-Authenticate and the OAuth protected-resource metadata; default http://<Host header>.
    #[arg(long, value_name = "URL", value_parser = check_url)]
    pub public_url: Option<String>,
    /// Boxed: rarely used, and it keeps the CLI's enum variants of similar size.
    #[command(flatten)]
    pub oauth: Box<crate::oauth::OAuthArgs>,
}

fn check_url(value: &str) -> Result<String, String> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(value.to_string())
        }
        _ => Err(format!("{value:?} is not an http(s) URL")),
    }
}

impl Default for SecurityArgs {
    fn default() -> Self {
        SecurityArgs {
            auth_token_file: None,
            max_concurrent_per_client: DEFAULT_MAX_CONCURRENT_PER_CLIENT,
            public_url: None,
            oauth: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("cannot read the token file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{origin}: a token is shorter than {MIN_TOKEN_LEN} characters or contains whitespace (line/item {position}); use long random tokens, e.g. `openssl rand -hex 32`"
    )]
    WeakToken { origin: String, position: usize },
    #[error("{0} names no token")]
    NoTokens(String),
    #[error("--max-concurrent-per-client must be between 1 and {MAX_CONCURRENT_PER_CLIENT}")]
    Concurrency,
    #[error("--public-url is not a URL: {0}")]
    PublicUrl(String),
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
}

/// The configured client tokens, kept only as SHA-256 digests.
#[derive(Clone, Default)]
pub struct TokenSet {
    digests: Arc<Vec<[u8; 32]>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSet({} tokens)", self.digests.len())
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(Sha256::digest(token).as_slice());
    out
}

impl TokenSet {
    pub fn new<I, S>(tokens: I) -> TokenSet
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut digests: Vec<[u8; 32]> = tokens
            .into_iter()
            .map(|t| digest(t.as_ref().as_bytes()))
            .collect();
        digests.sort();
        digests.dedup();
        TokenSet {
            digests: Arc::new(digests),
        }
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The index of the token `presented` is, compared in constant time against every
    /// configured token (no early exit, digests of equal length).
    pub fn verify(&self, presented: &str) -> Option<usize> {
        let candidate = digest(presented.as_bytes());
        let mut found = u64::MAX;
        for (i, d) in self.digests.iter().enumerate() {
            found.conditional_assign(&(i as u64), d.ct_eq(&candidate));
        }
        (found != u64::MAX).then_some(found as usize)
    }
}

fn check_token(origin: &str, position: usize, token: &str) -> Result<(), SecurityError> {
    if token.chars().count() < MIN_TOKEN_LEN || token.chars().any(char::is_whitespace) {
        return Err(SecurityError::WeakToken {
            origin: origin.to_string(),
            position,
        });
    }
    Ok(())
}

/// Tokens of a token file: one per line, `#` comments and blank lines ignored.
pub fn read_token_file(path: &Path) -> Result<Vec<String>, SecurityError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecurityError::TokenFile {
        path: path.to_path_buf(),
        source,
    })?;
    warn_if_readable_by_others(path);
    let mut tokens = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        check_token(&path.display().to_string(), n + 1, line)?;
        tokens.push(line.to_string());
    }
    if tokens.is_empty() {
        return Err(SecurityError::NoTokens(path.display().to_string()));
    }
    Ok(tokens)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the token file is readable by other users; restrict it with chmod 600"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Tokens of `DATABRICKS_MCP_AUTH_TOKENS`: comma-separated, blanks ignored.
pub fn parse_token_list(value: &str) -> Result<Vec<String>, SecurityError> {
    let mut tokens = Vec::new();
    for (n, t) in value.split(',').enumerate() {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        check_token(TOKENS_ENV, n + 1, t)?;
        tokens.push(t.to_string());
    }
    Ok(tokens)
}

/// The HTTP security settings in force.
#[derive(Debug, Clone)]
pub struct Security {
    /// `None`: no client authentication (allowed on loopback only).
    pub tokens: Option<TokenSet>,
    pub max_concurrent_per_client: usize,
    pub public_url: Option<url::Url>,
    /// JWT access tokens of an OAuth authorization server (`--oauth-issuer`).
    pub oauth: Option<crate::oauth::OAuth>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            tokens: None,
            max_concurrent_per_client: DEFAULT_MAX_CONCURRENT_PER_CLIENT,
            public_url: None,
            oauth: None,
        }
    }
}

impl Security {
    /// From the command line and `DATABRICKS_MCP_AUTH_TOKENS` (given as `env_tokens`).
    pub fn from_args(
        args: &SecurityArgs,
        env_tokens: Option<&str>,
    ) -> Result<Security, SecurityError> {
        if !(1..=MAX_CONCURRENT_PER_CLIENT).contains(&args.max_concurrent_per_client) {
            return Err(SecurityError::Concurrency);
        }
        let mut tokens = Vec::new();
        if let Some(path) = &args.auth_token_file {
            tokens.extend(read_token_file(path)?);
        }
        if let Some(list) = env_tokens {
            tokens.extend(parse_token_list(list)?);
        }
        Ok(Security {
            tokens: (!tokens.is_empty()).then(|| TokenSet::new(tokens)),
            max_concurrent_per_client: args.max_concurrent_per_client,
            public_url: args
                .public_url
                .as_deref()
                .map(url::Url::parse)
                .transpose()
                .map_err(|e| SecurityError::PublicUrl(e.to_string()))?,
            oauth: crate::oauth::OAuth::from_args(&args.oauth)?,
        })
    }

    /// With these client tokens.
    pub fn with_tokens<I, S>(mut self, tokens: I) -> Security
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = TokenSet::new(tokens);
        self.tokens = (!set.is_empty()).then_some(set);
        self
    }

    /// With these tools needing the OAuth write scope (see [`crate::oauth`]).
    pub fn with_write_tools(mut self, names: Vec<String>) -> Security {
        self.oauth = self.oauth.map(|o| o.with_write_tools(names));
        self
    }

    pub fn authenticates(&self) -> bool {
        self.tokens.is_some() || self.oauth.is_some()
    }
}

/// The Host/Origin allow-lists, matched as rmcp matches them.
#[derive(Debug, Clone)]
pub struct AllowLists {
    pub hosts: Vec<String>,
    pub origins: Vec<String>,
}

/// A `Host` header must be exactly one `host[:port]`: no user information
/// (`evil.com@127.0.0.1`), no path, no second header. An authority parser would accept
/// (and the metadata would then echo) such values; an allow-list must not.
fn check_host_syntax(headers: &HeaderMap) -> Result<(), &'static str> {
    let mut values = headers.get_all(header::HOST).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err("more than one Host header");
    }
    let text = value.to_str().map_err(|_| "the Host header is not ASCII")?;
    if strict_host(text) {
        Ok(())
    } else {
        Err("the Host header is not a host name or address with an optional port")
    }
}

/// `reg-name[:port]`, `IPv4[:port]` or `[IPv6][:port]` (RFC 9110 §7.2), nothing else.
fn strict_host(value: &str) -> bool {
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return false;
        };
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return false,
            },
        }
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(value), None),
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    let host_ok = host.is_none_or(|h| {
        !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    });
    port_ok && host_ok
}

fn normalize_host(host: &str) -> String {
    host.trim_matches(['[', ']']).to_ascii_lowercase()
}

fn authority(value: &str) -> Option<(String, Option<u16>)> {
    let a = http::uri::Authority::try_from(value.trim()).ok()?;
    Some((normalize_host(a.host()), a.port_u16()))
}

impl AllowLists {
    fn host_allowed(&self, headers: &HeaderMap, uri: &http::Uri) -> bool {
        let presented = match headers.get(header::HOST) {
            Some(h) => h.to_str().ok().and_then(authority),
            None => uri
                .authority()
                .map(|a| (normalize_host(a.host()), a.port_u16())),
        };
        let Some((host, port)) = presented else {
            return false;
        };
        self.hosts.iter().any(|allowed| {
            let (a_host, a_port) =
                authority(allowed).unwrap_or_else(|| (normalize_host(allowed.trim()), None));
            a_host == host && a_port.is_none_or(|p| port == Some(p))
        })
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Some(origin) = origin.to_str().ok().and_then(parse_origin) else {
            return false;
        };
        self.origins.iter().any(|allowed| {
            let allowed = allowed.trim();
            let (base, any_port) = match allowed.strip_suffix(":*") {
                Some(b) => (b, true),
                None => (allowed, false),
            };
            let Some(a) = parse_origin(base) else {
                return false;
            };
            match (&a, &origin) {
                (Origin::Null, Origin::Null) => true,
                (
                    Origin::Tuple {
                        scheme: s1,
                        host: h1,
                        port: p1,
                    },
                    Origin::Tuple {
                        scheme: s2,
                        host: h2,
                        port: p2,
                    },
                ) => {
                    s1 == s2
                        && h1 == h2
                        && (any_port
                            || p1.is_none()
                            || p1.or_else(|| default_port(s1)) == p2.or_else(|| default_port(s2)))
                }
                _ => false,
            }
        })
    }
}

#[derive(Debug, PartialEq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

fn parse_origin(value: &str) -> Option<Origin> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("null") {
        return Some(Origin::Null);
    }
    let uri = http::Uri::try_from(value).ok()?;
    let a = uri.authority()?;
    Some(Origin::Tuple {
        scheme: uri.scheme_str()?.to_ascii_lowercase(),
        host: normalize_host(a.host()),
        port: a.port_u16(),
    })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Who a request comes from: the concurrency limit counts per identity, and an MCP
/// session belongs to the identity that created it. The guard puts it in the request's
/// extensions for the layers behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A configured token (its index among the sorted SHA-256 digests: the digest
    /// without keeping a second copy of it).
    Token(usize),
    /// An OAuth token's subject (digest: bounded size whatever the claim).
    Subject([u8; 32]),
    /// Without authentication: the peer address.
    Address(IpAddr),
    /// Without authentication or connect info (a router served without it).
    Anonymous,
}

struct Limiter {
    semaphore: Arc<Semaphore>,
    /// Requests waiting for a permit.
    waiting: usize,
}

/// Shared state of the security middleware.
pub struct Guard {
    security: Security,
    lists: AllowLists,
    clients: Mutex<HashMap<ClientKey, Limiter>>,
}

impl Guard {
    pub fn new(security: Security, lists: AllowLists) -> Guard {
        Guard {
            security,
            lists,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.security.public_url {
            return u.as_str().trim_end_matches('/').to_string();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// Waits for a permit of `key`'s semaphore, or refuses (queue full or too long).
    async fn permit(&self, key: ClientKey) -> Option<OwnedSemaphorePermit> {
        let limit = self
            .security
            .max_concurrent_per_client
            .clamp(1, MAX_CONCURRENT_PER_CLIENT);
        let semaphore = {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            let limiter = clients.entry(key).or_insert_with(|| Limiter {
                semaphore: Arc::new(Semaphore::new(limit)),
                waiting: 0,
            });
            if let Ok(p) = limiter.semaphore.clone().try_acquire_owned() {
                return Some(p);
            }
            if limiter.waiting >= limit.saturating_mul(2) {
                return None;
            }
            limiter.waiting += 1;
            limiter.semaphore.clone()
        };
        let got = tokio::time::timeout(QUEUE_WAIT, semaphore.acquire_owned()).await;
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = clients.get_mut(&key) {
            l.waiting = l.waiting.saturating_sub(1);
        }
        match got {
            Ok(Ok(p)) => Some(p),
            _ => None,
        }
    }
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}

fn metadata_url(base: &str, path: &str) -> String {
    let path = path.trim_end_matches('/');
    format!("{base}{METADATA_PATH}{path}")
}

fn unauthorized(guard: &Guard, headers: &HeaderMap, path: &str, presented: bool) -> Response {
    let url = metadata_url(&guard.base_url(headers), path);
    let mut challenge = format!("Bearer resource_metadata=\"{url}\"");
    if let Some(oauth) = &guard.security.oauth {
        challenge.push_str(&format!(", scope=\"{}\"", oauth.read_scope()));
    }
    if presented {
        challenge.push_str(", error=\"invalid_token\"");
    }
    let body = serde_json::json!({
        "error": if presented { "invalid_token" } else { "unauthorized" },
        "error_description": if presented {
            "the bearer token is not valid for this server"
        } else {
            "this server requires an Authorization: Bearer <token> header"
        },
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Whether `path` is served by an MCP surface (metadata exists for it).
fn is_mcp_route(path: &str) -> bool {
    path == "/mcp" || path.starts_with("/mcp/") || path.starts_with("/api/2.0/mcp/")
}

/// RFC 9728 protected-resource metadata of the resource at `path` ("" = the server).
fn metadata(guard: &Guard, headers: &HeaderMap, path: &str) -> Response {
    let path = path.trim_end_matches('/');
    if !path.is_empty() && !is_mcp_route(path) {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    }
    let base = guard.base_url(headers);
    let mut body = serde_json::json!({
        "resource": format!("{base}{path}"),
        "bearer_methods_supported": ["header"],
        "resource_name": "databricks-mcp",
        "resource_documentation": "https://github.com/databricks-mcp/databricks-mcp#security-notes",
    });
    if let (Some(oauth), Some(map)) = (&guard.security.oauth, body.as_object_mut()) {
        oauth.describe(map);
    }
    let mut r = axum::Json(body).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600"),
    );
    r
}

/// The security middleware (see the module documentation for the order of checks).
pub async fn guard(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    if let Err(problem) = check_host_syntax(request.headers()) {
        tracing::warn!("refused a request with a malformed Host header: {problem}");
        return plain(StatusCode::BAD_REQUEST, &format!("Bad Request: {problem}"));
    }
    if !guard.lists.host_allowed(request.headers(), request.uri()) {
        tracing::warn!("refused a request with a Host header not in the allow-list");
        return plain(
            StatusCode::FORBIDDEN,
            "Forbidden: Host header is not allowed",
        );
    }
    if !guard.lists.origin_allowed(request.headers()) {
        tracing::warn!("refused a request with an Origin header not in the allow-list");
        return plain(
            StatusCode::FORBIDDEN,
            "Forbidden: Origin header is not allowed",
        );
    }
    let path = request.uri().path().to_string();
    if let Some(rest) = path.strip_prefix(METADATA_PATH)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        return metadata(&guard, request.headers(), rest);
    }
    let key = match guard.security.authenticates() {
        true => {
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, token) = v.trim().split_once(' ')?;
                    scheme
                        .eq_ignore_ascii_case("bearer")
                        .then(|| token.trim().to_string())
                });
            let Some(token) = presented else {
                return unauthorized(&guard, request.headers(), &path, false);
            };
            match guard
                .security
                .tokens
                .as_ref()
                .and_then(|t| t.verify(&token))
            {
                Some(index) => ClientKey::Token(index),
                None if guard.security.oauth.is_some() => {
                    match oauth_admit(&guard, &token, &path, request).await {
                        Ok((key, admitted)) => {
                            request = admitted;
                            key
                        }
                        Err(refused) => return refused,
                    }
                }
                None => {
                    tracing::warn!(path = %path, "refused a request with an unknown bearer token");
                    return unauthorized(&guard, request.headers(), &path, true);
                }
            }
        }
        false => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| ClientKey::Address(c.0.ip()))
            .unwrap_or(ClientKey::Anonymous),
    };
    // The client's credential stops here: nothing downstream sees it.
    request.headers_mut().remove(header::AUTHORIZATION);
    request.extensions_mut().insert(key);
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(permit) = guard.permit(key).await else {
        tracing::warn!(path = %path, "refused a request: the client has too many requests in flight");
        let mut r = plain(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests: this client has too many requests in flight; retry shortly",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Body::new(PermitBody {
            inner: body,
            _permit: permit,
        }),
    )
}

/// Admits a request whose bearer token is an OAuth access token of the issuer with
/// the scopes it needs; the principal goes into the request's extensions.
async fn oauth_admit(
    guard: &Guard,
    token: &str,
    path: &str,
    request: Request,
) -> Result<(ClientKey, Request), Response> {
    let Some(oauth) = &guard.security.oauth else {
        return Err(unauthorized(guard, request.headers(), path, true));
    };
    let base = guard.base_url(request.headers());
    let resource = format!("{base}{}", path.trim_end_matches('/'));
    let refuse = |refusal: crate::oauth::Refusal| {
        tracing::warn!(path = %path, refusal = ?refusal, "refused an OAuth bearer token");
        crate::oauth::refusal_response(&refusal, &metadata_url(&base, path))
    };
    let principal = oauth.verify(token, &resource).await.map_err(refuse)?;
    let mut request = oauth
        .check_write_scope(&principal, request)
        .await
        .map_err(refuse)?;
    let key = ClientKey::Subject(digest(principal.subject.as_bytes()));
    request.extensions_mut().insert(principal);
    Ok((key, request))
}

/// A response body that holds a concurrency permit until it is finished or dropped
/// (an SSE stream lasts as long as its tool call).
struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for PermitBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_in_constant_time_and_by_index() {
        let set = TokenSet::new(["a-long-token-number-one", "another-long-token-two"]);
        assert_eq!(set.len(), 2);
        assert!(set.verify("a-long-token-number-one").is_some());
        assert!(set.verify("another-long-token-two").is_some());
        assert_ne!(
            set.verify("a-long-token-number-one"),
            set.verify("another-long-token-two")
        );
        assert_eq!(set.verify("a-long-token-number-on"), None);
        assert_eq!(set.verify(""), None);
        assert_eq!(format!("{set:?}"), "TokenSet(2 tokens)");
    }

    #[test]
    fn token_sources_are_validated() {
        assert_eq!(
            parse_token_list(" abcdefghijklmnop , ,qrstuvwxyz0123456").ok(),
            Some(vec![
                "abcdefghijklmnop".to_string(),
                "qrstuvwxyz0123456".to_string()
            ])
        );
        assert!(parse_token_list("short").is_err());
        let dir = std::env::temp_dir().join(format!("dbmcp-tokens-{}", std::process::id()));
        let _ = std::fs::write(&dir, "# clients\n\nabcdefghijklmnopqrst\n");
        assert_eq!(
            read_token_file(&dir).ok(),
            Some(vec!["abcdefghijklmnopqrst".to_string()])
        );
        let _ = std::fs::write(&dir, "# nothing\n");
        assert!(read_token_file(&dir).is_err());
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn host_headers_must_be_a_plain_host_and_port() {
        for ok in [
            "localhost",
            "localhost:8000",
            "127.0.0.1:1",
            "[::1]:9",
            "[::1]",
            "mcp.example.com",
        ] {
            assert!(strict_host(ok), "{ok}");
        }
        for bad in [
            "evil.com@127.0.0.1:8000",
            "127.0.0.1:8000/x",
            "127.0.0.1:8000:1",
            "127.0.0.1:",
            "127.0.0.1:99999",
            ":80",
            "",
            "[::1",
            "[::1]x",
            "[evil]:80",
            "a b",
        ] {
            assert!(!strict_host(bad), "{bad}");
        }
        let mut two = HeaderMap::new();
        two.append(header::HOST, HeaderValue::from_static("localhost"));
        two.append(header::HOST, HeaderValue::from_static("localhost"));
        assert!(check_host_syntax(&two).is_err());
        assert!(check_host_syntax(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn allow_lists_match_like_rmcp() {
        let lists = AllowLists {
            hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
                "mcp.example.com:443".into(),
            ],
            origins: vec![
                "http://localhost:*".into(),
                "https://app.example.com".into(),
            ],
        };
        let h = |host: &str| {
            let mut m = HeaderMap::new();
            m.insert(
                header::HOST,
                HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("x")),
            );
            lists.host_allowed(&m, &http::Uri::from_static("/mcp"))
        };
        assert!(h("localhost:8000"));
        assert!(h("127.0.0.1"));
        assert!(h("[::1]:9"));
        assert!(h("mcp.example.com:443"));
        assert!(!h("mcp.example.com:80"));
        assert!(!h("evil.example"));
        let o = |origin: &str| {
            let mut m = HeaderMap::new();
            m.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("x")),
            );
            lists.origin_allowed(&m)
        };
        assert!(o("http://localhost:1234"));
        assert!(o("https://app.example.com"));
        assert!(!o("http://evil.example"));
        assert!(!o("https://localhost:1234"));
        assert!(lists.origin_allowed(&HeaderMap::new()));
    }
}
