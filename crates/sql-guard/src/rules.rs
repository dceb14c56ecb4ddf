//! Per-statement rules: the leading keyword decides which statements can be reads at all,
//! query-shaped statements are scanned for write keywords, and the sqlparser tree (when
//! it parses) can only make a read verdict stricter.

use crate::ast::{self, AstVerdict};
use crate::keywords::{fold, has_look_alike, is_keyword};
use crate::lexer::{Token, TokenKind};
use crate::{Classified, Options, StatementKind, Verdict};

/// How many `EXPLAIN`/`DESCRIBE QUERY` levels are unwrapped before giving up.
const MAX_DEPTH: usize = 8;

/// Keywords that start a query (and may follow opening parentheses).
const QUERY_STARTERS: [&str; 5] = ["SELECT", "WITH", "VALUES", "TABLE", "FROM"];

/// A verdict before it is attached to a statement's text.
struct Rule {
    kind: StatementKind,
    verdict: Verdict,
    reason: String,
}

fn read(kind: StatementKind, reason: &str) -> Rule {
    Rule {
        kind,
        verdict: Verdict::Read,
        reason: reason.to_string(),
    }
}

fn write(kind: StatementKind, reason: impl Into<String>) -> Rule {
    Rule {
        kind,
        verdict: Verdict::Write,
        reason: reason.into(),
    }
}

fn unknown() -> Rule {
    write(
        StatementKind::Unknown,
        "could not be parsed as a known read statement",
    )
}

/// Classifies one statement given its tokens (between two semicolons; whitespace and
/// comments are not tokens). `None` when it has none.
pub(crate) fn classify_statement(src: &str, tokens: &[Token], opts: Options) -> Option<Classified> {
    classify_significant(src, tokens, 0, opts)
}

/// Classifies one statement given its tokens (no semicolons).
fn classify_significant(
    src: &str,
    sig: &[Token],
    depth: usize,
    opts: Options,
) -> Option<Classified> {
    let (first, last) = (sig.first()?, sig.last()?);
    let text = src
        .get(first.start()..last.end())
        .unwrap_or("")
        .trim()
        .to_string();
    let rule = statement_rule(src, sig, depth, opts);
    Some(Classified {
        kind: rule.kind,
        verdict: rule.verdict,
        text,
        reason: rule.reason,
    })
}

fn statement_rule(src: &str, sig: &[Token], depth: usize, opts: Options) -> Rule {
    if depth > MAX_DEPTH {
        return write(StatementKind::Unknown, "EXPLAIN/DESCRIBE nested too deeply");
    }
    if let Some(refusal) = look_alike_keyword(src, sig) {
        return refusal;
    }
    if !hints_balanced(sig) {
        return write(
            StatementKind::Unknown,
            "unterminated or nested hint (`/*+ … */`)",
        );
    }
    let parens = sig.iter().take_while(|t| t.is_punct(src, '(')).count();
    let Some(lead) = sig.get(parens).filter(|t| t.kind == TokenKind::Word) else {
        return unknown();
    };
    let keyword = fold(lead.text(src)).into_owned();
    let is_query = QUERY_STARTERS.contains(&keyword.as_str());
    if parens > 0 && !is_query {
        return unknown();
    }
    let rule = match keyword.as_str() {
        _ if is_query => query_rule(src, sig, opts),
        "SHOW" => read(StatementKind::Show, "SHOW only reads metadata"),
        "USE" => read(
            StatementKind::Use,
            "USE only selects the session's current catalog or schema",
        ),
        "SET" => set_rule(src, sig),
        "EXPLAIN" => explain_rule(src, sig, depth, opts),
        "DESC" | "DESCRIBE" => describe_rule(src, sig, depth, opts),
        _ => keyword_rule(&keyword),
    };
    // Only queries go to sqlparser: `EXPLAIN`/`DESCRIBE QUERY` already classified their
    // inner query this way, and nested `EXPLAIN`s make sqlparser recurse through frames
    // large enough to overflow a thread stack.
    if rule.verdict == Verdict::Read
        && rule.kind == StatementKind::Query
        && let Some(refused) = ast_refusal(src, sig, &keyword)
    {
        return refused;
    }
    rule
}

