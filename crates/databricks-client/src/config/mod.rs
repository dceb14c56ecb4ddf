//! Configuration resolution following Databricks client unified authentication
//! (AUTH.md §1–§3): explicit overrides > environment variables > one profile of the
//! config file (`~/.databrickscfg`), whose values never overwrite values already set.
//!
//! Every resolved attribute remembers where it came from ([`ValueSource`]) so that
//! [`Config::describe`] and error messages can tell the user what was used, with
//! secrets always shown as `***`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

mod describe;
mod env;
mod file;
mod host;

use describe::*;
pub use env::{EnvSource, MapEnv, ProcessEnv};
use file::*;
pub use file::{IniFile, parse_config_file};
pub use host::is_loopback_host;
use host::*;
pub(crate) use host::{check_endpoint_url, is_account_host};

/// Default config file, relative to the home directory.
pub const DEFAULT_CONFIG_FILE: &str = ".databrickscfg";
/// Section of the config file holding settings rather than a profile.
pub const SETTINGS_SECTION: &str = "__settings__";
/// Fallback profile used when none is requested.
pub const DEFAULT_PROFILE: &str = "DEFAULT";
/// Default OAuth scope.
pub const DEFAULT_SCOPE: &str = "all-apis";
/// Default time allowed for one HTTP exchange.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Default overall deadline of a call including its retries.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(300);
/// Auth types this client implements, in the order they are tried.
pub const SUPPORTED_AUTH_TYPES: &str = "pat, oauth-m2m, databricks-cli";

/// Values given explicitly (command-line flags); highest precedence.
#[derive(Debug, Default, Clone)]
pub struct ConfigOverrides {
    pub host: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub auth_type: Option<String>,
    pub warehouse_id: Option<String>,
}

/// The authentication methods this client implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// Personal access token.
    Pat,
    /// OAuth machine-to-machine (service principal client credentials).
    OauthM2m,
    /// OAuth user-to-machine through `databricks auth token`.
    DatabricksCli,
}

impl AuthType {
    /// The `DATABRICKS_AUTH_TYPE` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Pat => "pat",
            AuthType::OauthM2m => "oauth-m2m",
            AuthType::DatabricksCli => "databricks-cli",
        }
    }

    /// Parses a `DATABRICKS_AUTH_TYPE` value.
    pub fn parse(value: &str) -> Result<AuthType, ConfigError> {
        AuthType::parse_from(value, None)
    }

    fn parse_from(value: &str, source: Option<&ValueSource>) -> Result<AuthType, ConfigError> {
        let from = source.map(|s| format!(" (from {s})")).unwrap_or_default();
        match value.trim().to_ascii_lowercase().as_str() {
            "pat" => Ok(AuthType::Pat),
            "oauth-m2m" => Ok(AuthType::OauthM2m),
            "databricks-cli" => Ok(AuthType::DatabricksCli),
            "basic" => Err(ConfigError::BasicAuthUnsupported {
                detail: format!("auth type \"basic\" was requested{from}"),
            }),
            known @ ("external-browser"
            | "metadata-service"
            | "azure-cli"
            | "azure-msi"
            | "azure-client-secret"
            | "github-oidc"
            | "github-oidc-azure"
            | "azure-devops-oidc"
            | "env-oidc"
            | "file-oidc"
            | "google-credentials"
            | "google-id"
            | "runtime"
            | "runtime-oauth"
            | "model-serving") => Err(ConfigError::UnsupportedAuthType {
                value: known.to_string(),
                from,
            }),
            _ => Err(ConfigError::UnknownAuthType {
                value: value.to_string(),
                from,
            }),
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuthType {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<AuthType, ConfigError> {
        AuthType::parse(s)
    }
}

/// Where one configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// Given explicitly by the caller (a command-line flag); the name of the field.
    Override(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A key of a profile of the config file.
    ConfigFile {
        path: PathBuf,
        profile: String,
        key: String,
    },
    /// Extracted from the `?o=` query parameter of the host URL.
    HostUrl,
    /// Found by searching `PATH`.
    PathLookup,
    /// Built-in default.
    Default,
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Override(name) => write!(f, "explicit override `{name}`"),
            ValueSource::Env(var) => write!(f, "environment variable {var}"),
            ValueSource::ConfigFile { path, profile, key } => {
                write!(f, "`{key}` in profile [{profile}] of {}", path.display())
            }
            ValueSource::HostUrl => f.write_str("the ?o= parameter of the host URL"),
            ValueSource::PathLookup => f.write_str("a search of PATH"),
            ValueSource::Default => f.write_str("default"),
        }
    }
}

