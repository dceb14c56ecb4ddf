//! Text forms of tool answers that fit a context window.
//!
//! The default is a compact table: a header line of column names, then one line per
//! row, cells separated by ` | `. A cell is written bare unless that would be
//! ambiguous: SQL NULL is `NULL`, and a string that is empty, is `NULL` in any case,
//! has a separator, quote or line break, or starts or ends with a space is written as a
//! JSON string. So NULL and the text "NULL" never look alike.

use std::fmt::Write;

pub const SEPARATOR: &str = " | ";

/// A table drawn within a character budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    /// Data rows written (the header is not counted).
    pub rows_shown: usize,
    /// True when the character budget stopped the table before the rows ran out.
    pub cut_by_chars: bool,
}

/// Draws `rows` under `columns`, stopping before the line that would pass `max_chars`
/// (the header is always written).
pub fn table<I>(columns: &[String], rows: I, max_chars: usize) -> Rendered
where
    I: IntoIterator<Item = Vec<Option<String>>>,
{
    let mut text = String::new();
    let header: Vec<String> = columns.iter().map(|c| cell(Some(c))).collect();
    text.push_str(&header.join(SEPARATOR));
    let mut rows_shown = 0;
    let mut cut_by_chars = false;
    let mut line = String::new();
    for row in rows {
        line.clear();
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(SEPARATOR);
            }
            line.push_str(&cell(value.as_deref()));
        }
        if text.len() + 1 + line.len() > max_chars {
            cut_by_chars = true;
            break;
        }
        text.push('\n');
        text.push_str(&line);
        rows_shown += 1;
    }
    Rendered {
        text,
        rows_shown,
        cut_by_chars,
    }
}

/// One cell, quoted only when a bare form would be ambiguous.
pub fn cell(value: Option<&str>) -> String {
    let Some(v) = value else {
        return "NULL".to_string();
    };
    let ambiguous = v.is_empty()
        || v.eq_ignore_ascii_case("null")
        || v.contains('|')
        || v.contains('"')
        || v.chars().any(char::is_control)
        || v.starts_with(' ')
        || v.ends_with(' ');
    if ambiguous {
        serde_json::to_string(v).unwrap_or_else(|_| format!("{v:?}"))
    } else {
        v.to_string()
    }
}

/// A JSON value as a table cell: strings bare, null as NULL, others as JSON.
pub fn json_cell(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Epoch milliseconds as an RFC 3339 UTC timestamp (seconds precision); 0 and
/// negative values (the API's "not set") as None.
pub fn timestamp_ms(ms: Option<i64>) -> Option<String> {
    let ms = ms.filter(|m| *m > 0)?;
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok()?;
    let mut s = String::new();
    write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
    .ok()?;
    Some(s)
}

/// Truncates text to at most `max_chars` bytes on a character boundary, saying so.
pub fn clip(text: &str, max_chars: usize) -> String {
    if text.len() <= max_chars {
        return text.to_string();
    }
    let mut end = max_chars.saturating_sub(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… [cut at {} characters]", &text[..end], end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_the_string_null_differ() {
        assert_eq!(cell(None), "NULL");
        assert_eq!(cell(Some("NULL")), "\"NULL\"");
        assert_eq!(cell(Some("null")), "\"null\"");
        assert_eq!(cell(Some("")), "\"\"");
        assert_eq!(cell(Some("a|b")), "\"a|b\"");
        assert_eq!(cell(Some("line\nbreak")), "\"line\\nbreak\"");
        assert_eq!(cell(Some("alice")), "alice");
        assert_eq!(cell(Some("129.99")), "129.99");
    }

    #[test]
    fn budget_stops_before_overflow() {
        let cols = vec!["n".to_string()];
        let rows = (0..1000).map(|i| vec![Some(format!("{i:05}"))]);
        let r = table(&cols, rows, 60);
        assert!(r.text.len() <= 60);
        assert!(r.cut_by_chars);
        assert_eq!(r.rows_shown, r.text.lines().count() - 1);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            timestamp_ms(Some(1_709_258_400_000)).as_deref(),
            Some("2024-03-01T02:00:00Z")
        );
        assert_eq!(timestamp_ms(Some(0)), None);
    }
}
