//! The Databricks SQL dialect on the local engine: each construct and function checked
//! against the result the Databricks SQL language reference documents for it (the
//! examples of its function pages), through the REST statement API (JSON_ARRAY cells are
//! strings; NULL is null).

use serde_json::Value;

use crate::support::*;

/// (statement, expected rows). `None` cells are SQL NULL.
fn cases() -> Vec<(&'static str, Vec<Vec<Option<&'static str>>>)> {
    let one = |v: &'static str| vec![vec![Some(v)]];
    vec![
        // Typed numeric literals and TIMESTAMP_NTZ (sql-ref-literals, data types).
        ("SELECT 10L + 1", one("11")),
        ("SELECT 2S * 3Y", one("6")),
        ("SELECT 1.5D * 2", one("3.0")),
        ("SELECT 1.50BD", one("1.50")),
        (
            "SELECT CAST('2024-01-01 10:00:00' AS TIMESTAMP_NTZ)",
            one("2024-01-01T10:00:00.000"),
        ),
        // Date and time functions (docs.databricks.com/sql/language-manual/functions/*).
        ("SELECT year('2016-07-30')", one("2016")),
        ("SELECT month('2016-07-30')", one("7")),
        ("SELECT day('2009-07-30')", one("30")),
        ("SELECT dayofmonth('2009-07-30')", one("30")),
        ("SELECT dayofweek('2009-07-30')", one("5")),
        ("SELECT dayofyear('2016-04-09')", one("100")),
        ("SELECT weekofyear('2008-02-20')", one("8")),
        ("SELECT quarter('2016-08-31')", one("3")),
        ("SELECT hour('2009-07-30 12:58:59')", one("12")),
        ("SELECT minute('2009-07-30 12:58:59')", one("58")),
        ("SELECT second('2009-07-30 12:58:59')", one("59")),
        ("SELECT date_add('2016-07-30', 1)", one("2016-07-31")),
        ("SELECT date_sub('2016-07-30', 1)", one("2016-07-29")),
        ("SELECT datediff('2009-07-31', '2009-07-30')", one("1")),
        ("SELECT datediff('2009-07-30', '2009-07-31')", one("-1")),
        ("SELECT add_months('2016-08-31', 1)", one("2016-09-30")),
        ("SELECT last_day('2009-01-12')", one("2009-01-31")),
        (
            "SELECT months_between('1997-02-28 10:30:00', '1996-10-30')",
            one("3.94959677"),
        ),
        ("SELECT date_format('2016-04-08', 'y')", one("2016")),
        (
            "SELECT date_format(DATE'2024-03-05', 'yyyy-MM')",
            one("2024-03"),
        ),
        (
            "SELECT date_format(TIMESTAMP'2024-03-05 14:07:09', 'dd/MM/yyyy HH:mm:ss')",
            one("05/03/2024 14:07:09"),
        ),
        ("SELECT to_date('2009-07-30 04:17:52')", one("2009-07-30")),
        (
            "SELECT to_date('2016-12-31', 'yyyy-MM-dd')",
            one("2016-12-31"),
        ),
        (
            "SELECT to_date('31/12/2016', 'dd/MM/yyyy')",
            one("2016-12-31"),
        ),
        (
            "SELECT to_timestamp('2016-12-31', 'yyyy-MM-dd')",
            one("2016-12-31T00:00:00.000Z"),
        ),
        (
            "SELECT unix_timestamp('2016-04-08', 'yyyy-MM-dd')",
            one("1460073600"),
        ),
        (
            "SELECT from_unixtime(0, 'yyyy-MM-dd HH:mm:ss')",
            one("1970-01-01 00:00:00"),
        ),
        ("SELECT make_date(2013, 7, 15)", one("2013-07-15")),
        ("SELECT extract(MONTH FROM DATE'2019-08-12')", one("8")),
        (
            "SELECT DATE'2024-01-31' + INTERVAL 1 DAY",
            one("2024-02-01"),
        ),
        // Conditionals.
        ("SELECT if(1 < 2, 'a', 'b')", one("a")),
        ("SELECT iff(1 > 2, 'a', 'b')", one("b")),
        ("SELECT nvl(NULL, 2)", one("2")),
        ("SELECT ifnull(NULL, 2)", one("2")),
        ("SELECT nvl2(NULL, 2, 1)", one("1")),
        ("SELECT coalesce(NULL, 1, NULL)", one("1")),
        (
            "SELECT decode(2, 1, 'Southlake', 2, 'San Francisco', 'Non domestic')",
            one("San Francisco"),
        ),
        ("SELECT nullif(2, 2)", vec![vec![None]]),
        // Aggregates.
        (
            "SELECT count_if(col % 2 = 0) FROM VALUES (NULL), (0), (1), (2), (3) AS tab(col)",
            one("2"),
        ),
        (
            "SELECT collect_list(col) FROM VALUES (1), (2), (NULL), (1) AS tab(col)",
            one("[1,2,1]"),
        ),
        (
            "SELECT array_sort(collect_set(col)) FROM VALUES (1), (2), (NULL), (1) AS tab(col)",
            one("[1,2]"),
        ),
        (
            "SELECT approx_count_distinct(col1) FROM VALUES (1), (1), (2), (2), (3) tab(col1)",
            one("3"),
        ),
        (
            "SELECT first(col) FROM VALUES (10), (5), (20) AS tab(col)",
            one("10"),
        ),
        (
            "SELECT any(col) FROM VALUES (false), (false), (NULL) AS tab(col)",
            one("false"),
        ),
        (
            "SELECT every(col) FROM VALUES (true), (true), (true) AS tab(col)",
            one("true"),
        ),
        (
            "SELECT std(col) FROM VALUES (1), (2), (3) AS tab(col)",
            one("1.0"),
        ),
        (
            "SELECT percentile_approx(col, 0.5) FROM VALUES (0), (6), (7), (9), (10) AS tab(col)",
            one("7.0"),
        ),
        // Generators.
        (
            "SELECT explode(array(10, 20))",
            vec![vec![Some("10")], vec![Some("20")]],
        ),
        // Strings and regular expressions.
        ("SELECT 'Spark' RLIKE 'ar'", one("true")),
        ("SELECT 'Spark' NOT RLIKE '^x'", one("true")),
        ("SELECT 'Spark' REGEXP '^S.*k$'", one("true")),
        (
            "SELECT regexp_extract('100-200', '(\\\\d+)-(\\\\d+)', 1)",
            one("100"),
        ),
        (
            "SELECT regexp_replace('100-200', '(\\\\d+)', 'num')",
            one("num-num"),
        ),
        (
            "SELECT split('oneAtwoBthreeC', '[ABC]')",
            one("[\"one\",\"two\",\"three\",\"\"]"),
        ),
        (
            "SELECT split('oneAtwoBthreeC', '[ABC]', 2)",
            one("[\"one\",\"twoBthreeC\"]"),
        ),
        ("SELECT concat_ws(' ', 'Spark', 'SQL')", one("Spark SQL")),
        ("SELECT lcase('SparkSql')", one("sparksql")),
        ("SELECT ucase('SparkSql')", one("SPARKSQL")),
        ("SELECT len('Spark SQL ')", one("10")),
        ("SELECT locate('bar', 'foobarbar')", one("4")),
        ("SELECT initcap('sPark sql')", one("Spark Sql")),
        ("SELECT substring('Spark SQL', 5, 1)", one("k")),
        ("SELECT 'a' || 'b'", one("ab")),
        ("SELECT 'it\\'s'", one("it's")),
        // Hashes.
        (
            "SELECT sha2('Spark', 256)",
            one("529bc3b07127ecb7e53a4dcf1991d9152c24537d919178022b2c42657f79a26b"),
        ),
        (
            "SELECT sha1('Spark')",
            one("85f5955f4b27a9a4c2aab6ffe5d7189fc298b92c"),
        ),
        (
            "SELECT md5('Spark')",
            one("8cde774d6f7333752ed72cacddb05126"),
        ),
        // Arithmetic as in Spark: `/` is fractional, DIV integral, pmod positive.
        ("SELECT 3 / 2", one("1.5")),
        ("SELECT 3 DIV 2", one("1")),
        ("SELECT -5.9 DIV 1", one("-5")),
        ("SELECT pmod(-10, 3)", one("2")),
        ("SELECT try_divide(3, 2)", one("1.5")),
        ("SELECT try_divide(1, 0)", vec![vec![None]]),
        ("SELECT sign(-3)", one("-1.0")),
        // Arrays, maps, structs (nested values rendered as JSON text).
        ("SELECT size(array('b', 'd', 'c', 'a'))", one("4")),
        ("SELECT array_contains(array(1, 2, 3), 2)", one("true")),
        (
            "SELECT sort_array(array('b', 'd', 'c', 'a'))",
            one("[\"a\",\"b\",\"c\",\"d\"]"),
        ),
        ("SELECT sort_array(array(3, 1, 2), false)", one("[3,2,1]")),
        (
            "SELECT named_struct('a', 1, 'b', 'x')",
            one("{\"a\":1,\"b\":\"x\"}"),
        ),
        // Casts.
        ("SELECT CAST(1 AS STRING)", one("1")),
        ("SELECT 1::string", one("1")),
        ("SELECT date('2024-02-29')", one("2024-02-29")),
        ("SELECT int('42')", one("42")),
        // Session functions.
        ("SELECT current_catalog()", one("main")),
        ("SELECT current_schema()", one("default")),
        // Names: three-part names, backticks, QUALIFY, SELECT * EXCEPT, CTEs, VALUES.
        ("SELECT count(*) FROM `samples`.`tpch`.`nation`", one("25")),
        ("SELECT count(*) FROM samples.tpch.REGION", one("5")),
        (
            "SELECT n_name FROM samples.tpch.nation WHERE n_regionkey = 0 QUALIFY row_number() OVER (ORDER BY n_name) = 1",
            one("ALGERIA"),
        ),
        (
            "SELECT * EXCEPT (r_comment, r_regionkey) FROM samples.tpch.region WHERE r_regionkey = 1",
            one("AMERICA"),
        ),
        ("WITH t AS (SELECT 1 AS a) SELECT a FROM t", one("1")),
        ("SELECT col FROM VALUES ('x') AS tab(col)", one("x")),
        (
            "SELECT value FROM range(2) ORDER BY 1",
            vec![vec![Some("0")], vec![Some("1")]],
        ),
        // Commands.
        ("SHOW CATALOGS LIKE 'sam*'", one("samples")),
        ("SHOW SCHEMAS IN samples LIKE 'tp*'", one("tpch")),
        ("SHOW DATABASES IN samples LIKE 'tpch'", one("tpch")),
        (
            "SHOW TABLES IN samples.tpch LIKE 'r*'",
            vec![vec![Some("tpch"), Some("region"), Some("false")]],
        ),
        (
            "SHOW COLUMNS IN samples.tpch.region",
            vec![
                vec![Some("r_regionkey")],
                vec![Some("r_name")],
                vec![Some("r_comment")],
            ],
        ),
        (
            "DESCRIBE TABLE samples.tpch.region",
            vec![
                vec![
                    Some("r_regionkey"),
                    Some("bigint"),
                    Some("Region key (primary key)."),
                ],
                vec![Some("r_name"), Some("string"), Some("Region name.")],
                vec![
                    Some("r_comment"),
                    Some("string"),
                    Some("Free-text comment."),
                ],
            ],
        ),
        (
            "DESC samples.tpch.region r_name",
            vec![
                vec![Some("col_name"), Some("r_name")],
                vec![Some("data_type"), Some("string")],
                vec![Some("comment"), Some("Region name.")],
            ],
        ),
        (
            "DESCRIBE QUERY SELECT 1 AS a, 'x' AS b",
            vec![
                vec![Some("a"), Some("bigint"), None],
                vec![Some("b"), Some("string"), None],
            ],
        ),
        // information_schema.
        (
            "SELECT count(*) FROM samples.information_schema.tables WHERE table_schema = 'tpch'",
            one("8"),
        ),
        (
            "SELECT comment FROM system.information_schema.columns WHERE table_catalog = 'samples' AND table_name = 'nation' AND column_name = 'n_name'",
            one("Nation name."),
        ),
        (
            "SELECT comment FROM samples.information_schema.tables WHERE table_name = 'region'",
            one("TPC-H REGION: the 5 regions of the world."),
        ),
        (
            "SELECT catalog_name FROM system.information_schema.catalogs WHERE catalog_name = 'samples'",
            one("samples"),
        ),
    ]
}

