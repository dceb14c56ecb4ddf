//! A chunk of a statement's rows as an Arrow batch, the workspace server writes every
//! format from: generated rows with the Arrow types Databricks sends for their SQL types
//! (ARRAY, MAP, STRUCT and INTERVAL as text, as Databricks sends them by default), and
//! recorded rows as text columns.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int64Array, NullArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::ArrowError;

use crate::backends::statements::{Col, Kind};

/// The day of generated row `r`, counted from 1970-01-01: from 2024-01-01, over ten years.
fn day(r: u64) -> i32 {
    19_723 + (r % 3653) as i32
}

/// The time of generated row `r` in epoch microseconds: a minute apart from 2024-01-01.
fn timestamp_us(r: u64) -> i64 {
    (1_704_067_200_000 + (r as i64) * 60_000) * 1000
}

/// Rows `rows` of a generated column.
fn column(col: &Col, rows: Range<u64>) -> Result<ArrayRef, ArrowError> {
    Ok(match col.kind {
        Kind::Long => Arc::new(Int64Array::from_iter_values(rows.map(|r| r as i64))),
        Kind::Int => Arc::new(Int32Array::from_iter_values(rows.map(|r| r as i32))),
        Kind::Short => Arc::new(Int16Array::from_iter_values(
            rows.map(|r| (r % 32_768) as i16),
        )),
        Kind::Byte => Arc::new(Int8Array::from_iter_values(rows.map(|r| (r % 128) as i8))),
        Kind::Double => Arc::new(Float64Array::from_iter_values(rows.map(|r| r as f64 * 1.5))),
        Kind::Bool => Arc::new(BooleanArray::from_iter(
            rows.map(|r| Some(r.is_multiple_of(2))),
        )),
        Kind::Date => Arc::new(Date32Array::from_iter_values(rows.map(day))),
        Kind::Timestamp => Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.map(timestamp_us))
                .with_timezone("Etc/UTC"),
        ),
        Kind::Decimal(scale) => {
            let precision = col.info.type_precision.unwrap_or(10).clamp(1, 38) as u8;
            let scale = scale.min(u32::from(precision));
            let digits = 10u64.pow(scale.min(18));
            let values = rows.map(|r| r as i128 * 10i128.pow(scale) + ((r * 37) % digits) as i128);
            Arc::new(
                Decimal128Array::from_iter_values(values)
                    .with_precision_and_scale(precision, scale as i8)?,
            )
        }
        Kind::Binary => Arc::new(BinaryArray::from_iter_values(
            rows.map(|r| format!("b{r}").into_bytes()),
        )),
        Kind::Null => Arc::new(NullArray::new((rows.end - rows.start) as usize)),
        _ => Arc::new(rows.map(|r| col.text(r)).collect::<StringArray>()),
    })
}

/// Generated rows `rows` of `cols`.
pub(crate) fn generated(cols: &[Col], rows: Range<u64>) -> Result<RecordBatch, ArrowError> {
    let columns = cols
        .iter()
        .map(|c| Ok((c.info.name.as_str(), column(c, rows.clone())?, true)))
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_from_iter_with_nullable(columns)
}

/// Recorded text rows as text columns: the recorded cells exactly, whatever their types.
pub(crate) fn text<'a>(
    names: impl Iterator<Item = &'a str>,
    rows: &[Vec<Option<String>>],
) -> Result<RecordBatch, ArrowError> {
    let columns = names.enumerate().map(|(i, name)| {
        let cells: StringArray = rows
            .iter()
            .map(|row| row.get(i).cloned().flatten())
            .collect();
        (name, Arc::new(cells) as ArrayRef, true)
    });
    RecordBatch::try_from_iter_with_nullable(columns)
}
