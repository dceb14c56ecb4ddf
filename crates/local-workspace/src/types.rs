//! Arrow types as Databricks names them: `type_name` / `type_text` of the statement API
//! and of Unity Catalog columns, and the Delta (Spark) JSON type of `type_json`.

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit};
use serde_json::{Value, json};

/// A column type in Databricks terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbType {
    /// Statement API `type_name` (`LONG`, `STRING`, `DECIMAL`, ...).
    pub type_name: &'static str,
    /// Unity Catalog `type_name` (adds `TIMESTAMP_NTZ`).
    pub uc_type_name: &'static str,
    /// SQL type text, upper case (`BIGINT`, `DECIMAL(10,2)`, `ARRAY<STRING>`).
    pub type_text: String,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
    /// `type_interval_type` for intervals.
    pub interval: Option<&'static str>,
}

pub(crate) fn db_type(dt: &DataType) -> DbType {
    let simple = |name: &'static str, text: &str| DbType {
        type_name: name,
        uc_type_name: name,
        type_text: text.to_string(),
        precision: None,
        scale: None,
        interval: None,
    };
    match dt {
        DataType::Null => simple("NULL", "VOID"),
        DataType::Boolean => simple("BOOLEAN", "BOOLEAN"),
        DataType::Int8 => simple("BYTE", "TINYINT"),
        DataType::Int16 | DataType::UInt8 => simple("SHORT", "SMALLINT"),
        DataType::Int32 | DataType::UInt16 => simple("INT", "INT"),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => simple("LONG", "BIGINT"),
        DataType::Float16 | DataType::Float32 => simple("FLOAT", "FLOAT"),
        DataType::Float64 => simple("DOUBLE", "DOUBLE"),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => DbType {
            precision: Some(i64::from(*p)),
            scale: Some(i64::from(*s)),
            ..simple("DECIMAL", &format!("DECIMAL({p},{s})"))
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => simple("STRING", "STRING"),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => simple("BINARY", "BINARY"),
        DataType::Date32 | DataType::Date64 => simple("DATE", "DATE"),
        DataType::Timestamp(_, Some(_)) => simple("TIMESTAMP", "TIMESTAMP"),
        DataType::Timestamp(_, None) => DbType {
            uc_type_name: "TIMESTAMP_NTZ",
            ..simple("TIMESTAMP", "TIMESTAMP_NTZ")
        },
        DataType::Time32(_) | DataType::Time64(_) => simple("STRING", "STRING"),
        DataType::Interval(IntervalUnit::YearMonth) => DbType {
            interval: Some("YEAR TO MONTH"),
            ..simple("INTERVAL", "INTERVAL YEAR TO MONTH")
        },
        DataType::Interval(_) | DataType::Duration(_) => DbType {
            interval: Some("DAY TO SECOND"),
            ..simple("INTERVAL", "INTERVAL DAY TO SECOND")
        },
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => simple(
            "ARRAY",
            &format!("ARRAY<{}>", db_type(f.data_type()).type_text),
        ),
        DataType::Struct(fields) => {
            let inner = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), db_type(f.data_type()).type_text))
                .collect::<Vec<_>>()
                .join(", ");
            simple("STRUCT", &format!("STRUCT<{inner}>"))
        }
        DataType::Map(entries, _) => {
            let (k, v) = map_types(entries);
            simple("MAP", &format!("MAP<{k}, {v}>"))
        }
        DataType::Dictionary(_, v) => db_type(v),
        DataType::RunEndEncoded(_, v) => db_type(v.data_type()),
        DataType::Union(_, _) => simple("USER_DEFINED_TYPE", "UNION"),
    }
}

fn map_types(entries: &Field) -> (String, String) {
    match key_value(entries) {
        Some((k, v)) => (
            db_type(k.data_type()).type_text,
            db_type(v.data_type()).type_text,
        ),
        None => ("STRING".into(), "STRING".into()),
    }
}

/// The key and value fields of a map's entries, when they are a struct of exactly two.
fn key_value(entries: &Field) -> Option<(&Field, &Field)> {
    match entries.data_type() {
        DataType::Struct(kv) => match &**kv {
            [k, v] => Some((k.as_ref(), v.as_ref())),
            _ => None,
        },
        _ => None,
    }
}

/// The Delta / Spark JSON type of an Arrow type (`"long"`, `{"type":"array",...}`).
pub(crate) fn spark_json_type(dt: &DataType) -> Value {
    match dt {
        DataType::Null => json!("void"),
        DataType::Boolean => json!("boolean"),
        DataType::Int8 => json!("byte"),
        DataType::Int16 | DataType::UInt8 => json!("short"),
        DataType::Int32 | DataType::UInt16 => json!("integer"),
        DataType::Int64 | DataType::UInt32 => json!("long"),
        DataType::Float16 | DataType::Float32 => json!("float"),
        DataType::Float64 => json!("double"),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => json!(format!("decimal({p},{s})")),
        DataType::UInt64 => json!("decimal(20,0)"),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => json!("binary"),
        DataType::Date32 | DataType::Date64 => json!("date"),
        DataType::Timestamp(_, Some(_)) => json!("timestamp"),
        DataType::Timestamp(_, None) => json!("timestamp_ntz"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => json!({
            "type": "array",
            "elementType": spark_json_type(f.data_type()),
            "containsNull": f.is_nullable(),
        }),
        DataType::Struct(fields) => json!({
            "type": "struct",
            "fields": fields.iter().map(|f| json!({
                "name": f.name(),
                "type": spark_json_type(f.data_type()),
                "nullable": f.is_nullable(),
                "metadata": {},
            })).collect::<Vec<_>>(),
        }),
        DataType::Map(entries, _) => match key_value(entries) {
            Some((k, v)) => json!({
                "type": "map",
                "keyType": spark_json_type(k.data_type()),
                "valueType": spark_json_type(v.data_type()),
                "valueContainsNull": v.is_nullable(),
            }),
            None => json!("string"),
        },
        DataType::Dictionary(_, v) => spark_json_type(v),
        _ => json!("string"),
    }
}

/// Lower-case type text as Unity Catalog stores it (`bigint`, `decimal(10,2)`).
pub(crate) fn uc_type_text(dt: &DataType) -> String {
    db_type(dt).type_text.to_ascii_lowercase()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn names() {
        assert_eq!(db_type(&DataType::Int64).type_name, "LONG");
        assert_eq!(db_type(&DataType::Int64).type_text, "BIGINT");
        let d = db_type(&DataType::Decimal128(10, 2));
        assert_eq!(
            (d.type_text.as_str(), d.precision, d.scale),
            ("DECIMAL(10,2)", Some(10), Some(2))
        );
        let l = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        assert_eq!(db_type(&l).type_text, "ARRAY<STRING>");
        assert_eq!(uc_type_text(&DataType::Utf8View), "string");
        assert_eq!(spark_json_type(&DataType::Int32), json!("integer"));
    }
}
