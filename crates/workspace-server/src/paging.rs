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
}
