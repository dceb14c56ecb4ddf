//! Bad input: a malformed Delta table, a table directory with no data, an unknown catalog,
//! SQL DataFusion cannot run. Each gives a clear error naming the object, the workspace
//! keeps serving, and no read modifies anything on disk.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;

use crate::support::*;

fn write_parquet(path: &std::path::Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = deltalake::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tables_fail_clearly_and_reads_change_nothing() {
    let dir = fresh_dir().await;
    let schema_dir = dir.path().join("catalogs/main/default");
    // A malformed Delta table, an empty table directory, Parquet and CSV tables.
    let broken = schema_dir.join("broken/_delta_log");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("00000000000000000000.json"),
        "{ this is not json",
    )
    .unwrap();
    std::fs::create_dir_all(schema_dir.join("empty")).unwrap();
    std::fs::create_dir_all(schema_dir.join("pq")).unwrap();
    write_parquet(&schema_dir.join("pq/part-0.parquet"));
    std::fs::write(schema_dir.join("people.csv"), "id,name\n1,ann\n2,bob\n").unwrap();

    let before = tree_hash(dir.path());
    let s = Server::start(dir.path(), false).await;

    let (msg, state) = s.error("SELECT * FROM main.default.broken").await;
    assert!(msg.contains("`main`.`default`.`broken`"), "{msg}");
    assert!(msg.starts_with("[FAILED_READ_FILE]"), "{msg}");
    assert_eq!(state, "KD001");

    let (msg, _) = s.error("SELECT * FROM main.default.empty").await;
    assert!(msg.starts_with("[DELTA_MISSING_DELTA_TABLE]"), "{msg}");
    assert!(
        msg.contains("`main`.`default`.`empty`") && msg.contains("no data"),
        "{msg}"
    );

    let (msg, state) = s.error("SELECT * FROM nowhere.default.t").await;
    assert!(msg.starts_with("[TABLE_OR_VIEW_NOT_FOUND]"), "{msg}");
    assert!(msg.contains("Catalog `nowhere` does not exist"), "{msg}");
    assert_eq!(state, "42P01");
    let (msg, _) = s.error("SELECT * FROM samples.nope.t").await;
    assert!(
        msg.contains("Schema `samples`.`nope` does not exist"),
        "{msg}"
    );
    let (msg, _) = s.error("SHOW SCHEMAS IN nowhere").await;
    assert!(
        msg.starts_with("[NO_SUCH_CATALOG_EXCEPTION]") && msg.contains("nowhere"),
        "{msg}"
    );
    let (msg, _) = s.error("DESCRIBE TABLE samples.tpch.nope").await;
    assert!(msg.contains("`samples`.`tpch`.`nope`"), "{msg}");

    // SQL the engine cannot run: refused with a message naming the construct.
    let (msg, _) = s
        .error("SELECT * FROM samples.tpch.nation PIVOT (count(*) FOR n_regionkey IN (0, 1))")
        .await;
    assert!(msg.to_ascii_uppercase().contains("PIVOT"), "{msg}");
    let (msg, _) = s
        .error(
            "MERGE INTO main.default.pq USING main.default.pq s ON true WHEN MATCHED THEN DELETE",
        )
        .await;
    assert!(msg.contains("MERGE"), "{msg}");

    // Parquet and CSV files are tables.
    assert_eq!(
        s.scalar("SELECT sum(id) FROM main.default.pq").await,
        json!("6")
    );
    assert_eq!(
        s.scalar("SELECT name FROM main.default.people WHERE id = 2")
            .await,
        json!("bob")
    );
    let (msg, _) = s
        .error("SELECT * FROM main.default.pq VERSION AS OF 0")
        .await;
    assert!(msg.contains("only Delta tables have versions"), "{msg}");

    // Unity Catalog: the broken table is listed with the reason, get names it.
    let (status, v) = s
        .get("/api/2.1/unity-catalog/tables?catalog_name=main&schema_name=default")
        .await;
    assert_eq!(status, 200);
    let tables = v["tables"].as_array().unwrap();
    let broken = tables.iter().find(|t| t["name"] == "broken").unwrap();
    assert!(
        broken["comment"]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{broken}"
    );
    let pq = tables.iter().find(|t| t["name"] == "pq").unwrap();
    assert_eq!(pq["data_source_format"], "PARQUET");
    let (status, v) = s
        .get("/api/2.1/unity-catalog/tables/main.default.broken")
        .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("`main`.`default`.`broken`"),
        "{v}"
    );
    let (status, v) = s
        .get("/api/2.1/unity-catalog/tables/main.default.nope")
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("TABLE_DOES_NOT_EXIST"))
    );
    let (status, v) = s
        .get("/api/2.1/unity-catalog/schemas?catalog_name=nowhere")
        .await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (404, Some("CATALOG_DOES_NOT_EXIST"))
    );

    // Reads of every kind.
    for sql in [
        "SHOW TABLES IN main.default",
        "SELECT count(*) FROM system.information_schema.tables",
        "SELECT count(*) FROM system.information_schema.columns",
        "DESCRIBE TABLE EXTENDED samples.tpch.lineitem",
        "DESCRIBE DETAIL samples.tpch.orders",
        "DESCRIBE HISTORY samples.tpch.orders",
        "SELECT count(*) FROM samples.tpch.orders VERSION AS OF 1",
        "SELECT l_returnflag, sum(l_quantity) FROM samples.tpch.lineitem GROUP BY 1",
    ] {
        let v = s.sql(sql).await;
        assert_eq!(v["status"]["state"], "SUCCEEDED", "{sql}: {v}");
    }
    for path in [
        "/api/2.1/unity-catalog/catalogs",
        "/api/2.1/unity-catalog/tables/samples.tpch.lineitem",
        "/api/2.0/workspace/list?path=/Shared/samples",
        "/api/2.0/workspace/export?path=/Shared/samples/tpch_report",
        "/api/2.0/fs/directories/Volumes/main/default/files",
        "/api/2.0/fs/files/Volumes/main/default/files/README.md",
        "/api/2.2/jobs/list",
        "/api/2.0/pipelines",
        "/api/2.0/vector-search/indexes/main.default.documents_index",
    ] {
        let (status, v) = s.get(path).await;
        assert_eq!(status, 200, "{path}: {v}");
    }
    let (status, _) = s
        .post(
            "/api/2.0/vector-search/indexes/main.default.documents_index/query",
            json!({"columns": ["id"], "query_text": "revenue"}),
        )
        .await;
    assert_eq!(status, 200);

    // Still serving.
    assert_eq!(
        s.scalar("SELECT count(*) FROM samples.tpch.region").await,
        json!("5")
    );
    s.api.shutdown().await;
    assert_eq!(
        before,
        tree_hash(dir.path()),
        "a read changed the workspace directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_are_idempotent_and_deterministic() {
    let base = base_dir().await;
    let before = tree_hash(&base);
    // Reopening does not regenerate anything.
    let reopened = local_workspace::LocalWorkspace::open(&base, options(false))
        .await
        .unwrap();
    assert!(
        reopened.samples_ready(),
        "complete samples are never regenerated"
    );
    assert_eq!(before, tree_hash(&base));
    // A second generation yields the same data.
    let other = tempfile::tempdir().unwrap();
    let a = Server::start(&base, false).await;
    let b = Server::start(other.path(), false).await;
    let q = "SELECT count(*), sum(l_extendedprice), min(l_shipdate), max(l_comment) FROM samples.tpch.lineitem";
    assert_eq!(a.rows(q).await, b.rows(q).await);
    for t in [
        "region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem",
    ] {
        let q = format!("SELECT count(*) FROM samples.tpch.{t}");
        let n = a.scalar(&q).await;
        assert_eq!(n, b.scalar(&q).await, "{t}");
        assert_ne!(n, json!("0"), "{t}");
    }
    // An interrupted generation (a table without its data commit, no marker) resumes.
    std::fs::remove_file(other.path().join("catalogs/samples/tpch/_generated.json")).unwrap();
    let orders_log = other.path().join("catalogs/samples/tpch/orders/_delta_log");
    std::fs::remove_file(orders_log.join("00000000000000000001.json")).unwrap();
    b.api.shutdown().await;
    let c = Server::start(other.path(), false).await;
    assert_eq!(
        c.scalar("SELECT count(*) FROM samples.tpch.orders").await,
        a.scalar("SELECT count(*) FROM samples.tpch.orders").await
    );
    a.api.shutdown().await;
    c.api.shutdown().await;
}

