//! How the local workspace's Genie turns a question into SQL, without a language model:
//! a small, deterministic reader of questions about one table of its Genie spaces.
//!
//! It finds the table the question is about (its name, or the columns it mentions), the
//! columns it names (`order priority` → `o_orderpriority`, `status` → `o_orderstatus`),
//! an aggregate (`how many`, `number of`, `count` → `count(*)`; `total`, `sum`;
//! `average`, `mean`; `minimum`, `lowest`; `maximum`, `highest`), the groups (`by`,
//! `per`, `for each`, `across` a column; `by month`, `monthly`, `per year` over the
//! table's date column), a year (`in 1995`) and a `top N`. What it cannot place it says
//! so, naming the tables it knows, rather than guessing: an honest "I cannot answer that
//! here" is better than a confident wrong answer.
//!
//! Only identifiers from the catalog and numbers parsed from the question reach the SQL:
//! no text of the question is ever quoted into it.

use std::fmt::Write as _;

/// A table of a Genie space, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableSchema {
    /// `catalog.schema.table`.
    pub full_name: String,
    pub columns: Vec<ColumnSchema>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnSchema {
    pub name: String,
    /// Databricks type name: `INT`, `LONG`, `DECIMAL`, `DOUBLE`, `DATE`, `TIMESTAMP`,
    /// `STRING`, …
    pub type_name: String,
}

impl ColumnSchema {
    fn is_numeric(&self) -> bool {
        matches!(
            self.type_name.as_str(),
            "INT" | "LONG" | "SHORT" | "BYTE" | "DECIMAL" | "DOUBLE" | "FLOAT"
        )
    }

    fn is_temporal(&self) -> bool {
        matches!(
            self.type_name.as_str(),
            "DATE" | "TIMESTAMP" | "TIMESTAMP_NTZ"
        )
    }

    /// Keys are identifiers, not measures.
    fn is_key(&self) -> bool {
        self.name.ends_with("key") || self.name.ends_with("_id") || self.name == "id"
    }
}

/// The SQL for a question, and what it computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The table it reads.
    pub table: String,
    pub sql: String,
    /// A short title: what the result is.
    pub title: String,
    /// How the question was read.
    pub description: String,
    /// The result's shape, for the answer's sentence.
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One row, one value (`measure` names it).
    Single { measure: String },
    /// One row per group.
    Grouped,
    /// Rows of the table itself.
    Rows,
}

/// Why no SQL was written, as the answer says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoPlan(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl Agg {
    fn sql(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum => "sum",
            Agg::Avg => "avg",
            Agg::Min => "min",
            Agg::Max => "max",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Agg::Count => "Number of rows",
            Agg::Sum => "Total",
            Agg::Avg => "Average",
            Agg::Min => "Minimum",
            Agg::Max => "Maximum",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Year,
    Quarter,
    Month,
    Week,
    Day,
}

impl Grain {
    fn name(self) -> &'static str {
        match self {
            Grain::Year => "year",
            Grain::Quarter => "quarter",
            Grain::Month => "month",
            Grain::Week => "week",
            Grain::Day => "day",
        }
    }

    fn of(word: &str) -> Option<Grain> {
        Some(match word {
            "year" | "yearly" | "annual" | "annually" => Grain::Year,
            "quarter" | "quarterly" => Grain::Quarter,
            "month" | "monthly" => Grain::Month,
            "week" | "weekly" => Grain::Week,
            "day" | "daily" => Grain::Day,
            _ => return None,
        })
    }

    /// Words that group on their own (`monthly`), without `by`/`per`.
    fn groups_alone(word: &str) -> bool {
        matches!(
            word,
            "yearly" | "annual" | "annually" | "quarterly" | "monthly" | "weekly" | "daily"
        )
    }
}

/// Abbreviations column names use, and the words they stand for.
const ABBREVIATIONS: [(&str, &str); 12] = [
    ("mkt", "market"),
    ("acct", "account"),
    ("bal", "balance"),
    ("mfgr", "manufacturer"),
    ("cust", "customer"),
    ("supp", "supplier"),
    ("qty", "quantity"),
    ("amt", "amount"),
    ("num", "number"),
    ("desc", "description"),
    ("addr", "address"),
    ("avail", "available"),
];

