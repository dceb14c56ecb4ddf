//! OAuth 2.1 resource server: JWT access tokens of a loopback test issuer (discovery
//! metadata + JWKS, keys made for the test), checked for signature, issuer, audience,
//! lifetime and scopes; RFC 9728 metadata naming the issuer; static tokens alongside.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use base64::Engine as _;
use databricks_emulator::Emulator;
use databricks_mcp::Settings;
use databricks_mcp::http_auth::Security;
use databricks_mcp::oauth::{OAuth, OAuthArgs};
use databricks_mcp::transport::HttpOptions;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::managed_surfaces::{Served, call, connect, serve};
use crate::support::{is_error, text};

const READ: &str = "databricks-mcp:read";
const WRITE: &str = "databricks-mcp:write";
const STATIC_TOKEN: &str = "static-client-token-0123456789";

/// How the test issuer publishes its metadata.
#[derive(Clone, Copy, PartialEq)]
enum Discovery {
    /// RFC 8414 `/.well-known/oauth-authorization-server`.
    OAuth,
    /// Only OpenID Connect's `/.well-known/openid-configuration`.
    OpenId,
}

/// A loopback authorization server: metadata, a JWKS that can change, fetch counts.
struct Issuer {
    url: String,
    jwks: Arc<Mutex<Vec<Jwk>>>,
    jwks_fetches: Arc<AtomicUsize>,
    _stop: tokio_util::sync::DropGuard,
}

impl Issuer {
    async fn start(discovery: Discovery, keys: &[&SigningKey]) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let jwks = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let metadata = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/keys"),
            "authorization_endpoint": format!("{url}/authorize"),
            "token_endpoint": format!("{url}/token"),
            "response_types_supported": ["code"],
        });
        let path = match discovery {
            Discovery::OAuth => "/.well-known/oauth-authorization-server",
            Discovery::OpenId => "/.well-known/openid-configuration",
        };
        let (set, count) = (jwks.clone(), jwks_fetches.clone());
        let app = axum::Router::new()
            .route(path, get(move || async move { axum::Json(metadata) }))
            .route(
                "/keys",
                get(move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    let keys = set.lock().unwrap().clone();
                    axum::Json(JwkSet { keys })
                }),
            );
        let stop = tokio_util::sync::CancellationToken::new();
        let cancelled = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { cancelled.cancelled().await })
                .await;
        });
        Issuer {
            url,
            jwks,
            jwks_fetches,
            _stop: stop.drop_guard(),
        }
    }

    fn publish(&self, key: &SigningKey) {
        self.jwks.lock().unwrap().push(key.jwk());
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

/// A signing key with its `kid`.
struct SigningKey {
    kid: String,
    alg: Algorithm,
    key: EncodingKey,
}

impl SigningKey {
    /// The fixed RSA test key of tests/fixtures/oauth.
    fn rsa(kid: &str) -> SigningKey {
        let pem = include_str!("../fixtures/oauth/rsa-test-key.pem");
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        SigningKey {
            kid: kid.into(),
            alg: Algorithm::RS256,
            key: EncodingKey::from_rsa_der(&der),
        }
    }

    /// A P-256 key made for this test.
    fn ec(kid: &str) -> SigningKey {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        SigningKey {
            kid: kid.into(),
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a good token for `audience` with `scope`.
fn claims(issuer: &Issuer, audience: &str, scope: &str) -> Value {
    json!({
        "iss": issuer.url,
        "aud": audience,
        "sub": "user-42",
        "client_id": "test-client",
        "scope": scope,
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + 300,
    })
}

fn options(issuer: &Issuer, static_tokens: &[&str]) -> HttpOptions {
    let oauth = OAuth::from_args(&OAuthArgs {
        oauth_issuer: Some(issuer.url.clone()),
        ..OAuthArgs::default()
    })
    .unwrap();
    HttpOptions {
        security: Security {
            oauth,
            ..Security::default()
        }
        .with_tokens(static_tokens),
        ..HttpOptions::default()
    }
}

fn writes() -> Settings {
    Settings {
        allow_writes: true,
        // These tests are about running writes; confirming them is tests/it/operations.rs's.
        confirm_writes: databricks_mcp::confirm::ConfirmMode::Never,
        ..Settings::default()
    }
}

/// A stateless (2026-07-28) JSON-RPC request over plain HTTP.
async fn rpc(url: &str, token: Option<&str>, method: &str, params: Value) -> reqwest::Response {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "oauth-test", "version": "0"}
    });
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string());
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        request = request.header("mcp-name", name);
    }
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

