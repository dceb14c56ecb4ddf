//! `~/.databrickscfg`: parsing and resolving never panic, and never show a secret.
//!
//! Input: byte 0 picks the requested profile, byte 1 the line before which the secret
//! lines (`token`, `client_secret`, `password`) are inserted, the rest is the file's text
//! (lossy UTF-8). The text is parsed (`parse_config_file`), then written to a scratch
//! file and resolved as the server does (`Config::resolve`): neither may panic, and no
//! error message, `Debug` or `describe()` may contain a secret.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use databricks_client::config::parse_config_file;
use databricks_client::{Config, ConfigOverrides, MapEnv};
use libfuzzer_sys::fuzz_target;

const SECRETS: [(&str, &str); 3] = [
    ("token", "dapi0fuzz0token0c4f1e2d3b"),
    ("client_secret", "dose0fuzz0secret0a9b8c7d"),
    ("password", "pw0fuzz0password0e5f6a7b"),
];

/// One scratch file for the whole run (resolution reads the file from disk).
fn scratch_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("databricks-mcp-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir.join("databrickscfg")
    })
}

fn assert_no_secret(what: &str, text: &str) {
    for (key, secret) in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} shows the {key} secret: {text}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, at, rest @ ..] = data else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    // A secret the input spells itself may legitimately be echoed (as a host, say), and
    // hosts are echoed lowercased (URL normalization), so compare without case.
    let body_lower = body.to_lowercase();
    if SECRETS.iter().any(|(_, s)| body_lower.contains(s)) {
        return;
    }
    let mut lines: Vec<&str> = body.split('\n').collect();
    let at = usize::from(*at) % (lines.len() + 1);
    let secret_lines: Vec<String> = SECRETS.iter().map(|(k, s)| format!("{k} = {s}")).collect();
    for (i, line) in secret_lines.iter().enumerate() {
        lines.insert(at + i, line);
    }
    let text = lines.join("\n");

    let path = scratch_file();
    match parse_config_file(path, &text) {
        Ok(ini) => {
            // Whatever it holds, parsing is deterministic.
            assert_eq!(
                databricks_client::config::IniFile::parse(&text).ok(),
                Some(ini)
            );
        }
        Err(e) => {
            assert_no_secret("parse error", &e.to_string());
            assert_no_secret("parse error (Debug)", &format!("{e:?}"));
        }
    }

    if std::fs::write(path, &text).is_err() {
        return;
    }
    let profile = match pick % 4 {
        0 => None,
        1 => Some("DEFAULT".to_string()),
        2 => Some("p".to_string()),
        // The first section the text names, if any.
        _ => text
            .lines()
            .find_map(|l| l.trim().strip_prefix('[')?.split(']').next())
            .map(str::to_string),
    };
    let overrides = ConfigOverrides {
        profile,
        config_file: Some(path.clone()),
        ..ConfigOverrides::default()
    };
    match Config::resolve(&overrides, &MapEnv::new()) {
        Ok(config) => {
            assert_no_secret("config (Debug)", &format!("{config:?}"));
            assert_no_secret("config describe()", &config.describe());
            if let Err(e) = config.auth_method() {
                assert_no_secret("auth method error", &e.to_string());
                assert_no_secret("auth method error (Debug)", &format!("{e:?}"));
            }
        }
        Err(e) => {
            assert_no_secret("resolve error", &e.to_string());
            assert_no_secret("resolve error (Debug)", &format!("{e:?}"));
        }
    }
});
