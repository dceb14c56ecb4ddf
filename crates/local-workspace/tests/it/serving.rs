//! Model Serving on the local workspace: no endpoint by default; given an OpenAI-compatible
//! model, one chat endpoint whose chats are forwarded to `{url}/chat/completions`. The model
//! server here is a small loopback one that records what it receives.

use std::sync::{Arc, Mutex};

use local_workspace::{ChatModel, DEFAULT_MODEL_ENDPOINT};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::*;

/// What the fake model server received: the Authorization header and the body.
type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A model server on 127.0.0.1 whose `/v1/chat/completions` answers a canned completion
/// (or, for a request whose last message says `fail`, a 500 in OpenAI's error shape): one
/// HTTP/1.1 exchange per connection, enough for the workspace's client.
async fn model_server() -> (String, Received) {
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let (mut request_line, mut auth, mut length) = (String::new(), None, 0usize);
                stream.read_line(&mut request_line).await.unwrap();
                loop {
                    let mut line = String::new();
                    stream.read_line(&mut line).await.unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => auth = Some(value.trim().to_string()),
                        "content-length" => length = value.trim().parse().unwrap(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                stream.read_exact(&mut body).await.unwrap();
                assert!(
                    request_line.starts_with("POST /v1/chat/completions "),
                    "{request_line}"
                );
                let body: Value = serde_json::from_slice(&body).unwrap();
                let fail = body["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .is_some_and(|m| m["content"] == "fail");
                log.lock().unwrap().push((auth, body));
                let (status, answer) = if fail {
                    (
                        "500 Internal Server Error",
                        json!({"error": {"message": "the model crashed", "type": "server_error"}}),
                    )
                } else {
                    (
                        "200 OK",
                        json!({
                            "id": "chatcmpl-fake",
                            "object": "chat.completion",
                            "created": 1_700_000_000,
                            "model": "llama3",
                            "choices": [{
                                "index": 0,
                                "message": {"role": "assistant", "content": "Hi from the fake model."},
                                "finish_reason": "stop",
                            }],
                            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
                        }),
                    )
                };
                let answer = answer.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                stream
                    .get_mut()
                    .write_all(response.as_bytes())
                    .await
                    .unwrap();
                stream.get_mut().shutdown().await.unwrap();
            });
        }
    });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_are_forwarded_to_the_configured_model() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    assert_eq!(
        s.get("/api/2.0/serving-endpoints").await,
        (200, json!({"endpoints": []}))
    );
    let hello = json!({"messages": [{"role": "user", "content": "hello"}]});
    let (status, v) = s
        .post(
            &format!("/serving-endpoints/{DEFAULT_MODEL_ENDPOINT}/invocations"),
            hello.clone(),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST")),
        "{v}"
    );

    let (url, received) = model_server().await;
    assert!(
        s.ws.set_chat_model(Some(ChatModel::new("file:///tmp")))
            .is_err()
    );
    s.ws.set_chat_model(Some(ChatModel {
        url: url.clone(),
        name: Some("llama3".into()),
        token: Some("model-secret".into()),
    }))
    .unwrap();
    assert_eq!(
        s.ws.chat_model().and_then(|m| m.name).as_deref(),
        Some("llama3")
    );

    let (status, v) = s.get("/api/2.0/serving-endpoints").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["endpoints"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["endpoints"][0]["name"], "llama3");
    assert_eq!(v["endpoints"][0]["task"], "llm/v1/chat");
    assert!(!v.to_string().contains("model-secret"));
    let (status, endpoint) = s.get("/api/2.0/serving-endpoints/llama3").await;
    assert_eq!((status, &endpoint), (200, &v["endpoints"][0]));

    let (status, v) = s
        .post("/serving-endpoints/llama3/invocations", hello.clone())
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hi from the fake model."
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    {
        let got = received.lock().unwrap();
        let (auth, body) = got.last().unwrap();
        assert_eq!(auth.as_deref(), Some("Bearer model-secret"));
        assert_eq!(body["model"], "llama3");
        assert_eq!(body["messages"], hello["messages"]);
        assert!(body.get("stream").is_none(), "{body}");
    }

    // Streamed by the workspace from the whole answer (the model is asked without stream).
    let r = s
        .http
        .post(s.url("/serving-endpoints/llama3/invocations"))
        .bearer_auth(&s.api.token)
        .json(&json!({"messages": [{"role": "user", "content": "hello"}], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = r.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let content: String = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|p| *p != "[DONE]")
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(content, "Hi from the fake model.");
    assert!(
        received
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .1
            .get("stream")
            .is_none()
    );

    // The caller may pick another model of the same server.
    let (status, _) = s
        .post(
            "/serving-endpoints/llama3/invocations",
            json!({"model": "qwen", "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(received.lock().unwrap().last().unwrap().1["model"], "qwen");

    // The model server's failures are reported, not passed off as the caller's.
    let (status, v) = s
        .post(
            "/serving-endpoints/llama3/invocations",
            json!({"messages": [{"role": "user", "content": "fail"}]}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (503, Some("TEMPORARILY_UNAVAILABLE")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("the model crashed"),
        "{v}"
    );

    // A model server that is gone: a port just released.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gone.local_addr().unwrap().port();
    drop(gone);
    s.ws.set_chat_model(Some(ChatModel::new(format!("http://127.0.0.1:{port}/v1"))))
        .unwrap();
    let (status, v) = s
        .post(
            &format!("/serving-endpoints/{DEFAULT_MODEL_ENDPOINT}/invocations"),
            hello,
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (503, Some("TEMPORARILY_UNAVAILABLE")),
        "{v}"
    );

    s.ws.set_chat_model(None).unwrap();
    assert_eq!(
        s.get("/api/2.0/serving-endpoints").await,
        (200, json!({"endpoints": []}))
    );
    s.api.shutdown().await;
}