/// Words after which columns are groups.
const GROUP_WORDS: [&str; 5] = ["by", "per", "each", "every", "across"];

/// Rows listed when the question asks for no aggregate.
const LIST_LIMIT: u32 = 10;
/// `top` without a number.
const DEFAULT_TOP: u32 = 10;

/// A word of the question: as written (lower case) and its singular.
#[derive(Debug, Clone)]
struct Word {
    raw: String,
    stem: String,
}

fn words(question: &str) -> Vec<Word> {
    question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let raw = w.to_lowercase();
            Word {
                stem: singular(&raw),
                raw,
            }
        })
        .collect()
}

/// English plural to singular, as far as table and column names need it.
fn singular(word: &str) -> String {
    if word.len() <= 3 || word.chars().all(|c| c.is_ascii_digit()) {
        return word.to_string();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    if word.ends_with("sses") || word.ends_with("uses") || word.ends_with("xes") {
        return word[..word.len() - 2].to_string();
    }
    if word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// The short table name's singular (`samples.tpch.orders` → `order`).
fn table_stem(full_name: &str) -> String {
    singular(
        &full_name
            .rsplit('.')
            .next()
            .unwrap_or(full_name)
            .to_lowercase(),
    )
}

/// The prefix every column of the table shares (`o_` in TPC-H's orders), if any.
fn shared_prefix(columns: &[ColumnSchema]) -> Option<String> {
    let first = columns.first()?;
    let (prefix, _) = first.name.split_once('_')?;
    let prefix = format!("{prefix}_");
    (prefix.len() <= 4 && columns.iter().all(|c| c.name.starts_with(&prefix))).then_some(prefix)
}

/// A column's name as matched: without the table's shared prefix, lower case, no `_`.
fn column_key(name: &str, prefix: Option<&str>) -> String {
    let bare = prefix.and_then(|p| name.strip_prefix(p)).unwrap_or(name);
    bare.to_lowercase().replace('_', "")
}

/// Where a column is mentioned: the first word and how many words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mention {
    column: usize,
    at: usize,
    len: usize,
    exact: bool,
}

/// The ways a word may be spelled in a column name.
fn spellings(word: &Word) -> Vec<String> {
    let mut out = vec![word.stem.clone(), word.raw.clone()];
    for (short, long) in ABBREVIATIONS {
        if word.stem == long {
            out.push(short.to_string());
        }
    }
    out.dedup();
    out
}

/// Every mention of the table's columns in the question, longest first, without
/// overlaps.
fn mentions(words: &[Word], table: &TableSchema) -> Vec<Mention> {
    let prefix = shared_prefix(&table.columns);
    let keys: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_key(&c.name, prefix.as_deref()))
        .collect();
    let mut found: Vec<Mention> = Vec::new();
    let mut taken = vec![false; words.len()];
    // Exact: one to three consecutive words spell the column's name.
    for len in (1..=3).rev() {
        for (at, span) in words.windows(len).enumerate() {
            if taken
                .get(at..at + len)
                .is_none_or(|span| span.iter().any(|t| *t))
            {
                continue;
            }
            let mut spelled = vec![String::new()];
            for w in span {
                spelled = spelled
                    .iter()
                    .flat_map(|s| spellings(w).into_iter().map(move |p| format!("{s}{p}")))
                    .collect();
            }
            if let Some(column) = keys
                .iter()
                .position(|k| spelled.iter().any(|s| s == k) && !k.is_empty())
            {
                found.push(Mention {
                    column,
                    at,
                    len,
                    exact: true,
                });
                if let Some(span) = taken.get_mut(at..at + len) {
                    span.fill(true);
                }
            }
        }
    }
    // Partial: one word of four letters or more that ends a column's name
    // (`priority` → `orderpriority`), the first such column.
    for (at, (w, taken)) in words.iter().zip(taken.iter_mut()).enumerate() {
        if *taken || w.stem.len() < 4 || Grain::of(&w.stem).is_some() {
            continue;
        }
        if let Some(column) = keys
            .iter()
            .position(|k| k.len() > w.stem.len() && k.ends_with(&w.stem))
            && !found.iter().any(|m| m.column == column)
        {
            found.push(Mention {
                column,
                at,
                len: 1,
                exact: false,
            });
            *taken = true;
        }
    }
    found.sort_by_key(|m| m.at);
    found
}