/// What happened with the config file during resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FileStatus {
    /// No path could be determined (no home directory).
    #[default]
    NoPath,
    /// The file does not exist.
    NotFound(PathBuf),
    /// The file does not exist although a profile was requested.
    RequestedProfileFileMissing { path: PathBuf, profile: String },
    /// The file was not read because the configuration was already given by
    /// environment/overrides and no profile was requested.
    Skipped { path: PathBuf, reason: String },
    /// The file exists but no profile was requested, there is no default profile and
    /// `[DEFAULT]` is absent or empty.
    NoProfile(PathBuf),
    /// A profile was loaded.
    Loaded {
        path: PathBuf,
        profile: String,
        /// How the profile was chosen.
        chosen_by: String,
    },
}

/// The record of where every resolved attribute came from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// Attribute name (config-file key spelling) → source.
    pub attributes: BTreeMap<&'static str, ValueSource>,
    /// The config file and what was done with it.
    pub file: FileStatus,
    /// The config file path that was considered (even if absent/skipped).
    pub file_path: Option<PathBuf>,
}

impl ConfigSources {
    pub fn get(&self, attribute: &str) -> Option<&ValueSource> {
        self.attributes.get(attribute)
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Normalised workspace (or accounts) URL: scheme, host and port only.
    pub host: url::Url,
    /// The auth type pinned by `auth_type`/`DATABRICKS_AUTH_TYPE`; `None` means the
    /// default order (pat → oauth-m2m → databricks-cli), see [`Config::auth_method`].
    pub auth_type: Option<AuthType>,
    pub token: Option<SecretString>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// OAuth scopes; default `["all-apis"]`.
    pub scopes: Vec<String>,
    pub discovery_url: Option<String>,
    pub account_id: Option<String>,
    pub workspace_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// The `databricks` CLI: from `DATABRICKS_CLI_PATH`/`databricks_cli_path`, or
    /// found on `PATH`.
    pub databricks_cli_path: Option<PathBuf>,
    /// The profile name when a profile of the config file was used (incl. `DEFAULT`).
    pub profile: Option<String>,
    /// The config file when a profile of it was used.
    pub config_file: Option<PathBuf>,
    pub rate_limit: Option<f64>,
    pub http_timeout: Duration,
    pub retry_timeout: Duration,
    /// Where each value came from.
    pub sources: ConfigSources,
}

/// Configuration failures. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no Databricks configuration found. Looked at {looked_at}. Set DATABRICKS_HOST and DATABRICKS_TOKEN (a personal access token), or DATABRICKS_HOST with DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal), or run `databricks auth login --host <workspace-url>` and pass the profile with DATABRICKS_CONFIG_PROFILE"
    )]
    NotConfigured { looked_at: String },
    #[error(
        "no Databricks host configured ({detail}). Set DATABRICKS_HOST to the workspace URL (e.g. https://dbc-1234abcd-5678.cloud.databricks.com) or add `host = ...` to the profile"
    )]
    MissingHost { detail: String },
    #[error("invalid Databricks host {value:?} (from {source_desc}): {reason}")]
    InvalidHost {
        value: String,
        source_desc: String,
        reason: String,
    },
    #[error(
        "refusing insecure host {host} (from {source_desc}): http:// is accepted only for loopback addresses (127.0.0.1, ::1, localhost); use https://"
    )]
    InsecureHost { host: String, source_desc: String },
    #[error(
        "unknown auth type {value:?}{from}; supported values: {}",
        SUPPORTED_AUTH_TYPES
    )]
    UnknownAuthType { value: String, from: String },
    #[error(
        "auth type {value:?}{from} is not supported by this client; supported values: {}",
        SUPPORTED_AUTH_TYPES
    )]
    UnsupportedAuthType { value: String, from: String },
    #[error(
        "basic (username/password) authentication is not supported: {detail}. Use a personal access token (DATABRICKS_TOKEN), OAuth M2M (DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET) or `databricks auth login`"
    )]
    BasicAuthUnsupported { detail: String },
    #[error(
        "validate: more than one authorization method configured: {methods} ({details}). Set DATABRICKS_AUTH_TYPE (or `auth_type` in the profile) to one of {}, or remove the settings of the other methods",
        SUPPORTED_AUTH_TYPES
    )]
    ConflictingAuth { methods: String, details: String },
    #[error("{} has no {profile} profile configured{hint}", file.display())]
    ProfileNotFound {
        file: PathBuf,
        profile: String,
        hint: String,
    },
    #[error("[{}] in {} is reserved for settings and cannot be used as a profile", SETTINGS_SECTION, file.display())]
    ReservedProfile { file: PathBuf },
    #[error("cannot read config file {}: {source}", file.display())]
    ReadConfigFile {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file {} line {line}: {reason}", file.display())]
    ParseConfigFile {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("invalid value for {key} (from {source_desc}): {reason}")]
    InvalidValue {
        key: &'static str,
        source_desc: String,
        reason: String,
    },
    #[error("auth type {auth_type} is configured ({source_desc}) but {missing}")]
    MissingCredentials {
        auth_type: AuthType,
        source_desc: String,
        missing: String,
    },
    #[error("no credentials configured for {host}. Looked at {looked_at}. {advice}")]
    NoCredentials {
        host: String,
        looked_at: String,
        advice: String,
    },
    #[error(
        "incomplete OAuth M2M configuration: {present} is set but {missing} is not. Set both DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (or client_id/client_secret in the profile)"
    )]
    IncompleteOauth { present: String, missing: String },
    #[error("{0}")]
    Invalid(String),
}

