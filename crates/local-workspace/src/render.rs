//! Arrow results in the statement API's formats: manifest columns, JSON_ARRAY rows (every
//! cell a string or null; nested values as JSON text), Arrow IPC streams and CSV.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Value, json};
use std::sync::Arc;

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

fn timestamp_text(unit: TimeUnit, v: i64, utc: bool) -> Option<String> {
    let dt = match unit {
        TimeUnit::Second => chrono::DateTime::from_timestamp(v, 0),
        TimeUnit::Millisecond => chrono::DateTime::from_timestamp_millis(v),
        TimeUnit::Microsecond => chrono::DateTime::from_timestamp_micros(v),
        TimeUnit::Nanosecond => Some(chrono::DateTime::from_timestamp_nanos(v)),
    }?;
    Some(if utc {
        dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        dt.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
    })
}

fn timestamp_value(arr: &dyn Array, i: usize) -> Option<String> {
    use datafusion::arrow::datatypes::*;
    let DataType::Timestamp(unit, tz) = arr.data_type() else {
        return None;
    };
    let v = match unit {
        TimeUnit::Second => arr.as_primitive::<TimestampSecondType>().value(i),
        TimeUnit::Millisecond => arr.as_primitive::<TimestampMillisecondType>().value(i),
        TimeUnit::Microsecond => arr.as_primitive::<TimestampMicrosecondType>().value(i),
        TimeUnit::Nanosecond => arr.as_primitive::<TimestampNanosecondType>().value(i),
    };
    timestamp_text(*unit, v, tz.is_some())
}

fn is_nested(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Struct(_)
            | DataType::Map(_, _)
    )
}

fn leaf_text(arr: &dyn Array, i: usize) -> String {
    use base64::Engine as _;
    if let Some(t) = timestamp_value(arr, i) {
        return t;
    }
    match arr.data_type() {
        DataType::Binary => {
            return base64::engine::general_purpose::STANDARD
                .encode(arr.as_binary::<i32>().value(i));
        }
        DataType::LargeBinary => {
            return base64::engine::general_purpose::STANDARD
                .encode(arr.as_binary::<i64>().value(i));
        }
        DataType::BinaryView => {
            return base64::engine::general_purpose::STANDARD.encode(arr.as_binary_view().value(i));
        }
        _ => {}
    }
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(arr, &options) {
        Ok(f) => f.value(i).to_string(),
        Err(_) => String::new(),
    }
}

/// Whether cell `i` is SQL NULL. A `NULL` literal's column (type VOID) is Arrow's
/// `NullArray`, which has no validity buffer: `is_null` alone calls its cells valid.
fn is_null(arr: &dyn Array, i: usize) -> bool {
    arr.is_null(i) || arr.data_type() == &DataType::Null
}

/// A cell as a typed JSON value (for nested values).
pub(crate) fn json_value(arr: &dyn Array, i: usize) -> Value {
    if is_null(arr, i) {
        return Value::Null;
    }
    match arr.data_type() {
        DataType::List(_) => {
            let v = arr.as_list::<i32>().value(i);
            Value::Array((0..v.len()).map(|j| json_value(v.as_ref(), j)).collect())
        }
        DataType::LargeList(_) => {
            let v = arr.as_list::<i64>().value(i);
            Value::Array((0..v.len()).map(|j| json_value(v.as_ref(), j)).collect())
        }
        DataType::FixedSizeList(_, _) => {
            let v = arr.as_fixed_size_list().value(i);
            Value::Array((0..v.len()).map(|j| json_value(v.as_ref(), j)).collect())
        }
        DataType::Struct(fields) => {
            let s = arr.as_struct();
            Value::Object(
                fields
                    .iter()
                    .enumerate()
                    .map(|(k, f)| (f.name().clone(), json_value(s.column(k).as_ref(), i)))
                    .collect(),
            )
        }
        DataType::Map(_, _) => {
            let m = arr.as_map();
            let entries = m.value(i);
            let keys = entries.column(0);
            let values = entries.column(1);
            Value::Object(
                (0..entries.len())
                    .map(|j| (leaf_text(keys.as_ref(), j), json_value(values.as_ref(), j)))
                    .collect(),
            )
        }
        DataType::Boolean => Value::Bool(arr.as_boolean().value(i)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => {
            let t = leaf_text(arr, i);
            serde_json::from_str::<serde_json::Number>(&t)
                .map(Value::Number)
                .unwrap_or(Value::String(t))
        }
        _ => Value::String(leaf_text(arr, i)),
    }
}

/// One cell of JSON_ARRAY: a string, or `None` for SQL NULL.
pub(crate) fn cell(arr: &ArrayRef, i: usize) -> Option<String> {
    if is_null(arr.as_ref(), i) {
        return None;
    }
    if is_nested(arr.data_type()) {
        return Some(json_value(arr.as_ref(), i).to_string());
    }
    Some(leaf_text(arr.as_ref(), i))
}

/// JSON_ARRAY rows of a batch.
pub(crate) fn json_rows(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
    (0..batch.num_rows())
        .map(|i| batch.columns().iter().map(|c| cell(c, i)).collect())
        .collect()
}

/// The batch with view and large types cast to the classic ones readers expect.
pub(crate) fn classic(batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut cols = Vec::with_capacity(schema.fields().len());
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        let t = match f.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
            DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
            t => t.clone(),
        };
        let c = if &t == c.data_type() {
            c.clone()
        } else {
            cast(c, &t).map_err(|e| e.to_string())?
        };
        fields.push(Field::new(f.name(), t, f.is_nullable()));
        cols.push(c);
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    RecordBatch::try_new(schema, cols).map_err(|e| e.to_string())
}

/// An Arrow IPC stream (schema + one batch).
pub(crate) fn arrow_stream(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let batch = classic(batch)?;
    let mut buf = Vec::new();
    {
        let mut w =
            datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut buf, &batch.schema())
                .map_err(|e| e.to_string())?;
        w.write(&batch).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

/// CSV with a header row, cells rendered as in JSON_ARRAY.
pub(crate) fn csv(batch: &RecordBatch) -> Vec<u8> {
    let mut out = String::new();
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let header: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| quote(f.name()))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in json_rows(batch) {
        let line: Vec<String> = row
            .iter()
            .map(|c| c.as_deref().map(quote).unwrap_or_default())
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, ListArray, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn cells() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "l",
                DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
                true,
            ),
        ]));
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
        ]);
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("x"), Some("y")])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(1_709_633_700_000_000), None])
                        .with_timezone("UTC"),
                ),
                Arc::new(list),
            ],
        )
        .unwrap();
        let rows = json_rows(&batch);
        assert_eq!(
            rows[0],
            vec![
                Some("1".to_string()),
                Some("x".to_string()),
                Some("2024-03-05T10:15:00.000Z".to_string()),
                Some("[1,2]".to_string())
            ]
        );
        assert_eq!(rows[1][0], None);
        assert_eq!(rows[1][3], None);
        assert!(!arrow_stream(&batch).unwrap().is_empty());
        assert!(
            String::from_utf8(csv(&batch))
                .unwrap()
                .starts_with("a,s,t,l\n")
        );
    }

    #[test]
    fn a_void_column_is_null_not_empty() {
        use datafusion::arrow::array::NullArray;
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Null, true)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(NullArray::new(2))]).unwrap();
        assert_eq!(json_rows(&batch), vec![vec![None], vec![None]]);
    }
}
