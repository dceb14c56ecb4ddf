//! A result's manifest columns (§1.1). Its cells follow `databricks_api::cells`, and the
//! workspace server writes its formats.

use datafusion::arrow::datatypes::Schema;
use serde_json::{Value, json};

use crate::types::db_type;

/// `manifest.schema.columns` of a result.
pub(crate) fn manifest_columns(schema: &Schema) -> Vec<Value> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let t = db_type(f.data_type());
            let mut c = serde_json::Map::new();
            c.insert("name".into(), json!(f.name()));
            c.insert("type_text".into(), json!(t.type_text));
            c.insert("type_name".into(), json!(t.type_name));
            c.insert("position".into(), json!(i));
            if let (Some(p), Some(s)) = (t.precision, t.scale) {
                c.insert("type_precision".into(), json!(p));
                c.insert("type_scale".into(), json!(s));
            }
            if let Some(iv) = t.interval {
                c.insert("type_interval_type".into(), json!(iv));
            }
            Value::Object(c)
        })
        .collect()
}