/// The statement's sqlparser trees, when it is within the parse budget and parses.
fn parse_statement(src: &str, sig: &[Token]) -> Option<Vec<sqlparser::ast::Statement>> {
    if ast::parse_cost(sig.len(), nesting(src, sig)) > ast::PARSE_COST_BUDGET {
        return None;
    }
    ast::parse(&canonical_sql(src, sig)?)
}

/// Whether sqlparser parses the statement and every tree it gives is a read.
fn parses_as_read(src: &str, sig: &[Token]) -> bool {
    parse_statement(src, sig).is_some_and(|statements| {
        !statements.is_empty()
            && statements
                .iter()
                .all(|statement| ast::verdict(statement) == AstVerdict::Read)
    })
}

/// A word spelled with a letter that Spark upper-cases to ASCII (`ı`, `ſ`) and that then is
/// a keyword: Databricks reads `ınsert` as `INSERT`. Such spellings have no honest use, and
/// refusing them outright keeps every later rule free of the question.
fn look_alike_keyword(src: &str, sig: &[Token]) -> Option<Rule> {
    sig.iter().find_map(|token| {
        let text = token.text(src);
        if token.kind != TokenKind::Word || !has_look_alike(text) {
            return None;
        }
        let folded = fold(text);
        is_keyword(&folded).then(|| {
            write(
                StatementKind::Unknown,
                format!(
                    "the word `{text}` uses a look-alike letter (dotless ı or long ſ) that \
                     Databricks reads as the keyword {folded}; spell keywords in ASCII"
                ),
            )
        })
    })
}

/// Parses the statement with sqlparser and returns a refusal if its tree is not a read.
/// A statement sqlparser cannot parse keeps the token rules' verdict.
fn ast_refusal(src: &str, sig: &[Token], keyword: &str) -> Option<Rule> {
    let statements = parse_statement(src, sig)?;
    statements
        .iter()
        .find_map(|statement| match ast::verdict(statement) {
            AstVerdict::Read => None,
            AstVerdict::Write(Some((kind, reason))) => Some(write(kind, reason)),
            AstVerdict::Write(None) => Some(match keyword_rule(keyword) {
                rule if rule.kind == StatementKind::Unknown => write(
                    StatementKind::Unknown,
                    "sqlparser reads this statement as something other than a query",
                ),
                rule => rule,
            }),
        })
}

/// The nesting measure of [`ast::parse_cost`]: deepest parentheses/brackets, plus one per
/// `INTERVAL` and per `->`.
fn nesting(src: &str, sig: &[Token]) -> u32 {
    let (mut depth, mut deepest, mut extra) = (0u32, 0u32, 0u32);
    for (i, token) in sig.iter().enumerate() {
        if token.is_punct(src, '(') || token.is_punct(src, '[') {
            depth = depth.saturating_add(1);
            deepest = deepest.max(depth);
        } else if token.is_punct(src, ')') || token.is_punct(src, ']') {
            depth = depth.saturating_sub(1);
        } else if token.is_word(src, "INTERVAL")
            || (token.is_punct(src, '-')
                && sig
                    .get(i + 1)
                    .is_some_and(|next| next.start() == token.end() && next.is_punct(src, '>')))
        {
            extra = extra.saturating_add(1);
        }
    }
    deepest.saturating_add(extra)
}

/// `SELECT`, `WITH`, `VALUES`, `TABLE`, `FROM` (Databricks accepts `FROM t SELECT …`), maybe
/// after opening parentheses: a read unless a write keyword appears outside strings,
/// comments and backticks in a place where it can be one, or a function with side effects
/// is called.
fn query_rule(src: &str, sig: &[Token], opts: Options) -> Rule {
    if !opts.allow_side_effect_functions
        && let Some(refusal) = side_effect_call(src, sig)
    {
        return refusal;
    }
    match write_marker(src, sig) {
        Some(refusal) => refusal,
        None => read(StatementKind::Query, "a query only reads data"),
    }
}

