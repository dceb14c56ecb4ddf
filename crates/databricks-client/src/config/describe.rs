//! What was resolved and from where, for people: `Config::describe` and the summaries
//! error messages quote. Secrets are shown as `***`.

use super::*;

impl Config {
    pub(super) fn host_text(&self) -> String {
        self.host.as_str().trim_end_matches('/').to_string()
    }

    pub(super) fn source_text(&self, key: &str) -> String {
        self.sources
            .get(key)
            .map(ToString::to_string)
            .unwrap_or_else(|| "unknown source".into())
    }

    pub(super) fn described_key(&self, key: &str) -> String {
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

pub(super) fn file_summary(sources: &ConfigSources) -> String {
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

pub(super) fn looked_at(sources: &ConfigSources, env: &dyn EnvSource) -> String {
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
