//! A cached OAuth token with refresh-ahead (AUTH.md §7) and single-flight refresh.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use secrecy::SecretString;

use super::{AuthError, bearer_header};

/// How long before expiry a token is refreshed: `max(60 s, min(TTL/2, 20 min))`.
pub fn refresh_margin(ttl: Duration) -> Duration {
    (ttl / 2)
        .min(Duration::from_secs(20 * 60))
        .max(Duration::from_secs(60))
}

/// After a failed refresh, a still-valid token is used this long before retrying.
const RETRY_FAILED_REFRESH_AFTER: Duration = Duration::from_secs(60);

/// An access token and when it stops being usable.
pub(crate) struct Token {
    pub access_token: SecretString,
    pub token_type: String,
    /// Monotonic expiry; `None` = no known expiry (used until invalidated).
    pub expiry: Option<Instant>,
    /// Lifetime at the time it was obtained.
    pub ttl: Duration,
}

impl Token {
    /// A token valid for `ttl` from now (`None`: no expiry).
    pub fn new(access_token: SecretString, token_type: String, ttl: Option<Duration>) -> Token {
        let now = Instant::now();
        Token {
            access_token,
            token_type,
            expiry: ttl.map(|t| now + t),
            ttl: ttl.unwrap_or_default(),
        }
    }

    fn needs_refresh(&self, now: Instant) -> bool {
        match self.expiry {
            None => false,
            Some(expiry) => now + refresh_margin(self.ttl) >= expiry,
        }
    }

    fn is_expired(&self, now: Instant) -> bool {
        self.expiry.is_some_and(|e| now >= e)
    }

    fn header(&self, what: &'static str) -> Result<HeaderValue, AuthError> {
        bearer_header(&self.token_type, &self.access_token, what)
    }
}

/// A token slot plus a single-flight refresh lock.
pub(crate) struct TokenCache {
    current: Mutex<Option<Token>>,
    /// When the last refresh failed (a still-valid token is then kept for a while
    /// instead of retrying on every call).
    failed_at: Mutex<Option<Instant>>,
    refresh: tokio::sync::Mutex<()>,
    what: &'static str,
}

impl TokenCache {
    pub fn new(what: &'static str) -> TokenCache {
        TokenCache {
            current: Mutex::new(None),
            failed_at: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            what,
        }
    }

    fn fresh(&self) -> Option<Result<HeaderValue, AuthError>> {
        let now = Instant::now();
        let recently_failed = self
            .failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| now.duration_since(at) < RETRY_FAILED_REFRESH_AFTER);
        let guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| !t.needs_refresh(now) || (recently_failed && !t.is_expired(now)))
            .map(|t| t.header(self.what))
    }

    /// The cached header, or a new token from `fetch` when there is none or it is due
    /// for refresh. Only one `fetch` runs at a time; callers waiting on it then use
    /// its result. When a refresh fails while the old token is still within its
    /// lifetime, the old token is used.
    pub async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<HeaderValue, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, AuthError>>,
    {
        if let Some(header) = self.fresh() {
            return header;
        }
        let _single_flight = self.refresh.lock().await;
        if let Some(header) = self.fresh() {
            return header;
        }
        match fetch().await {
            Ok(token) => {
                let header = token.header(self.what)?;
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
                *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
                Ok(header)
            }
            Err(error) => {
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                let guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
                match guard.as_ref() {
                    Some(old) if !old.is_expired(Instant::now()) => {
                        tracing::warn!(%error, "token refresh failed; using the current token until it expires");
                        old.header(self.what)
                    }
                    _ => Err(error),
                }
            }
        }
    }

    /// Forgets the cached token.
    pub fn invalidate(&self) {
        *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(1200)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(2)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(86400)),
            Duration::from_secs(1200)
        );
    }
}