/// How well the question fits a table: its name, then its columns.
fn score(words: &[Word], table: &TableSchema) -> (usize, Vec<Mention>) {
    let stem = table_stem(&table.full_name);
    let named = words.iter().any(|w| w.stem == stem)
        || words
            .iter()
            .zip(words.iter().skip(1))
            .any(|(a, b)| format!("{}{}", a.stem, b.stem) == stem);
    let mentions = mentions(words, table);
    let mut score = if named { 10 } else { 0 };
    for m in &mentions {
        score += if m.exact { 3 } else { 1 };
    }
    (score, mentions)
}

fn has_word(words: &[Word], any: &[&str]) -> bool {
    words.iter().any(|w| any.contains(&w.raw.as_str()))
}

fn has_phrase(question: &str, phrases: &[&str]) -> bool {
    let lower = format!(" {} ", question.to_lowercase());
    phrases.iter().any(|p| lower.contains(&format!(" {p} ")))
}

/// `top N`, `N highest`, `first N`: the N.
fn top(words: &[Word]) -> Option<u32> {
    for (i, w) in words.iter().enumerate() {
        if w.raw == "top" || w.raw == "first" {
            let n = words
                .get(i + 1)
                .and_then(|n| n.raw.parse::<u32>().ok())
                .filter(|n| (1..=1000).contains(n));
            return Some(n.unwrap_or(DEFAULT_TOP));
        }
    }
    None
}

/// A year the question filters on (`in 1995`, `during 1996`, `for 1997`).
fn year(words: &[Word]) -> Option<i32> {
    words.iter().zip(words.iter().skip(1)).find_map(|(a, b)| {
        let y = b.raw.parse::<i32>().ok()?;
        (matches!(a.raw.as_str(), "in" | "during" | "for" | "of") && (1900..=2100).contains(&y))
            .then_some(y)
    })
}

