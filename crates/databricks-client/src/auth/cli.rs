//! OAuth U2M through the Databricks CLI (AUTH.md §6.3): `databricks auth token`
//! prints a JSON access token that the CLI keeps refreshed from its own token store
//! (keyring or `~/.databricks/token-cache.json`).

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::HeaderValue;
use secrecy::SecretString;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::cache::{Token, TokenCache};
use super::{AuthError, truncate};
use crate::config::{AuthType, Config, ConfigError, is_account_host};

/// Time allowed for one `databricks auth token` run.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// Lifetime assumed for a token whose expiry is missing or has no UTC offset. The
/// CLI hands out tokens with at least 5 minutes left, so this is safe; the CLI is
/// simply asked again sooner.
const ASSUMED_TTL: Duration = Duration::from_secs(5 * 60);
/// Bound on the stderr text carried by an error.
const MAX_STDERR_CHARS: usize = 1000;

/// Tokens obtained by running the Databricks CLI.
pub struct CliCredentials {
    path: PathBuf,
    args: Vec<String>,
    config_file: Option<PathBuf>,
    login: String,
    cache: TokenCache,
}

impl fmt::Debug for CliCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliCredentials")
            .field("path", &self.path)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct CliToken {
    access_token: Option<String>,
    token_type: Option<String>,
    expiry: Option<String>,
}

/// Parses the `expiry` printed by `databricks auth token`: RFC 3339 with or without
/// fractional seconds, or `YYYY-MM-DD HH:MM:SS[.fff]` (no offset: returns `Ok(None)`,
/// the offset being the unknown local one). Go's zero time also gives `Ok(None)`.
pub fn parse_cli_expiry(text: &str) -> Result<Option<OffsetDateTime>, String> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((t.year() > 1).then_some(t));
    }
    let naive = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let naive_t = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if time::PrimitiveDateTime::parse(text, naive).is_ok()
        || time::PrimitiveDateTime::parse(text, naive_t).is_ok()
    {
        return Ok(None);
    }
    Err(format!("cannot parse expiry {text:?}"))
}

impl CliCredentials {
    pub(crate) fn new(config: &Config) -> Result<CliCredentials, AuthError> {
        let path = config.databricks_cli_path.clone().ok_or_else(|| {
            AuthError::Config(ConfigError::MissingCredentials {
                auth_type: AuthType::DatabricksCli,
                source_desc: "selected".into(),
                missing: "the `databricks` CLI was not found on PATH: install it or set DATABRICKS_CLI_PATH".into(),
            })
        })?;
        let host = config.host.as_str().trim_end_matches('/').to_string();
        let mut args: Vec<String> = vec!["auth".into(), "token".into()];
        match &config.profile {
            Some(profile) => {
                args.push("--profile".into());
                args.push(profile.clone());
            }
            None => {
                args.push("--host".into());
                args.push(host.clone());
                if is_account_host(&config.host)
                    && let Some(account) = &config.account_id
                {
                    args.push("--account-id".into());
                    args.push(account.clone());
                }
            }
        }
        let login = match &config.profile {
            Some(profile) => format!("databricks auth login --host {host} --profile {profile}"),
            None => format!("databricks auth login --host {host}"),
        };
        Ok(CliCredentials {
            path,
            args,
            config_file: config.config_file.clone(),
            login,
            cache: TokenCache::new("access token from the Databricks CLI"),
        })
    }

    pub(crate) async fn authorization(&self) -> Result<HeaderValue, AuthError> {
        self.cache.get_or_fetch(|| self.run()).await
    }

    pub(crate) fn invalidate(&self) {
        self.cache.invalidate();
    }

    fn command_text(&self) -> String {
        format!("databricks {}", self.args.join(" "))
    }

