//! Model Serving: endpoints, and chat invocations (whole and streamed). The local
//! workspace has no endpoint of its own; for chats it forwards to an emulator's
//! OpenAI-compatible route (`Target::with_chat_model`), so its answers are the scripted
//! model's too.

use std::collections::BTreeMap;

use databricks_api::serving::{ChatChunk, ChatResponse, ListEndpointsResponse, ServingEndpoint};
use databricks_emulator::serving::{
    CHAT_ENDPOINT, EMBEDDING_ENDPOINT, HELLO, SQL_TOOL, SQL_TOOL_QUERY,
};
use databricks_emulator::{FaultResponse, FaultRule};
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Backend, Target, assert_error};

const ENDPOINTS: &str = "/api/2.0/serving-endpoints";

fn invocations(name: &str) -> String {
    format!("/serving-endpoints/{name}/invocations")
}

conformance! {
    endpoints_are_listed_and_read => super::endpoints_are_listed_and_read;
    unknown_endpoints_are_not_found => super::unknown_endpoints_are_not_found;
    a_chat_calls_the_tool_then_answers_from_its_result => super::a_chat_calls_the_tool_then_answers_from_its_result;
    streamed_chats_come_as_chunks_then_done => super::streamed_chats_come_as_chunks_then_done;
    bodies_that_are_not_chat_requests_are_refused => super::bodies_that_are_not_chat_requests_are_refused;
}

fn sql_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": SQL_TOOL,
            "description": "Run a read-only SQL query.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    })
}

/// The list always has `endpoints` (`[]` when empty); each listed endpoint reads back as
/// listed.
async fn endpoints_are_listed_and_read(t: Target) {
    let (status, v) = t.get(ENDPOINTS).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["endpoints"].is_array(), "{v}");
    if t.backend == Backend::Local {
        assert_eq!(v, json!({"endpoints": []}));
    }
    let t = t.with_chat_model().await;
    let (status, v) = t.get(ENDPOINTS).await;
    assert_eq!(status, 200, "{v}");
    let listed: ListEndpointsResponse = serde_json::from_value(v).expect("endpoints");
    let chat = listed
        .endpoints
        .iter()
        .find(|e| e.name == CHAT_ENDPOINT)
        .expect("the chat endpoint is listed");
    assert_eq!(chat.task.as_deref(), Some("llm/v1/chat"));
    assert_eq!(
        chat.state.as_ref().and_then(|s| s.ready.as_deref()),
        Some("READY")
    );
    for endpoint in &listed.endpoints {
        let (status, v) = t.get(&format!("{ENDPOINTS}/{}", endpoint.name)).await;
        assert_eq!(status, 200, "{v}");
        let read: ServingEndpoint = serde_json::from_value(v).expect("an endpoint");
        assert_eq!(&read, endpoint);
    }
    if t.backend == Backend::Emulator {
        let embedding = listed
            .endpoints
            .iter()
            .find(|e| e.name == EMBEDDING_ENDPOINT)
            .expect("the embedding endpoint is listed");
        assert_eq!(embedding.task.as_deref(), Some("llm/v1/embeddings"));
    }
}

