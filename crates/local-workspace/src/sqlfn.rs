//! Unity Catalog SQL functions of the local workspace: scalar functions whose body is one
//! SQL expression, stored as `<dir>/catalogs/<catalog>/<schema>/_functions/<name>.json`
//! (`{"comment", "parameters": [{"name", "type", "comment"}], "returns", "body"}`) and
//! created with `CREATE [OR REPLACE] FUNCTION c.s.f(p TYPE, ...) RETURNS TYPE [COMMENT '...']
//! RETURN expr`. A call `c.s.f(args)` (positional or `name => value`) is expanded inline
//! into `CAST(body AS returns)` with each parameter bound to `CAST(arg AS type)`.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::SqlError;
use crate::lakehouse::{INFORMATION_SCHEMA, Lakehouse, SYSTEM};

pub(crate) const FUNCTIONS_DIR: &str = "_functions";

/// Compiled once: every statement is checked against these, and compiling a Unicode
/// pattern costs more than a small query.
static CREATE_HEAD: std::sync::LazyLock<Result<regex::Regex, regex::Error>> =
    std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMPORARY\s+|TEMP\s+)?FUNCTION\s+(IF\s+NOT\s+EXISTS\s+)?([`\w.]+)\s*\((.*)$",
        )
    });
static DROP: std::sync::LazyLock<Result<regex::Regex, regex::Error>> =
    std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?is)^\s*DROP\s+FUNCTION\s+(IF\s+EXISTS\s+)?([`\w.]+)\s*;?\s*$")
    });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Definition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    pub returns: String,
    pub body: String,
}

/// A function found on disk.
#[derive(Debug, Clone)]
pub(crate) struct SqlFunction {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    pub def: Definition,
    pub path: PathBuf,
}

impl SqlFunction {
    pub fn key(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.name).to_ascii_lowercase()
    }
}

fn dir(lake: &Lakehouse, c: &str, s: &str) -> PathBuf {
    lake.schema_dir(c, s).join(FUNCTIONS_DIR)
}

/// The functions of one schema, by name.
pub(crate) fn list(lake: &Lakehouse, c: &str, s: &str) -> Vec<SqlFunction> {
    if c == SYSTEM || s == INFORMATION_SCHEMA {
        return Vec::new();
    }
    let d = dir(lake, c, s);
    let mut out = Vec::new();
    for f in crate::layout::files(&d) {
        let Some(name) = f.strip_suffix(".json") else {
            continue;
        };
        let path = d.join(&f);
        let Some(def) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Definition>(&t).ok())
        else {
            tracing::warn!("ignoring unreadable function definition {}", path.display());
            continue;
        };
        out.push(SqlFunction {
            catalog: c.to_string(),
            schema: s.to_string(),
            name: name.to_string(),
            def,
            path,
        });
    }
    out
}

/// Every function of the workspace, keyed `catalog.schema.name` (lower case).
pub(crate) fn all(lake: &Lakehouse) -> HashMap<String, SqlFunction> {
    let mut out = HashMap::new();
    for c in lake.catalogs() {
        for s in lake.schemas(&c) {
            for f in list(lake, &c, &s) {
                out.insert(f.key(), f);
            }
        }
    }
    out
}

/// Splits on top-level commas (types like `DECIMAL(10,2)` contain commas).
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// A parsed `CREATE FUNCTION`: (or_replace, if_not_exists, name parts, definition).
pub(crate) struct Create {
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub name: Vec<String>,
    pub def: Definition,
}

/// Recognises `CREATE [OR REPLACE] [TEMPORARY] FUNCTION`; `Ok(None)` for other statements.
pub(crate) fn parse_create(sql: &str) -> Result<Option<Create>, SqlError> {
    let head = CREATE_HEAD
        .as_ref()
        .map_err(|e| SqlError::internal(e.to_string()))?;
    let Some(c) = head.captures(sql) else {
        return Ok(None);
    };
    let bad = |m: &str| SqlError::parse(format!("Syntax error in CREATE FUNCTION: {m}."));
    if c.get(2).is_some() {
        return Err(SqlError::unsupported(
            "CREATE TEMPORARY FUNCTION (create a catalog function instead)",
        ));
    }
    let name: Vec<String> = c
        .get(4)
        .map(|m| m.as_str())
        .unwrap_or("")
        .split('.')
        .map(|p| p.trim_matches('`').to_string())
        .collect();
    let rest = c.get(5).map(|m| m.as_str()).unwrap_or("");
    // The parameter list ends at the matching parenthesis.
    let mut depth = 1i32;
    let mut end = None;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let end = end.ok_or_else(|| bad("unbalanced parentheses in the parameter list"))?;
    let params_text = &rest[..end];
    let tail = rest[end + 1..].trim();
    let mut parameters = Vec::new();
    let comment_re = regex::Regex::new(r"(?is)^(.*?)\s+COMMENT\s+'((?:[^'\\]|\\.)*)'\s*$")
        .map_err(|e| SqlError::internal(e.to_string()))?;
    for p in split_top(params_text) {
        let (decl, comment) = match comment_re.captures(&p) {
            Some(m) => (
                m.get(1).map(|x| x.as_str().to_string()).unwrap_or_default(),
                m.get(2).map(|x| x.as_str().to_string()),
            ),
            None => (p.clone(), None),
        };
        let mut it = decl.trim().splitn(2, char::is_whitespace);
        let pname = it.next().unwrap_or("").trim_matches('`').to_string();
        let ptype = it.next().unwrap_or("").trim().to_string();
        if pname.is_empty() || ptype.is_empty() {
            return Err(bad(&format!("parameter '{p}' needs a name and a type")));
        }
        if ptype.to_ascii_uppercase().contains("DEFAULT") {
            return Err(SqlError::unsupported(
                "parameter DEFAULT values in local functions",
            ));
        }
        parameters.push(Parameter {
            name: pname,
            type_: ptype,
            comment,
        });
    }
    let body_re = regex::Regex::new(
        r"(?is)^RETURNS\s+(.+?)\s*(?:COMMENT\s+'((?:[^'\\]|\\.)*)'\s*)?(?:LANGUAGE\s+SQL\s*)?(?:(?:NOT\s+)?DETERMINISTIC\s*)?(?:CONTAINS\s+SQL\s*|READS\s+SQL\s+DATA\s*)?RETURN\s+(.+?)\s*;?\s*$",
    )
    .map_err(|e| SqlError::internal(e.to_string()))?;
    let b = body_re
        .captures(tail)
        .ok_or_else(|| bad("expected RETURNS <type> [COMMENT '...'] RETURN <expression>"))?;
    let returns = b
        .get(1)
        .map(|m| m.as_str().trim())
        .unwrap_or("")
        .to_string();
    if returns.to_ascii_uppercase().starts_with("TABLE") {
        return Err(SqlError::unsupported(
            "table functions (RETURNS TABLE) in the local workspace",
        ));
    }
    let body = b
        .get(3)
        .map(|m| m.as_str().trim())
        .unwrap_or("")
        .to_string();
    if body.to_ascii_uppercase().starts_with("SELECT") {
        return Err(SqlError::unsupported(
            "function bodies that are queries: a local function returns one expression",
        ));
    }
    // The types and the body must parse: `dialect::check_definition`, by the caller.
    Ok(Some(Create {
        or_replace: c.get(1).is_some(),
        if_not_exists: c.get(3).is_some(),
        name,
        def: Definition {
            comment: b.get(2).map(|m| m.as_str().replace("\\'", "'")),
            parameters,
            returns,
            body,
        },
    }))
}

