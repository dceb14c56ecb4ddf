//! OAuth 2.1 resource server for HTTP clients (MCP authorization specification): JWT
//! access tokens issued by the operator's authorization server (`--oauth-issuer`).
//!
//! * **Discovery**: the issuer's RFC 8414 metadata
//!   (`/.well-known/oauth-authorization-server`, then OpenID Connect's
//!   `/.well-known/openid-configuration`) names `jwks_uri`; its `issuer` must be the
//!   configured one, exactly (RFC 8414 §3.3, against mix-up).
//! * **Keys**: the JWKS is cached for [`JWKS_TTL`]; a token whose `kid` is unknown
//!   triggers one refetch at most every [`UNKNOWN_KID_REFETCH`] (keys rotate, but a
//!   client must not make us hammer the issuer). Only asymmetric keys are used: `oct`
//!   keys, `none` and HS* are refused, and keys named in a token's header (`jwk`,
//!   `jku`, `x5u`) are never trusted.
//! * **Claims**: signature, `iss` = the issuer, `aud` = this resource (the RFC 9728
//!   `resource` of the route, or `--oauth-audience`), `exp` and `nbf` with
//!   [`LEEWAY_SECS`] of clock skew.
//! * **Scopes** (`scope`, RFC 9068, or `scp`): every request needs the read scope; a
//!   call of a tool that is not read-only (`readOnlyHint` false: `run_sql_query` and
//!   `execute_sql` under `--allow-writes`, functions with non-SQL bodies) needs the
//!   write scope too.
//!
//! Refusals follow RFC 6750 §3.1: a bad token is `401` `invalid_token`; a good token
//! without the scope is `403` `insufficient_scope` with the scopes the operation needs,
//! which is what the MCP specification asks for (“Scope challenge handling”, SHOULD)
//! so that a client can step up by asking the authorization server for them. An MCP
//! tool error would leave the client no standard way to obtain the missing scope.
//!
//! A token never appears in a log line, an error or a response.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Environment variable of `--oauth-issuer`.
pub const ISSUER_ENV: &str = "DATABRICKS_MCP_OAUTH_ISSUER";
/// Default `--oauth-read-scope`.
pub const DEFAULT_READ_SCOPE: &str = "databricks-mcp:read";
/// Default `--oauth-write-scope`.
pub const DEFAULT_WRITE_SCOPE: &str = "databricks-mcp:write";

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// How long fetched keys are used before they are fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(3600);
/// Least time between two fetches caused by tokens with an unknown `kid`.
pub const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(30);
/// Least time between two fetches while the issuer cannot be reached.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest metadata or JWKS document read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Most keys kept from a JWKS (each may be tried for a token without `kid`).
const MAX_KEYS: usize = 32;
/// Longest token looked at (real access tokens are a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Largest request body read to find which tool a read-only token calls.
const MAX_PEEK_BYTES: usize = 64 * 1024 * 1024;

/// Signature algorithms accepted: asymmetric only (a shared secret would let anyone
/// holding the JWKS mint tokens; `none` is not an algorithm jsonwebtoken parses).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// OAuth options of `serve` (flattened into the HTTP security options).
#[derive(Debug, Clone, clap::Args)]
pub struct OAuthArgs {
    /// OAuth 2.1 authorization server (its issuer URL) whose JWT access tokens HTTP clients may present; its keys are found through /.well-known/oauth-authorization-server (or openid-configuration). https, or http on loopback. Works alongside --auth-token-file.
    #[arg(long, value_name = "URL", env = ISSUER_ENV, value_parser = check_issuer)]
    pub oauth_issuer: Option<String>,
    /// Audience (aud) tokens must carry; default: the protected resource's URL of the route (e.g. https://mcp.example.com/mcp, as in the RFC 9728 metadata).
    #[arg(long, value_name = "URI", env = "DATABRICKS_MCP_OAUTH_AUDIENCE")]
    pub oauth_audience: Option<String>,
    /// Scope a token needs for any request.
    #[arg(long, value_name = "SCOPE", env = "DATABRICKS_MCP_OAUTH_READ_SCOPE", default_value = DEFAULT_READ_SCOPE)]
    pub oauth_read_scope: String,
    /// Scope a token needs, besides the read scope, to call a tool that is not read-only (SQL writes also need --allow-writes).
    #[arg(long, value_name = "SCOPE", env = "DATABRICKS_MCP_OAUTH_WRITE_SCOPE", default_value = DEFAULT_WRITE_SCOPE)]
    pub oauth_write_scope: String,
}

