//! Read-only enforcement for Databricks SQL, by parsing, failing closed.
//!
//! Before any SQL reaches a warehouse, [`check_read_only`] (or [`classify`]) classifies
//! every statement of the submitted text. A text runs in read-only mode only when it has
//! at least one statement and every statement is provably a read; anything the guard does
//! not understand is a write.
//!
//! # What is a read
//!
//! | statement | verdict |
//! |---|---|
//! | `SELECT`, `WITH … SELECT`, `VALUES`, `TABLE t`, `FROM t SELECT …`, parenthesized queries | read, unless a write is nested (below) |
//! | `SHOW …` (every form) | read |
//! | `DESCRIBE`/`DESC` of a table (`EXTENDED`, `FORMATTED`, `DETAIL`, `HISTORY`), function, catalog, schema, database, volume | read |
//! | `DESCRIBE [QUERY] <query>` | read when the query is |
//! | `EXPLAIN [EXTENDED\|CODEGEN\|COST\|FORMATTED\|ANALYZE…] <statement>` | read when the explained statement is; `EXPLAIN INSERT …` is refused even without `ANALYZE` (simplest safe rule: `EXPLAIN ANALYZE` executes its statement) |
//! | `USE [CATALOG\|SCHEMA\|DATABASE] x` | read (session only) |
//! | `SET`, `SET -v` (list), `SET key` (show one value), `SET TIME ZONE …` | read (session only) |
//! | `SET key = value`, `SET VAR[IABLE] …`, `RESET` | **write** (kind [`StatementKind::Set`]): changing configuration is refused |
//! | everything else: `INSERT` (incl. `OVERWRITE`, `REPLACE WHERE`), `UPDATE`, `DELETE`, `MERGE`, `CREATE` (incl. `TEMPORARY VIEW`: session-only but still refused), `REPLACE`, `DROP`, `ALTER`, `TRUNCATE`, `RENAME`, `COMMENT ON`, `UNDROP`, `GRANT`, `REVOKE`, `DENY`, `COPY INTO`, `OPTIMIZE`, `VACUUM`, `RESTORE`, `MSCK`, `REFRESH`, `ANALYZE`, `CACHE`, `UNCACHE`, `CLEAR CACHE`, `CONVERT TO DELTA`, `FSCK`, `SYNC`, `CALL`, `EXECUTE IMMEDIATE`, `ADD JAR`, `LIST`, `DECLARE`, SQL scripting (`BEGIN … END`), unknown keywords | **write** |
//!
//! A query is refused when it contains a write anywhere: a CTE or body that is `INSERT`,
//! `UPDATE`, `DELETE` or `MERGE`, `SELECT … INTO`, `FROM t INSERT …`, a locking clause, or
//! `TRANSFORM … USING '<script>'`; and when it calls a function whose effect leaves the
//! statement ([`SIDE_EFFECT_FUNCTIONS`]: `http_request`, `reflect`, `java_method`,
//! `try_reflect`, `remote_query`, `ai_query`, `secret`, `try_secret`, or any function named
//! through `IDENTIFIER(…)`), unless [`Options::allow_side_effect_functions`] is set.
//!
//! Keywords are compared as Spark's lexer compares them: after Java's simple upper-case
//! mapping, under which `ı` is `I` and `ſ` is `S` (`ınsert` is `INSERT`). A word spelled
//! with such a look-alike letter that then is a keyword refuses its statement.
//!
//! # How
//!
//! 1. **Lexing and splitting**: a lexer that follows Spark's `SqlBaseLexer` finds strings
//!    (`'…'`, `"…"` with backslash escapes, raw `r'…'`), backquoted identifiers, `--` and
//!    nested `/* */` comments and `/*+ */` hints, and splits the text at the remaining
//!    semicolons; empty statements (`;;`, comments only) are dropped. Keywords in strings,
//!    comments and backticks never decide anything. An unterminated string, identifier or
//!    comment, `$` outside a string (dollar-quoted bodies), an unquoted `scheme://path`, or
//!    a word ending in `r` glued to a string that ends elsewhere if raw, makes the whole
//!    text one [`StatementKind::Unknown`] write: its statement boundaries are not certain.
//!    Spark continues a `--` comment past a newline that follows a backslash; when a text
//!    relies on that, it is classified both ways and refused if either reading writes.
//! 2. **Leading keyword** (parentheses skipped for queries): only `SELECT`, `WITH`,
//!    `VALUES`, `TABLE`, `FROM`, `SHOW`, `DESCRIBE`/`DESC`, `EXPLAIN`, `USE` and `SET` can
//!    start a read; every other keyword maps to a write kind without further parsing.
//!    `EXPLAIN` and `DESCRIBE QUERY` classify the statement they wrap with these same rules.
//! 3. **Token scan** of query-shaped statements (and `DESCRIBE`), the fallback when
//!    sqlparser cannot parse and a second check when it can: the words `INSERT`, `INTO`,
//!    `OVERWRITE`, `UPDATE`, `DELETE`, `MERGE` outside strings, comments, hints and
//!    backticks make the statement a write, as does `USING` followed by a string — unless
//!    each such word stands where only a name can (after `SELECT`, a comma, a dot, an
//!    operator, `AS`, `BY`, …) and sqlparser parses the statement as a read
//!    (`SELECT update FROM t`). Calls of side-effect functions are found here too.
//! 4. **sqlparser** (0.62, `DatabricksDialect`): queries that are still reads are parsed
//!    from a canonical text (comments and hints removed, string escapes neutralized, so that
//!    sqlparser's tokenizer cannot draw boundaries differently from step 1). If the tree is
//!    not on the explicit list of read statements, or nests a write anywhere (a CTE or set
//!    operand that is `INSERT`/`UPDATE`/`DELETE`/`MERGE`, `SELECT … INTO`, a locking
//!    clause), the statement is refused. When sqlparser cannot parse the statement, which is
//!    common for valid Databricks syntax (`FROM t SELECT`, `TABLE t`, `t@v1`, `DIV`, raw
//!    strings…), steps 2 and 3 alone decide. sqlparser backtracks exponentially on some
//!    nestings (`POSITION(POSITION(…`), so statements over 2,000 tokens or too deeply
//!    nested for their length skip this step.
//!
//! # Conservative refusals (known gaps)
//!
//! These valid reads are refused; the error says why, so the model can rewrite them:
//! - an unquoted identifier spelled `insert`, `into`, `overwrite`, `update`, `delete` or
//!   `merge` where a write keyword could stand (right after a relation: `SELECT a FROM
//!   update`), or in a statement sqlparser cannot parse (`FROM t SELECT update`); backquote it;
//! - any keyword spelled with a look-alike letter (`ſelect`);
//! - `$` outside strings, an unquoted `scheme://path` (use `` delta.`/path` ``), a word
//!   starting with a digit or non-ASCII letter and ending in `r` glued to a string whose
//!   end depends on whether it is raw (`1E+5R'\' …'`), a `--` comment ending in a
//!   backslash whose alternative reading writes;
//! - `EXPLAIN` of any statement that is not a read (even without `ANALYZE`), `DESCRIBE
//!   QUERY` of anything but a query;
//! - configuration changes (`SET key = value`, `SET VAR`, `RESET`) and session-only objects
//!   (`CREATE TEMPORARY VIEW`, `DECLARE VARIABLE`, `CACHE`);
//! - SQL scripting blocks (`BEGIN … END`, `IF`, `FOR`…), even if they only read.
//!
//! A user-defined function or view that wraps a side-effect function is not seen: the guard
//! classifies the text, not the catalog.
//!
//! The guard never panics, on any input, and refuses texts over Databricks' 16 MiB limit.

