//! Databricks commands DataFusion does not plan, answered from the lakehouse with the
//! result shapes Databricks uses: `SHOW CATALOGS|SCHEMAS|DATABASES|TABLES|VIEWS|VOLUMES
//! [IN ...] [[LIKE] 'pattern']`, `SHOW COLUMNS`, `SHOW TBLPROPERTIES`, `SHOW CREATE TABLE`,
//! `DESCRIBE [TABLE] [EXTENDED] t [col]`, `DESCRIBE DETAIL|HISTORY t`, `DESCRIBE
//! SCHEMA|DATABASE|CATALOG`, `DESCRIBE [QUERY] <query>`, `USE ...`, `SET k = v`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::engine::{Engine, ExecOptions, QueryResult, qualify};
use crate::error::SqlError;
use crate::lakehouse::{INFORMATION_SCHEMA, SYSTEM, TableDetails};
use crate::types::uc_type_text;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    ShowCatalogs {
        pattern: Option<String>,
    },
    ShowSchemas {
        catalog: Option<String>,
        pattern: Option<String>,
    },
    ShowTables {
        schema: Option<Vec<String>>,
        pattern: Option<String>,
    },
    ShowViews {
        schema: Option<Vec<String>>,
    },
    ShowVolumes {
        schema: Option<Vec<String>>,
        pattern: Option<String>,
    },
    ShowColumns {
        table: Vec<String>,
        schema: Option<Vec<String>>,
    },
    ShowTblProperties {
        table: Vec<String>,
    },
    ShowCreateTable {
        table: Vec<String>,
    },
    Describe {
        table: Vec<String>,
        extended: bool,
        column: Option<String>,
    },
    DescribeDetail {
        table: Vec<String>,
    },
    DescribeHistory {
        table: Vec<String>,
    },
    DescribeSchema {
        name: Vec<String>,
        extended: bool,
    },
    DescribeCatalog {
        name: String,
        extended: bool,
    },
    DescribeQuery {
        sql: String,
    },
    Use,
    Set {
        key: String,
        value: String,
    },
}

struct Toks {
    toks: Vec<Token>,
    i: usize,
}

impl Toks {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }
    /// The tokens not read yet.
    fn rest(&self) -> &[Token] {
        self.toks.get(self.i..).unwrap_or_default()
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn is_kw(&self, k: Keyword) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none())
    }
    fn is_word(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(s))
    }
    fn eat_kw(&mut self, k: Keyword) -> bool {
        if self.is_kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, s: &str) -> bool {
        if self.is_word(s) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i >= self.toks.len()
    }
    /// A dotted name: `a`, `a.b`, `` `a`.`b`.`c` ``.
    fn name(&mut self) -> Result<Vec<String>, SqlError> {
        let mut parts = Vec::new();
        loop {
            match self.next() {
                Some(Token::Word(w)) => parts.push(if w.quote_style.is_some() {
                    w.value
                } else {
                    w.value.to_ascii_lowercase()
                }),
                other => {
                    return Err(SqlError::parse(format!(
                        "Syntax error: expected a name, found {}.",
                        other
                            .map(|t| format!("'{t}'"))
                            .unwrap_or_else(|| "end of input".into())
                    )));
                }
            }
            if matches!(self.peek(), Some(Token::Period)) {
                self.i += 1;
            } else {
                return Ok(parts);
            }
        }
    }
    /// `[LIKE] 'pattern'`.
    fn pattern(&mut self) -> Result<Option<String>, SqlError> {
        let like = self.eat_kw(Keyword::LIKE);
        match self.peek() {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(Some(s))
            }
            _ if like => Err(SqlError::parse(
                "Syntax error: LIKE needs a quoted pattern.",
            )),
            _ => Ok(None),
        }
    }
    fn end(&self, what: &str) -> Result<(), SqlError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(SqlError::parse(format!(
                "Syntax error at or near '{t}' in {what}."
            ))),
        }
    }
}