async fn list_tools(served: &Served, token: &str) -> reqwest::Response {
    rpc(&served.url("/mcp"), Some(token), "tools/list", json!({})).await
}

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_valid_token_lists_and_calls_tools_and_never_reaches_databricks() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let ec = SigningKey::ec("ec-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa, &ec]).await;
    let served = serve(&emulator, writes(), options(&issuer, &[])).await;
    let resource = served.url("/mcp");
    let token = rsa.sign(&claims(&issuer, &resource, &format!("{READ} {WRITE}")));

    // A real MCP client (legacy session over streamable HTTP).
    let client = connect(&resource, Some(&token)).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "run_sql_query"));
    let r = call(&client, "run_sql_query", json!({"query": "SELECT 1"}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;

    // ES256 works too, on a managed route whose resource is its own URL.
    let sql = served.url("/api/2.0/mcp/sql");
    let es = ec.sign(&claims(&issuer, &sql, READ));
    let client = connect(&sql, Some(&es)).await;
    let r = call(
        &client,
        "execute_sql_read_only",
        json!({"query": "SELECT 1"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;

    // The client's token is never passed on: Databricks sees the server's own.
    for r in emulator.requests() {
        assert_eq!(
            r.header("authorization").unwrap_or(""),
            format!("Bearer {}", emulator.pat())
        );
        let all = serde_json::to_string(&r).unwrap();
        assert!(!all.contains(&token) && !all.contains(&es));
    }
    // The keys were fetched once for all of it.
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test]
async fn protected_resource_metadata_advertises_the_issuer_and_scopes() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let served = serve(&emulator, Settings::default(), options(&issuer, &[])).await;
    for path in ["/mcp", "/api/2.0/mcp/sql", ""] {
        let meta: Value =
            reqwest::get(served.url(&format!("/.well-known/oauth-protected-resource{path}")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(meta["resource"], served.url(path));
        assert_eq!(meta["authorization_servers"], json!([issuer.url]));
        assert_eq!(meta["scopes_supported"], json!([READ, WRITE]));
    }
    // Without a token: 401 pointing at the metadata, with the scope to ask for.
    let r = rpc(&served.url("/mcp"), None, "tools/list", json!({})).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenge(&r),
        format!(
            "Bearer resource_metadata=\"{}\", scope=\"{READ}\"",
            served.url("/.well-known/oauth-protected-resource/mcp")
        )
    );
}

#[tokio::test]
async fn bad_tokens_get_401_invalid_token() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let ec = SigningKey::ec("ec-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa, &ec]).await;
    let served = serve(&emulator, Settings::default(), options(&issuer, &[])).await;
    let resource = served.url("/mcp");
    let good = claims(&issuer, &resource, READ);
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let metadata = served.url("/.well-known/oauth-protected-resource/mcp");
    let impostor = SigningKey::ec("ec-1");
    let hmac = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        let secret = EncodingKey::from_secret(b"a shared secret").unwrap();
        jsonwebtoken::encode(&header, &good, &secret).unwrap()
    };
    let unsigned = {
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "typ": "JWT"})),
            b64(good.clone())
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong audience",
            rsa.sign(&with("aud", json!("https://other.example.com/mcp"))),
            "not issued for this server",
        ),
        (
            "another route's audience",
            rsa.sign(&with("aud", json!(served.url("/api/2.0/mcp/sql")))),
            "not issued for this server",
        ),
        (
            "expired",
            rsa.sign(&with("exp", json!(now() - 120))),
            "has expired",
        ),
        (
            "not yet valid",
            rsa.sign(&with("nbf", json!(now() + 600))),
            "not valid yet",
        ),
        (
            "signed by another key",
            impostor.sign(&good),
            "signature does not verify",
        ),
        (
            "unknown kid",
            SigningKey::ec("nobody").sign(&good),
            "not one of the authorization server",
        ),
        (
            "another issuer",
            rsa.sign(&with("iss", json!("https://evil.example.com"))),
            "not issued by the authorization server",
        ),
        (
            "no audience",
            {
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("aud");
                rsa.sign(&c)
            },
            "lacks a required claim",
        ),
        ("HS256", hmac, "algorithm is not accepted"),
        ("alg none", unsigned, "not a JWT access token"),
        ("not a JWT", "x".repeat(40), "not a JWT access token"),
    ];
    for (name, token, description) in cases {
        let r = list_tools(&served, &token).await;
        assert_eq!(r.status(), 401, "{name}");
        let c = challenge(&r);
        assert!(
            c.starts_with("Bearer error=\"invalid_token\""),
            "{name}: {c}"
        );
        assert!(c.contains(description), "{name}: {c}");
        assert!(
            c.contains(&format!("resource_metadata=\"{metadata}\"")),
            "{name}: {c}"
        );
        assert!(
            !c.contains(&token),
            "{name}: the challenge repeats the token"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{name}");
    }
    // The good token, for contrast.
    let r = list_tools(&served, &rsa.sign(&good)).await;
    assert_eq!(r.status(), 200);
    // The unknown kid caused one refetch at most (rate-limited), not one per token.
    assert!(issuer.fetches() <= 2, "{} fetches", issuer.fetches());
}

