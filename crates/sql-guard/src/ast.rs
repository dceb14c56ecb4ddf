//! The sqlparser side: parse one statement's canonical text with `DatabricksDialect` and
//! decide from its syntax tree whether it only reads.
//!
//! The tree can only make a verdict stricter: [`crate::classify`] calls this for statements
//! its keyword rules already consider reads, and refuses the statement if the tree says
//! otherwise (a query whose CTE is an `INSERT`, `SELECT … INTO`, a `DESCRIBE`/`EXPLAIN` of
//! a write…).

use std::ops::ControlFlow;

use sqlparser::ast::{Query, Select, Statement, Visit, Visitor};
use sqlparser::dialect::DatabricksDialect;
use sqlparser::parser::Parser;

use crate::StatementKind;

/// Longest canonical text handed to sqlparser; longer statements are classified by the
/// token rules alone.
pub(crate) const MAX_PARSE_BYTES: usize = 64 * 1024;

/// Most significant tokens handed to sqlparser. A long flat expression (`1+1+…`) builds a
/// tree as deep as it is long, and walking it costs time (sqlparser grows the stack in
/// segments rather than overflowing).
const MAX_PARSE_TOKENS: usize = 2_000;

/// sqlparser's nesting limit (its default is 50): some of its recursive functions have
/// large frames in debug builds.
const RECURSION_LIMIT: usize = 30;

/// Budget for [`parse_cost`]. sqlparser backtracks, and on some nestings
/// (`POSITION(POSITION(…`, lambdas, `CAST`, `INTERVAL`) the work grows about fourfold per
/// level; statements over budget are classified by the token rules alone, which keeps the
/// worst case to tens of milliseconds.
pub(crate) const PARSE_COST_BUDGET: u64 = 50_000;

/// An upper bound, in units of "tokens parsed", for parsing a statement: its number of
/// tokens times 4 to the power of its nesting (deepest parentheses or brackets, plus one
/// per `INTERVAL` and per lambda arrow).
pub(crate) fn parse_cost(tokens: usize, nesting: u32) -> u64 {
    if tokens > MAX_PARSE_TOKENS {
        return u64::MAX;
    }
    4u64.saturating_pow(nesting)
        .saturating_mul(u64::try_from(tokens).unwrap_or(u64::MAX))
}

/// What the syntax tree says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AstVerdict {
    /// Only reads.
    Read,
    /// Not a read; with a kind and reason when the tree gives a more precise one than the
    /// statement's leading keyword.
    Write(Option<(StatementKind, String)>),
}

/// Parses a canonical statement text. `None` when sqlparser cannot parse it (common for
/// valid Databricks syntax) or the text is too long.
pub(crate) fn parse(canonical: &str) -> Option<Vec<Statement>> {
    if canonical.len() > MAX_PARSE_BYTES {
        return None;
    }
    Parser::new(&DatabricksDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(canonical)
        .and_then(|mut parser| parser.parse_statements())
        .ok()
}

/// The verdict for one parsed statement: an explicit list of read statements, everything
/// else a write.
pub(crate) fn verdict(statement: &Statement) -> AstVerdict {
    // `EXPLAIN [ANALYZE] x` / `DESCRIBE x` is a read only when `x` is one (`EXPLAIN ANALYZE`
    // executes `x`).
    let mut statement = statement;
    let mut explained = false;
    while let Statement::Explain {
        statement: inner, ..
    } = statement
    {
        explained = true;
        statement = inner;
    }
    match statement {
        Statement::Query(query) => match nested_write(query) {
            None => AstVerdict::Read,
            Some(found) if explained => AstVerdict::Write(Some(explain_of(Some(found)))),
            Some(found) => AstVerdict::Write(Some(found)),
        },
        Statement::ExplainTable { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowProcessList { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. }
        | Statement::Use(_) => AstVerdict::Read,
        other if explained => AstVerdict::Write(Some(explain_of(precise_write_kind(other)))),
        other => AstVerdict::Write(precise_write_kind(other)),
    }
}

/// The kind and reason for an `EXPLAIN` of something that is not a read.
fn explain_of(inner: Option<(StatementKind, String)>) -> (StatementKind, String) {
    let what = inner.map_or_else(
        || "a statement that is not a read".to_string(),
        |(kind, reason)| format!("a {kind} statement ({reason})"),
    );
    (
        StatementKind::Explain,
        format!("EXPLAIN/DESCRIBE of {what} is refused: EXPLAIN ANALYZE would execute it"),
    )
}

/// Kinds the tree knows better than the leading keyword (e.g. a `WITH … INSERT`).
fn precise_write_kind(statement: &Statement) -> Option<(StatementKind, String)> {
    let (kind, reason) = match statement {
        Statement::Insert(_) => (StatementKind::Insert, "INSERT writes data"),
        Statement::Update(_) => (StatementKind::Update, "UPDATE writes data"),
        Statement::Delete(_) => (StatementKind::Delete, "DELETE writes data"),
        Statement::Merge(_) => (StatementKind::Merge, "MERGE writes data"),
        _ => return None,
    };
    Some((kind, reason.to_string()))
}

/// Finds a write anywhere inside a query: a nested statement (`WITH x AS (…) INSERT …`,
/// an `INSERT`/`UPDATE`/`DELETE`/`MERGE` set expression), `SELECT … INTO`, or a locking
/// clause.
fn nested_write(query: &Query) -> Option<(StatementKind, String)> {
    match query.visit(&mut NestedWrite) {
        ControlFlow::Break(found) => Some(found),
        ControlFlow::Continue(()) => None,
    }
}

struct NestedWrite;

impl Visitor for NestedWrite {
    type Break = (StatementKind, String);

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Self::Break> {
        // Visiting starts at the query, so every statement seen here is nested in it.
        ControlFlow::Break(precise_write_kind(statement).unwrap_or_else(|| {
            (
                StatementKind::Unknown,
                "the query contains a statement that is not a query".to_string(),
            )
        }))
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Self::Break> {
        if query.locks.is_empty() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break((
                StatementKind::Other("SELECT ... FOR UPDATE/SHARE".to_string()),
                "a locking clause (FOR UPDATE/SHARE) is not a plain read".to_string(),
            ))
        }
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Self::Break> {
        if select.into.is_some() {
            ControlFlow::Break((
                StatementKind::Ddl,
                "SELECT ... INTO creates a table".to_string(),
            ))
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn one(sql: &str) -> AstVerdict {
        let statements = parse(sql).unwrap();
        assert_eq!(statements.len(), 1, "{sql}");
        verdict(&statements[0])
    }

    #[test]
    fn reads() {
        for sql in [
            "SELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1), (2)",
            "SHOW TABLES",
            "DESCRIBE t",
            "EXPLAIN SELECT * FROM t",
            "USE CATALOG main",
            "SELECT * FROM t WHERE x IN (SELECT y FROM u)",
        ] {
            assert_eq!(one(sql), AstVerdict::Read, "{sql}");
        }
    }

    #[test]
    fn writes() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "SELECT * INTO new_t FROM t",
            "EXPLAIN ANALYZE DELETE FROM t",
            "EXPLAIN DELETE FROM t",
            "DROP TABLE t",
            "SELECT * FROM t FOR UPDATE",
        ] {
            assert!(matches!(one(sql), AstVerdict::Write(_)), "{sql}");
        }
    }
}