// What input reaches never panics the library: no unchecked indexing, `expect` or
// `panic!` outside tests (the workspace denies `unwrap`).
#![warn(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod ast;
mod keywords;
mod lexer;
pub(crate) mod rules;

pub use rules::SIDE_EFFECT_FUNCTIONS;

use std::fmt;

use lexer::{LexOptions, lex, split_statements};

/// What a statement is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `SELECT`, `WITH … SELECT`, `VALUES`, `TABLE t`, `FROM t SELECT …`.
    Query,
    /// `SHOW …`.
    Show,
    /// `DESCRIBE`/`DESC …`.
    Describe,
    /// `EXPLAIN …`.
    Explain,
    /// `USE [CATALOG|SCHEMA|DATABASE] …`: session only, a read.
    Use,
    /// `SET …` / `RESET`: listing, showing one key and `SET TIME ZONE` are reads; changing
    /// configuration or variables is refused.
    Set,
    /// `INSERT …` (or a query containing an insert).
    Insert,
    /// `UPDATE …`.
    Update,
    /// `DELETE …`.
    Delete,
    /// `MERGE …`.
    Merge,
    /// `CREATE`, `DROP`, `ALTER`, `TRUNCATE`, `RENAME`, `COMMENT ON`, `UNDROP`, `REPLACE`,
    /// `SELECT … INTO`.
    Ddl,
    /// `GRANT`, `REVOKE`, `DENY`.
    Dcl,
    /// `COPY INTO` (and `LOAD DATA`).
    Copy,
    /// `OPTIMIZE`, `VACUUM`, `RESTORE`, `MSCK`, `REFRESH`, `ANALYZE`, `CACHE`, `UNCACHE`,
    /// `CONVERT TO DELTA`, `FSCK`, `SYNC`, `REORG`, `CLEAR CACHE`.
    Maintenance,
    /// `CALL`.
    Call,
    /// `EXECUTE IMMEDIATE`.
    ExecuteImmediate,
    /// A query calling a function with effects outside the statement (`http_request`,
    /// `reflect`, …; see [`SIDE_EFFECT_FUNCTIONS`]): the function's name.
    SideEffectFunction(String),
    /// Another known statement keyword that is not a read (`ADD`, `LIST`, `BEGIN`, …).
    Other(String),
    /// Not recognized, not parseable, or not safely splittable.
    Unknown,
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StatementKind::Query => "query",
            StatementKind::Show => "SHOW",
            StatementKind::Describe => "DESCRIBE",
            StatementKind::Explain => "EXPLAIN",
            StatementKind::Use => "USE",
            StatementKind::Set => "SET",
            StatementKind::Insert => "INSERT",
            StatementKind::Update => "UPDATE",
            StatementKind::Delete => "DELETE",
            StatementKind::Merge => "MERGE",
            StatementKind::Ddl => "DDL",
            StatementKind::Dcl => "permission (DCL)",
            StatementKind::Copy => "COPY INTO",
            StatementKind::Maintenance => "table maintenance",
            StatementKind::Call => "CALL",
            StatementKind::ExecuteImmediate => "EXECUTE IMMEDIATE",
            StatementKind::SideEffectFunction(_) => "side-effect function",
            StatementKind::Other(keyword) => keyword,
            StatementKind::Unknown => "unrecognized",
        })
    }
}