#[tokio::test]
async fn scopes_decide_what_a_token_may_do() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let served = serve(&emulator, writes(), options(&issuer, &[])).await;
    let mcp = served.url("/mcp");
    let sql = served.url("/api/2.0/mcp/sql");
    let metadata = served.url("/.well-known/oauth-protected-resource/mcp");
    let read_only = rsa.sign(&claims(&issuer, &mcp, READ));

    // Reading works with the read scope.
    assert_eq!(list_tools(&served, &read_only).await.status(), 200);
    let r = rpc(
        &mcp,
        Some(&read_only),
        "tools/call",
        json!({"name": "list_warehouses", "arguments": {}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("\"isError\":true"));

    // A write tool (run_sql_query under --allow-writes) needs the write scope: 403 for
    // step-up, naming every scope the call needs; nothing reaches the warehouse.
    let before = emulator.requests().len();
    let r = rpc(
        &mcp,
        Some(&read_only),
        "tools/call",
        json!({"name": "run_sql_query", "arguments": {"query": "SELECT 1"}}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        challenge(&r),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{READ} {WRITE}\", error_description=\"this tool may change the workspace: the token needs the write scope\", resource_metadata=\"{metadata}\""
        )
    );
    assert_eq!(emulator.requests().len(), before);
    // The same on the managed SQL route (execute_sql writes there).
    let r = rpc(
        &sql,
        Some(&rsa.sign(&claims(&issuer, &sql, READ))),
        "tools/call",
        json!({"name": "execute_sql", "arguments": {"query": "SELECT 1"}}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(challenge(&r).contains("insufficient_scope"));
    // Through a real MCP client too: the call fails, the session stays usable.
    let client = connect(&mcp, Some(&read_only)).await;
    let params = rmcp::model::CallToolRequestParams::new("run_sql_query")
        .with_arguments(json!({"query": "SELECT 1"}).as_object().unwrap().clone());
    assert!(client.call_tool(params).await.is_err());
    let r = call(&client, "list_warehouses", json!({}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;

    // With the write scope the call runs.
    let writer = rsa.sign(&claims(&issuer, &mcp, &format!("{READ} {WRITE}")));
    let r = rpc(
        &mcp,
        Some(&writer),
        "tools/call",
        json!({"name": "run_sql_query", "arguments": {"query": "SELECT 1"}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("\"isError\":true"));

    // Without the read scope nothing is allowed (scp as an array is understood too).
    let mut no_read = claims(&issuer, &mcp, "");
    no_read["scp"] = json!(["something-else"]);
    let r = list_tools(&served, &rsa.sign(&no_read)).await;
    assert_eq!(r.status(), 403);
    assert!(
        challenge(&r).starts_with(&format!(
            "Bearer error=\"insufficient_scope\", scope=\"{READ}\""
        )),
        "{}",
        challenge(&r)
    );
    let mut scp = claims(&issuer, &mcp, "");
    scp["scp"] = json!([READ]);
    assert_eq!(list_tools(&served, &rsa.sign(&scp)).await.status(), 200);
}

#[tokio::test]
async fn read_only_mode_needs_no_write_scope_for_sql() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let served = serve(&emulator, Settings::default(), options(&issuer, &[])).await;
    let mcp = served.url("/mcp");
    let token = rsa.sign(&claims(&issuer, &mcp, READ));
    // Without --allow-writes run_sql_query is read-only (sql-guard refuses writes).
    let r = rpc(
        &mcp,
        Some(&token),
        "tools/call",
        json!({"name": "run_sql_query", "arguments": {"query": "SELECT 1"}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("\"isError\":true"));
}

#[tokio::test]
async fn static_tokens_keep_working_alongside_oauth() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let served = serve(&emulator, writes(), options(&issuer, &[STATIC_TOKEN])).await;
    let client = connect(&served.url("/mcp"), Some(STATIC_TOKEN)).await;
    // A static token is the operator's own credential: every tool, writes included.
    let r = call(&client, "run_sql_query", json!({"query": "SELECT 1"}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;
    // No JWT was needed for it.
    assert_eq!(issuer.fetches(), 0);
    let r = list_tools(&served, "static-client-token-but-wrong").await;
    assert_eq!(r.status(), 401);
    assert!(challenge(&r).contains("invalid_token"));
    for r in emulator.requests() {
        assert!(!serde_json::to_string(&r).unwrap().contains(STATIC_TOKEN));
    }
}

#[tokio::test]
async fn keys_are_rotated_and_discovery_falls_back_to_openid_configuration() {
    let emulator = Emulator::start().await;
    let old = SigningKey::rsa("old");
    let issuer = Issuer::start(Discovery::OpenId, &[&old]).await;
    let served = serve(&emulator, Settings::default(), options(&issuer, &[])).await;
    let mcp = served.url("/mcp");
    let r = list_tools(&served, &old.sign(&claims(&issuer, &mcp, READ))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(issuer.fetches(), 1);
    // The issuer starts signing with a new key: its kid is unknown, the JWKS is
    // fetched again and the token accepted.
    let new = SigningKey::ec("new");
    issuer.publish(&new);
    let r = list_tools(&served, &new.sign(&claims(&issuer, &mcp, READ))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(issuer.fetches(), 2);
    // Unknown kids right after do not make the server fetch again (rate limit).
    for i in 0..5 {
        let stranger = SigningKey::ec(&format!("stranger-{i}"));
        let r = list_tools(&served, &stranger.sign(&claims(&issuer, &mcp, READ))).await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_issuer_is_503_not_an_invalid_token() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let oauth = OAuth::from_args(&OAuthArgs {
        oauth_issuer: Some(format!("http://{closed}")),
        ..OAuthArgs::default()
    })
    .unwrap();
    let options = HttpOptions {
        security: Security {
            oauth,
            ..Security::default()
        },
        ..HttpOptions::default()
    };
    let served = serve(&emulator, Settings::default(), options).await;
    let mut c = claims(&issuer, &served.url("/mcp"), READ);
    c["iss"] = json!(format!("http://{closed}"));
    let r = list_tools(&served, &rsa.sign(&c)).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(challenge(&r).is_empty());
}

#[tokio::test]
async fn an_audience_override_replaces_the_resource_url() {
    let emulator = Emulator::start().await;
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let oauth = OAuth::from_args(&OAuthArgs {
        oauth_issuer: Some(issuer.url.clone()),
        oauth_audience: Some("api://databricks-mcp".into()),
        ..OAuthArgs::default()
    })
    .unwrap();
    let options = HttpOptions {
        security: Security {
            oauth,
            ..Security::default()
        },
        ..HttpOptions::default()
    };
    let served = serve(&emulator, Settings::default(), options).await;
    let ok = rsa.sign(&claims(&issuer, "api://databricks-mcp", READ));
    assert_eq!(list_tools(&served, &ok).await.status(), 200);
    let resource = rsa.sign(&claims(&issuer, &served.url("/mcp"), READ));
    assert_eq!(list_tools(&served, &resource).await.status(), 401);
}

#[tokio::test]
async fn a_function_that_is_not_read_only_needs_the_write_scope_too() {
    use databricks_emulator::{FaultResponse, FaultRule};
    let emulator = Emulator::start().await;
    // A Python function: its tool is not read-only (its effects are unknown).
    let list = include_str!("../../../databricks-emulator/fixtures/uc_functions_list.json")
        .replace(
            "\"routine_body\": \"SQL\"",
            "\"routine_body\": \"EXTERNAL\"",
        );
    emulator.push_fault(FaultRule::get(
        "/api/2.1/unity-catalog/functions",
        vec![FaultResponse::json(200, list.clone()); 4],
    ));
    let rsa = SigningKey::rsa("rsa-1");
    let issuer = Issuer::start(Discovery::OAuth, &[&rsa]).await;
    let served = serve(&emulator, Settings::default(), options(&issuer, &[])).await;
    let route = served.url("/api/2.0/mcp/functions/main/sales");
    let read_only = rsa.sign(&claims(&issuer, &route, READ));
    let client = connect(&route, Some(&read_only)).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(
        tools[0].annotations.as_ref().unwrap().read_only_hint,
        Some(false)
    );
    // Tools computed from the workspace are not known to the HTTP guard: the server
    // refuses the call itself, as a tool error naming the scope.
    let r = call(
        &client,
        "main__sales__mask_email",
        json!({"email": "a@b.c"}),
        None,
    )
    .await;
    assert!(is_error(&r));
    assert!(text(&r).contains(WRITE), "{}", text(&r));
    assert!(crate::support::requests(&emulator, "POST", "/api/2.0/sql/statements").is_empty());
    let _ = client.cancel().await;
    // With the write scope it runs.
    let writer = rsa.sign(&claims(&issuer, &route, &format!("{READ} {WRITE}")));
    let client = connect(&route, Some(&writer)).await;
    let r = call(
        &client,
        "main__sales__mask_email",
        json!({"email": "a@b.c"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;
}
