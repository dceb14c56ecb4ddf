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
    if format == TextFormat::Json {
        return json_rows(columns, types, rows, max_chars);
    }
    let (columns, rows) = compact_cells(columns, types, rows.into_iter().collect());
    let columns = &columns;
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
        TextFormat::Json => json_rows(columns, types, rows, max_chars),
    }
}

/// The JSON form: an array of row objects with typed cells, values as the API gave them.
fn json_rows<I>(columns: &[String], types: &[String], rows: I, max_chars: usize) -> Rendered
where
    I: IntoIterator<Item = Vec<Option<String>>>,
{
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

/// The cells of a page as the text forms write them, in fewer tokens and with the same
/// meaning (`structuredContent` and the JSON form keep the API's values):
/// - DECIMAL, DOUBLE, FLOAT: no trailing fractional zeros (`12.30` → `12.3`, `5.00` → `5`);
/// - TIMESTAMP: `2024-01-01 00:01` — a space for the `T`, no zero seconds or
///   milliseconds; a UTC value loses its `Z` and the header says `(UTC)`;
/// - DATE and TIMESTAMP columns whose values share a date prefix write it once, in the
///   header: `ordered_at (UTC; 2024-01-01 …)` over cells `00:01`, `l_shipdate (2024-…)`
///   over cells `01-05`.
pub fn compact_cells(
    columns: &[String],
    types: &[String],
    mut rows: Vec<Vec<Option<String>>>,
) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut headers = columns.to_vec();
    for (i, type_name) in types.iter().enumerate() {
        let kind = type_name.to_ascii_uppercase();
        let cells = rows.iter_mut().filter_map(|r| r.get_mut(i)).flatten();
        let mut notes = Vec::new();
        match kind.as_str() {
            "DECIMAL" | "DOUBLE" | "FLOAT" => cells.for_each(trim_fraction),
            "TIMESTAMP" | "TIMESTAMP_NTZ" => {
                let (mut all, mut utc) = (true, true);
                for c in cells {
                    match compact_timestamp(c) {
                        Some((short, is_utc)) => {
                            *c = short;
                            utc &= is_utc;
                        }
                        None => all = false,
                    }
                }
                if all
                    && utc
                    && kind == "TIMESTAMP"
                    && rows.iter().any(|r| matches!(r.get(i), Some(Some(_))))
                {
                    notes.push("UTC".to_string());
                }
                if all && let Some(prefix) = shared_date_prefix(&rows, i, true) {
                    cut_prefix(&mut rows, i, &prefix);
                    notes.push(format!("{prefix}…"));
                }
            }
            "DATE" => {
                if let Some(prefix) = shared_date_prefix(&rows, i, false) {
                    cut_prefix(&mut rows, i, &prefix);
                    notes.push(format!("{prefix}…"));
                }
            }
            _ => {}
        }
        if !notes.is_empty()
            && let Some(h) = headers.get_mut(i)
        {
            *h = format!("{h} ({})", notes.join("; "));
        }
    }
    (headers, rows)
}

