//! PLACEHOLDER — being written (config resolution). Signatures are the contract.
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

pub trait EnvSource: Send + Sync {
    fn var(&self, key: &str) -> Option<String>;
    fn home_dir(&self) -> Option<PathBuf>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;
impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME").map(PathBuf::from)
    }
}

#[derive(Debug, Default, Clone)]
pub struct MapEnv {
    pub vars: std::collections::HashMap<String, String>,
    pub home: Option<PathBuf>,
}
impl EnvSource for MapEnv {
    fn var(&self, key: &str) -> Option<String> {
        self.vars.get(key).cloned().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

#[derive(Debug, Default, Clone)]
pub struct ConfigOverrides {
    pub host: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub auth_type: Option<String>,
    pub warehouse_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    Pat,
    OauthM2m,
    DatabricksCli,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: url::Url,
    pub auth_type: Option<AuthType>,
    pub token: Option<SecretString>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub scopes: Vec<String>,
    pub discovery_url: Option<String>,
    pub account_id: Option<String>,
    pub workspace_id: Option<String>,
    pub warehouse_id: Option<String>,
    pub databricks_cli_path: Option<PathBuf>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub rate_limit: Option<f64>,
    pub http_timeout: Duration,
    pub retry_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    pub fn resolve(_o: &ConfigOverrides, _env: &dyn EnvSource) -> Result<Config, ConfigError> {
        Err(ConfigError::Invalid("not yet implemented".into()))
    }
}