/// What the read-only policy allows beyond plain reads; chosen by the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Let reads call the functions of [`SIDE_EFFECT_FUNCTIONS`] (`http_request`,
    /// `reflect`, `ai_query`, …). Off by default.
    pub allow_side_effect_functions: bool,
}

/// Whether a statement may run in read-only mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Provably only reads (data, metadata or session state).
    Read,
    /// Writes, may write, or could not be proven to be a read.
    Write,
}

/// One classified statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// What the statement is.
    pub kind: StatementKind,
    /// Whether it may run in read-only mode.
    pub verdict: Verdict,
    /// The statement's text, trimmed (comments inside it kept), for messages. For a text
    /// that cannot be split safely, the whole text.
    pub text: String,
    /// A short reason, e.g. "INSERT writes data".
    pub reason: String,
}

/// The statements of a text, in order. Empty statements (`;;`, only comments) are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    /// One entry per non-empty statement.
    pub statements: Vec<Classified>,
}

impl Classification {
    /// True when there is at least one statement and every statement is a read.
    pub fn is_read_only(&self) -> bool {
        !self.statements.is_empty() && self.first_write().is_none()
    }

    /// The first statement that is not a read.
    pub fn first_write(&self) -> Option<&Classified> {
        self.statements.iter().find(|s| s.verdict == Verdict::Write)
    }
}