fn cell(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databricks_constructs_and_functions() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let mut failures = Vec::new();
    for (sql, expected) in cases() {
        let v = s.sql(sql).await;
        if v["status"]["state"] != "SUCCEEDED" {
            failures.push(format!(
                "{sql}\n   failed: {}",
                v["status"]["error"]["message"]
            ));
            continue;
        }
        let mut got: Vec<Vec<Option<String>>> = Vec::new();
        if let Some(rows) = v["result"]["data_array"].as_array() {
            for r in rows {
                got.push(
                    r.as_array()
                        .map(|c| c.iter().map(cell).collect())
                        .unwrap_or_default(),
                );
            }
        }
        let want: Vec<Vec<Option<String>>> = expected
            .iter()
            .map(|r| r.iter().map(|c| c.map(str::to_string)).collect())
            .collect();
        if got != want {
            failures.push(format!("{sql}\n   expected {want:?}\n   got      {got:?}"));
        }
    }
    s.api.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} dialect cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_names_and_types_follow_databricks() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let v = s
        .sql("SELECT l_returnflag, count(*), sum(l_quantity) AS qty, max(l_shipdate) FROM samples.tpch.lineitem GROUP BY 1")
        .await;
    let cols = v["manifest"]["schema"]["columns"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["l_returnflag", "count(*)", "qty", "max(l_shipdate)"]
    );
    let types: Vec<(&str, &str)> = cols
        .iter()
        .map(|c| {
            (
                c["type_name"].as_str().unwrap(),
                c["type_text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("STRING", "STRING"),
            ("LONG", "BIGINT"),
            ("DECIMAL", "DECIMAL(25,2)"),
            ("DATE", "DATE")
        ]
    );
    assert_eq!(cols[2]["type_precision"], 25);
    assert_eq!(cols[2]["type_scale"], 2);
    s.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_constructs_are_refused_by_name() {
    let dir = base_dir().await;
    let s = Server::start(&dir, false).await;
    let cases = [
        (
            "SELECT 1 FROM samples.tpch.nation LATERAL VIEW explode(array(1)) t AS c",
            "UNSUPPORTED_FEATURE",
            "LATERAL VIEW",
        ),
        (
            "SELECT posexplode(array(1))",
            "UNSUPPORTED_FEATURE",
            "posexplode",
        ),
        (
            "SELECT datediff(DAY, DATE'2024-01-01', DATE'2024-01-02')",
            "UNSUPPORTED_FEATURE",
            "datediff",
        ),
        (
            "SHOW GRANTS ON TABLE samples.tpch.nation",
            "UNSUPPORTED_FEATURE",
            "SHOW GRANTS",
        ),
        (
            "SELECT no_such_function(1)",
            "UNRESOLVED_ROUTINE",
            "no_such_function",
        ),
        ("SELECT 1; SELECT 2", "UNSUPPORTED_FEATURE", "2 statements"),
        ("SELECT 1/0", "DIVIDE_BY_ZERO", "try_divide"),
        ("SELEC 1", "PARSE_SYNTAX_ERROR", "SELEC"),
        ("SELECT :missing", "UNBOUND_SQL_PARAMETER", "missing"),
        (
            "SELECT nope FROM samples.tpch.nation",
            "UNRESOLVED_COLUMN",
            "nope",
        ),
    ];
    for (sql, class, needle) in cases {
        let (msg, state) = s.error(sql).await;
        assert!(msg.starts_with(&format!("[{class}")), "{sql}: {msg}");
        assert!(msg.contains(needle), "{sql}: {msg}");
        assert!(msg.contains("SQLSTATE: "), "{sql}: {msg}");
        assert!(!state.is_empty(), "{sql}: no sql_state");
    }
    s.api.shutdown().await;
}