// ---------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------

/// Attributes read from env/file; key = config-file key.
struct Attr {
    key: &'static str,
    env: Option<&'static str>,
    /// Auth group for the conflict check.
    group: Option<&'static str>,
}

const ATTRS: &[Attr] = &[
    Attr {
        key: "host",
        env: Some("DATABRICKS_HOST"),
        group: None,
    },
    Attr {
        key: "token",
        env: Some("DATABRICKS_TOKEN"),
        group: Some("pat"),
    },
    Attr {
        key: "username",
        env: Some("DATABRICKS_USERNAME"),
        group: Some("basic"),
    },
    Attr {
        key: "password",
        env: Some("DATABRICKS_PASSWORD"),
        group: Some("basic"),
    },
    Attr {
        key: "client_id",
        env: Some("DATABRICKS_CLIENT_ID"),
        group: Some("oauth"),
    },
    Attr {
        key: "client_secret",
        env: Some("DATABRICKS_CLIENT_SECRET"),
        group: Some("oauth"),
    },
    Attr {
        key: "auth_type",
        env: Some("DATABRICKS_AUTH_TYPE"),
        group: None,
    },
    Attr {
        key: "account_id",
        env: Some("DATABRICKS_ACCOUNT_ID"),
        group: None,
    },
    Attr {
        key: "workspace_id",
        env: Some("DATABRICKS_WORKSPACE_ID"),
        group: None,
    },
    Attr {
        key: "warehouse_id",
        env: Some("DATABRICKS_WAREHOUSE_ID"),
        group: None,
    },
    Attr {
        key: "databricks_cli_path",
        env: Some("DATABRICKS_CLI_PATH"),
        group: None,
    },
    Attr {
        key: "discovery_url",
        env: Some("DATABRICKS_DISCOVERY_URL"),
        group: None,
    },
    Attr {
        key: "rate_limit",
        env: Some("DATABRICKS_RATE_LIMIT"),
        group: None,
    },
    Attr {
        key: "scopes",
        env: None,
        group: None,
    },
    Attr {
        key: "http_timeout_seconds",
        env: None,
        group: None,
    },
    Attr {
        key: "retry_timeout_seconds",
        env: None,
        group: None,
    },
];