/// Why [`check_read_only`] refused a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The text has no statement (empty, whitespace, semicolons or comments only).
    #[error("no SQL statement to run: the text is empty or contains only comments")]
    Empty,
    /// A statement is not a read.
    #[error("{kind} statement not allowed in read-only mode: {reason} (statement: {})", excerpt(.statement))]
    Write {
        /// What the refused statement is.
        kind: StatementKind,
        /// The refused statement's text (trimmed).
        statement: String,
        /// Why it is refused.
        reason: String,
    },
}

/// At most 200 characters of a statement, on one line.
fn excerpt(statement: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

/// The Spark keyword `word` is for Databricks, whose lexer upper-cases with Java's simple
/// case mapping (`ınsert` is `INSERT`); `None` for a word that is no keyword.
pub fn spark_keyword(word: &str) -> Option<&'static str> {
    let folded = keywords::fold(word);
    keywords::KEYWORDS
        .binary_search(&folded.as_ref())
        .ok()
        .and_then(|i| keywords::KEYWORDS.get(i).copied())
}

/// What sqlparser (Databricks dialect) says is wrong with `statement`, with its line and
/// column: for messages about statements the guard could not recognise (a typo such as
/// `SELEC 1`). `None` when it parses, or is too long to try.
pub fn syntax_error(statement: &str) -> Option<String> {
    if statement.len() > 64 * 1024 {
        return None;
    }
    sqlparser::parser::Parser::new(&sqlparser::dialect::DatabricksDialect {})
        .with_recursion_limit(30)
        .try_with_sql(statement)
        .and_then(|mut parser| parser.parse_statements())
        .err()
        .map(|e| {
            e.to_string()
                .trim_start_matches("sql parser error: ")
                .to_string()
        })
}

/// Classifies every statement of `sql` with the default (strictest) [`Options`]. Never
/// panics.
pub fn classify(sql: &str) -> Classification {
    classify_with_options(sql, Options::default())
}

/// Classifies every statement of `sql`. Never panics; bounded in time and memory (texts
/// over Databricks' 16 MiB limit are one refused statement).
pub fn classify_with_options(sql: &str, options: Options) -> Classification {
    let (primary, used_continuation) = classify_with(
        sql,
        LexOptions {
            comment_continuation: true,
        },
        options,
    );
    if used_continuation && primary.is_read_only() {
        // Spark continues a `--` comment after a trailing backslash; make sure the text is
        // also read-only if Databricks does not.
        let (mut alternative, _) = classify_with(
            sql,
            LexOptions {
                comment_continuation: false,
            },
            options,
        );
        if !alternative.is_read_only() {
            for statement in &mut alternative.statements {
                if statement.verdict == Verdict::Write {
                    statement.reason.push_str(
                        " (found when a `--` comment ending in a backslash is taken to end \
                         at the line break)",
                    );
                }
            }
            return alternative;
        }
    }
    primary
}

fn classify_with(sql: &str, lex_options: LexOptions, options: Options) -> (Classification, bool) {
    match lex(sql, lex_options) {
        Err(error) => (
            Classification {
                statements: vec![Classified {
                    kind: StatementKind::Unknown,
                    verdict: Verdict::Write,
                    text: excerpt(sql.trim()),
                    reason: format!("the text cannot be split into statements safely: {error}"),
                }],
            },
            false,
        ),
        Ok(lexed) => {
            let statements = split_statements(&lexed.tokens)
                .filter_map(|tokens| rules::classify_statement(sql, tokens, options))
                .collect();
            (Classification { statements }, lexed.used_continuation)
        }
    }
}

/// Classifies `sql` and returns the classification only when it has at least one statement
/// and every statement is a read. The error's message says what was refused and why; the
/// caller adds how an administrator enables writes.
pub fn check_read_only(sql: &str) -> Result<Classification, GuardError> {
    check_read_only_with(sql, Options::default())
}

/// [`check_read_only`] with the operator's [`Options`].
pub fn check_read_only_with(sql: &str, options: Options) -> Result<Classification, GuardError> {
    let classification = classify_with_options(sql, options);
    if classification.statements.is_empty() {
        return Err(GuardError::Empty);
    }
    if let Some(write) = classification.first_write() {
        return Err(GuardError::Write {
            kind: write.kind.clone(),
            statement: write.text.clone(),
            reason: write.reason.clone(),
        });
    }
    Ok(classification)
}
