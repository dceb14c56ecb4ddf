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

/// Where environment variables and the home directory come from. Tests use
/// [`MapEnv`]; the server uses [`ProcessEnv`].
pub trait EnvSource: Send + Sync {
    /// The value of `key`; empty values count as unset.
    fn var(&self, key: &str) -> Option<String>;
    fn home_dir(&self) -> Option<PathBuf>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
}

/// An environment held in a map (for tests and embedding).
#[derive(Default, Clone)]
pub struct MapEnv {
    pub vars: HashMap<String, String>,
    pub home: Option<PathBuf>,
}

impl MapEnv {
    pub fn new() -> MapEnv {
        MapEnv::default()
    }

    /// Builder-style setter.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> MapEnv {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// Builder-style home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> MapEnv {
        self.home = Some(home.into());
        self
    }
}

impl fmt::Debug for MapEnv {
    // Values may be secrets: only the keys are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.vars.keys().collect();
        keys.sort();
        f.debug_struct("MapEnv")
            .field("vars", &keys)
            .field("home", &self.home)
            .finish()
    }
}

impl EnvSource for MapEnv {
    fn var(&self, key: &str) -> Option<String> {
        self.vars.get(key).cloned().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

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
// INI parsing
// ---------------------------------------------------------------------------------

/// A parsed INI file: section → key → value. Keys are lower-cased; section names are
/// kept as written. Keys before any section go to `DEFAULT`; repeated sections merge;
/// a repeated key keeps the last value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IniFile {
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl IniFile {
    /// Parses INI text with the Go SDK's rules: full-line `;`/`#` comments; an inline
    /// comment only where `#` or `;` follows whitespace; `=` or `:` (the first one)
    /// separates key and value; values in double quotes or backticks are taken
    /// literally.
    pub fn parse(text: &str) -> Result<IniFile, (usize, String)> {
        let mut ini = IniFile::default();
        let mut current = DEFAULT_PROFILE.to_string();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(end) = rest.find(']') else {
                    return Err((line_no, "unclosed section header".into()));
                };
                let name = rest[..end].trim();
                if name.is_empty() {
                    return Err((line_no, "empty section name".into()));
                }
                current = name.to_string();
                ini.sections.entry(current.clone()).or_default();
                continue;
            }
            let Some(split) = line.find(['=', ':']) else {
                // A bare key: go-ini treats it as an error unless AllowBooleanKeys;
                // be lenient and ignore it (it names no attribute we can use).
                continue;
            };
            let key = line[..split].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err((line_no, "missing key before '='".into()));
            }
            let value = parse_value(&line[split + 1..]);
            ini.sections
                .entry(current.clone())
                .or_default()
                .insert(key, value);
        }
        Ok(ini)
    }

    pub fn section(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.sections.get(name)
    }
}