impl Default for OAuthArgs {
    fn default() -> Self {
        OAuthArgs {
            oauth_issuer: None,
            oauth_audience: None,
            oauth_read_scope: DEFAULT_READ_SCOPE.to_string(),
            oauth_write_scope: DEFAULT_WRITE_SCOPE.to_string(),
        }
    }
}

fn check_issuer(value: &str) -> Result<String, String> {
    match url::Url::parse(value) {
        Ok(u) if secure_url(&u) && u.query().is_none() && u.fragment().is_none() => {
            Ok(value.to_string())
        }
        _ => Err(format!(
            "{value:?} is not an https URL (http is accepted for loopback addresses only) without query or fragment"
        )),
    }
}

/// https, or http to a loopback address (the repository's rule for every URL).
fn secure_url(u: &url::Url) -> bool {
    match u.scheme() {
        "https" => u.host().is_some(),
        "http" => match u.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("--oauth-issuer: {0}")]
    Issuer(String),
    #[error("--oauth-audience is set but --oauth-issuer is not")]
    AudienceWithoutIssuer,
    #[error("OAuth scope {0:?} is empty or contains whitespace, a quote or a backslash")]
    Scope(String),
    #[error("the read and write scopes must differ")]
    SameScopes,
    #[error("cannot build the HTTP client for the authorization server: {0}")]
    Client(String),
}

/// Why the issuer's keys could not be fetched (operator-facing, logged).
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("GET {url}: {message}")]
    Http { url: String, message: String },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { url: String },
    #[error("GET {url}: not the expected JSON: {message}")]
    Json { url: String, message: String },
    #[error("no authorization server metadata found for {0}")]
    NoMetadata(String),
    #[error("the metadata at {url} names issuer {found:?}, not {expected:?}")]
    IssuerMismatch {
        url: String,
        expected: String,
        found: String,
    },
    #[error("jwks_uri {0:?} is not an https URL (http only on loopback)")]
    JwksUri(String),
    #[error("the JWKS at {0} holds no usable signing key")]
    NoKeys(String),
}

/// Who an accepted OAuth token stands for; put in the request's extensions (and from
/// there in rmcp's `http::request::Parts`) for the tools layer.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `sub` (else `client_id`): the concurrency limit's client.
    pub subject: String,
    /// Whether the token carries the write scope.
    pub may_write: bool,
    /// The write scope's name, for messages.
    pub write_scope: Arc<str>,
}

/// Why a request is refused. Descriptions are fixed texts: nothing of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `401`, `error="invalid_token"`.
    InvalidToken(&'static str),
    /// `403`, `error="insufficient_scope"`, `scope` = what the operation needs.
    InsufficientScope {
        scope: String,
        description: &'static str,
    },
    /// `503`: the issuer's keys cannot be fetched, so no token can be checked.
    Unavailable,
    /// `413` / `400`: the body of a request that had to be inspected.
    BadBody(axum::http::StatusCode),
}

#[derive(Debug)]
struct Config {
    issuer: String,
    audience: Option<String>,
    read_scope: String,
    write_scope: Arc<str>,
    http: reqwest::Client,
}

struct Key {
    kid: Option<String>,
    /// The JWK's `alg`, when it names one: the token's must then be the same.
    alg: Option<Algorithm>,
    key: DecodingKey,
    family: jsonwebtoken::AlgorithmFamily,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<Key>,
    /// `None`: never fetched.
    fetched_at: Option<Instant>,
}

