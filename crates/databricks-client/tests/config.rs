//! Configuration resolution (AUTH.md §1–§3) with an in-memory environment and real
//! temporary config files.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use databricks_client::config::{
    AuthType, Config, ConfigError, ConfigOverrides, FileStatus, IniFile, MapEnv, ValueSource,
};
use secrecy::ExposeSecret;

const FIXTURE: &str = include_str!("fixtures/auth/databrickscfg.ini");
const CANARY_TOKEN: &str = "dapi-canary-TOKEN-0123456789";
const CANARY_SECRET: &str = "dose-canary-SECRET-9876543210";

/// A temporary home directory, optionally with a `.databrickscfg`.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn with_cfg(text: &str) -> Home {
        let home = Home::new();
        std::fs::write(home.cfg(), text).unwrap();
        home
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn cfg(&self) -> PathBuf {
        self.dir.path().join(".databrickscfg")
    }
    fn env(&self) -> MapEnv {
        MapEnv::new().with_home(self.path())
    }
}

fn resolve(env: &MapEnv) -> Result<Config, ConfigError> {
    Config::resolve(&ConfigOverrides::default(), env)
}

fn err(env: &MapEnv) -> String {
    match resolve(env) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn env_only() {
    let home = Home::new();
    let env = home
        .env()
        .with("DATABRICKS_HOST", "dbc-1.cloud.databricks.com/")
        .with("DATABRICKS_TOKEN", CANARY_TOKEN)
        .with("DATABRICKS_WAREHOUSE_ID", "wh1")
        .with("DATABRICKS_RATE_LIMIT", "7.5");
    let c = resolve(&env).unwrap();
    assert_eq!(c.host.as_str(), "https://dbc-1.cloud.databricks.com/");
    assert_eq!(c.token.as_ref().unwrap().expose_secret(), CANARY_TOKEN);
    assert_eq!(c.warehouse_id.as_deref(), Some("wh1"));
    assert_eq!(c.rate_limit, Some(7.5));
    assert_eq!(c.profile, None);
    assert_eq!(c.config_file, None);
    assert_eq!(c.scopes, vec!["all-apis".to_string()]);
    assert_eq!(c.http_timeout, Duration::from_secs(60));
    assert_eq!(c.retry_timeout, Duration::from_secs(300));
    assert_eq!(
        c.sources.get("host"),
        Some(&ValueSource::Env("DATABRICKS_HOST"))
    );
    assert_eq!(
        c.sources.get("token"),
        Some(&ValueSource::Env("DATABRICKS_TOKEN"))
    );
    assert_eq!(c.auth_method().unwrap(), AuthType::Pat);
}

#[test]
fn profiles_of_the_fixture_file() {
    let home = Home::with_cfg(FIXTURE);
    let cfg = home.cfg();

    // DATABRICKS_CONFIG_PROFILE selects a profile; `#` not preceded by whitespace
    // stays part of the value.
    let c = resolve(&home.env().with("DATABRICKS_CONFIG_PROFILE", "prod-sp")).unwrap();
    assert_eq!(
        c.host.as_str(),
        "https://adb-1234567890123456.7.azuredatabricks.net/"
    );
    assert_eq!(
        c.client_id.as_deref(),
        Some("6c2e7f1a-0b9d-4e8f-a1b2-c3d4e5f6a7b8")
    );
    assert_eq!(
        c.client_secret.as_ref().unwrap().expose_secret(),
        "dose0123456789abcdef#not-a-comment"
    );
    assert_eq!(c.warehouse_id.as_deref(), Some("abcdef0123456789"));
    assert_eq!(
        c.token.as_ref().map(|t| t.expose_secret().to_string()),
        None,
        "[DEFAULT] token must not be inherited"
    );
    assert_eq!(c.profile.as_deref(), Some("prod-sp"));
    assert_eq!(c.config_file.as_deref(), Some(cfg.as_path()));
    assert_eq!(c.auth_method().unwrap(), AuthType::OauthM2m);
    assert_eq!(
        c.sources.get("client_secret"),
        Some(&ValueSource::ConfigFile {
            path: cfg.clone(),
            profile: "prod-sp".into(),
            key: "client_secret".into()
        })
    );
    assert_eq!(
        c.sources.get("profile"),
        Some(&ValueSource::Env("DATABRICKS_CONFIG_PROFILE"))
    );

    // An explicit profile beats DATABRICKS_CONFIG_PROFILE.
    let overrides = ConfigOverrides {
        profile: Some("account".into()),
        ..Default::default()
    };
    let c = Config::resolve(
        &overrides,
        &home.env().with("DATABRICKS_CONFIG_PROFILE", "prod-sp"),
    )
    .unwrap();
    assert_eq!(c.profile.as_deref(), Some("account"));
    assert!(c.is_account_host());
    assert_eq!(
        c.account_id.as_deref(),
        Some("a1b2c3d4-e5f6-7a8b-9c0d-e1f2a3b4c5d6")
    );

    // No profile requested: [__settings__] default_profile = dev.
    let c = resolve(&home.env()).unwrap();
    assert_eq!(c.profile.as_deref(), Some("dev"));
    assert_eq!(c.auth_type, Some(AuthType::DatabricksCli));
    assert!(
        c.token.is_none(),
        "[DEFAULT] token must not be inherited by [dev]"
    );
    match &c.sources.file {
        FileStatus::Loaded {
            profile, chosen_by, ..
        } => {
            assert_eq!(profile, "dev");
            assert!(chosen_by.contains("default_profile"), "{chosen_by}");
        }
        other => panic!("{other:?}"),
    }
    // The pinned CLI is not installed in this environment: a clear error, not a
    // silent fallback to another method.
    let e = c.auth_method().unwrap_err().to_string();
    assert!(
        e.contains("databricks-cli") && e.contains("DATABRICKS_CLI_PATH"),
        "{e}"
    );
}

#[test]
fn default_section_is_a_fallback_only() {
    let text = "\
[DEFAULT]
host = https://default.cloud.databricks.com
token = dapi-default
warehouse_id = from-default

[dev]
host = https://dev.cloud.databricks.com
token = dapi-dev
";
    let home = Home::with_cfg(text);
    let c = resolve(&home.env()).unwrap();
    assert_eq!(c.profile.as_deref(), Some("DEFAULT"));
    assert_eq!(c.host.as_str(), "https://default.cloud.databricks.com/");
    assert_eq!(c.warehouse_id.as_deref(), Some("from-default"));

    let c = resolve(&home.env().with("DATABRICKS_CONFIG_PROFILE", "dev")).unwrap();
    assert_eq!(c.profile.as_deref(), Some("dev"));
    assert_eq!(c.token.as_ref().unwrap().expose_secret(), "dapi-dev");
    assert_eq!(c.warehouse_id, None, "keys of [DEFAULT] are not inherited");

    // An empty [DEFAULT] (or none) with nothing requested is silently no file config.
    let home =
        Home::with_cfg("[DEFAULT]\n\n[dev]\nhost = https://dev.cloud.databricks.com\ntoken = x\n");
    let e = err(&home.env());
    assert!(e.contains("no Databricks configuration found"), "{e}");
    assert!(
        e.contains("no [DEFAULT] section") || e.contains("no profile requested"),
        "{e}"
    );
}

#[test]
fn requested_profile_absent_is_an_error() {
    let home = Home::with_cfg(FIXTURE);
    let e = err(&home.env().with("DATABRICKS_CONFIG_PROFILE", "nope"));
    assert!(
        e.contains(&format!(
            "{} has no nope profile configured",
            home.cfg().display()
        )),
        "{e}"
    );
    assert!(e.contains("prod-sp"), "lists available profiles: {e}");

    // default_profile naming a missing profile is an error too.
    let home =
        Home::with_cfg("[__settings__]\ndefault_profile = gone\n[DEFAULT]\nhost = h\ntoken = t\n");
    let e = err(&home.env());
    assert!(e.contains("has no gone profile configured"), "{e}");

    // __settings__ is not a profile.
    let home = Home::with_cfg(FIXTURE);
    let e = err(&home.env().with("DATABRICKS_CONFIG_PROFILE", "__settings__"));
    assert!(e.contains("reserved"), "{e}");

    // A requested profile with no config file at all: reported when nothing else
    // configures the client, ignored (as by the SDKs) when the environment does.
    let home = Home::new();
    let e = err(&home.env().with("DATABRICKS_CONFIG_PROFILE", "dev"));
    assert!(
        e.contains("the requested profile dev does not exist"),
        "{e}"
    );
    assert!(e.contains("DATABRICKS_CONFIG_PROFILE=dev"), "{e}");
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_PROFILE", "dev")
        .with("DATABRICKS_HOST", "h.cloud.databricks.com")
        .with("DATABRICKS_TOKEN", "t");
    assert_eq!(resolve(&env).unwrap().profile, None);
}

#[test]
fn file_skipped_when_env_configures_host_and_auth() {
    // The file would fail to resolve (default_profile names a missing profile), so
    // success proves it was not read.
    let home = Home::with_cfg("[__settings__]\ndefault_profile = missing\n");
    let env = home
        .env()
        .with("DATABRICKS_HOST", "https://env.cloud.databricks.com")
        .with("DATABRICKS_TOKEN", CANARY_TOKEN);
    let c = resolve(&env).unwrap();
    assert_eq!(c.profile, None);
    assert!(
        matches!(c.sources.file, FileStatus::Skipped { .. }),
        "{:?}",
        c.sources.file
    );

    // Any auth attribute alone also skips the file.
    let home = Home::with_cfg(FIXTURE);
    let e = err(&home.env().with("DATABRICKS_TOKEN", CANARY_TOKEN));
    assert!(e.contains("no Databricks host configured"), "{e}");
    assert!(e.contains("not read"), "{e}");

    // With a requested profile the file is read, and env values win over it.
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_PROFILE", "prod-sp")
        .with("DATABRICKS_HOST", "https://env.cloud.databricks.com")
        .with("DATABRICKS_WAREHOUSE_ID", "env-wh");
    let c = resolve(&env).unwrap();
    assert_eq!(c.host.as_str(), "https://env.cloud.databricks.com/");
    assert_eq!(c.warehouse_id.as_deref(), Some("env-wh"));
    assert_eq!(
        c.client_id.as_deref(),
        Some("6c2e7f1a-0b9d-4e8f-a1b2-c3d4e5f6a7b8")
    );

    // Overrides win over env.
    let overrides = ConfigOverrides {
        warehouse_id: Some("flag-wh".into()),
        host: Some("https://flag.cloud.databricks.com".into()),
        ..Default::default()
    };
    let c = Config::resolve(&overrides, &env).unwrap();
    assert_eq!(c.warehouse_id.as_deref(), Some("flag-wh"));
    assert_eq!(c.host.as_str(), "https://flag.cloud.databricks.com/");
    assert_eq!(c.sources.get("host"), Some(&ValueSource::Override("host")));
}

#[test]
fn config_file_location_and_parsing() {
    let home = Home::new();
    let dir = home.path().join("conf");
    std::fs::create_dir(&dir).unwrap();
    let text = "\
; comment
# another comment
[work]
host = \"https://quoted.cloud.databricks.com\" ; trailing comment
token = abc#def ;comment
Scopes = sql, all-apis  offline_access
http_timeout_seconds = 12
retry_timeout_seconds = 90.5
rate_limit: 3
";
    std::fs::write(dir.join("cfg.ini"), text).unwrap();
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_FILE", "~/conf/cfg.ini")
        .with("DATABRICKS_CONFIG_PROFILE", "work");
    let c = resolve(&env).unwrap();
    assert_eq!(c.host.as_str(), "https://quoted.cloud.databricks.com/");
    assert_eq!(c.token.as_ref().unwrap().expose_secret(), "abc#def");
    assert_eq!(c.scopes, vec!["sql", "all-apis", "offline_access"]);
    assert_eq!(c.http_timeout, Duration::from_secs(12));
    assert_eq!(c.retry_timeout, Duration::from_secs_f64(90.5));
    assert_eq!(c.rate_limit, Some(3.0));
    assert_eq!(
        c.config_file.as_deref(),
        Some(dir.join("cfg.ini").as_path())
    );

    // Explicit config_file override beats the env var.
    let other = home.path().join("other.ini");
    std::fs::write(
        &other,
        "[work]\nhost = https://other.cloud.databricks.com\ntoken = t\n",
    )
    .unwrap();
    let overrides = ConfigOverrides {
        config_file: Some(other.clone()),
        ..Default::default()
    };
    let c = Config::resolve(&overrides, &env).unwrap();
    assert_eq!(c.host.as_str(), "https://other.cloud.databricks.com/");

    // A missing file is ignored when no profile is requested.
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
        .with("DATABRICKS_AUTH_TYPE", "pat")
        .with("DATABRICKS_TOKEN", "x");
    assert!(resolve(&env).is_ok());

    // Bad numbers are reported with their origin.
    let home =
        Home::with_cfg("[DEFAULT]\nhost = h.cloud.databricks.com\ntoken = t\nrate_limit = fast\n");
    let e = err(&home.env());
    assert!(
        e.contains("rate_limit") && e.contains("fast") && e.contains(".databrickscfg"),
        "{e}"
    );
}

#[test]
fn ini_parser_rules() {
    let ini = IniFile::parse("top = 1\n[a]\nk = v # c\n[b]\nk=v;x\n[a]\nk2 = `q # not`\n").unwrap();
    assert_eq!(ini.section("DEFAULT").unwrap()["top"], "1");
    assert_eq!(ini.section("a").unwrap()["k"], "v");
    assert_eq!(ini.section("a").unwrap()["k2"], "q # not");
    assert_eq!(ini.section("b").unwrap()["k"], "v;x");
    assert!(IniFile::parse("[unclosed\n").is_err());
}

#[test]
fn conflicting_methods_need_auth_type() {
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
        .with("DATABRICKS_TOKEN", CANARY_TOKEN)
        .with("DATABRICKS_CLIENT_ID", "sp-id")
        .with("DATABRICKS_CLIENT_SECRET", CANARY_SECRET);
    let e = err(&env);
    assert!(
        e.contains("more than one authorization method configured: oauth and pat"),
        "{e}"
    );
    assert!(
        e.contains("DATABRICKS_TOKEN") && e.contains("DATABRICKS_CLIENT_ID"),
        "{e}"
    );
    assert!(e.contains("DATABRICKS_AUTH_TYPE"), "{e}");
    assert!(
        !e.contains(CANARY_TOKEN) && !e.contains(CANARY_SECRET),
        "{e}"
    );

    // Pinning the auth type resolves the conflict, either way.
    let c = resolve(&env.clone().with("DATABRICKS_AUTH_TYPE", "oauth-m2m")).unwrap();
    assert_eq!(c.auth_type, Some(AuthType::OauthM2m));
    assert_eq!(c.auth_method().unwrap(), AuthType::OauthM2m);
    let c = resolve(&env.clone().with("DATABRICKS_AUTH_TYPE", "pat")).unwrap();
    assert_eq!(c.auth_method().unwrap(), AuthType::Pat);
    let overrides = ConfigOverrides {
        auth_type: Some("pat".into()),
        ..Default::default()
    };
    assert_eq!(
        Config::resolve(&overrides, &env)
            .unwrap()
            .auth_method()
            .unwrap(),
        AuthType::Pat
    );

    // Conflict between the profile and the environment names both places.
    let home = Home::with_cfg(FIXTURE);
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_PROFILE", "prod-sp")
        .with("DATABRICKS_TOKEN", CANARY_TOKEN);
    let e = err(&env);
    assert!(e.contains("oauth and pat"), "{e}");
    assert!(
        e.contains("[prod-sp]") && e.contains("DATABRICKS_TOKEN"),
        "{e}"
    );

    // Basic auth is refused with an explanation, alone or in a conflict.
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
        .with("DATABRICKS_USERNAME", "me")
        .with("DATABRICKS_PASSWORD", CANARY_SECRET);
    let e = err(&env);
    assert!(
        e.contains("basic (username/password) authentication is not supported"),
        "{e}"
    );
    assert!(!e.contains(CANARY_SECRET));
    let e = err(&env.clone().with("DATABRICKS_TOKEN", "t"));
    assert!(e.contains("basic and pat"), "{e}");
    let e = err(&MapEnv::new()
        .with("DATABRICKS_HOST", "h.com")
        .with("DATABRICKS_AUTH_TYPE", "basic"));
    assert!(e.contains("not supported"), "{e}");
}

#[test]
fn pinned_auth_type_requires_its_attributes() {
    let base = MapEnv::new().with("DATABRICKS_HOST", "https://h.cloud.databricks.com");
    let e = err(&base
        .clone()
        .with("DATABRICKS_AUTH_TYPE", "pat")
        .with("DATABRICKS_CLIENT_ID", "x"));
    assert!(e.contains("pat") && e.contains("DATABRICKS_TOKEN"), "{e}");
    let e = err(&base
        .clone()
        .with("DATABRICKS_AUTH_TYPE", "oauth-m2m")
        .with("DATABRICKS_CLIENT_ID", "x"));
    assert!(
        e.contains("client_secret") && e.contains("DATABRICKS_CLIENT_SECRET"),
        "{e}"
    );

    // Unpinned but incomplete OAuth.
    let c = resolve(&base.clone().with("DATABRICKS_CLIENT_ID", "x")).unwrap();
    let e = c.auth_method().unwrap_err().to_string();
    assert!(
        e.contains("client_secret") && e.contains("DATABRICKS_CLIENT_ID"),
        "{e}"
    );
}

#[test]
fn auth_type_values() {
    let base = MapEnv::new()
        .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
        .with("DATABRICKS_TOKEN", "t");
    for (value, want) in [
        ("pat", AuthType::Pat),
        ("PAT", AuthType::Pat),
        ("databricks-cli", AuthType::DatabricksCli),
    ] {
        let c = resolve(&base.clone().with("DATABRICKS_AUTH_TYPE", value)).unwrap();
        assert_eq!(c.auth_type, Some(want), "{value}");
    }
    let e = err(&base.clone().with("DATABRICKS_AUTH_TYPE", "magic"));
    assert!(e.contains("unknown auth type \"magic\""), "{e}");
    assert!(e.contains("pat, oauth-m2m, databricks-cli"), "{e}");
    assert!(e.contains("DATABRICKS_AUTH_TYPE"), "{e}");
    let e = err(&base.clone().with("DATABRICKS_AUTH_TYPE", "azure-cli"));
    assert!(
        e.contains("not supported") && e.contains("pat, oauth-m2m, databricks-cli"),
        "{e}"
    );
    assert_eq!("oauth-m2m".parse::<AuthType>().unwrap(), AuthType::OauthM2m);
    assert_eq!(AuthType::OauthM2m.to_string(), "oauth-m2m");
}

#[test]
fn host_rules() {
    let cases: &[(&str, Result<&str, &str>, Option<&str>)] = &[
        (
            "dbc-1.cloud.databricks.com",
            Ok("https://dbc-1.cloud.databricks.com/"),
            None,
        ),
        (
            "https://dbc-1.cloud.databricks.com/",
            Ok("https://dbc-1.cloud.databricks.com/"),
            None,
        ),
        (
            "https://dbc-1.cloud.databricks.com:443",
            Ok("https://dbc-1.cloud.databricks.com/"),
            None,
        ),
        (
            "https://dbc-1.cloud.databricks.com/sql/editor?x=1#frag",
            Ok("https://dbc-1.cloud.databricks.com/"),
            None,
        ),
        (
            "https://adb-123.4.azuredatabricks.net/?o=123456789#notebook/1",
            Ok("https://adb-123.4.azuredatabricks.net/"),
            Some("123456789"),
        ),
        (
            "https://h.example.com:8443/",
            Ok("https://h.example.com:8443/"),
            None,
        ),
        (
            "http://127.0.0.1:39123",
            Ok("http://127.0.0.1:39123/"),
            None,
        ),
        ("http://127.1.2.3:1/", Ok("http://127.1.2.3:1/"), None),
        ("http://localhost:8080", Ok("http://localhost:8080/"), None),
        ("http://[::1]:8080", Ok("http://[::1]:8080/"), None),
        (
            "http://dbc-1.cloud.databricks.com",
            Err("http:// is accepted only for loopback"),
            None,
        ),
        (
            "http://10.1.2.3:8080",
            Err("http:// is accepted only for loopback"),
            None,
        ),
        (
            "http://localhost.evil.com",
            Err("http:// is accepted only for loopback"),
            None,
        ),
        ("ftp://h.example.com", Err("unsupported scheme"), None),
        (
            "https://user:hunter2-pass@h.example.com",
            Err("must not contain a user name or password"),
            None,
        ),
    ];
    for (host, want, workspace) in cases {
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", *host)
            .with("DATABRICKS_TOKEN", "t");
        match (resolve(&env), want) {
            (Ok(c), Ok(url)) => {
                assert_eq!(c.host.as_str(), *url, "{host}");
                assert_eq!(c.workspace_id.as_deref(), *workspace, "{host}");
                if workspace.is_some() {
                    assert_eq!(c.sources.get("workspace_id"), Some(&ValueSource::HostUrl));
                }
            }
            (Err(e), Err(text)) => {
                let e = e.to_string();
                assert!(e.contains(text), "{host}: {e}");
                assert!(e.contains("DATABRICKS_HOST"), "{host}: {e}");
                assert!(!e.contains("hunter2-pass"), "{host}: {e}");
            }
            (got, want) => panic!("{host}: got {got:?}, want {want:?}"),
        }
    }
    // An explicit workspace id beats the one in the URL.
    let env = MapEnv::new()
        .with(
            "DATABRICKS_HOST",
            "https://adb-1.2.azuredatabricks.net/?o=111",
        )
        .with("DATABRICKS_WORKSPACE_ID", "222")
        .with("DATABRICKS_TOKEN", "t");
    assert_eq!(resolve(&env).unwrap().workspace_id.as_deref(), Some("222"));
}

#[test]
fn nothing_configured() {
    let home = Home::new();
    let e = err(&home.env());
    for needle in [
        "no Databricks configuration found",
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CONFIG_PROFILE",
        "not found",
        "databricks auth login",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in: {e}");
    }
    assert!(e.contains(&home.cfg().display().to_string()), "{e}");
    assert!(!Config::is_configured(&home.env()));

    // A profile without host or credentials.
    let home = Home::with_cfg("[DEFAULT]\nwarehouse_id = w\n");
    let e = err(&home.env());
    assert!(
        e.contains("[DEFAULT]") && e.contains(".databrickscfg"),
        "{e}"
    );
    assert!(
        Config::is_configured(&home.env()),
        "an existing config file counts"
    );

    // Host but no credentials at all and no CLI: the error comes from auth_method.
    let home = Home::new();
    let c = resolve(
        &home
            .env()
            .with("DATABRICKS_HOST", "https://h.cloud.databricks.com"),
    )
    .unwrap();
    let e = c.auth_method().unwrap_err().to_string();
    for needle in [
        "no credentials configured for https://h.cloud.databricks.com",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_SECRET",
        "not found on PATH",
        "databricks auth login --host https://h.cloud.databricks.com",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in: {e}");
    }
}

#[cfg(unix)]
#[test]
fn databricks_cli_found_on_path() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let cli = bin.join("databricks");
    std::fs::write(&cli, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("/nonexistent-dir:{}", bin.display());
    let env = home
        .env()
        .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
        .with("PATH", path);
    let c = resolve(&env).unwrap();
    assert_eq!(c.databricks_cli_path.as_deref(), Some(cli.as_path()));
    assert_eq!(
        c.sources.get("databricks_cli_path"),
        Some(&ValueSource::PathLookup)
    );
    assert_eq!(c.auth_method().unwrap(), AuthType::DatabricksCli);

    // A token still comes first.
    let c = resolve(&env.clone().with("DATABRICKS_TOKEN", "t")).unwrap();
    assert_eq!(c.auth_method().unwrap(), AuthType::Pat);

    // A non-executable file is not a CLI.
    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o644)).unwrap();
    let c = resolve(&env).unwrap();
    assert!(c.databricks_cli_path.is_none());
    assert!(c.auth_method().is_err());
}

