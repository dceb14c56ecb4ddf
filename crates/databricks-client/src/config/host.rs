//! The workspace host: normalized, checked (https unless loopback), its kind.

use super::*;

pub(super) enum HostError {
    Insecure(String),
    Invalid(String),
}

pub(super) fn redact_userinfo(value: &str) -> String {
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
pub(super) fn normalize_host(value: &str) -> Result<(url::Url, Option<String>), HostError> {
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
