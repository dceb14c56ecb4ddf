//! The classification corpus (`tests/corpus.txt`): every write refused, every read accepted.

#![allow(clippy::unwrap_used)]

use sql_guard::{GuardError, Verdict, check_read_only, classify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Read,
    Write,
    Empty,
}

struct Entry {
    line: usize,
    expect: Expect,
    kind: Option<String>,
    sql: String,
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => panic!("unknown escape \\{other} in corpus"),
            None => panic!("dangling backslash in corpus"),
        }
    }
    out
}

fn parse_header(header: &str, line: usize) -> (Expect, Option<String>) {
    let (verdict, kind) = match header.split_once(':') {
        Some((v, k)) => (v, Some(k.to_string())),
        None => (header, None),
    };
    let expect = match verdict {
        "READ" => Expect::Read,
        "WRITE" => Expect::Write,
        "EMPTY" => Expect::Empty,
        other => panic!("corpus line {line}: unknown verdict {other:?}"),
    };
    (expect, kind)
}

fn load() -> Vec<Entry> {
    let text = include_str!("corpus.txt");
    let mut entries = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_suffix("<<") {
            let (expect, kind) = parse_header(header, number);
            let mut body = Vec::new();
            loop {
                let (_, l) = lines
                    .next()
                    .unwrap_or_else(|| panic!("corpus line {number}: block without `>>`"));
                if l == ">>" {
                    break;
                }
                body.push(l);
            }
            entries.push(Entry {
                line: number,
                expect,
                kind,
                sql: body.join("\n"),
            });
        } else if let Some((header, sql)) = line.split_once("\\|") {
            let (expect, kind) = parse_header(header, number);
            entries.push(Entry {
                line: number,
                expect,
                kind,
                sql: unescape(sql),
            });
        } else if let Some((header, sql)) = line.split_once('|') {
            let (expect, kind) = parse_header(header, number);
            entries.push(Entry {
                line: number,
                expect,
                kind,
                sql: sql.to_string(),
            });
        } else {
            panic!("corpus line {number}: no `|`: {line:?}");
        }
    }
    entries
}

#[test]
fn corpus_verdicts() {
    let entries = load();
    assert!(
        entries.len() >= 200,
        "the corpus should have at least 200 statements, has {}",
        entries.len()
    );
    let mut failures = Vec::new();
    for entry in &entries {
        let classification = classify(&entry.sql);
        let checked = check_read_only(&entry.sql);
        let (ok, kind) = match entry.expect {
            Expect::Read => (
                classification.is_read_only() && checked.is_ok(),
                classification.statements.first().map(|s| &s.kind),
            ),
            Expect::Write => (
                !classification.is_read_only()
                    && classification.first_write().is_some()
                    && matches!(checked, Err(GuardError::Write { .. })),
                classification.first_write().map(|s| &s.kind),
            ),
            Expect::Empty => (
                classification.statements.is_empty() && checked == Err(GuardError::Empty),
                None,
            ),
        };
        let kind_ok = match (&entry.kind, kind) {
            (None, _) => true,
            // The variant's name: `SideEffectFunction` matches `SideEffectFunction("reflect")`.
            (Some(expected), Some(actual)) => {
                let debug = format!("{actual:?}");
                debug == *expected || debug.starts_with(&format!("{expected}("))
            }
            (Some(_), None) => false,
        };
        if !ok || !kind_ok {
            failures.push(format!(
                "line {}: expected {:?}{} for {:?}\n    got {:#?}",
                entry.line,
                entry.expect,
                entry
                    .kind
                    .as_ref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default(),
                entry.sql,
                classification.statements
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus entries misclassified:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_has_both_verdicts_in_quantity() {
    let entries = load();
    let reads = entries.iter().filter(|e| e.expect == Expect::Read).count();
    let writes = entries.iter().filter(|e| e.expect == Expect::Write).count();
    assert!(reads >= 100, "{reads} reads");
    assert!(writes >= 100, "{writes} writes");
}

#[test]
fn every_read_statement_of_a_read_text_is_a_read() {
    for entry in load().iter().filter(|e| e.expect == Expect::Read) {
        for statement in classify(&entry.sql).statements {
            assert_eq!(statement.verdict, Verdict::Read, "{statement:?}");
        }
    }
}