/// Raw string values with their sources, before typing.
#[derive(Default)]
struct Raw {
    values: BTreeMap<&'static str, (String, ValueSource)>,
}

impl Raw {
    fn set_if_absent(&mut self, key: &'static str, value: String, source: ValueSource) {
        // Surrounding whitespace is never meaningful (a pasted token with a newline).
        let value = value.trim().to_string();
        if value.is_empty() {
            return;
        }
        self.values.entry(key).or_insert((value, source));
    }
    fn source(&self, key: &str) -> Option<&ValueSource> {
        self.values.get(key).map(|(_, s)| s)
    }
    fn take(&mut self, key: &str) -> Option<(String, ValueSource)> {
        self.values.remove(key)
    }
    fn any_auth(&self) -> Option<&'static str> {
        ATTRS
            .iter()
            .filter(|a| a.group.is_some())
            .find(|a| self.values.contains_key(a.key))
            .map(|a| a.key)
    }
}

impl Raw {
    /// Step 1: values given on the command line or by the embedding program.
    fn apply_overrides(&mut self, overrides: &ConfigOverrides) {
        if let Some(host) = &overrides.host {
            self.set_if_absent("host", host.clone(), ValueSource::Override("host"));
        }
        if let Some(auth_type) = &overrides.auth_type {
            self.set_if_absent(
                "auth_type",
                auth_type.clone(),
                ValueSource::Override("auth_type"),
            );
        }
        if let Some(warehouse) = &overrides.warehouse_id {
            self.set_if_absent(
                "warehouse_id",
                warehouse.clone(),
                ValueSource::Override("warehouse_id"),
            );
        }
    }

    /// Step 2: `DATABRICKS_*` environment variables.
    fn apply_env(&mut self, env: &dyn EnvSource) {
        for attr in ATTRS {
            if let Some(var) = attr.env
                && let Some(value) = env.var(var)
            {
                self.set_if_absent(attr.key, value, ValueSource::Env(var));
            }
        }
    }
}

/// Step 3: the profile of the config file, when one applies; records what happened in
/// `sources`. Returns the profile and file used.
fn load_profile(
    raw: &mut Raw,
    sources: &mut ConfigSources,
    overrides: &ConfigOverrides,
    env: &dyn EnvSource,
) -> Result<(Option<String>, Option<PathBuf>), ConfigError> {
    let (requested_profile, profile_source) = match &overrides.profile {
        Some(p) if !p.trim().is_empty() => (
            Some(p.trim().to_string()),
            Some(ValueSource::Override("profile")),
        ),
        _ => match env.var("DATABRICKS_CONFIG_PROFILE") {
            Some(p) if !p.trim().is_empty() => (
                Some(p.trim().to_string()),
                Some(ValueSource::Env("DATABRICKS_CONFIG_PROFILE")),
            ),
            _ => (None, None),
        },
    };
    let file_path = config_file_path(overrides, env);
    sources.file_path = file_path.clone();
    let file_source = if overrides.config_file.is_some() {
        Some(ValueSource::Override("config_file"))
    } else if env.var("DATABRICKS_CONFIG_FILE").is_some() {
        Some(ValueSource::Env("DATABRICKS_CONFIG_FILE"))
    } else {
        None
    };

    let mut profile_used = None;
    let mut file_used = None;
    sources.file = match &file_path {
        None => FileStatus::NoPath,
        Some(path) => {
            let already = if raw.values.contains_key("host") {
                Some("host")
            } else {
                raw.any_auth()
            };
            match (requested_profile.as_ref(), already) {
                (None, Some(key)) => {
                    let reason = format!(
                        "no profile requested and `{key}` is already set by {}",
                        raw.source(key).map(ToString::to_string).unwrap_or_default()
                    );
                    FileStatus::Skipped {
                        path: path.clone(),
                        reason,
                    }
                }
                _ => match load_file(path)? {
                    None => {
                        // Like the SDKs, a missing file is not an error even
                        // when a profile is requested (env may configure all);
                        // the request is reported if resolution then fails.
                        match &requested_profile {
                            Some(profile) => FileStatus::RequestedProfileFileMissing {
                                path: path.clone(),
                                profile: profile.clone(),
                            },
                            None => FileStatus::NotFound(path.clone()),
                        }
                    }
                    Some(ini) => {
                        match choose_profile(
                            &ini,
                            path,
                            requested_profile.as_deref(),
                            profile_source.as_ref(),
                        )? {
                            None => FileStatus::NoProfile(path.clone()),
                            Some((name, chosen_by)) => {
                                if let Some(section) = ini.section(&name) {
                                    for attr in ATTRS {
                                        if let Some(value) = section.get(attr.key) {
                                            raw.set_if_absent(
                                                attr.key,
                                                value.clone(),
                                                ValueSource::ConfigFile {
                                                    path: path.clone(),
                                                    profile: name.clone(),
                                                    key: attr.key.to_string(),
                                                },
                                            );
                                        }
                                    }
                                }
                                profile_used = Some(name.clone());
                                file_used = Some(path.clone());
                                FileStatus::Loaded {
                                    path: path.clone(),
                                    profile: name,
                                    chosen_by,
                                }
                            }
                        }
                    }
                },
            }
        }
    };
    if let Some(source) = file_source {
        sources.attributes.insert("config_file", source);
    }
    if let (Some(_), Some(source)) = (&profile_used, profile_source.clone()) {
        sources.attributes.insert("profile", source);
    }

    Ok((profile_used, file_used))
}

