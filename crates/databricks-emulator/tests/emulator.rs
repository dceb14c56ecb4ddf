//! End-to-end tests of the emulator through a real HTTP client.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use databricks_emulator::{
    Emulator, EmulatorConfig, FaultResponse, FaultRule, StatementScript, fixture,
};
use serde_json::{Value, json};

const WAREHOUSE: &str = "abcdef0123456789";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(emu: &Emulator) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: emu.base_url(),
            token: emu.pat().to_string(),
        }
    }

    fn with_token(emu: &Emulator, token: &str) -> Client {
        Client {
            token: token.to_string(),
            ..Client::new(emu)
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.bearer_auth(&self.token).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn get_q(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)).query(query))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    async fn execute(&self, statement: &str) -> (u16, Value) {
        self.post(
            "/api/2.0/sql/statements",
            json!({"statement": statement, "warehouse_id": WAREHOUSE, "wait_timeout": "0s"}),
        )
        .await
    }
}

fn state(v: &Value) -> &str {
    v.pointer("/status/state").and_then(Value::as_str).unwrap()
}

fn id(v: &Value) -> String {
    v["statement_id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------
// Auth

#[tokio::test]
async fn pat_is_accepted_and_anything_else_refused() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (status, me) = c.get("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(status, 200);
    assert_eq!(me["userName"], "alice@example.com");

    let (status, body) = Client::with_token(&emu, "wrong")
        .get("/api/2.0/preview/scim/v2/Me")
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        serde_json::from_str::<Value>(fixture("error_401_unauthenticated.json")).unwrap()
    );

    let resp = reqwest::get(emu.url("/api/2.0/preview/scim/v2/Me"))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    // Every request is recorded, refused ones included, Authorization header and all.
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer dapi-emulator-token")
    );
    assert_eq!(reqs[1].header("Authorization"), Some("Bearer wrong"));
    assert_eq!(reqs[2].header("authorization"), None);
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

async fn token_request(emu: &Emulator, id: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(emu.url("/oidc/v1/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn m2m_tokens_are_issued_and_expire() {
    let emu = Emulator::start_with(EmulatorConfig {
        m2m_token_ttl: Duration::from_millis(300),
        ..EmulatorConfig::default()
    })
    .await;

    let wk: Value = reqwest::get(emu.url("/oidc/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wk["token_endpoint"], emu.url("/oidc/v1/token"));
    assert_eq!(wk["authorization_endpoint"], emu.url("/oidc/v1/authorize"));
    assert_eq!(wk["issuer"], emu.url("/oidc"));
    let resp = reqwest::get(emu.url("/.well-known/databricks-config"))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);

    let bad = token_request(&emu, "emu-client", "nope").await;
    assert_eq!(bad.status().as_u16(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let good = token_request(&emu, "emu-client", "emu-secret").await;
    assert_eq!(good.status().as_u16(), 200);
    let body: Value = good.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 0); // 300 ms rounds down to 0 s
    assert_eq!(body["scope"], "all-apis");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("emu-m2m-"));

    let c = Client::with_token(&emu, &token);
    assert_eq!(c.get("/api/2.0/preview/scim/v2/Me").await.0, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.get("/api/2.0/preview/scim/v2/Me").await.0, 401);

    // Client credentials as form fields work too; expire_m2m_tokens kills them.
    let resp = reqwest::Client::new()
        .post(emu.url("/oidc/v1/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "emu-client"),
            ("client_secret", "emu-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let token2 = resp.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(token, token2);
    let c2 = Client::with_token(&emu, &token2);
    assert_eq!(c2.get("/api/2.0/preview/scim/v2/Me").await.0, 200);
    emu.expire_m2m_tokens();
    assert_eq!(c2.get("/api/2.0/preview/scim/v2/Me").await.0, 401);
    assert_eq!(emu.token_requests(), 3);
}

// ---------------------------------------------------------------------------------------
// Faults and latency

#[tokio::test]
async fn fault_rules_are_consumed_then_normal_handling_resumes() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.push_fault(FaultRule::get(
        "/api/2.0/sql/warehouses",
        vec![
            FaultResponse::status(503),
            FaultResponse::json(429, fixture("error_429_request_limit_exceeded.json"))
                .with_header("Retry-After", "1")
                .with_delay(Duration::from_millis(50)),
        ],
    ));
    // A POST does not match a GET rule.
    let (status, _) = c
        .post(
            &format!("/api/2.0/sql/warehouses/{WAREHOUSE}/start"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    let first = reqwest::Client::new()
        .get(emu.url("/api/2.0/sql/warehouses"))
        .bearer_auth(emu.pat())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 503);
    assert_eq!(first.text().await.unwrap(), "");

    let started = Instant::now();
    let second = reqwest::Client::new()
        .get(emu.url("/api/2.0/sql/warehouses"))
        .bearer_auth(emu.pat())
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(second.status().as_u16(), 429);
    assert_eq!(second.headers()["retry-after"], "1");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error_code"], "REQUEST_LIMIT_EXCEEDED");

    let (status, body) = c.get("/api/2.0/sql/warehouses").await;
    assert_eq!(status, 200);
    assert_eq!(body["warehouses"].as_array().unwrap().len(), 2);
    // All four requests reached the emulator and were recorded.
    assert_eq!(emu.requests().len(), 4);

    // FaultResponse::error uses the standard fixture bodies.
    emu.push_fault(FaultRule::once("/api/", FaultResponse::error(500)));
    let (status, body) = c.get("/api/2.0/preview/scim/v2/Me").await;
    assert_eq!(status, 500);
    assert_eq!(body["error_code"], "INTERNAL_ERROR");
}

#[tokio::test]
async fn latency_delays_api_responses_only() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    // A latency far above any scheduling noise, so a loaded machine cannot blur the two.
    emu.set_latency(Duration::from_millis(1500));
    let t = Instant::now();
    assert_eq!(c.get("/api/2.0/preview/scim/v2/Me").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(1500));
    let t = Instant::now();
    let r = reqwest::get(emu.url("/oidc/.well-known/oauth-authorization-server"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(t.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn unknown_routes_are_endpoint_not_found() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (status, body) = c.get("/api/2.0/no/such/thing").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for 'GET /api/2.0/no/such/thing'"})
    );
    let (status, body) = c.post("/api/2.0/sql/warehouses", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "No API found for 'POST /api/2.0/sql/warehouses'"
    );
}

// ---------------------------------------------------------------------------------------
// Statements

#[tokio::test]
async fn default_statement_is_the_inline_fixture_with_a_fresh_id() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (status, a) = c.execute("SELECT * FROM main.sales.orders").await;
    assert_eq!(status, 200);
    let (_, b) = c.execute("SELECT 1").await;
    assert_ne!(id(&a), id(&b));
    let mut expected: Value =
        serde_json::from_str(fixture("statements_execute_succeeded_inline.json")).unwrap();
    expected["statement_id"] = json!(id(&a));
    assert_eq!(a, expected);
    let (status, again) = c.get(&format!("/api/2.0/sql/statements/{}", id(&a))).await;
    assert_eq!(status, 200);
    assert_eq!(again, expected);

    // Request validation.
    let (status, body) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "SELECT 1", "warehouse_id": "nope"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
    assert!(body["message"].as_str().unwrap().contains("nope"));
    let (status, body) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"warehouse_id": WAREHOUSE}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
    let (status, body) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "SELECT 1", "warehouse_id": WAREHOUSE, "wait_timeout": "60s"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::from_str::<Value>(fixture("error_400_invalid_parameter_value.json")).unwrap()
    );
    let (status, _) = c.get("/api/2.0/sql/statements/does-not-exist").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn rows_script_pages_through_chunk_links() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "FROM big",
        StatementScript::rows(
            &[
                ("id", "BIGINT"),
                ("name", "STRING"),
                ("price", "DOUBLE"),
                ("ok", "BOOLEAN"),
                ("d", "DATE"),
                ("amount", "DECIMAL(10,2)"),
            ],
            25,
            10,
        ),
    );
    let (status, first) = c.execute("SELECT * FROM big").await;
    assert_eq!(status, 200);
    assert_eq!(state(&first), "SUCCEEDED");
    let m = &first["manifest"];
    assert_eq!(m["format"], "JSON_ARRAY");
    assert_eq!(m["total_chunk_count"], 3);
    assert_eq!(m["total_row_count"], 25);
    assert_eq!(m["truncated"], false);
    assert_eq!(m["schema"]["column_count"], 6);
    assert_eq!(
        m["schema"]["columns"][0],
        json!({"name": "id", "type_text": "BIGINT", "type_name": "LONG", "position": 0})
    );
    assert_eq!(m["schema"]["columns"][5]["type_name"], "DECIMAL");
    assert_eq!(m["schema"]["columns"][5]["type_precision"], 10);
    assert_eq!(m["schema"]["columns"][5]["type_scale"], 2);
    assert_eq!(
        m["chunks"][2],
        json!({"chunk_index": 2, "row_offset": 20, "row_count": 5})
    );

    let sid = id(&first);
    let mut rows: Vec<Value> = Vec::new();
    let mut chunk = first["result"].clone();
    loop {
        rows.extend(chunk["data_array"].as_array().unwrap().iter().cloned());
        let Some(link) = chunk
            .get("next_chunk_internal_link")
            .and_then(Value::as_str)
        else {
            assert!(chunk.get("next_chunk_index").is_none());
            break;
        };
        assert_eq!(
            link,
            format!(
                "/api/2.0/sql/statements/{sid}/result/chunks/{}",
                chunk["next_chunk_index"]
            )
        );
        let (status, next) = c.get(link).await;
        assert_eq!(status, 200);
        chunk = next;
    }
    assert_eq!(rows.len(), 25);
    assert_eq!(
        rows[0],
        json!(["0", "s0", "0.0", "true", "2024-01-01", "0.00"])
    );
    assert_eq!(rows[3][2], "4.5");
    assert_eq!(rows[6][1], Value::Null); // every 7th STRING is NULL
    assert_eq!(rows[24][0], "24");
    assert_eq!(rows[24][4], "2024-01-25");

    // Any chunk, any order; out of range is an error.
    let (status, c1) = c
        .get(&format!("/api/2.0/sql/statements/{sid}/result/chunks/1"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(c1["chunk_index"], 1);
    assert_eq!(c1["row_offset"], 10);
    assert_eq!(c1["row_count"], 10);
    assert_eq!(c1["next_chunk_index"], 2);
    let (status, _) = c
        .get(&format!("/api/2.0/sql/statements/{sid}/result/chunks/3"))
        .await;
    assert_eq!(status, 400);

    // row_limit truncates.
    let (_, limited) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "SELECT * FROM big", "warehouse_id": WAREHOUSE, "row_limit": 12}),
        )
        .await;
    assert_eq!(limited["manifest"]["total_row_count"], 12);
    assert_eq!(limited["manifest"]["truncated"], true);
    assert_eq!(limited["manifest"]["total_chunk_count"], 2);
}

#[tokio::test]
async fn a_million_rows_are_generated_lazily() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "range(1000000)",
        StatementScript::rows(&[("id", "BIGINT"), ("s", "STRING")], 1_000_000, 50_000),
    );
    let t = Instant::now();
    let (_, first) = c.execute("SELECT * FROM range(1000000)").await;
    assert_eq!(first["manifest"]["total_chunk_count"], 20);
    assert_eq!(first["manifest"]["total_row_count"], 1_000_000);
    let (status, last) = c
        .get(&format!(
            "/api/2.0/sql/statements/{}/result/chunks/19",
            id(&first)
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(last["row_offset"], 950_000);
    assert_eq!(last["data_array"][0][0], "950000");
    assert_eq!(last["data_array"].as_array().unwrap().len(), 50_000);
    assert!(last.get("next_chunk_index").is_none());
    // Only a sanity bound, loose enough for a debug build on a loaded machine: the shapes
    // above are the test.
    assert!(t.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn pending_statement_polls_to_success() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "slow",
        StatementScript::pending(2, StatementScript::rows(&[("n", "INT")], 3, 0)),
    );
    let (_, v) = c.execute("SELECT slow()").await;
    assert_eq!(
        v,
        json!({"statement_id": id(&v), "status": {"state": "PENDING"}})
    );
    let path = format!("/api/2.0/sql/statements/{}", id(&v));
    let mut states = Vec::new();
    for _ in 0..5 {
        let (status, p) = c.get(&path).await;
        assert_eq!(status, 200);
        states.push(state(&p).to_string());
    }
    assert_eq!(
        states,
        ["PENDING", "PENDING", "RUNNING", "SUCCEEDED", "SUCCEEDED"]
    );
    let (_, done) = c.get(&path).await;
    assert_eq!(done["result"]["data_array"], json!([["0"], ["1"], ["2"]]));
    assert!(done["result"].get("next_chunk_index").is_none());

    // The config knob makes every unscripted statement pending.
    let emu = Emulator::start_with(EmulatorConfig {
        statement_pending_polls: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let c = Client::new(&emu);
    let (_, v) = c.execute("SELECT 1").await;
    assert_eq!(state(&v), "PENDING");
    let path = format!("/api/2.0/sql/statements/{}", id(&v));
    assert_eq!(state(&c.get(&path).await.1), "PENDING");
    assert_eq!(state(&c.get(&path).await.1), "RUNNING");
    assert_eq!(state(&c.get(&path).await.1), "SUCCEEDED");
}

#[tokio::test]
async fn cancel_is_recorded_and_cancels_a_running_statement() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "forever",
        StatementScript::pending(100, StatementScript::NoResult),
    );
    let (_, v) = c.execute("SELECT forever()").await;
    let sid = id(&v);
    let (status, body) = c
        .post(&format!("/api/2.0/sql/statements/{sid}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({}));
    assert_eq!(emu.cancelled_statements(), vec![sid.clone()]);
    let (_, after) = c.get(&format!("/api/2.0/sql/statements/{sid}")).await;
    assert_eq!(
        after,
        json!({"statement_id": sid, "status": {"state": "CANCELED"}})
    );
    let (status, _) = c
        .get(&format!("/api/2.0/sql/statements/{sid}/result/chunks/0"))
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .post("/api/2.0/sql/statements/unknown/cancel", json!({}))
        .await;
    assert_eq!(status, 404);

    // Cancelling a finished statement loses the race: it stays SUCCEEDED.
    let (_, done) = c.execute("SELECT 1").await;
    c.post(
        &format!("/api/2.0/sql/statements/{}/cancel", id(&done)),
        json!({}),
    )
    .await;
    let (_, after) = c
        .get(&format!("/api/2.0/sql/statements/{}", id(&done)))
        .await;
    assert_eq!(state(&after), "SUCCEEDED");

    // Synchronous mode with CANCEL on wait timeout: a slow statement comes back CANCELED.
    let (_, v) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "SELECT forever()", "warehouse_id": WAREHOUSE,
                   "wait_timeout": "30s", "on_wait_timeout": "CANCEL"}),
        )
        .await;
    assert_eq!(state(&v), "CANCELED");
}

#[tokio::test]
async fn failed_canceled_and_no_result_scripts() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "SELEC ",
        StatementScript::failed(
            "BAD_REQUEST",
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)",
            Some("42601"),
        ),
    );
    emu.script_statement("CREATE TABLE", StatementScript::NoResult);
    emu.script_statement("doomed", StatementScript::Canceled);
    emu.script_statement(
        "ext",
        StatementScript::Fixture("statements_failed_table_not_found.json".into()),
    );

    let (status, v) = c.execute("SELEC 1").await;
    assert_eq!(status, 200);
    let mut expected: Value = serde_json::from_str(fixture("statements_failed.json")).unwrap();
    expected["statement_id"] = json!(id(&v));
    assert_eq!(v, expected);

    let (_, v) = c.execute("CREATE TABLE t (a INT)").await;
    assert_eq!(state(&v), "SUCCEEDED");
    assert!(v.get("result").is_none());
    assert_eq!(v["manifest"]["schema"]["column_count"], 0);
    assert_eq!(v["manifest"]["total_row_count"], 0);

    let (_, v) = c.execute("SELECT doomed").await;
    assert_eq!(state(&v), "CANCELED");

    let (_, v) = c.execute("SELECT * FROM ext").await;
    assert_eq!(state(&v), "FAILED");
    assert_eq!(v["status"]["sql_state"], "42P01");
}

