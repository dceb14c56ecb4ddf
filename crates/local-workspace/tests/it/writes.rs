//! Writes as Delta commits (CREATE TABLE [AS], INSERT) and time travel to the versions
//! they create: a historical query returns that version's rows, never current data.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_reads_the_old_version() {
    let dir = fresh_dir().await;
    let s = Server::start(dir.path(), true).await;
    s.rows("CREATE TABLE main.default.events COMMENT 'Events for the test' AS SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(id, name)")
        .await;
    // Commits need distinct timestamps for TIMESTAMP AS OF.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let between = s.scalar("SELECT CAST(current_timestamp() AS STRING)").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let inserted = s
        .rows("INSERT INTO main.default.events VALUES (3, 'c'), (4, 'd')")
        .await;
    assert_eq!(inserted, vec![vec![json!("2"), json!("2")]]);

    assert_eq!(
        s.scalar("SELECT count(*) FROM main.default.events").await,
        json!("4")
    );
    assert_eq!(
        s.rows("SELECT id FROM main.default.events VERSION AS OF 0 ORDER BY id")
            .await,
        vec![vec![json!("1")], vec![json!("2")]]
    );
    assert_eq!(
        s.scalar("SELECT count(*) FROM main.default.events VERSION AS OF 1")
            .await,
        json!("4")
    );
    let ts = between.as_str().unwrap().to_string();
    assert_eq!(
        s.scalar(&format!(
            "SELECT count(*) FROM main.default.events TIMESTAMP AS OF '{ts}'"
        ))
        .await,
        json!("2"),
        "TIMESTAMP AS OF {ts} must read version 0"
    );
    // The same table at two versions in one query.
    assert_eq!(
        s.rows("SELECT n.id FROM main.default.events n LEFT ANTI JOIN main.default.events VERSION AS OF 0 o ON n.id = o.id ORDER BY 1")
            .await,
        vec![vec![json!("3")], vec![json!("4")]]
    );
    // History, comments and errors.
    let history = s.rows("DESCRIBE HISTORY main.default.events").await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0][0], json!("1"));
    let (msg, _) = s
        .error("SELECT * FROM main.default.events VERSION AS OF 7")
        .await;
    assert!(msg.starts_with("[DELTA_VERSION_NOT_FOUND]"), "{msg}");
    assert!(msg.contains("Available versions: [0, 1]"), "{msg}");
    let (msg, _) = s
        .error("SELECT * FROM main.default.events TIMESTAMP AS OF '2001-01-01'")
        .await;
    assert!(
        msg.starts_with("[DELTA_TIMESTAMP_EARLIER_THAN_COMMIT_RETENTION]"),
        "{msg}"
    );
    let (_, v) = s
        .get("/api/2.1/unity-catalog/tables/main.default.events")
        .await;
    assert_eq!(v["comment"], "Events for the test");
    assert_eq!(v["data_source_format"], "DELTA");
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_insert_and_read_only_mode() {
    let dir = fresh_dir().await;
    {
        let s = Server::start(dir.path(), true).await;
        s.rows("CREATE TABLE main.default.t (id BIGINT COMMENT 'the id', note STRING) USING DELTA")
            .await;
        s.rows("INSERT INTO main.default.t (note, id) VALUES ('x', 1)")
            .await;
        s.rows("INSERT INTO main.default.t SELECT n_nationkey, n_name FROM samples.tpch.nation WHERE n_nationkey < 2").await;
        assert_eq!(
            s.scalar("SELECT count(*) FROM main.default.t").await,
            json!("3")
        );
        let d = s.rows("DESCRIBE TABLE main.default.t").await;
        assert_eq!(d[0], vec![json!("id"), json!("bigint"), json!("the id")]);
        let (msg, _) = s
            .error("CREATE TABLE main.default.t AS SELECT 1 AS a")
            .await;
        assert!(msg.starts_with("[TABLE_OR_VIEW_ALREADY_EXISTS]"), "{msg}");
        s.rows("CREATE OR REPLACE TABLE main.default.t AS SELECT 'only' AS v")
            .await;
        assert_eq!(
            s.scalar("SELECT v FROM main.default.t").await,
            json!("only")
        );
        s.rows("INSERT OVERWRITE main.default.t SELECT 'again'")
            .await;
        assert_eq!(
            s.scalar("SELECT v FROM main.default.t").await,
            json!("again")
        );
        let (msg, _) = s.error("UPDATE main.default.t SET v = 'x'").await;
        assert!(msg.contains("UPDATE"), "{msg}");
        let (msg, _) = s.error("CREATE TABLE nope.default.x AS SELECT 1").await;
        assert!(msg.contains("nope"), "{msg}");
        s.api.shutdown().await;
    }
    // Read-only: the same workspace refuses writes and changes nothing.
    let before = tree_hash(dir.path());
    let s = Server::start(dir.path(), false).await;
    let (msg, state) = s.error("INSERT INTO main.default.t VALUES ('no')").await;
    assert!(msg.starts_with("[PERMISSION_DENIED]"), "{msg}");
    assert_eq!(state, "42501");
    let (msg, _) = s
        .error("CREATE TABLE main.default.u AS SELECT 1 AS a")
        .await;
    assert!(msg.starts_with("[PERMISSION_DENIED]"), "{msg}");
    s.api.shutdown().await;
    assert_eq!(before, tree_hash(dir.path()));
}

/// Reads reuse a table's provider while its version stands: a write through this
/// workspace, or through another one on the same directory (another process), is seen by
/// the next read, and a read changes nothing on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_tables_see_new_versions() {
    let dir = fresh_dir().await;
    let a = Server::start(dir.path(), true).await;
    let b = Server::start(dir.path(), true).await;
    a.rows("CREATE TABLE main.default.counted AS SELECT * FROM VALUES (1), (2) AS t(id)")
        .await;
    let count = "SELECT count(*) FROM main.default.counted";
    assert_eq!(a.scalar(count).await, json!("2"));
    assert_eq!(b.scalar(count).await, json!("2"));
    let before = tree_hash(dir.path());
    assert_eq!(a.scalar(count).await, json!("2"));
    assert_eq!(
        tree_hash(dir.path()),
        before,
        "a cached read changed the directory"
    );

    a.rows("INSERT INTO main.default.counted VALUES (3)").await;
    assert_eq!(a.scalar(count).await, json!("3"), "own write");
    assert_eq!(b.scalar(count).await, json!("3"), "other workspace's write");
    b.rows("INSERT OVERWRITE main.default.counted VALUES (7)")
        .await;
    assert_eq!(
        a.rows("SELECT id FROM main.default.counted").await,
        vec![vec![json!("7")]]
    );
    // Earlier versions stay readable next to the cached latest one.
    assert_eq!(
        a.scalar("SELECT count(*) FROM main.default.counted VERSION AS OF 1")
            .await,
        json!("3")
    );
    assert_eq!(a.scalar(count).await, json!("1"));
}