/// Step 5: the pinned auth type, or else a check that at most one method is configured
/// (and no basic credentials, which are never used).
fn auth_type(raw: &mut Raw, sources: &mut ConfigSources) -> Result<Option<AuthType>, ConfigError> {
    let auth_type = match raw.take("auth_type") {
        Some((value, source)) => {
            let parsed = AuthType::parse_from(&value, Some(&source))?;
            sources.attributes.insert("auth_type", source);
            Some(parsed)
        }
        None => None,
    };
    if auth_type.is_none() {
        let mut groups: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for attr in ATTRS {
            if let (Some(group), Some(source)) = (attr.group, raw.source(attr.key)) {
                groups
                    .entry(group)
                    .or_default()
                    .push(format!("{} from {source}", attr.key));
            }
        }
        if groups.len() > 1 {
            let methods: Vec<&str> = groups.keys().copied().collect();
            let details: Vec<String> = groups
                .iter()
                .map(|(g, attrs)| format!("{g}: {}", attrs.join(", ")))
                .collect();
            return Err(ConfigError::ConflictingAuth {
                methods: methods.join(" and "),
                details: details.join("; "),
            });
        }
        if let Some(source) = raw.source("username").or_else(|| raw.source("password")) {
            return Err(ConfigError::BasicAuthUnsupported {
                detail: format!("username/password set by {source}"),
            });
        }
    }
    // Basic credentials are never used; drop them.
    raw.take("username");
    raw.take("password");

    Ok(auth_type)
}

/// Step 6: the normalised host and the workspace id its URL carries.
fn host(
    raw: &mut Raw,
    sources: &mut ConfigSources,
) -> Result<(url::Url, Option<String>), ConfigError> {
    let Some((host_raw, host_source)) = raw.take("host") else {
        let set: Vec<String> = raw
            .values
            .iter()
            .filter(|(k, _)| ATTRS.iter().any(|a| a.key == **k && a.group.is_some()))
            .map(|(k, (_, s))| format!("{k} is set by {s}"))
            .collect();
        return Err(ConfigError::MissingHost {
            detail: format!("{}; {}", set.join(", "), file_summary(sources)),
        });
    };
    let (host, host_workspace_id) = normalize_host(&host_raw).map_err(|reason| match reason {
        HostError::Insecure(host) => ConfigError::InsecureHost {
            host,
            source_desc: host_source.to_string(),
        },
        HostError::Invalid(reason) => ConfigError::InvalidHost {
            value: redact_userinfo(&host_raw),
            source_desc: host_source.to_string(),
            reason,
        },
    })?;
    sources.attributes.insert("host", host_source);

    Ok((host, host_workspace_id))
}

