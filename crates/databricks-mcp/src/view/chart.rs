//! Which chart fits a SQL result, and that chart as a standalone SVG (`call --chart`).
//!
//! The result view (`result_view.html`) draws its charts in the browser with the same
//! rules, written again in its JavaScript: the view runs inside a host's sandboxed
//! iframe, and `--chart` runs where no browser is (a terminal, CI), so each side needs
//! its own code. The browser test (`tests/it/result_view.rs`) loads the view on the same
//! data and checks that both choose the same charts and draw the same marks. Keep the
//! two in step: every rule below is mirrored there, under the same names.
//!
//! The rules:
//! - A column's role comes from its SQL type (`columns[].type`, parameters dropped):
//!   numbers (TINYINT … BIGINT, FLOAT, DOUBLE, DECIMAL) are measures; DATE and
//!   TIMESTAMP(_NTZ/_LTZ) are time; STRING, VARCHAR, CHAR and BOOLEAN are categories;
//!   anything else (arrays, maps, binary, intervals, …) is not charted. A category
//!   column whose values (at least one, NULLs aside) are all ISO dates (`2024-01`,
//!   `2024-01-31`, `2024-01-31 12:00:00` …) is time.
//! - **line**: the first time column against up to [`MAX_SERIES`] measures, one series
//!   each; at least 2 rows with a time, and no time twice (several rows per time would
//!   draw a zigzag, not a trend).
//! - **bar**: the first category column and the first measure, one bar per row, for 1
//!   to [`MAX_BARS`] rows.
//! - **scatter**: the first two measures, one point per row where both are numbers;
//!   at least 2 such rows.
//! - The chart shown first is the first that fits in that order; none fits → no chart.
//!
//! A row whose value is NULL (or not a number) is not drawn; the table shows it.

use std::fmt::Write as _;

use serde_json::Value;

/// Most bars of a bar chart: more rows than that are a table, not a ranking.
pub const MAX_BARS: usize = 100;
/// Most series of a line chart.
pub const MAX_SERIES: usize = 6;

/// What a column can be in a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Number,
    Time,
    Category,
    Other,
}

/// The role of a Databricks SQL type name (`BIGINT`, `DECIMAL(10,2)`, `timestamp_ntz`,
/// `STRING COLLATE UTF8_LCASE`, `ARRAY<INT>` …).
pub fn role_of_type(type_name: &str) -> Role {
    let upper = type_name.trim().to_ascii_uppercase();
    let base = upper
        .split(['(', '<', ' '])
        .next()
        .unwrap_or_default()
        .trim();
    match base {
        "TINYINT" | "BYTE" | "SMALLINT" | "SHORT" | "INT" | "INTEGER" | "BIGINT" | "LONG"
        | "FLOAT" | "REAL" | "DOUBLE" | "DECIMAL" | "DEC" | "NUMERIC" => Role::Number,
        "DATE" | "TIMESTAMP" | "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" => Role::Time,
        "STRING" | "VARCHAR" | "CHAR" | "BOOLEAN" => Role::Category,
        _ => Role::Other,
    }
}

/// A chart kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Line,
    Bar,
    Scatter,
}

impl ChartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Line => "line",
            ChartKind::Bar => "bar",
            ChartKind::Scatter => "scatter",
        }
    }

    pub fn parse(name: &str) -> Option<ChartKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "line" => Some(ChartKind::Line),
            "bar" => Some(ChartKind::Bar),
            "scatter" => Some(ChartKind::Scatter),
            _ => None,
        }
    }
}

/// A SQL result as both result shapes carry it: the full surface's `SqlResult`
/// (`columns[{name,type}]`, `rows` of typed cells) and the managed surface's Statement
/// Execution answer (`manifest.schema.columns[{name,type_text}]`, `result.data_array`
/// of text cells).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultData {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
}

