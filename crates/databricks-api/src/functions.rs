//! Unity Catalog functions (REFERENCE.md §3.7): list a schema's functions and read one,
//! with their parameters. Calling a function is SQL (see the SQL service).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub catalog_name: String,
    #[serde(default)]
    pub schema_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Type name of a scalar return value; `TABLE_TYPE` for table functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_data_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_params: Option<FunctionParameterInfos>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_params: Option<FunctionParameterInfos>,
    /// `SQL` or `EXTERNAL` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_deterministic: Option<bool>,
    /// `CONTAINS_SQL`, `NO_SQL`, `READS_SQL_DATA` (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_data_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browse_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_null_call: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_path: Option<String>,
    /// JSON-encoded string of the function's properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routine_dependencies: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metastore_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

impl FunctionInfo {
    /// Input parameters in declaration order.
    pub fn parameters(&self) -> Vec<FunctionParameterInfo> {
        let mut params = self
            .input_params
            .as_ref()
            .map(|p| p.parameters.clone())
            .unwrap_or_default();
        params.sort_by_key(|p| p.position.unwrap_or(i64::MAX));
        params
    }

    /// True for a table-valued function (called in `FROM`).
    pub fn is_table_function(&self) -> bool {
        self.data_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("TABLE_TYPE"))
            || self
                .full_data_type
                .as_deref()
                .is_some_and(|t| t.trim_start().to_ascii_uppercase().starts_with("TABLE"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionParameterInfos {
    #[serde(default)]
    pub parameters: Vec<FunctionParameterInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionParameterInfo {
    #[serde(default)]
    pub name: String,
    /// SQL type text, e.g. `string`, `decimal(10,2)`, `array<int>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    /// `INT`, `STRING`, `ARRAY`, … (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_mode: Option<String>,
    /// `PARAM` or `COLUMN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<String>,
    /// SQL text of the default; a parameter with one may be omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionsPage {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_are_ordered_and_table_functions_recognised() {
        let f: FunctionInfo = serde_json::from_value(json!({
            "name": "f",
            "data_type": "TABLE_TYPE",
            "input_params": {"parameters": [
                {"name": "b", "position": 1, "type_name": "INT"},
                {"name": "a", "position": 0, "type_name": "STRING"}
            ]}
        }))
        .unwrap_or_default();
        let names: Vec<String> = f.parameters().into_iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert!(f.is_table_function());
        let scalar: FunctionInfo =
            serde_json::from_value(json!({"name": "g", "data_type": "STRING"})).unwrap_or_default();
        assert!(!scalar.is_table_function());
        assert!(scalar.parameters().is_empty());
    }
}