#[tokio::test]
async fn external_links_are_downloaded_without_the_token() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    emu.script_statement(
        "FROM t",
        StatementScript::rows(&[("id", "BIGINT"), ("name", "STRING")], 5, 3),
    );
    let (status, v) = c
        .post(
            "/api/2.0/sql/statements",
            json!({"statement": "SELECT * FROM t", "warehouse_id": WAREHOUSE,
                   "disposition": "EXTERNAL_LINKS", "format": "JSON_ARRAY"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["manifest"]["total_chunk_count"], 2);
    assert!(v["manifest"]["total_byte_count"].as_u64().unwrap() > 0);
    let link = &v["result"]["external_links"][0];
    assert_eq!(link["next_chunk_index"], 1);
    let url = link["external_link"].as_str().unwrap();

    let with_token = reqwest::Client::new()
        .get(url)
        .bearer_auth(emu.pat())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status().as_u16(), 400);
    let rows: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(rows, json!([["0", "s0"], ["1", "s1"], ["2", "s2"]]));
    assert_eq!(
        link["byte_count"].as_u64().unwrap(),
        rows.to_string().len() as u64
    );

    let (status, c1) = c
        .get(link["next_chunk_internal_link"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let l1 = &c1["external_links"][0];
    assert_eq!(l1["row_offset"], 3);
    assert!(l1.get("next_chunk_index").is_none());
    let csv = reqwest::Client::new()
        .post(emu.url("/api/2.0/sql/statements"))
        .bearer_auth(emu.pat())
        .json(
            &json!({"statement": "SELECT * FROM t", "warehouse_id": WAREHOUSE,
                      "disposition": "EXTERNAL_LINKS", "format": "CSV"}),
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let url = csv["result"]["external_links"][0]["external_link"]
        .as_str()
        .unwrap();
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    // The first chunk's header row (§1.1, format CSV).
    assert_eq!(text, "id,name\n0,s0\n1,s1\n2,s2\n");
}

// ---------------------------------------------------------------------------------------
// Jobs

#[tokio::test]
async fn jobs_list_pages_over_synthesised_jobs() {
    let emu = Emulator::start_with(EmulatorConfig {
        jobs: 60,
        ..EmulatorConfig::default()
    })
    .await;
    let c = Client::new(&emu);
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = vec![("limit", "25".to_string())];
        if let Some(t) = &token {
            q.push(("page_token", t.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = c.get_q("/api/2.2/jobs/list", &q).await;
        assert_eq!(status, 200);
        pages += 1;
        for j in page["jobs"].as_array().unwrap() {
            ids.push(j["job_id"].as_i64().unwrap());
        }
        if page["has_more"] == json!(true) {
            token = Some(page["next_page_token"].as_str().unwrap().to_string());
        } else {
            assert!(page.get("next_page_token").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 60);
    assert_eq!(&ids[..3], &[11_223_344, 55_667_788, 1002]);
    assert_eq!(ids[59], 1059);
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 60);

    // Default page size 20, same under 2.1.
    let (_, page) = c.get("/api/2.1/jobs/list").await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 20);
    assert_eq!(page["jobs"][2]["settings"]["name"], "job-2");

    let (status, body) = c.get_q("/api/2.2/jobs/list", &[("limit", "101")]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");

    assert_eq!(c.get("/api/2.2/jobs/get").await.0, 400);
    assert_eq!(c.get("/api/2.2/jobs/get?job_id=abc").await.0, 400);
    // A missing job is 400 INVALID_PARAMETER_VALUE on the real API, not 404.
    let (status, body) = c.get("/api/2.2/jobs/get?job_id=99999999").await;
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
    let (status, job) = c.get("/api/2.2/jobs/get?job_id=1030").await;
    assert_eq!(status, 200);
    assert_eq!(job["settings"]["name"], "job-30");
    let (_, job) = c.get("/api/2.2/jobs/get?job_id=11223344").await;
    assert_eq!(
        job,
        serde_json::from_str::<Value>(fixture("jobs_get.json")).unwrap()
    );
}

#[tokio::test]
async fn job_runs_are_created_polled_and_cancelled() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (_, runs) = c.get("/api/2.2/jobs/runs/list?job_id=11223344").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3);
    assert!(runs["runs"][0].get("tasks").is_none());
    let (_, none) = c.get("/api/2.2/jobs/runs/list?job_id=55667788").await;
    assert!(none.get("runs").is_none());
    assert_eq!(none["has_more"], false);
    assert_eq!(
        c.get("/api/2.2/jobs/runs/list?limit=26").await.0,
        400,
        "runs/list limit is 1-25"
    );

    let (status, run) = c
        .post(
            "/api/2.2/jobs/run-now",
            json!({"job_id": 11223344, "job_parameters": {"run_date": "2024-05-01"}}),
        )
        .await;
    assert_eq!(status, 200);
    let run_id = run["run_id"].as_i64().unwrap();
    assert_eq!(run["number_in_job"], run_id);
    let get = format!("/api/2.2/jobs/runs/get?run_id={run_id}");
    let (_, r) = c.get(&get).await;
    assert_eq!(r["state"]["life_cycle_state"], "PENDING");
    assert_eq!(r["job_parameters"][0]["value"], "2024-05-01");
    let (_, r) = c.get(&get).await;
    assert_eq!(r["status"]["state"], "RUNNING");
    let (status, _) = c
        .post("/api/2.2/jobs/runs/cancel", json!({"run_id": run_id}))
        .await;
    assert_eq!(status, 200);
    let (_, r) = c.get(&get).await;
    assert_eq!(r["state"]["result_state"], "CANCELED");
    assert_eq!(r["status"]["termination_details"]["code"], "USER_CANCELED");

    // Multi-task parent runs have no output of their own; task runs do.
    let (status, body) = c
        .get("/api/2.2/jobs/runs/get-output?run_id=455600001")
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("multiple tasks"));
    let (status, out) = c.get("/api/2.2/jobs/runs/get-output?run_id=2112892").await;
    assert_eq!(status, 200);
    assert_eq!(out["error"], "ZeroDivisionError: division by zero");
    // A missing job is 400 INVALID_PARAMETER_VALUE, as for jobs/get.
    assert_eq!(
        c.post("/api/2.2/jobs/run-now", json!({"job_id": 1}))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn finished_runs_are_repaired_through_the_run_progression() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    // The fixture run: `ingest` failed, `publish` was skipped.
    let failed_run = 455600001;
    let get = format!("/api/2.2/jobs/runs/get?run_id={failed_run}");
    let (_, before) = c.get(&get).await;
    let repair = |body: Value| c.post("/api/2.2/jobs/runs/repair", body);
    let (status, v) = repair(json!({"run_id": failed_run, "rerun_tasks": ["nope"]})).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
    let (status, v) = repair(json!({"run_id": failed_run})).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
    let (status, _) = repair(json!({"rerun_all_failed_tasks": true})).await;
    assert_eq!(status, 400, "run_id is required");
    let (status, _) = repair(json!({"run_id": 1, "rerun_all_failed_tasks": true})).await;
    assert_eq!(status, 400, "a missing run is an invalid parameter");

    let (status, v) = c
        .post(
            "/api/2.1/jobs/runs/repair",
            json!({"run_id": failed_run, "rerun_all_failed_tasks": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let repair_id = v["repair_id"].as_i64().unwrap();
    let mut states = Vec::new();
    for _ in 0..4 {
        let last = c.get(&get).await.1;
        states.push(
            last["state"]["life_cycle_state"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(states, ["PENDING", "RUNNING", "RUNNING", "TERMINATED"]);
    let (_, after) = c.get(&get).await;
    assert_eq!(after["state"]["result_state"], "SUCCESS", "{after}");
    for (old, new) in before["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["tasks"].as_array().unwrap())
    {
        assert_ne!(old["run_id"], new["run_id"]);
        assert_eq!(new["attempt_number"], 1);
        assert_eq!(new["state"]["result_state"], "SUCCESS");
    }
    let history = after["repair_history"].as_array().unwrap();
    assert_eq!(history[0]["type"], "ORIGINAL");
    assert_eq!(history[1]["id"], repair_id);
    assert_eq!(history[1]["state"]["result_state"], "SUCCESS");
    // latest_repair_id must be the latest; a run in progress cannot be repaired.
    let (status, _) =
        repair(json!({"run_id": failed_run, "rerun_tasks": ["ingest"], "latest_repair_id": 1}))
            .await;
    assert_eq!(status, 400);
    let (status, _) = repair(
        json!({"run_id": failed_run, "rerun_tasks": ["ingest"], "latest_repair_id": repair_id}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = repair(json!({"run_id": failed_run, "rerun_tasks": ["ingest"]})).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_STATE"))
    );
}

#[tokio::test]
async fn running_clusters_restart_and_record_their_events() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let running = "0923-164208-meows279";
    let get = format!("/api/2.1/clusters/get?cluster_id={running}");
    let (status, _) = c
        .post("/api/2.1/clusters/restart", json!({"cluster_id": running}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(c.get(&get).await.1["state"], "RESTARTING");
    assert_eq!(c.get(&get).await.1["state"], "RUNNING");
    let (status, v) = c
        .post(
            "/api/2.0/clusters/restart",
            json!({"cluster_id": "1108-090412-ab12cd34"}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("INVALID_STATE"))
    );
    let (status, _) = c
        .post("/api/2.1/clusters/delete", json!({"cluster_id": running}))
        .await;
    assert_eq!(status, 200);
    let (_, events) = c
        .post(
            "/api/2.1/clusters/events",
            json!({"cluster_id": running, "event_types": ["RESTARTING", "TERMINATING", "TERMINATED"]}),
        )
        .await;
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[..3], ["TERMINATED", "TERMINATING", "RESTARTING"]);
    assert_eq!(
        c.post("/api/2.1/clusters/restart", json!({"cluster_id": "nope"}))
            .await
            .0,
        400
    );
}

// ---------------------------------------------------------------------------------------
// The other services, briefly

#[tokio::test]
async fn catalog_listings_page_and_rename() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (_, page1) = c
        .get_q("/api/2.1/unity-catalog/catalogs", &[("max_results", "2")])
        .await;
    assert_eq!(page1["catalogs"].as_array().unwrap().len(), 2);
    let token = page1["next_page_token"].as_str().unwrap();
    let (_, page2) = c
        .get_q(
            "/api/2.1/unity-catalog/catalogs",
            &[("max_results", "2"), ("page_token", token)],
        )
        .await;
    assert_eq!(page2["catalogs"][0]["name"], "samples");
    assert!(page2.get("next_page_token").is_none());
    // No `max_results`: every result in one answer (the reference's legacy behaviour).
    let (_, all) = c.get("/api/2.1/unity-catalog/catalogs").await;
    assert!(all.get("next_page_token").is_none(), "{all}");
    assert_eq!(
        all["catalogs"].as_array().unwrap().len(),
        page1["catalogs"].as_array().unwrap().len() + page2["catalogs"].as_array().unwrap().len()
    );

    assert_eq!(c.get("/api/2.1/unity-catalog/schemas").await.0, 400);
    let (_, tables) = c
        .get_q(
            "/api/2.1/unity-catalog/tables",
            &[
                ("catalog_name", "dev"),
                ("schema_name", "web"),
                ("max_results", "0"),
            ],
        )
        .await;
    assert_eq!(tables["tables"][0]["full_name"], "dev.web.orders");
    assert_eq!(tables["tables"][1]["schema_name"], "web");
    let (status, t) = c.get("/api/2.1/unity-catalog/tables/a.b.c").await;
    assert_eq!(status, 200);
    assert_eq!(t["full_name"], "a.b.c");
    assert_eq!(t["catalog_name"], "a");
    assert_eq!(t["columns"][0]["name"], "order_id");
    let (status, body) = c
        .get("/api/2.1/unity-catalog/tables/main.sales.missing_t")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error_code"], "TABLE_DOES_NOT_EXIST");
    assert_eq!(
        c.get("/api/2.1/unity-catalog/tables/main.orders").await.0,
        400
    );
}

#[tokio::test]
async fn workspace_tree_and_files_are_stateful() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (_, root) = c.get("/api/2.0/workspace/list?path=/").await;
    assert_eq!(root["objects"].as_array().unwrap().len(), 2);
    let (_, alice) = c
        .get("/api/2.0/workspace/list?path=/Users/alice@example.com")
        .await;
    assert_eq!(alice["objects"].as_array().unwrap().len(), 3);
    let (status, body) = c.get("/api/2.0/workspace/list?path=/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Path (/nope) doesn't exist.");

    let (status, _) = c
        .post(
            "/api/2.0/workspace/import",
            serde_json::from_str(fixture("workspace_import_request.json")).unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    let (_, exported) = c
        .get("/api/2.0/workspace/export?path=/Users/bob@example.com/etl/new_notebook")
        .await;
    assert_eq!(
        exported,
        serde_json::from_str::<Value>(fixture("workspace_export.json")).unwrap()
    );

    // Files API: upload, list, download.
    let put = reqwest::Client::new()
        .put(emu.url("/api/2.0/fs/files/Volumes/main/sales/landing/new%20file.txt"))
        .bearer_auth(emu.pat())
        .body("hello volume")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 204);
    let (_, dir) = c
        .get("/api/2.0/fs/directories/Volumes/main/sales/landing")
        .await;
    let names: Vec<&str> = dir["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2024-03-01", "new file.txt", "orders.csv"]);
    let got = reqwest::Client::new()
        .get(emu.url("/api/2.0/fs/files/Volumes/main/sales/landing/new%20file.txt"))
        .bearer_auth(emu.pat())
        .header("Range", "bytes=6-")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 206);
    assert_eq!(got.text().await.unwrap(), "volume");
    let head = reqwest::Client::new()
        .head(emu.url("/api/2.0/fs/files/Volumes/main/sales/landing/orders.csv"))
        .bearer_auth(emu.pat())
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert!(head.headers().contains_key("last-modified"));
    assert!(
        head.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1000
    );
}

#[tokio::test]
async fn warehouses_clusters_pipelines_change_state() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let wh = "/api/2.0/sql/warehouses/0123456789abcdef";
    assert_eq!(c.get(wh).await.1["state"], "STOPPED");
    c.post(&format!("{wh}/start"), json!({})).await;
    assert_eq!(c.get(wh).await.1["state"], "STARTING");
    assert_eq!(c.get(wh).await.1["state"], "RUNNING");
    assert_eq!(c.get("/api/2.0/sql/warehouses/nope").await.0, 404);

    let cl = "/api/2.1/clusters/get?cluster_id=1108-090412-ab12cd34";
    let (status, _) = c
        .post(
            "/api/2.1/clusters/start",
            json!({"cluster_id": "1108-090412-ab12cd34"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(c.get(cl).await.1["state"], "PENDING");
    assert_eq!(c.get(cl).await.1["state"], "RUNNING");
    let (_, events) = c
        .post(
            "/api/2.0/clusters/events",
            json!({"cluster_id": "1108-090412-ab12cd34"}),
        )
        .await;
    // The start's events, newest first, before the fixture's history.
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(
        (&events[0]["type"], &events[1]["type"]),
        (&json!("RUNNING"), &json!("STARTING"))
    );

    let (_, p) = c.get("/api/2.0/pipelines?max_results=1").await;
    assert_eq!(p["statuses"].as_array().unwrap().len(), 1);
    assert!(p["next_page_token"].is_string());
    assert_eq!(c.get("/api/2.0/pipelines?max_results=101").await.0, 400);
    let pid = "a12cd3e4-0ab1-1abc-1a2b-1a2bcd3e4fg5";
    let (status, started) = c
        .post(
            &format!("/api/2.0/pipelines/{pid}/updates"),
            json!({"full_refresh": true}),
        )
        .await;
    assert_eq!(status, 200);
    let uid = started["update_id"].as_str().unwrap();
    assert_eq!(
        c.get(&format!("/api/2.0/pipelines/{pid}")).await.1["state"],
        "RUNNING"
    );
    let (status, _) = c
        .post(&format!("/api/2.0/pipelines/{pid}/updates"), json!({}))
        .await;
    assert_eq!(status, 409);
    let mut states = Vec::new();
    for _ in 0..4 {
        let (_, u) = c
            .get(&format!("/api/2.0/pipelines/{pid}/updates/{uid}"))
            .await;
        states.push(u["update"]["state"].as_str().unwrap().to_string());
    }
    assert_eq!(states, ["CREATED", "INITIALIZING", "RUNNING", "COMPLETED"]);
    let (_, events) = c
        .get(&format!(
            "/api/2.0/pipelines/{pid}/events?max_results=2&filter=level%3D%27ERROR%27"
        ))
        .await;
    assert_eq!(events["events"][0]["level"], "ERROR");
}

#[tokio::test]
async fn vector_search_and_genie() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let (status, q) = c
        .post(
            "/api/2.0/vector-search/indexes/main_catalog.docs.en_wiki_index/query",
            serde_json::from_str(fixture("vs_query_request.json")).unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        q,
        serde_json::from_str::<Value>(fixture("vs_query.json")).unwrap()
    );

    let space = "01ef1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
    let (status, conv) = c
        .post(
            &format!("/api/2.0/genie/spaces/{space}/start-conversation"),
            json!({"content": "Top regions?"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(conv["message"]["status"], "SUBMITTED");
    let path = format!(
        "/api/2.0/genie/spaces/{space}/conversations/{}/messages/{}",
        conv["conversation_id"].as_str().unwrap(),
        conv["message_id"].as_str().unwrap()
    );
    assert_eq!(c.get(&path).await.1["status"], "EXECUTING_QUERY");
    let (_, done) = c.get(&path).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["content"], "Top regions?");
    let aid = done["attachments"][0]["attachment_id"].as_str().unwrap();
    let (status, res) = c
        .get(&format!("{path}/attachments/{aid}/query-result"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(res["statement_response"]["status"]["state"], "SUCCEEDED");
}

// ---------------------------------------------------------------------------------------
// The binary

#[tokio::test]
async fn binary_prints_its_address_and_stops_when_stdin_closes() {
    use tokio::io::AsyncBufReadExt;
    let exe = env!("CARGO_BIN_EXE_databricks-emulator");

    let refused = tokio::process::Command::new(exe)
        .args(["--listen", "0.0.0.0:0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));

    let mut child = tokio::process::Command::new(exe)
        .args(["--pat", "secret-pat", "--jobs", "30", "--latency-ms", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let hello: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(hello["pat"], "secret-pat");
    let base = hello["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"));
    let page: Value = reqwest::Client::new()
        .get(format!("{base}/api/2.2/jobs/list?limit=100"))
        .bearer_auth("secret-pat")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["jobs"].as_array().unwrap().len(), 30);

    drop(child.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn control_routes_expose_the_hooks_over_http() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    let http = reqwest::Client::new();
    let r = http
        .post(emu.url("/__emulator/faults"))
        .json(&json!({"method": "GET", "path_prefix": "/api/2.0/preview/scim",
                      "responses": [{"status": 503, "headers": [["Retry-After", "0"]], "delay_ms": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(c.get("/api/2.0/preview/scim/v2/Me").await.0, 503);
    assert_eq!(c.get("/api/2.0/preview/scim/v2/Me").await.0, 200);

    let r = http
        .post(emu.url("/__emulator/scripts"))
        .json(&json!({"contains": "boom", "script": {"Failed": {"error_code": "BAD_REQUEST", "message": "boom", "sql_state": null}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, v) = c.execute("SELECT boom").await;
    assert_eq!(state(&v), "FAILED");
    let r = http
        .post(emu.url("/__emulator/scripts"))
        .json(&json!({"contains": "x", "script": {"Fixture": "nope.json"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let recorded: Vec<Value> = http
        .get(emu.url("/__emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[2]["body"]["statement"], "SELECT boom");
    assert_eq!(emu.requests().len(), 3);
}

#[tokio::test]
async fn dbfs_reads_serve_the_recorded_tree() {
    let emu = Emulator::start().await;
    let c = Client::new(&emu);
    // The fixtures' `<tmp>` directory is `/tmp`; the read fixture is `a.txt`'s content.
    let recorded = |name: &str| fixture(name).replace("<tmp>", "/tmp");
    let (status, listed) = c.get("/api/2.0/dbfs/list?path=/tmp").await;
    assert_eq!(status, 200, "{listed}");
    let expected: Value = serde_json::from_str(&recorded("dbfs_list.json")).unwrap();
    let paths = |v: &Value| -> Vec<(String, bool)> {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap().to_string(), f["is_dir"] == true))
            .collect()
    };
    assert_eq!(paths(&listed), paths(&expected));
    let (_, read) = c.get("/api/2.0/dbfs/read?path=dbfs:/tmp/a.txt").await;
    assert_eq!(
        read,
        serde_json::from_str::<Value>(fixture("dbfs_read.json")).unwrap()
    );
    let (_, status) = c.get("/api/2.0/dbfs/get-status?path=/tmp/dir").await;
    assert_eq!(
        (status["is_dir"].as_bool(), status["file_size"].as_i64()),
        (Some(true), Some(0))
    );
}
