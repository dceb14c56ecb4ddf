//! The public API: classifications, errors and their messages, limits.

#![allow(clippy::unwrap_used)]

use sql_guard::{
    Classification, Classified, GuardError, StatementKind, Verdict, check_read_only, classify,
};

#[test]
fn statements_are_classified_in_order_with_trimmed_text() {
    let c = classify("  SELECT 1 ; /* c */ SHOW TABLES;;\n DROP TABLE t ; ");
    let summary: Vec<(StatementKind, Verdict, &str)> = c
        .statements
        .iter()
        .map(|s| (s.kind.clone(), s.verdict, s.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (StatementKind::Query, Verdict::Read, "SELECT 1"),
            (StatementKind::Show, Verdict::Read, "SHOW TABLES"),
            (StatementKind::Ddl, Verdict::Write, "DROP TABLE t"),
        ]
    );
    assert!(!c.is_read_only());
    assert_eq!(c.first_write().unwrap().text, "DROP TABLE t");
}

#[test]
fn comments_inside_a_statement_stay_in_its_text() {
    let c = classify("SELECT /* why */ 1");
    assert_eq!(c.statements[0].text, "SELECT /* why */ 1");
}

#[test]
fn empty_texts_are_an_error_and_not_read_only() {
    for sql in ["", "  ", ";", " ; ; ", "-- c", "/* c */", "/* a */ ; -- b"] {
        let c = classify(sql);
        assert_eq!(c, Classification::default(), "{sql:?}");
        assert!(!c.is_read_only());
        assert!(c.first_write().is_none());
        assert_eq!(check_read_only(sql), Err(GuardError::Empty));
    }
    assert_eq!(
        GuardError::Empty.to_string(),
        "no SQL statement to run: the text is empty or contains only comments"
    );
}

#[test]
fn check_read_only_returns_the_classification_of_reads() {
    let c = check_read_only("SELECT 1; DESCRIBE HISTORY t").unwrap();
    assert!(c.is_read_only());
    assert_eq!(c.statements.len(), 2);
    assert_eq!(c.statements[1].kind, StatementKind::Describe);
}

#[test]
fn the_error_names_the_first_write_and_why() {
    let err = check_read_only("SELECT 1; DELETE FROM t WHERE a = 1; DROP TABLE u").unwrap_err();
    assert_eq!(
        err,
        GuardError::Write {
            kind: StatementKind::Delete,
            statement: "DELETE FROM t WHERE a = 1".to_string(),
            reason: "DELETE writes data".to_string(),
        }
    );
    assert_eq!(
        err.to_string(),
        "DELETE statement not allowed in read-only mode: DELETE writes data \
         (statement: DELETE FROM t WHERE a = 1)"
    );
}

