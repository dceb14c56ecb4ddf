//! The JSON_ARRAY cell rules (REFERENCE §1.1): how an Arrow value becomes the text of a
//! cell. Every non-null value is a string; SQL NULL is `None`. Databricks writes them in
//! JSON_ARRAY and CSV; the workspace server writes its chunks with them and the client
//! reads ARROW_STREAM chunks with them, so a value reads the same whichever disposition
//! and format carried it:
//! - numbers, booleans and dates as Arrow displays them (`1.50` for a DECIMAL(5,2));
//! - timestamps as `2024-03-05T10:15:00.000Z` (milliseconds; `Z` when the type has a
//!   time zone, none when it has not), as the recorded responses show;
//! - BINARY as standard base64;
//! - ARRAY, MAP and STRUCT as compact JSON (`{"a":1,"b":"x"}`), numbers unquoted;
//! - a `NULL` literal's column (Arrow `Null`) as NULL in every row.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine as _;
use serde_json::Value;

/// Rows of cells: one `Vec` per row, `None` for SQL NULL.
pub type Cells = Vec<Vec<Option<String>>>;

/// Every row of `batch` as cells.
pub fn rows(batch: &RecordBatch) -> Cells {
    let mut out = Vec::with_capacity(batch.num_rows());
    append_rows(batch, 0..batch.num_rows(), &mut out);
    out
}

/// Appends rows `range` of `batch` (clamped to its rows) to `out` as cells. Each column's
/// renderer is built once, not per cell.
pub fn append_rows(batch: &RecordBatch, range: Range<usize>, out: &mut Cells) {
    let end = range.end.min(batch.num_rows());
    let columns: Vec<Column<'_>> = batch.columns().iter().map(|c| Column::new(c)).collect();
    out.reserve(end.saturating_sub(range.start));
    for i in range.start..end {
        out.push(columns.iter().map(|c| c.cell(i)).collect());
    }
}

/// Cell `i` of `array`.
pub fn cell(array: &dyn Array, i: usize) -> Option<String> {
    Column::new(array).cell(i)
}

