//! Opaque paging state and handles of databricks-mcp never panic and round-trip.
//!
//! - `list_databases`' cursor (base64 of JSON): decoding any text never panics; what
//!   decodes re-encodes to a cursor that decodes to the same state; and any state (two
//!   strings cut from the input) survives encode → decode.
//! - `get_sql_result`'s `statement_id` check never panics, and what it accepts is safe
//!   in a URL path.
#![no_main]

use databricks_mcp::tools::catalog::{decode_databases_cursor, encode_databases_cursor};
use databricks_mcp::tools::sql::validate_statement_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    if let Ok((catalog, token)) = decode_databases_cursor(text) {
        let again = encode_databases_cursor(&catalog, token.as_deref());
        assert_eq!(
            decode_databases_cursor(&again).ok(),
            Some((catalog, token)),
            "{text:?}"
        );
    }

    // A state from the input: the catalog before the first NUL, the token after it.
    let (catalog, token) = match text.split_once('\0') {
        Some((c, t)) => (c, Some(t)),
        None => (text, None),
    };
    let cursor = encode_databases_cursor(catalog, token);
    assert_eq!(
        decode_databases_cursor(&cursor).ok(),
        Some((catalog.to_string(), token.map(str::to_string))),
        "{catalog:?} {token:?}"
    );

    if let Ok(id) = validate_statement_id(text) {
        assert!(!id.is_empty() && id.len() <= 128);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
});
