//! Small helpers shared by the backends: fixture values, dates, ids.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

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
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// (year, month, day) of a day number counted from 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day number (from 1970-01-01) of a civil date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only) into epoch milliseconds.
pub(crate) fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    let ms: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    let days = days_from_civil(y, mo as u32, da as u32);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms)
}

/// `YYYY-MM-DD` of a day number.
pub(crate) fn date_string(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 with milliseconds, UTC (`2024-03-01T02:00:05.123Z`).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{}T{h:02}:{mi:02}:{s:02}.{milli:03}Z", date_string(days))
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

/// Sets `key` of an object value (no-op for non-objects).
pub(crate) fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
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
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(rfc3339_ms(1_709_258_405_123), "2024-03-01T02:00:05.123Z");
        assert_eq!(
            parse_rfc3339_ms("2024-03-01T02:00:05.123Z"),
            Some(1_709_258_405_123)
        );
        assert_eq!(days_from_civil(2024, 1, 1), 19_723);
    }
}
