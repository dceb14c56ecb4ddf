//! SQL scripts and notebooks: splitting into statements and cells, and rendering results
//! as text (job run logs and notebook output).

use crate::engine::QueryResult;

/// Splits SQL text on top-level `;` (quotes, backticks and comments respected); drops
/// statements that are empty or only comments.
pub(crate) fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = sql.chars().peekable();
    let mut has_code = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                has_code = true;
                cur.push(c);
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == '\\'
                        && c != '`'
                        && let Some(escaped) = chars.next()
                    {
                        cur.push(escaped);
                        continue;
                    }
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                cur.push(c);
                while let Some(d) = chars.next_if(|&d| d != '\n') {
                    cur.push(d);
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                cur.push_str("/*");
                while let Some(d) = chars.next() {
                    if d == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        cur.push_str("*/");
                        break;
                    }
                    cur.push(d);
                }
            }
            ';' => {
                if has_code {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                has_code = false;
            }
            c => {
                if !c.is_whitespace() {
                    has_code = true;
                }
                cur.push(c);
            }
        }
    }
    if has_code {
        out.push(cur.trim().to_string());
    }
    out
}

/// The SQL cells of a SQL notebook source (`-- COMMAND ----------` separators; `-- MAGIC`
/// cells such as markdown are skipped).
pub(crate) fn sql_notebook_cells(source: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let flush = |cur: &mut Vec<&str>, cells: &mut Vec<String>| {
        let code: Vec<&str> = cur
            .iter()
            .copied()
            .filter(|l| !l.trim_start().starts_with("-- MAGIC"))
            .collect();
        let text = code.join("\n");
        if !split_statements(&text).is_empty() {
            cells.push(text.trim().to_string());
        }
        cur.clear();
    };
    for (n, line) in source.lines().enumerate() {
        if n == 0 && line.trim() == "-- Databricks notebook source" {
            continue;
        }
        if line.trim() == "-- COMMAND ----------" {
            flush(&mut cur, &mut cells);
            continue;
        }
        cur.push(line);
    }
    flush(&mut cur, &mut cells);
    cells
}

/// A plain-text table of at most `max_rows` rows.
pub(crate) fn text_table(r: &QueryResult, max_rows: usize) -> String {
    let names: Vec<String> = r.schema.fields().iter().map(|f| f.name().clone()).collect();
    if names.is_empty() {
        return "OK".into();
    }
    let rows = databricks_api::cells::rows(&r.batch.slice(0, r.batch.num_rows().min(max_rows)));
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| c.unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count().min(60));
        }
    }
    let fmt_row = |row: &[String]| {
        row.iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c: String = c.chars().take(60).collect();
                format!("{c:<w$}")
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut out = fmt_row(&names);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    for row in &cells {
        out.push('\n');
        out.push_str(&fmt_row(row));
    }
    let total = r.batch.num_rows();
    if total > max_rows {
        out.push_str(&format!("\n... {total} rows in all, {max_rows} shown"));
    } else {
        out.push_str(&format!(
            "\n({total} row{})",
            if total == 1 { "" } else { "s" }
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let s = split_statements("SELECT 1; -- c;\nSELECT ';' AS x; /* ; */ ;  ");
        assert_eq!(s, vec!["SELECT 1", "-- c;\nSELECT ';' AS x"]);
        assert!(split_statements("-- only a comment").is_empty());
        // An escaped quote, an unterminated comment, a backslash that ends the text.
        assert_eq!(
            split_statements("SELECT 'a\\'b;c'; /* open ;"),
            vec!["SELECT 'a\\'b;c'"]
        );
        assert_eq!(
            split_statements("SELECT `a\\`; SELECT 'x\\"),
            vec!["SELECT `a\\`", "SELECT 'x\\"]
        );
        assert_eq!(
            split_statements("SELECT 1 /**/; SELECT 2"),
            vec!["SELECT 1 /**/", "SELECT 2"]
        );
    }

    #[test]
    fn cells() {
        let nb = "-- Databricks notebook source\n-- MAGIC %md\n-- MAGIC # Title\n\n-- COMMAND ----------\n\nSELECT 1\n\n-- COMMAND ----------\nSELECT 2;\n";
        assert_eq!(sql_notebook_cells(nb), vec!["SELECT 1", "SELECT 2;"]);
    }
}
