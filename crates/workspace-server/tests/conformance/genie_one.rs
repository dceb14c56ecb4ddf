//! Genie One: a question answered as server-sent events (created, items, completed),
//! read back, followed up, cancelled, and a query item's result; the request checks of
//! the reference. The emulator answers from its fixtures; the local workspace from the
//! tables of its sample Genie space (TPC-H), with real SQL.

use databricks_api::genie::GenieQueryResultResponse;
use databricks_api::genie_one::{GenieOneResponse, ResponseEvent, events};
use databricks_api::sql::StatementState;
use reqwest::Method;
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Backend, Target, assert_error};

const RESPONSES: &str = "/api/2.0/genie/one/responses";
const QUESTION: &str = "How many orders are there for each order priority?";

conformance! {
    a_question_streams_created_items_then_its_end => super::a_question_streams_created_items_then_its_end;
    an_answer_is_read_back_with_its_query_result => super::an_answer_is_read_back_with_its_query_result;
    follow_ups_continue_a_conversation => super::follow_ups_continue_a_conversation;
    bad_requests_are_refused => super::bad_requests_are_refused;
    unknown_ids_are_not_found => super::unknown_ids_are_not_found;
    a_cancelled_response_ends_and_stays_ended => super::a_cancelled_response_ends_and_stays_ended;
}

fn response_path(cid: &str, rid: &str) -> String {
    format!("/api/2.0/genie/one/conversations/{cid}/responses/{rid}")
}

/// Every event of a whole stream, checking the wire format: `event:` is the data's
/// `type`, sequence numbers count from 0.
fn parse_stream(text: &str) -> Vec<ResponseEvent> {
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let event = block
            .lines()
            .find_map(|l| l.strip_prefix("event: "))
            .unwrap_or_else(|| panic!("an event without its type: {block}"));
        let data = block
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap_or_else(|| panic!("an event without data: {block}"));
        let parsed: ResponseEvent = serde_json::from_str(data).expect("a response event");
        assert_eq!(parsed.type_, event, "{block}");
        assert_eq!(parsed.sequence_number, out.len() as u64, "{block}");
        out.push(parsed);
    }
    out
}

/// Asks and reads the whole stream (the question must end).
async fn ask_whole(t: &Target, body: Value) -> Vec<ResponseEvent> {
    let (status, content_type, text) = t.post_text(RESPONSES, &body).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    parse_stream(&text)
}

