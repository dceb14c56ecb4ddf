//! Databricks SQL → DataFusion: rewrites of the parsed statement (sqlparser's Databricks
//! dialect) so that DataFusion plans it with Databricks semantics.
//!
//! - Spark functions DataFusion lacks or names differently: `if`/`iff`, `count_if`,
//!   `collect_list`/`collect_set`, `approx_count_distinct`, `explode`, `first`/`last`,
//!   `size`, `array`, `lcase`/`ucase`, `len`, `rand`, `std`, `any`/`some`/`every`,
//!   `regexp_replace` (all matches), `rlike`, `locate`, `try_divide`, `percentile_approx`,
//!   cast functions (`date(x)`, `int(x)`, ...), `current_catalog()` / `current_schema()` /
//!   `current_user()`; the others are UDFs (`functions.rs`).
//! - Operators: `RLIKE`/`REGEXP`, `DIV` (integral division), `/` (always fractional, as in
//!   Spark: `7 / 2` is 3.5).
//! - Named parameter markers `:name` bound to typed literals (never spliced as text).
//! - Time travel (`VERSION AS OF`, `TIMESTAMP AS OF`): the table reference is replaced by a
//!   synthetic name the engine binds to that Delta version.
//! - Result column names: an unaliased expression of the outer SELECT is named by its SQL
//!   text as Databricks does (`count(*)`, not DataFusion's `count(Int64(1))`).
//! - Refused with a message naming the construct: `LATERAL VIEW`, positional `?` markers,
//!   `datediff`/`dateadd` with a unit argument, table-valued time travel forms other than
//!   `VERSION AS OF`/`TIMESTAMP AS OF`.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CastKind, DataType as SqlDataType, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, SelectItem,
    SetExpr, Statement, TableAlias, TableFactor, TableVersion, TimezoneInfo, Value, VisitMut,
    VisitorMut,
};
use datafusion::sql::sqlparser::dialect::{DatabricksDialect, Dialect};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::SqlError;
use crate::functions::{NONZERO, PROMOTE_INT};

/// Catalog name of the synthetic time-travel tables.
pub(crate) const TIME_TRAVEL_CATALOG: &str = "__local_time_travel";
pub(crate) const TIME_TRAVEL_SCHEMA: &str = "v";

/// A bound value of a named parameter marker.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub value: Option<String>,
    /// SQL type text; `None` = STRING.
    pub type_: Option<String>,
}

/// What the rewrite needs to know about the session.
#[derive(Debug, Clone, Default)]
pub(crate) struct RewriteContext {
    pub params: HashMap<String, Param>,
    pub current_catalog: String,
    pub current_schema: String,
    pub current_user: String,
    /// Unity Catalog SQL functions, keyed `catalog.schema.name` (lower case).
    pub functions: HashMap<String, crate::sqlfn::SqlFunction>,
}

/// How a time-travel reference picks its version.
#[derive(Debug, Clone)]
pub(crate) enum VersionSpec {
    Version(i64),
    Timestamp(Box<Expr>),
}

/// A `FROM t VERSION AS OF ...` reference, renamed to `__local_time_travel.v.<synthetic>`.
#[derive(Debug, Clone)]
pub(crate) struct TimeTravelRef {
    /// Name parts as written (unquoted identifiers lower-cased).
    pub parts: Vec<String>,
    pub spec: VersionSpec,
    pub synthetic: String,
}

/// Databricks SQL as sqlparser's [`DatabricksDialect`] parses it, plus what Spark accepts
/// and that dialect lacks: backslash escapes in string literals (`'\\d'` is `\d`) and the
/// `DIV` integral-division operator. It reports itself as `DatabricksDialect`, so every
/// dialect-specific branch of the parser behaves as for Databricks.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LocalDialect(DatabricksDialect);