#[test]
fn long_statements_are_shortened_in_the_message_only() {
    let sql = format!("INSERT INTO t VALUES {}", vec!["(1)"; 200].join(", "));
    let err = check_read_only(&sql).unwrap_err();
    let GuardError::Write { statement, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(statement, &sql);
    let message = err.to_string();
    assert!(message.ends_with("…)"), "{message}");
    assert!(message.len() < 400, "{message}");
}

#[test]
fn reasons_explain_the_verdict() {
    let reason = |sql: &str| classify(sql).statements[0].reason.clone();
    assert_eq!(reason("SELECT 1"), "a query only reads data");
    assert_eq!(reason("dElEtE FROM t"), "DELETE writes data");
    assert!(reason("EXECUTE IMMEDIATE 'SELECT 1'").contains("dynamic SQL"));
    assert!(reason("SET spark.x = 1").contains("configuration"));
    assert!(reason("frobnicate").contains("could not be parsed as a known read statement"));
    assert!(reason("SELECT 'oops").contains("unterminated string literal"));
    assert!(reason("SELECT $$x$$").contains("`$`"));
    assert!(reason("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x").contains("INSERT"));
    assert!(reason("EXPLAIN ANALYZE DELETE FROM t").contains("EXPLAIN"));
    assert!(reason("SELECT TRANSFORM(a) USING 'cat' FROM t").contains("external program"));
}

#[test]
fn kinds_display_for_messages() {
    assert_eq!(StatementKind::Query.to_string(), "query");
    assert_eq!(StatementKind::Ddl.to_string(), "DDL");
    assert_eq!(
        StatementKind::ExecuteImmediate.to_string(),
        "EXECUTE IMMEDIATE"
    );
    assert_eq!(StatementKind::Other("ADD".into()).to_string(), "ADD");
    assert_eq!(StatementKind::Unknown.to_string(), "unrecognized");
}

#[test]
fn an_unsplittable_text_is_one_unknown_write_covering_everything() {
    let c = classify("SELECT 1; SELECT 'oops; DROP TABLE t");
    assert_eq!(
        c.statements,
        [Classified {
            kind: StatementKind::Unknown,
            verdict: Verdict::Write,
            text: "SELECT 1; SELECT 'oops; DROP TABLE t".to_string(),
            reason: "the text cannot be split into statements safely: unterminated string \
                     literal starting at byte 17"
                .to_string(),
        }]
    );
}

#[test]
fn comment_continuation_is_refused_when_either_reading_writes() {
    // Spark continues a `--` comment past a backslash-newline: the DROP is in the comment.
    // If Databricks did not, the DROP would run: refuse.
    let c = classify("SELECT 1 -- x \\\n; DROP TABLE t");
    assert!(!c.is_read_only());
    assert!(c.first_write().unwrap().reason.contains("backslash"));
    // Both readings are reads.
    assert!(classify("SELECT 1 -- x \\\nFROM t").is_read_only());
}

#[test]
fn explain_and_describe_nesting_is_bounded() {
    let deep = format!("{}SELECT 1", "EXPLAIN ".repeat(50));
    assert!(!classify(&deep).is_read_only());
    assert!(classify("EXPLAIN EXPLAIN SELECT 1").is_read_only());
    let deep = format!("{}SELECT 1", "DESCRIBE QUERY ".repeat(50));
    assert!(!classify(&deep).is_read_only());
}

#[test]
fn statements_too_long_for_sqlparser_are_still_classified() {
    let long_read = format!("SELECT {} FROM t", vec!["a"; 5000].join(", "));
    assert!(classify(&long_read).is_read_only());
    let long_write = format!(
        "WITH x AS (SELECT {}) INSERT INTO t SELECT * FROM x",
        vec!["a"; 5000].join(", ")
    );
    assert!(!classify(&long_write).is_read_only());
    let deep_read = format!("SELECT {}1{}", "POSITION(".repeat(40), ")".repeat(40));
    assert!(classify(&deep_read).is_read_only());
}

#[test]
fn pathological_inputs_finish_on_a_small_stack() {
    let inputs: Vec<String> = vec![
        format!("SELECT {}1", "1+".repeat(20_000)),
        format!("SELECT {}1", "NOT ".repeat(20_000)),
        format!("SELECT {}1", "(".repeat(20_000)),
        format!("SELECT {}1", "POSITION(".repeat(20)),
        format!("SELECT {}1", "(x) -> POSITION(".repeat(12)),
        format!("SELECT {}1", "INTERVAL ".repeat(40)),
        format!("SELECT {}1", "CAST(".repeat(40)),
        format!("{}SELECT 1", "DESCRIBE ".repeat(2_000)),
        format!("{}SELECT 1", "EXPLAIN ".repeat(2_000)),
        format!("SELECT 1 {}", "UNION SELECT 1 ".repeat(3_000)),
        format!("SELECT {}", "/* /* ".repeat(5_000)),
        "SELECT 1; ".repeat(10_000),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            for sql in &inputs {
                let started = std::time::Instant::now();
                let _ = classify(sql);
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(5),
                    "slow: {}",
                    &sql[..60.min(sql.len())]
                );
            }
        })
        .unwrap();
    worker.join().unwrap();
}

/// Documented limitations: conservative refusals of valid reads.
#[test]
fn known_conservative_refusals() {
    for sql in [
        // A write keyword as a name where Databricks' grammar could start a write with it
        // (after a relation: `FROM s INSERT …` is a multi-insert), or where sqlparser
        // cannot confirm the reading (FROM-first queries).
        "SELECT a FROM update",
        "FROM t SELECT update",
        "SELECT 1 insert",
        // `$` outside strings and unquoted `scheme://` paths make splitting uncertain.
        "SELECT $$text$$",
        "SELECT * FROM json.file:///tmp/x.json",
        // A word ending in `r` glued to a string whose end depends on whether it is raw.
        r"SELECT 1E+5R'\' AS x'",
        // Changing session configuration.
        "SET spark.sql.ansi.enabled = true",
        // EXPLAIN of a write, even without ANALYZE.
        "EXPLAIN INSERT INTO t VALUES (1)",
    ] {
        assert!(!classify(sql).is_read_only(), "{sql}");
    }
    // Quoted, they are reads; unquoted in a name position, too.
    assert!(classify("SELECT `update`, t.`delete` FROM t").is_read_only());
    assert!(classify("SELECT update, t.delete FROM t").is_read_only());
}

/// Databricks accepts statements up to 16 MiB: such a read is classified (in bounded time
/// and memory: the lexer keeps 12 bytes per token, nothing per whitespace), and a longer
/// text is refused with a reason.
#[test]
fn statements_up_to_sixteen_mib_are_classified() {
    let list = "1234567, ".repeat((16 * 1024 * 1024 - 64) / 9);
    let read = format!("SELECT * FROM t WHERE a IN ({list}0)");
    assert!(read.len() <= 16 * 1024 * 1024);
    let started = std::time::Instant::now();
    assert!(classify(&read).is_read_only());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let write = format!("{read}; DROP TABLE t");
    assert!(!classify(&write).is_read_only());
    let too_long = format!("SELECT '{}'", "x".repeat(16 * 1024 * 1024));
    let refused = classify(&too_long);
    assert!(!refused.is_read_only());
    assert!(
        refused.statements[0].reason.contains("16 MiB"),
        "{refused:?}"
    );
    assert!(refused.statements[0].text.len() < 1_000);
}