impl KeySet {
    fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Why the keys should be fetched again, if they should.
    fn refetch(&self, kid: Option<&str>) -> Option<Refetch> {
        match self.fetched_at {
            None => Some(Refetch::Missing),
            Some(at) if at.elapsed() >= JWKS_TTL => Some(Refetch::Missing),
            Some(_) if kid.is_some_and(|k| !self.has_kid(k)) => Some(Refetch::UnknownKid),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Refetch {
    /// None yet, or too old.
    Missing,
    /// A token names a key the set lacks: maybe a rotation, maybe a forgery.
    UnknownKid,
}

#[derive(Default)]
struct Fetcher {
    jwks_uri: Option<url::Url>,
    last_attempt: Option<Instant>,
    /// Last fetch caused by an unknown `kid`: those are limited on their own, so
    /// that a rotation right after a scheduled fetch is still picked up.
    last_unknown_kid: Option<Instant>,
}

impl Fetcher {
    fn may_fetch(&self, why: Refetch) -> bool {
        let since = |at: Option<Instant>, interval| at.is_none_or(|t| t.elapsed() >= interval);
        match why {
            Refetch::Missing => since(self.last_attempt, RETRY_AFTER_FAILURE),
            Refetch::UnknownKid => since(self.last_unknown_kid, UNKNOWN_KID_REFETCH),
        }
    }
}

struct Keys {
    current: RwLock<Arc<KeySet>>,
    /// Held while fetching: one fetch at a time, whatever the number of requests.
    fetcher: tokio::sync::Mutex<Fetcher>,
}

/// The OAuth resource server: configuration, cached keys, and which tools write.
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct OAuth {
    config: Arc<Config>,
    keys: Arc<Keys>,
    write_tools: Arc<HashSet<String>>,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .field("read_scope", &self.config.read_scope)
            .field("write_scope", &self.config.write_scope)
            .finish_non_exhaustive()
    }
}

fn check_scope(scope: &str) -> Result<(), OAuthError> {
    // Scopes are written into a quoted WWW-Authenticate parameter (RFC 6749 §3.3 NQCHAR).
    if scope.is_empty()
        || scope
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\\' || !c.is_ascii_graphic())
    {
        return Err(OAuthError::Scope(scope.to_string()));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    client_id: Option<String>,
    /// RFC 9068: space-separated.
    scope: Option<String>,
    /// Some issuers (Entra ID, Okta): a string or an array.
    scp: Option<Value>,
}

impl Claims {
    fn scopes(&self) -> HashSet<&str> {
        let mut out: HashSet<&str> = self
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        match &self.scp {
            Some(Value::String(s)) => out.extend(s.split_whitespace()),
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
        out
    }
}

impl OAuth {
    /// From the command line; `None` when no issuer is configured.
    pub fn from_args(args: &OAuthArgs) -> Result<Option<OAuth>, OAuthError> {
        let Some(issuer) = &args.oauth_issuer else {
            if args.oauth_audience.is_some() {
                return Err(OAuthError::AudienceWithoutIssuer);
            }
            return Ok(None);
        };
        check_issuer(issuer).map_err(OAuthError::Issuer)?;
        check_scope(&args.oauth_read_scope)?;
        check_scope(&args.oauth_write_scope)?;
        if args.oauth_read_scope == args.oauth_write_scope {
            return Err(OAuthError::SameScopes);
        }
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            // A redirect could lead discovery anywhere; issuers serve metadata directly.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OAuthError::Client(e.to_string()))?;
        Ok(Some(OAuth {
            config: Arc::new(Config {
                issuer: issuer.clone(),
                audience: args.oauth_audience.clone(),
                read_scope: args.oauth_read_scope.clone(),
                write_scope: args.oauth_write_scope.as_str().into(),
                http,
            }),
            keys: Arc::new(Keys {
                current: RwLock::new(Arc::new(KeySet::default())),
                fetcher: tokio::sync::Mutex::new(Fetcher::default()),
            }),
            write_tools: Arc::new(HashSet::new()),
        }))
    }

    /// The names of the tools that need the write scope (those not read-only on the
    /// routes whose tools are known without the workspace; the server checks every
    /// call again, see `server.rs`).
    pub fn with_write_tools<I: IntoIterator<Item = String>>(mut self, names: I) -> OAuth {
        self.write_tools = Arc::new(names.into_iter().collect());
        self
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn read_scope(&self) -> &str {
        &self.config.read_scope
    }

    pub fn write_scope(&self) -> &str {
        &self.config.write_scope
    }

    /// Fetches the issuer's keys now (at startup, so that a misconfiguration shows in
    /// the log before the first client).
    pub async fn prefetch(&self) {
        let _ = self.key_set(None).await;
    }

    /// Adds `authorization_servers` and `scopes_supported` to RFC 9728 metadata.
    pub fn describe(&self, metadata: &mut serde_json::Map<String, Value>) {
        metadata.insert(
            "authorization_servers".into(),
            Value::from(vec![self.config.issuer.clone()]),
        );
        metadata.insert(
            "scopes_supported".into(),
            Value::from(vec![
                self.config.read_scope.clone(),
                self.config.write_scope.to_string(),
            ]),
        );
    }

    /// Validates `token` for the protected resource `resource` (the route's URL).
    pub async fn verify(&self, token: &str, resource: &str) -> Result<Principal, Refusal> {
        const NOT_A_JWT: &str = "the bearer token is not a JWT access token of the authorization server this server trusts";
        if token.len() > MAX_TOKEN_BYTES || token.split('.').count() != 3 {
            return Err(Refusal::InvalidToken(NOT_A_JWT));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| Refusal::InvalidToken(NOT_A_JWT))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(Refusal::InvalidToken(
                "the token's signature algorithm is not accepted (asymmetric algorithms only, e.g. RS256 or ES256)",
            ));
        }
        let kid = header.kid.as_deref();
        let keys = self.key_set(kid).await?;
        let candidates: Vec<&Key> = keys
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .filter(|k| k.family == header.alg.family() && k.alg.is_none_or(|a| a == header.alg))
            .collect();
        if candidates.is_empty() {
            return Err(Refusal::InvalidToken(
                "the token's signing key is not one of the authorization server's keys",
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&self.config.issuer]);
        match &self.config.audience {
            Some(a) => validation.set_audience(&[a]),
            // RFC 8707 resource indicators are compared as given; a trailing slash is
            // a common difference between a client's and the server's spelling.
            None => validation.set_audience(&[resource.to_string(), format!("{resource}/")]),
        }
        let mut last = ErrorKind::InvalidSignature;
        let mut claims = None;
        for key in candidates {
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => {
                    last = e.into_kind();
                    if !matches!(last, ErrorKind::InvalidSignature) {
                        break;
                    }
                }
            }
        }
        let Some(claims) = claims else {
            return Err(Refusal::InvalidToken(describe(&last)));
        };
        let scopes = claims.scopes();
        if !scopes.contains(self.config.read_scope.as_str()) {
            return Err(Refusal::InsufficientScope {
                scope: self.config.read_scope.clone(),
                description: "the token lacks the scope this server requires",
            });
        }
        let may_write = scopes.contains(&*self.config.write_scope);
        Ok(Principal {
            subject: claims.sub.or(claims.client_id).unwrap_or_default(),
            may_write,
            write_scope: self.config.write_scope.clone(),
        })
    }

    /// Refuses (`403`) a POST from a token without the write scope that calls a tool
    /// needing it. The body is read only for such tokens, and given back intact.
    pub async fn check_write_scope(
        &self,
        principal: &Principal,
        request: Request,
    ) -> Result<Request, Refusal> {
        if principal.may_write || self.write_tools.is_empty() || request.method() != Method::POST {
            return Ok(request);
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_PEEK_BYTES) {
            return Err(Refusal::BadBody(axum::http::StatusCode::PAYLOAD_TOO_LARGE));
        }
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_PEEK_BYTES)
            .await
            .map_err(|_| Refusal::BadBody(axum::http::StatusCode::BAD_REQUEST))?;
        if calls_any(&bytes, &self.write_tools) {
            return Err(Refusal::InsufficientScope {
                scope: format!("{} {}", self.config.read_scope, self.config.write_scope),
                description: "this tool may change the workspace: the token needs the write scope",
            });
        }
        Ok(Request::from_parts(parts, Body::from(bytes)))
    }

    fn snapshot(&self) -> Arc<KeySet> {
        self.keys
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The keys to check a token with `kid` against, fetched first when there are
    /// none yet, they are old, or `kid` is unknown (each at a bounded rate).
    async fn key_set(&self, kid: Option<&str>) -> Result<Arc<KeySet>, Refusal> {
        if self.snapshot().refetch(kid).is_some() {
            let mut fetcher = self.keys.fetcher.lock().await;
            // Another request may have fetched while this one waited.
            if let Some(why) = self.snapshot().refetch(kid)
                && fetcher.may_fetch(why)
            {
                fetcher.last_attempt = Some(Instant::now());
                if why == Refetch::UnknownKid {
                    fetcher.last_unknown_kid = fetcher.last_attempt;
                }
                match self.fetch(&mut fetcher).await {
                    Ok(keys) => {
                        tracing::info!(
                            issuer = %self.config.issuer,
                            keys = keys.len(),
                            "fetched the authorization server's signing keys"
                        );
                        *self.keys.current.write().unwrap_or_else(|p| p.into_inner()) =
                            Arc::new(KeySet {
                                keys,
                                fetched_at: Some(Instant::now()),
                            });
                    }
                    Err(e) => {
                        // Discovery is redone next time: the issuer may have moved its keys.
                        fetcher.jwks_uri = None;
                        tracing::warn!(issuer = %self.config.issuer, error = %e, "cannot fetch the authorization server's signing keys; keeping the keys fetched before, if any");
                    }
                }
            }
        }
        let keys = self.snapshot();
        if keys.fetched_at.is_none() {
            return Err(Refusal::Unavailable);
        }
        Ok(keys)
    }

    async fn fetch(&self, fetcher: &mut Fetcher) -> Result<Vec<Key>, FetchError> {
        let jwks_uri = match &fetcher.jwks_uri {
            Some(u) => u.clone(),
            None => {
                let u = self.discover().await?;
                fetcher.jwks_uri = Some(u.clone());
                u
            }
        };
        let document = self
            .get_json(&jwks_uri)
            .await?
            .ok_or_else(|| FetchError::Status {
                url: jwks_uri.to_string(),
                status: 404,
            })?;
        let keys = parse_jwks(&document);
        if keys.is_empty() {
            return Err(FetchError::NoKeys(jwks_uri.to_string()));
        }
        Ok(keys)
    }

    /// `jwks_uri` from the issuer's metadata, at the well-known locations the MCP
    /// specification lists (RFC 8414 path insertion, then OpenID Connect's).
    async fn discover(&self) -> Result<url::Url, FetchError> {
        let issuer = url::Url::parse(&self.config.issuer)
            .map_err(|e| FetchError::NoMetadata(format!("{}: {e}", self.config.issuer)))?;
        for url in metadata_urls(&issuer) {
            let Some(document) = self.get_json(&url).await? else {
                continue;
            };
            let found = document
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if found != self.config.issuer {
                return Err(FetchError::IssuerMismatch {
                    url: url.to_string(),
                    expected: self.config.issuer.clone(),
                    found: found.to_string(),
                });
            }
            let raw = document
                .get("jwks_uri")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return match url::Url::parse(raw) {
                Ok(u) if secure_url(&u) => Ok(u),
                _ => Err(FetchError::JwksUri(raw.to_string())),
            };
        }
        Err(FetchError::NoMetadata(self.config.issuer.clone()))
    }

    /// A JSON document; `None` for 404 (try the next location).
    async fn get_json(&self, url: &url::Url) -> Result<Option<Value>, FetchError> {
        let http_error = |e: reqwest::Error| FetchError::Http {
            url: url.to_string(),
            message: e.without_url().to_string(),
        };
        let mut response = self
            .config
            .http
            .get(url.clone())
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http_error)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| FetchError::Json {
                url: url.to_string(),
                message: e.to_string(),
            })
    }
}

/// The metadata locations of `issuer`, in the order the MCP specification gives.
fn metadata_urls(issuer: &url::Url) -> Vec<url::Url> {
    let path = issuer.path().trim_end_matches('/');
    let at = |p: String| {
        let mut u = issuer.clone();
        u.set_path(&p);
        u
    };
    if path.is_empty() {
        vec![
            at("/.well-known/oauth-authorization-server".into()),
            at("/.well-known/openid-configuration".into()),
        ]
    } else {
        vec![
            at(format!("/.well-known/oauth-authorization-server{path}")),
            at(format!("/.well-known/openid-configuration{path}")),
            at(format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// The usable signing keys of a JWKS document: asymmetric, for signatures, at most
/// [`MAX_KEYS`]. Keys this server cannot use are skipped, not fatal.
fn parse_jwks(document: &Value) -> Vec<Key> {
    let Some(items) = document.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| serde_json::from_value::<Jwk>(item.clone()).ok())
        .filter(|jwk| {
            !matches!(
                jwk.common.public_key_use,
                Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
            )
        })
        .filter_map(|jwk| {
            let family = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => jsonwebtoken::AlgorithmFamily::Rsa,
                AlgorithmParameters::EllipticCurve(_) => jsonwebtoken::AlgorithmFamily::Ec,
                AlgorithmParameters::OctetKeyPair(_) => jsonwebtoken::AlgorithmFamily::Ed,
                // Symmetric (`oct`) and unknown keys are never used.
                _ => return None,
            };
            let alg = match jwk.common.key_algorithm {
                None => None,
                Some(a) => Some(Algorithm::try_from(a).ok()?),
            };
            Some(Key {
                kid: jwk.common.key_id.clone(),
                alg,
                key: DecodingKey::from_jwk(&jwk).ok()?,
                family,
            })
        })
        .take(MAX_KEYS)
        .collect()
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidAudience => "the token was not issued for this server (aud)",
        ErrorKind::InvalidIssuer => {
            "the token was not issued by the authorization server this server trusts (iss)"
        }
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp, iss or aud)",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its signing key",
        _ => "the token is malformed",
    }
}

/// Whether a JSON-RPC message (or batch) calls one of `tools`. An unparseable body
/// calls nothing: rmcp answers it with a parse error and runs no tool.
fn calls_any(body: &[u8], tools: &HashSet<String>) -> bool {
    #[derive(Deserialize)]
    struct Params {
        name: Option<String>,
    }
    #[derive(Deserialize)]
    struct Message {
        method: Option<String>,
        params: Option<Params>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Messages {
        One(Message),
        Many(Vec<Message>),
    }
    let messages = match serde_json::from_slice::<Messages>(body) {
        Ok(Messages::One(m)) => vec![m],
        Ok(Messages::Many(m)) => m,
        Err(_) => return false,
    };
    messages.iter().any(|m| {
        m.method.as_deref() == Some("tools/call")
            && m.params
                .as_ref()
                .and_then(|p| p.name.as_deref())
                .is_some_and(|n| tools.contains(n))
    })
}

/// The `WWW-Authenticate` challenge of a refusal (RFC 6750 §3), or `None` when the
/// refusal is not about the token.
pub fn challenge(refusal: &Refusal, resource_metadata: &str) -> Option<String> {
    match refusal {
        Refusal::InvalidToken(description) => Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{description}\", resource_metadata=\"{resource_metadata}\""
        )),
        Refusal::InsufficientScope { scope, description } => Some(format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\", error_description=\"{description}\", resource_metadata=\"{resource_metadata}\""
        )),
        Refusal::Unavailable | Refusal::BadBody(_) => None,
    }
}

