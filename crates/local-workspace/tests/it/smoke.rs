use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_over_rest() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let rows = s
        .rows("SELECT l_returnflag, count(*) FROM samples.tpch.lineitem GROUP BY 1 ORDER BY 1")
        .await;
    println!("{rows:?}");
    assert_eq!(rows.len(), 3);
    s.api.shutdown().await;
}
