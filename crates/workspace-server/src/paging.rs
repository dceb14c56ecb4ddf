//! Page tokens: opaque to clients, an offset into a listing to the server.

use base64::Engine as _;
use databricks_api::error::ApiError;

/// Base64 of `<scope>:<offset>`. Standard base64 (may contain `+`, `/`, `=`), so clients
/// must URL-encode it, as with the real service; the scope keeps a token of one listing
/// from being used with another.
pub fn encode_token(scope: &str, offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{scope}:{offset}"))
}

/// The offset a token of [`encode_token`] for `scope` carries; absent or empty ⇒ 0.
pub fn decode_token(scope: &str, token: Option<&str>) -> Result<usize, ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let invalid = || ApiError::invalid_parameter(format!("Invalid page token: '{token}'"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let (s, offset) = text.split_once(':').ok_or_else(invalid)?;
    if s != scope {
        return Err(invalid());
    }
    offset.parse().map_err(|_| invalid())
}

/// A token that continues a listing after an item (`cursor`, the last item sent), for
/// listings that grow at their head while a client pages (query history): an offset
/// would repeat items there.
pub fn encode_cursor(scope: &str, cursor: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{scope}:{cursor}"))
}

/// The cursor a token of [`encode_cursor`] for `scope` carries; absent or empty ⇒ `None`.
pub fn decode_cursor(scope: &str, token: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let invalid = || ApiError::invalid_parameter(format!("Invalid page token: '{token}'"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    match text.split_once(':') {
        Some((s, cursor)) if s == scope && !cursor.is_empty() => Ok(Some(cursor.to_string())),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_within_their_scope_only() {
        let token = encode_token("tables", 150);
        assert_eq!(decode_token("tables", Some(&token)), Ok(150));
        assert_eq!(decode_token("tables", None), Ok(0));
        assert_eq!(decode_token("tables", Some("")), Ok(0));
        assert!(decode_token("schemas", Some(&token)).is_err());
        assert!(decode_token("tables", Some("%%%")).is_err());
    }

    #[test]
    fn cursors_round_trip_within_their_scope_only() {
        let token = encode_cursor("queries", "17:abc");
        assert_eq!(
            decode_cursor("queries", Some(&token)),
            Ok(Some("17:abc".to_string()))
        );
        assert_eq!(decode_cursor("queries", None), Ok(None));
        assert!(decode_cursor("tables", Some(&token)).is_err());
        assert!(decode_cursor("queries", Some("bogus")).is_err());
    }
}
