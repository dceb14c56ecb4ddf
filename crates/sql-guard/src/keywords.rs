//! Keyword recognition as Spark's lexer does it.
//!
//! Spark compares keywords after upper-casing the input with Java's
//! `Character.toUpperCase` — the *simple* Unicode mapping, one code point to one. Two
//! non-ASCII letters map to ASCII letters that way: `ı` (U+0131, dotless i) → `I` and
//! `ſ` (U+017F, long s) → `S`. So `ınsert` is the keyword `INSERT` for Databricks, and an
//! ASCII-only comparison would miss it. Every keyword comparison in this crate goes
//! through [`fold`] / [`folds_to`].

use std::borrow::Cow;

/// Java's `Character.toUpperCase(int)`: the simple upper-case mapping. Rust's
/// `char::to_uppercase` is the full mapping; where that gives several characters
/// (`ß` → `SS`) the simple mapping keeps the character.
pub(crate) fn spark_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// A word as Spark's lexer sees it when it matches keywords.
pub(crate) fn fold(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_lowercase()) {
            Cow::Owned(word.to_ascii_uppercase())
        } else {
            Cow::Borrowed(word)
        }
    } else {
        Cow::Owned(word.chars().map(spark_upper).collect())
    }
}

/// Whether `word` is the keyword `keyword` (given in ASCII) for Spark.
pub(crate) fn folds_to(word: &str, keyword: &str) -> bool {
    word.chars()
        .map(spark_upper)
        .eq(keyword.chars().map(|c| c.to_ascii_uppercase()))
}

/// Whether `word` has a non-ASCII letter that Spark upper-cases to an ASCII one.
pub(crate) fn has_look_alike(word: &str) -> bool {
    !word.is_ascii()
        && word
            .chars()
            .any(|c| !c.is_ascii() && spark_upper(c).is_ascii())
}

/// Whether an upper-cased word is a keyword: Spark's lexer keyword list
/// (`SqlBaseLexer.g4`, between `SPARK-KEYWORD-LIST-START` and `-END`, with the alternative
/// spellings `REGEXP`, `TEMP`, `MINUS`, `X`, `IDENTIFIER`) plus the statement keywords of
/// Databricks SQL that open-source Spark lacks (`OPTIMIZE`, `VACUUM`, `COPY`, …).
pub(crate) fn is_keyword(folded: &str) -> bool {
    KEYWORDS.binary_search(&folded).is_ok()
}