impl Dialect for LocalDialect {
    fn dialect(&self) -> std::any::TypeId {
        self.0.dialect()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }
    fn supports_numeric_prefix(&self) -> bool {
        self.0.supports_numeric_prefix()
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        self.0.supports_filter_during_aggregation()
    }
    fn supports_group_by_expr(&self) -> bool {
        self.0.supports_group_by_expr()
    }
    fn supports_table_versioning(&self) -> bool {
        self.0.supports_table_versioning()
    }
    fn supports_lambda_functions(&self) -> bool {
        self.0.supports_lambda_functions()
    }
    fn supports_select_wildcard_except(&self) -> bool {
        self.0.supports_select_wildcard_except()
    }
    fn require_interval_qualifier(&self) -> bool {
        self.0.require_interval_qualifier()
    }
    fn supports_struct_literal(&self) -> bool {
        self.0.supports_struct_literal()
    }
    fn supports_nested_comments(&self) -> bool {
        self.0.supports_nested_comments()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        self.0.supports_group_by_with_modifier()
    }
    fn supports_values_as_table_factor(&self) -> bool {
        self.0.supports_values_as_table_factor()
    }
    fn supports_optimize_table(&self) -> bool {
        self.0.supports_optimize_table()
    }
    fn supports_bang_not_operator(&self) -> bool {
        self.0.supports_bang_not_operator()
    }
    fn supports_cte_without_as(&self) -> bool {
        self.0.supports_cte_without_as()
    }
    fn supports_select_item_multi_column_alias(&self) -> bool {
        self.0.supports_select_item_multi_column_alias()
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        let is_div = matches!(
            &parser.peek_token_ref().token,
            Token::Word(w) if w.keyword == Keyword::DIV && w.quote_style.is_none()
        );
        if !is_div {
            return None;
        }
        parser.next_token();
        Some(
            parser
                .parse_subexpr(precedence)
                .map(|right| Expr::BinaryOp {
                    left: Box::new(expr.clone()),
                    op: BinaryOperator::MyIntegerDivide,
                    right: Box::new(right),
                }),
        )
    }
}

pub(crate) fn parse_statements(sql: &str) -> Result<Vec<Statement>, SqlError> {
    Parser::new(&LocalDialect::default())
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| SqlError::parse(parse_message(&e.to_string())))
}

fn parse_message(e: &str) -> String {
    let e = e.strip_prefix("sql parser error: ").unwrap_or(e);
    format!("Syntax error: {e}.")
}

/// Parses one SQL expression.
pub(crate) fn parse_expr(src: &str) -> Result<Expr, SqlError> {
    let dialect = LocalDialect::default();
    let mut p = Parser::new(&dialect)
        .try_with_sql(src)
        .map_err(|e| SqlError::parse(parse_message(&e.to_string())))?;
    let e = p
        .parse_expr()
        .map_err(|e| SqlError::parse(parse_message(&e.to_string())))?;
    if p.peek_token().token != Token::EOF {
        return Err(SqlError::parse(format!(
            "Syntax error: unexpected text after the expression `{e}`."
        )));
    }
    Ok(e)
}

/// Parses an SQL expression template where `__a0`, `__a1`, ... stand for `args`.
fn template(src: &str, args: &[Expr]) -> Result<Expr, SqlError> {
    let mut e = Parser::new(&LocalDialect::default())
        .try_with_sql(src)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| SqlError::internal(format!("bad rewrite template {src}: {e}")))?;
    struct Subst<'a>(&'a [Expr]);
    impl VisitorMut for Subst<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Identifier(id) = expr
                && let Some(n) = id.value.strip_prefix("__a")
                && let Ok(i) = n.parse::<usize>()
                && let Some(a) = self.0.get(i)
            {
                *expr = a.clone();
            }
            ControlFlow::Continue(())
        }
    }
    let _ = e.visit(&mut Subst(args));
    Ok(e)
}

fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_ascii_lowercase()
    }
}

pub(crate) fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(id) => ident_name(id),
            ObjectNamePart::Function(f) => f.to_string(),
        })
        .collect()
}

/// The type a Spark cast function (`int(x)`, `date(x)`, …) casts to.
fn cast_function_type(name: &str) -> &'static str {
    match name {
        "int" => "INT",
        "bigint" => "BIGINT",
        "smallint" => "SMALLINT",
        "tinyint" => "TINYINT",
        "double" => "DOUBLE",
        "float" => "FLOAT",
        "boolean" => "BOOLEAN",
        "binary" => "BINARY",
        "decimal" => "DECIMAL(10,0)",
        "date" => "DATE",
        "timestamp" => "TIMESTAMP",
        _ => "STRING",
    }
}

/// `decode(expr, search1, result1, …[, default])` as a CASE over `n` arguments.
fn decode_template(n: usize) -> String {
    let mut src = String::from("CASE __a0");
    for k in 0..(n - 1) / 2 {
        src.push_str(&format!(" WHEN __a{} THEN __a{}", 1 + 2 * k, 2 + 2 * k));
    }
    if (n - 1) % 2 == 1 {
        src.push_str(&format!(" ELSE __a{}", n - 1));
    }
    src.push_str(" END");
    src
}

/// The DataFusion name of a Spark function that differs only by name.
fn renamed_function(name: &str, n: usize) -> Option<&'static str> {
    match name {
        "first" | "first_value" if n >= 1 => Some("first_value"),
        "last" | "last_value" if n >= 1 => Some("last_value"),
        "std" => Some("stddev"),
        "lcase" => Some("lower"),
        "ucase" => Some("upper"),
        "len" | "char_length" | "character_length" => Some("length"),
        "rand" | "random" => Some("random"),
        "sign" => Some("signum"),
        "array" => Some("make_array"),
        "any" | "some" | "bool_or" => Some("bool_or"),
        "every" | "bool_and" => Some("bool_and"),
        "explode" => Some("unnest"),
        "ceiling" => Some("ceil"),
        "power" | "pow" => Some("power"),
        "startswith" => Some("starts_with"),
        "endswith" => Some("ends_with"),
        _ => None,
    }
}