async fn unknown_endpoints_are_not_found(t: Target) {
    let t = t.with_chat_model().await;
    assert_error(
        &t.get(&format!("{ENDPOINTS}/nope")).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    let hello = json!({"messages": [{"role": "user", "content": "hi"}]});
    assert_error(
        &t.post(&invocations("nope"), &hello).await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.send(Method::DELETE, ENDPOINTS, true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        &t.send(Method::GET, &invocations(CHAT_ENDPOINT), true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    // Invocations are authenticated like /api/ calls.
    assert_error(
        &t.send(Method::POST, &invocations(CHAT_ENDPOINT), false)
            .await,
        401,
        "UNAUTHENTICATED",
    );
}

/// An agent loop's two turns: the model calls the offered tool, then answers from what
/// the tool returned.
async fn a_chat_calls_the_tool_then_answers_from_its_result(t: Target) {
    let t = t.with_chat_model().await;
    let question = json!({"role": "user", "content": "How many orders are there?"});
    let (status, v) = t
        .post(
            &invocations(CHAT_ENDPOINT),
            &json!({"messages": [question], "tools": [sql_tool()], "tool_choice": "auto"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let first: ChatResponse = serde_json::from_value(v).expect("a chat response");
    let choice = &first.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    let call = &choice.message.tool_calls[0];
    assert!(!call.id.is_empty());
    assert_eq!(call.function.name, SQL_TOOL);
    let arguments: Value = serde_json::from_str(&call.function.arguments).expect("JSON arguments");
    assert_eq!(arguments, json!({"query": SQL_TOOL_QUERY}));

    let assistant = serde_json::to_value(&choice.message).expect("the assistant message");
    let result = json!({"role": "tool", "tool_call_id": call.id, "content": "orders\n1500\n"});
    let (status, v) = t
        .post(
            &invocations(CHAT_ENDPOINT),
            &json!({"messages": [question, assistant, result], "tools": [sql_tool()]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let second: ChatResponse = serde_json::from_value(v).expect("a chat response");
    assert_eq!(second.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        second.choices[0].message.content.as_deref(),
        Some("There are 1500 orders.")
    );
    assert_eq!(second.choices[0].message.role, "assistant");

    // Without tools, and through the OpenAI-compatible route that names the endpoint in
    // `model`.
    let (status, v) = t
        .post(
            "/serving-endpoints/chat/completions",
            &json!({"model": CHAT_ENDPOINT, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["choices"][0]["message"]["content"], HELLO, "{v}");
}

/// The `data:` payloads of a server-sent event stream, which must end with `[DONE]`.
fn events(text: &str) -> Vec<ChatChunk> {
    let payloads: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("a data event"))
        .collect();
    assert_eq!(payloads.last(), Some(&"[DONE]"), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).expect("a ChatChunk"))
        .collect()
}

/// A tool call as its deltas tell it: id, name, and the argument pieces.
#[derive(Default)]
struct StreamedCall {
    id: Option<String>,
    name: Option<String>,
    pieces: Vec<String>,
}

async fn streamed_chats_come_as_chunks_then_done(t: Target) {
    let t = t.with_chat_model().await;
    let (status, content_type, text) = t
        .post_text(
            &invocations(CHAT_ENDPOINT),
            &json!({
                "messages": [{"role": "user", "content": "How many orders?"}],
                "tools": [sql_tool()],
                "stream": true,
            }),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let chunks = events(&text);
    // Tool calls by index.
    let mut calls: BTreeMap<u32, StreamedCall> = BTreeMap::new();
    for delta in chunks
        .iter()
        .flat_map(|c| &c.choices)
        .flat_map(|c| &c.delta.tool_calls)
    {
        let call = calls.entry(delta.index).or_default();
        if let Some(id) = &delta.id {
            call.id = Some(id.clone());
        }
        if let Some(function) = &delta.function {
            if let Some(name) = &function.name {
                call.name = Some(name.clone());
            }
            if let Some(piece) = function.arguments.as_ref().filter(|p| !p.is_empty()) {
                call.pieces.push(piece.clone());
            }
        }
    }
    let StreamedCall { id, name, pieces } = calls.get(&0).expect("a tool call at index 0");
    assert!(id.as_ref().is_some_and(|id| !id.is_empty()));
    assert_eq!(name.as_deref(), Some(SQL_TOOL));
    assert!(pieces.len() >= 2, "{pieces:?}");
    let arguments: Value = serde_json::from_str(&pieces.concat()).expect("joined JSON arguments");
    assert_eq!(arguments, json!({"query": SQL_TOOL_QUERY}));
    let finish = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .find_map(|c| c.finish_reason.clone());
    assert_eq!(finish.as_deref(), Some("tool_calls"));

    // Text arrives in several content deltas.
    let (status, content_type, text) = t
        .post_text(
            &invocations(CHAT_ENDPOINT),
            &json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let chunks = events(&text);
    let pieces: Vec<String> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.content.clone())
        .collect();
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert_eq!(pieces.concat(), HELLO);
    let finish = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .find_map(|c| c.finish_reason.clone());
    assert_eq!(finish.as_deref(), Some("stop"));
}

async fn bodies_that_are_not_chat_requests_are_refused(t: Target) {
    let t = t.with_chat_model().await;
    for body in [
        Value::String("not json".into()),
        json!({"prompt": "hi"}),
        json!({"messages": "hi"}),
        json!({"messages": []}),
        json!({"messages": [{"role": "robot", "content": "hi"}]}),
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}),
    ] {
        let (status, v) = t.post(&invocations(CHAT_ENDPOINT), &body).await;
        assert_error(&(status, v), 400, "INVALID_PARAMETER_VALUE");
    }
    // The OpenAI-compatible route needs the endpoint's name.
    assert_error(
        &t.post(
            "/serving-endpoints/chat/completions",
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
        400,
        "INVALID_PARAMETER_VALUE",
    );
}

// The emulator only: it has a non-chat endpoint, records requests and injects faults.

#[tokio::test]
async fn a_non_chat_endpoint_refuses_chats_naming_its_task() {
    let t = crate::support::emulator().await;
    let (status, v) = t
        .post(
            &invocations(EMBEDDING_ENDPOINT),
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_error(&(status, v.clone()), 400, "INVALID_PARAMETER_VALUE");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("llm/v1/embeddings")),
        "{v}"
    );
}

#[tokio::test]
async fn the_emulator_records_chats_and_injects_faults_into_them() {
    let t = crate::support::emulator().await;
    let emulator = t.emulator().expect("the emulator");
    emulator.push_fault(FaultRule::post(
        "/serving-endpoints/",
        vec![FaultResponse::error(429), FaultResponse::error(503)],
    ));
    let body = json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 64});
    let path = invocations(CHAT_ENDPOINT);
    assert_error(&t.post(&path, &body).await, 429, "REQUEST_LIMIT_EXCEEDED");
    assert_error(&t.post(&path, &body).await, 503, "TEMPORARILY_UNAVAILABLE");
    let (status, v) = t.post(&path, &body).await;
    assert_eq!(status, 200, "{v}");
    let recorded = emulator.requests_matching(Some("POST"), &path);
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[2].body, body);
}

/// A `slow` question waits before the answer: a client can give up on it.
#[tokio::test]
async fn a_slow_chat_can_be_abandoned() {
    let t = crate::support::emulator().await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .expect("client");
    let answer = client
        .post(format!("{}{}", t.base_url, invocations(CHAT_ENDPOINT)))
        .bearer_auth(&t.token)
        .json(&json!({"messages": [{"role": "user", "content": "a slow one please"}]}))
        .send()
        .await;
    assert!(answer.is_err_and(|e| e.is_timeout()));
    // The emulator still answers.
    let (status, v) = t
        .post(
            &invocations(CHAT_ENDPOINT),
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
}

/// `malformed` and `unknown tool` give the calls an agent must survive.
#[tokio::test]
async fn the_scripted_model_makes_bad_calls_on_request() {
    let t = crate::support::emulator().await;
    let ask = |content: &str| json!({"messages": [{"role": "user", "content": content}], "tools": [sql_tool()]});
    let (_, v) = t.post(&invocations(CHAT_ENDPOINT), &ask("malformed")).await;
    let call = &v["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], SQL_TOOL, "{v}");
    assert_eq!(call["arguments"], "{not json", "{v}");
    let (_, v) = t
        .post(&invocations(CHAT_ENDPOINT), &ask("use an unknown tool"))
        .await;
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "no_such_tool",
        "{v}"
    );
}
