//! Serves a local workspace's REST API until Ctrl-C (for manual testing and SDKs).
//!
//! `cargo run -p local-workspace --example serve -- [DIR] [--sf 0.1] [--allow-writes] [--listen 127.0.0.1:8080]`

use local_workspace::{LocalOptions, LocalWorkspace, WAREHOUSE_ID};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut dir = LocalWorkspace::default_dir();
    let mut options = LocalOptions::default();
    let mut listen = "127.0.0.1:0".to_string();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sf" => options.scale_factor = args.next().ok_or("--sf needs a value")?.parse()?,
            "--allow-writes" => options.allow_writes = true,
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            other => dir = other.into(),
        }
    }
    let ws = LocalWorkspace::open(&dir, options).await?;
    ws.wait_for_samples(std::time::Duration::from_secs(3600))
        .await;
    let api = ws.serve(listen.parse()?).await?;
    eprintln!(
        "local workspace {} serving on {}",
        ws.dir().display(),
        api.base_url
    );
    println!("DATABRICKS_HOST={}", api.base_url);
    println!("DATABRICKS_TOKEN={}", api.token);
    println!("DATABRICKS_WAREHOUSE_ID={WAREHOUSE_ID}");
    tokio::signal::ctrl_c().await?;
    api.shutdown().await;
    Ok(())
}
