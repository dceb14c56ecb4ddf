//! Unified authentication (AUTH.md §3–§7): personal access tokens, OAuth M2M
//! (service principal client credentials) and OAuth U2M through the Databricks CLI
//! (`databricks auth token`).
//!
//! [`Credentials::from_config`] picks the method without touching the network;
//! [`Credentials::authorization`] produces the `Authorization` header value, fetching
//! and caching tokens as needed (single-flight, refreshed ahead of expiry);
//! [`Credentials::invalidate`] drops a cached token after a 401.

mod cache;
mod cli;
mod m2m;

use std::fmt;
use std::path::PathBuf;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{AuthType, Config, ConfigError};

pub use cache::refresh_margin;
pub use cli::{CLI_TIMEOUT, CliCredentials, parse_cli_expiry};
pub use m2m::M2mCredentials;

/// Authentication failures. Messages never contain tokens or client secrets.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the {what} contains characters that are not allowed in an HTTP header")]
    InvalidHeader { what: &'static str },
    #[error("OAuth endpoint discovery failed ({url}): {detail}")]
    Discovery { url: String, detail: String },
    #[error(
        "OAuth is not supported for {host}: {url} returned 404. Use a personal access token (DATABRICKS_TOKEN) or check DATABRICKS_HOST"
    )]
    OauthNotSupported { host: String, url: String },
    #[error(
        "OAuth token request to {endpoint} was refused (HTTP {status}): {error}{description}{hint}"
    )]
    TokenRefused {
        endpoint: String,
        status: u16,
        error: String,
        /// `": <error_description>"` or empty.
        description: String,
        hint: String,
    },
    #[error("OAuth token request to {endpoint} failed: {detail}")]
    TokenRequest { endpoint: String, detail: String },
    #[error("cannot run the Databricks CLI {}: {detail}", path.display())]
    CliSpawn { path: PathBuf, detail: String },
    #[error(
        "`{command}` did not finish within {seconds} s; run it in a terminal to check, or run `{login}`"
    )]
    CliTimeout {
        command: String,
        seconds: u64,
        login: String,
    },
    #[error("`{command}` failed{status}: {stderr}. Run `{login}` to sign in{hint}")]
    CliFailed {
        command: String,
        status: String,
        stderr: String,
        login: String,
        hint: String,
    },
    #[error("unexpected output from `{command}`: {detail}")]
    CliOutput { command: String, detail: String },
}

/// The credentials of one configuration; one variant per method.
pub enum Credentials {
    /// Personal access token: `Authorization: Bearer <token>`.
    Pat(PatCredentials),
    /// OAuth M2M client credentials.
    OauthM2m(Box<M2mCredentials>),
    /// OAuth U2M tokens from `databricks auth token`.
    DatabricksCli(Box<CliCredentials>),
}

/// A personal access token.
pub struct PatCredentials {
    token: SecretString,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Pat(_) => f.write_str("Credentials::Pat(***)"),
            Credentials::OauthM2m(m) => fmt::Debug::fmt(m, f),
            Credentials::DatabricksCli(c) => fmt::Debug::fmt(c, f),
        }
    }
}

impl fmt::Debug for PatCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatCredentials(***)")
    }
}

impl Credentials {
    /// Picks the method for `config` (the pinned auth type, else pat → oauth-m2m →
    /// databricks-cli) and builds its credentials. Cheap: no network, no process.
    /// `http` is used for OAuth discovery and token requests.
    pub fn from_config(
        config: &Config,
        http: impl Into<crate::pool::LazyHttp>,
    ) -> Result<Credentials, AuthError> {
        let http = http.into();
        match config.auth_method()? {
            AuthType::Pat => {
                let token = config.token.clone().ok_or_else(|| {
                    AuthError::Config(ConfigError::Invalid("auth type pat needs a token".into()))
                })?;
                // Reject now what could never be sent.
                bearer_header("Bearer", &token, "personal access token")?;
                Ok(Credentials::Pat(PatCredentials { token }))
            }
            AuthType::OauthM2m => Ok(Credentials::OauthM2m(Box::new(M2mCredentials::new(
                config, http,
            )?))),
            AuthType::DatabricksCli => Ok(Credentials::DatabricksCli(Box::new(
                CliCredentials::new(config)?,
            ))),
        }
    }

    /// A PAT credential directly (for tests and embedding).
    pub fn pat(token: SecretString) -> Credentials {
        Credentials::Pat(PatCredentials { token })
    }

    /// `"pat"`, `"oauth-m2m"` or `"databricks-cli"`.
    pub fn auth_type(&self) -> &'static str {
        match self {
            Credentials::Pat(_) => AuthType::Pat.as_str(),
            Credentials::OauthM2m(_) => AuthType::OauthM2m.as_str(),
            Credentials::DatabricksCli(_) => AuthType::DatabricksCli.as_str(),
        }
    }

    /// The value of the `Authorization` header (marked sensitive). Fetches or
    /// refreshes the token when needed; concurrent callers share one refresh.
    pub async fn authorization(&self) -> Result<HeaderValue, AuthError> {
        match self {
            Credentials::Pat(p) => bearer_header("Bearer", &p.token, "personal access token"),
            Credentials::OauthM2m(m) => m.authorization().await,
            Credentials::DatabricksCli(c) => c.authorization().await,
        }
    }

    /// Drops the cached token so that the next [`authorization`](Self::authorization)
    /// fetches a new one (called after a 401). No-op for PAT.
    pub fn invalidate(&self) {
        match self {
            Credentials::Pat(_) => {}
            Credentials::OauthM2m(m) => m.invalidate(),
            Credentials::DatabricksCli(c) => c.invalidate(),
        }
    }

    /// Whether invalidate() + retry can help after a 401 (true for OAuth, false for PAT).
    pub fn is_refreshable(&self) -> bool {
        !matches!(self, Credentials::Pat(_))
    }
}

/// `"<type> <token>"` as a sensitive header value.
pub(crate) fn bearer_header(
    token_type: &str,
    token: &SecretString,
    what: &'static str,
) -> Result<HeaderValue, AuthError> {
    let token_type = if token_type.trim().is_empty() {
        "Bearer"
    } else {
        token_type.trim()
    };
    let mut value =
        HeaderValue::from_str(&format!("{token_type} {}", token.expose_secret().trim()))
            .map_err(|_| AuthError::InvalidHeader { what })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Replaces every occurrence of `secret` in `text` with `***`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "***")
    }
}

/// Cuts `text` to at most `max` characters.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