/// Recognises a command; `Ok(None)` for anything DataFusion should plan.
pub(crate) fn parse(sql: &str) -> Result<Option<Command>, SqlError> {
    let tokens = match Tokenizer::new(&crate::dialect::LocalDialect::default(), sql).tokenize() {
        Ok(t) => t,
        Err(_) => return Ok(None),
    };
    let mut toks: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .collect();
    while matches!(toks.last(), Some(Token::SemiColon)) {
        toks.pop();
    }
    let mut t = Toks { toks, i: 0 };
    if t.eat_kw(Keyword::SHOW) {
        return show(&mut t).map(Some);
    }
    if t.is_kw(Keyword::DESCRIBE) || t.is_kw(Keyword::DESC) {
        t.i += 1;
        return describe(&mut t, sql).map(Some);
    }
    if t.eat_kw(Keyword::USE) {
        return Ok(Some(Command::Use));
    }
    if t.is_kw(Keyword::SET) && t.toks.len() >= 2 {
        t.i += 1;
        let rest: Vec<String> = t.rest().iter().map(|x| x.to_string()).collect();
        let joined = rest.join("");
        let (k, v) = joined.split_once('=').unwrap_or((joined.as_str(), ""));
        return Ok(Some(Command::Set {
            key: k.trim().to_string(),
            value: v.trim().trim_matches('\'').to_string(),
        }));
    }
    Ok(None)
}

fn show(t: &mut Toks) -> Result<Command, SqlError> {
    let in_kw = |t: &mut Toks| t.eat_kw(Keyword::IN) || t.eat_kw(Keyword::FROM);
    if t.eat_word("CATALOGS") {
        let pattern = t.pattern()?;
        t.end("SHOW CATALOGS")?;
        return Ok(Command::ShowCatalogs { pattern });
    }
    if t.eat_kw(Keyword::SCHEMAS) || t.eat_kw(Keyword::DATABASES) {
        let catalog = if in_kw(t) {
            Some(t.name()?.join("."))
        } else {
            None
        };
        let pattern = t.pattern()?;
        t.end("SHOW SCHEMAS")?;
        return Ok(Command::ShowSchemas { catalog, pattern });
    }
    if t.eat_kw(Keyword::TABLES) {
        let schema = if in_kw(t) { Some(t.name()?) } else { None };
        let pattern = t.pattern()?;
        t.end("SHOW TABLES")?;
        return Ok(Command::ShowTables { schema, pattern });
    }
    if t.eat_kw(Keyword::VIEWS) {
        let schema = if in_kw(t) { Some(t.name()?) } else { None };
        let _ = t.pattern()?;
        t.end("SHOW VIEWS")?;
        return Ok(Command::ShowViews { schema });
    }
    if t.eat_word("VOLUMES") {
        let schema = if in_kw(t) { Some(t.name()?) } else { None };
        let pattern = t.pattern()?;
        t.end("SHOW VOLUMES")?;
        return Ok(Command::ShowVolumes { schema, pattern });
    }
    if t.eat_kw(Keyword::COLUMNS) {
        if !in_kw(t) {
            return Err(SqlError::parse(
                "Syntax error: SHOW COLUMNS needs IN <table>.",
            ));
        }
        let table = t.name()?;
        let schema = if in_kw(t) { Some(t.name()?) } else { None };
        t.end("SHOW COLUMNS")?;
        return Ok(Command::ShowColumns { table, schema });
    }
    if t.eat_word("TBLPROPERTIES") {
        let table = t.name()?;
        return Ok(Command::ShowTblProperties { table });
    }
    if t.eat_kw(Keyword::CREATE) {
        t.eat_kw(Keyword::TABLE);
        let table = t.name()?;
        t.end("SHOW CREATE TABLE")?;
        return Ok(Command::ShowCreateTable { table });
    }
    let what = t.peek().map(|x| x.to_string()).unwrap_or_default();
    Err(SqlError::unsupported(format_args!(
        "SHOW {} (supported: SHOW CATALOGS, SCHEMAS, TABLES, VIEWS, VOLUMES, COLUMNS, TBLPROPERTIES, CREATE TABLE)",
        what.to_ascii_uppercase()
    )))
}