fn function_name(f: &Function) -> Option<String> {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => Some(id.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// Plain positional arguments of a call; `None` for named arguments, `*`, or subqueries.
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    match &f.args {
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect(),
        FunctionArguments::Subquery(_) => None,
    }
}

fn is_distinct(f: &Function) -> bool {
    matches!(&f.args, FunctionArguments::List(l) if l.duplicate_treatment.is_some())
}

fn rename(f: &mut Function, to: &str) {
    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
}

fn string_lit(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.to_string()).into())
}

fn wrong_args(name: &str, expected: &str, got: usize) -> SqlError {
    SqlError::new(
        "WRONG_NUM_ARGS",
        "42605",
        format!("The `{name}` requires {expected} parameters but the actual number is {got}."),
    )
}

/// Matches the arguments of a call of a SQL function to its parameters, by position or
/// by name; a parameter that no argument fills stays `None`.
fn bind_arguments(
    f: &Function,
    params: &[crate::sqlfn::Parameter],
    quoted: &str,
) -> Result<Vec<Option<Expr>>, SqlError> {
    let mut bound: Vec<Option<Expr>> = vec![None; params.len()];
    let list = match &f.args {
        FunctionArguments::List(l) => l.args.clone(),
        FunctionArguments::None => Vec::new(),
        FunctionArguments::Subquery(_) => {
            return Err(SqlError::unsupported(format_args!(
                "a subquery as the argument of {quoted}"
            )));
        }
    };
    let mut position = 0;
    for a in list {
        let (name, arg) = match a {
            FunctionArg::Unnamed(arg) => (None, arg),
            FunctionArg::Named { name, arg, .. } => (Some(name.value), arg),
            FunctionArg::ExprNamed { name, arg, .. } => (Some(name.to_string()), arg),
        };
        let FunctionArgExpr::Expr(e) = arg else {
            return Err(SqlError::unsupported(format_args!(
                "`*` as an argument of {quoted}"
            )));
        };
        let i = match name {
            None => {
                let i = position;
                position += 1;
                i
            }
            Some(n) => params
                .iter()
                .position(|p| p.name.eq_ignore_ascii_case(&n))
                .ok_or_else(|| {
                    SqlError::new(
                        "UNRECOGNIZED_PARAMETER_NAME",
                        "4274K",
                        format!("Cannot invoke routine {quoted} because the call included a named argument reference for the argument named `{n}`, but the routine does not have a parameter with that name."),
                    )
                })?,
        };
        let Some(slot) = bound.get_mut(i) else {
            return Err(wrong_args(quoted, &params.len().to_string(), i + 1));
        };
        *slot = Some(e);
    }
    Ok(bound)
}

/// Each bound argument cast to its parameter's type, as Databricks converts arguments;
/// every parameter is required.
fn typed_arguments(
    params: &[crate::sqlfn::Parameter],
    bound: Vec<Option<Expr>>,
    quoted: &str,
) -> Result<Vec<Expr>, SqlError> {
    let mut args = Vec::with_capacity(params.len());
    for (p, b) in params.iter().zip(bound) {
        let Some(e) = b else {
            return Err(SqlError::new(
                "REQUIRED_PARAMETER_NOT_FOUND",
                "4274K",
                format!(
                    "Cannot invoke routine {quoted} because the parameter named `{}` is required, but the routine call did not supply a value.",
                    p.name
                ),
            ));
        };
        args.push(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(Expr::Nested(Box::new(e))),
            data_type: parse_type(&p.type_)?,
            array: false,
            format: None,
        });
    }
    Ok(args)
}

/// Replaces every reference to a parameter in a function's body by its argument.
fn substitute_parameters(body: &mut Expr, params: &[crate::sqlfn::Parameter], args: &[Expr]) {
    struct Bind<'a>(&'a [crate::sqlfn::Parameter], &'a [Expr]);
    impl VisitorMut for Bind<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::Identifier(id) = expr
                && let Some(i) = self
                    .0
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(&id.value))
                && let Some(a) = self.1.get(i)
            {
                *expr = a.clone();
            }
            ControlFlow::Continue(())
        }
    }
    let _ = body.visit(&mut Bind(params, args));
}

