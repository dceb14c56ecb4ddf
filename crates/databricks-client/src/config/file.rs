//! The config file: where it is, its INI syntax, and which profile of it is used.

use super::*;

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

pub(super) fn parse_value(raw: &str) -> String {
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
    if let Some(i) = bytes
        .windows(2)
        .position(|w| matches!(w, [b' ' | b'\t', b'#' | b';']))
    {
        cut = i + 1;
    }
    value[..cut].trim().to_string()
}

/// Expands a leading `~` to the home directory.
pub(super) fn expand_tilde(path: &Path, env: &dyn EnvSource) -> PathBuf {
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

pub(super) fn config_file_path(
    overrides: &ConfigOverrides,
    env: &dyn EnvSource,
) -> Option<PathBuf> {
    if let Some(path) = &overrides.config_file {
        return Some(expand_tilde(path, env));
    }
    if let Some(path) = env.var("DATABRICKS_CONFIG_FILE") {
        return Some(expand_tilde(Path::new(path.trim()), env));
    }
    env.home_dir().map(|h| h.join(DEFAULT_CONFIG_FILE))
}

pub(super) fn load_file(path: &Path) -> Result<Option<IniFile>, ConfigError> {
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
pub(super) fn choose_profile(
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
pub(super) fn closest_name<'a>(
    wanted: &str,
    names: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
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
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
