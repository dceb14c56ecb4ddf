//! Text forms of tool answers that fit a context window.
//!
//! SQL rows default to CSV (RFC 4180 with a header row): measured, it is the form with
//! the fewest tokens (README "Result formats"). It stays unambiguous: SQL NULL is an
//! empty field and the empty string is `""`.
//!
//! Listings (catalogs, jobs, ...) and the `compact` SQL form use a pipe table: a header
//! line, then one line per row, cells separated by `|`. A cell is written bare unless
//! that would be ambiguous: SQL NULL is `NULL`, and a string that is empty, is `NULL` in
//! any case, has a separator, quote or line break, or starts or ends with a space is
//! written as a JSON string. So NULL and the text "NULL" never look alike. Listings
//! keep this form because their free-text columns (comments) are full of commas.
//!
//! The other forms a caller may choose ([`TextFormat`]): Markdown and JSON rows (an
//! array of objects, values typed).

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

// The text form of a tabular answer: `csv` with a header row, NULL an empty field and
// the empty string `""` (fewest tokens; default); `compact`, a pipe table (`a|b|c`, NULL
// written NULL); `markdown`; `json`, an array of row objects. No doc comments here: they
// would become schema descriptions (a `oneOf` of described constants), while the argument
// that takes it describes the choices once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    #[default]
    Csv,
    Compact,
    Markdown,
    Json,
}

/// Draws `rows` in `format`, stopping before the row that would pass `max_chars`.
/// `types` are the SQL type names of the columns (used by the JSON form).
pub fn rows_in<I>(
    format: TextFormat,
    columns: &[String],
    types: &[String],
    rows: I,
    max_chars: usize,
) -> Rendered
where
    I: IntoIterator<Item = Vec<Option<String>>>,
{
    match format {
        TextFormat::Compact => table(columns, rows, max_chars),
        TextFormat::Markdown => lines(
            markdown_header(columns),
            rows.into_iter().map(|r| {
                let cells: Vec<String> = r
                    .iter()
                    .map(|v| cell(v.as_deref()).replace('|', "\\|"))
                    .collect();
                format!("| {} |", cells.join(" | "))
            }),
            max_chars,
        ),
        TextFormat::Csv => lines(
            columns
                .iter()
                .map(|c| csv_field(Some(c)))
                .collect::<Vec<_>>()
                .join(","),
            rows.into_iter().map(|r| {
                r.iter()
                    .map(|v| csv_field(v.as_deref()))
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            max_chars,
        ),
        TextFormat::Json => {
            let mut r = lines(
                "[".to_string(),
                rows.into_iter().map(|row| {
                    let object: serde_json::Map<String, Value> = columns
                        .iter()
                        .zip(row.iter().zip(types))
                        .map(|(c, (v, t))| (c.clone(), typed(v.as_deref(), t)))
                        .collect();
                    format!("{},", Value::Object(object))
                }),
                max_chars.saturating_sub(2),
            );
            if r.text.ends_with(',') {
                r.text.pop();
            }
            r.text.push_str("\n]");
            r
        }
    }
}

fn markdown_header(columns: &[String]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|c| cell(Some(c)).replace('|', "\\|"))
        .collect();
    format!(
        "| {} |\n|{}",
        names.join(" | "),
        "---|".repeat(columns.len().max(1))
    )
}

/// A header line then one line per row, within the budget.
fn lines(header: String, rows: impl Iterator<Item = String>, max_chars: usize) -> Rendered {
    let mut text = header;
    let mut rows_shown = 0;
    let mut cut_by_chars = false;
    for line in rows {
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

/// One CSV field: NULL is empty, the empty string is `""`, quoted when needed.
fn csv_field(value: Option<&str>) -> String {
    match value {
        None => String::new(),
        Some("") => "\"\"".to_string(),
        Some(v) if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') => {
            format!("\"{}\"", v.replace('"', "\"\""))
        }
        Some(v) => v.to_string(),
    }
}

/// A JSON_ARRAY cell as a typed JSON value: integers, floats and booleans unquoted;
/// DECIMALs as numbers only when no digit would be lost.
pub fn typed(value: Option<&str>, type_name: &str) -> Value {
    let Some(v) = value else { return Value::Null };
    match type_name {
        "LONG" | "INT" | "SHORT" | "BYTE" => v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(v)),
        "DOUBLE" | "FLOAT" | "DECIMAL" => match v.parse::<f64>() {
            Ok(f) if f.is_finite() && (type_name != "DECIMAL" || significant_digits(v) <= 15) => {
                Value::from(f)
            }
            _ => Value::from(v),
        },
        "BOOLEAN" => match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::from(v),
        },
        _ => Value::from(v),
    }
}

fn significant_digits(v: &str) -> usize {
    v.trim_start_matches(['-', '+', '0', '.'])
        .chars()
        .filter(char::is_ascii_digit)
        .count()
}

pub const SEPARATOR: &str = "|";

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
    fn other_formats_stay_unambiguous() {
        let cols = vec!["a".to_string(), "b".to_string()];
        let types = vec!["LONG".to_string(), "STRING".to_string()];
        let rows = || {
            vec![
                vec![Some("1".into()), None],
                vec![Some("2".into()), Some("".into())],
            ]
        };
        let csv = rows_in(TextFormat::Csv, &cols, &types, rows(), 1000).text;
        assert_eq!(csv, "a,b\n1,\n2,\"\"");
        let md = rows_in(TextFormat::Markdown, &cols, &types, rows(), 1000).text;
        assert_eq!(md, "| a | b |\n|---|---|\n| 1 | NULL |\n| 2 | \"\" |");
        let json = rows_in(TextFormat::Json, &cols, &types, rows(), 1000).text;
        let parsed: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
        assert_eq!(
            parsed,
            serde_json::json!([{"a": 1, "b": null}, {"a": 2, "b": ""}])
        );
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