/// Functions whose effect leaves the statement, refused in read-only mode unless the
/// operator allows them (`Options::allow_side_effect_functions`):
/// - `http_request`: sends an HTTP request (any method) through a Unity Catalog
///   connection: a write elsewhere, and a way to carry data out;
/// - `reflect`, `java_method`, `try_reflect`: call arbitrary static Java methods;
/// - `remote_query`: runs a query text on an external database through Lakehouse
///   Federation, which may write there;
/// - `ai_query`: sends rows to a Model Serving endpoint, which may be an external
///   model provider (data leaves the workspace; each call is billed);
/// - `secret`, `try_secret`: return a secret's value, which a read has no business
///   putting in a result an assistant sees.
pub const SIDE_EFFECT_FUNCTIONS: [&str; 8] = [
    "http_request",
    "reflect",
    "java_method",
    "try_reflect",
    "remote_query",
    "ai_query",
    "secret",
    "try_secret",
];

/// A call of a function in [`SIDE_EFFECT_FUNCTIONS`] (by its last name part, quoted or
/// not, however cased), or a call through `IDENTIFIER(…)(…)`, whose function name is an
/// expression the guard cannot check.
fn side_effect_call(src: &str, sig: &[Token]) -> Option<Rule> {
    let mut in_hint = false;
    for (i, token) in sig.iter().enumerate() {
        match token.kind {
            TokenKind::HintStart => in_hint = true,
            TokenKind::HintEnd => in_hint = false,
            _ => {}
        }
        let called = sig.get(i + 1).is_some_and(|next| next.is_punct(src, '('));
        if in_hint || !called {
            continue;
        }
        let name = match token.kind {
            TokenKind::Word => fold(token.text(src)).to_ascii_lowercase(),
            TokenKind::QuotedIdent => {
                let text = token.text(src);
                let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                fold(&inner.replace("``", "`")).to_ascii_lowercase()
            }
            _ => continue,
        };
        if name == "identifier"
            && token.kind == TokenKind::Word
            && closing_paren(src, sig, i + 1)
                .and_then(|close| sig.get(close + 1))
                .is_some_and(|t| t.is_punct(src, '('))
        {
            return Some(write(
                StatementKind::SideEffectFunction("IDENTIFIER(…)".to_string()),
                "a function named through IDENTIFIER(…) cannot be checked for side effects \
                 in read-only mode; call the function by its name",
            ));
        }
        if SIDE_EFFECT_FUNCTIONS.contains(&name.as_str()) {
            return Some(write(
                StatementKind::SideEffectFunction(name.clone()),
                format!(
                    "{name}() has effects outside the statement (it can send data out of \
                     the workspace or change things elsewhere), so it is refused in read-only \
                     mode; an administrator can allow it with --allow-side-effect-functions"
                ),
            ));
        }
    }
    None
}