/// A call of a built-in function, as the rewrite rules of [`Rewriter::function`] see it.
struct Call<'a> {
    /// The lowercase function name.
    name: &'a str,
    /// Plain positional arguments; `None` for named arguments, `*`, or subqueries.
    args: Option<Vec<Expr>>,
    function: &'a Function,
}

impl Call<'_> {
    /// The number of plain arguments (0 when they are not plain).
    fn n(&self) -> usize {
        self.args.as_ref().map_or(0, Vec::len)
    }

    /// Exactly `want` plain arguments, else Databricks' WRONG_NUM_ARGS.
    fn need(&self, want: usize) -> Result<Vec<Expr>, SqlError> {
        match &self.args {
            Some(a) if a.len() == want => Ok(a.clone()),
            _ => Err(wrong_args(self.name, &want.to_string(), self.n())),
        }
    }

    /// The plain arguments, for a rule whose guard already checked their number.
    fn all_args(&self) -> Vec<Expr> {
        self.args.clone().unwrap_or_default()
    }

    /// Gives a rewritten aggregate the call's `OVER` clause, so that a window stays one.
    fn keep_over(&self, mut e: Expr) -> Expr {
        if let Expr::Function(g) = &mut e {
            g.over = self.function.over.clone();
        }
        e
    }
}

/// The signature of a family of rewrite rules: `Ok(None)` when the name is not one of
/// the family's (or its number of arguments is not).
type Rules = fn(&Call) -> Result<Option<Expr>, SqlError>;

/// Spark aggregates that DataFusion spells differently.
fn aggregate_rules(call: &Call) -> Result<Option<Expr>, SqlError> {
    let n = call.n();
    Ok(Some(match call.name {
        "count_if" => call.keep_over(template(
            "count(CASE WHEN __a0 THEN 1 END)",
            &call.need(1)?,
        )?),
        "collect_list" | "collect_set" => {
            let a = call.need(1)?;
            let src = if call.name == "collect_set" || is_distinct(call.function) {
                "array_agg(DISTINCT __a0) FILTER (WHERE __a0 IS NOT NULL)"
            } else {
                "array_agg(__a0) FILTER (WHERE __a0 IS NOT NULL)"
            };
            call.keep_over(template(src, &a)?)
        }
        "approx_count_distinct" => call.keep_over(template(
            "CAST(approx_distinct(__a0) AS BIGINT)",
            &call.need(1)?,
        )?),
        "percentile_approx" | "approx_percentile" if n == 2 || n == 3 => call.keep_over(template(
            "approx_percentile_cont(__a0, __a1)",
            &call.all_args(),
        )?),
        _ => return Ok(None),
    }))
}

/// Conditionals and arithmetic with Spark's meaning.
fn conditional_rules(call: &Call) -> Result<Option<Expr>, SqlError> {
    let n = call.n();
    Ok(Some(match call.name {
        "if" | "iff" => template("CASE WHEN __a0 THEN __a1 ELSE __a2 END", &call.need(3)?)?,
        "decode" if n >= 3 => template(&decode_template(n), &call.all_args())?,
        "pmod" => template("((__a0 % __a1) + __a1) % __a1", &call.need(2)?)?,
        "try_divide" => template(
            &format!("CASE WHEN __a1 = 0 THEN NULL ELSE {PROMOTE_INT}(__a0) / __a1 END"),
            &call.need(2)?,
        )?,
        _ => return Ok(None),
    }))
}

/// String, regular expression and array functions whose names or arguments differ.
fn string_and_array_rules(call: &Call) -> Result<Option<Expr>, SqlError> {
    let n = call.n();
    Ok(Some(match call.name {
        "regexp_replace" if n == 3 => {
            // Spark replaces every match; DataFusion only the first without the `g` flag.
            let mut a = call.need(3)?;
            a.push(string_lit("g"));
            template("regexp_replace(__a0, __a1, __a2, __a3)", &a)?
        }
        "rlike" | "regexp" => template("regexp_like(__a0, __a1)", &call.need(2)?)?,
        "locate" | "position" if n == 2 => template("strpos(__a1, __a0)", &call.need(2)?)?,
        "sort_array" if n == 1 || n == 2 => {
            let mut a = call.all_args();
            let asc = match a.get(1) {
                Some(Expr::Value(v)) => !matches!(v.value, Value::Boolean(false)),
                _ => true,
            };
            a.truncate(1);
            template(
                if asc {
                    "array_sort(__a0, 'ASC', 'NULLS FIRST')"
                } else {
                    "array_sort(__a0, 'DESC', 'NULLS LAST')"
                },
                &a,
            )?
        }
        "size" | "array_size" | "cardinality" if n == 1 => {
            template("CAST(cardinality(__a0) AS INT)", &call.need(1)?)?
        }
        _ => return Ok(None),
    }))
}

