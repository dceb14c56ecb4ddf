//! The connection pool and the HTTP layer's tunables: below `http` (the calls) and `auth`
//! (the token requests), which both use the pool, so neither depends on the other for it.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;

/// Tunables of the HTTP layer; [`ClientOptions::from_config`] takes them from the
/// resolved configuration.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Product name and version put first in the User-Agent.
    pub product: String,
    /// Requests per second; `None` means [`DEFAULT_RATE_LIMIT`], `Some(0.0)` disables.
    pub rate_limit: Option<f64>,
    /// Time allowed for one HTTP exchange.
    pub http_timeout: Duration,
    /// Overall deadline for a call including its retries.
    pub retry_timeout: Duration,
    /// How many times a connection failure or GET timeout is retried.
    pub max_network_retries: u32,
    /// Base of the exponential backoff used when the server gives no `Retry-After`.
    pub backoff_base: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            product: format!("databricks-client-rust/{}", env!("CARGO_PKG_VERSION")),
            rate_limit: None,
            http_timeout: Duration::from_secs(60),
            retry_timeout: Duration::from_secs(300),
            max_network_retries: 2,
            backoff_base: Duration::from_millis(250),
        }
    }
}

impl ClientOptions {
    pub fn from_config(config: &Config) -> ClientOptions {
        ClientOptions {
            rate_limit: config.rate_limit,
            http_timeout: config.http_timeout,
            retry_timeout: config.retry_timeout,
            ..ClientOptions::default()
        }
    }
}

/// The connection pool, built on first use: building it loads and parses the system's
/// root certificates, which would otherwise dominate start-up time and memory for a
/// server that may answer `initialize` and `tools/list` without ever calling Databricks.
#[derive(Clone)]
pub struct LazyHttp {
    cell: Arc<std::sync::OnceLock<Result<reqwest::Client, String>>>,
    options: Arc<ClientOptions>,
}

impl LazyHttp {
    pub fn new(options: &ClientOptions) -> LazyHttp {
        LazyHttp {
            cell: Arc::new(std::sync::OnceLock::new()),
            options: Arc::new(options.clone()),
        }
    }

    /// The pool, or why it cannot be built (the caller says it in its own error type).
    pub fn get(&self) -> Result<&reqwest::Client, String> {
        self.cell
            .get_or_init(|| build_http_client(&self.options))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl From<reqwest::Client> for LazyHttp {
    fn from(client: reqwest::Client) -> LazyHttp {
        LazyHttp {
            cell: Arc::new(std::sync::OnceLock::from(Ok(client))),
            options: Arc::new(ClientOptions::default()),
        }
    }
}

fn build_http_client(options: &ClientOptions) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(format!(
            "{} databricks-client-rust/{}",
            options.product,
            env!("CARGO_PKG_VERSION")
        ))
        .connect_timeout(Duration::from_secs(10).min(options.http_timeout))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}