/// The response to a refusal: status, challenge, and a JSON body saying the same.
pub fn refusal_response(refusal: &Refusal, resource_metadata: &str) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let (status, error, description) = match refusal {
        Refusal::InvalidToken(d) => (StatusCode::UNAUTHORIZED, "invalid_token", *d),
        Refusal::InsufficientScope { description, .. } => {
            (StatusCode::FORBIDDEN, "insufficient_scope", *description)
        }
        Refusal::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the authorization server's signing keys cannot be fetched; retry shortly",
        ),
        Refusal::BadBody(status) => (*status, "invalid_request", "cannot read the request body"),
    };
    let mut response = (
        status,
        axum::Json(serde_json::json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Some(c) = challenge(refusal, resource_metadata)
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if matches!(refusal, Refusal::Unavailable) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_locations_follow_the_specification() {
        let root = url::Url::parse("https://as.example.com").ok();
        let urls: Vec<String> = root
            .iter()
            .flat_map(metadata_urls)
            .map(String::from)
            .collect();
        assert_eq!(
            urls,
            [
                "https://as.example.com/.well-known/oauth-authorization-server",
                "https://as.example.com/.well-known/openid-configuration"
            ]
        );
        let tenant = url::Url::parse("https://as.example.com/tenant1/").ok();
        let urls: Vec<String> = tenant
            .iter()
            .flat_map(metadata_urls)
            .map(String::from)
            .collect();
        assert_eq!(
            urls,
            [
                "https://as.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://as.example.com/.well-known/openid-configuration/tenant1",
                "https://as.example.com/tenant1/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn issuers_must_be_https_or_loopback() {
        assert!(check_issuer("https://as.example.com").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000/realm").is_ok());
        assert!(check_issuer("http://localhost:9000").is_ok());
        assert!(check_issuer("http://as.example.com").is_err());
        assert!(check_issuer("https://as.example.com/?x=1").is_err());
        assert!(check_issuer("file:///etc/passwd").is_err());
    }

    #[test]
    fn configuration_is_checked() {
        let args = |issuer: Option<&str>, audience: Option<&str>, read: &str| OAuthArgs {
            oauth_issuer: issuer.map(String::from),
            oauth_audience: audience.map(String::from),
            oauth_read_scope: read.to_string(),
            ..OAuthArgs::default()
        };
        assert!(matches!(OAuth::from_args(&OAuthArgs::default()), Ok(None)));
        assert!(matches!(
            OAuth::from_args(&args(None, Some("api://x"), "r")),
            Err(OAuthError::AudienceWithoutIssuer)
        ));
        assert!(matches!(
            OAuth::from_args(&args(Some("https://as.example.com"), None, "a b")),
            Err(OAuthError::Scope(_))
        ));
        assert!(matches!(
            OAuth::from_args(&args(Some("https://as.example.com"), None, "x\"y")),
            Err(OAuthError::Scope(_))
        ));
        assert!(matches!(
            OAuth::from_args(&args(
                Some("https://as.example.com"),
                None,
                DEFAULT_WRITE_SCOPE
            )),
            Err(OAuthError::SameScopes)
        ));
        assert!(matches!(
            OAuth::from_args(&args(Some("https://as.example.com"), None, "read")),
            Ok(Some(_))
        ));
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "scope": "a b", "scp": ["c"]
        }))
        .unwrap_or(Claims {
            sub: None,
            client_id: None,
            scope: None,
            scp: None,
        });
        let scopes = claims.scopes();
        assert!(scopes.contains("a") && scopes.contains("b") && scopes.contains("c"));
    }

    #[test]
    fn tool_calls_are_found_in_single_and_batched_messages() {
        let tools: HashSet<String> = ["run_sql_query".to_string()].into();
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_sql_query","arguments":{}}}"#;
        assert!(calls_any(call, &tools));
        let batch = br#"[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_sql_query"}}]"#;
        assert!(calls_any(batch, &tools));
        let other =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_catalogs"}}"#;
        assert!(!calls_any(other, &tools));
        let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        assert!(!calls_any(list, &tools));
        assert!(!calls_any(b"not json", &tools));
    }

    #[test]
    fn jwks_keeps_only_asymmetric_signing_keys() {
        let document = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "sig", "alg": "ES256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "whatever"}
        ]});
        let keys = parse_jwks(&document);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("sig"));
        assert_eq!(keys[0].alg, Some(Algorithm::ES256));
    }

    #[test]
    fn challenges_carry_the_rfc_6750_error() {
        let c = challenge(
            &Refusal::InvalidToken("the token has expired"),
            "http://h/m",
        );
        assert_eq!(
            c.as_deref(),
            Some(
                "Bearer error=\"invalid_token\", error_description=\"the token has expired\", resource_metadata=\"http://h/m\""
            )
        );
        let c = challenge(
            &Refusal::InsufficientScope {
                scope: "r w".into(),
                description: "d",
            },
            "http://h/m",
        );
        assert!(
            c.is_some_and(|c| c.starts_with("Bearer error=\"insufficient_scope\", scope=\"r w\""))
        );
    }
}