/// How one column's cells are written.
enum Column<'a> {
    Null,
    Nested(&'a dyn Array),
    Binary(&'a dyn Array),
    Timestamp(&'a dyn Array, TimeUnit, bool),
    Displayed(&'a dyn Array, ArrayFormatter<'a>),
    /// A type Arrow cannot display (none Databricks sends): its cells are empty text.
    Undisplayable(&'a dyn Array),
}

impl<'a> Column<'a> {
    fn new(array: &'a dyn Array) -> Column<'a> {
        match array.data_type() {
            DataType::Null => Column::Null,
            t if is_nested(t) => Column::Nested(array),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                Column::Binary(array)
            }
            DataType::Timestamp(unit, tz) => Column::Timestamp(array, *unit, tz.is_some()),
            _ => match ArrayFormatter::try_new(array, &FormatOptions::default()) {
                Ok(f) => Column::Displayed(array, f),
                Err(_) => Column::Undisplayable(array),
            },
        }
    }

    fn array(&self) -> Option<&'a dyn Array> {
        match self {
            Column::Null => None,
            Column::Nested(a)
            | Column::Binary(a)
            | Column::Timestamp(a, _, _)
            | Column::Displayed(a, _)
            | Column::Undisplayable(a) => Some(*a),
        }
    }

    fn cell(&self, i: usize) -> Option<String> {
        let array = self.array()?;
        if i >= array.len() || array.is_null(i) {
            return None;
        }
        Some(match self {
            Column::Null => return None,
            Column::Nested(a) => json_value(*a, i).to_string(),
            Column::Binary(a) => binary_text(*a, i),
            Column::Timestamp(a, unit, utc) => timestamp_text(*a, i, *unit, *utc),
            Column::Displayed(_, f) => f.value(i).to_string(),
            Column::Undisplayable(_) => String::new(),
        })
    }
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

fn binary_text(array: &dyn Array, i: usize) -> String {
    let bytes = match array.data_type() {
        DataType::LargeBinary => array.as_binary::<i64>().value(i),
        DataType::BinaryView => array.as_binary_view().value(i),
        _ => array.as_binary::<i32>().value(i),
    };
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn timestamp_text(array: &dyn Array, i: usize, unit: TimeUnit, utc: bool) -> String {
    let time = match unit {
        TimeUnit::Second => chrono::DateTime::from_timestamp(
            array.as_primitive::<TimestampSecondType>().value(i),
            0,
        ),
        TimeUnit::Millisecond => chrono::DateTime::from_timestamp_millis(
            array.as_primitive::<TimestampMillisecondType>().value(i),
        ),
        TimeUnit::Microsecond => chrono::DateTime::from_timestamp_micros(
            array.as_primitive::<TimestampMicrosecondType>().value(i),
        ),
        TimeUnit::Nanosecond => Some(chrono::DateTime::from_timestamp_nanos(
            array.as_primitive::<TimestampNanosecondType>().value(i),
        )),
    };
    match (time, utc) {
        (Some(t), true) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        (Some(t), false) => t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        // Out of chrono's range: Arrow's own rendering.
        (None, _) => ArrayFormatter::try_new(array, &FormatOptions::default())
            .map(|f| f.value(i).to_string())
            .unwrap_or_default(),
    }
}

/// The text of a value inside a nested one (a map's key, a leaf that is not a number).
fn leaf_text(array: &dyn Array, i: usize) -> String {
    cell(array, i).unwrap_or_default()
}

/// Cell `i` of `array` as a typed JSON value: nested values as arrays and objects,
/// numbers and booleans unquoted, other leaves as their cell text, NULL as `null`.
pub fn json_value(array: &dyn Array, i: usize) -> Value {
    if i >= array.len() || array.is_null(i) || array.data_type() == &DataType::Null {
        return Value::Null;
    }
    let items = |values: &dyn Array| -> Value {
        Value::Array((0..values.len()).map(|j| json_value(values, j)).collect())
    };
    match array.data_type() {
        DataType::List(_) => items(array.as_list::<i32>().value(i).as_ref()),
        DataType::LargeList(_) => items(array.as_list::<i64>().value(i).as_ref()),
        DataType::FixedSizeList(_, _) => items(array.as_fixed_size_list().value(i).as_ref()),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let entries = fields.iter().zip(s.columns());
            Value::Object(
                entries
                    .map(|(f, c)| (f.name().clone(), json_value(c.as_ref(), i)))
                    .collect(),
            )
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            Value::Object(
                (0..entries.len())
                    .map(|j| (leaf_text(keys.as_ref(), j), json_value(values.as_ref(), j)))
                    .collect(),
            )
        }
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        t if t.is_numeric() => {
            let text = leaf_text(array, i);
            serde_json::from_str::<serde_json::Number>(&text)
                .map(Value::Number)
                .unwrap_or(Value::String(text))
        }
        _ => Value::String(leaf_text(array, i)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int64Type;
    use arrow_array::{
        ArrayRef, BinaryArray, Decimal128Array, Int64Array, ListArray, MapArray, NullArray,
        StringArray, StructArray, TimestampMicrosecondArray,
    };
    use arrow_schema::Field;

    use super::*;

    fn one(array: ArrayRef) -> Option<String> {
        let batch = RecordBatch::try_from_iter([("c", array)]).expect("a batch");
        rows(&batch).remove(0).remove(0)
    }

    #[test]
    fn scalars_are_text_and_null_is_none() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        let batch = RecordBatch::try_from_iter([("i", ints)]).expect("a batch");
        assert_eq!(rows(&batch), vec![vec![Some("1".into())], vec![None]]);
        let decimal = Decimal128Array::from(vec![150])
            .with_precision_and_scale(5, 2)
            .expect("a decimal");
        assert_eq!(one(Arc::new(decimal)).as_deref(), Some("1.50"));
        assert_eq!(
            one(Arc::new(StringArray::from(vec!["x"]))).as_deref(),
            Some("x")
        );
    }

    #[test]
    fn timestamps_have_milliseconds_and_z_when_zoned() {
        let t = TimestampMicrosecondArray::from(vec![1_709_633_700_000_000]);
        assert_eq!(
            one(Arc::new(t.clone().with_timezone("Etc/UTC"))).as_deref(),
            Some("2024-03-05T10:15:00.000Z")
        );
        assert_eq!(one(Arc::new(t)).as_deref(), Some("2024-03-05T10:15:00.000"));
    }

    #[test]
    fn binary_is_base64() {
        let b = BinaryArray::from(vec![&[1u8, 2, 255][..]]);
        assert_eq!(one(Arc::new(b)).as_deref(), Some("AQL/"));
    }

    #[test]
    fn nested_values_are_compact_json() {
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]);
        let batch =
            RecordBatch::try_from_iter([("l", Arc::new(list) as ArrayRef)]).expect("a batch");
        assert_eq!(
            rows(&batch),
            vec![vec![Some("[1,null]".into())], vec![None]]
        );

        let strukt = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int64, true)),
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("b", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
            ),
        ]);
        assert_eq!(one(Arc::new(strukt)).as_deref(), Some(r#"{"a":1,"b":"x"}"#));

        let values = Int64Array::from(vec![2]);
        let map = MapArray::new_from_strings(["k"].into_iter(), &values, &[0, 1]).expect("a map");
        assert_eq!(one(Arc::new(map)).as_deref(), Some(r#"{"k":2}"#));
    }

    #[test]
    fn a_void_column_is_null_not_empty() {
        let batch = RecordBatch::try_from_iter([("v", Arc::new(NullArray::new(2)) as ArrayRef)])
            .expect("a batch");
        assert_eq!(rows(&batch), vec![vec![None], vec![None]]);
        assert_eq!(json_value(&NullArray::new(1), 0), Value::Null);
    }

    #[test]
    fn a_range_past_the_end_is_clamped() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let batch = RecordBatch::try_from_iter([("i", ints)]).expect("a batch");
        let mut out = Vec::new();
        append_rows(&batch, 2..10, &mut out);
        assert_eq!(out, vec![vec![Some("3".into())]]);
    }
}