/// `DROP FUNCTION [IF EXISTS] name`; `Ok(None)` for other statements.
pub(crate) fn parse_drop(sql: &str) -> Result<Option<(bool, Vec<String>)>, SqlError> {
    let re = DROP
        .as_ref()
        .map_err(|e| SqlError::internal(e.to_string()))?;
    Ok(re.captures(sql).map(|c| {
        (
            c.get(1).is_some(),
            c.get(2)
                .map(|m| m.as_str())
                .unwrap_or("")
                .split('.')
                .map(|p| p.trim_matches('`').to_string())
                .collect(),
        )
    }))
}

/// Writes a function definition.
pub(crate) fn save(
    lake: &Lakehouse,
    c: &str,
    s: &str,
    name: &str,
    def: &Definition,
) -> Result<(), SqlError> {
    if !crate::layout::valid_segment(name) || crate::layout::hidden(name) {
        return Err(SqlError::new(
            "INVALID_IDENTIFIER",
            "42602",
            format!("`{name}` is not a valid function name."),
        ));
    }
    let path = dir(lake, c, s).join(format!("{}.json", name.to_ascii_lowercase()));
    let text = serde_json::to_string_pretty(def).map_err(|e| SqlError::internal(e.to_string()))?;
    crate::layout::write_atomic(&path, text.as_bytes())
        .map_err(|e| SqlError::internal(format!("writing {}: {e}", path.display())))
}

/// Unity Catalog `type_name` of a SQL type text.
pub(crate) fn type_name(t: &str) -> &'static str {
    let u = t.trim().to_ascii_uppercase();
    let base = u.split(['(', '<', ' ']).next().unwrap_or("");
    match base {
        "BIGINT" | "LONG" => "LONG",
        "INT" | "INTEGER" => "INT",
        "SMALLINT" | "SHORT" => "SHORT",
        "TINYINT" | "BYTE" => "BYTE",
        "DOUBLE" => "DOUBLE",
        "FLOAT" | "REAL" => "FLOAT",
        "DECIMAL" | "DEC" | "NUMERIC" => "DECIMAL",
        "STRING" | "VARCHAR" | "CHAR" => "STRING",
        "BOOLEAN" | "BOOL" => "BOOLEAN",
        "DATE" => "DATE",
        "TIMESTAMP" => "TIMESTAMP",
        "TIMESTAMP_NTZ" => "TIMESTAMP_NTZ",
        "BINARY" => "BINARY",
        "ARRAY" => "ARRAY",
        "MAP" => "MAP",
        "STRUCT" => "STRUCT",
        _ => "USER_DEFINED_TYPE",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_create_function() {
        let c = parse_create(
            "CREATE OR REPLACE FUNCTION main.default.net(price DECIMAL(15,2) COMMENT 'list price', discount DOUBLE) RETURNS DOUBLE COMMENT 'Net price' RETURN price * (1 - discount)",
        )
        .unwrap()
        .unwrap();
        assert!(c.or_replace);
        assert_eq!(c.name, vec!["main", "default", "net"]);
        assert_eq!(c.def.parameters.len(), 2);
        assert_eq!(c.def.parameters[0].type_, "DECIMAL(15,2)");
        assert_eq!(c.def.parameters[0].comment.as_deref(), Some("list price"));
        assert_eq!(c.def.returns, "DOUBLE");
        assert_eq!(c.def.comment.as_deref(), Some("Net price"));
        assert_eq!(c.def.body, "price * (1 - discount)");
        assert!(parse_create("SELECT 1").unwrap().is_none());
        assert!(parse_create("CREATE FUNCTION f() RETURNS TABLE (a INT) RETURN SELECT 1").is_err());
        assert_eq!(type_name("decimal(10,2)"), "DECIMAL");
        assert_eq!(
            parse_drop("DROP FUNCTION IF EXISTS main.default.net").unwrap(),
            Some((true, vec!["main".into(), "default".into(), "net".into()]))
        );
    }
}
