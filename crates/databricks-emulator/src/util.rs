//! Small helpers shared by the backends: fixture values, dates, ids.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, ignoring poisoning (a panicking handler must not wedge the emulator).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fixture value as its contract model, for the backends of the shared server. The
/// fixture round-trip tests of `databricks-api` keep this from failing.
pub(crate) fn fixture_model<T: serde::de::DeserializeOwned>(
    v: Value,
) -> Result<T, databricks_api::error::ApiError> {
    serde_json::from_value(v).map_err(|e| {
        databricks_api::error::ApiError::new(
            databricks_api::error::ErrorCode::InternalError,
            format!("emulator fixture does not fit its model: {e}"),
        )
    })
}

// ---------------------------------------------------------------------------------------
// Time

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Parses an RFC 3339 time (`2024-03-01T02:00:05.123Z`) into epoch milliseconds.
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// RFC 3339 with milliseconds, UTC (`2024-03-01T02:00:05.123Z`).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------------------------------
// Ids and text

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A UUID-looking id, deterministic in `n` (`01efxxxx-xxxx-1xxx-8xxx-xxxxxxxxxxxx`).
pub(crate) fn uuid_like(n: u64) -> String {
    let a = splitmix64(n);
    let b = splitmix64(n ^ 0x5DEE_CE66_D1CE_4E5B);
    format!(
        "01ef{:04x}-{:04x}-1{:03x}-{:04x}-{:012x}",
        (a >> 48) & 0xffff,
        (a >> 32) & 0xffff,
        (a >> 20) & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A 32-hex-digit id as used by Genie (`01ef…`).
pub(crate) fn hex32(n: u64) -> String {
    let a = splitmix64(n.wrapping_add(17));
    let b = splitmix64(a ^ n);
    format!("01ef{:012x}{:016x}", a & 0xffff_ffff_ffff, b)
}

/// Replaces every occurrence of `from` in the string leaves of `v` by `to`.
pub(crate) fn replace_strings(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, from, to)),
        Value::Object(o) => o.values_mut().for_each(|x| replace_strings(x, from, to)),
        _ => {}
    }
}

/// Sets the fields of object `fields` on an object value (no-op for non-objects).
pub(crate) fn set(v: &mut Value, fields: Value) {
    if let (Some(o), Value::Object(fields)) = (v.as_object_mut(), fields) {
        o.extend(fields);
    }
}

/// Removes `key` of an object value.
pub(crate) fn remove(v: &mut Value, key: &str) {
    if let Some(o) = v.as_object_mut() {
        o.remove(key);
    }
}

/// The items of a fixture's array field.
pub(crate) fn items(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_ms(1_709_258_405_123), "2024-03-01T02:00:05.123Z");
        assert_eq!(
            parse_rfc3339_ms("2024-03-01T02:00:05.123Z"),
            Some(1_709_258_405_123)
        );
    }
}