#[test]
fn is_configured_looks_at_env_and_file() {
    let home = Home::new();
    assert!(!Config::is_configured(&home.env()));
    for var in [
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CONFIG_FILE",
    ] {
        assert!(Config::is_configured(&home.env().with(var, "x")), "{var}");
    }
    assert!(
        !Config::is_configured(&home.env().with("DATABRICKS_HOST", "")),
        "empty counts as unset"
    );
    let home = Home::with_cfg(FIXTURE);
    assert!(Config::is_configured(&home.env()));
}

#[test]
fn secrets_never_shown() {
    let home = Home::with_cfg(&format!(
        "[sp]\nhost = https://h.cloud.databricks.com\nclient_id = sp\nclient_secret = {CANARY_SECRET}\n"
    ));
    let env = home
        .env()
        .with("DATABRICKS_CONFIG_PROFILE", "sp")
        .with("DATABRICKS_AUTH_TYPE", "oauth-m2m")
        .with("DATABRICKS_TOKEN", CANARY_TOKEN);
    let c = resolve(&env).unwrap();
    let dumps = [
        format!("{c:?}"),
        format!("{c:#?}"),
        c.describe(),
        format!("{env:?}"),
    ];
    for dump in &dumps {
        assert!(!dump.contains(CANARY_SECRET), "{dump}");
        assert!(!dump.contains(CANARY_TOKEN), "{dump}");
    }
    let described = c.describe();
    for needle in [
        "host: https://h.cloud.databricks.com (from `host` in profile [sp]",
        "auth type: oauth-m2m (pinned) (from environment variable DATABRICKS_AUTH_TYPE)",
        "token: *** (from environment variable DATABRICKS_TOKEN)",
        "client_secret: *** (from `client_secret` in profile [sp]",
        "client_id: sp",
        "config file ",
    ] {
        assert!(
            described.contains(needle),
            "missing {needle:?} in:\n{described}"
        );
    }

    // Errors that involve secrets.
    let conflict = resolve(
        &MapEnv::new()
            .with("DATABRICKS_HOST", "h.com")
            .with("DATABRICKS_TOKEN", CANARY_TOKEN)
            .with("DATABRICKS_CLIENT_ID", "x")
            .with("DATABRICKS_CLIENT_SECRET", CANARY_SECRET),
    )
    .unwrap_err();
    let missing_host = resolve(
        &MapEnv::new()
            .with("DATABRICKS_TOKEN", CANARY_TOKEN)
            .with("DATABRICKS_AUTH_TYPE", "pat"),
    )
    .unwrap_err();
    let bad_host = resolve(
        &MapEnv::new()
            .with(
                "DATABRICKS_HOST",
                format!("https://me:{CANARY_SECRET}@h.com"),
            )
            .with("DATABRICKS_TOKEN", CANARY_TOKEN),
    )
    .unwrap_err();
    let insecure = resolve(
        &MapEnv::new()
            .with("DATABRICKS_HOST", "http://h.com")
            .with("DATABRICKS_TOKEN", CANARY_TOKEN),
    )
    .unwrap_err();
    for e in [conflict, missing_host, bad_host, insecure] {
        for dump in [format!("{e}"), format!("{e:?}")] {
            assert!(!dump.contains(CANARY_SECRET), "{dump}");
            assert!(!dump.contains(CANARY_TOKEN), "{dump}");
        }
    }
}