fn ident(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

fn table_ident(full_name: &str) -> String {
    full_name
        .split('.')
        .map(ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// The SQL for `question` over `tables`; `previous` is the table the conversation's last
/// answer read (a follow-up that names no table asks about it).
pub(crate) fn plan(
    question: &str,
    tables: &[TableSchema],
    previous: Option<&str>,
) -> Result<Plan, NoPlan> {
    let words = words(question);
    if tables.is_empty() {
        return Err(NoPlan(
            "This workspace's Genie spaces name no table I can read, so I cannot answer questions about data yet. Add tables to a space in the workspace's genie/spaces directory.".to_string(),
        ));
    }
    let Some((table, mentioned)) = choose_table(&words, tables, previous) else {
        return Err(NoPlan(no_match(tables)));
    };
    // Mentions, groups and the measure are positions in `columns`.
    let columns = &table.columns;
    let agg = asked_aggregate(question, &words, &mentioned);
    let top = top(&words);
    let (dims, grain) = asked_groups(&words, &mentioned, columns, top);
    let date_column = mentioned
        .iter()
        .map(|m| m.column)
        .find(|&c| is_temporal(columns, c))
        .or_else(|| columns.iter().position(ColumnSchema::is_temporal));
    if grain.is_some() && date_column.is_none() {
        return Err(NoPlan(format!(
            "{} has no date column to group by a period of time. Its columns: {}.",
            table.full_name,
            column_list(table)
        )));
    }
    let measure_column = mentioned
        .iter()
        .map(|m| m.column)
        .find(|&c| !dims.contains(&c) && is_measure(columns, c));
    let grouped = !dims.is_empty() || grain.is_some();
    let agg = settle_aggregate(question, table, agg, measure_column.is_some(), grouped)?;

    let date = date_column.and_then(|c| columns.get(c));
    let year_filter = year(&words).zip(date).map(|(y, c)| {
        (
            format!("year({}) = {y}", ident(&c.name)),
            format!(" in {y}"),
        )
    });
    let descending = matches!(agg, Some(Agg::Max)) || top.is_some() || has_word(&words, &["most"]);
    Ok(write_plan(Reading {
        table,
        mentioned,
        dims,
        grain,
        date_column,
        agg,
        measure_column,
        grouped,
        top,
        year_filter,
        descending,
    }))
}

/// Whether column `c` holds dates or times.
fn is_temporal(columns: &[ColumnSchema], c: usize) -> bool {
    columns.get(c).is_some_and(ColumnSchema::is_temporal)
}

/// Whether column `c` can be a measure: numeric, and not a key.
fn is_measure(columns: &[ColumnSchema], c: usize) -> bool {
    columns
        .get(c)
        .is_some_and(|c| c.is_numeric() && !c.is_key())
}

/// What the question groups by: the columns (positions in `columns`) and the time grain.
fn asked_groups(
    words: &[Word],
    mentioned: &[Mention],
    columns: &[ColumnSchema],
    top: Option<u32>,
) -> (Vec<usize>, Option<Grain>) {
    // Groups: columns mentioned after a grouping word, and time grains.
    let group_at = words
        .iter()
        .position(|w| GROUP_WORDS.contains(&w.raw.as_str()));
    let grain = words.iter().enumerate().find_map(|(i, w)| {
        let g = Grain::of(&w.stem)?;
        let grouped = Grain::groups_alone(&w.raw) || group_at.is_some_and(|g| i > g);
        grouped.then_some(g)
    });
    // Groups: what is named after the grouping word, but a measure there ranks (`top
    // ship modes by quantity`); with a top N, the categories named before it too.
    let mut dims: Vec<usize> = mentioned
        .iter()
        .filter(|m| {
            let after = group_at.is_some_and(|g| m.at > g);
            (after || (top.is_some() && !is_temporal(columns, m.column)))
                && !is_measure(columns, m.column)
        })
        .map(|m| m.column)
        .collect();
    // A date column named as a group is grouped by its grain (by day when none is said).
    let grain = match (grain, dims.iter().position(|&c| is_temporal(columns, c))) {
        (Some(g), Some(i)) => {
            dims.remove(i);
            Some(g)
        }
        (None, Some(i)) => {
            dims.remove(i);
            Some(Grain::Day)
        }
        (g, None) => g,
    };
    (dims, grain)
}

/// The table the question is about, with the columns it mentions there: the best
/// scored (the first of equals), else the table of the conversation's last answer.
fn choose_table<'t>(
    words: &[Word],
    tables: &'t [TableSchema],
    previous: Option<&str>,
) -> Option<(&'t TableSchema, Vec<Mention>)> {
    let scored: Vec<(usize, Vec<Mention>)> = tables.iter().map(|t| score(words, t)).collect();
    let best = scored
        .iter()
        .enumerate()
        .max_by_key(|(i, (s, _))| (*s, std::cmp::Reverse(*i)))
        .filter(|(_, (s, _))| *s > 0)
        .map(|(i, _)| i)
        .or_else(|| previous.and_then(|p| tables.iter().position(|t| t.full_name == p)));
    let (table, (_, mentioned)) =
        best.and_then(|i| tables.get(i).zip(scored.into_iter().nth(i)))?;
    Some((table, mentioned))
}

/// The aggregate the query computes, from the one asked for, whether a measure column
/// was found and whether the query groups; an aggregate of a column that cannot be told
/// is no plan.
fn settle_aggregate(
    question: &str,
    table: &TableSchema,
    asked: Option<Agg>,
    has_measure: bool,
    grouped: bool,
) -> Result<Option<Agg>, NoPlan> {
    Ok(match (asked, has_measure) {
        (Some(Agg::Count), _) => Some(Agg::Count),
        (Some(a), true) => Some(a),
        (Some(_), false) if grouped => Some(Agg::Count),
        (Some(a), false) => {
            return Err(NoPlan(format!(
                "I read \"{}\" as asking for the {} of a column of {}, but could not tell which. Its numeric columns: {}.",
                question.trim(),
                a.words().to_lowercase(),
                table.full_name,
                numeric_list(table)
            )));
        }
        // A measure named with groups, or asked about ("what is the total price"):
        // summed.
        (None, true)
            if grouped || has_phrase(question, &["what is the", "what's the", "how much"]) =>
        {
            Some(Agg::Sum)
        }
        (None, _) if grouped => Some(Agg::Count),
        (None, _) => None,
    })
}

/// The aggregate a question asks for by its words ("how many", "average", "top" …),
/// not counting words that are part of a column's name.
fn asked_aggregate(question: &str, words: &[Word], mentioned: &[Mention]) -> Option<Agg> {
    let agg_word = |list: &[&str]| {
        words.iter().enumerate().any(|(i, w)| {
            list.contains(&w.raw.as_str())
                && !mentioned.iter().any(|m| (m.at..m.at + m.len).contains(&i))
        })
    };
    if has_phrase(question, &["how many", "number of"]) || agg_word(&["count"]) {
        Some(Agg::Count)
    } else if agg_word(&["average", "avg", "mean"]) {
        Some(Agg::Avg)
    } else if agg_word(&["total", "sum", "overall"]) {
        Some(Agg::Sum)
    } else if agg_word(&["minimum", "min", "lowest", "smallest", "earliest"]) {
        Some(Agg::Min)
    } else if agg_word(&["maximum", "max", "highest", "largest", "biggest", "latest"]) {
        Some(Agg::Max)
    } else {
        None
    }
}

/// What a question was read as: the table, its groups and measure, the filters.
struct Reading<'a> {
    table: &'a TableSchema,
    mentioned: Vec<Mention>,
    dims: Vec<usize>,
    grain: Option<Grain>,
    date_column: Option<usize>,
    agg: Option<Agg>,
    measure_column: Option<usize>,
    grouped: bool,
    top: Option<u32>,
    /// The `WHERE` condition and how the title says it.
    year_filter: Option<(String, String)>,
    descending: bool,
}

/// A reading written as SQL, with the title that says what it computes.
fn write_plan(reading: Reading<'_>) -> Plan {
    let table = reading.table;
    let groups = reading.groups();
    let (computed, title, shape, measure_alias) = reading.computed(&groups.names);
    let mut selects = groups.selects;
    selects.extend(computed);
    let mut sql = format!(
        "SELECT {} FROM {}",
        selects.join(", "),
        table_ident(&table.full_name)
    );
    sql.push_str(&reading.clauses(&groups.keys, measure_alias.as_deref(), &shape));
    let mut title = title;
    if let Some((_, said)) = &reading.year_filter {
        title.push_str(said);
    }
    if let Some(n) = reading.top.filter(|_| reading.grouped) {
        title = format!("Top {n}: {title}");
    }
    let description = format!(
        "Read as: {} (table {}).",
        title.to_lowercase(),
        table.full_name
    );
    Plan {
        table: table.full_name.clone(),
        sql,
        title,
        description,
        shape,
    }
}

/// The groups of a query: the time grain's first, then the columns named as groups.
struct Groups {
    /// Their `SELECT` items.
    selects: Vec<String>,
    /// Their `GROUP BY` items.
    keys: Vec<String>,
    /// How the title names them.
    names: Vec<String>,
}

impl Reading<'_> {
    /// A column of the table (groups and the measure are positions in its columns).
    fn column(&self, c: Option<usize>) -> Option<&ColumnSchema> {
        c.and_then(|c| self.table.columns.get(c))
    }

    fn groups(&self) -> Groups {
        let mut groups = Groups {
            selects: Vec::new(),
            keys: Vec::new(),
            names: Vec::new(),
        };
        if let (Some(g), Some(c)) = (self.grain, self.column(self.date_column)) {
            let alias = g.name().to_string();
            groups.selects.push(format!(
                "date_trunc('{}', {}) AS {alias}",
                g.name().to_uppercase(),
                ident(&c.name)
            ));
            groups.keys.push(alias.clone());
            groups.names.push(format!("{} of {}", alias, c.name));
        }
        for d in self.dims.iter().filter_map(|&d| self.table.columns.get(d)) {
            groups.selects.push(ident(&d.name));
            groups.keys.push(ident(&d.name));
            groups.names.push(d.name.clone());
        }
        groups
    }

    /// What the query computes after its groups: the `SELECT` items (the aggregate, else
    /// the columns mentioned or `*`), the title before its filters, the shape of the
    /// answer, and the aggregate's alias.
    fn computed(&self, group_names: &[String]) -> (Vec<String>, String, Shape, Option<String>) {
        let table = self.table;
        let Some(a) = self.agg else {
            let listed: Vec<String> = self
                .mentioned
                .iter()
                .filter_map(|m| self.column(Some(m.column)))
                .map(|c| ident(&c.name))
                .collect();
            let selects = if listed.is_empty() {
                vec!["*".to_string()]
            } else {
                listed
            };
            return (
                selects,
                format!("Rows of {}", table.full_name),
                Shape::Rows,
                None,
            );
        };
        let (expr, alias, what) = match (a, self.column(self.measure_column)) {
            (Agg::Count, _) | (_, None) => (
                "count(*)".to_string(),
                format!("{}_count", table_stem(&table.full_name)),
                format!("Number of rows of {}", table.full_name),
            ),
            (a, Some(c)) => (
                format!("{}({})", a.sql(), ident(&c.name)),
                format!("{}_{}", a.sql(), c.name),
                format!("{} {} of {}", a.words(), c.name, table.full_name),
            ),
        };
        let select = format!("{expr} AS {}", ident(&alias));
        let mut title = what;
        if !group_names.is_empty() {
            let _ = write!(title, " by {}", group_names.join(" and "));
        }
        let shape = if self.grouped {
            Shape::Grouped
        } else {
            Shape::Single {
                measure: alias.clone(),
            }
        };
        (vec![select], title, shape, Some(alias))
    }

    /// The clauses after `FROM`: the year's filter, the groups, their order (by the
    /// measure, largest first, when the question ranks), and the limit.
    fn clauses(&self, keys: &[String], measure_alias: Option<&str>, shape: &Shape) -> String {
        let mut sql = String::new();
        if let Some((filter, _)) = &self.year_filter {
            let _ = write!(sql, " WHERE {filter}");
        }
        if !keys.is_empty() {
            let _ = write!(sql, " GROUP BY {}", keys.join(", "));
        }
        match (measure_alias, self.grouped) {
            (Some(m), true) if self.descending => {
                let _ = write!(sql, " ORDER BY {} DESC", ident(m));
            }
            (_, true) => {
                let _ = write!(sql, " ORDER BY {}", keys.join(", "));
            }
            _ => {}
        }
        match (self.top, shape) {
            (Some(n), Shape::Grouped | Shape::Rows) => {
                let _ = write!(sql, " LIMIT {n}");
            }
            (None, Shape::Rows) => {
                let _ = write!(sql, " LIMIT {LIST_LIMIT}");
            }
            _ => {}
        }
        sql
    }
}