fn parse_value(raw: &str) -> String {
    let value = raw.trim();
    for quote in ['"', '`'] {
        if let Some(inner) = value.strip_prefix(quote)
            && let Some(end) = inner.rfind(quote)
        {
            return inner[..end].to_string();
        }
    }
    // Inline comment: `#` or `;` preceded by whitespace.
    let bytes = value.as_bytes();
    let mut cut = value.len();
    for i in 1..bytes.len() {
        if (bytes[i] == b'#' || bytes[i] == b';') && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t')
        {
            cut = i;
            break;
        }
    }
    value[..cut].trim().to_string()
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

/// Expands a leading `~` to the home directory.
fn expand_tilde(path: &Path, env: &dyn EnvSource) -> PathBuf {
    let Some(text) = path.to_str() else {
        return path.to_path_buf();
    };
    if text == "~" {
        if let Some(home) = env.home_dir() {
            return home;
        }
    } else if let Some(rest) = text.strip_prefix("~/").or_else(|| text.strip_prefix("~\\"))
        && let Some(home) = env.home_dir()
    {
        return home.join(rest);
    }
    path.to_path_buf()
}

fn config_file_path(overrides: &ConfigOverrides, env: &dyn EnvSource) -> Option<PathBuf> {
    if let Some(path) = &overrides.config_file {
        return Some(expand_tilde(path, env));
    }
    if let Some(path) = env.var("DATABRICKS_CONFIG_FILE") {
        return Some(expand_tilde(Path::new(path.trim()), env));
    }
    env.home_dir().map(|h| h.join(DEFAULT_CONFIG_FILE))
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

    /// A minimal configuration for `host` with every other value at its default and
    /// no credentials (useful for tests and embedding). The host is normalised and
    /// checked like a resolved one.
    pub fn for_host(host: &str) -> Result<Config, ConfigError> {
        let (host, workspace_id) = normalize_host(host).map_err(|e| match e {
            HostError::Insecure(host) => ConfigError::InsecureHost {
                host,
                source_desc: "argument".into(),
            },
            HostError::Invalid(reason) => ConfigError::InvalidHost {
                value: redact_userinfo(host),
                source_desc: "argument".into(),
                reason,
            },
        })?;
        let mut sources = ConfigSources::default();
        sources
            .attributes
            .insert("host", ValueSource::Override("host"));
        Ok(Config {
            host,
            auth_type: None,
            token: None,
            client_id: None,
            client_secret: None,
            scopes: vec![DEFAULT_SCOPE.to_string()],
            discovery_url: None,
            account_id: None,
            workspace_id,
            warehouse_id: None,
            databricks_cli_path: None,
            profile: None,
            config_file: None,
            rate_limit: None,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            retry_timeout: DEFAULT_RETRY_TIMEOUT,
            sources,
        })
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

    fn host_text(&self) -> String {
        self.host.as_str().trim_end_matches('/').to_string()
    }

    fn source_text(&self, key: &str) -> String {
        self.sources
            .get(key)
            .map(ToString::to_string)
            .unwrap_or_else(|| "unknown source".into())
    }

    fn described_key(&self, key: &str) -> String {
        format!("{key} (from {})", self.source_text(key))
    }

    /// A human-readable account of what was resolved and from where. Secrets are
    /// shown as `***`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut line = |label: &str, value: String, key: &str| {
            let from = self
                .sources
                .get(key)
                .map(|s| format!(" (from {s})"))
                .unwrap_or_default();
            out.push_str(&format!("{label}: {value}{from}\n"));
        };
        line("host", self.host_text(), "host");
        if self.is_account_host() {
            line("host type", "account".into(), "");
        }
        match self.auth_type {
            Some(t) => line("auth type", format!("{t} (pinned)"), "auth_type"),
            None => match self.auth_method() {
                Ok(t) => line("auth type", format!("{t} (first configured method)"), ""),
                Err(_) => line("auth type", "none usable".into(), ""),
            },
        }
        if self.token.is_some() {
            line("token", "***".into(), "token");
        }
        if let Some(id) = &self.client_id {
            line("client_id", id.clone(), "client_id");
        }
        if self.client_secret.is_some() {
            line("client_secret", "***".into(), "client_secret");
        }
        if let Some(v) = &self.account_id {
            line("account_id", v.clone(), "account_id");
        }
        if let Some(v) = &self.workspace_id {
            line("workspace_id", v.clone(), "workspace_id");
        }
        if let Some(v) = &self.warehouse_id {
            line("warehouse_id", v.clone(), "warehouse_id");
        }
        if let Some(v) = &self.discovery_url {
            line("discovery_url", v.clone(), "discovery_url");
        }
        if let Some(v) = &self.databricks_cli_path {
            line(
                "databricks_cli_path",
                v.display().to_string(),
                "databricks_cli_path",
            );
        }
        if self.sources.get("scopes").is_some() || self.scopes != [DEFAULT_SCOPE] {
            line("scopes", self.scopes.join(" "), "scopes");
        }
        if let Some(v) = self.rate_limit {
            line("rate_limit", format!("{v} requests/s"), "rate_limit");
        }
        if self.sources.get("http_timeout_seconds").is_some() {
            line(
                "http_timeout",
                format!("{:?}", self.http_timeout),
                "http_timeout_seconds",
            );
        }
        if self.sources.get("retry_timeout_seconds").is_some() {
            line(
                "retry_timeout",
                format!("{:?}", self.retry_timeout),
                "retry_timeout_seconds",
            );
        }
        out.push_str(&file_summary(&self.sources));
        out.push('\n');
        out
    }
}

