//! Where environment variables and the home directory come from.

use super::*;

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
