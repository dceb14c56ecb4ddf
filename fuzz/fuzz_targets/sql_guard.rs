//! sql-guard: never panics, and a known write is never hidden.
//!
//! Input: byte 0 picks a write `W` of `WRITES`, bytes 1..9 a mask of which `i`/`s` letters
//! get Spark's look-alikes (`ı`, `ſ`), the rest is the text `T` (lossy UTF-8).
//! Checks:
//! - `classify`, `check_read_only` (both option sets) return, and agree;
//! - `T\n;\nW` is never read-only: whatever `T` leaves open (a string, a block comment,
//!   a hint), the guard refuses the whole text, and otherwise `W` is a statement of its
//!   own; nor is `T;\nW`, unless `T` ends in a `--` comment, which takes the `;`;
//! - look-alike letters never make a keyword more permissive: `W` spelled with them is
//!   still refused, also after `T`, and if `T` with look-alikes in its keywords is
//!   read-only, so is `T`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sql_guard::{Options, check_read_only, check_read_only_with, classify, classify_with_options};

/// Writes from crates/sql-guard/tests/corpus.txt (WRITE lines), one per statement family.
const WRITES: &[&str] = &[
    "INSERT INTO t VALUES (1)",
    "INSERT OVERWRITE TABLE t PARTITION (p = 1) SELECT * FROM s",
    "UPDATE t SET a = 1 WHERE b = 2",
    "DELETE FROM t WHERE a = 1",
    "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "DROP TABLE IF EXISTS main.default.t",
    "CREATE OR REPLACE TABLE t AS SELECT 1",
    "ALTER TABLE t SET TBLPROPERTIES ('a' = 'b')",
    "TRUNCATE TABLE t",
    "GRANT SELECT ON TABLE t TO `user@example.com`",
    "COPY INTO t FROM '/Volumes/x' FILEFORMAT = CSV",
    "OPTIMIZE t ZORDER BY (a)",
    "VACUUM t RETAIN 168 HOURS DRY RUN",
    "SET spark.sql.shuffle.partitions = 10",
    "EXECUTE IMMEDIATE 'DROP TABLE t'",
    "CALL system.proc()",
    "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
    "FROM s INSERT INTO t SELECT *",
    "SELECT * INTO new_t FROM t",
    "SELECT TRANSFORM(a) USING 'cat' AS (b) FROM t",
    "EXPLAIN ANALYZE DELETE FROM t",
    "SELECT http_request(conn => 'c', method => 'POST', path => '/x')",
    "SELECT secret('scope', 'key')",
    "REFRESH TABLE t",
];

/// Characters of a word, as the guard's lexer sees them.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

/// `text` with the `i`/`s` letters of its Spark keywords (and only those) spelled with
/// the look-alikes Spark upper-cases to `I`/`S`, where `mask` has the letter's bit set.
fn look_alike_keywords(text: &str, mask: u64) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut letter = 0u32;
    let mut rest = text;
    while let Some(start) = rest.find(is_word_char) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !is_word_char(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        if sql_guard::spark_keyword(word).is_some() {
            for c in word.chars() {
                let swap = matches!(c, 'i' | 'I' | 's' | 'S') && {
                    let bit = (mask >> (letter % 64)) & 1 == 1;
                    letter += 1;
                    bit
                };
                out.push(match (swap, c) {
                    (true, 'i' | 'I') => 'ı',
                    (true, 's' | 'S') => 'ſ',
                    _ => c,
                });
            }
        } else {
            out.push_str(word);
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (mask, text) = match rest.split_first_chunk::<8>() {
        Some((mask, text)) => (u64::from_le_bytes(*mask), text),
        None => (u64::MAX, rest),
    };
    let t = String::from_utf8_lossy(text);
    let t = t.as_ref();

    let strict = classify(t);
    let lenient = classify_with_options(
        t,
        Options {
            allow_side_effect_functions: true,
        },
    );
    assert_eq!(check_read_only(t).is_ok(), strict.is_read_only());
    assert_eq!(
        check_read_only_with(
            t,
            Options {
                allow_side_effect_functions: true
            }
        )
        .is_ok(),
        lenient.is_read_only()
    );
    // Allowing side-effect functions never refuses more.
    assert!(!strict.is_read_only() || lenient.is_read_only(), "{t:?}");

    let w = WRITES[usize::from(pick) % WRITES.len()];
    let w_alike = look_alike_keywords(w, mask);
    assert!(
        !classify(&w_alike).is_read_only(),
        "look-alike spelling of a write is read-only: {w_alike:?}"
    );
    for w in [w, w_alike.as_str()] {
        // The line break ends a `--` comment `T` leaves open, so `;` always separates.
        let separated = format!("{t}\n;\n{w}");
        assert!(
            !classify(&separated).is_read_only(),
            "a write after the text is hidden: {separated:?}"
        );
        // Here a `--` comment open on `T`'s last line takes the `;`, and `W` continues
        // `T`'s last statement instead (`SELECT 1 -- x;\nGRANT …` is one statement,
        // which Spark cannot parse): only that case may be read-only.
        let appended = format!("{t};\n{w}");
        let last_line = t.rsplit(['\n', '\r']).next().unwrap_or(t);
        assert!(
            !classify(&appended).is_read_only() || last_line.contains("--"),
            "a write after the text is hidden: {appended:?}"
        );
    }

    let t_alike = look_alike_keywords(t, mask);
    if t_alike != t {
        assert!(
            !classify(&t_alike).is_read_only() || strict.is_read_only(),
            "look-alike keywords are more permissive: {t_alike:?} is read-only, {t:?} is not"
        );
    }
});
