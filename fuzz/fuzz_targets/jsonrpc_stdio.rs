//! The stdio JSON-RPC framing: whatever a client writes after the handshake, the server
//! never panics, keeps answering, and ends when its input closes.
//!
//! One `DatabricksMcp` (its workspace a dead loopback port: tools fail fast, they need
//! not succeed) is served per input over an in-memory pipe through
//! `transport::line_transport`, exactly as `serve` does on stdin/stdout. The input's
//! bytes are written after `initialize`/`notifications/initialized`, then a newline and
//! a well-formed `ping` and `tools/list`, which must be answered within 10 s; after the
//! pipe closes, the session must end within 10 s.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use databricks_client::{ClientOptions, Config, ConfigOverrides, DatabricksClient, MapEnv};
use databricks_mcp::{AppState, DatabricksMcp, Settings};
use libfuzzer_sys::fuzz_target;
use rmcp::ServiceExt;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const HANDSHAKE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":"fuzz-init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n",
);

const FINAL: &str = concat!(
    "\n",
    r#"{"jsonrpc":"2.0","id":"fuzz-final-ping","method":"ping"}"#,
    "\n",
    r#"{"jsonrpc":"2.0","id":"fuzz-final-list","method":"tools/list"}"#,
    "\n",
);

const DEADLINE: Duration = Duration::from_secs(10);

/// The runtime and server state, made once: a runtime per input would dominate the time.
fn setup() -> &'static (tokio::runtime::Runtime, Arc<AppState>) {
    static SETUP: OnceLock<(tokio::runtime::Runtime, Arc<AppState>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "http://127.0.0.1:9")
            .with("DATABRICKS_TOKEN", "dapi-fuzz");
        let config = Config::resolve(&ConfigOverrides::default(), &env).expect("config");
        // Connection refused at once, no retries: a tool call ends in milliseconds.
        let options = ClientOptions {
            http_timeout: Duration::from_secs(1),
            retry_timeout: Duration::from_secs(2),
            max_network_retries: 0,
            backoff_base: Duration::from_millis(1),
            ..ClientOptions::default()
        };
        let client = {
            let _guard = runtime.enter();
            DatabricksClient::with_options(&config, options).expect("client")
        };
        (
            runtime,
            Arc::new(AppState::new(client, Settings::default())),
        )
    })
}

/// Whether `line` is a successful answer to one of the final requests.
fn final_answer(line: &str) -> Option<&'static str> {
    let message: Value = serde_json::from_str(line).ok()?;
    let result = message.get("result")?;
    match message.get("id")?.as_str()? {
        "fuzz-final-ping" => Some("ping"),
        "fuzz-final-list" if result.get("tools")?.as_array()?.len() > 1 => Some("tools/list"),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let (runtime, state) = setup();
    runtime.block_on(async {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = DatabricksMcp::new(state.clone());
        let session = tokio::spawn(async move {
            let (read, write) = tokio::io::split(server_io);
            let transport = databricks_mcp::transport::line_transport(read, write);
            let running = server.serve(transport).await.expect("handshake");
            let _ = running.waiting().await;
        });

        let (read, mut write) = tokio::io::split(client_io);
        // Drain the server's output as it comes, so its writes never block.
        let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });

        write.write_all(HANDSHAKE.as_bytes()).await.expect("write");
        write.write_all(data).await.expect("write");
        write.write_all(FINAL.as_bytes()).await.expect("write");
        write.flush().await.expect("flush");

        let answered = tokio::time::timeout(DEADLINE, async {
            let (mut ping, mut list) = (false, false);
            while !(ping && list) {
                let Some(line) = lines_rx.recv().await else {
                    return false;
                };
                match final_answer(&line) {
                    Some("ping") => ping = true,
                    Some(_) => list = true,
                    None => {}
                }
            }
            true
        })
        .await;
        assert_eq!(
            answered,
            Ok(true),
            "the server stopped answering after {:?}",
            String::from_utf8_lossy(data)
        );

        // The reader task holds the other half of the pipe: only a shutdown is an EOF.
        write.shutdown().await.expect("shutdown");
        let ended = tokio::time::timeout(DEADLINE, session).await;
        assert!(
            matches!(ended, Ok(Ok(()))),
            "the session did not end when its input closed: {ended:?}"
        );
        reader.abort();
    });
});
