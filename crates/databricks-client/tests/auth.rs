//! Authentication against real parts: OAuth M2M against the loopback emulator, U2M
//! through a stub `databricks` executable run as a real child process.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use databricks_client::config::{Config, ConfigOverrides, MapEnv};
use databricks_client::{AuthError, Credentials};
use databricks_emulator::{Emulator, EmulatorConfig, FaultResponse, FaultRule};
use reqwest::header::HeaderValue;

const CANARY_SECRET: &str = "canary-client-SECRET-42";
const CANARY_TOKEN: &str = "dapi-canary-PAT-0011223344";

fn resolve(env: &MapEnv) -> Config {
    Config::resolve(&ConfigOverrides::default(), env).unwrap()
}

fn m2m_env(emu: &Emulator, secret: &str) -> MapEnv {
    MapEnv::new()
        .with("DATABRICKS_HOST", emu.base_url())
        .with("DATABRICKS_CLIENT_ID", emu.config().client_id.clone())
        .with("DATABRICKS_CLIENT_SECRET", secret)
}

async fn start_m2m(ttl: Duration) -> Emulator {
    Emulator::start_with(EmulatorConfig {
        m2m_token_ttl: ttl,
        client_secret: CANARY_SECRET.to_string(),
        ..Default::default()
    })
    .await
}

fn credentials(config: &Config) -> Credentials {
    Credentials::from_config(config, reqwest::Client::new()).unwrap()
}

/// Calls `GET /api/2.0/preview/scim/v2/Me` with `authorization`; returns the status.
async fn me(emu: &Emulator, authorization: HeaderValue) -> u16 {
    reqwest::Client::new()
        .get(emu.url("/api/2.0/preview/scim/v2/Me"))
        .header(reqwest::header::AUTHORIZATION, authorization)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn text(h: &HeaderValue) -> String {
    h.to_str().unwrap().to_string()
}

#[tokio::test]
async fn pat_is_a_bearer_header() {
    let emu = Emulator::start().await;
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", emu.base_url())
        .with("DATABRICKS_TOKEN", emu.pat());
    let creds = credentials(&resolve(&env));
    assert_eq!(creds.auth_type(), "pat");
    assert!(!creds.is_refreshable());
    let h = creds.authorization().await.unwrap();
    assert!(h.is_sensitive());
    assert_eq!(text(&h), format!("Bearer {}", emu.pat()));
    assert_eq!(me(&emu, h).await, 200);
    creds.invalidate();
    assert!(!format!("{creds:?}").contains(emu.pat()));

    // A token that cannot be a header value is refused up front, without echoing it.
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", emu.base_url())
        .with("DATABRICKS_TOKEN", format!("{CANARY_TOKEN}\nX: y"));
    let e = Credentials::from_config(&resolve(&env), reqwest::Client::new()).unwrap_err();
    assert!(!e.to_string().contains(CANARY_TOKEN) && !format!("{e:?}").contains(CANARY_TOKEN));
}

#[tokio::test]
async fn m2m_discovers_fetches_and_caches() {
    let emu = start_m2m(Duration::from_secs(3600)).await;
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    assert_eq!(creds.auth_type(), "oauth-m2m");
    assert!(creds.is_refreshable());

    let h = creds.authorization().await.unwrap();
    assert!(h.is_sensitive());
    assert!(text(&h).starts_with("Bearer emu-m2m-"), "{h:?}");
    assert_eq!(me(&emu, h.clone()).await, 200);
    assert_eq!(emu.token_requests(), 1);

    // Discovery went through the workspace's OIDC document.
    let discovery =
        emu.requests_matching(Some("GET"), "/oidc/.well-known/oauth-authorization-server");
    assert_eq!(discovery.len(), 1);
    // The client-credentials request: HTTP Basic client auth, form body.
    let token_requests = emu.requests_matching(Some("POST"), "/oidc/v1/token");
    assert_eq!(token_requests.len(), 1);
    let request = &token_requests[0];
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("emu-client:{CANARY_SECRET}"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        request.body_text,
        "grant_type=client_credentials&scope=all-apis"
    );

    // Cached: no further token request or discovery.
    for _ in 0..3 {
        assert_eq!(creds.authorization().await.unwrap(), h);
    }
    assert_eq!(emu.token_requests(), 1);
    assert_eq!(
        emu.requests_matching(Some("GET"), "/oidc/.well-known/")
            .len(),
        1
    );
    assert!(!format!("{creds:?}").contains(CANARY_SECRET));
}

#[tokio::test]
async fn m2m_single_flight() {
    let emu = start_m2m(Duration::from_secs(3600)).await;
    let creds = std::sync::Arc::new(credentials(&resolve(&m2m_env(&emu, CANARY_SECRET))));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let creds = creds.clone();
            tokio::spawn(async move { creds.authorization().await.unwrap() })
        })
        .collect();
    let mut headers = Vec::new();
    for t in tasks {
        headers.push(t.await.unwrap());
    }
    assert!(headers.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(emu.token_requests(), 1);
}

