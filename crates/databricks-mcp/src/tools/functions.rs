//! Unity Catalog functions as tools: the managed surface
//! `/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]` gives one tool per function,
//! named `{catalog}__{schema}__{function}`, whose input schema is built from the
//! function's parameters (REFERENCE.md §3.7).
//!
//! A call runs the function through the SQL Statement Execution API on the warehouse
//! chosen as for every statement (`_meta.warehouse_id`, the operator's default, then
//! automatic). The statement text contains only the function's quoted three-part name
//! and parameter markers; every argument value is bound as a named statement parameter,
//! never spliced into the SQL.

use std::sync::Arc;

use databricks_client::services::functions::{FunctionInfo, FunctionParameterInfo};
use databricks_client::services::sql::StatementParameter;
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use super::managed_sql;
use super::sql::{self, FollowUp};
use super::vector_search::tool_name_for;
use super::{ToolDef, ToolKind, ToolOutput, Toolset};
use crate::context::CallContext;
use crate::error::ToolError;

/// A parameter as the tool sees it.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    kind: Kind,
    /// Type text for `from_json` (complex types) and DECIMAL precision.
    type_text: String,
    optional: bool,
}

/// How a value is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer(&'static str),
    Number(&'static str),
    Decimal,
    Boolean,
    Date,
    Timestamp(&'static str),
    Text,
    Binary,
    /// ARRAY, MAP, STRUCT: bound as JSON text and parsed with `from_json`.
    Complex,
}

impl Kind {
    fn of(p: &FunctionParameterInfo) -> Kind {
        let name = p
            .type_name
            .clone()
            .or_else(|| {
                p.type_text
                    .as_deref()
                    .map(|t| t.split(['(', '<']).next().unwrap_or(t).to_string())
            })
            .unwrap_or_default()
            .to_ascii_uppercase();
        match name.as_str() {
            "INT" | "INTEGER" => Kind::Integer("INT"),
            "LONG" | "BIGINT" => Kind::Integer("BIGINT"),
            "SHORT" | "SMALLINT" => Kind::Integer("SMALLINT"),
            "BYTE" | "TINYINT" => Kind::Integer("TINYINT"),
            "FLOAT" | "REAL" => Kind::Number("FLOAT"),
            "DOUBLE" => Kind::Number("DOUBLE"),
            "DECIMAL" | "DEC" | "NUMERIC" => Kind::Decimal,
            "BOOLEAN" => Kind::Boolean,
            "DATE" => Kind::Date,
            "TIMESTAMP" => Kind::Timestamp("TIMESTAMP"),
            "TIMESTAMP_NTZ" => Kind::Timestamp("TIMESTAMP_NTZ"),
            "BINARY" => Kind::Binary,
            "ARRAY" | "MAP" | "STRUCT" => Kind::Complex,
            _ => Kind::Text,
        }
    }

    fn schema(self, type_text: &str) -> Value {
        match self {
            Kind::Integer(_) => json!({"type": "integer"}),
            Kind::Number(_) | Kind::Decimal => json!({"type": "number"}),
            Kind::Boolean => json!({"type": "boolean"}),
            Kind::Date => json!({"type": "string", "format": "date"}),
            Kind::Timestamp(_) => json!({"type": "string"}),
            Kind::Text | Kind::Binary => json!({"type": "string"}),
            Kind::Complex if type_text.to_ascii_lowercase().starts_with("array") => {
                json!({"type": "array"})
            }
            Kind::Complex => json!({"type": "object"}),
        }
    }
}

/// A SQL identifier in backticks (backticks inside doubled).
fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Type text spliced into `from_json`'s schema literal: metadata from Unity Catalog,
/// still checked to hold nothing but type syntax.
fn safe_type_text(t: &str) -> Option<String> {
    let ok = !t.is_empty()
        && t.len() <= 4000
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _<>,:()`".contains(c));
    ok.then(|| t.to_string())
}

/// DECIMAL(p,s) for the parameter's type, from the type text when it is well formed.
fn decimal_type(type_text: &str) -> String {
    let t = type_text.trim().to_ascii_uppercase().replace(' ', "");
    let well_formed = t.starts_with("DECIMAL(")
        && t.ends_with(')')
        && t["DECIMAL(".len()..t.len() - 1]
            .split(',')
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if well_formed {
        t
    } else {
        "DECIMAL(38,18)".to_string()
    }
}

fn params_of(f: &FunctionInfo) -> Vec<Param> {
    f.parameters()
        .into_iter()
        .filter(|p| !p.name.is_empty())
        .map(|p| Param {
            kind: Kind::of(&p),
            type_text: p
                .type_text
                .clone()
                .or_else(|| p.type_name.clone())
                .unwrap_or_else(|| "string".into()),
            optional: p.parameter_default.is_some(),
            name: p.name,
        })
        .collect()
}

/// The JSON Schema of a function's arguments.
fn input_schema(f: &FunctionInfo) -> JsonObject {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in f.parameters().iter().filter(|p| !p.name.is_empty()) {
        let kind = Kind::of(p);
        let type_text = p
            .type_text
            .clone()
            .or_else(|| p.type_name.clone())
            .unwrap_or_else(|| "string".into());
        let mut schema = kind.schema(&type_text);
        let mut description = p.comment.clone().unwrap_or_default();
        if !description.is_empty() && !description.ends_with('.') {
            description.push('.');
        }
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&format!("SQL type {type_text}"));
        match &p.parameter_default {
            Some(d) => description.push_str(&format!("; optional, default {d}")),
            None => required.push(json!(p.name)),
        }
        if kind == Kind::Complex {
            description.push_str(" (as JSON)");
        }
        description.push('.');
        if let Value::Object(o) = &mut schema {
            o.insert("description".into(), json!(description));
        }
        properties.insert(p.name.clone(), schema);
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// A value of `p` as statement-parameter text.
fn bind_value(p: &Param, v: &Value) -> Result<Option<String>, ToolError> {
    let wrong = |expected: &str| {
        ToolError::new(format!(
            "argument {} must be {expected} (SQL type {}), got {v}",
            p.name, p.type_text
        ))
    };
    Ok(match (p.kind, v) {
        (_, Value::Null) => None,
        (Kind::Integer(_), Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        (Kind::Integer(_), Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
            Some(s.trim().to_string())
        }
        (Kind::Integer(_), _) => return Err(wrong("a whole number")),
        (Kind::Number(_) | Kind::Decimal, Value::Number(n)) => Some(n.to_string()),
        (Kind::Number(_) | Kind::Decimal, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Some(s.trim().to_string())
        }
        (Kind::Number(_) | Kind::Decimal, _) => return Err(wrong("a number")),
        (Kind::Boolean, Value::Bool(b)) => Some(b.to_string()),
        (Kind::Boolean, Value::String(s))
            if matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "false") =>
        {
            Some(s.trim().to_ascii_lowercase())
        }
        (Kind::Boolean, _) => return Err(wrong("true or false")),
        (Kind::Complex, Value::String(s)) => {
            serde_json::from_str::<Value>(s).map_err(|_| wrong("JSON"))?;
            Some(s.clone())
        }
        (Kind::Complex, other) => Some(other.to_string()),
        (Kind::Date | Kind::Timestamp(_) | Kind::Text | Kind::Binary, Value::String(s)) => {
            Some(s.clone())
        }
        (Kind::Text, Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        (Kind::Date | Kind::Timestamp(_) | Kind::Text | Kind::Binary, _) => {
            return Err(wrong("a string"));
        }
    })
}

/// The statement calling `full_name` with `args`, and its parameters.
fn call_statement(
    full_name: &[String; 3],
    table_function: bool,
    params: &[Param],
    args: &JsonObject,
) -> Result<(String, Vec<StatementParameter>), ToolError> {
    if let Some(unknown) = args.keys().find(|k| !params.iter().any(|p| &p.name == *k)) {
        let known: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        return Err(ToolError::new(format!(
            "unknown argument {unknown:?}; this function takes {}",
            if known.is_empty() {
                "no arguments".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut given = Vec::new();
    for (i, p) in params.iter().enumerate() {
        match args.get(&p.name) {
            Some(v) => given.push((i, p, v)),
            None if p.optional => {}
            None => {
                return Err(ToolError::new(format!(
                    "missing argument {} (SQL type {})",
                    p.name, p.type_text
                )));
            }
        }
    }
    // Positional when the given arguments are the leading parameters, by name
    // (`param => value`) when an optional one in between is left out.
    let positional = given.iter().enumerate().all(|(n, (i, _, _))| n == *i);
    let mut bound = Vec::new();
    let mut exprs = Vec::new();
    for (n, (_, p, v)) in given.iter().enumerate() {
        let marker = format!("arg{n}");
        let value = bind_value(p, v)?;
        let (type_, expr) = match p.kind {
            Kind::Integer(t) | Kind::Number(t) | Kind::Timestamp(t) => {
                (t.to_string(), format!(":{marker}"))
            }
            Kind::Decimal => (decimal_type(&p.type_text), format!(":{marker}")),
            Kind::Boolean => ("BOOLEAN".into(), format!(":{marker}")),
            Kind::Date => ("DATE".into(), format!(":{marker}")),
            Kind::Binary => ("BINARY".into(), format!(":{marker}")),
            Kind::Text => ("STRING".into(), format!(":{marker}")),
            Kind::Complex => {
                let t = safe_type_text(&p.type_text).ok_or_else(|| {
                    ToolError::new(format!(
                        "parameter {} has a type this server cannot pass ({})",
                        p.name, p.type_text
                    ))
                })?;
                ("STRING".into(), format!("from_json(:{marker}, '{t}')"))
            }
        };
        bound.push(StatementParameter {
            name: marker,
            value,
            type_: Some(type_),
        });
        exprs.push(if positional {
            expr
        } else {
            format!("{} => {expr}", quote_ident(&p.name))
        });
    }
    let name = full_name
        .iter()
        .map(|p| quote_ident(p))
        .collect::<Vec<_>>()
        .join(".");
    let call = format!("{name}({})", exprs.join(", "));
    let statement = if table_function {
        format!("SELECT * FROM {call}")
    } else {
        format!("SELECT {call} AS {}", quote_ident(&full_name[2]))
    };
    Ok((statement, bound))
}

/// The tool of one function, or `None` when its name cannot be a tool name.
pub fn function_tool(f: &FunctionInfo) -> Option<ToolDef> {
    let parts: [String; 3] = match f.full_name.as_deref() {
        Some(full) if full.split('.').count() == 3 => {
            let mut it = full.split('.').map(str::to_string);
            [it.next()?, it.next()?, it.next()?]
        }
        _ => [
            f.catalog_name.clone(),
            f.schema_name.clone(),
            f.name.clone(),
        ],
    };
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let full_name = parts.join(".");
    let tool_name = tool_name_for(&full_name)?;
    let mut description = match f
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => format!("{c}{}", if c.ends_with('.') { "" } else { "." }),
        None => format!("Run the Unity Catalog function {full_name}."),
    };
    if f.is_table_function() {
        description.push_str(" Returns a table.");
    } else if let Some(t) = f.full_data_type.as_deref().or(f.data_type.as_deref()) {
        description.push_str(&format!(" Returns {t}."));
    }
    description.push_str(&format!(
        " (Unity Catalog function {full_name}, run on a SQL warehouse.)"
    ));
    let sql_body = f
        .routine_body
        .as_deref()
        .is_none_or(|b| b.eq_ignore_ascii_case("SQL"));
    let kind = ToolKind::Function {
        sql_body,
        deterministic: f.is_deterministic.unwrap_or(false),
    };
    let params = Arc::new(params_of(f));
    let table_function = f.is_table_function();
    let parts = Arc::new(parts);
    Some(ToolDef::with_schema(
        tool_name,
        format!("Run {full_name}"),
        description,
        Toolset::Functions,
        kind,
        Arc::new(input_schema(f)),
        move |ctx: CallContext, args: JsonObject| {
            let params = params.clone();
            let parts = parts.clone();
            async move {
                let (statement, parameters) =
                    call_statement(&parts, table_function, &params, &args)?;
                run(&ctx, &statement, parameters).await
            }
        },
    ))
}

async fn run(
    ctx: &CallContext,
    statement: &str,
    parameters: Vec<StatementParameter>,
) -> Result<ToolOutput, ToolError> {
    let choice = sql::choose_warehouse(ctx, None).await?;
    let request = databricks_client::services::sql::ExecuteStatementRequest {
        parameters,
        ..sql::statement_request(&ctx.state.settings, statement, &choice)
    };
    let timeout = ctx.state.settings.sql_timeout;
    let response = sql::execute(ctx, request, &choice, timeout, FollowUp::None).await?;
    managed_sql::respond(ctx, response, Some(&choice), FollowUp::None).await
}

/// The tools of the functions of a schema (in name order), skipping those the caller
/// can only browse and those whose name cannot be a tool name.
pub fn schema_tools(functions: &[FunctionInfo]) -> Vec<ToolDef> {
    let mut functions: Vec<&FunctionInfo> = functions
        .iter()
        .filter(|f| f.browse_only != Some(true))
        .collect();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    let mut seen = std::collections::HashSet::new();
    functions
        .into_iter()
        .filter_map(function_tool)
        .filter(|t| seen.insert(t.name().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(params: Value, data_type: &str) -> FunctionInfo {
        serde_json::from_value(json!({
            "name": "f", "catalog_name": "main", "schema_name": "tools",
            "full_name": "main.tools.f", "data_type": data_type,
            "comment": "Does things",
            "input_params": {"parameters": params}
        }))
        .unwrap_or_default()
    }

    fn args(v: Value) -> JsonObject {
        match v {
            Value::Object(o) => o,
            _ => JsonObject::new(),
        }
    }

    #[test]
    fn schema_follows_the_parameters() {
        let f = function(
            json!([
                {"name": "email", "type_name": "STRING", "type_text": "string", "position": 0, "comment": "An address"},
                {"name": "n", "type_name": "INT", "type_text": "int", "position": 1, "parameter_default": "1"},
                {"name": "tags", "type_name": "ARRAY", "type_text": "array<string>", "position": 2, "parameter_default": "NULL"}
            ]),
            "STRING",
        );
        let s = Value::Object(input_schema(&f));
        assert_eq!(s["properties"]["email"]["type"], "string");
        assert_eq!(s["properties"]["n"]["type"], "integer");
        assert_eq!(s["properties"]["tags"]["type"], "array");
        assert_eq!(s["required"], json!(["email"]));
        assert_eq!(s["additionalProperties"], false);
        let t = function_tool(&f).map(|t| t.tool.name.to_string());
        assert_eq!(t.as_deref(), Some("main__tools__f"));
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let f = function(
            json!([
                {"name": "email", "type_name": "STRING", "position": 0},
                {"name": "n", "type_name": "INT", "position": 1, "parameter_default": "1"},
                {"name": "tags", "type_name": "ARRAY", "type_text": "array<string>", "position": 2, "parameter_default": "NULL"}
            ]),
            "STRING",
        );
        let params = params_of(&f);
        let name = ["main".to_string(), "tools".to_string(), "f".to_string()];
        let evil = "x'); DROP TABLE t; --";
        let (sql, bound) = call_statement(&name, false, &params, &args(json!({"email": evil})))
            .expect("a statement");
        assert_eq!(sql, "SELECT `main`.`tools`.`f`(:arg0) AS `f`");
        assert!(!sql.contains("DROP"));
        assert_eq!(bound[0].value.as_deref(), Some(evil));
        assert_eq!(bound[0].type_.as_deref(), Some("STRING"));
        // Skipping an optional parameter in the middle switches to named arguments.
        let (sql, bound) = call_statement(
            &name,
            false,
            &params,
            &args(json!({"email": "a@b", "tags": ["x"]})),
        )
        .expect("a statement");
        assert_eq!(
            sql,
            "SELECT `main`.`tools`.`f`(`email` => :arg0, `tags` => from_json(:arg1, 'array<string>')) AS `f`"
        );
        assert_eq!(bound[1].value.as_deref(), Some("[\"x\"]"));
        let (sql, _) = call_statement(&name, true, &params, &args(json!({"email": "a", "n": "2"})))
            .expect("a statement");
        assert_eq!(sql, "SELECT * FROM `main`.`tools`.`f`(:arg0, :arg1)");
    }

    #[test]
    fn bad_arguments_are_clear() {
        let f = function(
            json!([{"name": "n", "type_name": "INT", "position": 0}]),
            "INT",
        );
        let params = params_of(&f);
        let name = ["c".to_string(), "s".to_string(), "f".to_string()];
        let err = |a: Value| {
            call_statement(&name, false, &params, &args(a))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err(json!({})).contains("missing argument n"));
        assert!(err(json!({"n": "ten"})).contains("whole number"));
        assert!(err(json!({"m": 1})).contains("unknown argument"));
        assert_eq!(decimal_type("decimal(10, 2)"), "DECIMAL(10,2)");
        assert_eq!(decimal_type("decimal"), "DECIMAL(38,18)");
        assert!(safe_type_text("array<string>").is_some());
        assert!(safe_type_text("string'); drop").is_none());
    }
}