/// Type names called as functions (`int(x)`, `date(x)`, ...) are casts.
fn cast_rules(call: &Call) -> Result<Option<Expr>, SqlError> {
    match call.name {
        "date" | "timestamp" | "string" | "int" | "bigint" | "smallint" | "tinyint" | "double"
        | "float" | "boolean" | "binary" | "decimal"
            if call.n() == 1 =>
        {
            let ty = cast_function_type(call.name);
            Ok(Some(template(
                &format!("CAST(__a0 AS {ty})"),
                &call.need(1)?,
            )?))
        }
        _ => Ok(None),
    }
}

/// Forms this workspace does not run, refused with what to write instead.
fn unsupported_rules(call: &Call) -> Result<Option<Expr>, SqlError> {
    let name = call.name;
    let n = call.n();
    match name {
        "datediff" | "timestampdiff" | "date_diff" if n == 3 => Err(SqlError::unsupported(
            format_args!("`{name}` with a unit argument (use datediff(end, start) for days)"),
        )),
        "dateadd" | "timestampadd" | "date_add" if n == 3 => Err(SqlError::unsupported(
            format_args!("`{name}` with a unit argument (use date_add(start, days) or add_months)"),
        )),
        "posexplode" | "explode_outer" | "posexplode_outer" | "inline" | "stack" => {
            Err(SqlError::unsupported(format_args!(
                "the generator function `{name}` (use explode(array) in the SELECT list)"
            )))
        }
        _ => Ok(None),
    }
}

struct Rewriter<'a> {
    ctx: &'a RewriteContext,
    time_travel: Vec<TimeTravelRef>,
    /// Nesting of SQL function expansions (bounded: functions may call functions).
    depth: usize,
}