fn load_file(path: &Path) -> Result<Option<IniFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::ReadConfigFile {
                file: path.to_path_buf(),
                source,
            });
        }
    };
    parse_config_file(path, &text).map(Some)
}

/// Parses the text of the config file at `path` (only named in errors). Public for the
/// fuzz target (fuzz/), which checks it never panics nor puts a secret in its error.
#[doc(hidden)]
pub fn parse_config_file(path: &Path, text: &str) -> Result<IniFile, ConfigError> {
    IniFile::parse(text).map_err(|(line, reason)| ConfigError::ParseConfigFile {
        file: path.to_path_buf(),
        line,
        reason,
    })
}

/// Picks the profile: requested > `[__settings__] default_profile` > `[DEFAULT]`.
/// Returns `None` when the fallback `[DEFAULT]` is absent or empty.
fn choose_profile(
    ini: &IniFile,
    path: &Path,
    requested: Option<&str>,
    requested_source: Option<&ValueSource>,
) -> Result<Option<(String, String)>, ConfigError> {
    let available = || {
        let names: Vec<&str> = ini
            .sections
            .iter()
            .filter(|(n, s)| {
                n.as_str() != SETTINGS_SECTION && !(n.as_str() == DEFAULT_PROFILE && s.is_empty())
            })
            .map(|(n, _)| n.as_str())
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(" (available profiles: {})", names.join(", "))
        }
    };
    let (name, chosen_by) = match requested {
        Some(name) => (
            name.to_string(),
            requested_source
                .map(ToString::to_string)
                .unwrap_or_else(|| "request".into()),
        ),
        None => match ini
            .section(SETTINGS_SECTION)
            .and_then(|s| s.get("default_profile"))
            .filter(|p| !p.is_empty())
        {
            Some(name) => (
                name.clone(),
                format!("default_profile in [{SETTINGS_SECTION}]"),
            ),
            None => {
                return Ok(ini
                    .section(DEFAULT_PROFILE)
                    .filter(|s| !s.is_empty())
                    .map(|_| {
                        (
                            DEFAULT_PROFILE.to_string(),
                            "fallback to [DEFAULT]".to_string(),
                        )
                    }));
            }
        },
    };
    if name == SETTINGS_SECTION {
        return Err(ConfigError::ReservedProfile {
            file: path.to_path_buf(),
        });
    }
    if ini.section(&name).is_none() {
        let suggestion = closest_name(
            &name,
            ini.sections
                .keys()
                .map(|n| n.as_str())
                .filter(|n| *n != SETTINGS_SECTION),
        )
        .map(|n| format!("; did you mean --profile {n}?"))
        .unwrap_or_default();
        return Err(ConfigError::ProfileNotFound {
            file: path.to_path_buf(),
            profile: name,
            hint: format!("{}{suggestion}", available()),
        });
    }
    Ok(Some((name, chosen_by)))
}

/// The name among `names` that `wanted` most likely meant: the same but for case, or at
/// most two edits away (the nearest; none when two are equally near).
fn closest_name<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for name in names {
        let distance = if name.to_lowercase() == wanted_lower {
            0
        } else {
            edit_distance(&wanted_lower, &name.to_lowercase())
        };
        if distance > 2 {
            continue;
        }
        match best {
            Some((d, _)) if distance > d => {}
            Some((d, _)) if distance == d => tie = true,
            _ => {
                best = Some((distance, name));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, n)| n)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let at = |row: &[usize], k: usize| row.get(k).copied().unwrap_or(usize::MAX);
            let substitution = at(&previous, j).saturating_add(usize::from(ca != *cb));
            let deletion = at(&previous, j + 1).saturating_add(1);
            let insertion = at(&current, j).saturating_add(1);
            if let Some(slot) = current.get_mut(j + 1) {
                *slot = substitution.min(deletion).min(insertion);
            }
        }
        previous = current;
    }
    previous.last().copied().unwrap_or_default()
}