/// Asks and reads only the first event (a question that may not end soon), or the
/// error answer.
async fn ask_first(t: &Target, body: &Value) -> Result<GenieOneResponse, (u16, Value)> {
    let mut response = reqwest::Client::new()
        .post(format!("{}{RESPONSES}", t.base_url))
        .bearer_auth(&t.token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.bytes().await.expect("body");
        return Err((status, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    }
    let mut buffer = String::new();
    while let Some(piece) = response.chunk().await.expect("stream") {
        buffer.push_str(&String::from_utf8_lossy(&piece));
        if let Some(end) = buffer.find("\n\n") {
            let first = parse_stream(&buffer[..end + 2]);
            assert_eq!(first[0].type_, events::CREATED);
            return Ok(first[0].response.clone().expect("its response"));
        }
    }
    panic!("the stream ended before its first event: {buffer}");
}

fn ids(r: &GenieOneResponse) -> (String, String) {
    (
        r.conversation_id.clone().expect("a conversation id"),
        r.id.clone(),
    )
}

async fn read(t: &Target, cid: &str, rid: &str) -> GenieOneResponse {
    let (status, v) = t.get(&response_path(cid, rid)).await;
    assert_eq!(status, 200, "{v}");
    serde_json::from_value(v).expect("a response")
}

/// Reads until the response ends (within a minute).
async fn finished(t: &Target, cid: &str, rid: &str) -> GenieOneResponse {
    for _ in 0..600 {
        let r = read(t, cid, rid).await;
        if r.is_terminal() {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("response {rid} did not end");
}

/// The stream opens with the accepted response (in progress, no output), then each
/// output item (added, done), then `response.completed` with the whole response; it
/// agrees with a read of the stored response.
async fn a_question_streams_created_items_then_its_end(t: Target) {
    let events = ask_whole(&t, json!({"input": QUESTION})).await;
    let created = events[0]
        .response
        .clone()
        .expect("created carries the response");
    assert_eq!(events[0].type_, events::CREATED);
    assert_eq!(created.status(), "in_progress");
    assert!(created.output.is_empty(), "{created:?}");
    assert_eq!(created.object.as_deref(), Some("response"));
    assert!(!created.id.is_empty());
    let (cid, rid) = ids(&created);
    let last = events.last().expect("events");
    assert_eq!(last.type_, events::COMPLETED, "{events:?}");
    let done = last.response.clone().expect("the completed response");
    assert_eq!(done.status(), "completed");
    assert_eq!(ids(&done), (cid.clone(), rid.clone()));
    // Each item twice (added, done), in output order.
    let items: Vec<&ResponseEvent> = events[1..events.len() - 1].iter().collect();
    assert_eq!(items.len(), 2 * done.output.len(), "{events:?}");
    for (i, pair) in items.chunks(2).enumerate() {
        assert_eq!(pair[0].type_, events::OUTPUT_ITEM_ADDED);
        assert_eq!(pair[1].type_, events::OUTPUT_ITEM_DONE);
        assert_eq!(pair[1].output_index, Some(i as u64));
        assert_eq!(pair[1].item.as_ref(), Some(&done.output[i]));
    }
    assert!(done.final_answer().is_some(), "{done:?}");
    assert!(!done.progress_steps().is_empty(), "{done:?}");
    assert_eq!(read(&t, &cid, &rid).await, done);
}

/// A completed answer names its query; the query's result is a successful statement
/// with as many rows as the item says.
async fn an_answer_is_read_back_with_its_query_result(t: Target) {
    let created = ask_first(&t, &json!({"input": QUESTION}))
        .await
        .expect("accepted");
    let (cid, rid) = ids(&created);
    let done = finished(&t, &cid, &rid).await;
    assert_eq!(done.status(), "completed", "{done:?}");
    let item = done.query_items().next().expect("a query item").clone();
    let sql = item.sql.clone().expect("its SQL");
    assert!(sql.to_lowercase().contains("select"), "{sql}");
    let (status, v) = t
        .get(&format!(
            "{}/items/{}/query-result",
            response_path(&cid, &rid),
            item.id
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    let result: GenieQueryResultResponse = serde_json::from_value(v).expect("a query result");
    let statement = result.statement_response.expect("statement_response");
    assert_eq!(statement.status.state, StatementState::Succeeded);
    let manifest = statement.manifest.expect("a manifest");
    assert!(!manifest.schema.columns.is_empty());
    let rows = statement
        .result
        .and_then(|r| r.data_array)
        .unwrap_or_default();
    assert_eq!(Some(rows.len() as i64), item.row_count, "{item:?}");
    assert_eq!(manifest.total_row_count, item.row_count);
    if t.backend == Backend::Local {
        // TPC-H has five order priorities, and every order has one.
        assert_eq!(rows.len(), 5, "{rows:?}");
        let counted: i64 = rows
            .iter()
            .map(|r| r[1].as_deref().unwrap_or("0").parse::<i64>().unwrap_or(0))
            .sum();
        let (status, v) = t
            .post(
                "/api/2.0/sql/statements",
                &json!({
                    "statement": "SELECT count(*) FROM samples.tpch.orders",
                    "warehouse_id": t.known.warehouse,
                    "wait_timeout": "30s",
                }),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        let total: i64 = v["result"]["data_array"][0][0]
            .as_str()
            .and_then(|n| n.parse().ok())
            .expect("a count");
        assert_eq!(counted, total);
        // The warehouse's history has the query, from the Genie space.
        let statement_id = item.statement_id.clone().expect("its statement");
        let (status, v) = t
            .get(&format!(
                "/api/2.0/sql/history/queries?filter_by.statement_ids={statement_id}"
            ))
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["res"][0]["query_text"], json!(sql), "{v}");
        assert_eq!(v["res"][0]["status"], "FINISHED", "{v}");
        assert_eq!(
            v["res"][0]["query_source"]["genie_space_id"], "10ca16e0000000000000000000000001",
            "{v}"
        );
    }
}

/// A follow-up names the conversation and stays in it, on the given warehouse; an
/// unknown conversation or warehouse is refused before anything streams.
async fn follow_ups_continue_a_conversation(t: Target) {
    let first = ask_first(&t, &json!({"input": QUESTION}))
        .await
        .expect("accepted");
    let (cid, rid) = ids(&first);
    finished(&t, &cid, &rid).await;
    let second = ask_first(
        &t,
        &json!({
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And by order status?"}]}],
            "conversation_id": cid,
            "warehouse_id": t.known.warehouse,
        }),
    )
    .await
    .expect("a follow-up is accepted");
    let (cid2, rid2) = ids(&second);
    assert_eq!(cid2, cid);
    assert_ne!(rid2, rid);
    let done = finished(&t, &cid2, &rid2).await;
    assert_eq!(done.status(), "completed", "{done:?}");
    let error = ask_first(
        &t,
        &json!({"input": "Anything?", "conversation_id": "0123456789abcdef0123456789abcdef"}),
    )
    .await
    .expect_err("an unknown conversation");
    assert_error(&error, 404, "RESOURCE_DOES_NOT_EXIST");
    let error = ask_first(
        &t,
        &json!({"input": "Anything?", "warehouse_id": "nope0123456789"}),
    )
    .await
    .expect_err("an unknown warehouse");
    assert_error(&error, 404, "RESOURCE_DOES_NOT_EXIST");
}

/// Only `input`, `conversation_id` and `warehouse_id`; `input` a nonblank string or one
/// user message of nonblank text parts, at most 25,000 bytes.
async fn bad_requests_are_refused(t: Target) {
    for body in [
        json!({"input": QUESTION, "stream": true}),
        json!({"question": QUESTION}),
        json!({"input": "   "}),
        json!({"input": 42}),
        json!({"input": []}),
        json!({"input": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"}
        ]}),
        json!({"input": [{"role": "system", "content": "a"}]}),
        json!({"input": [{"role": "user", "content": [{"type": "input_image", "text": "a"}]}]}),
        json!({"input": "x".repeat(25_001)}),
        json!({"input": QUESTION, "conversation_id": ""}),
        json!("How many orders?"),
    ] {
        assert_error(
            &t.post(RESPONSES, &body).await,
            400,
            "INVALID_PARAMETER_VALUE",
        );
    }
    assert_error(
        &t.send(Method::GET, RESPONSES, true).await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
    assert_error(
        &t.send(Method::POST, RESPONSES, false).await,
        401,
        "UNAUTHENTICATED",
    );
}

async fn unknown_ids_are_not_found(t: Target) {
    let created = ask_first(&t, &json!({"input": QUESTION}))
        .await
        .expect("accepted");
    let (cid, rid) = ids(&created);
    let unknown = "0123456789abcdef0123456789abcdef";
    for path in [
        response_path(unknown, unknown),
        response_path(&cid, unknown),
        response_path(unknown, &rid),
        format!("{}/items/{unknown}/query-result", response_path(&cid, &rid)),
    ] {
        assert_error(&t.get(&path).await, 404, "RESOURCE_DOES_NOT_EXIST");
    }
    assert_error(
        &t.post(
            &format!("{}/cancel", response_path(unknown, unknown)),
            &json!({}),
        )
        .await,
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_error(
        &t.send(Method::DELETE, &response_path(&cid, &rid), true)
            .await,
        404,
        "ENDPOINT_NOT_FOUND",
    );
}

/// A cancel answers the response ended: `incomplete` (reason `cancelled`) when it was
/// still running, as it was when it had already ended; reads and cancels agree after.
async fn a_cancelled_response_ends_and_stays_ended(t: Target) {
    // The emulator keeps a `slow` question running until it is cancelled.
    let created = ask_first(&t, &json!({"input": format!("slow: {QUESTION}")}))
        .await
        .expect("accepted");
    let (cid, rid) = ids(&created);
    let cancel = format!("{}/cancel", response_path(&cid, &rid));
    let (status, v) = t.post(&cancel, &json!({})).await;
    assert_eq!(status, 200, "{v}");
    let cancelled: GenieOneResponse = serde_json::from_value(v).expect("a response");
    assert!(cancelled.is_terminal(), "{cancelled:?}");
    if t.backend == Backend::Emulator || cancelled.status() == "incomplete" {
        assert_eq!(cancelled.status(), "incomplete", "{cancelled:?}");
        assert!(cancelled.is_cancelled(), "{cancelled:?}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(read(&t, &cid, &rid).await, cancelled);
    let (status, again) = t.post(&cancel, &json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        serde_json::from_value::<GenieOneResponse>(again).expect("a response"),
        cancelled
    );
}