    async fn run(&self) -> Result<Token, AuthError> {
        let mut command = tokio::process::Command::new(&self.path);
        command
            .args(&self.args)
            // Never share the server's stdio (stdout carries JSON-RPC in stdio mode).
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(file) = &self.config_file {
            command.env("DATABRICKS_CONFIG_FILE", file);
        }
        // ETXTBSY ("text file busy"): the executable is still open for writing
        // somewhere (being installed, or inherited across another thread's fork for
        // an instant). Retry briefly.
        const ETXTBSY: i32 = 26;
        let mut attempt = 0;
        let child = loop {
            match command.spawn() {
                Ok(child) => break child,
                Err(e)
                    if cfg!(target_os = "linux")
                        && e.raw_os_error() == Some(ETXTBSY)
                        && attempt < 5 =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => {
                    return Err(AuthError::CliSpawn {
                        path: self.path.clone(),
                        detail: e.to_string(),
                    });
                }
            }
        };
        // On timeout the future, and with it the child, is dropped: kill_on_drop
        // terminates the process.
        let output = match tokio::time::timeout(CLI_TIMEOUT, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(AuthError::CliSpawn {
                    path: self.path.clone(),
                    detail: e.to_string(),
                });
            }
            Err(_) => {
                return Err(AuthError::CliTimeout {
                    command: self.command_text(),
                    seconds: CLI_TIMEOUT.as_secs(),
                    login: self.login.clone(),
                });
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            let stderr = if stderr.is_empty() {
                "no error message".to_string()
            } else {
                truncate(&stderr, MAX_STDERR_CHARS)
            };
            let hint = if stderr.contains("No such command") || stderr.contains("no such command") {
                format!(
                    " (is {} the legacy Python databricks-cli? Install the current Databricks CLI)",
                    self.path.display()
                )
            } else {
                String::new()
            };
            let status = match output.status.code() {
                Some(code) => format!(" (exit code {code})"),
                None => " (killed by a signal)".to_string(),
            };
            return Err(AuthError::CliFailed {
                command: self.command_text(),
                status,
                stderr: stderr.trim_end_matches('.').to_string(),
                login: self.login.clone(),
                hint,
            });
        }
        // The output holds the token: never include it in errors.
        let parsed: CliToken =
            serde_json::from_slice(&output.stdout).map_err(|e| AuthError::CliOutput {
                command: self.command_text(),
                detail: format!(
                    "not the expected JSON ({} at line {} column {})",
                    json_category(&e),
                    e.line(),
                    e.column()
                ),
            })?;
        let access_token = parsed
            .access_token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| AuthError::CliOutput {
                command: self.command_text(),
                detail: "no access_token".into(),
            })?;
        let ttl = match parsed.expiry.as_deref().filter(|e| !e.trim().is_empty()) {
            None => ASSUMED_TTL,
            Some(text) => match parse_cli_expiry(text).map_err(|detail| AuthError::CliOutput {
                command: self.command_text(),
                detail,
            })? {
                None => ASSUMED_TTL,
                Some(expiry) => {
                    let remaining = expiry - OffsetDateTime::now_utc();
                    // An expiry in the past gives a zero lifetime: the token is used
                    // once and the CLI asked again next time.
                    Duration::try_from(remaining).unwrap_or_default()
                }
            },
        };
        tracing::debug!(command = %self.command_text(), ?ttl, "obtained an access token from the Databricks CLI");
        Ok(Token::new(
            SecretString::from(access_token),
            parsed.token_type.unwrap_or_else(|| "Bearer".into()),
            Some(ttl),
        ))
    }
}

fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_formats() {
        let cases = [
            "2024-03-01T13:04:05.123456789+01:00",
            "2024-03-01T13:04:05+01:00",
            "2024-03-01T12:04:05Z",
            "2024-03-01T12:04:05.5Z",
        ];
        for c in cases {
            assert!(matches!(parse_cli_expiry(c), Ok(Some(_))), "{c}");
        }
        for c in [
            "2024-03-01 13:04:05",
            "2024-03-01 13:04:05.123",
            "0001-01-01T00:00:00Z",
        ] {
            assert!(matches!(parse_cli_expiry(c), Ok(None)), "{c}");
        }
        assert!(parse_cli_expiry("tomorrow").is_err());
    }
}
