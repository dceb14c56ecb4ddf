//! OAuth M2M: client-credentials grant with HTTP Basic client authentication
//! (AUTH.md §5), with endpoint discovery, caching and bounded retries.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::cache::{Token, TokenCache};
use super::{AuthError, redact, truncate};
use crate::config::{Config, ConfigError, check_endpoint_url, is_account_host};

/// At most this many attempts per token-endpoint (or discovery) request.
const MAX_ATTEMPTS: u32 = 4;
/// Overall budget of one request including retries.
const RETRY_BUDGET: Duration = Duration::from_secs(25);
/// First backoff step; doubled per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(300);
/// Upper bound of one backoff step.
const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// Time allowed for the best-effort `/.well-known/databricks-config` probe.
const HOST_METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// OAuth M2M credentials of a service principal.
pub struct M2mCredentials {
    http: crate::pool::LazyHttp,
    host: url::Url,
    client_id: String,
    client_secret: SecretString,
    scope: String,
    discovery_url: Option<String>,
    account_id: Option<String>,
    /// Token endpoint, once discovered (only touched under the refresh lock).
    token_endpoint: Mutex<Option<url::Url>>,
    cache: TokenCache,
}

impl fmt::Debug for M2mCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("M2mCredentials")
            .field("host", &self.host.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct OauthErrorBody {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(rename = "errorCode")]
    error_code_camel: Option<String>,
    #[serde(rename = "errorSummary")]
    error_summary: Option<String>,
    error_code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    token_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct HostMetadata {
    oidc_endpoint: Option<String>,
    account_id: Option<String>,
}

impl M2mCredentials {
    pub(crate) fn new(
        config: &Config,
        http: crate::pool::LazyHttp,
    ) -> Result<M2mCredentials, AuthError> {
        let (Some(client_id), Some(client_secret)) = (&config.client_id, &config.client_secret)
        else {
            return Err(AuthError::Config(ConfigError::IncompleteOauth {
                present: "auth type oauth-m2m".into(),
                missing: "client_id or client_secret".into(),
            }));
        };
        if is_account_host(&config.host)
            && config.account_id.is_none()
            && config.discovery_url.is_none()
        {
            return Err(AuthError::Config(ConfigError::Invalid(format!(
                "{} is an account host: OAuth M2M needs the account id; set DATABRICKS_ACCOUNT_ID or `account_id` in the profile",
                config.host
            ))));
        }
        Ok(M2mCredentials {
            http,
            host: config.host.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            scope: if config.scopes.is_empty() {
                crate::config::DEFAULT_SCOPE.to_string()
            } else {
                config.scopes.join(" ")
            },
            discovery_url: config.discovery_url.clone(),
            account_id: config.account_id.clone(),
            token_endpoint: Mutex::new(None),
            cache: TokenCache::new("OAuth access token"),
        })
    }

    pub(crate) async fn authorization(&self) -> Result<HeaderValue, AuthError> {
        self.cache.get_or_fetch(|| self.fetch_token()).await
    }

    pub(crate) fn invalidate(&self) {
        self.cache.invalidate();
    }

    fn host_text(&self) -> String {
        self.host.as_str().trim_end_matches('/').to_string()
    }

    fn client(&self) -> Result<&reqwest::Client, AuthError> {
        self.http
            .get()
            .map_err(|e| AuthError::Config(crate::config::ConfigError::Invalid(e.clone())))
    }

    async fn fetch_token(&self) -> Result<Token, AuthError> {
        let endpoint = self.token_endpoint().await?;
        let endpoint_text = endpoint.to_string();
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.scope.as_str()),
        ];
        let http = self.client()?;
        let response = send_with_retry(&endpoint_text, || {
            http.post(endpoint.clone())
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        })
        .await
        .map_err(|detail| AuthError::TokenRequest {
            endpoint: endpoint_text.clone(),
            detail: self.scrub(&detail),
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| AuthError::TokenRequest {
                endpoint: endpoint_text.clone(),
                detail: self.scrub(&format!("reading the response: {e}")),
            })?;
        if !status.is_success() {
            return Err(self.refused(&endpoint_text, status, &body));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| AuthError::TokenRequest {
                endpoint: endpoint_text.clone(),
                detail: format!("the response is not a token response: {e}"),
            })?;
        let access_token = parsed
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::TokenRequest {
                endpoint: endpoint_text.clone(),
                detail: "the response has no access_token".into(),
            })?;
        let ttl = parsed.expires_in.as_ref().and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let ttl = ttl
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(1e9)));
        tracing::debug!(
            endpoint = %endpoint_text,
            expires_in = ?ttl,
            "obtained an OAuth M2M access token"
        );
        Ok(Token::new(
            SecretString::from(access_token),
            parsed.token_type.unwrap_or_else(|| "Bearer".into()),
            ttl,
        ))
    }

    fn scrub(&self, text: &str) -> String {
        redact(text, self.client_secret.expose_secret())
    }

    fn refused(&self, endpoint: &str, status: StatusCode, body: &[u8]) -> AuthError {
        let parsed: OauthErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let error = parsed
            .error
            .or(parsed.error_code_camel)
            .or(parsed.error_code)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        let description = parsed
            .error_description
            .or(parsed.error_summary)
            .or(parsed.message)
            .or_else(|| {
                let text = String::from_utf8_lossy(body).trim().to_string();
                (!text.is_empty() && !text.starts_with('{') && !text.starts_with('<'))
                    .then_some(text)
            })
            .map(|d| format!(": {}", truncate(&d, 300)))
            .unwrap_or_default();
        let hint = match status.as_u16() {
            400 | 401 | 403 if error == "invalid_client" || status == StatusCode::UNAUTHORIZED => {
                format!(
                    ". Check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (client_id {}) and that the secret has not expired",
                    self.client_id
                )
            }
            _ => String::new(),
        };
        AuthError::TokenRefused {
            endpoint: endpoint.to_string(),
            status: status.as_u16(),
            error: self.scrub(&truncate(&error, 100)),
            description: self.scrub(&description),
            hint,
        }
    }

    /// The token endpoint: from the configured discovery URL, the account pattern, or
    /// discovery on the workspace host. Cached after the first success.
    async fn token_endpoint(&self) -> Result<url::Url, AuthError> {
        if let Some(endpoint) = self
            .token_endpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(endpoint);
        }
        let endpoint = self.discover().await?;
        *self
            .token_endpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(endpoint.clone());
        Ok(endpoint)
    }

    async fn discover(&self) -> Result<url::Url, AuthError> {
        if let Some(url) = &self.discovery_url {
            return self.fetch_discovery(url).await;
        }
        if is_account_host(&self.host) {
            let account_id = self.account_id.as_deref().unwrap_or_default();
            let text = format!("{}/oidc/accounts/{account_id}/v1/token", self.host_text());
            return url::Url::parse(&text).map_err(|e| AuthError::Discovery {
                url: text,
                detail: e.to_string(),
            });
        }
        let classic = format!(
            "{}/oidc/.well-known/oauth-authorization-server",
            self.host_text()
        );
        if let Some(from_metadata) = self.host_metadata_discovery_url().await
            && from_metadata != classic
        {
            match self.fetch_discovery(&from_metadata).await {
                Ok(endpoint) => return Ok(endpoint),
                Err(error) => {
                    tracing::debug!(%error, "discovery via host metadata failed; trying the workspace OIDC endpoint");
                }
            }
        }
        self.fetch_discovery(&classic).await
    }

    /// Best effort: `GET {host}/.well-known/databricks-config` → `oidc_endpoint`.
    async fn host_metadata_discovery_url(&self) -> Option<String> {
        let url = format!("{}/.well-known/databricks-config", self.host_text());
        let response = self
            .http
            .get()
            .ok()?
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(HOST_METADATA_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let metadata: HostMetadata = response.json().await.ok()?;
        let mut oidc = metadata.oidc_endpoint.filter(|s| !s.trim().is_empty())?;
        if oidc.contains("{account_id}") {
            let account = metadata.account_id.or_else(|| self.account_id.clone())?;
            oidc = oidc.replace("{account_id}", &account);
        }
        let candidate = format!(
            "{}/.well-known/oauth-authorization-server",
            oidc.trim_end_matches('/')
        );
        check_endpoint_url(&candidate).ok()?;
        Some(candidate)
    }

    async fn fetch_discovery(&self, url: &str) -> Result<url::Url, AuthError> {
        let discovery = check_endpoint_url(url).map_err(|detail| AuthError::Discovery {
            url: url.to_string(),
            detail,
        })?;
        let http = self.client()?;
        let response = send_with_retry(url, || {
            http.get(discovery.clone())
                .header(reqwest::header::ACCEPT, "application/json")
        })
        .await
        .map_err(|detail| AuthError::Discovery {
            url: url.to_string(),
            detail,
        })?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Err(AuthError::OauthNotSupported {
                host: self.host_text(),
                url: url.to_string(),
            });
        }
        if !status.is_success() {
            return Err(AuthError::Discovery {
                url: url.to_string(),
                detail: format!("HTTP {status}"),
            });
        }
        let document: DiscoveryDocument =
            response.json().await.map_err(|e| AuthError::Discovery {
                url: url.to_string(),
                detail: format!("not an OAuth authorization-server document: {e}"),
            })?;
        let endpoint = document
            .token_endpoint
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| AuthError::Discovery {
                url: url.to_string(),
                detail: "the document has no token_endpoint".into(),
            })?;
        check_endpoint_url(&endpoint).map_err(|detail| AuthError::Discovery {
            url: url.to_string(),
            detail: format!("token_endpoint {endpoint:?}: {detail}"),
        })
    }
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(SystemTime::now()).unwrap_or_default())
}

fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(10))
        .min(BACKOFF_MAX);
    // ±25 % jitter.
    base.mul_f64(0.75 + fastrand::f64() * 0.5)
}

/// Sends a request built by `build`, retrying on 429/502/503/504 and network errors
/// with exponential backoff that never undercuts `Retry-After`, at most
/// [`MAX_ATTEMPTS`] times within [`RETRY_BUDGET`]. Returns the last response (which
/// may be an error status) or a description of the last network error.
async fn send_with_retry(
    what: &str,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, String> {
    let deadline = Instant::now() + RETRY_BUDGET;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let result = build()
            .timeout(remaining.max(Duration::from_millis(100)))
            .send()
            .await;
        let wait = match &result {
            Ok(response) if is_retryable_status(response.status()) => {
                let backoff = backoff(attempt - 1);
                retry_after(response).map_or(backoff, |ra| ra.max(backoff))
            }
            Ok(_) => return result.map_err(|e| e.to_string()),
            Err(e) if e.is_builder() => return result.map_err(|e| e.to_string()),
            Err(_) => backoff(attempt - 1),
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if attempt >= MAX_ATTEMPTS || wait >= remaining {
            return match result {
                Ok(response) => Ok(response),
                Err(e) => Err(describe_network_error(&e, attempt)),
            };
        }
        match &result {
            Ok(r) => {
                tracing::debug!(%what, status = %r.status(), ?wait, attempt, "retrying OAuth request")
            }
            Err(e) => tracing::debug!(%what, error = %e, ?wait, attempt, "retrying OAuth request"),
        }
        drop(result);
        tokio::time::sleep(wait).await;
    }
}

fn describe_network_error(e: &reqwest::Error, attempts: u32) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "network error"
    };
    // reqwest's Display names the URL but never the request headers or body.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    format!("{kind} after {attempts} attempt(s): {detail}")
}