fn file_summary(sources: &ConfigSources) -> String {
    match &sources.file {
        FileStatus::NoPath => {
            "config file (none: no home directory and DATABRICKS_CONFIG_FILE unset)".into()
        }
        FileStatus::NotFound(p) => format!("config file {} (not found)", p.display()),
        FileStatus::RequestedProfileFileMissing { path, profile } => format!(
            "config file {} (not found, so the requested profile {profile} does not exist)",
            path.display()
        ),
        FileStatus::Skipped { path, reason } => {
            format!("config file {} (not read: {reason})", path.display())
        }
        FileStatus::NoProfile(p) => format!(
            "config file {} (no profile requested, no default_profile and no [DEFAULT] section)",
            p.display()
        ),
        FileStatus::Loaded {
            path,
            profile,
            chosen_by,
        } => format!(
            "config file {} profile [{profile}] (chosen by {chosen_by})",
            path.display()
        ),
    }
}

fn looked_at(sources: &ConfigSources, env: &dyn EnvSource) -> String {
    let vars: Vec<String> = [
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CONFIG_FILE",
    ]
    .iter()
    .map(|v| match (env.var(v), *v) {
        (Some(value), "DATABRICKS_CONFIG_PROFILE" | "DATABRICKS_CONFIG_FILE") => {
            format!("{v}={value}")
        }
        (Some(_), _) => format!("{v} (set)"),
        (None, _) => format!("{v} (unset)"),
    })
    .collect();
    let mut text = format!(
        "environment variables {}, and {}",
        vars.join(", "),
        file_summary(sources)
    );
    if let FileStatus::Loaded { profile, .. } = &sources.file {
        text.push_str(&format!(
            ", which has neither `host` nor credentials in [{profile}]"
        ));
    }
    text
}

// ---------------------------------------------------------------------------------
// Host handling
// ---------------------------------------------------------------------------------

enum HostError {
    Insecure(String),
    Invalid(String),
}

fn redact_userinfo(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            format!("{u} (credentials removed)")
        }
        _ => {
            // Not parseable as-is: drop anything up to an '@' to be safe.
            match value.rfind('@') {
                Some(at) => format!("***@{}", &value[at + 1..]),
                None => value.to_string(),
            }
        }
    }
}

/// True for hosts the `http://` scheme is allowed on.
pub fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

pub(crate) fn is_account_host(url: &url::Url) -> bool {
    url.host_str()
        .is_some_and(|h| h.starts_with("accounts.") || h.starts_with("accounts-dod."))
}

/// Checks that an endpoint URL (discovery, token endpoint) is https, or http on a
/// loopback address.
pub(crate) fn check_endpoint_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err("http:// is accepted only for loopback addresses; use https://".into()),
        other => Err(format!("unsupported scheme {other:?}")),
    }
}

/// Normalises a host: adds `https://` when there is no scheme, strips path, query,
/// fragment, trailing slash and the default port, extracts `?o=<workspace id>`.
fn normalize_host(value: &str) -> Result<(url::Url, Option<String>), HostError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(HostError::Invalid("empty".into()));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let parsed = url::Url::parse(&with_scheme).map_err(|e| HostError::Invalid(e.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(HostError::Invalid(
            "the URL must not contain a user name or password".into(),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(HostError::Invalid("no host name".into()));
    }
    let workspace_id = parsed
        .query_pairs()
        .find(|(k, _)| k == "o")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let mut url = parsed;
    url.set_query(None);
    url.set_fragment(None);
    url.set_path("/");
    match url.scheme() {
        "https" => {
            if url.port() == Some(443) {
                let _ = url.set_port(None);
            }
        }
        "http" => {
            if !is_loopback_host(&url) {
                return Err(HostError::Insecure(
                    url.as_str().trim_end_matches('/').to_string(),
                ));
            }
        }
        other => {
            return Err(HostError::Invalid(format!(
                "unsupported scheme {other:?}; use https://"
            )));
        }
    }
    Ok((url, workspace_id))
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