impl Rewriter<'_> {
    /// Expands a call of a Unity Catalog SQL function into its body.
    fn catalog_function(&mut self, f: &Function) -> Result<Expr, SqlError> {
        let parts = name_parts(&f.name);
        let key = match parts.as_slice() {
            [s, n] => format!("{}.{s}.{n}", self.ctx.current_catalog),
            [c, s, n] => format!("{c}.{s}.{n}"),
            _ => parts.join("."),
        }
        .to_ascii_lowercase();
        let quoted = parts
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(".");
        let Some(func) = self.ctx.functions.get(&key) else {
            return Err(SqlError::new(
                "UNRESOLVED_ROUTINE",
                "42883",
                format!(
                    "Cannot resolve routine {quoted} on search path [`system`.`builtin`, `system`.`session`, `{}`.`{}`].",
                    self.ctx.current_catalog, self.ctx.current_schema
                ),
            ));
        };
        if self.depth >= 8 {
            return Err(SqlError::new(
                "ROUTINE_RECURSION_LIMIT",
                "54000",
                format!("Expanding {quoted} nests SQL functions more than 8 deep."),
            ));
        }
        let params = &func.def.parameters;
        let args = typed_arguments(params, bind_arguments(f, params, &quoted)?, &quoted)?;
        let mut body = parse_expr(&func.def.body)?;
        substitute_parameters(&mut body, params, &args);
        // The body may call Spark functions and other SQL functions: rewrite it too.
        let mut inner = Rewriter {
            ctx: self.ctx,
            time_travel: Vec::new(),
            depth: self.depth + 1,
        };
        if let ControlFlow::Break(e) = body.visit(&mut inner) {
            return Err(e);
        }
        Ok(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(Expr::Nested(Box::new(body))),
            data_type: parse_type(&func.def.returns)?,
            array: false,
            format: None,
        })
    }

    /// Rewrites a function call into what DataFusion runs with Spark's meaning: `Some` for
    /// a new expression, `None` when the call stays (perhaps renamed in place).
    fn function(&mut self, f: &mut Function) -> Result<Option<Expr>, SqlError> {
        if f.name.0.len() >= 2 {
            return self.catalog_function(f).map(Some);
        }
        let Some(name) = function_name(f) else {
            return Ok(None);
        };
        let call = Call {
            name: &name,
            args: plain_args(f),
            function: f,
        };
        if let Some(value) = self.session_value(&call) {
            return Ok(Some(value));
        }
        // No name belongs to two families, so their order does not matter.
        let families: [Rules; 5] = [
            aggregate_rules,
            conditional_rules,
            string_and_array_rules,
            cast_rules,
            unsupported_rules,
        ];
        for rules in families {
            if let Some(e) = rules(&call)? {
                return Ok(Some(e));
            }
        }
        let n = call.n();
        if let Some(to) = renamed_function(&name, n) {
            rename(f, to);
        }
        Ok(None)
    }

    /// `current_catalog()`, `current_schema()` and `current_user()` (and their aliases) are
    /// the session's, as literals.
    fn session_value(&self, call: &Call) -> Option<Expr> {
        if call.n() != 0 {
            return None;
        }
        let value = match call.name {
            "current_catalog" => &self.ctx.current_catalog,
            "current_schema" | "current_database" => &self.ctx.current_schema,
            "current_user" | "user" | "session_user" => &self.ctx.current_user,
            _ => return None,
        };
        Some(string_lit(value))
    }

    fn expr(&mut self, expr: &mut Expr) -> Result<(), SqlError> {
        match expr {
            Expr::Function(f) => {
                if let Some(new) = self.function(f)? {
                    *expr = new;
                }
            }
            Expr::RLike {
                negated,
                expr: e,
                pattern,
                ..
            } => {
                let src = if *negated {
                    "NOT regexp_like(__a0, __a1)"
                } else {
                    "regexp_like(__a0, __a1)"
                };
                *expr = template(src, &[(**e).clone(), (**pattern).clone()])?;
            }
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::MyIntegerDivide => {
                    *expr = template(
                        "CAST(CAST(__a0 AS DOUBLE) / CAST(__a1 AS DOUBLE) AS BIGINT)",
                        &[(**left).clone(), (**right).clone()],
                    )?;
                }
                BinaryOperator::Divide => {
                    let l = (**left).clone();
                    **left = template(&format!("{PROMOTE_INT}(__a0)"), &[l])?;
                    let r = (**right).clone();
                    **right = template(&format!("{NONZERO}(__a0)"), &[r])?;
                }
                _ => {}
            },
            Expr::Value(v) => {
                if let Value::Placeholder(p) = &v.value {
                    *expr = self.placeholder(p)?;
                }
            }
            Expr::Cast { data_type, .. } => local_type(data_type),
            Expr::TypedString(ts) => local_type(&mut ts.data_type),
            Expr::Identifier(id) if id.quote_style.is_none() => {
                if let Some(typed) = typed_number(&id.value)? {
                    *expr = typed;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn placeholder(&self, p: &str) -> Result<Expr, SqlError> {
        let Some(name) = p.strip_prefix(':') else {
            return Err(SqlError::unsupported(format_args!(
                "the parameter marker `{p}`: use named markers (:name) as Databricks does"
            )));
        };
        let Some(param) = self.ctx.params.get(name).or_else(|| {
            self.ctx
                .params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        }) else {
            return Err(SqlError::new(
                "UNBOUND_SQL_PARAMETER",
                "42P02",
                format!(
                    "Found the unbound parameter: {name}. Please fix `args` and provide a mapping of the parameter to a SQL literal."
                ),
            ));
        };
        let data_type = match param.type_.as_deref().map(str::trim) {
            None | Some("") => SqlDataType::String(None),
            Some(t) => parse_type(t)?,
        };
        let value = match &param.value {
            Some(v) => string_lit(v),
            None => Expr::Value(Value::Null.into()),
        };
        Ok(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(value),
            data_type,
            array: false,
            format: None,
        })
    }

    fn table_factor(&mut self, tf: &mut TableFactor) -> Result<(), SqlError> {
        let TableFactor::Table {
            name,
            alias,
            version,
            ..
        } = tf
        else {
            return Ok(());
        };
        let Some(v) = version.take() else {
            return Ok(());
        };
        let spec = match v {
            TableVersion::VersionAsOf(e) => VersionSpec::Version(version_number(&e)?),
            TableVersion::TimestampAsOf(e) | TableVersion::ForSystemTimeAsOf(e) => {
                VersionSpec::Timestamp(Box::new(e))
            }
            other => {
                return Err(SqlError::unsupported(format_args!(
                    "the time travel clause `{other}` (use VERSION AS OF n or TIMESTAMP AS OF ts)"
                )));
            }
        };
        let parts = name_parts(name);
        let synthetic = format!("t{}", self.time_travel.len());
        if alias.is_none()
            && let Some(ObjectNamePart::Identifier(last)) = name.0.last()
        {
            *alias = Some(TableAlias {
                explicit: true,
                name: last.clone(),
                columns: Vec::new(),
                at: None,
            });
        }
        *name = ObjectName(vec![
            ObjectNamePart::Identifier(Ident::with_quote('"', TIME_TRAVEL_CATALOG)),
            ObjectNamePart::Identifier(Ident::with_quote('"', TIME_TRAVEL_SCHEMA)),
            ObjectNamePart::Identifier(Ident::with_quote('"', &synthetic)),
        ]);
        self.time_travel.push(TimeTravelRef {
            parts,
            spec,
            synthetic,
        });
        Ok(())
    }
}

fn version_number(e: &Expr) -> Result<i64, SqlError> {
    if let Expr::Value(v) = e
        && let Value::Number(n, _) = &v.value
        && let Ok(n) = n.parse::<i64>()
        && n >= 0
    {
        return Ok(n);
    }
    Err(SqlError::new(
        "INVALID_TIME_TRAVEL_SPEC",
        "42K0E",
        format!("VERSION AS OF needs a non-negative integer literal, not `{e}`."),
    ))
}

/// Parses a SQL type name (`INT`, `DECIMAL(10,2)`, ...) of a statement parameter.
/// A SQL function's definition parses: its parameter and return types, and its body.
pub(crate) fn check_definition(def: &crate::sqlfn::Definition) -> Result<(), SqlError> {
    for p in &def.parameters {
        parse_type(&p.type_)?;
    }
    parse_type(&def.returns)?;
    parse_expr(&def.body).map(|_| ())
}

pub(crate) fn parse_type(t: &str) -> Result<SqlDataType, SqlError> {
    let bad = || {
        SqlError::new(
            "INVALID_PARAMETER_VALUE",
            "22023",
            format!("`{t}` is not a SQL type usable for a statement parameter."),
        )
    };
    let dialect = LocalDialect::default();
    let mut p = Parser::new(&dialect).try_with_sql(t).map_err(|_| bad())?;
    let mut ty = p.parse_data_type().map_err(|_| bad())?;
    local_type(&mut ty);
    if p.peek_token().token != datafusion::sql::sqlparser::tokenizer::Token::EOF {
        return Err(bad());
    }
    Ok(ty)
}

impl VisitorMut for Rewriter<'_> {
    type Break = SqlError;

    fn pre_visit_select(
        &mut self,
        select: &mut datafusion::sql::sqlparser::ast::Select,
    ) -> ControlFlow<SqlError> {
        if let Some(lv) = select.lateral_views.first() {
            return ControlFlow::Break(SqlError::unsupported(format_args!(
                "LATERAL VIEW ({}): use explode(array) in the SELECT list instead",
                lv.lateral_view
            )));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<SqlError> {
        match self.table_factor(tf) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<SqlError> {
        match self.expr(expr) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

/// A Databricks type DataFusion names otherwise: `TIMESTAMP_NTZ` is its `TIMESTAMP`
/// (no time zone), which the local workspace reports as `TIMESTAMP_NTZ`.
fn local_type(t: &mut SqlDataType) {
    match t {
        SqlDataType::TimestampNtz(precision) => {
            *t = SqlDataType::Timestamp(*precision, TimezoneInfo::None);
        }
        SqlDataType::Array(
            datafusion::sql::sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner)
            | datafusion::sql::sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner),
        ) => local_type(inner),
        _ => {}
    }
}

/// A numeric literal with a type suffix (`10L`, `2S`, `1Y`, `1.5D`, `1.5F`, `1.50BD`),
/// which the parser reads as a name: the number cast to its type. A `BD` literal is a
/// DECIMAL with exactly its digits (`1.50BD`: DECIMAL(3,2)), as in Databricks.
fn typed_number(word: &str) -> Result<Option<Expr>, SqlError> {
    let upper = word.to_ascii_uppercase();
    let (number, sql_type) = if let Some(n) = upper.strip_suffix("BD") {
        let (whole, fraction) = n.split_once('.').unwrap_or((n, ""));
        let whole_digits = whole.trim_start_matches('0').len();
        let scale = fraction.len();
        (
            n,
            format!("DECIMAL({}, {scale})", (whole_digits + scale).max(1)),
        )
    } else {
        let Some(suffix) = upper.chars().last() else {
            return Ok(None);
        };
        let sql_type = match suffix {
            'L' => "BIGINT",
            'S' => "SMALLINT",
            'Y' => "TINYINT",
            'D' => "DOUBLE",
            'F' => "FLOAT",
            _ => return Ok(None),
        };
        (&upper[..upper.len() - 1], sql_type.to_string())
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    let integral = matches!(sql_type.as_str(), "BIGINT" | "SMALLINT" | "TINYINT");
    if number.is_empty()
        || number == "."
        || !digits(whole)
        || !digits(fraction)
        || (integral && number.contains('.'))
    {
        return Ok(None);
    }
    parse_expr(&format!("CAST({number} AS {sql_type})")).map(Some)
}

/// Names the unaliased expressions of the outer SELECT by their SQL text.
fn name_outputs(q: &mut Query) {
    fn body(s: &mut SetExpr) {
        match s {
            SetExpr::Select(select) => {
                for item in &mut select.projection {
                    if let SelectItem::UnnamedExpr(e) = item {
                        let name = match &*e {
                            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => continue,
                            Expr::Function(f) if function_name(f).as_deref() == Some("explode") => {
                                "col".to_string()
                            }
                            other => other.to_string(),
                        };
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: Ident::with_quote('"', name),
                        };
                    }
                }
            }
            SetExpr::Query(q) => body(&mut q.body),
            SetExpr::SetOperation { left, .. } => body(left),
            _ => {}
        }
    }
    body(&mut q.body);
}

/// Rewrites a statement in place; returns the time-travel references it contained.
pub(crate) fn rewrite(
    stmt: &mut Statement,
    ctx: &RewriteContext,
) -> Result<Vec<TimeTravelRef>, SqlError> {
    match stmt {
        Statement::Query(q) => name_outputs(q),
        Statement::CreateTable(ct) => {
            if let Some(q) = ct.query.as_mut() {
                name_outputs(q);
            }
            for column in &mut ct.columns {
                local_type(&mut column.data_type);
            }
        }
        _ => {}
    }
    let mut r = Rewriter {
        ctx,
        time_travel: Vec::new(),
        depth: 0,
    };
    if let ControlFlow::Break(e) = stmt.visit(&mut r) {
        return Err(e);
    }
    Ok(r.time_travel)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> String {
        let mut s = parse_statements(sql).unwrap().remove(0);
        rewrite(&mut s, &RewriteContext::default()).unwrap();
        s.to_string()
    }

    #[test]
    fn typed_literals_and_timestamp_ntz() {
        let sql =
            rw("SELECT 10L AS a, 2s AS b, 1Y AS c, 1.5D AS d, .5F AS e, 1.50BD AS f, 0.5bd AS g");
        for part in [
            "CAST(10 AS BIGINT) AS a",
            "CAST(2 AS SMALLINT) AS b",
            "CAST(1 AS TINYINT) AS c",
            "CAST(1.5 AS DOUBLE) AS d",
            "CAST(.5 AS FLOAT) AS e",
            "CAST(1.50 AS DECIMAL(3,2)) AS f",
            "CAST(0.5 AS DECIMAL(1,1)) AS g",
        ] {
            assert!(sql.contains(part), "{part} in {sql}");
        }
        // Names that only look alike stay names.
        assert!(rw("SELECT `10L`, x1L, 1.5L FROM t").contains("`10L`, x1L, 1.5L"));
        let sql =
            rw("SELECT CAST(s AS TIMESTAMP_NTZ) AS t, TIMESTAMP_NTZ '2024-01-01 10:00:00' AS u");
        assert!(!sql.contains("TIMESTAMP_NTZ"), "{sql}");
        assert!(rw("CREATE TABLE t (a TIMESTAMP_NTZ)").contains("a TIMESTAMP"));
    }

    #[test]
    fn functions_and_operators() {
        assert!(
            rw("SELECT if(a > 1, 'x', 'y') AS v FROM t")
                .contains("CASE WHEN a > 1 THEN 'x' ELSE 'y' END")
        );
        assert!(
            rw("SELECT count_if(a > 1) AS c FROM t").contains("count(CASE WHEN a > 1 THEN 1 END)")
        );
        assert!(rw("SELECT a FROM t WHERE a RLIKE '^x'").contains("regexp_like(a, '^x')"));
        assert!(
            rw("SELECT 7 DIV 2 AS d")
                .contains("CAST(CAST(7 AS DOUBLE) / CAST(2 AS DOUBLE) AS BIGINT)")
        );
        assert!(rw("SELECT approx_count_distinct(a) AS n FROM t").contains("approx_distinct(a)"));
    }

    #[test]
    fn output_names() {
        let s = rw("SELECT l_returnflag, count(*) FROM t GROUP BY 1");
        assert!(s.contains("count(*) AS \"count(*)\""), "{s}");
    }

    #[test]
    fn time_travel_is_renamed() {
        let mut s = parse_statements("SELECT * FROM main.default.t VERSION AS OF 1")
            .unwrap()
            .remove(0);
        let tt = rewrite(&mut s, &RewriteContext::default()).unwrap();
        assert_eq!(tt.len(), 1);
        assert_eq!(tt[0].parts, vec!["main", "default", "t"]);
        assert!(matches!(tt[0].spec, VersionSpec::Version(1)));
        assert!(s.to_string().contains(TIME_TRAVEL_CATALOG));
    }

    #[test]
    fn parameters_bind_as_typed_literals() {
        let mut ctx = RewriteContext::default();
        ctx.params.insert(
            "x".into(),
            Param {
                value: Some("5' OR 1=1 --".into()),
                type_: Some("INT".into()),
            },
        );
        let mut s = parse_statements("SELECT * FROM t WHERE a = :x")
            .unwrap()
            .remove(0);
        rewrite(&mut s, &ctx).unwrap();
        assert!(
            s.to_string().contains("CAST('5'' OR 1=1 --' AS INT)"),
            "{s}"
        );
    }
}