fn rate_limit(raw: &mut Raw, sources: &mut ConfigSources) -> Result<Option<f64>, ConfigError> {
    Ok(match raw.take("rate_limit") {
        Some((v, s)) => {
            let parsed: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| ConfigError::InvalidValue {
                    key: "rate_limit",
                    source_desc: s.to_string(),
                    reason: format!("{v:?} is not a non-negative number of requests per second"),
                })?;
            sources.attributes.insert("rate_limit", s);
            Some(parsed)
        }
        None => None,
    })
}

/// A positive number of seconds for `key`, else `default`.
fn seconds(
    raw: &mut Raw,
    key: &'static str,
    default: Duration,
    sources: &mut ConfigSources,
) -> Result<Duration, ConfigError> {
    match raw.take(key) {
        Some((v, s)) => {
            let secs: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x > 0.0 && *x < 1e9)
                .ok_or_else(|| ConfigError::InvalidValue {
                    key,
                    source_desc: s.to_string(),
                    reason: format!("{v:?} is not a positive number of seconds"),
                })?;
            sources.attributes.insert(key, s);
            Ok(Duration::from_secs_f64(secs))
        }
        None => Ok(default),
    }
}

/// OAuth scopes, split on commas and spaces, deduplicated; `all-apis` when none.
fn scopes(raw: &mut Raw, sources: &mut ConfigSources) -> Vec<String> {
    match raw.take("scopes") {
        Some((v, s)) => {
            let mut scopes: Vec<String> = Vec::new();
            for scope in v
                .split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if !scopes.iter().any(|x| x == scope) {
                    scopes.push(scope.to_string());
                }
            }
            sources.attributes.insert("scopes", s);
            if scopes.is_empty() {
                vec![DEFAULT_SCOPE.to_string()]
            } else {
                scopes
            }
        }
        None => vec![DEFAULT_SCOPE.to_string()],
    }
}

impl Config {
    /// Resolves the configuration: `overrides` > environment > config-file profile.
    ///
    /// Fails when nothing is configured, the host is missing or invalid, a requested
    /// profile does not exist, more than one authentication method is configured
    /// without `auth_type`, or the auth type is unknown/unsupported.
    pub fn resolve(
        overrides: &ConfigOverrides,
        env: &dyn EnvSource,
    ) -> Result<Config, ConfigError> {
        let mut raw = Raw::default();
        let mut sources = ConfigSources::default();
        // 1, 2: overrides, then the environment (the first value set wins).
        raw.apply_overrides(overrides);
        raw.apply_env(env);
        // 3: the config file's profile.
        let (profile_used, file_used) = load_profile(&mut raw, &mut sources, overrides, env)?;
        // 4. Nothing at all?
        if !raw.values.contains_key("host") && raw.any_auth().is_none() {
            return Err(ConfigError::NotConfigured {
                looked_at: looked_at(&sources, env),
            });
        }
        // 5, 6: the auth type (or one method), then the host.
        let auth_type = auth_type(&mut raw, &mut sources)?;
        let (host, host_workspace_id) = host(&mut raw, &mut sources)?;
        // 7. Typed values.
        let mut take_string = |key: &'static str, sources: &mut ConfigSources| {
            raw.take(key).map(|(v, s)| {
                sources.attributes.insert(key, s);
                v
            })
        };
        let token = take_string("token", &mut sources).map(SecretString::from);
        let client_id = take_string("client_id", &mut sources);
        let client_secret = take_string("client_secret", &mut sources).map(SecretString::from);
        let account_id = take_string("account_id", &mut sources);
        let mut workspace_id = take_string("workspace_id", &mut sources);
        if workspace_id.is_none()
            && let Some(id) = host_workspace_id
        {
            workspace_id = Some(id);
            sources
                .attributes
                .insert("workspace_id", ValueSource::HostUrl);
        }
        let warehouse_id = take_string("warehouse_id", &mut sources);
        let discovery_url = take_string("discovery_url", &mut sources);
        if let Some(url) = &discovery_url {
            let source = sources
                .attributes
                .get("discovery_url")
                .cloned()
                .unwrap_or(ValueSource::Default);
            check_endpoint_url(url).map_err(|reason| ConfigError::InvalidValue {
                key: "discovery_url",
                source_desc: source.to_string(),
                reason,
            })?;
        }