fn column_list(table: &TableSchema) -> String {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn numeric_list(table: &TableSchema) -> String {
    let numeric: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.is_numeric() && !c.is_key())
        .map(|c| c.name.as_str())
        .collect();
    if numeric.is_empty() {
        "none".to_string()
    } else {
        numeric.join(", ")
    }
}

fn no_match(tables: &[TableSchema]) -> String {
    let names: Vec<&str> = tables.iter().map(|t| t.full_name.as_str()).collect();
    format!(
        "I could not tell which data the question is about. The Genie spaces of this workspace cover: {}. Name one of these tables or its columns, for example \"How many {} are there by {}?\".",
        names.join(", "),
        tables
            .first()
            .map(|t| t.full_name.rsplit('.').next().unwrap_or("rows").to_string())
            .unwrap_or_default(),
        tables
            .first()
            .and_then(|t| t
                .columns
                .iter()
                .find(|c| !c.is_numeric() && !c.is_temporal()))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| "a column".into())
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn col(name: &str, type_name: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            type_name: type_name.into(),
        }
    }

    fn tpch() -> Vec<TableSchema> {
        vec![
            TableSchema {
                full_name: "samples.tpch.customer".into(),
                columns: vec![
                    col("c_custkey", "LONG"),
                    col("c_name", "STRING"),
                    col("c_nationkey", "LONG"),
                    col("c_acctbal", "DECIMAL"),
                    col("c_mktsegment", "STRING"),
                ],
            },
            TableSchema {
                full_name: "samples.tpch.orders".into(),
                columns: vec![
                    col("o_orderkey", "LONG"),
                    col("o_custkey", "LONG"),
                    col("o_orderstatus", "STRING"),
                    col("o_totalprice", "DECIMAL"),
                    col("o_orderdate", "DATE"),
                    col("o_orderpriority", "STRING"),
                    col("o_clerk", "STRING"),
                ],
            },
            TableSchema {
                full_name: "samples.tpch.lineitem".into(),
                columns: vec![
                    col("l_orderkey", "LONG"),
                    col("l_quantity", "DECIMAL"),
                    col("l_extendedprice", "DECIMAL"),
                    col("l_returnflag", "STRING"),
                    col("l_shipdate", "DATE"),
                    col("l_shipmode", "STRING"),
                ],
            },
        ]
    }

    fn sql(question: &str) -> String {
        plan(question, &tpch(), None)
            .map(|p| p.sql)
            .unwrap_or_else(|e| format!("NO PLAN: {}", e.0))
    }

    #[test]
    fn counts_by_a_named_column() {
        assert_eq!(
            sql("How many orders are there for each order priority?"),
            "SELECT o_orderpriority, count(*) AS order_count FROM samples.tpch.orders GROUP BY o_orderpriority ORDER BY o_orderpriority"
        );
        assert_eq!(
            sql("Number of orders by status"),
            "SELECT o_orderstatus, count(*) AS order_count FROM samples.tpch.orders GROUP BY o_orderstatus ORDER BY o_orderstatus"
        );
        assert_eq!(
            sql("how many customers per market segment"),
            "SELECT c_mktsegment, count(*) AS customer_count FROM samples.tpch.customer GROUP BY c_mktsegment ORDER BY c_mktsegment"
        );
    }

    #[test]
    fn sums_and_averages_of_a_measure() {
        assert_eq!(
            sql("What is the total price of orders by order status?"),
            "SELECT o_orderstatus, sum(o_totalprice) AS sum_o_totalprice FROM samples.tpch.orders GROUP BY o_orderstatus ORDER BY o_orderstatus"
        );
        assert_eq!(
            sql("Average account balance of customers"),
            "SELECT avg(c_acctbal) AS avg_c_acctbal FROM samples.tpch.customer"
        );
        assert_eq!(
            sql("How many line items were shipped in 1995?"),
            "SELECT count(*) AS lineitem_count FROM samples.tpch.lineitem WHERE year(l_shipdate) = 1995"
        );
    }

    #[test]
    fn time_series_and_top_n() {
        assert_eq!(
            sql("Monthly number of orders"),
            "SELECT date_trunc('MONTH', o_orderdate) AS month, count(*) AS order_count FROM samples.tpch.orders GROUP BY month ORDER BY month"
        );
        assert_eq!(
            sql("total price of orders per year"),
            "SELECT date_trunc('YEAR', o_orderdate) AS year, sum(o_totalprice) AS sum_o_totalprice FROM samples.tpch.orders GROUP BY year ORDER BY year"
        );
        assert_eq!(
            sql("top 3 ship modes by quantity of line items"),
            "SELECT l_shipmode, sum(l_quantity) AS sum_l_quantity FROM samples.tpch.lineitem GROUP BY l_shipmode ORDER BY sum_l_quantity DESC LIMIT 3"
        );
    }

    #[test]
    fn follow_ups_keep_the_table_and_unknowns_are_said() {
        let p = plan("and by status?", &tpch(), Some("samples.tpch.orders")).unwrap();
        assert_eq!(p.table, "samples.tpch.orders");
        let none = plan("What is the weather in Paris?", &tpch(), None).unwrap_err();
        assert!(none.0.contains("samples.tpch.orders"), "{}", none.0);
        let vague = plan("What is the average of customers?", &tpch(), None).unwrap_err();
        assert!(vague.0.contains("c_acctbal"), "{}", vague.0);
        assert!(plan("How many orders?", &[], None).is_err());
    }

    #[test]
    fn only_catalog_names_and_numbers_reach_the_sql() {
        let p = plan(
            "How many orders'; DROP TABLE x; -- by status",
            &tpch(),
            None,
        )
        .unwrap();
        assert!(!p.sql.contains("DROP"), "{}", p.sql);
        assert_eq!(ident("weird name"), "`weird name`");
        assert_eq!(singular("statuses"), "status");
        assert_eq!(singular("categories"), "category");
    }
}
