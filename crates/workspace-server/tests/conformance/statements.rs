//! SQL Statement Execution API 2.0 (REFERENCE.md §1): the execute request's checks, the
//! response of a succeeded statement, chunks, the three dispositions, the downloads
//! behind external links, and unknown statements.

use databricks_api::sql::{ResultData, StatementResponse, StatementState};
use serde_json::{Value, json};

use crate::conformance;
use crate::support::{Target, assert_error};

const STATEMENTS: &str = "/api/2.0/sql/statements";

conformance! {
    the_execute_request_is_checked => super::the_execute_request_is_checked;
    a_succeeded_statement_has_its_manifest_and_first_chunk => super::a_succeeded_statement_has_its_manifest_and_first_chunk;
    chunks_are_fetched_by_index_in_range => super::chunks_are_fetched_by_index_in_range;
    unknown_statements_are_not_found => super::unknown_statements_are_not_found;
    external_links_download_without_the_token => super::external_links_download_without_the_token;
    the_hybrid_disposition_answers_small_results_inline => super::the_hybrid_disposition_answers_small_results_inline;
    an_asynchronous_statement_is_polled_to_its_end => super::an_asynchronous_statement_is_polled_to_its_end;
    a_running_statement_is_cancelled_and_has_no_chunks => super::a_running_statement_is_cancelled_and_has_no_chunks;
    row_limit_truncates_the_result => super::row_limit_truncates_the_result;
    every_format_carries_the_same_cells => super::every_format_carries_the_same_cells;
    csv_has_one_header_and_writes_null => super::csv_has_one_header_and_writes_null;
}

/// A statement that keeps running until it is cancelled: the emulator's scripted one
/// (PENDING for many looks), the local workspace's three-way cross join of a sample table.
/// (A sum, not a count: DataFusion answers the count of a cross join from statistics.)
const SLOW: &str = "SELECT sum(a.l_quantity + b.l_quantity + c.l_quantity) FROM samples.tpch.lineitem a CROSS JOIN samples.tpch.lineitem b CROSS JOIN samples.tpch.lineitem c";

fn slow(t: &Target) {
    if let Some(emulator) = t.emulator() {
        emulator.script_statement(
            "CROSS JOIN",
            databricks_emulator::StatementScript::pending(
                1_000,
                databricks_emulator::StatementScript::NoResult,
            ),
        );
    }
}

/// The emulator generates the rows of a scripted statement (its default answer is a
/// recorded inline fixture): the same two columns the local workspace computes.
fn scripted(t: &Target) {
    if let Some(emulator) = t.emulator() {
        emulator.script_statement(
            "SELECT 1 AS one",
            databricks_emulator::StatementScript::rows(
                &[("one", "INT"), ("letter", "STRING")],
                1,
                0,
            ),
        );
    }
}