/// The index of the `)` that closes the `(` at `open`.
fn closing_paren(src: &str, sig: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, token) in sig.iter().enumerate().skip(open) {
        if token.is_punct(src, '(') {
            depth += 1;
        } else if token.is_punct(src, ')') {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// Finds a keyword that makes a query-shaped statement write: `INSERT`, `INTO` (`SELECT …
/// INTO`, `FROM t INSERT INTO …`), `OVERWRITE`, `UPDATE`, `DELETE`, `MERGE` (also in CTEs),
/// or `USING '<script>'` (`TRANSFORM … USING` runs an external program). Hints (already
/// checked to be balanced) are skipped.
///
/// These words are not reserved, so `SELECT update, delete FROM t` is a valid read. When
/// every such word stands where only an expression or a name can (after `SELECT`, a comma,
/// a dot, an operator, `AS`, `BY`…: never where Databricks' grammar puts a write keyword,
/// which is the start of a statement or of a multi-insert body, right after a relation or
/// a CTE's `)`), and sqlparser reads the whole statement as a query, they are names.
fn write_marker(src: &str, sig: &[Token]) -> Option<Rule> {
    let mut in_hint = false;
    let mut first_refusal = None;
    for (i, token) in sig.iter().enumerate() {
        // Hint content (`/*+ MERGE(t) */` is a join hint) is hint names and parameters.
        match token.kind {
            TokenKind::HintStart => in_hint = true,
            TokenKind::HintEnd => in_hint = false,
            _ => {}
        }
        if in_hint || token.kind != TokenKind::Word {
            continue;
        }
        let word = fold(token.text(src)).into_owned();
        let kind = match word.as_str() {
            "INSERT" | "INTO" | "OVERWRITE" => StatementKind::Insert,
            "UPDATE" => StatementKind::Update,
            "DELETE" => StatementKind::Delete,
            "MERGE" => StatementKind::Merge,
            "USING"
                if sig
                    .get(i + 1)
                    .is_some_and(|t| matches!(t.kind, TokenKind::String { .. })) =>
            {
                return Some(write(
                    StatementKind::Other("TRANSFORM".to_string()),
                    "TRANSFORM ... USING '<script>' runs an external program",
                ));
            }
            _ => continue,
        };
        let refusal = || {
            write(
                kind.clone(),
                format!(
                    "the keyword {word} appears outside strings and comments where it could \
                     start a write, so this statement may write data (quote an identifier \
                     named {word} with backticks)"
                ),
            )
        };
        let previous = i.checked_sub(1).and_then(|p| sig.get(p));
        if !previous.is_some_and(|p| name_position_after(src, p)) {
            return Some(refusal());
        }
        if first_refusal.is_none() {
            first_refusal = Some(refusal());
        }
    }
    // Every marker stands where a name can: the tree decides.
    match first_refusal {
        Some(refusal) if !parses_as_read(src, sig) => Some(refusal),
        _ => None,
    }
}

/// Whether a word after `previous` can only be an expression or a name, never a keyword
/// that starts a write.
fn name_position_after(src: &str, previous: &Token) -> bool {
    const BEFORE_NAMES: [&str; 16] = [
        "SELECT", "DISTINCT", "ALL", "AS", "BY", "WHERE", "AND", "OR", "NOT", "ON", "WHEN", "THEN",
        "ELSE", "CASE", "HAVING", "IS",
    ];
    match previous.kind {
        TokenKind::Word => BEFORE_NAMES.iter().any(|k| previous.is_word(src, k)),
        TokenKind::Punct => previous.text(src).starts_with([
            ',', '.', '(', '=', '<', '>', '+', '-', '*', '/', '%', '|', '&', '^', '!', '~',
        ]),
        _ => false,
    }
}

/// `SET`: listing (`SET`, `SET -v`), showing one value (`SET key`) and `SET TIME ZONE` are
/// session-only reads; `SET key = value`, `SET VAR[IABLE] …` and anything else are refused.
fn set_rule(src: &str, sig: &[Token]) -> Rule {
    let rest = sig.get(1..).unwrap_or_default();
    match rest {
        [] => return read(StatementKind::Set, "SET lists the session configuration"),
        [dash, v] if dash.is_punct(src, '-') && v.is_word(src, "v") => {
            return read(StatementKind::Set, "SET -v lists the session configuration");
        }
        [time, zone, ..] if time.is_word(src, "TIME") && zone.is_word(src, "ZONE") => {
            return read(
                StatementKind::Set,
                "SET TIME ZONE only changes how this session renders timestamps",
            );
        }
        _ => {}
    }
    // Spark matches `SET key = value` on the statement's raw text (comments included) with
    // a key made of letters, digits, `_`, `.`, `:`, `\` and spaces: a comment cannot hide
    // the `=` of an assignment, since `/` and `-` end the key. A key that is only words and
    // dots, with no `=`, shows a value.
    let plain_key = rest.first().is_some_and(|t| {
        t.kind == TokenKind::Word && !t.is_word(src, "VAR") && !t.is_word(src, "VARIABLE")
    }) && rest
        .iter()
        .all(|t| t.kind == TokenKind::Word || t.is_punct(src, '.'));
    if plain_key {
        read(
            StatementKind::Set,
            "SET <key> shows one configuration value",
        )
    } else {
        write(
            StatementKind::Set,
            "SET changes the session configuration or variables",
        )
    }
}

/// `EXPLAIN [EXTENDED|CODEGEN|COST|FORMATTED|LOGICAL|VERBOSE|ANALYZE] <statement>`: a read
/// only when the explained statement is one (`EXPLAIN ANALYZE` executes it).
fn explain_rule(src: &str, sig: &[Token], depth: usize, opts: Options) -> Rule {
    let mut j = 1;
    while let Some(token) = sig.get(j) {
        let is_modifier = [
            "EXTENDED",
            "CODEGEN",
            "COST",
            "FORMATTED",
            "LOGICAL",
            "VERBOSE",
        ]
        .iter()
        .any(|m| token.is_word(src, m));
        // `EXPLAIN ANALYZE TABLE t …` could explain `ANALYZE TABLE`: then ANALYZE stays.
        let is_analyze = token.is_word(src, "ANALYZE")
            && !sig
                .get(j + 1)
                .is_some_and(|t| t.is_word(src, "TABLE") || t.is_word(src, "TABLES"));
        if !(is_modifier || is_analyze) {
            break;
        }
        j += 1;
    }
    let inner = sig.get(j..).unwrap_or_default();
    match classify_significant(src, inner, depth + 1, opts) {
        None => write(StatementKind::Explain, "EXPLAIN without a statement"),
        Some(inner) if inner.verdict == Verdict::Read => read(
            StatementKind::Explain,
            "EXPLAIN of a read statement only reads",
        ),
        Some(inner) => write(
            StatementKind::Explain,
            format!(
                "EXPLAIN is allowed only for read statements (EXPLAIN ANALYZE would execute \
                 it), and the explained {} statement is not: {}",
                inner.kind, inner.reason
            ),
        ),
    }
}

/// `DESCRIBE`/`DESC` of a table, function, catalog, schema, volume, `DETAIL`, `HISTORY`…
/// is a read; `DESCRIBE [QUERY] <query>` is a read when the query is.
fn describe_rule(src: &str, sig: &[Token], depth: usize, opts: Options) -> Rule {
    let Some(next) = sig.get(1) else {
        return unknown();
    };
    let query_from = if next.is_word(src, "QUERY") {
        Some(2)
    } else if ["SELECT", "WITH", "VALUES", "FROM"]
        .iter()
        .any(|k| next.is_word(src, k))
        || next.is_punct(src, '(')
    {
        Some(1)
    } else {
        None
    };
    let Some(from) = query_from else {
        return match write_marker(src, sig) {
            Some(refusal) => refusal,
            None => read(StatementKind::Describe, "DESCRIBE only reads metadata"),
        };
    };
    let inner = sig.get(from..).unwrap_or_default();
    match classify_significant(src, inner, depth + 1, opts) {
        Some(inner) if inner.verdict == Verdict::Read && inner.kind == StatementKind::Query => {
            read(
                StatementKind::Describe,
                "DESCRIBE QUERY of a read query only reads",
            )
        }
        Some(inner) => write(
            StatementKind::Describe,
            format!(
                "DESCRIBE QUERY is allowed only for read queries: {}",
                inner.reason
            ),
        ),
        None => unknown(),
    }
}

/// Whether every `/*+` is closed by a `*/` before the next `/*+`.
fn hints_balanced(sig: &[Token]) -> bool {
    let mut in_hint = false;
    for token in sig {
        match token.kind {
            TokenKind::HintStart if in_hint => return false,
            TokenKind::HintStart => in_hint = true,
            TokenKind::HintEnd => in_hint = false,
            _ => {}
        }
    }
    !in_hint
}

/// Statements that cannot be reads, by leading keyword.
fn keyword_rule(keyword: &str) -> Rule {
    use StatementKind as K;
    match keyword {
        "INSERT" => write(K::Insert, "INSERT writes data"),
        "UPDATE" => write(K::Update, "UPDATE writes data"),
        "DELETE" => write(K::Delete, "DELETE writes data"),
        "MERGE" => write(K::Merge, "MERGE writes data"),
        "TRUNCATE" => write(K::Ddl, "TRUNCATE deletes all rows of a table"),
        "CREATE" | "DROP" | "ALTER" | "RENAME" | "REPLACE" | "UNDROP" => write(
            K::Ddl,
            format!("{keyword} creates, changes or removes catalog objects"),
        ),
        "COMMENT" => write(K::Ddl, "COMMENT ON changes object metadata"),
        "GRANT" | "REVOKE" | "DENY" => write(K::Dcl, format!("{keyword} changes permissions")),
        "COPY" | "LOAD" | "UNLOAD" => write(K::Copy, format!("{keyword} loads or exports data")),
        "OPTIMIZE" | "VACUUM" | "RESTORE" | "MSCK" | "REFRESH" | "ANALYZE" | "FSCK" | "REORG"
        | "CONVERT" | "SYNC" | "CACHE" | "UNCACHE" | "CLEAR" | "REPAIR" | "GENERATE" => write(
            K::Maintenance,
            format!("{keyword} changes table data, metadata or caches"),
        ),
        "CALL" => write(K::Call, "CALL runs a procedure, which may change data"),
        "EXECUTE" | "EXEC" => write(
            K::ExecuteImmediate,
            "EXECUTE IMMEDIATE runs dynamic SQL, which cannot be checked",
        ),
        "RESET" => write(K::Set, "RESET changes the session configuration"),
        "ADD" | "LIST" | "GET" | "PUT" | "REMOVE" | "BEGIN" | "START" | "COMMIT" | "ROLLBACK"
        | "DECLARE" | "IF" | "FOR" | "WHILE" | "LOOP" | "REPEAT" | "CASE" | "LEAVE" | "ITERATE"
        | "SIGNAL" | "RESIGNAL" | "RETURN" | "KILL" | "LOCK" | "UNLOCK" | "EXPORT" | "IMPORT"
        | "DFS" | "APPLY" => write(
            K::Other(keyword.to_string()),
            format!("{keyword} is not a read statement"),
        ),
        _ => unknown(),
    }
}

/// The statement rewritten for sqlparser so that its tokenizer cannot draw boundaries
/// differently from [`crate::lexer`]: comments become spaces, hints are dropped, string
/// literals lose their escapes and raw prefixes (quotes and backslashes inside become `_`)
/// and backquoted identifiers lose inner backticks. `None` for an unterminated hint.
fn canonical_sql(src: &str, sig: &[Token]) -> Option<String> {
    let mut out = String::with_capacity(src.len().min(ast::MAX_PARSE_BYTES + 1));
    let mut previous_end = None;
    let mut in_hint = false;
    for token in sig {
        let gap = previous_end.is_some_and(|end| end != token.start());
        previous_end = Some(token.end());
        if in_hint {
            match token.kind {
                TokenKind::HintStart => return None,
                TokenKind::HintEnd => {
                    in_hint = false;
                    out.push(' ');
                }
                _ => {}
            }
            continue;
        }
        let text = token.text(src);
        // Keep apart characters that sqlparser would join into a comment marker (`*/*`,
        // `//`); they are separate tokens for Databricks too.
        let joins = out.ends_with(['/', '*', '-']) && text.starts_with(['/', '*', '-']);
        if gap || joins {
            out.push(' ');
        }
        match token.kind {
            TokenKind::HintStart => in_hint = true,
            TokenKind::String { quote, raw } => {
                let body = text.get(if raw { 2 } else { 1 }..text.len().saturating_sub(1))?;
                push_sanitized(&mut out, char::from(quote), body);
            }
            // sqlparser compares keywords in ASCII: give it Spark's reading of the word.
            TokenKind::Word => out.push_str(&fold(text)),
            TokenKind::QuotedIdent => {
                push_sanitized(&mut out, '`', text.get(1..text.len().saturating_sub(1))?);
            }
            _ => out.push_str(text),
        }
        if out.len() > ast::MAX_PARSE_BYTES {
            return None;
        }
    }
    (!in_hint).then_some(out)
}

fn push_sanitized(out: &mut String, quote: char, body: &str) {
    out.push(quote);
    out.extend(body.chars().map(|c| {
        if matches!(c, '\'' | '"' | '\\' | '`') {
            '_'
        } else {
            c
        }
    }));
    out.push(quote);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::lexer::{LexOptions, lex};

    fn canonical(src: &str) -> Option<String> {
        let lexed = lex(
            src,
            LexOptions {
                comment_continuation: true,
            },
        )
        .unwrap();
        canonical_sql(src, &lexed.tokens)
    }

    #[test]
    fn canonical_text_removes_comments_hints_and_escapes() {
        assert_eq!(
            canonical("SELECT /*+ BROADCAST(t) */ a/*c*/b -- x\n FROM t").unwrap(),
            "SELECT   A B FROM T"
        );
        assert_eq!(
            canonical(r#"SELECT 'it\'s', r'\d', "a\"b", `x``y`"#).unwrap(),
            r#"SELECT 'it__s', '_d', "a__b", `x__y`"#
        );
        assert_eq!(canonical("SELECT /*+ x"), None);
    }
}