#[tokio::test]
async fn m2m_short_lived_tokens_are_refreshed_ahead() {
    // 2 s of lifetime is inside the 60 s refresh margin: every call gets a new one.
    let emu = start_m2m(Duration::from_secs(2)).await;
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let first = creds.authorization().await.unwrap();
    let second = creds.authorization().await.unwrap();
    assert_ne!(first, second);
    assert_eq!(emu.token_requests(), 2);
    assert_eq!(me(&emu, second).await, 200);
    // Discovery is done once.
    assert_eq!(
        emu.requests_matching(Some("GET"), "/oidc/.well-known/")
            .len(),
        1
    );

    // 10 minutes of lifetime: refreshed 5 minutes ahead, so cached now.
    let emu = start_m2m(Duration::from_secs(600)).await;
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let first = creds.authorization().await.unwrap();
    assert_eq!(creds.authorization().await.unwrap(), first);
    assert_eq!(emu.token_requests(), 1);
}

#[tokio::test]
async fn m2m_invalidate_forces_a_new_token() {
    let emu = start_m2m(Duration::from_secs(3600)).await;
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let old = creds.authorization().await.unwrap();
    assert_eq!(me(&emu, old.clone()).await, 200);

    emu.expire_m2m_tokens();
    assert_eq!(me(&emu, old.clone()).await, 401);
    // Without invalidate the (server-side expired) token is still cached...
    assert_eq!(creds.authorization().await.unwrap(), old);
    // ...after a 401 the HTTP layer invalidates it.
    creds.invalidate();
    let new = creds.authorization().await.unwrap();
    assert_ne!(new, old);
    assert_eq!(me(&emu, new).await, 200);
    assert_eq!(emu.token_requests(), 2);
}

#[tokio::test]
async fn m2m_bad_secret_is_a_clear_error_without_the_secret() {
    let emu = Emulator::start().await;
    let wrong = "wrong-SECRET-canary-777";
    let creds = credentials(&resolve(&m2m_env(&emu, wrong)));
    let e = creds.authorization().await.unwrap_err();
    let (display, debug) = (e.to_string(), format!("{e:?}"));
    assert!(display.contains("invalid_client"), "{display}");
    assert!(
        display.contains("Client authentication failed"),
        "{display}"
    );
    assert!(display.contains("401"), "{display}");
    assert!(display.contains("DATABRICKS_CLIENT_SECRET"), "{display}");
    assert!(
        !display.contains(wrong) && !debug.contains(wrong),
        "{display} / {debug}"
    );
    // 401 is not retried.
    assert_eq!(emu.token_requests(), 1);

    // An error description that echoes the secret is scrubbed.
    let emu = start_m2m(Duration::from_secs(3600)).await;
    emu.push_fault(FaultRule::post(
        "/oidc/v1/token",
        vec![FaultResponse::json(
            400,
            format!(
                r#"{{"error":"invalid_request","error_description":"bad secret {CANARY_SECRET}"}}"#
            ),
        )],
    ));
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let e = creds.authorization().await.unwrap_err();
    assert!(
        matches!(e, AuthError::TokenRefused { status: 400, .. }),
        "{e:?}"
    );
    let display = e.to_string();
    assert!(
        display.contains("invalid_request: bad secret ***"),
        "{display}"
    );
    assert!(!display.contains(CANARY_SECRET) && !format!("{e:?}").contains(CANARY_SECRET));
}