/// Sorted, upper case.
pub(crate) const KEYWORDS: &[&str] = &[
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "ANTI",
    "ANY",
    "ANY_VALUE",
    "APPLY",
    "ARCHIVE",
    "ARRAY",
    "AS",
    "ASC",
    "AT",
    "AUTHORIZATION",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BINDING",
    "BOOLEAN",
    "BOTH",
    "BUCKET",
    "BUCKETS",
    "BY",
    "BYTE",
    "CACHE",
    "CALL",
    "CALLED",
    "CASCADE",
    "CASE",
    "CAST",
    "CATALOG",
    "CATALOGS",
    "CHANGE",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "CLEAR",
    "CLUSTER",
    "CLUSTERED",
    "CODEGEN",
    "COLLATE",
    "COLLATION",
    "COLLECTION",
    "COLUMN",
    "COLUMNS",
    "COMMENT",
    "COMMIT",
    "COMPACT",
    "COMPACTIONS",
    "COMPENSATION",
    "COMPUTE",
    "CONCATENATE",
    "CONSTRAINT",
    "CONTAINS",
    "CONVERT",
    "COPY",
    "COST",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DATA",
    "DATABASE",
    "DATABASES",
    "DATE",
    "DATEADD",
    "DATEDIFF",
    "DATE_ADD",
    "DATE_DIFF",
    "DAY",
    "DAYOFYEAR",
    "DAYS",
    "DBPROPERTIES",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFINED",
    "DEFINER",
    "DELETE",
    "DELIMITED",
    "DENY",
    "DESC",
    "DESCRIBE",
    "DETERMINISTIC",
    "DFS",
    "DIRECTORIES",
    "DIRECTORY",
    "DISTINCT",
    "DISTRIBUTE",
    "DIV",
    "DO",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "ESCAPED",
    "EVOLUTION",
    "EXCEPT",
    "EXCHANGE",
    "EXCLUDE",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXPLAIN",
    "EXPORT",
    "EXTENDED",
    "EXTERNAL",
    "EXTRACT",
    "FALSE",
    "FETCH",
    "FIELDS",
    "FILEFORMAT",
    "FILTER",
    "FIRST",
    "FLOAT",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FORMAT",
    "FORMATTED",
    "FROM",
    "FSCK",
    "FULL",
    "FUNCTION",
    "FUNCTIONS",
    "GENERATE",
    "GENERATED",
    "GET",
    "GLOBAL",
    "GRANT",
    "GROUP",
    "GROUPING",
    "HAVING",
    "HOUR",
    "HOURS",
    "IDENTIFIER",
    "IF",
    "IGNORE",
    "ILIKE",
    "IMMEDIATE",
    "IMPORT",
    "IN",
    "INCLUDE",
    "INDEX",
    "INDEXES",
    "INNER",
    "INPATH",
    "INPUT",
    "INPUTFORMAT",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "INVOKER",
    "IS",
    "ITEMS",
    "ITERATE",
    "JOIN",
    "KEYS",
    "KILL",
    "LANGUAGE",
    "LAST",
    "LATERAL",
    "LAZY",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LINES",
    "LIST",
    "LOAD",
    "LOCAL",
    "LOCATION",
    "LOCK",
    "LOCKS",
    "LOGICAL",
    "LONG",
    "LOOP",
    "MACRO",
    "MAP",
    "MATCHED",
    "MERGE",
    "MICROSECOND",
    "MICROSECONDS",
    "MILLISECOND",
    "MILLISECONDS",
    "MINUS",
    "MINUTE",
    "MINUTES",
    "MODIFIES",
    "MONTH",
    "MONTHS",
    "MSCK",
    "NAME",
    "NAMESPACE",
    "NAMESPACES",
    "NANOSECOND",
    "NANOSECONDS",
    "NATURAL",
    "NO",
    "NONE",
    "NOT",
    "NULL",
    "NULLS",
    "NUMERIC",
    "OF",
    "OFFSET",
    "ON",
    "ONLY",
    "OPTIMIZE",
    "OPTION",
    "OPTIONS",
    "OR",
    "ORDER",
    "OUT",
    "OUTER",
    "OUTPUTFORMAT",
    "OVER",
    "OVERLAPS",
    "OVERLAY",
    "OVERWRITE",
    "PARTITION",
    "PARTITIONED",
    "PARTITIONS",
    "PERCENT",
    "PIVOT",
    "PLACING",
    "POSITION",
    "PRECEDING",
    "PRIMARY",
    "PRINCIPALS",
    "PROPERTIES",
    "PURGE",
    "PUT",
    "QUALIFY",
    "QUARTER",
    "QUERY",
    "RANGE",
    "READS",
    "REAL",
    "RECORDREADER",
    "RECORDWRITER",
    "RECOVER",
    "RECURSIVE",
    "REDUCE",
    "REFERENCES",
    "REFRESH",
    "REGEXP",
    "REMOVE",
    "RENAME",
    "REORG",
    "REPAIR",
    "REPEAT",
    "REPEATABLE",
    "REPLACE",
    "RESET",
    "RESIGNAL",
    "RESPECT",
    "RESTORE",
    "RESTRICT",
    "RETURN",
    "RETURNS",
    "REVOKE",
    "RIGHT",
    "RLIKE",
    "ROLE",
    "ROLES",
    "ROLLBACK",
    "ROLLUP",
    "ROW",
    "ROWS",
    "SCHEMA",
    "SCHEMAS",
    "SECOND",
    "SECONDS",
    "SECURITY",
    "SELECT",
    "SEMI",
    "SEPARATED",
    "SERDE",
    "SERDEPROPERTIES",
    "SESSION_USER",
    "SET",
    "SETS",
    "SHORT",
    "SHOW",
    "SIGNAL",
    "SINGLE",
    "SKEWED",
    "SMALLINT",
    "SOME",
    "SORT",
    "SORTED",
    "SOURCE",
    "SPECIFIC",
    "SQL",
    "START",
    "STATISTICS",
    "STORED",
    "STRATIFY",
    "STRING",
    "STRUCT",
    "SUBSTR",
    "SUBSTRING",
    "SYNC",
    "SYSTEM_TIME",
    "SYSTEM_VERSION",
    "TABLE",
    "TABLES",
    "TABLESAMPLE",
    "TARGET",
    "TBLPROPERTIES",
    "TEMP",
    "TEMPORARY",
    "TERMINATED",
    "THEN",
    "TIME",
    "TIMEDIFF",
    "TIMESTAMP",
    "TIMESTAMPADD",
    "TIMESTAMPDIFF",
    "TIMESTAMP_LTZ",
    "TIMESTAMP_NTZ",
    "TINYINT",
    "TO",
    "TOUCH",
    "TRAILING",
    "TRANSACTION",
    "TRANSACTIONS",
    "TRANSFORM",
    "TRIM",
    "TRUE",
    "TRUNCATE",
    "TRY_CAST",
    "TYPE",
    "UNARCHIVE",
    "UNBOUNDED",
    "UNCACHE",
    "UNDROP",
    "UNION",
    "UNIQUE",
    "UNKNOWN",
    "UNLOAD",
    "UNLOCK",
    "UNPIVOT",
    "UNSET",
    "UPDATE",
    "USE",
    "USER",
    "USING",
    "VACUUM",
    "VALUES",
    "VAR",
    "VARCHAR",
    "VARIABLE",
    "VARIANT",
    "VERSION",
    "VIEW",
    "VIEWS",
    "VOID",
    "WEEK",
    "WEEKS",
    "WHEN",
    "WHERE",
    "WHILE",
    "WINDOW",
    "WITH",
    "WITHIN",
    "X",
    "YEAR",
    "YEARS",
    "ZONE",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted_and_upper_case() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            KEYWORDS
                .iter()
                .all(|k| k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        );
    }

    #[test]
    fn only_dotless_i_and_long_s_fold_to_ascii() {
        let look_alikes: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && spark_upper(*c).is_ascii())
            .collect();
        assert_eq!(look_alikes, ['ı', 'ſ']);
        assert_eq!(spark_upper('ß'), 'ß');
    }

    #[test]
    fn folding_matches_spark() {
        assert!(folds_to("ınſert", "INSERT"));
        assert!(folds_to("Insert", "insert"));
        assert!(!folds_to("İnsert", "INSERT"));
        assert_eq!(fold("uſıng"), "USING");
        assert!(has_look_alike("ınsert"));
        assert!(!has_look_alike("naïve"));
        assert!(is_keyword("INSERT") && !is_keyword("FOO"));
    }
}
