//! The managed-server-compatible routes over streamable HTTP, each against the emulator:
//! `/api/2.0/mcp/sql`, `/api/2.0/mcp/vector-search/...`, `/api/2.0/mcp/genie/...`,
//! `/api/2.0/mcp/functions/...`, with `_meta` presets checked from the requests the
//! emulator received; and the full surface's new Vector Search and Genie tools.

use std::net::SocketAddr;
use std::time::Duration;

use databricks_emulator::{Emulator, RecordedRequest, StatementScript};
use databricks_mcp::transport::{HttpOptions, http_router};
use databricks_mcp::{DatabricksMcp, Settings};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{fast_options, is_error, state_for, structured, text};

pub const SPACE_ID: &str = "01ef1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
pub const META_WAREHOUSE: &str = "0123456789abcdef";
pub const AUTO_WAREHOUSE: &str = "abcdef0123456789";

/// A server on an ephemeral loopback port, serving every route.
pub struct Served {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn serve(emulator: &Emulator, settings: Settings, options: HttpOptions) -> Served {
    let server = DatabricksMcp::new(state_for(emulator, settings, fast_options()));
    let shutdown = CancellationToken::new();
    let router = http_router(server, &options, shutdown.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    });
    Served { addr, shutdown }
}

pub async fn connect(url: &str, token: Option<&str>) -> RunningService<RoleClient, ()> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    if let Some(t) = token {
        config = config.auth_header(t.to_string());
    }
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

pub async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
    meta: Option<Value>,
) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    let mut params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
    if let Some(Value::Object(m)) = meta {
        params.meta = Some(rmcp::model::RequestMetaObject(rmcp::model::MetaObject(m)));
    }
    client.call_tool(params).await.unwrap()
}