        let mut databricks_cli_path = take_string("databricks_cli_path", &mut sources)
            .map(|p| expand_tilde(Path::new(&p), env));
        if databricks_cli_path.is_none()
            && let Some(found) = find_on_path(env)
        {
            databricks_cli_path = Some(found);
            sources
                .attributes
                .insert("databricks_cli_path", ValueSource::PathLookup);
        }

        let rate_limit = rate_limit(&mut raw, &mut sources)?;
        let http_timeout = seconds(
            &mut raw,
            "http_timeout_seconds",
            DEFAULT_HTTP_TIMEOUT,
            &mut sources,
        )?;
        let retry_timeout = seconds(
            &mut raw,
            "retry_timeout_seconds",
            DEFAULT_RETRY_TIMEOUT,
            &mut sources,
        )?;
        let scopes = scopes(&mut raw, &mut sources);

        let config = Config {
            host,
            auth_type,
            token,
            client_id,
            client_secret,
            scopes,
            discovery_url,
            account_id,
            workspace_id,
            warehouse_id,
            databricks_cli_path,
            profile: profile_used,
            config_file: file_used,
            rate_limit,
            http_timeout,
            retry_timeout,
            sources,
        };
        // The CLI's presence is checked when credentials are built (auth_method), so
        // that a profile pinned to databricks-cli still resolves for `describe`.
        if let Some(pinned @ (AuthType::Pat | AuthType::OauthM2m)) = config.auth_type {
            config.check_pinned(pinned)?;
        }
        Ok(config)
    }

    /// True when any Databricks configuration is present: one of DATABRICKS_HOST,
    /// DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID, DATABRICKS_CONFIG_PROFILE,
    /// DATABRICKS_CONFIG_FILE in the environment, or an existing config file.
    pub fn is_configured(env: &dyn EnvSource) -> bool {
        const VARS: &[&str] = &[
            "DATABRICKS_HOST",
            "DATABRICKS_TOKEN",
            "DATABRICKS_CLIENT_ID",
            "DATABRICKS_CONFIG_PROFILE",
            "DATABRICKS_CONFIG_FILE",
        ];
        if VARS.iter().any(|v| env.var(v).is_some()) {
            return true;
        }
        config_file_path(&ConfigOverrides::default(), env).is_some_and(|p| p.is_file())
    }

    /// True for account-console hosts (`https://accounts.*`).
    pub fn is_account_host(&self) -> bool {
        is_account_host(&self.host)
    }

    /// The authentication method to use: the pinned `auth_type`, else the first of
    /// pat → oauth-m2m → databricks-cli whose settings are present.
    pub fn auth_method(&self) -> Result<AuthType, ConfigError> {
        if let Some(pinned) = self.auth_type {
            self.check_pinned(pinned)?;
            return Ok(pinned);
        }
        if self.token.is_some() {
            return Ok(AuthType::Pat);
        }
        match (&self.client_id, &self.client_secret) {
            (Some(_), Some(_)) => return Ok(AuthType::OauthM2m),
            (Some(_), None) => {
                return Err(ConfigError::IncompleteOauth {
                    present: self.described_key("client_id"),
                    missing: "client_secret".into(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::IncompleteOauth {
                    present: self.described_key("client_secret"),
                    missing: "client_id".into(),
                });
            }
            (None, None) => {}
        }
        if let Some(path) = &self.databricks_cli_path
            && path.is_file()
        {
            return Ok(AuthType::DatabricksCli);
        }
        let cli = match &self.databricks_cli_path {
            Some(path) => format!(
                "the Databricks CLI at {} (from {}: not found)",
                path.display(),
                self.source_text("databricks_cli_path")
            ),
            None => {
                "the Databricks CLI (`databricks` not found on PATH; DATABRICKS_CLI_PATH unset)"
                    .into()
            }
        };
        Err(ConfigError::NoCredentials {
            host: self.host_text(),
            looked_at: format!(
                "DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, {}, and {cli}",
                file_summary(&self.sources)
            ),
            advice: format!(
                "Set DATABRICKS_TOKEN (a personal access token), or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal), or install the Databricks CLI and run `databricks auth login --host {}`",
                self.host_text()
            ),
        })
    }

    fn check_pinned(&self, pinned: AuthType) -> Result<(), ConfigError> {
        let source_desc = format!("from {}", self.source_text("auth_type"));
        let missing = match pinned {
            AuthType::Pat if self.token.is_none() => {
                Some("no token is set: set DATABRICKS_TOKEN or `token` in the profile".to_string())
            }
            AuthType::OauthM2m if self.client_id.is_none() || self.client_secret.is_none() => {
                let which = match (&self.client_id, &self.client_secret) {
                    (None, None) => "client_id and client_secret are",
                    (None, _) => "client_id is",
                    _ => "client_secret is",
                };
                Some(format!(
                    "{which} not set: set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET or `client_id`/`client_secret` in the profile"
                ))
            }
            AuthType::DatabricksCli => match &self.databricks_cli_path {
                None => Some(
                    "the `databricks` CLI was not found on PATH: install it (https://docs.databricks.com/dev-tools/cli/install.html) or set DATABRICKS_CLI_PATH"
                        .to_string(),
                ),
                Some(path) if !path.is_file() => Some(format!(
                    "the Databricks CLI {} (from {}) does not exist",
                    path.display(),
                    self.source_text("databricks_cli_path")
                )),
                Some(_) => None,
            },
            _ => None,
        };
        match missing {
            Some(missing) => Err(ConfigError::MissingCredentials {
                auth_type: pinned,
                source_desc,
                missing,
            }),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------
// CLI lookup
// ---------------------------------------------------------------------------------

fn cli_file_name() -> &'static str {
    if cfg!(windows) {
        "databricks.exe"
    } else {
        "databricks"
    }
}

/// Searches the `PATH` of `env` for the `databricks` executable.
fn find_on_path(env: &dyn EnvSource) -> Option<PathBuf> {
    let path = env.var("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(cli_file_name()))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_profile_is_suggested() {
        let names = ["DEFAULT", "dev", "prod", "staging"];
        assert_eq!(closest_name("Dev", names.into_iter()), Some("dev"));
        assert_eq!(closest_name("prdo", names.into_iter()), Some("prod"));
        assert_eq!(closest_name("stagin", names.into_iter()), Some("staging"));
        assert_eq!(closest_name("analytics", names.into_iter()), None);
        // Two equally near: no guess.
        assert_eq!(closest_name("de", ["dev", "deb"].into_iter()), None);
    }

    #[test]
    fn inline_comments_need_whitespace() {
        assert_eq!(parse_value("ab#c"), "ab#c");
        assert_eq!(parse_value("ab #c"), "ab");
        assert_eq!(parse_value("ab\t;c"), "ab");
        assert_eq!(parse_value("ab;c"), "ab;c");
        assert_eq!(parse_value("\"a #b\""), "a #b");
        assert_eq!(parse_value("  "), "");
    }

    #[test]
    fn host_normalisation() {
        let cases = [
            (
                "dbc.cloud.databricks.com",
                "https://dbc.cloud.databricks.com/",
                None,
            ),
            (
                "https://dbc.cloud.databricks.com/",
                "https://dbc.cloud.databricks.com/",
                None,
            ),
            (
                "https://dbc.cloud.databricks.com:443/x/y?z=1",
                "https://dbc.cloud.databricks.com/",
                None,
            ),
            (
                "https://adb-1.2.azuredatabricks.net/?o=1234#job/1",
                "https://adb-1.2.azuredatabricks.net/",
                Some("1234"),
            ),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/", None),
            ("http://[::1]:9/", "http://[::1]:9/", None),
            ("http://localhost:1", "http://localhost:1/", None),
            ("https://h:8443", "https://h:8443/", None),
        ];
        for (input, want, ws) in cases {
            let Ok((url, id)) = normalize_host(input) else {
                panic!("{input} rejected");
            };
            assert_eq!(url.as_str(), want, "{input}");
            assert_eq!(id.as_deref(), ws, "{input}");
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1:80",
            "ftp://x",
            "https://u:p@h",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(normalize_host(bad).is_err(), "{bad} accepted");
        }
    }
}