fn describe(t: &mut Toks, sql: &str) -> Result<Command, SqlError> {
    let starts_query = |t: &Toks| {
        t.is_kw(Keyword::SELECT)
            || t.is_kw(Keyword::WITH)
            || t.is_kw(Keyword::VALUES)
            || matches!(t.peek(), Some(Token::LParen))
    };
    if t.is_kw(Keyword::QUERY) || starts_query(t) {
        let re = regex::Regex::new(r"(?is)^\s*(describe|desc)\s+(query\s+)?(.*)$")
            .map_err(|e| SqlError::internal(e.to_string()))?;
        let query = re
            .captures(sql)
            .and_then(|c| c.get(3))
            .map(|m| m.as_str().trim().trim_end_matches(';').to_string())
            .unwrap_or_default();
        return Ok(Command::DescribeQuery { sql: query });
    }
    if t.eat_word("DETAIL") {
        let table = t.name()?;
        t.end("DESCRIBE DETAIL")?;
        return Ok(Command::DescribeDetail { table });
    }
    if t.eat_word("HISTORY") {
        let table = t.name()?;
        let _ = t.eat_kw(Keyword::LIMIT);
        return Ok(Command::DescribeHistory { table });
    }
    if t.eat_kw(Keyword::SCHEMA) || t.eat_kw(Keyword::DATABASE) {
        let extended = t.eat_kw(Keyword::EXTENDED);
        let name = t.name()?;
        t.end("DESCRIBE SCHEMA")?;
        return Ok(Command::DescribeSchema { name, extended });
    }
    if t.eat_kw(Keyword::CATALOG) {
        let extended = t.eat_kw(Keyword::EXTENDED);
        let name = t.name()?.join(".");
        t.end("DESCRIBE CATALOG")?;
        return Ok(Command::DescribeCatalog { name, extended });
    }
    if t.is_kw(Keyword::FUNCTION) || t.is_word("VOLUME") {
        return Err(SqlError::unsupported(format_args!(
            "DESCRIBE {}",
            t.peek()
                .map(|x| x.to_string())
                .unwrap_or_default()
                .to_ascii_uppercase()
        )));
    }
    t.eat_kw(Keyword::TABLE);
    let extended = t.eat_kw(Keyword::EXTENDED) || t.eat_kw(Keyword::FORMATTED);
    if t.done() {
        return Err(SqlError::parse(
            "Syntax error: DESCRIBE needs a table name.",
        ));
    }
    let table = t.name()?;
    let column = if t.done() {
        None
    } else {
        Some(t.name()?.join("."))
    };
    t.end("DESCRIBE TABLE")?;
    Ok(Command::Describe {
        table,
        extended,
        column,
    })
}

/// Whether SHOW lists `name`: every name without a pattern, else those it matches.
fn shown(pattern: Option<&str>, name: &str) -> bool {
    pattern.is_none_or(|p| show_pattern_matches(p, name))
}

/// Databricks `LIKE` patterns of SHOW: `*` matches anything, `|` separates alternatives,
/// case-insensitive.
pub(crate) fn show_pattern_matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alt| {
        let alt = alt.trim().to_ascii_lowercase();
        let name = name.to_ascii_lowercase();
        let mut re = String::from("^");
        for c in alt.chars() {
            match c {
                '*' | '%' => re.push_str(".*"),
                '_' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).is_ok_and(|r| r.is_match(&name))
    })
}

/// A small typed table builder for command results.
struct Out {
    fields: Vec<Field>,
    cols: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone)]
enum Cell {
    S(Option<String>),
    B(bool),
    I(Option<i64>),
}

fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}