impl ResultData {
    /// The columns and rows of a `structuredContent`, `None` when it holds no result set.
    pub fn from_structured(structured: &Value) -> Option<ResultData> {
        if let Some(columns) = structured.get("columns").and_then(Value::as_array) {
            let columns = columns
                .iter()
                .map(|c| (text(c, "name"), text(c, "type")))
                .collect();
            let rows = rows_of(structured.get("rows"));
            return Some(ResultData { columns, rows });
        }
        let columns = structured
            .pointer("/manifest/schema/columns")
            .and_then(Value::as_array)?;
        let columns = columns
            .iter()
            .map(|c| {
                let type_text = text(c, "type_text");
                let type_name = if type_text.is_empty() {
                    text(c, "type_name")
                } else {
                    type_text
                };
                (text(c, "name"), type_name)
            })
            .collect();
        let rows = rows_of(structured.pointer("/result/data_array"));
        Some(ResultData { columns, rows })
    }
}

fn text(object: &Value, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn rows_of(rows: Option<&Value>) -> Vec<Vec<Value>> {
    rows.and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// A cell as a number: a JSON number, or a string spelling a decimal number (DECIMALs
/// too long for a double, the managed shape's text cells); anything else is `None`.
pub fn number_of(cell: &Value) -> Option<f64> {
    match cell {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) if is_decimal_text(s.trim()) => {
            s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

/// `[+-]digits[.digits][e[+-]digits]`, the JavaScript side's regular expression.
fn is_decimal_text(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        frac_digits = i - start;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// A cell as a time: an ISO date or date-time string (`YYYY-MM`, `YYYY-MM-DD`, then
/// optionally `[T ]hh:mm[:ss[.fff]]` and `Z` or `±hh[:]mm`) as milliseconds since the
/// epoch, UTC; anything else is `None`.
pub fn time_of(cell: &Value) -> Option<f64> {
    let s = cell.as_str()?.trim();
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = b.get(from..from + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = digits(0, 4)?;
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let month = digits(5, 2)?;
    let mut i = 7;
    let mut day = 1;
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0.0);
    if b.get(i) == Some(&b'-') {
        day = digits(i + 1, 2)?;
        i += 3;
        if matches!(b.get(i), Some(b'T' | b' ')) {
            hour = digits(i + 1, 2)?;
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            minute = digits(i + 4, 2)?;
            i += 6;
            if b.get(i) == Some(&b':') {
                second = digits(i + 1, 2)?;
                i += 3;
                if b.get(i) == Some(&b'.') {
                    let start = i + 1;
                    let mut end = start;
                    while b.get(end).is_some_and(u8::is_ascii_digit) {
                        end += 1;
                    }
                    if end == start {
                        return None;
                    }
                    let fraction: f64 = format!("0.{}", s.get(start..end)?).parse().ok()?;
                    millis = fraction * 1000.0;
                    i = end;
                }
            }
        }
    }
    let mut offset_minutes = 0;
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => {}
        Some(sign @ (b'+' | b'-')) => {
            let h = digits(i + 1, 2)?;
            let colon = usize::from(b.get(i + 3) == Some(&b':'));
            let m = digits(i + 3 + colon, 2)?;
            if i + 5 + colon != b.len() {
                return None;
            }
            offset_minutes = (h * 60 + m) * if *sign == b'-' { -1 } else { 1 };
        }
        _ => return None,
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, 1) + day - 1;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds as f64 * 1000.0 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A cell as a category label: text as it is, NULL as `NULL`.
pub fn label_of(cell: &Value) -> String {
    match cell {
        Value::Null => "NULL".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The roles of the columns, with the ISO-date rule applied to category columns.
pub fn roles(data: &ResultData) -> Vec<Role> {
    data.columns
        .iter()
        .enumerate()
        .map(|(i, (_, type_name))| {
            let role = role_of_type(type_name);
            if role != Role::Category {
                return role;
            }
            let mut values = data
                .rows
                .iter()
                .map(|r| r.get(i).unwrap_or(&Value::Null))
                .filter(|v| !v.is_null())
                .peekable();
            if values.peek().is_some() && values.all(|v| time_of(v).is_some()) {
                Role::Time
            } else {
                Role::Category
            }
        })
        .collect()
}

/// The charts that fit a result, the one shown first first, with the columns each uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub roles: Vec<Role>,
    pub kinds: Vec<ChartKind>,
    /// The first time column (line).
    pub time: Option<usize>,
    /// The first category column (bar).
    pub category: Option<usize>,
    /// The measures, in column order (line draws up to MAX_SERIES of them).
    pub measures: Vec<usize>,
}

impl Plan {
    /// The chart shown first, if any fits.
    pub fn default_kind(&self) -> Option<ChartKind> {
        self.kinds.first().copied()
    }
}

fn column_name(data: &ResultData, i: usize) -> &str {
    data.columns.get(i).map_or("", |c| c.0.as_str())
}

fn cell(row: &[Value], i: usize) -> &Value {
    row.get(i).unwrap_or(&Value::Null)
}

/// Which charts fit `data`.
pub fn plan(data: &ResultData) -> Plan {
    let roles = roles(data);
    let first = |role| roles.iter().position(|r| *r == role);
    let measures: Vec<usize> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Role::Number)
        .map(|(i, _)| i)
        .collect();
    let time = first(Role::Time);
    let category = first(Role::Category);
    let mut kinds = Vec::new();
    if let Some(t) = time
        && !measures.is_empty()
    {
        let series = measures.get(..MAX_SERIES).unwrap_or(&measures);
        let mut times: Vec<f64> = data
            .rows
            .iter()
            .filter(|r| series.iter().any(|m| number_of(cell(r, *m)).is_some()))
            .filter_map(|r| time_of(cell(r, t)))
            .collect();
        times.sort_by(f64::total_cmp);
        let distinct = times.windows(2).all(|w| !matches!(w, [a, b] if a == b));
        if times.len() >= 2 && distinct {
            kinds.push(ChartKind::Line);
        }
    }
    if category.is_some() && !measures.is_empty() && (1..=MAX_BARS).contains(&data.rows.len()) {
        kinds.push(ChartKind::Bar);
    }
    if let [x, y, ..] = measures.as_slice() {
        let points = data
            .rows
            .iter()
            .filter(|r| number_of(cell(r, *x)).is_some() && number_of(cell(r, *y)).is_some())
            .count();
        if points >= 2 {
            kinds.push(ChartKind::Scatter);
        }
    }
    Plan {
        roles,
        kinds,
        time,
        category,
        measures,
    }
}

/// Marks a chart draws: one per row that has its values (per series for a line).
pub fn marks(data: &ResultData, plan: &Plan, kind: ChartKind) -> usize {
    points(data, plan, kind).iter().map(Vec::len).sum()
}

/// The points of each series: (row index, x, y); bars use the row index as x.
fn points(data: &ResultData, plan: &Plan, kind: ChartKind) -> Vec<Vec<(usize, f64, f64)>> {
    match kind {
        ChartKind::Line => {
            let Some(t) = plan.time else {
                return Vec::new();
            };
            plan.measures
                .iter()
                .take(MAX_SERIES)
                .map(|m| {
                    let mut series: Vec<(usize, f64, f64)> = data
                        .rows
                        .iter()
                        .enumerate()
                        .filter_map(|(i, r)| {
                            Some((i, time_of(cell(r, t))?, number_of(cell(r, *m))?))
                        })
                        .collect();
                    series.sort_by(|a, b| a.1.total_cmp(&b.1));
                    series
                })
                .collect()
        }
        ChartKind::Bar => {
            let Some(m) = plan.measures.first() else {
                return Vec::new();
            };
            vec![
                data.rows
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some((i, i as f64, number_of(cell(r, *m))?)))
                    .collect(),
            ]
        }
        ChartKind::Scatter => {
            let [x, y, ..] = plan.measures[..] else {
                return Vec::new();
            };
            vec![
                data.rows
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some((i, number_of(cell(r, x))?, number_of(cell(r, y))?)))
                    .collect(),
            ]
        }
    }
}

// ---- drawing ----------------------------------------------------------------------

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 340.0;
const BAR_ROW: f64 = 24.0;

/// Colours for light and dark backgrounds, the view's palette (contrast ≥ 3:1 against
/// either background, as WCAG asks of graphics).
const STYLE: &str = "
svg{font:12px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c1917}
.bg{fill:#ffffff}.axis,.tick-line{stroke:#a8a29e;stroke-width:1}.grid{stroke:#e7e5e4;stroke-width:1}
text{fill:#44403c}.title{font-weight:600;fill:#1c1917}
.s0{fill:#2563eb;stroke:#2563eb}.s1{fill:#c2410c;stroke:#c2410c}.s2{fill:#047857;stroke:#047857}
.s3{fill:#be185d;stroke:#be185d}.s4{fill:#6d28d9;stroke:#6d28d9}.s5{fill:#0e7490;stroke:#0e7490}
path.series-line{fill:none;stroke-width:2}
@media (prefers-color-scheme:dark){svg{color:#f5f5f4}.bg{fill:#1c1917}text{fill:#d6d3d1}.title{fill:#fafaf9}
.axis,.tick-line{stroke:#78716c}.grid{stroke:#44403c}
.s0{fill:#60a5fa;stroke:#60a5fa}.s1{fill:#fb923c;stroke:#fb923c}.s2{fill:#34d399;stroke:#34d399}
.s3{fill:#f472b6;stroke:#f472b6}.s4{fill:#a78bfa;stroke:#a78bfa}.s5{fill:#22d3ee;stroke:#22d3ee}}
";

/// The chart `kind` of `data` as a standalone SVG document (light and dark themes through
/// `prefers-color-scheme`, a title and a description for assistive technology), or
/// `None` when that kind does not fit.
pub fn svg(data: &ResultData, kind: ChartKind) -> Option<String> {
    let plan = plan(data);
    if !plan.kinds.contains(&kind) {
        return None;
    }
    let series = points(data, &plan, kind);
    let name = |i: usize| data.columns.get(i).map(|c| c.0.as_str()).unwrap_or("");
    let (title, body, height) = match kind {
        ChartKind::Bar => {
            let (c, m) = (plan.category?, *plan.measures.first()?);
            let title = format!("Bar chart of {} by {}", name(m), name(c));
            let (body, height) = draw_bars(data, c, m, series.first()?);
            (title, body, height)
        }
        ChartKind::Line => {
            let t = plan.time?;
            let names: Vec<&str> = plan
                .measures
                .iter()
                .take(MAX_SERIES)
                .map(|m| name(*m))
                .collect();
            let title = format!("Line chart of {} over {}", names.join(", "), name(t));
            (title, draw_xy(&series, &names, name(t), true), HEIGHT)
        }
        ChartKind::Scatter => {
            let (x, y) = match plan.measures.as_slice() {
                [x, y, ..] => (*x, *y),
                _ => return None,
            };
            let title = format!("Scatter plot of {} against {}", name(y), name(x));
            (title, draw_xy(&series, &[name(y)], name(x), false), HEIGHT)
        }
    };
    let count: usize = series.iter().map(Vec::len).sum();
    let desc = describe(kind, data, &plan, &series, count);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-kind="{kind}" data-kinds="{kinds}" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">{title}</title>
<desc id="chart-desc">{desc}</desc>
<style>{STYLE}</style>
<rect class="bg" width="100%" height="100%"/>
{body}</svg>
"#,
        kind = kind.as_str(),
        kinds = plan
            .kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        title = escape(&title),
        desc = escape(&desc),
    );
    Some(out)
}

/// The description of the chart for a screen reader: what is drawn, the range, what is
/// left out.
fn describe(
    kind: ChartKind,
    data: &ResultData,
    plan: &Plan,
    series: &[Vec<(usize, f64, f64)>],
    count: usize,
) -> String {
    let rows = data.rows.len();
    let what = match kind {
        ChartKind::Bar => format!("{count} bars"),
        ChartKind::Line => format!("{} series of {count} points in all", series.len()),
        ChartKind::Scatter => format!("{count} points"),
    };
    let ys: Vec<f64> = series.iter().flatten().map(|p| p.2).collect();
    let range = match (
        ys.iter().copied().reduce(f64::min),
        ys.iter().copied().reduce(f64::max),
    ) {
        (Some(lo), Some(hi)) => format!(", values from {} to {}", number(lo), number(hi)),
        _ => String::new(),
    };
    let per_row = if kind == ChartKind::Line {
        plan.measures.len().min(MAX_SERIES)
    } else {
        1
    };
    let missing = rows * per_row - count.min(rows * per_row);
    let left_out = if missing > 0 {
        format!(" {missing} values are NULL or not numbers and are not drawn.")
    } else {
        String::new()
    };
    format!("{what} from {rows} rows{range}.{left_out} The table of the result is the full data.")
}

fn draw_bars(
    data: &ResultData,
    category: usize,
    measure: usize,
    bars: &[(usize, f64, f64)],
) -> (String, f64) {
    let labels: Vec<String> = data
        .rows
        .iter()
        .map(|r| clip(&label_of(cell(r, category)), 28))
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_width = (longest as f64 * 7.0 + 12.0).clamp(40.0, 210.0);
    let (top, left, right) = (34.0, label_width, 70.0);
    let height = top + data.rows.len() as f64 * BAR_ROW + 30.0;
    let (lo, hi) = nice_domain(
        bars.iter().map(|b| b.2).fold(0.0, f64::min),
        bars.iter().map(|b| b.2).fold(0.0, f64::max),
    );
    let x = |v: f64| left + (v - lo) / (hi - lo) * (WIDTH - left - right);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<text class="title" x="{left}" y="20">{} by {}</text>"#,
        escape(column_name(data, measure)),
        escape(column_name(data, category))
    );
    let bottom = top + data.rows.len() as f64 * BAR_ROW;
    for t in ticks(lo, hi, 5) {
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{bottom}"/><text x="{0:.1}" y="{1}" text-anchor="middle">{2}</text>"#,
            x(t),
            bottom + 16.0,
            escape(&number(t))
        );
    }
    for (row, label) in labels.iter().enumerate() {
        let y = top + row as f64 * BAR_ROW;
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + BAR_ROW / 2.0 + 4.0,
            escape(label)
        );
    }
    for &(row, _, v) in bars {
        let y = top + row as f64 * BAR_ROW + 4.0;
        let (x0, x1) = (x(0.0_f64.max(lo)), x(v));
        let _ = writeln!(
            out,
            r#"<rect class="mark s0" data-row="{row}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}">{}</text>"#,
            x0.min(x1),
            (x1 - x0).abs().max(1.0),
            BAR_ROW - 8.0,
            escape(labels.get(row).map_or("", String::as_str)),
            escape(&number(v)),
            x0.max(x1) + 4.0,
            y + BAR_ROW / 2.0,
            escape(&number(v))
        );
    }
    let _ = writeln!(
        out,
        r#"<line class="axis" x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{bottom}"/>"#,
        x(0.0_f64.max(lo))
    );
    (out, height)
}

/// A line chart (x is time) or a scatter plot (x is a measure).
fn draw_xy(series: &[Vec<(usize, f64, f64)>], names: &[&str], x_name: &str, time: bool) -> String {
    let legend = if names.len() > 1 { 22.0 } else { 0.0 };
    let (top, left, right, bottom) = (34.0 + legend, 70.0, 44.0, HEIGHT - 44.0);
    let all = || series.iter().flatten();
    let fold = |f: fn(f64, f64) -> f64, pick: fn(&(usize, f64, f64)) -> f64| {
        all().map(pick).reduce(f).unwrap_or(0.0)
    };
    let (x_lo, x_hi) = if time {
        spread(fold(f64::min, |p| p.1), fold(f64::max, |p| p.1))
    } else {
        nice_domain(fold(f64::min, |p| p.1), fold(f64::max, |p| p.1))
    };
    let (y_lo, y_hi) = nice_domain(fold(f64::min, |p| p.2), fold(f64::max, |p| p.2));
    let x = |v: f64| left + (v - x_lo) / (x_hi - x_lo) * (WIDTH - left - right);
    let y = |v: f64| bottom - (v - y_lo) / (y_hi - y_lo) * (bottom - top);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<text class="title" x="{left}" y="20">{} {} {}</text>"#,
        escape(&names.join(", ")),
        if time { "over" } else { "against" },
        escape(x_name)
    );
    if names.len() > 1 {
        let mut lx = left;
        for (s, n) in names.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<rect class="s{s}" x="{lx:.1}" y="30" width="12" height="12"/><text x="{:.1}" y="40">{}</text>"#,
                lx + 16.0,
                escape(n)
            );
            lx += 16.0 + n.chars().count() as f64 * 7.0 + 18.0;
        }
    }
    for t in ticks(y_lo, y_hi, 5) {
        let _ = writeln!(
            out,
            r#"<line class="grid" x1="{left}" x2="{0:.1}" y1="{1:.1}" y2="{1:.1}"/><text x="{2:.1}" y="{3:.1}" text-anchor="end">{4}</text>"#,
            WIDTH - right,
            y(t),
            left - 6.0,
            y(t) + 4.0,
            escape(&number(t))
        );
    }
    let x_ticks = if time {
        time_ticks(x_lo, x_hi)
    } else {
        ticks(x_lo, x_hi, 6)
            .into_iter()
            .map(|t| (t, number(t)))
            .collect()
    };
    for (t, label) in x_ticks {
        let _ = writeln!(
            out,
            r#"<line class="tick-line" x1="{0:.1}" x2="{0:.1}" y1="{bottom}" y2="{1}"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"#,
            x(t),
            bottom + 5.0,
            bottom + 18.0,
            escape(&label)
        );
    }
    let _ = writeln!(
        out,
        r#"<line class="axis" x1="{left}" x2="{:.1}" y1="{bottom}" y2="{bottom}"/><line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{bottom}"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        WIDTH - right,
        (left + WIDTH - right) / 2.0,
        HEIGHT - 8.0,
        escape(x_name)
    );
    for (s, points) in series.iter().enumerate() {
        if time && points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!(
                        "{}{:.1},{:.1}",
                        if i == 0 { "M" } else { "L" },
                        x(p.1),
                        y(p.2)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                r#"<path class="series-line s{s}" d="{}"/>"#,
                path.join(" ")
            );
        }
        for &(row, px, py) in points {
            let x_text = if time {
                time_label(px, 0.0)
            } else {
                number(px)
            };
            let _ = writeln!(
                out,
                r#"<circle class="mark s{s}" data-series="{s}" data-row="{row}" cx="{:.1}" cy="{:.1}" r="{}"><title>{}: {}, {}</title></circle>"#,
                x(px),
                y(py),
                if time { 3 } else { 4 },
                escape(names.get(s).copied().unwrap_or("")),
                escape(&x_text),
                escape(&number(py))
            );
        }
    }
    out
}

/// A range that is never empty.
fn spread(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

/// `lo..hi` widened to round tick steps.
fn nice_domain(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = spread(lo, hi);
    let step = nice_step((hi - lo) / 5.0);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.abs().max(f64::MIN_POSITIVE).log10().floor());
    let fraction = raw / power;
    power
        * if fraction <= 1.0 {
            1.0
        } else if fraction <= 2.0 {
            2.0
        } else if fraction <= 5.0 {
            5.0
        } else {
            10.0
        }
}

fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let step = nice_step((hi - lo) / count as f64);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Ticks of a time axis with their labels: on years or months when the span is long
/// enough (`1994`, `1994-07`), else evenly spaced (whole days when the step is a day or
/// more).
fn time_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    const DAY: f64 = 86_400_000.0;
    const MOST: i64 = 6;
    let span = hi - lo;
    let within = |t: &(f64, String)| t.0 >= lo && t.0 <= hi;
    let day_of = |t: f64| (t / DAY).floor() as i64;
    let (y0, m0, _) = civil_from_days(day_of(lo));
    let (y1, m1, _) = civil_from_days(day_of(hi));
    if span >= 3.0 * 365.0 * DAY {
        let years = y1 - y0 + 1;
        let k = [1, 2, 5, 10, 20, 50, 100, 200, 500]
            .into_iter()
            .find(|k| years / k <= MOST)
            .unwrap_or(1000);
        (y0..=y1)
            .filter(|y| y.rem_euclid(k) == 0)
            .map(|y| (days_from_civil(y, 1, 1) as f64 * DAY, format!("{y:04}")))
            .filter(within)
            .collect()
    } else if span >= 60.0 * DAY {
        let (a, b) = (y0 * 12 + m0 - 1, y1 * 12 + m1 - 1);
        let k = [1, 2, 3, 6]
            .into_iter()
            .find(|k| (b - a) / k <= MOST)
            .unwrap_or(12);
        (a..=b)
            .filter(|i| i.rem_euclid(k) == 0)
            .map(|i| {
                let (y, m) = (i.div_euclid(12), i.rem_euclid(12) + 1);
                (
                    days_from_civil(y, m, 1) as f64 * DAY,
                    format!("{y:04}-{m:02}"),
                )
            })
            .filter(within)
            .collect()
    } else {
        let step = span / MOST as f64;
        (0..=MOST)
            .map(|i| lo + step * i as f64)
            .map(|t| {
                if step >= DAY {
                    (t / DAY).round() * DAY
                } else {
                    t
                }
            })
            .map(|t| (t, time_label(t, span)))
            .filter(within)
            .collect()
    }
}

/// A time as `YYYY-MM-DD` (with `hh:mm` when the span is under two days).
fn time_label(ms: f64, span: f64) -> String {
    let days = (ms / 86_400_000.0).floor() as i64;
    let (y, m, d) = civil_from_days(days);
    let date = format!("{y:04}-{m:02}-{d:02}");
    if span > 0.0 && span < 2.0 * 86_400_000.0 {
        let minutes = ((ms - days as f64 * 86_400_000.0) / 60_000.0) as i64;
        format!("{date} {:02}:{:02}", minutes / 60, minutes % 60)
    } else {
        date
    }
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A number for an axis or a label: short (1.2M, 35k), at most 4 significant decimals.
fn number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let decimals = if suffix.is_empty() && a < 1.0 { 4 } else { 2 };
    let mut s = format!("{scaled:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".into();
    }
    format!("{s}{suffix}")
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(columns: &[(&str, &str)], rows: Value) -> ResultData {
        ResultData::from_structured(&json!({
            "columns": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "rows": rows,
        }))
        .unwrap()
    }

    #[test]
    fn roles_come_from_the_type() {
        assert_eq!(role_of_type("BIGINT"), Role::Number);
        assert_eq!(role_of_type("decimal(10,2)"), Role::Number);
        assert_eq!(role_of_type("TIMESTAMP_NTZ"), Role::Time);
        assert_eq!(role_of_type("DATE"), Role::Time);
        assert_eq!(role_of_type("STRING COLLATE UTF8_LCASE"), Role::Category);
        assert_eq!(role_of_type("BOOLEAN"), Role::Category);
        assert_eq!(role_of_type("ARRAY<INT>"), Role::Other);
        assert_eq!(role_of_type("INTERVAL DAY TO SECOND"), Role::Other);
        assert_eq!(role_of_type("VOID"), Role::Other);
    }

    #[test]
    fn cells_parse_like_the_view() {
        assert_eq!(number_of(&json!(3)), Some(3.0));
        assert_eq!(
            number_of(&json!("12345678901234567890.12")),
            Some(1.2345678901234567e19)
        );
        assert_eq!(number_of(&json!("-.5e3")), Some(-500.0));
        assert_eq!(number_of(&json!("1.")), Some(1.0));
        assert_eq!(number_of(&json!("abc")), None);
        assert_eq!(number_of(&json!("")), None);
        assert_eq!(number_of(&json!("1e")), None);
        assert_eq!(number_of(&json!(true)), None);
        assert_eq!(number_of(&Value::Null), None);
        assert_eq!(time_of(&json!("1970-01-02")), Some(86_400_000.0));
        assert_eq!(
            time_of(&json!("1992-01-01T00:00:00")),
            Some(694_224_000_000.0)
        );
        assert_eq!(time_of(&json!("1992-01")), Some(694_224_000_000.0));
        assert_eq!(
            time_of(&json!("2024-03-05T10:15:00.000Z")),
            Some(1_709_633_700_000.0)
        );
        assert_eq!(
            time_of(&json!("2024-03-05 11:15+01:00")),
            Some(1_709_633_700_000.0)
        );
        assert_eq!(time_of(&json!("2024-13-01")), None);
        assert_eq!(time_of(&json!("2024-01-01x")), None);
        assert_eq!(time_of(&json!("20240101")), None);
        assert_eq!(civil_from_days(days_from_civil(1996, 2, 29)), (1996, 2, 29));
    }

    #[test]
    fn a_category_and_a_measure_are_bars() {
        let d = data(
            &[("priority", "STRING"), ("orders", "BIGINT")],
            json!([["1-URGENT", 3020], ["2-HIGH", 3065], [null, 1]]),
        );
        let p = plan(&d);
        assert_eq!(p.kinds, vec![ChartKind::Bar]);
        assert_eq!(marks(&d, &p, ChartKind::Bar), 3);
        let svg = svg(&d, ChartKind::Bar).unwrap();
        assert_eq!(svg.matches("class=\"mark ").count(), 3);
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"chart-title\">Bar chart of orders by priority</title>"));
    }

    #[test]
    fn time_and_measures_are_lines_and_two_measures_a_scatter() {
        let d = data(
            &[
                ("month", "TIMESTAMP_NTZ"),
                ("orders", "BIGINT"),
                ("customers", "BIGINT"),
            ],
            json!([
                ["1992-01-01T00:00:00", 203, 190],
                ["1992-02-01T00:00:00", 185, null],
                ["1992-03-01T00:00:00", 202, 199]
            ]),
        );
        let p = plan(&d);
        assert_eq!(p.kinds, vec![ChartKind::Line, ChartKind::Scatter]);
        assert_eq!(marks(&d, &p, ChartKind::Line), 5);
        assert_eq!(marks(&d, &p, ChartKind::Scatter), 2);
        assert!(svg(&d, ChartKind::Bar).is_none());
        let line = svg(&d, ChartKind::Line).unwrap();
        assert_eq!(line.matches("data-series=\"0\"").count(), 3);
        assert_eq!(line.matches("data-series=\"1\"").count(), 2);
    }

    #[test]
    fn iso_text_is_time_and_repeated_times_are_not_a_line() {
        let d = data(
            &[("month", "STRING"), ("n", "INT")],
            json!([["1992-01", 1], ["1992-02", 2]]),
        );
        assert_eq!(plan(&d).kinds, vec![ChartKind::Line]);
        let d = data(
            &[("day", "DATE"), ("status", "STRING"), ("n", "INT")],
            json!([["1992-01-01", "O", 1], ["1992-01-01", "F", 2]]),
        );
        assert_eq!(plan(&d).kinds, vec![ChartKind::Bar]);
    }

    #[test]
    fn nothing_fits_one_measure_or_text_or_too_many_bars() {
        let d = data(&[("n", "BIGINT")], json!([[25]]));
        assert!(plan(&d).kinds.is_empty());
        let d = data(
            &[("name", "STRING"), ("comment", "STRING")],
            json!([["a", "b"]]),
        );
        assert!(plan(&d).kinds.is_empty());
        let rows: Vec<Value> = (0..=MAX_BARS)
            .map(|i| json!([format!("c{i}"), i]))
            .collect();
        let d = data(&[("c", "STRING"), ("n", "INT")], Value::Array(rows));
        assert!(plan(&d).kinds.is_empty());
        let d = data(&[("c", "STRING"), ("n", "INT")], json!([]));
        assert!(plan(&d).kinds.is_empty());
    }

    #[test]
    fn the_managed_shape_reads_the_same() {
        let d = ResultData::from_structured(&json!({
            "statement_id": "s",
            "status": {"state": "SUCCEEDED"},
            "manifest": {"schema": {"columns": [
                {"name": "p", "type_name": "STRING", "type_text": "STRING", "position": 0},
                {"name": "n", "type_name": "LONG", "type_text": "BIGINT", "position": 1}
            ]}},
            "result": {"data_array": [["a", "1"], ["b", "2"]]}
        }))
        .unwrap();
        assert_eq!(plan(&d).kinds, vec![ChartKind::Bar]);
        assert!(
            ResultData::from_structured(
                &json!({"statement_id": "s", "status": {"state": "RUNNING"}})
            )
            .is_none()
        );
    }

    #[test]
    fn text_is_escaped() {
        let d = data(
            &[("<b>", "STRING"), ("n&m", "INT")],
            json!([["</svg><script>", 1]]),
        );
        let svg = svg(&d, ChartKind::Bar).unwrap();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;/svg&gt;&lt;script&gt;"));
        assert!(svg.contains("n&amp;m"));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(30_469_896.18), "30.47M");
        assert_eq!(number(3065.0), "3065");
        assert_eq!(number(15_000.0), "15k");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(-0.0), "0");
    }
}
