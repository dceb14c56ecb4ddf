//! Result decoding (crates/databricks-client/src/services/results.rs) never panics.
//!
//! Input: byte 0 picks what the rest is, bytes 1..9 the row window (`skip`, `take`):
//! - an Arrow IPC stream (`decode("ARROW_STREAM", …)`: an EXTERNAL_LINKS chunk);
//! - a JSON_ARRAY chunk (`decode("JSON_ARRAY", …)`);
//! - a statement response whose INLINE rows are paged by `chunk_rows` (no network: a
//!   chunk with `data_array` is never downloaded);
//! - a hybrid-disposition `attachment` (`decode_attachment`: base64 text, an LZ4 frame
//!   when byte 7 is odd, then Arrow IPC).
//!
//! A decoded window never has more rows than `take`.
//!
//! `decode_arrow` catches panics of arrow-ipc (it panics on some malformed streams), so
//! this target replaces libFuzzer's abort-on-any-panic hook with one that only records
//! the panic: a panic the library catches is fine, one that escapes aborts with its
//! message.
#![no_main]

use std::cell::RefCell;
use std::sync::{Once, OnceLock};

use databricks_client::services::results::{ChunkEncoding, decode, decode_attachment};
use databricks_client::services::sql::StatementResponse;
use databricks_client::{Config, ConfigOverrides, DatabricksClient, MapEnv};
use libfuzzer_sys::fuzz_target;

/// A client for `chunk_rows` and a runtime to poll it, made once.
fn client() -> &'static (tokio::runtime::Runtime, DatabricksClient) {
    static CLIENT: OnceLock<(tokio::runtime::Runtime, DatabricksClient)> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let env = MapEnv::new()
            .with("DATABRICKS_HOST", "http://127.0.0.1:9")
            .with("DATABRICKS_TOKEN", "dapi-fuzz");
        let config = Config::resolve(&ConfigOverrides::default(), &env).expect("config");
        let client = {
            let _guard = runtime.enter();
            DatabricksClient::new(&config).expect("client")
        };
        (runtime, client)
    })
}

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fuzz_target!(|data: &[u8]| {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|last| *last.borrow_mut() = info.to_string());
        }))
    });
    if std::panic::catch_unwind(|| run(data)).is_err() {
        LAST_PANIC.with(|last| eprintln!("panic escaped the decoder: {}", last.borrow()));
        std::process::abort();
    }
});

fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((window, bytes)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let skip = usize::from(u16::from_le_bytes([window[0], window[1]]));
    // Mostly small windows; sometimes one reaching the end of the address space.
    let take = match u32::from_le_bytes([window[2], window[3], window[4], window[5]]) {
        u32::MAX => usize::MAX,
        n => (n % 4096) as usize,
    };
    match mode % 4 {
        0 => {
            if let Ok(rows) = decode("ARROW_STREAM", bytes, skip, take) {
                assert!(rows.len() <= take);
            }
        }
        1 => {
            if let Ok(rows) = decode("JSON_ARRAY", bytes, skip, take) {
                assert!(rows.len() <= take);
            }
        }
        3 => {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            let encoding = ChunkEncoding {
                format: "ARROW_STREAM".into(),
                compression: (window[7] % 2 == 1).then(|| "LZ4_FRAME".to_string()),
            };
            if let Ok(rows) = decode_attachment(text, &encoding, skip, take) {
                assert!(rows.len() <= take);
            }
        }
        _ => {
            let Ok(response) = serde_json::from_slice::<StatementResponse>(bytes) else {
                return;
            };
            let Some(chunk) = response.result else {
                return;
            };
            // Without network: only chunks carrying their rows (no external links).
            if chunk.data_array.is_none() && chunk.attachment.is_none() {
                return;
            }
            if !chunk.external_links.is_empty() {
                return;
            }
            let start = u64::from(u16::from_le_bytes([window[6], window[7]]));
            let wanted = start..start.saturating_add(take as u64);
            let encoding = ChunkEncoding::of(&response.manifest.unwrap_or_default());
            let (runtime, client) = client();
            let rows = runtime.block_on(client.chunk_rows("s", &encoding, chunk, wanted));
            if let Ok(rows) = rows {
                assert!(rows.rows.len() <= take);
            }
        }
    }
}