/// `12.300` → `12.3`, `5.00` → `5`, `-0.0` → `0`; anything else (exponents) stays.
fn trim_fraction(cell: &mut String) {
    if !cell.contains('.')
        || cell.contains(['e', 'E'])
        || !cell
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-+.".contains(&b))
    {
        return;
    }
    let trimmed = cell.trim_end_matches('0').trim_end_matches('.');
    let trimmed = if trimmed == "-0" || trimmed.is_empty() || trimmed == "-" {
        "0"
    } else {
        trimmed
    };
    *cell = trimmed.to_string();
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…][Z]` → (`YYYY-MM-DD HH:MM[:SS[.f…]]`, ended in `Z`); `None`
/// for any other shape (an offset, a date alone), which stays as it is.
fn compact_timestamp(cell: &str) -> Option<(String, bool)> {
    let (body, utc) = match cell.strip_suffix('Z') {
        Some(b) => (b, true),
        None => (cell, false),
    };
    let bytes = body.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = body.len() >= 19
        && digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(bytes.get(10), Some(b'T' | b' '))
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return None;
    }
    let fraction = match body.get(19..) {
        Some("") | None => "",
        Some(f)
            if f.starts_with('.') && f.len() > 1 && f[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            f.trim_end_matches('0').trim_end_matches('.')
        }
        Some(_) => return None,
    };
    let (date, minutes, seconds) = (body.get(..10)?, body.get(11..16)?, body.get(17..19)?);
    let mut out = format!("{date} {minutes}");
    if seconds != "00" || !fraction.is_empty() {
        out.push(':');
        out.push_str(seconds);
        out.push_str(fraction);
    }
    Some((out, utc))
}

/// For timestamps the day (`YYYY-MM-DD `), for dates the longest of `YYYY-MM-`, `YYYY-`,
/// that every non-null cell of column `i` starts with — only on a page of at least
/// `MIN_SHARED` values (a short page reads better whole), and with something left after.
fn shared_date_prefix(rows: &[Vec<Option<String>>], i: usize, timestamps: bool) -> Option<String> {
    let cells: Vec<&str> = rows.iter().filter_map(|r| r.get(i)?.as_deref()).collect();
    let first = *cells.first()?;
    if cells.len() < MIN_SHARED {
        return None;
    }
    let candidates: &[usize] = if timestamps { &[11] } else { &[8, 5] };
    candidates.iter().find_map(|&n| {
        let prefix = first.get(..n)?;
        cells
            .iter()
            .all(|c| c.len() > n && c.starts_with(prefix))
            .then(|| prefix.to_string())
    })
}

const MIN_SHARED: usize = 5;

fn cut_prefix(rows: &mut [Vec<Option<String>>], i: usize, prefix: &str) {
    for cell in rows.iter_mut().filter_map(|r| r.get_mut(i)).flatten() {
        if let Some(rest) = cell.strip_prefix(prefix) {
            *cell = rest.to_string();
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

/// The end of a log or trace: its last `max_lines` lines within `max_chars` bytes, after a
/// line saying how many lines were left out.
pub fn tail(text: &str, max_lines: usize, max_chars: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut kept = 0;
    let mut size = 0;
    for line in lines.iter().rev() {
        if kept == max_lines || size + line.len() + 1 > max_chars {
            break;
        }
        size += line.len() + 1;
        kept += 1;
    }
    // A single line longer than the budget: its end.
    if let (0, Some(&last)) = (kept, lines.last()) {
        let mut start = last.len().saturating_sub(max_chars);
        while !last.is_char_boundary(start) {
            start += 1;
        }
        let omitted = lines.len() - 1;
        let head = if omitted > 0 {
            format!("… {omitted} lines omitted …\n")
        } else {
            String::new()
        };
        return format!("{head}…{}", &last[start..]);
    }
    let omitted = lines.len() - kept;
    let body = lines
        .get(lines.len() - kept..)
        .unwrap_or_default()
        .join("\n");
    if omitted == 0 {
        body
    } else {
        format!("… {omitted} lines omitted …\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_says_how_many_lines_it_left_out() {
        let log: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let t = tail(&log, 3, 10_000);
        assert_eq!(t, "… 97 lines omitted …\nline 98\nline 99\nline 100");
        assert_eq!(tail("a\nb", 5, 100), "a\nb");
        let long = "x".repeat(50);
        assert_eq!(tail(&long, 5, 10), format!("…{}", "x".repeat(10)));
    }

    fn page(values: &[&str]) -> Vec<Vec<Option<String>>> {
        values
            .iter()
            .map(|v| vec![(!v.is_empty()).then(|| v.to_string())])
            .collect()
    }

    fn compacted(type_name: &str, values: &[&str]) -> (String, Vec<Option<String>>) {
        let (headers, rows) =
            compact_cells(&["c".to_string()], &[type_name.to_string()], page(values));
        (
            headers[0].clone(),
            rows.into_iter().map(|mut r| r.remove(0)).collect(),
        )
    }

    #[test]
    fn numbers_lose_only_redundant_zeros() {
        let (_, cells) = compacted("DECIMAL", &["12.30", "5.00", "-0.00", "100", "1.5e10", ""]);
        let cells: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
        assert_eq!(
            cells,
            vec![
                Some("12.3"),
                Some("5"),
                Some("0"),
                Some("100"),
                Some("1.5e10"),
                None
            ]
        );
    }

    #[test]
    fn utc_timestamps_of_one_day_write_the_date_once() {
        let (header, cells) = compacted(
            "TIMESTAMP",
            &[
                "2024-01-01T00:01:00.000Z",
                "2024-01-01T13:45:07.250Z",
                "",
                "2024-01-01T14:00:00.000Z",
                "2024-01-01T15:00:00.000Z",
                "2024-01-01T16:00:00.000Z",
            ],
        );
        assert_eq!(header, "c (UTC; 2024-01-01 …)");
        let cells: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
        assert_eq!(cells[..3], [Some("00:01"), Some("13:45:07.25"), None]);
        // Days of one month keep their date.
        let days = ["2024-03-05T10:15:00Z", "2024-03-06T08:00:00Z"].repeat(3);
        let (header, cells) = compacted("TIMESTAMP", &days);
        assert_eq!(header, "c (UTC)");
        assert_eq!(cells[0].as_deref(), Some("2024-03-05 10:15"));
    }

    #[test]
    fn timestamps_keep_what_they_cannot_say_shorter() {
        // An offset is not rewritten, so the column has no shared note either.
        let (header, cells) = compacted(
            "TIMESTAMP",
            &["2024-01-01T00:01:00.000+01:00", "2024-02-01T00:00:00.000Z"],
        );
        assert_eq!(header, "c");
        assert_eq!(cells[0].as_deref(), Some("2024-01-01T00:01:00.000+01:00"));
        assert_eq!(cells[1].as_deref(), Some("2024-02-01 00:00"));
        // Different years: nothing shared.
        let (header, _) = compacted("DATE", &["2023-12-31", "2024-01-01"]);
        assert_eq!(header, "c");
        let dates = ["2024-01-05", "2024-03-01"].repeat(3);
        let (header, cells) = compacted("DATE", &dates);
        assert_eq!(header, "c (2024-…)");
        assert_eq!(cells[0].as_deref(), Some("01-05"));
        // A short page: written whole.
        let (header, _) = compacted("DATE", &["2024-01-05", "2024-03-01"]);
        assert_eq!(header, "c");
    }

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