impl Out {
    fn new(cols: &[(&str, DataType)]) -> Out {
        Out {
            fields: cols
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect(),
            cols: vec![Vec::new(); cols.len()],
        }
    }
    fn strings(cols: &[&str]) -> Out {
        Out::new(
            &cols
                .iter()
                .map(|c| (*c, DataType::Utf8))
                .collect::<Vec<_>>(),
        )
    }
    fn row(&mut self, cells: Vec<Cell>) {
        for (i, c) in cells.into_iter().enumerate() {
            if let Some(col) = self.cols.get_mut(i) {
                col.push(c);
            }
        }
    }
    fn finish(self) -> Result<QueryResult, SqlError> {
        let arrays: Vec<ArrayRef> = self
            .fields
            .iter()
            .zip(self.cols)
            .map(|(f, cells)| -> ArrayRef {
                match f.data_type() {
                    DataType::Boolean => Arc::new(BooleanArray::from(
                        cells
                            .into_iter()
                            .map(|c| matches!(c, Cell::B(true)))
                            .collect::<Vec<_>>(),
                    )),
                    DataType::Int64 => Arc::new(Int64Array::from(
                        cells
                            .into_iter()
                            .map(|c| match c {
                                Cell::I(v) => v,
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    )),
                    _ => Arc::new(StringArray::from(
                        cells
                            .into_iter()
                            .map(|c| match c {
                                Cell::S(v) => v,
                                Cell::B(b) => Some(b.to_string()),
                                Cell::I(v) => v.map(|v| v.to_string()),
                            })
                            .collect::<Vec<_>>(),
                    )),
                }
            })
            .collect();
        let schema = Arc::new(Schema::new(self.fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays)
            .map_err(|e| SqlError::internal(e.to_string()))?;
        Ok(QueryResult {
            schema,
            batch,
            truncated: false,
        })
    }
}

fn fmt_ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

fn iso_ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

async fn details(
    engine: &Engine,
    name: &[String],
    catalog: &str,
    schema: &str,
) -> Result<TableDetails, SqlError> {
    let (c, s, t) = qualify(name, catalog, schema)?;
    let loc = engine.lake.locate(&c, &s, &t)?;
    engine.lake.details(&loc).await
}

fn resolve_schema(
    engine: &Engine,
    name: Option<&Vec<String>>,
    catalog: &str,
    schema: &str,
) -> Result<(String, String), SqlError> {
    let (c, s) = match name.map(Vec::as_slice) {
        None => (catalog.to_string(), schema.to_string()),
        Some([s]) => (catalog.to_string(), s.clone()),
        Some([c, s]) => (c.clone(), s.clone()),
        Some(other) => {
            return Err(SqlError::new(
                "REQUIRES_SINGLE_PART_NAMESPACE",
                "42K05",
                format!("`{}` is not a schema name.", other.join(".")),
            ));
        }
    };
    let cat = engine
        .lake
        .find_catalog(&c)
        .ok_or_else(|| SqlError::catalog_not_found(&c, &engine.lake.catalogs()))?;
    let sch = engine
        .lake
        .find_schema(&cat, &s)
        .ok_or_else(|| SqlError::schema_not_found(&cat, &s))?;
    Ok((cat, sch))
}

pub(crate) async fn run(
    engine: &Engine,
    cmd: Command,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let lake = &engine.lake;
    match cmd {
        Command::Use => Ok(QueryResult::empty()),
        Command::Set { key, value } => {
            let mut o = Out::strings(&["key", "value"]);
            o.row(vec![s(key), s(value)]);
            o.finish()
        }
        Command::ShowCatalogs { pattern } => {
            let mut o = Out::strings(&["catalog"]);
            for c in lake.catalogs() {
                if shown(pattern.as_deref(), &c) {
                    o.row(vec![s(c)]);
                }
            }
            o.finish()
        }
        Command::ShowSchemas {
            catalog: c,
            pattern,
        } => {
            let c = c.unwrap_or_else(|| catalog.to_string());
            let cat = lake
                .find_catalog(&c)
                .ok_or_else(|| SqlError::catalog_not_found(&c, &lake.catalogs()))?;
            let mut o = Out::strings(&["databaseName"]);
            for sc in lake.schemas(&cat) {
                if shown(pattern.as_deref(), &sc) {
                    o.row(vec![s(sc)]);
                }
            }
            o.finish()
        }
        Command::ShowTables {
            schema: name,
            pattern,
        } => show_tables(engine, name, pattern, catalog, schema).await,
        Command::ShowViews { schema: name } => {
            let _ = resolve_schema(engine, name.as_ref(), catalog, schema)?;
            Out::new(&[
                ("namespace", DataType::Utf8),
                ("viewName", DataType::Utf8),
                ("isTemporary", DataType::Boolean),
            ])
            .finish()
        }
        Command::ShowVolumes {
            schema: name,
            pattern,
        } => {
            let (cat, sch) = resolve_schema(engine, name.as_ref(), catalog, schema)?;
            let mut o = Out::strings(&["database", "volume_name"]);
            let dir = lake.layout.volumes().join(&cat).join(&sch);
            for v in crate::layout::subdirs(&dir) {
                if shown(pattern.as_deref(), &v) {
                    o.row(vec![s(sch.clone()), s(v)]);
                }
            }
            o.finish()
        }
        Command::ShowColumns {
            table,
            schema: in_schema,
        } => show_columns(engine, table, in_schema, catalog, schema).await,
        Command::ShowTblProperties { table } => {
            let d = details(engine, &table, catalog, schema).await?;
            let mut o = Out::strings(&["key", "value"]);
            for (k, v) in &d.properties {
                o.row(vec![s(k.clone()), s(v.clone())]);
            }
            o.finish()
        }
        Command::ShowCreateTable { table } => {
            show_create_table(engine, table, catalog, schema).await
        }
        Command::Describe {
            table,
            extended,
            column,
        } => describe_table(engine, table, extended, column, catalog, schema).await,
        Command::DescribeDetail { table } => describe_detail(engine, table, catalog, schema).await,
        Command::DescribeHistory { table } => {
            describe_history(engine, table, catalog, schema).await
        }
        Command::DescribeSchema { name, .. } => {
            let (cat, sch) = resolve_schema(engine, Some(&name), catalog, schema)?;
            let mut o = Out::strings(&["database_description_item", "database_description_value"]);
            o.row(vec![s("Catalog Name"), s(cat.clone())]);
            o.row(vec![s("Namespace Name"), s(sch.clone())]);
            o.row(vec![s("Comment"), Cell::S(lake.schema_comment(&cat, &sch))]);
            o.row(vec![
                s("Location"),
                s(format!("file://{}", lake.schema_dir(&cat, &sch).display())),
            ]);
            o.row(vec![s("Owner"), s(engine.user.clone())]);
            o.finish()
        }
        Command::DescribeCatalog { name, .. } => describe_catalog(engine, name).await,
        Command::DescribeQuery { sql } => describe_query(engine, sql, catalog, schema).await,
    }
}

/// `SHOW TABLES [IN schema] [LIKE pattern]` (information_schema lists its views).
async fn show_tables(
    engine: &Engine,
    name: Option<Vec<String>>,
    pattern: Option<String>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let lake = &engine.lake;
    let (cat, sch) = resolve_schema(engine, name.as_ref(), catalog, schema)?;
    let mut o = Out::new(&[
        ("database", DataType::Utf8),
        ("tableName", DataType::Utf8),
        ("isTemporary", DataType::Boolean),
    ]);
    let names = if sch == INFORMATION_SCHEMA {
        crate::info_schema::VIEWS
            .iter()
            .map(|v| v.to_string())
            .collect()
    } else {
        lake.tables(&cat, &sch)
    };
    for t in names {
        if shown(pattern.as_deref(), &t) {
            o.row(vec![s(sch.clone()), s(t), Cell::B(false)]);
        }
    }
    o.finish()
}

/// `SHOW COLUMNS IN table [IN schema]`.
async fn show_columns(
    engine: &Engine,
    table: Vec<String>,
    in_schema: Option<Vec<String>>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let name = match (in_schema, table.as_slice()) {
        (Some(sc), [t]) => {
            let mut v = sc;
            v.push(t.clone());
            v
        }
        _ => table,
    };
    let d = details(engine, &name, catalog, schema).await?;
    let mut o = Out::strings(&["col_name"]);
    for c in &d.columns {
        o.row(vec![s(c.name.clone())]);
    }
    o.finish()
}

/// `SHOW CREATE TABLE`: the DDL that would create the table as it is.
async fn show_create_table(
    engine: &Engine,
    table: Vec<String>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let d = details(engine, &table, catalog, schema).await?;
    let cols = d
        .columns
        .iter()
        .map(|c| {
            let mut line = format!(
                "  {} {}",
                c.name,
                crate::types::db_type(&c.data_type).type_text
            );
            if let Some(cm) = &c.comment {
                line.push_str(&format!(" COMMENT '{}'", cm.replace('\'', "\\'")));
            }
            line
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let mut stmt = format!(
        "CREATE TABLE {}.{}.{} (\n{cols})\nUSING {}",
        d.loc.catalog,
        d.loc.schema,
        d.loc.name,
        d.loc.format.name().to_ascii_lowercase()
    );
    if !d.partition_columns.is_empty() {
        stmt.push_str(&format!(
            "\nPARTITIONED BY ({})",
            d.partition_columns.join(", ")
        ));
    }
    if let Some(cm) = &d.comment {
        stmt.push_str(&format!("\nCOMMENT '{}'", cm.replace('\'', "\\'")));
    }
    let mut o = Out::strings(&["createtab_stmt"]);
    o.row(vec![s(stmt)]);
    o.finish()
}

/// `DESCRIBE [EXTENDED] table [column]`.
async fn describe_table(
    engine: &Engine,
    table: Vec<String>,
    extended: bool,
    column: Option<String>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let d = details(engine, &table, catalog, schema).await?;
    if let Some(col) = column {
        let c = d
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&col))
            .ok_or_else(|| {
                SqlError::new(
                    "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                    "42703",
                    format!(
                        "A column with name `{col}` cannot be resolved in {}. Columns: {}.",
                        d.loc.quoted(),
                        d.columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let mut o = Out::strings(&["info_name", "info_value"]);
        o.row(vec![s("col_name"), s(c.name.clone())]);
        o.row(vec![s("data_type"), s(uc_type_text(&c.data_type))]);
        o.row(vec![s("comment"), Cell::S(c.comment.clone())]);
        return o.finish();
    }
    let mut o = Out::strings(&["col_name", "data_type", "comment"]);
    for c in &d.columns {
        o.row(vec![
            s(c.name.clone()),
            s(uc_type_text(&c.data_type)),
            Cell::S(c.comment.clone()),
        ]);
    }
    if !d.partition_columns.is_empty() {
        o.row(vec![s("# Partition Information"), s(""), s("")]);
        o.row(vec![s("# col_name"), s("data_type"), s("comment")]);
        for p in &d.partition_columns {
            if let Some(c) = d.columns.iter().find(|c| &c.name == p) {
                o.row(vec![
                    s(c.name.clone()),
                    s(uc_type_text(&c.data_type)),
                    Cell::S(c.comment.clone()),
                ]);
            }
        }
    }
    if extended {
        let props = d
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        o.row(vec![s(""), s(""), s("")]);
        o.row(vec![s("# Detailed Table Information"), s(""), s("")]);
        let rows = [
            ("Catalog", d.loc.catalog.clone()),
            ("Database", d.loc.schema.clone()),
            ("Table", d.loc.name.clone()),
            ("Created Time", fmt_ts(d.created_at)),
            ("Last Access", "UNKNOWN".to_string()),
            (
                "Created By",
                "local-workspace (DataFusion + delta-rs)".to_string(),
            ),
            ("Type", "MANAGED".to_string()),
            ("Comment", d.comment.clone().unwrap_or_default()),
            ("Location", format!("file://{}", d.loc.path.display())),
            ("Provider", d.loc.format.name().to_ascii_lowercase()),
            ("Owner", engine.user.clone()),
            ("Table Properties", format!("[{props}]")),
        ];
        for (k, v) in rows {
            o.row(vec![s(k), s(v), s("")]);
        }
    }
    o.finish()
}

/// `DESCRIBE DETAIL`: one row of the table's Delta metadata.
async fn describe_detail(
    engine: &Engine,
    table: Vec<String>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let d = details(engine, &table, catalog, schema).await?;
    let mut o = Out::new(&[
        ("format", DataType::Utf8),
        ("id", DataType::Utf8),
        ("name", DataType::Utf8),
        ("description", DataType::Utf8),
        ("location", DataType::Utf8),
        ("createdAt", DataType::Utf8),
        ("lastModified", DataType::Utf8),
        ("partitionColumns", DataType::Utf8),
        ("numFiles", DataType::Int64),
        ("sizeInBytes", DataType::Int64),
        ("properties", DataType::Utf8),
        ("minReaderVersion", DataType::Int64),
        ("minWriterVersion", DataType::Int64),
    ]);
    let props: serde_json::Map<String, serde_json::Value> = d
        .properties
        .iter()
        .filter(|(k, _)| !k.starts_with("delta.min"))
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    o.row(vec![
        s(d.loc.format.name().to_ascii_lowercase()),
        s(d.table_id.clone()),
        s(d.loc.full_name()),
        Cell::S(d.comment.clone()),
        s(format!("file://{}", d.loc.path.display())),
        s(iso_ts(d.created_at)),
        s(iso_ts(d.updated_at)),
        s(serde_json::to_string(&d.partition_columns).unwrap_or_default()),
        Cell::I(i64::try_from(d.num_files).ok()),
        Cell::I(i64::try_from(d.size_bytes).ok()),
        s(serde_json::Value::Object(props).to_string()),
        Cell::I(d.min_reader_version),
        Cell::I(d.min_writer_version),
    ]);
    o.finish()
}

/// `DESCRIBE HISTORY`: the Delta commits, newest first.
async fn describe_history(
    engine: &Engine,
    table: Vec<String>,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let lake = &engine.lake;
    let (c, sc, t) = qualify(&table, catalog, schema)?;
    let loc = lake.locate(&c, &sc, &t)?;
    if loc.format != crate::lakehouse::Format::Delta {
        return Err(SqlError::new(
            "DELTA_MISSING_DELTA_TABLE",
            "42P01",
            format!("{} is not a Delta table.", loc.quoted()),
        ));
    }
    let mut o = Out::new(&[
        ("version", DataType::Int64),
        ("timestamp", DataType::Utf8),
        ("userName", DataType::Utf8),
        ("operation", DataType::Utf8),
        ("operationParameters", DataType::Utf8),
        ("operationMetrics", DataType::Utf8),
    ]);
    let mut commits = crate::lakehouse::commits(&loc.path);
    commits.reverse();
    for cm in commits {
        o.row(vec![
            Cell::I(Some(cm.version)),
            s(iso_ts(cm.timestamp)),
            Cell::S(cm.user.clone()),
            s(cm.operation.clone()),
            s(cm.parameters.to_string()),
            s(cm.metrics.to_string()),
        ]);
    }
    o.finish()
}

/// `DESCRIBE CATALOG`.
async fn describe_catalog(engine: &Engine, name: String) -> Result<QueryResult, SqlError> {
    let lake = &engine.lake;
    let cat = lake
        .find_catalog(&name)
        .ok_or_else(|| SqlError::catalog_not_found(&name, &lake.catalogs()))?;
    let mut o = Out::strings(&["info_name", "info_value"]);
    o.row(vec![s("Catalog Name"), s(cat.clone())]);
    o.row(vec![s("Comment"), Cell::S(lake.catalog_comment(&cat))]);
    o.row(vec![s("Owner"), s(engine.user.clone())]);
    o.row(vec![
        s("Catalog Type"),
        s(if cat == SYSTEM {
            "System Catalog"
        } else {
            "Regular"
        }),
    ]);
    o.finish()
}

/// `DESCRIBE QUERY`: the result columns of a query, which runs with no rows.
async fn describe_query(
    engine: &Engine,
    sql: String,
    catalog: &str,
    schema: &str,
) -> Result<QueryResult, SqlError> {
    let opts = ExecOptions {
        catalog: Some(catalog.to_string()),
        schema: Some(schema.to_string()),
        row_limit: Some(0),
        ..Default::default()
    };
    let r = Box::pin(engine.execute(&sql, &opts)).await?;
    let mut o = Out::strings(&["col_name", "data_type", "comment"]);
    for f in r.schema.fields() {
        o.row(vec![
            s(f.name().clone()),
            s(uc_type_text(f.data_type())),
            Cell::S(None),
        ]);
    }
    o.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse("SHOW TABLES IN samples.tpch").unwrap(),
            Some(Command::ShowTables {
                schema: Some(vec!["samples".into(), "tpch".into()]),
                pattern: None
            })
        );
        assert_eq!(
            parse("show schemas in `samples` like 'tp*';").unwrap(),
            Some(Command::ShowSchemas {
                catalog: Some("samples".into()),
                pattern: Some("tp*".into())
            })
        );
        assert_eq!(
            parse("DESCRIBE TABLE EXTENDED samples.tpch.lineitem").unwrap(),
            Some(Command::Describe {
                table: vec!["samples".into(), "tpch".into(), "lineitem".into()],
                extended: true,
                column: None
            })
        );
        assert!(matches!(
            parse("DESCRIBE HISTORY t").unwrap(),
            Some(Command::DescribeHistory { .. })
        ));
        assert!(matches!(
            parse("DESCRIBE SELECT 1").unwrap(),
            Some(Command::DescribeQuery { .. })
        ));
        assert_eq!(parse("SELECT 1").unwrap(), None);
        assert!(parse("SHOW GRANTS").is_err());
    }

    #[test]
    fn patterns() {
        assert!(show_pattern_matches("tp*", "tpch"));
        assert!(show_pattern_matches("x|TPCH", "tpch"));
        assert!(!show_pattern_matches("a*", "tpch"));
    }
}