async fn tool_names(client: &RunningService<RoleClient, ()>) -> Vec<String> {
    client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

fn posted(emulator: &Emulator, fragment: &str) -> Vec<RecordedRequest> {
    crate::support::requests(emulator, "POST", fragment)
}

async fn start(settings: Settings) -> (Emulator, Served) {
    let emulator = Emulator::start().await;
    let served = serve(&emulator, settings, HttpOptions::default()).await;
    (emulator, served)
}

#[tokio::test]
async fn sql_route_serves_the_managed_tools_and_honours_meta_warehouse() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    assert_eq!(
        tool_names(&client).await,
        vec!["execute_sql", "execute_sql_read_only", "poll_sql_result"]
    );
    let info = client.peer_info().unwrap();
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("execute_sql_read_only"),
        "instructions are the SQL surface's: {:?}",
        info.instructions
    );

    let r = call(
        &client,
        "execute_sql_read_only",
        json!({"query": "SELECT * FROM main.sales.orders"}),
        Some(json!({"warehouse_id": META_WAREHOUSE})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.starts_with("order_id,customer"), "compact CSV text: {t}");
    assert!(t.contains(META_WAREHOUSE), "{t}");
    let s = structured(&r);
    assert!(s["statement_id"].is_string(), "{s}");
    assert_eq!(s["status"]["state"], "SUCCEEDED");
    assert_eq!(s["manifest"]["schema"]["columns"][0]["name"], "order_id");
    assert_eq!(s["manifest"]["total_row_count"], 3);
    assert_eq!(s["manifest"]["truncated"], false);
    assert_eq!(
        s["result"]["data_array"][0][0], "1001",
        "JSON_ARRAY cells: {s}"
    );
    assert_eq!(s["result"]["row_count"], 3);
    assert_eq!(s["warehouse_id"], META_WAREHOUSE);

    // Without _meta: automatic selection.
    let r = call(&client, "execute_sql", json!({"query": "SELECT 1"}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    let warehouses: Vec<Value> = posted(&emulator, "/api/2.0/sql/statements")
        .iter()
        .map(|r| r.body["warehouse_id"].clone())
        .collect();
    assert_eq!(
        warehouses,
        vec![json!(META_WAREHOUSE), json!(AUTO_WAREHOUSE)]
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn execute_sql_writes_only_when_the_operator_allows_them() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    for tool in ["execute_sql", "execute_sql_read_only"] {
        let r = call(
            &client,
            tool,
            json!({"query": "DROP TABLE main.sales.orders"}),
            None,
        )
        .await;
        assert!(is_error(&r), "{tool}: {}", text(&r));
        assert!(text(&r).contains("Refused"), "{}", text(&r));
    }
    assert!(posted(&emulator, "/api/2.0/sql/statements").is_empty());
    let tools = client.list_all_tools().await.unwrap();
    let execute = tools.iter().find(|t| t.name == "execute_sql").unwrap();
    assert_eq!(
        execute.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );
    let _ = client.cancel().await;

    let writes = Settings {
        allow_writes: true,
        // These tests are about running writes; confirming them is tests/it/operations.rs's.
        confirm_writes: databricks_mcp::confirm::ConfirmMode::Never,
        ..Settings::default()
    };
    let (emulator, served) = start(writes).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    let r = call(
        &client,
        "execute_sql_read_only",
        json!({"query": "INSERT INTO t VALUES (1)"}),
        None,
    )
    .await;
    assert!(is_error(&r), "read-only stays read-only: {}", text(&r));
    assert!(posted(&emulator, "/api/2.0/sql/statements").is_empty());
    let r = call(
        &client,
        "execute_sql",
        json!({"query": "INSERT INTO t VALUES (1)"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let sent = posted(&emulator, "/api/2.0/sql/statements");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["statement"], "INSERT INTO t VALUES (1)");
    let tools = client.list_all_tools().await.unwrap();
    let execute = tools.iter().find(|t| t.name == "execute_sql").unwrap();
    assert_eq!(
        execute.annotations.as_ref().unwrap().destructive_hint,
        Some(true)
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn poll_sql_result_follows_a_statement_that_outlived_the_call() {
    let settings = Settings {
        sql_timeout: Duration::from_millis(300),
        ..Settings::default()
    };
    let (emulator, served) = start(settings).await;
    emulator.script_statement(
        "slow_query",
        StatementScript::pending(3, StatementScript::rows(&[("n", "BIGINT")], 2, 0)),
    );
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    let r = call(
        &client,
        "execute_sql",
        json!({"query": "SELECT n FROM slow_query"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    let state = s["status"]["state"].as_str().unwrap().to_string();
    assert!(state == "PENDING" || state == "RUNNING", "{s}");
    assert!(text(&r).contains("poll_sql_result"), "{}", text(&r));
    assert!(s["result"].is_null(), "{s}");
    let id = s["statement_id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..10 {
        let r = call(
            &client,
            "poll_sql_result",
            json!({"statement_id": id}),
            None,
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
        last = structured(&r);
        if last["status"]["state"] == "SUCCEEDED" {
            break;
        }
    }
    assert_eq!(last["status"]["state"], "SUCCEEDED", "{last}");
    assert_eq!(last["result"]["data_array"], json!([["0"], ["1"]]));
    let r = call(
        &client,
        "poll_sql_result",
        json!({"statement_id": "../etc"}),
        None,
    )
    .await;
    assert!(is_error(&r));
    let _ = client.cancel().await;
}

fn query_bodies(emulator: &Emulator) -> Vec<Value> {
    posted(emulator, "/api/2.0/vector-search/indexes/")
        .into_iter()
        .filter(|r| r.path.ends_with("/query"))
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn vector_search_schema_route_has_one_tool_per_index() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(
        &served.url("/api/2.0/mcp/vector-search/main_catalog/docs"),
        None,
    )
    .await;
    assert_eq!(
        tool_names(&client).await,
        vec![
            "main_catalog__docs__en_wiki_index",
            "main_catalog__docs__faq_direct"
        ]
    );
    let tools = client.list_all_tools().await.unwrap();
    let schema = serde_json::to_value(&tools[0].input_schema).unwrap();
    assert_eq!(schema["required"], json!(["query"]));
    assert_eq!(schema["additionalProperties"], false);

    // Defaults: 5 results, every column not starting with "__", ANN, no score.
    let r = call(
        &client,
        "main_catalog__docs__en_wiki_index",
        json!({"query": "rotate a token"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        query_bodies(&emulator),
        vec![json!({
            "columns": ["id", "title", "text", "url"],
            "query_text": "rotate a token",
            "num_results": 5,
            "query_type": "ANN",
        })]
    );
    let s = structured(&r);
    assert_eq!(s["columns"], json!(["id", "title", "text", "url"]));
    assert_eq!(s["result_count"], 5, "{s}");
    assert_eq!(s["results"][0]["id"], 101);
    assert!(s["results"][0].get("score").is_none(), "{s}");
    assert!(
        text(&r).starts_with("id,title,text,url\n101,"),
        "{}",
        text(&r)
    );

    // The tool list was computed once and is reused.
    let _ = tool_names(&client).await;
    let _ = tool_names(&client).await;
    let listings = crate::support::requests(&emulator, "GET", "/api/2.0/vector-search/endpoints");
    assert_eq!(listings.len(), 1, "tool lists are cached");
    let _ = client.cancel().await;
}

/// AI Search (Vector Search's new name) serves the same tools under its own prefix.
#[tokio::test]
async fn ai_search_routes_serve_the_vector_search_surface() {
    let (_emulator, served) = start(Settings::default()).await;
    for (ai, vs) in [
        (
            "/api/2.0/mcp/ai-search/main_catalog/docs",
            "/api/2.0/mcp/vector-search/main_catalog/docs",
        ),
        (
            "/api/2.0/mcp/ai-search/main_catalog/docs/en_wiki_index",
            "/api/2.0/mcp/vector-search/main_catalog/docs/en_wiki_index",
        ),
    ] {
        let a = connect(&served.url(ai), None).await;
        let v = connect(&served.url(vs), None).await;
        let (ta, tv) = (
            a.list_all_tools().await.unwrap(),
            v.list_all_tools().await.unwrap(),
        );
        assert!(!ta.is_empty());
        assert_eq!(
            serde_json::to_value(&ta).unwrap(),
            serde_json::to_value(&tv).unwrap(),
            "{ai}"
        );
        let r = call(
            &a,
            "main_catalog__docs__en_wiki_index",
            json!({"query": "rotate a token"}),
            Some(json!({"num_results": 2})),
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
        assert_eq!(structured(&r)["result_count"], 2, "{}", text(&r));
        let _ = a.cancel().await;
        let _ = v.cancel().await;
    }
}

/// The seven keys as strings, as native JSON, and with the `com.databricks/` prefix:
/// each time exactly these query parameters reach the API.
#[tokio::test]
async fn vector_search_meta_keys_map_onto_the_query_api() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(
        &served.url("/api/2.0/mcp/vector-search/main_catalog/docs/en_wiki_index"),
        None,
    )
    .await;
    assert_eq!(
        tool_names(&client).await,
        vec!["main_catalog__docs__en_wiki_index"]
    );
    let as_strings = json!({
        "num_results": "2",
        "columns": "id,title",
        "columns_to_rerank": "title,text",
        "filters": "{\"lang\": \"en\", \"updated_year >=\": 2023}",
        "query_type": "HYBRID",
        "score_threshold": "0.7",
        "include_score": "true",
    });
    let native = json!({
        "num_results": 2,
        "columns": ["id", "title"],
        "columns_to_rerank": ["title", "text"],
        "filters": {"lang": "en", "updated_year >=": 2023},
        "query_type": "hybrid",
        "score_threshold": 0.7,
        "include_score": true,
    });
    let prefixed: serde_json::Map<String, Value> = as_strings
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (format!("com.databricks/{k}"), v.clone()))
        .collect();
    for meta in [as_strings, native, Value::Object(prefixed)] {
        emulator.clear_requests();
        let r = call(
            &client,
            "main_catalog__docs__en_wiki_index",
            json!({"query": "token expiry"}),
            Some(meta.clone()),
        )
        .await;
        assert!(!is_error(&r), "{meta}: {}", text(&r));
        let bodies = query_bodies(&emulator);
        assert_eq!(bodies.len(), 1);
        let body = &bodies[0];
        assert_eq!(
            body,
            &json!({
                "columns": ["id", "title"],
                "query_text": "token expiry",
                "num_results": 2,
                "filters_json": body["filters_json"].clone(),
                "query_type": "HYBRID",
                "score_threshold": 0.7,
                "reranker": {"model": "databricks_reranker", "parameters": {"columns_to_rerank": ["title", "text"]}},
            }),
            "{meta}"
        );
        let filters: Value = serde_json::from_str(body["filters_json"].as_str().unwrap()).unwrap();
        assert_eq!(filters, json!({"lang": "en", "updated_year >=": 2023}));
        let s = structured(&r);
        assert_eq!(s["columns"], json!(["id", "title", "score"]), "{s}");
        assert_eq!(s["result_count"], 2);
        assert_eq!(s["results"][0]["score"], json!(0.8734));
    }
    let _ = client.cancel().await;
}

#[tokio::test]
async fn invalid_meta_values_are_clear_errors_and_reach_nothing() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(
        &served.url("/api/2.0/mcp/vector-search/main_catalog/docs/en_wiki_index"),
        None,
    )
    .await;
    for (key, value) in [
        ("num_results", json!("lots")),
        ("num_results", json!(-1)),
        ("columns", json!(42)),
        ("filters", json!("lang=en")),
        ("query_type", json!("SEMANTIC")),
        ("score_threshold", json!("high")),
        ("include_score", json!("maybe")),
        ("columns_to_rerank", json!({"a": 1})),
    ] {
        let r = call(
            &client,
            "main_catalog__docs__en_wiki_index",
            json!({"query": "x"}),
            Some(json!({ key: value })),
        )
        .await;
        assert!(is_error(&r), "{key}={value}");
        assert!(text(&r).contains(&format!("_meta.{key}")), "{}", text(&r));
    }
    assert!(query_bodies(&emulator).is_empty());
    // A bad argument is an isError too, and an unknown argument is refused.
    let r = call(
        &client,
        "main_catalog__docs__en_wiki_index",
        json!({"q": "x"}),
        None,
    )
    .await;
    assert!(is_error(&r), "{}", text(&r));
    let _ = client.cancel().await;
}

#[tokio::test]
async fn genie_route_asks_and_polls() {
    // A deadline shorter than Genie takes: the first answer is unfinished.
    let settings = Settings {
        sql_timeout: Duration::from_millis(200),
        ..Settings::default()
    };
    let (emulator, served) = start(settings).await;
    let client = connect(&served.url(&format!("/api/2.0/mcp/genie/{SPACE_ID}")), None).await;
    let query_tool = format!("query_space_{SPACE_ID}");
    let poll_tool = format!("poll_response_{SPACE_ID}");
    assert_eq!(
        tool_names(&client).await,
        vec![query_tool.clone(), poll_tool.clone()]
    );
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools[0]
            .description
            .as_deref()
            .unwrap_or("")
            .contains("Sales analytics"),
        "the description names the space: {:?}",
        tools[0].description
    );
    let r = call(
        &client,
        &query_tool,
        json!({"query": "What were total sales last month by region?"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let s = structured(&r);
    assert_ne!(s["status"], "COMPLETED", "{s}");
    assert!(text(&r).contains(&poll_tool), "{}", text(&r));
    let (cid, mid) = (
        s["conversation_id"].as_str().unwrap().to_string(),
        s["message_id"].as_str().unwrap().to_string(),
    );
    let mut answer = None;
    for _ in 0..10 {
        let r = call(
            &client,
            &poll_tool,
            json!({"conversation_id": cid, "message_id": mid}),
            None,
        )
        .await;
        assert!(!is_error(&r), "{}", text(&r));
        if structured(&r)["status"] == "COMPLETED" {
            answer = Some(r);
            break;
        }
    }
    let r = answer.expect("Genie answered");
    let t = text(&r);
    assert!(t.contains("EMEA had the highest sales"), "{t}");
    assert!(t.contains("SELECT region, SUM(amount)"), "{t}");
    assert!(t.contains("EMEA,1203456.78"), "{t}");
    let s = structured(&r);
    assert_eq!(s["queries"][0]["rows"][0], json!(["EMEA", 1203456.78]));
    assert_eq!(s["conversation_id"], cid);
    let started = posted(&emulator, "/start-conversation");
    assert_eq!(
        started[0].body,
        json!({"content": "What were total sales last month by region?"})
    );
    // A follow-up goes to the same conversation.
    let r = call(
        &client,
        &query_tool,
        json!({"query": "And the month before?", "conversation_id": cid}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        posted(&emulator, &format!("/conversations/{cid}/messages")).len(),
        1
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn functions_route_runs_each_function_with_bound_parameters() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(&served.url("/api/2.0/mcp/functions/main/sales"), None).await;
    assert_eq!(tool_names(&client).await, vec!["main__sales__mask_email"]);
    let tools = client.list_all_tools().await.unwrap();
    let schema = serde_json::to_value(&tools[0].input_schema).unwrap();
    assert_eq!(schema["properties"]["email"]["type"], "string");
    assert_eq!(schema["required"], json!(["email"]));
    let evil = "x@y.com'); DROP TABLE main.sales.orders; --";
    let r = call(
        &client,
        "main__sales__mask_email",
        json!({"email": evil}),
        Some(json!({"warehouse_id": META_WAREHOUSE})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let sent = posted(&emulator, "/api/2.0/sql/statements");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["statement"],
        "SELECT `main`.`sales`.`mask_email`(:arg0) AS `mask_email`"
    );
    assert_eq!(
        sent[0].body["parameters"],
        json!([{"name": "arg0", "value": evil, "type": "STRING"}])
    );
    assert_eq!(sent[0].body["warehouse_id"], META_WAREHOUSE);
    assert_eq!(structured(&r)["status"]["state"], "SUCCEEDED");
    // Missing or unknown arguments are tool errors, before any statement.
    for args in [json!({}), json!({"email": "a", "extra": 1})] {
        let r = call(&client, "main__sales__mask_email", args, None).await;
        assert!(is_error(&r), "{}", text(&r));
    }
    assert_eq!(posted(&emulator, "/api/2.0/sql/statements").len(), 1);
    let _ = client.cancel().await;

    let client = connect(
        &served.url("/api/2.0/mcp/functions/main/sales/mask_email"),
        None,
    )
    .await;
    assert_eq!(tool_names(&client).await, vec!["main__sales__mask_email"]);
    let _ = client.cancel().await;
}

#[tokio::test]
async fn bad_route_parameters_and_missing_objects() {
    let (_emulator, served) = start(Settings::default()).await;
    let http = reqwest::Client::new();
    for path in [
        "/api/2.0/mcp/genie/not.an.id",
        "/api/2.0/mcp/vector-search/a%2Fb/c",
        "/api/2.0/mcp/functions/a/b%60c",
    ] {
        let r = http
            .post(served.url(path))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // A schema that does not exist: the tool list is an MCP error, not a crash.
    let client = connect(
        &served.url("/api/2.0/mcp/functions/missing_catalog/x"),
        None,
    )
    .await;
    let err = client.list_all_tools().await.unwrap_err().to_string();
    assert!(
        err.contains("does not exist") || err.contains("404"),
        "{err}"
    );
    let _ = client.cancel().await;
}

#[tokio::test]
async fn full_surface_vector_search_and_genie_tools() {
    // Opt-in toolsets: off by default, served with `--toolsets all`.
    let (_, default) = start(Settings::default()).await;
    let default_client = connect(&default.url("/mcp"), None).await;
    let names = tool_names(&default_client).await;
    assert!(
        !names
            .iter()
            .any(|n| n == "ask_genie" || n == "query_vector_index"),
        "{names:?}"
    );
    let (emulator, served) = start(Settings {
        tools: databricks_mcp::tools::ToolSelection::all(),
        ..Settings::default()
    })
    .await;
    let client = connect(&served.url("/mcp"), None).await;
    let names = tool_names(&client).await;
    for t in [
        "list_vector_indexes",
        "query_vector_index",
        "list_genie_spaces",
        "ask_genie",
    ] {
        assert!(names.iter().any(|n| n == t), "{t} in {names:?}");
    }
    let r = call(
        &client,
        "list_vector_indexes",
        json!({"catalog": "main_catalog"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("main_catalog.docs.faq_direct"),
        "{}",
        text(&r)
    );

    // Arguments, overridden by _meta.
    let r = call(
        &client,
        "query_vector_index",
        json!({"index_name": "main_catalog.docs.en_wiki_index", "query": "tokens", "num_results": 1, "columns": ["id", "text"], "filters": {"lang": "en"}}),
        Some(json!({"query_type": "HYBRID", "num_results": "2", "include_score": true})),
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        query_bodies(&emulator),
        vec![json!({
            "columns": ["id", "text"],
            "query_text": "tokens",
            "num_results": 2,
            "filters_json": "{\"lang\":\"en\"}",
            "query_type": "HYBRID",
        })]
    );
    assert_eq!(structured(&r)["columns"], json!(["id", "text", "score"]));
    let r = call(
        &client,
        "query_vector_index",
        json!({"index_name": "nope", "query": "x"}),
        None,
    )
    .await;
    assert!(is_error(&r), "{}", text(&r));

    let r = call(&client, "list_genie_spaces", json!({}), None).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains(SPACE_ID), "{}", text(&r));
    let r = call(
        &client,
        "ask_genie",
        json!({"space_id": SPACE_ID, "question": "Total sales by region?"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("EMEA had the highest sales"),
        "{}",
        text(&r)
    );
    let r = call(
        &client,
        "ask_genie",
        json!({"space_id": SPACE_ID, "question": "Why did it FAIL?"}),
        None,
    )
    .await;
    assert!(
        is_error(&r),
        "a failed Genie answer is a tool error: {}",
        text(&r)
    );
    let _ = client.cancel().await;
}

/// Writes spelled with look-alike letters (Spark reads `ınsert` as `INSERT`) and calls of
/// functions whose effect leaves the statement are refused on every SQL tool of the
/// managed surface, and nothing reaches the warehouse; the operator can allow the
/// functions by name of option.
#[tokio::test]
async fn look_alike_keywords_and_side_effect_functions_never_reach_the_warehouse() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    for tool in ["execute_sql", "execute_sql_read_only"] {
        for sql in [
            "WITH x AS (SELECT 1 AS a) ınsert ınto t SELECT * FROM x",
            "FROM s INſERT INTO t SELECT *",
            "SELECT TRANSFORM(c) uſıng 'cat' AS (x) FROM t",
            "SELECT http_request(conn => 'c', method => 'POST', path => '/x')",
            "SELECT reflect('java.lang.Thread', 'sleep', 1000L)",
        ] {
            let r = call(&client, tool, json!({ "query": sql }), None).await;
            assert!(is_error(&r), "{tool} {sql}: {}", text(&r));
            assert!(text(&r).contains("Refused"), "{}", text(&r));
        }
    }
    assert!(posted(&emulator, "/api/2.0/sql/statements").is_empty());
    let _ = client.cancel().await;

    let lifted = Settings {
        allow_side_effect_functions: true,
        ..Settings::default()
    };
    let (emulator, served) = start(lifted).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    let r = call(
        &client,
        "execute_sql_read_only",
        json!({"query": "SELECT java_method('java.util.UUID', 'randomUUID')"}),
        None,
    )
    .await;
    assert!(!is_error(&r), "{}", text(&r));
    let r = call(
        &client,
        "execute_sql",
        json!({"query": "FROM s ınsert ınto t SELECT *"}),
        None,
    )
    .await;
    assert!(is_error(&r), "the option lifts functions, never writes");
    assert_eq!(posted(&emulator, "/api/2.0/sql/statements").len(), 1);
    let _ = client.cancel().await;
}

/// A `_meta.warehouse_id` of the wrong type is a clear error, never coerced or ignored.
#[tokio::test]
async fn a_warehouse_id_of_the_wrong_type_is_an_error() {
    let (emulator, served) = start(Settings::default()).await;
    let client = connect(&served.url("/api/2.0/mcp/sql"), None).await;
    for (meta, kind) in [
        (json!(42), "a number"),
        (json!(true), "a boolean"),
        (json!(["abc"]), "an array"),
        (json!({"id": "abc"}), "an object"),
    ] {
        let r = call(
            &client,
            "execute_sql",
            json!({"query": "SELECT 1"}),
            Some(json!({ "warehouse_id": meta })),
        )
        .await;
        assert!(is_error(&r), "{meta}");
        let t = text(&r);
        assert!(
            t.contains("_meta.warehouse_id must be a string") && t.contains(kind),
            "{t}"
        );
    }
    assert!(posted(&emulator, "/api/2.0/sql/statements").is_empty());
    let _ = client.cancel().await;
}