/// A fresh directory opens at once: samples.tpch is generated in the background, and a
/// statement that reads it meanwhile gets 503 TEMPORARILY_UNAVAILABLE with `Retry-After`
/// (clients retry), then the right answer once the samples are ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_workspace_opens_at_once_and_samples_follow() {
    let dir = tempfile::tempdir().unwrap();
    let opts = local_workspace::LocalOptions {
        scale_factor: 0.05,
        allow_writes: false,
        progress: false,
    };
    let started = std::time::Instant::now();
    let ws = local_workspace::LocalWorkspace::open(dir.path(), opts)
        .await
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let api = crate::support::serve(&ws).await;
    let http = reqwest::Client::new();
    let submit = |statement: &'static str| {
        http.post(format!("{}/api/2.0/sql/statements", api.base_url))
            .bearer_auth(&api.token)
            .json(&serde_json::json!({
                "statement": statement,
                "warehouse_id": local_workspace::WAREHOUSE_ID,
                "wait_timeout": "30s"
            }))
            .send()
    };
    if !ws.samples_ready() {
        let r = submit("SELECT count(*) FROM samples.tpch.region")
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error_code"], "TEMPORARILY_UNAVAILABLE");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("being generated"),
            "{body}"
        );
        // So does a look at a sample table's metadata, even before the catalog's
        // directory exists (it used to be a 404 CATALOG_DOES_NOT_EXIST then).
        let r = http
            .get(format!(
                "{}/api/2.1/unity-catalog/tables/samples.tpch.region",
                api.base_url
            ))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap();
        if !ws.samples_ready() {
            assert_eq!(r.status().as_u16(), 503);
        }
        // Statements that do not touch the samples run meanwhile.
        let r = submit("SELECT 1").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    assert!(
        ws.wait_for_samples(std::time::Duration::from_secs(300))
            .await
    );
    let r = submit("SELECT count(*) FROM samples.tpch.region")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["result"]["data_array"][0][0], "5", "{body}");
}