#[tokio::test]
async fn m2m_token_endpoint_retries_transient_failures() {
    let emu = start_m2m(Duration::from_secs(3600)).await;
    emu.push_fault(FaultRule::post(
        "/oidc/v1/token",
        vec![
            FaultResponse::status(503),
            FaultResponse::json(429, r#"{"error":"slow_down"}"#).with_header("Retry-After", "1"),
        ],
    ));
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let started = Instant::now();
    let h = creds.authorization().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(emu.token_requests(), 3);
    assert_eq!(me(&emu, h).await, 200);

    // Persistent failure: bounded attempts, then the last status is reported.
    let emu = start_m2m(Duration::from_secs(3600)).await;
    emu.push_fault(FaultRule::post(
        "/oidc/v1/token",
        (0..10).map(|_| FaultResponse::status(502)).collect(),
    ));
    let creds = credentials(&resolve(&m2m_env(&emu, CANARY_SECRET)));
    let started = Instant::now();
    let e = creds.authorization().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(emu.token_requests(), 4);
    assert!(e.to_string().contains("502"), "{e}");
}

#[tokio::test]
async fn m2m_discovery_url_and_unsupported_hosts() {
    let emu = start_m2m(Duration::from_secs(3600)).await;

    // Explicit discovery URL: no probing of the host.
    let env = m2m_env(&emu, CANARY_SECRET).with(
        "DATABRICKS_DISCOVERY_URL",
        emu.url("/oidc/.well-known/oauth-authorization-server"),
    );
    let creds = credentials(&resolve(&env));
    creds.authorization().await.unwrap();
    assert!(
        emu.requests_matching(Some("GET"), "/.well-known/databricks-config")
            .is_empty()
    );
    assert_eq!(emu.token_requests(), 1);

    // A discovery document that is absent means OAuth is not available there.
    let env = m2m_env(&emu, CANARY_SECRET).with(
        "DATABRICKS_DISCOVERY_URL",
        emu.url("/nothing/.well-known/oauth-authorization-server"),
    );
    let creds = credentials(&resolve(&env));
    let e = creds.authorization().await.unwrap_err();
    assert!(matches!(e, AuthError::OauthNotSupported { .. }), "{e:?}");
    assert!(e.to_string().contains("OAuth is not supported"), "{e}");

    // Nothing listening: a network error after bounded retries, quickly.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let env = MapEnv::new()
        .with("DATABRICKS_HOST", format!("http://{dead}"))
        .with("DATABRICKS_CLIENT_ID", "id")
        .with("DATABRICKS_CLIENT_SECRET", CANARY_SECRET);
    let creds = credentials(&resolve(&env));
    let started = Instant::now();
    let e = creds.authorization().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(e.to_string().contains("discovery"), "{e}");
    assert!(!e.to_string().contains(CANARY_SECRET));
}

// ---------------------------------------------------------------------------------
// U2M through the Databricks CLI
// ---------------------------------------------------------------------------------

#[cfg(unix)]
mod cli {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    const FIXTURE: &str = include_str!("fixtures/auth/cli_auth_token_output.json");

    /// A stub `databricks` in a temp dir that records its argv, stdin state and
    /// environment, then prints `output` (or fails with `stderr`).
    struct Stub {
        dir: tempfile::TempDir,
    }

    impl Stub {
        fn new(stdout: &str, stderr: &str, exit: i32) -> Stub {
            Stub::script(
                &format!(
                    r#"printf '%s\n' "$@" > "$d/argv"
echo run >> "$d/calls"
if read -r -t 2 line; then echo data > "$d/stdin"; else echo "eof-or-timeout:$?" > "$d/stdin"; fi
printf '%s' "${{DATABRICKS_CONFIG_FILE:-}}" > "$d/config_file"
cat "$d/stderr.txt" >&2
cat "$d/stdout.txt"
exit {exit}
"#
                ),
                stdout,
                stderr,
            )
        }

        /// A stub running `body` (bash; `$d` is its directory).
        fn script(body: &str, stdout: &str, stderr: &str) -> Stub {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            std::fs::write(d.join("stdout.txt"), stdout).unwrap();
            std::fs::write(d.join("stderr.txt"), stderr).unwrap();
            let script = format!("#!/usr/bin/env bash\nd='{}'\n{body}", d.display());
            let path = d.join("databricks");
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            Stub { dir }
        }

        fn token(access_token: &str, expiry: &str) -> Stub {
            let mut json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
            json["access_token"] = access_token.into();
            json["expiry"] = expiry.into();
            Stub::new(&json.to_string(), "", 0)
        }

        fn path(&self) -> PathBuf {
            self.dir.path().join("databricks")
        }
        fn dir(&self) -> &Path {
            self.dir.path()
        }
        fn read(&self, name: &str) -> String {
            std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
        }
        fn argv(&self) -> Vec<String> {
            self.read("argv").lines().map(str::to_string).collect()
        }
        fn calls(&self) -> usize {
            self.read("calls").lines().count()
        }
    }

    fn in_an_hour() -> String {
        (OffsetDateTime::now_utc() + Duration::from_secs(3600))
            .format(&Rfc3339)
            .unwrap()
    }

    #[tokio::test]
    async fn profile_token_from_the_cli() {
        let emu = Emulator::start().await;
        let stub = Stub::token(emu.pat(), &in_an_hour());
        let home = tempfile::tempdir().unwrap();
        let cfg = home.path().join(".databrickscfg");
        std::fs::write(
            &cfg,
            format!(
                "[u2m]\nhost = {}\nauth_type = databricks-cli\n",
                emu.base_url()
            ),
        )
        .unwrap();
        let env = MapEnv::new()
            .with_home(home.path())
            .with("DATABRICKS_CONFIG_PROFILE", "u2m")
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        assert_eq!(creds.auth_type(), "databricks-cli");
        assert!(creds.is_refreshable());

        let h = creds.authorization().await.unwrap();
        assert!(h.is_sensitive());
        assert_eq!(text(&h), format!("Bearer {}", emu.pat()));
        assert_eq!(me(&emu, h.clone()).await, 200);
        assert_eq!(stub.argv(), ["auth", "token", "--profile", "u2m"]);
        assert_eq!(
            stub.read("stdin").trim(),
            "eof-or-timeout:1",
            "stdin must be /dev/null (EOF at once)"
        );
        assert_eq!(stub.read("config_file"), cfg.display().to_string());

        // Cached until close to expiry; invalidate runs the CLI again.
        assert_eq!(creds.authorization().await.unwrap(), h);
        assert_eq!(stub.calls(), 1);
        creds.invalidate();
        assert_eq!(creds.authorization().await.unwrap(), h);
        assert_eq!(stub.calls(), 2);
    }

    #[tokio::test]
    async fn host_token_from_the_cli_found_on_path() {
        let stub = Stub::token("u2m-access-token", &in_an_hour());
        let home = tempfile::tempdir().unwrap();
        let env = MapEnv::new()
            .with_home(home.path())
            .with(
                "DATABRICKS_HOST",
                "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com/",
            )
            .with("PATH", format!("/nonexistent:{}", stub.dir().display()));
        let config = resolve(&env);
        assert_eq!(
            config.databricks_cli_path.as_deref(),
            Some(stub.path().as_path())
        );
        let creds = credentials(&config);
        assert_eq!(creds.auth_type(), "databricks-cli");
        let h = creds.authorization().await.unwrap();
        assert_eq!(text(&h), "Bearer u2m-access-token");
        assert_eq!(
            stub.argv(),
            [
                "auth",
                "token",
                "--host",
                "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com"
            ]
        );
    }

    #[tokio::test]
    async fn expiry_formats_and_near_expiry() {
        // Fractional seconds with an offset (the fixture's shape), 30 s from now: inside
        // the refresh margin, so the CLI is asked again on the next call.
        let soon = (OffsetDateTime::now_utc() + Duration::from_secs(30))
            .to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap())
            .format(&Rfc3339)
            .unwrap();
        assert!(soon.contains('.') && soon.ends_with("+01:00"), "{soon}");
        let stub = Stub::token("near", &soon);
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
            .with("DATABRICKS_AUTH_TYPE", "databricks-cli")
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        creds.authorization().await.unwrap();
        creds.authorization().await.unwrap();
        assert_eq!(stub.calls(), 2);

        // Local-time format without offset: accepted.
        let stub = Stub::token("naive", "2099-01-02 03:04:05.678");
        let env = env
            .clone()
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        assert_eq!(text(&creds.authorization().await.unwrap()), "Bearer naive");
        creds.authorization().await.unwrap();
        assert_eq!(stub.calls(), 1);
    }

    #[tokio::test]
    async fn failing_cli_reports_its_stderr() {
        let message = "Error: no cached credentials; run `databricks auth login` to sign in";
        let stub = Stub::new("", &format!("{message}\n"), 1);
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
            .with("DATABRICKS_AUTH_TYPE", "databricks-cli")
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        let e = creds.authorization().await.unwrap_err();
        assert!(matches!(e, AuthError::CliFailed { .. }), "{e:?}");
        let display = e.to_string();
        assert!(display.contains(message), "{display}");
        assert!(display.contains("exit code 1"), "{display}");
        assert!(
            display.contains("databricks auth login --host https://h.cloud.databricks.com"),
            "{display}"
        );
    }

    #[tokio::test]
    async fn garbage_output_does_not_leak() {
        let stub = Stub::new(&format!("not json {CANARY_TOKEN}"), "", 0);
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
            .with("DATABRICKS_AUTH_TYPE", "databricks-cli")
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        let e = creds.authorization().await.unwrap_err();
        assert!(matches!(e, AuthError::CliOutput { .. }), "{e:?}");
        assert!(!e.to_string().contains(CANARY_TOKEN) && !format!("{e:?}").contains(CANARY_TOKEN));

        // A pinned CLI path that does not exist is a configuration error.
        let env = env
            .clone()
            .with("DATABRICKS_CLI_PATH", "/nonexistent/databricks");
        let e = Credentials::from_config(&resolve(&env), reqwest::Client::new()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/databricks"), "{e}");
    }

    #[tokio::test]
    async fn abandoned_cli_call_kills_the_process() {
        let stub = Stub::script("echo $$ > \"$d/pid\"\nexec sleep 30\n", "", "");
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "https://h.cloud.databricks.com")
            .with("DATABRICKS_AUTH_TYPE", "databricks-cli")
            .with("DATABRICKS_CLI_PATH", stub.path().display().to_string());
        let creds = credentials(&resolve(&env));
        let waited = tokio::time::timeout(Duration::from_secs(3), creds.authorization()).await;
        assert!(waited.is_err(), "the stub never answers");
        let pid = stub.read("pid").trim().to_string();
        if pid.is_empty() {
            // Killed before it got to write its pid (a very loaded machine).
            return;
        }
        // The child was killed when the future was dropped (kill_on_drop): gone or a
        // zombie awaiting reaping.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .chars()
                .next();
            if stat.is_empty() || state == Some('Z') {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "process {pid} still running: {stat}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
