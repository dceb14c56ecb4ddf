use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn explore() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let qs = std::fs::read_to_string("/tmp/explore.sql").unwrap();
    for q in qs.split(";;\n").filter(|q| !q.trim().is_empty()) {
        let v = s.sql(q.trim()).await;
        let state = v["status"]["state"].as_str().unwrap_or("?").to_string();
        if state == "SUCCEEDED" {
            let cols: Vec<String> = v["manifest"]["schema"]["columns"].as_array().map(|a| a.iter().map(|c| format!("{}:{}", c["name"].as_str().unwrap_or(""), c["type_text"].as_str().unwrap_or(""))).collect()).unwrap_or_default();
            println!("OK   {} => {:?} {}", q.trim(), cols, v["result"]["data_array"]);
        } else {
            println!("FAIL {} => {}", q.trim(), v["status"]["error"]["message"]);
        }
    }
}