fn execute_body(t: &Target, extra: Value) -> Value {
    scripted(t);
    let mut body = json!({
        "statement": "SELECT 1 AS one, 'a' AS letter",
        "warehouse_id": t.known.warehouse,
        "wait_timeout": "30s",
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

async fn execute(t: &Target, extra: Value) -> StatementResponse {
    let (status, v) = t.post(STATEMENTS, &execute_body(t, extra)).await;
    assert_eq!(status, 200, "{v}");
    let response: StatementResponse = serde_json::from_value(v.clone()).expect("a statement");
    assert_eq!(response.status.state, StatementState::Succeeded, "{v}");
    response
}

/// §1.1: a body that is not an object, a missing `statement` or `warehouse_id`, values
/// outside their enums or ranges, and formats the disposition does not carry are 400s
/// before any statement exists.
async fn the_execute_request_is_checked(t: Target) {
    let (status, _, text) = t.post_text(STATEMENTS, &json!("[1, 2]")).await;
    assert_eq!(status, 400, "{text}");
    let bad = [
        json!({"warehouse_id": t.known.warehouse}),
        json!({"statement": "SELECT 1"}),
        execute_body(&t, json!({"wait_timeout": "3s"})),
        execute_body(&t, json!({"wait_timeout": "51s"})),
        execute_body(&t, json!({"wait_timeout": "ten"})),
        execute_body(&t, json!({"on_wait_timeout": "LATER"})),
        execute_body(&t, json!({"disposition": "SIDEWAYS"})),
        execute_body(&t, json!({"format": "XML"})),
        execute_body(&t, json!({"format": "ARROW_STREAM"})),
        execute_body(&t, json!({"format": "CSV", "disposition": "INLINE"})),
        execute_body(&t, json!({"row_limit": -1})),
        execute_body(&t, json!({"parameters": [{"value": "1"}]})),
        execute_body(&t, json!({"parameters": "x=1"})),
    ];
    for body in bad {
        let answer = t.post(STATEMENTS, &body).await;
        assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    }
    let answer = t
        .post(
            STATEMENTS,
            &json!({"statement": "SELECT 1", "warehouse_id": "no-such-warehouse"}),
        )
        .await;
    assert_eq!(answer.0, 404, "{}", answer.1);
}

/// §1.1: SUCCEEDED with a manifest that counts its columns and chunks, and chunk 0 as
/// `result`; a GET answers the same.
async fn a_succeeded_statement_has_its_manifest_and_first_chunk(t: Target) {
    let response = execute(&t, json!({})).await;
    let manifest = response.manifest.clone().expect("a manifest");
    assert_eq!(manifest.format.as_deref(), Some("JSON_ARRAY"));
    assert_eq!(
        manifest.schema.column_count,
        Some(manifest.schema.columns.len() as i64)
    );
    assert!(!manifest.schema.columns.is_empty());
    for (i, column) in manifest.schema.columns.iter().enumerate() {
        assert_eq!(column.position, Some(i as i64));
        assert!(column.type_name.is_some() && column.type_text.is_some());
    }
    assert_eq!(
        manifest.total_chunk_count,
        Some(manifest.chunks.len() as i64)
    );
    assert!(
        manifest.total_byte_count.is_none(),
        "INLINE has no byte count"
    );
    let result = response.result.clone().expect("chunk 0");
    assert_eq!(result.chunk_index, Some(0));
    let rows = result.data_array.clone().unwrap_or_default();
    assert_eq!(Some(rows.len() as i64), result.row_count);
    assert!(
        rows.iter()
            .all(|r| r.len() == manifest.schema.columns.len())
    );
    assert!(result.external_links.is_empty());

    let (status, v) = t
        .get(&format!("{STATEMENTS}/{}", response.statement_id))
        .await;
    assert_eq!(status, 200, "{v}");
    let again: StatementResponse = serde_json::from_value(v.clone()).expect("a statement");
    assert_eq!(again.status.state, StatementState::Succeeded);
    assert_eq!(
        again.result.and_then(|r| r.data_array),
        response.result.and_then(|r| r.data_array)
    );
}

/// §1.4: chunk 0 again by index; an index past the last chunk, or not a number, is 400.
async fn chunks_are_fetched_by_index_in_range(t: Target) {
    let response = execute(&t, json!({})).await;
    let id = &response.statement_id;
    let (status, v) = t.get(&format!("{STATEMENTS}/{id}/result/chunks/0")).await;
    assert_eq!(status, 200, "{v}");
    let chunk: ResultData = serde_json::from_value(v.clone()).expect("a chunk");
    assert_eq!(chunk.chunk_index, Some(0));
    assert_eq!(
        chunk.data_array,
        response.result.and_then(|r| r.data_array),
        "{v}"
    );
    let total = response
        .manifest
        .and_then(|m| m.total_chunk_count)
        .expect("a chunk count");
    let answer = t
        .get(&format!("{STATEMENTS}/{id}/result/chunks/{total}"))
        .await;
    assert_error(&answer, 400, "INVALID_PARAMETER_VALUE");
    let answer = t.get(&format!("{STATEMENTS}/{id}/result/chunks/x")).await;
    assert_eq!(answer.0, 400, "{}", answer.1);
}

/// §1.2: a statement that never existed is a 404 to GET, cancel and chunks alike.
async fn unknown_statements_are_not_found(t: Target) {
    let id = "01f0c0de-0000-4000-8000-000000000000";
    let answer = t.get(&format!("{STATEMENTS}/{id}")).await;
    assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    let answer = t
        .post(&format!("{STATEMENTS}/{id}/cancel"), &json!({}))
        .await;
    assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
    let answer = t.get(&format!("{STATEMENTS}/{id}/result/chunks/0")).await;
    assert_error(&answer, 404, "RESOURCE_DOES_NOT_EXIST");
}

/// §1.4: each format's download is served without the Databricks token, refused with
/// it, and as long as the manifest says.
async fn external_links_download_without_the_token(t: Target) {
    for format in ["JSON_ARRAY", "ARROW_STREAM", "CSV"] {
        let response = execute(
            &t,
            json!({"disposition": "EXTERNAL_LINKS", "format": format}),
        )
        .await;
        let manifest = response.manifest.expect("a manifest");
        assert_eq!(manifest.format.as_deref(), Some(format));
        let total_bytes = manifest.total_byte_count.expect("total_byte_count");
        assert!(total_bytes >= 0);
        let result = response.result.expect("chunk 0");
        assert!(result.data_array.is_none());
        let link = result.external_links.first().expect("a link");
        assert!(link.expiration.is_some());
        let with_token = t
            .http()
            .get(&link.external_link)
            .bearer_auth(&t.token)
            .send()
            .await
            .expect("download");
        assert_eq!(with_token.status().as_u16(), 400, "{format}");
        let download = t
            .http()
            .get(&link.external_link)
            .send()
            .await
            .expect("download");
        assert_eq!(download.status().as_u16(), 200, "{format}");
        let bytes = download.bytes().await.expect("bytes");
        assert_eq!(Some(bytes.len() as i64), link.byte_count, "{format}");
        if manifest.chunks.len() == 1 {
            assert_eq!(bytes.len() as i64, total_bytes, "{format}");
        }
        if format == "JSON_ARRAY" {
            let rows: Vec<Vec<Option<String>>> = serde_json::from_slice(&bytes).expect("JSON rows");
            assert_eq!(rows.len() as i64, link.row_count);
        }
        let mut tampered = link.external_link.clone();
        tampered.push('0');
        let refused = t.http().get(&tampered).send().await.expect("download");
        assert_eq!(refused.status().as_u16(), 403, "{format}");
    }
}

/// The hybrid disposition: a small ARROW_STREAM result comes back as an attachment in
/// `result`, no link to fetch.
async fn the_hybrid_disposition_answers_small_results_inline(t: Target) {
    let response = execute(
        &t,
        json!({"disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "ARROW_STREAM"}),
    )
    .await;
    let manifest = response.manifest.expect("a manifest");
    let result = response.result.expect("chunk 0");
    assert!(result.external_links.is_empty());
    let attachment = result.attachment.expect("an attachment");
    let ipc = databricks_api::attachment::decode(
        &attachment,
        manifest.result_compression.as_deref(),
        64 * 1024 * 1024,
    )
    .expect("an Arrow stream");
    assert!(ipc.starts_with(&[0xff, 0xff, 0xff, 0xff]), "an IPC stream");
}

/// §1.1: `wait_timeout: 0s` answers at once; polling reaches SUCCEEDED; cancelling a
/// finished statement changes nothing.
async fn an_asynchronous_statement_is_polled_to_its_end(t: Target) {
    let (status, v) = t
        .post(STATEMENTS, &execute_body(&t, json!({"wait_timeout": "0s"})))
        .await;
    assert_eq!(status, 200, "{v}");
    let id = v["statement_id"].as_str().expect("an id").to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut state = v["status"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    while state != "SUCCEEDED" {
        assert!(matches!(state.as_str(), "PENDING" | "RUNNING"), "{state}");
        assert!(std::time::Instant::now() < deadline, "never finished");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, v) = t.get(&format!("{STATEMENTS}/{id}")).await;
        state = v["status"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    }
    let (status, v) = t
        .post(&format!("{STATEMENTS}/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = t.get(&format!("{STATEMENTS}/{id}")).await;
    assert_eq!(v["status"]["state"], "SUCCEEDED", "{v}");
}

/// §1.3: a cancelled statement reports CANCELED, its chunks are refused with
/// INVALID_STATE, and a second cancel changes nothing; `on_wait_timeout: CANCEL` cancels a
/// statement still running when the wait ends.
async fn a_running_statement_is_cancelled_and_has_no_chunks(t: Target) {
    slow(&t);
    let (status, v) = t
        .post(
            STATEMENTS,
            &json!({"statement": SLOW, "warehouse_id": t.known.warehouse, "wait_timeout": "0s"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"]["state"], "PENDING", "{v}");
    let id = v["statement_id"].as_str().expect("an id").to_string();
    for _ in 0..2 {
        let (status, v) = t
            .post(&format!("{STATEMENTS}/{id}/cancel"), &json!({}))
            .await;
        assert_eq!((status, v), (200, json!({})));
        let (_, v) = t.get(&format!("{STATEMENTS}/{id}")).await;
        assert_eq!(v["status"]["state"], "CANCELED", "{v}");
    }
    let answer = t.get(&format!("{STATEMENTS}/{id}/result/chunks/0")).await;
    assert_error(&answer, 400, "INVALID_STATE");

    let (status, v) = t
        .post(
            STATEMENTS,
            &json!({"statement": SLOW, "warehouse_id": t.known.warehouse,
                    "wait_timeout": "5s", "on_wait_timeout": "CANCEL"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"]["state"], "CANCELED", "{v}");
}

/// §1.1: `row_limit` caps the rows and says so in `manifest.truncated`.
async fn row_limit_truncates_the_result(t: Target) {
    if let Some(emulator) = t.emulator() {
        emulator.script_statement(
            "FROM samples.tpch.nation",
            databricks_emulator::StatementScript::rows(&[("n_name", "STRING")], 25, 0),
        );
    }
    let body = json!({"statement": "SELECT n_name FROM samples.tpch.nation",
                      "warehouse_id": t.known.warehouse, "wait_timeout": "30s"});
    let (_, whole) = t.post(STATEMENTS, &body).await;
    assert_eq!(whole["manifest"]["total_row_count"], 25, "{whole}");
    assert_eq!(whole["manifest"]["truncated"], false, "{whole}");
    let mut limited = body.clone();
    limited["row_limit"] = json!(3);
    let (_, v) = t.post(STATEMENTS, &limited).await;
    assert_eq!(v["manifest"]["total_row_count"], 3, "{v}");
    assert_eq!(v["manifest"]["truncated"], true, "{v}");
    assert_eq!(v["result"]["data_array"].as_array().map(Vec::len), Some(3));
}

/// Values of the types whose text has rules (§1.1): a decimal, a timestamp, binary,
/// a date, a string that CSV quotes, nested values and NULLs. The emulator generates
/// rows of the same types (its STRING column is NULL in row 6).
const TYPED: &str = "SELECT * FROM (VALUES \
    (CAST(1 AS BIGINT), CAST(1.50 AS DECIMAL(5,2)), 'a,\"b\"', TIMESTAMP '2024-01-01 10:00:00', X'0102ff', DATE '2024-02-03', named_struct('a', 1, 'b', 'x'), CAST(NULL AS STRING)), \
    (CAST(2 AS BIGINT), NULL, 'plain', NULL, NULL, NULL, NULL, 'z')) \
    AS typed(n, d, s, t, b, dt, st, maybe)";

fn typed(t: &Target) -> Value {
    if let Some(emulator) = t.emulator() {
        let columns = [
            ("n", "BIGINT"),
            ("d", "DECIMAL(5,2)"),
            ("s", "STRING"),
            ("t", "TIMESTAMP"),
            ("b", "BINARY"),
            ("dt", "DATE"),
            ("st", "STRUCT<id: BIGINT, name: STRING>"),
        ];
        emulator.script_statement(
            "AS typed",
            databricks_emulator::StatementScript::rows(&columns, 8, 0),
        );
    }
    json!({"statement": TYPED, "warehouse_id": t.known.warehouse, "wait_timeout": "30s"})
}

/// The cells of a statement's only chunk in `format`, downloaded from its link.
async fn downloaded(t: &Target, format: &str) -> Vec<u8> {
    let mut body = typed(t);
    body["disposition"] = json!("EXTERNAL_LINKS");
    body["format"] = json!(format);
    let (status, v) = t.post(STATEMENTS, &body).await;
    assert_eq!(status, 200, "{v}");
    let link = v["result"]["external_links"][0]["external_link"]
        .as_str()
        .expect("a link");
    let download = t.http().get(link).send().await.expect("download");
    assert_eq!(download.status().as_u16(), 200, "{format}");
    download.bytes().await.expect("bytes").to_vec()
}

/// One RFC 4180 line's fields (no line breaks inside quotes in these tests).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// §1.1: a value reads the same whichever format and disposition carried it: INLINE and
/// downloaded JSON_ARRAY, ARROW_STREAM read with the contract's cell rules, and CSV.
async fn every_format_carries_the_same_cells(t: Target) {
    let (status, v) = t.post(STATEMENTS, &typed(&t)).await;
    assert_eq!(status, 200, "{v}");
    let inline: Vec<Vec<Option<String>>> =
        serde_json::from_value(v["result"]["data_array"].clone()).expect("JSON_ARRAY rows");
    assert!(
        inline.iter().flatten().any(Option::is_none),
        "some NULL: {v}"
    );

    let json: Vec<Vec<Option<String>>> =
        serde_json::from_slice(&downloaded(&t, "JSON_ARRAY").await).expect("JSON rows");
    assert_eq!(json, inline);

    let ipc = downloaded(&t, "ARROW_STREAM").await;
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(ipc), None)
        .expect("an Arrow stream");
    let mut arrow = Vec::new();
    for batch in reader {
        let batch = batch.expect("a batch");
        databricks_api::cells::append_rows(&batch, 0..batch.num_rows(), &mut arrow);
    }
    assert_eq!(arrow, inline);

    let csv = String::from_utf8(downloaded(&t, "CSV").await).expect("UTF-8");
    let csv: Vec<Vec<Option<String>>> = (csv.lines().skip(1))
        .map(|line| {
            let fields = csv_fields(line).into_iter();
            fields.map(|f| (f != "null").then_some(f)).collect()
        })
        .collect();
    assert_eq!(csv, inline);
}

/// §1.1 (format CSV): the first chunk starts with a header row of the column names, a
/// later chunk does not, and NULL is written `null`.
async fn csv_has_one_header_and_writes_null(t: Target) {
    let mut body = typed(&t);
    body["disposition"] = json!("EXTERNAL_LINKS");
    body["format"] = json!("CSV");
    let (status, v) = t.post(STATEMENTS, &body).await;
    assert_eq!(status, 200, "{v}");
    let names: Vec<&str> = (v["manifest"]["schema"]["columns"].as_array())
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let first = &v["result"]["external_links"][0]["external_link"];
    let text = t
        .http()
        .get(first.as_str().expect("a link"))
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    let mut lines = text.lines();
    assert_eq!(
        lines.next().map(csv_fields),
        Some(names.iter().map(|n| n.to_string()).collect())
    );
    assert!(
        lines.any(|l| csv_fields(l).iter().any(|f| f == "null")),
        "{text}"
    );

    // A later chunk (the emulator's scripted chunks of one row) has no header.
    if let Some(emulator) = t.emulator() {
        emulator.script_statement(
            "chunked",
            databricks_emulator::StatementScript::rows(&[("s", "STRING")], 3, 1),
        );
        let body = json!({"statement": "SELECT 'chunked'", "warehouse_id": t.known.warehouse,
                          "disposition": "EXTERNAL_LINKS", "format": "CSV"});
        let (_, v) = t.post(STATEMENTS, &body).await;
        let id = v["statement_id"].as_str().expect("an id");
        let (_, chunk) = t.get(&format!("{STATEMENTS}/{id}/result/chunks/1")).await;
        let link = chunk["external_links"][0]["external_link"]
            .as_str()
            .expect("a link");
        let text = t
            .http()
            .get(link)
            .send()
            .await
            .expect("download")
            .text()
            .await;
        assert_eq!(text.expect("text"), "s1\n");
    }
}
