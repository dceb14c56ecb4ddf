//! Property tests: the guard never panics, and a write appended to reads is always refused.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sql_guard::{GuardError, Verdict, check_read_only, classify};

/// Single-line corpus entries with the given verdict prefix (`READ` or `WRITE`).
fn corpus(verdict: &str) -> Vec<String> {
    include_str!("corpus.txt")
        .lines()
        .filter_map(|line| {
            let (header, sql) = line.split_once('|')?;
            let header_verdict = header.split(':').next()?;
            (header_verdict == verdict && !header.ends_with('\\')).then(|| sql.to_string())
        })
        .collect()
}

/// Reads that can be followed by more text: no `--` comment that would swallow it.
fn reads() -> Vec<String> {
    let reads: Vec<String> = corpus("READ")
        .into_iter()
        .filter(|sql| !sql.contains("--"))
        .collect();
    assert!(reads.len() > 100);
    reads
}

fn writes() -> Vec<String> {
    let writes = corpus("WRITE");
    assert!(writes.len() > 100);
    writes
}

/// Writes whose text is complete: no unterminated string, comment or hint that a following
/// statement could close.
fn complete_writes() -> Vec<String> {
    writes()
        .into_iter()
        .filter(|sql| {
            !classify(sql)
                .statements
                .iter()
                .any(|s| s.reason.contains("cannot be split") || s.reason.contains("hint"))
        })
        .collect()
}

/// `sql` with the case of each ASCII letter flipped where `mask` says so.
fn random_case(sql: &str, mask: &[bool]) -> String {
    sql.chars()
        .zip(mask.iter().copied().cycle())
        .map(|(c, flip)| match (flip, c.is_ascii_uppercase()) {
            (false, _) => c,
            (true, true) => c.to_ascii_lowercase(),
            (true, false) => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Pieces of SQL that stress the lexer: keywords, quotes, comment markers, separators.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "SELECT",
            "select",
            "WITH",
            "FROM",
            "INSERT",
            "INTO",
            "UPDATE",
            "DELETE",
            "MERGE",
            "DROP",
            "TABLE",
            "CREATE",
            "EXPLAIN",
            "ANALYZE",
            "DESCRIBE",
            "SHOW",
            "SET",
            "USE",
            "VALUES",
            "EXECUTE",
            "IMMEDIATE",
            "CALL",
            "OPTIMIZE",
            "QUERY",
            "AS",
            "t",
            "1",
            "r",
            "R",
            "x",
            "E",
            "1E+5",
            "'",
            "\"",
            "`",
            "``",
            "''",
            "\\",
            "\\'",
            "r'",
            "R\"",
            "--",
            "/*",
            "*/",
            "/*+",
            ";",
            ";;",
            "(",
            ")",
            "[",
            "]",
            "->",
            "=",
            ":",
            "://",
            "$",
            "$$",
            "@",
            "#",
            "?",
            "\n",
            "\r",
            "\r\n",
            "\t",
            " ",
            "  ",
            "é",
            "日本",
            "😀",
            "\u{a0}",
            "POSITION(",
            "CAST(",
            "INTERVAL",
            "NOT",
            "CASE",
            "WHEN",
            "END",
            "*",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_0-9 ;'\"`/*\\-]{0,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn sql_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..60).prop_map(|parts| parts.join(""))
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ";",
        "; ",
        ";\n",
        " /* x */ ;\n ",
        ";;",
        ";\n-- note\n",
        "\n;\n",
        ";/* ; */",
        " ;\r\n",
        "; /* nested /* ; */ */ ",
    ])
}

/// Invariants that hold for any classification.
fn check_consistency(sql: &str) {
    let classification = classify(sql);
    let checked = check_read_only(sql);
    if classification.statements.is_empty() {
        assert_eq!(checked, Err(GuardError::Empty));
        assert!(!classification.is_read_only());
    } else if classification.is_read_only() {
        assert!(checked.is_ok());
        assert!(classification.first_write().is_none());
    } else {
        let first = classification.first_write().unwrap();
        assert_eq!(first.verdict, Verdict::Write);
        assert!(matches!(checked, Err(GuardError::Write { .. })));
        assert!(!checked.unwrap_err().to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_strings(sql in any::<String>()) {
        check_consistency(&sql);
    }

    #[test]
    fn never_panics_on_sql_soup(sql in sql_soup()) {
        check_consistency(&sql);
    }

    #[test]
    fn a_write_after_a_read_is_refused(
        read in prop::sample::select(reads()),
        write in prop::sample::select(writes()),
        separator in separator(),
        mask in prop::collection::vec(any::<bool>(), 1..64),
    ) {
        let write = random_case(&write, &mask);
        let sql = format!("{read}{separator}{write}");
        let checked = check_read_only(&sql);
        prop_assert!(
            matches!(checked, Err(GuardError::Write { .. })),
            "accepted {sql:?}: {checked:?}"
        );
    }

    #[test]
    fn a_write_between_reads_is_refused(
        before in prop::sample::select(reads()),
        write in prop::sample::select(complete_writes()),
        after in prop::sample::select(reads()),
        separator in separator(),
        mask in prop::collection::vec(any::<bool>(), 1..64),
    ) {
        let write = random_case(&write, &mask);
        let sql = format!("{before}{separator}{write}{separator}{after}");
        prop_assert!(
            matches!(check_read_only(&sql), Err(GuardError::Write { .. })),
            "accepted {sql:?}"
        );
    }

    #[test]
    fn reads_joined_by_separators_stay_reads(
        reads in prop::collection::vec(prop::sample::select(reads()), 1..5),
        separator in separator(),
    ) {
        let sql = reads.join(separator);
        let classification = classify(&sql);
        prop_assert!(classification.is_read_only(), "refused {sql:?}: {classification:?}");
        let expected: usize = reads.iter().map(|r| classify(r).statements.len()).sum();
        prop_assert_eq!(classification.statements.len(), expected);
    }

    #[test]
    fn writes_in_comments_and_strings_do_not_decide(
        read in prop::sample::select(reads()),
        write in prop::sample::select(writes()),
        mask in prop::collection::vec(any::<bool>(), 1..64),
    ) {
        let write = random_case(&write, &mask);
        let in_block = write.replace("*/", "* /").replace("/*", "/ *");
        let in_line = write.replace(['\n', '\r'], " ");
        let in_string = write.replace('\\', "\\\\").replace('\'', "\\'");
        let in_backticks = write.replace('`', "``");
        for sql in [
            format!("{read} /* {in_block} */"),
            format!("/* {in_block} */ {read}"),
            format!("-- {in_line}\n{read}"),
            format!("{read} -- {in_line}"),
            format!("SELECT '{in_string}' AS s"),
            format!("SELECT `{in_backticks}` FROM t"),
        ] {
            let classification = classify(&sql);
            prop_assert!(classification.is_read_only(), "refused {sql:?}: {classification:?}");
        }
    }
}
