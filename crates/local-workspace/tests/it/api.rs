//! The REST surface, shaped as REFERENCE.md and the emulator fixtures describe it.

use std::time::Duration;

use base64::Engine as _;
use local_workspace::{CLUSTER_ID, LocalWorkspace, WAREHOUSE_ID};
use serde_json::{Value, json};

use crate::support::*;

const STMTS: &str = "/api/2.0/sql/statements";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_loopback() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let r = s
        .http
        .get(s.url("/api/2.0/sql/warehouses"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = s
        .http
        .get(s.url("/api/2.0/sql/warehouses"))
        .bearer_auth("dapi-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_code"], "UNAUTHENTICATED");
    assert!(s.api.base_url.starts_with("http://127.0.0.1:"));
    assert_eq!(
        s.api.local_addr().port().to_string(),
        s.api.base_url.rsplit(':').next().unwrap()
    );
    let err =
        workspace_server::front::serve("0.0.0.0:0".parse().unwrap(), |url| s.ws.backends(url))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    let (status, v) = s.get("/api/2.0/nothing/here").await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("ENDPOINT_NOT_FOUND"))
    );
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_inline_chunks_async_cancel_and_limits() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    // A result large enough for several INLINE chunks.
    let sql = "SELECT l.*, r.r_name FROM samples.tpch.lineitem l CROSS JOIN samples.tpch.region r";
    let v = s.sql(sql).await;
    assert_eq!(v["status"]["state"], "SUCCEEDED");
    let m = &v["manifest"];
    assert_eq!(m["format"], "JSON_ARRAY");
    let total = m["total_row_count"].as_u64().unwrap();
    let chunks = m["total_chunk_count"].as_u64().unwrap();
    assert!(chunks > 1, "expected several chunks, got {m}");
    assert_eq!(m["chunks"].as_array().unwrap().len() as u64, chunks);
    assert_eq!(m["truncated"], false);
    assert_eq!(v["result"]["chunk_index"], 0);
    assert_eq!(v["result"]["next_chunk_index"], 1);
    let rows = s.rows(sql).await;
    assert_eq!(rows.len() as u64, total);
    let id = v["statement_id"].as_str().unwrap().to_string();
    let (status, c1) = s.get(&format!("{STMTS}/{id}/result/chunks/1")).await;
    assert_eq!(status, 200);
    assert_eq!(c1["chunk_index"], 1);
    assert_eq!(c1["row_offset"], m["chunks"][1]["row_offset"]);
    let (status, _) = s.get(&format!("{STMTS}/{id}/result/chunks/{chunks}")).await;
    assert_eq!(status, 400);

    // row_limit truncates.
    let (_, v) = s
        .post(STMTS, json!({"statement": "SELECT * FROM samples.tpch.nation", "warehouse_id": WAREHOUSE_ID, "row_limit": 3}))
        .await;
    assert_eq!(v["manifest"]["total_row_count"], 3);
    assert_eq!(v["manifest"]["truncated"], true);

    // Parameters are typed and bound, never spliced.
    let (_, v) = s
        .post(
            STMTS,
            json!({
                "statement": "SELECT n_name FROM samples.tpch.nation WHERE n_nationkey = :k AND n_name <> :x",
                "warehouse_id": WAREHOUSE_ID,
                "parameters": [{"name": "k", "value": "7", "type": "INT"}, {"name": "x", "value": "' OR 1=1 --"}]
            }),
        )
        .await;
    assert_eq!(v["result"]["data_array"], json!([["GERMANY"]]), "{v}");

    // Async: PENDING at once, then polled to SUCCEEDED.
    let (_, v) = s
        .post(STMTS, json!({"statement": "SELECT count(*) FROM samples.tpch.lineitem", "warehouse_id": WAREHOUSE_ID, "wait_timeout": "0s"}))
        .await;
    assert_eq!(v["status"]["state"], "PENDING");
    let id = v["statement_id"].as_str().unwrap().to_string();
    let mut state = String::new();
    for _ in 0..100 {
        let (_, v) = s.get(&format!("{STMTS}/{id}")).await;
        state = v["status"]["state"].as_str().unwrap().to_string();
        if state == "SUCCEEDED" {
            assert!(v["result"]["data_array"][0][0].as_str().is_some());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "SUCCEEDED");

    // Cancel a long statement.
    let (_, v) = s
        .post(STMTS, json!({
            "statement": "SELECT count(*) FROM samples.tpch.lineitem a CROSS JOIN samples.tpch.lineitem b CROSS JOIN samples.tpch.lineitem c",
            "warehouse_id": WAREHOUSE_ID, "wait_timeout": "0s"}))
        .await;
    let id = v["statement_id"].as_str().unwrap().to_string();
    let (status, body) = s.post(&format!("{STMTS}/{id}/cancel"), json!({})).await;
    assert_eq!((status, body), (200, json!({})));
    let (_, v) = s.get(&format!("{STMTS}/{id}")).await;
    assert_eq!(v["status"]["state"], "CANCELED");

    // Failures: HTTP 200 + FAILED; bad requests: 4xx.
    let (status, v) = s
        .post(
            STMTS,
            json!({"statement": "SELECT * FROM nope", "warehouse_id": WAREHOUSE_ID}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["status"]["state"], "FAILED");
    assert_eq!(v["status"]["error"]["error_code"], "BAD_REQUEST");
    assert_eq!(v["status"]["sql_state"], "42P01");
    let (status, v) = s
        .post(
            STMTS,
            json!({"statement": "SELECT 1", "warehouse_id": "abc"}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    let (status, _) = s
        .post(
            STMTS,
            json!({"statement": "SELECT 1", "warehouse_id": WAREHOUSE_ID, "wait_timeout": "3s"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .post(STMTS, json!({"statement": "SELECT 1", "warehouse_id": WAREHOUSE_ID, "format": "ARROW_STREAM"}))
        .await;
    assert_eq!(status, 400);
    let (status, v) = s.get(&format!("{STMTS}/no-such-id")).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_links_serve_arrow_and_refuse_the_authorization_header() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    for (format, ctype) in [
        ("ARROW_STREAM", "application/vnd.apache.arrow.stream"),
        ("CSV", "text/csv"),
        ("JSON_ARRAY", "application/json"),
    ] {
        let (_, v) = s
            .post(
                STMTS,
                json!({"statement": "SELECT n_nationkey, n_name FROM samples.tpch.nation ORDER BY 1",
                       "warehouse_id": WAREHOUSE_ID, "disposition": "EXTERNAL_LINKS", "format": format}),
            )
            .await;
        assert_eq!(v["status"]["state"], "SUCCEEDED", "{v}");
        assert_eq!(v["manifest"]["format"], format);
        assert!(v["manifest"]["total_byte_count"].as_u64().unwrap() > 0);
        let link = &v["result"]["external_links"][0];
        let url = link["external_link"].as_str().unwrap();
        assert!(link["expiration"].as_str().unwrap().ends_with('Z'));
        // With the Databricks token: refused, like a pre-signed object-store URL.
        let r = s
            .http
            .get(url)
            .bearer_auth(&s.api.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let r = s.http.get(url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], ctype);
        let bytes = r.bytes().await.unwrap();
        assert_eq!(bytes.len() as u64, link["byte_count"].as_u64().unwrap());
        match format {
            "ARROW_STREAM" => {
                let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
                    std::io::Cursor::new(bytes.to_vec()),
                    None,
                )
                .unwrap();
                let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
                assert_eq!(rows, 25);
            }
            "CSV" => assert!(
                String::from_utf8(bytes.to_vec())
                    .unwrap()
                    .starts_with("n_nationkey,n_name\n0,ALGERIA\n")
            ),
            _ => {
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(v[0], json!(["0", "ALGERIA"]));
            }
        }
        // A tampered signature is refused.
        let r = s
            .http
            .get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouses_clusters_me() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let (_, v) = s.get("/api/2.0/sql/warehouses").await;
    assert_eq!(v["warehouses"][0]["id"], WAREHOUSE_ID);
    assert_eq!(v["warehouses"][0]["state"], "RUNNING");
    let (status, v) = s
        .get(&format!("/api/2.0/sql/warehouses/{WAREHOUSE_ID}"))
        .await;
    assert_eq!(
        (status, v["name"].as_str()),
        (200, Some("Local DataFusion engine"))
    );
    let (_, v) = s.get("/api/2.1/clusters/list").await;
    assert_eq!(v["clusters"][0]["cluster_id"], CLUSTER_ID);
    let (_, v) = s
        .get(&format!("/api/2.1/clusters/get?cluster_id={CLUSTER_ID}"))
        .await;
    assert_eq!(v["state"], "RUNNING");
    // The sample Genie space over the TPC-H tables.
    let (status, v) = s.get("/api/2.0/genie/spaces").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["spaces"][0]["space_id"],
        "10ca16e0000000000000000000000001"
    );
    assert_eq!(v["spaces"][0]["title"], "TPC-H sales");
    assert_eq!(v["spaces"][0]["warehouse_id"], WAREHOUSE_ID);
    let (_, v) = s.get("/api/2.0/preview/scim/v2/Me").await;
    assert!(v["userName"].as_str().unwrap().contains('@'));
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unity_catalog_lists_with_paging_and_comments() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let (_, v) = s.get("/api/2.1/unity-catalog/catalogs?max_results=0").await;
    let names: Vec<&str> = v["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "samples", "system"]);
    // Paging: 3 tables per page over 8 tables.
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = "/api/2.1/unity-catalog/tables?catalog_name=samples&schema_name=tpch&max_results=3&omit_columns=true".to_string();
        if let Some(t) = &token {
            // Tokens are standard base64: `+`, `/` and `=` must be encoded.
            let t = t
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D");
            path.push_str(&format!("&page_token={t}"));
        }
        let (status, v) = s.get(&path).await;
        assert_eq!(status, 200, "{v}");
        for t in v["tables"].as_array().unwrap() {
            assert!(t.get("columns").is_none());
            all.push(t["name"].as_str().unwrap().to_string());
        }
        match v["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(
        all,
        [
            "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"
        ]
    );
    let (_, v) = s
        .get("/api/2.1/unity-catalog/tables/samples.tpch.orders")
        .await;
    assert_eq!(v["full_name"], "samples.tpch.orders");
    assert_eq!(v["table_type"], "MANAGED");
    assert_eq!(v["data_source_format"], "DELTA");
    assert!(v["comment"].as_str().unwrap().starts_with("TPC-H ORDERS"));
    let col = &v["columns"][4];
    assert_eq!(col["name"], "o_orderdate");
    assert_eq!(col["type_name"], "DATE");
    assert_eq!(col["type_text"], "date");
    assert_eq!(col["comment"], "Date the order was placed.");
    assert!(col["type_json"].as_str().unwrap().contains("\"date\""));
    let price = &v["columns"][3];
    assert_eq!(
        (
            price["type_precision"].as_i64(),
            price["type_scale"].as_i64()
        ),
        (Some(15), Some(2))
    );
    let (_, v) = s
        .get("/api/2.1/unity-catalog/schemas?catalog_name=samples")
        .await;
    assert_eq!(v["schemas"].as_array().unwrap().len(), 2);
    let (_, v) = s
        .get("/api/2.1/unity-catalog/volumes?catalog_name=main&schema_name=default")
        .await;
    assert_eq!(v["volumes"][0]["full_name"], "main.default.files");
    let (status, v) = s
        .get("/api/2.1/unity-catalog/functions?catalog_name=main&schema_name=default")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        v["functions"][0]["full_name"],
        "main.default.discounted_price"
    );
    assert_eq!(
        v["functions"][0]["input_params"]["parameters"][1]["name"],
        "discount"
    );
    let (status, v) = s
        .get("/api/2.1/unity-catalog/functions/main.default.discounted_price")
        .await;
    assert_eq!((status, v["data_type"].as_str()), (200, Some("DECIMAL")));
    let (status, _) = s
        .get("/api/2.1/unity-catalog/functions/main.default.nope")
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .get("/api/2.1/unity-catalog/tables?catalog_name=samples")
        .await;
    assert_eq!(status, 400);
    s.api.shutdown().await;
}

async fn wait_run(s: &Server, run_id: i64) -> Value {
    for _ in 0..400 {
        let (_, v) = s
            .get(&format!("/api/2.2/jobs/runs/get?run_id={run_id}"))
            .await;
        if v["state"]["life_cycle_state"] == "TERMINATED"
            || v["state"]["life_cycle_state"] == "INTERNAL_ERROR"
        {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run_id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_sql_tasks_and_keep_runs_on_disk() {
    let dir = fresh_dir().await;
    // A job with an unsupported task kind next to the sample job.
    std::fs::write(
        dir.path().join("jobs/2.json"),
        json!({"name": "python job", "tasks": [{"task_key": "py", "spark_python_task": {"python_file": "x.py"}}]}).to_string(),
    )
    .unwrap();
    let run_id;
    {
        let s = Server::start(dir.path(), false).await;
        let (_, v) = s.get("/api/2.2/jobs/list").await;
        let jobs = v["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(jobs[0]["settings"].get("tasks").is_none());
        let (_, v) = s.get("/api/2.2/jobs/get?job_id=1").await;
        assert_eq!(v["settings"]["tasks"].as_array().unwrap().len(), 2);

        let (status, v) = s.post("/api/2.2/jobs/run-now", json!({"job_id": 1})).await;
        assert_eq!(status, 200, "{v}");
        run_id = v["run_id"].as_i64().unwrap();
        let run = wait_run(&s, run_id).await;
        assert_eq!(run["state"]["result_state"], "SUCCESS", "{run}");
        assert_eq!(run["status"]["termination_details"]["code"], "SUCCESS");
        let tasks = run["tasks"].as_array().unwrap();
        assert!(
            tasks
                .iter()
                .all(|t| t["state"]["result_state"] == "SUCCESS")
        );
        let (status, _) = s
            .get(&format!("/api/2.2/jobs/runs/get-output?run_id={run_id}"))
            .await;
        assert_eq!(status, 400, "multi-task parent run");
        let sql_task = tasks[0]["run_id"].as_i64().unwrap();
        let (_, out) = s
            .get(&format!("/api/2.2/jobs/runs/get-output?run_id={sql_task}"))
            .await;
        assert!(
            out["logs"].as_str().unwrap().contains("l_returnflag"),
            "{out}"
        );
        assert_eq!(
            out["sql_output"]["query_output"]["warehouse_id"],
            WAREHOUSE_ID
        );
        assert_eq!(out["metadata"]["run_id"], sql_task);
        let nb_task = tasks[1]["run_id"].as_i64().unwrap();
        let (_, out) = s
            .get(&format!("/api/2.2/jobs/runs/get-output?run_id={nb_task}"))
            .await;
        assert!(
            out["notebook_output"]["result"]
                .as_str()
                .unwrap()
                .contains("nation"),
            "{out}"
        );

        let (_, v) = s.post("/api/2.2/jobs/run-now", json!({"job_id": 2})).await;
        let py = wait_run(&s, v["run_id"].as_i64().unwrap()).await;
        assert_eq!(py["state"]["result_state"], "FAILED");
        assert!(
            py["state"]["state_message"]
                .as_str()
                .unwrap()
                .contains("spark_python_task"),
            "{py}"
        );
        let (status, v) = s.post("/api/2.2/jobs/run-now", json!({"job_id": 99})).await;
        assert_eq!(status, 400, "{v}");
        s.api.shutdown().await;
    }
    // Runs survive a restart.
    let s = Server::start(dir.path(), false).await;
    let (_, v) = s.get("/api/2.2/jobs/runs/list?job_id=1").await;
    assert_eq!(v["runs"][0]["run_id"], run_id);
    assert!(v["runs"][0].get("tasks").is_none());
    let (_, v) = s
        .get("/api/2.2/jobs/runs/list?expand_tasks=true&limit=1")
        .await;
    assert_eq!(v["has_more"], true);
    assert!(v["runs"][0]["tasks"].is_array());
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_files_pipelines_vector_search() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    // Workspace.
    let (_, v) = s.get("/api/2.0/workspace/list?path=/Shared/samples").await;
    let objects = v["objects"].as_array().unwrap();
    let nb = objects
        .iter()
        .find(|o| o["path"] == "/Shared/samples/tpch_report")
        .unwrap();
    assert_eq!(
        (nb["object_type"].as_str(), nb["language"].as_str()),
        (Some("NOTEBOOK"), Some("SQL"))
    );
    assert!(
        objects
            .iter()
            .any(|o| o["path"] == "/Shared/samples/queries" && o["object_type"] == "DIRECTORY")
    );
    let (_, v) = s
        .get("/api/2.0/workspace/export?path=/Shared/samples/tpch_report&format=SOURCE")
        .await;
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(v["content"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(text.starts_with("-- Databricks notebook source"));
    let content = base64::engine::general_purpose::STANDARD.encode("print('hi')\n");
    let (status, v) = s
        .post("/api/2.0/workspace/import", json!({"path": "/Users/me/nb", "content": content, "language": "PYTHON", "format": "SOURCE"}))
        .await;
    assert_eq!(status, 404, "parent must exist: {v}");
    let (status, _) = s
        .post("/api/2.0/workspace/mkdirs", json!({"path": "/Users/me"}))
        .await;
    assert_eq!(status, 200);
    let (status, v) = s
        .post("/api/2.0/workspace/import", json!({"path": "/Users/me/nb", "content": content, "language": "PYTHON", "format": "SOURCE"}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = s
        .get("/api/2.0/workspace/get-status?path=/Users/me/nb")
        .await;
    assert_eq!(
        (v["object_type"].as_str(), v["language"].as_str()),
        (Some("NOTEBOOK"), Some("PYTHON"))
    );
    let (status, v) = s
        .post(
            "/api/2.0/workspace/import",
            json!({"path": "/Users/me/nb", "content": content, "language": "PYTHON"}),
        )
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some("RESOURCE_ALREADY_EXISTS"))
    );
    let (status, _) = s
        .get("/api/2.0/workspace/get-status?path=/Users/../../etc")
        .await;
    assert_eq!(status, 400);

    // Files on a volume.
    let url = s.url("/api/2.0/fs/files/Volumes/main/default/files/in/a b.csv");
    let r = s
        .http
        .put(&url)
        .bearer_auth(&s.api.token)
        .body("x,y\n1,2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = s
        .http
        .get(&url)
        .bearer_auth(&s.api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "x,y\n1,2\n");
    let r = s
        .http
        .put(format!("{url}?overwrite=false"))
        .bearer_auth(&s.api.token)
        .body("z")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let (_, v) = s
        .get("/api/2.0/fs/directories/Volumes/main/default/files/in")
        .await;
    assert_eq!(v["contents"][0]["name"], "a b.csv");
    assert_eq!(v["contents"][0]["file_size"], 8);
    let (status, _) = s.get("/api/2.0/fs/files/Volumes/main/default/nope/x").await;
    assert_eq!(status, 404);

    // Pipelines: an update materialises the views, in dependency order.
    let (_, v) = s.get("/api/2.0/pipelines").await;
    let id = v["statuses"][0]["pipeline_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["statuses"][0]["state"], "IDLE");
    let (status, v) = s
        .post(
            &format!("/api/2.0/pipelines/{id}/updates"),
            json!({"full_refresh": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let update = v["update_id"].as_str().unwrap().to_string();
    let mut state = Value::Null;
    for _ in 0..400 {
        let (_, v) = s
            .get(&format!("/api/2.0/pipelines/{id}/updates/{update}"))
            .await;
        state = v["update"]["state"].clone();
        if state == "COMPLETED" || state == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, events) = s.get(&format!("/api/2.0/pipelines/{id}/events")).await;
    assert_eq!(state, "COMPLETED", "{events}");
    assert!(
        s.scalar("SELECT count(*) FROM main.default.top_status")
            .await
            == json!("1")
    );
    let (_, v) = s.get(&format!("/api/2.0/pipelines/{id}")).await;
    assert_eq!(v["latest_updates"][0]["update_id"], update);
    assert_eq!(v["spec"]["catalog"], "main");

    // Vector search: exact nearest neighbours by text (lexical) and by vector.
    let (_, v) = s
        .get("/api/2.0/vector-search/indexes?endpoint_name=local")
        .await;
    assert_eq!(
        v["vector_indexes"][0]["name"],
        "main.default.documents_index"
    );
    let (_, v) = s
        .post(
            "/api/2.0/vector-search/indexes/main.default.documents_index/query",
            json!({"columns": ["id", "title"], "query_text": "revenue discount extended price", "num_results": 3}),
        )
        .await;
    assert_eq!(v["result"]["row_count"], 3, "{v}");
    assert_eq!(v["result"]["data_array"][0][1], "Revenue", "{v}");
    assert_eq!(v["manifest"]["columns"][2]["name"], "score");
    let (_, emb) = s
        .get("/api/2.0/vector-search/indexes/main.default.documents_index")
        .await;
    assert!(
        emb["status"]["message"]
            .as_str()
            .unwrap()
            .contains("lexical")
    );
    let rows = s
        .rows("SELECT embedding FROM main.default.documents WHERE id = 10")
        .await;
    let vector: Vec<f64> = serde_json::from_str(rows[0][0].as_str().unwrap()).unwrap();
    let (_, v) = s
        .post(
            "/api/2.0/vector-search/indexes/main.default.documents_index/query",
            json!({"columns": ["id"], "query_vector": vector, "num_results": 1, "filters_json": "{\"id >\": 5}"}),
        )
        .await;
    assert_eq!(v["result"]["data_array"][0][0], 10, "{v}");
    assert_eq!(v["result"]["data_array"][0][1], 1.0);
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unity_catalog_sql_functions() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    // As the MCP functions tools call them: quoted name, named or positional arguments.
    let (_, v) = s
        .post(
            STMTS,
            json!({"statement": "SELECT `main`.`default`.`discounted_price`(`price` => :arg0, `discount` => :arg1) AS `discounted_price`",
                   "warehouse_id": WAREHOUSE_ID,
                   "parameters": [{"name": "arg0", "value": "100"}, {"name": "arg1", "value": "0.25"}]}),
        )
        .await;
    assert_eq!(v["result"]["data_array"], json!([["75.00"]]), "{v}");
    assert_eq!(
        s.scalar("SELECT count_if(abs(main.default.discounted_price(l_extendedprice, l_discount) - l_extendedprice * (1 - l_discount)) > 0.005) FROM samples.tpch.lineitem").await,
        json!("0")
    );
    s.rows("CREATE FUNCTION main.default.plus_tax(x DOUBLE, rate DOUBLE) RETURNS DOUBLE COMMENT 'Adds tax' RETURN x * (1 + rate)").await;
    assert_eq!(
        s.scalar("SELECT main.default.plus_tax(100, 0.5)").await,
        json!("150.0")
    );
    // Functions may call Spark functions and other functions.
    s.rows("CREATE OR REPLACE FUNCTION main.default.label(x DOUBLE) RETURNS STRING RETURN if(main.default.plus_tax(x, 0.1) > 100, 'big', 'small')").await;
    assert_eq!(
        s.scalar("SELECT main.default.label(99)").await,
        json!("big")
    );
    let (_, v) = s
        .get("/api/2.1/unity-catalog/functions/main.default.plus_tax")
        .await;
    assert_eq!(v["comment"], "Adds tax");
    let (msg, _) = s.error("SELECT main.default.nope(1)").await;
    assert!(
        msg.starts_with("[UNRESOLVED_ROUTINE]") && msg.contains("`nope`"),
        "{msg}"
    );
    let (msg, _) = s.error("SELECT main.default.plus_tax(1)").await;
    assert!(msg.starts_with("[REQUIRED_PARAMETER_NOT_FOUND]"), "{msg}");
    s.rows("DROP FUNCTION main.default.plus_tax").await;
    let (msg, _) = s.error("SELECT main.default.label(1)").await;
    assert!(msg.contains("plus_tax"), "{msg}");
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_api_refuses_changes() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let (status, v) = s
        .post("/api/2.0/workspace/mkdirs", json!({"path": "/x"}))
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    let r = s
        .http
        .put(s.url("/api/2.0/fs/files/Volumes/main/default/files/x"))
        .bearer_auth(&s.api.token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (_, v) = s.get("/api/2.0/pipelines").await;
    let id = v["statuses"][0]["pipeline_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = s
        .post(&format!("/api/2.0/pipelines/{id}/updates"), json!({}))
        .await;
    assert_eq!(status, 403);
    s.api.shutdown().await;
    let _ = LocalWorkspace::default_dir();
}

/// Rows of an inline hybrid-disposition result, decoded as a client does.
fn attachment_rows(v: &Value) -> usize {
    let bytes = databricks_api::attachment::decode(
        v["result"]["attachment"].as_str().unwrap(),
        v["manifest"]["result_compression"].as_str(),
        64 << 20,
    )
    .unwrap();
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
            .unwrap();
    reader.map(|b| b.unwrap().num_rows()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hybrid_disposition_sends_small_results_inline_and_large_ones_as_links() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let hybrid = |statement: &str| {
        json!({"statement": statement, "warehouse_id": WAREHOUSE_ID,
               "disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "ARROW_STREAM"})
    };
    // Small: one uncompressed attachment, no links.
    let (_, v) = s
        .post(
            STMTS,
            hybrid("SELECT n_nationkey, n_name FROM samples.tpch.nation"),
        )
        .await;
    assert_eq!(v["status"]["state"], "SUCCEEDED", "{v}");
    assert!(v["result"].get("external_links").is_none(), "{v}");
    assert!(v["manifest"].get("result_compression").is_none(), "{v}");
    assert_eq!(attachment_rows(&v), 25);
    assert_eq!(v["manifest"]["total_row_count"], 25);

    // Mid-sized: an LZ4-frame compressed attachment.
    let (_, v) = s
        .post(STMTS, hybrid("SELECT * FROM samples.tpch.orders"))
        .await;
    assert_eq!(v["status"]["state"], "SUCCEEDED", "{v}");
    assert_eq!(
        v["manifest"]["result_compression"], "LZ4_FRAME",
        "{}",
        v["manifest"]
    );
    assert_eq!(attachment_rows(&v), 1500);
    // The chunk route serves the same attachment.
    let id = v["statement_id"].as_str().unwrap();
    let (_, chunk) = s.get(&format!("{STMTS}/{id}/result/chunks/0")).await;
    assert_eq!(chunk["attachment"], v["result"]["attachment"]);

    // Larger than the inline limit: external links, as with EXTERNAL_LINKS.
    let (_, v) = s
        .post(
            STMTS,
            hybrid("SELECT * FROM samples.tpch.lineitem l CROSS JOIN samples.tpch.nation n"),
        )
        .await;
    assert_eq!(v["status"]["state"], "SUCCEEDED", "{v}");
    assert!(v["result"].get("attachment").is_none());
    assert!(
        v["result"]["external_links"][0]["external_link"]
            .as_str()
            .is_some(),
        "{}",
        v["result"]
    );

    // CSV has no inline form; an unknown disposition is refused by name.
    let (_, v) = s
        .post(
            STMTS,
            json!({"statement": "SELECT 1", "warehouse_id": WAREHOUSE_ID,
                   "disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "CSV"}),
        )
        .await;
    assert!(
        v["result"]["external_links"][0]["external_link"].is_string(),
        "{v}"
    );
    let (status, v) = s
        .post(
            STMTS,
            json!({"statement": "SELECT 1", "warehouse_id": WAREHOUSE_ID, "disposition": "SOMETIMES"}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("INLINE_OR_EXTERNAL_LINKS")
    );
    s.api.shutdown().await;
}
