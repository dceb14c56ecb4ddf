//! ARROW_STREAM chunks: the generated rows of a chunk as one Arrow IPC stream, with
//! Arrow types matching the SQL types (as Databricks sends them).

use std::io::Write;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use crate::backends::statements::{Col, Kind, day, timestamp_ms};

/// Rows `rows` of a generated column, with the values [`Col::cell`] renders as text.
fn column(col: &Col, rows: Range<u64>) -> std::io::Result<ArrayRef> {
    Ok(match col.kind {
        Kind::Long => Arc::new(Int64Array::from_iter_values(rows.map(|r| r as i64))),
        Kind::Int => Arc::new(Int32Array::from_iter_values(rows.map(|r| r as i32))),
        Kind::Short => Arc::new(Int16Array::from_iter_values(
            rows.map(|r| (r % 32_768) as i16),
        )),
        Kind::Byte => Arc::new(Int8Array::from_iter_values(rows.map(|r| (r % 128) as i8))),
        Kind::Double => Arc::new(Float64Array::from_iter_values(rows.map(|r| r as f64 * 1.5))),
        Kind::Bool => Arc::new(BooleanArray::from(
            rows.map(|r| r.is_multiple_of(2)).collect::<Vec<_>>(),
        )),
        Kind::Date => Arc::new(Date32Array::from_iter_values(rows.map(|r| day(r) as i32))),
        Kind::Timestamp => Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.map(|r| timestamp_ms(r) * 1000))
                .with_timezone("Etc/UTC"),
        ),
        Kind::Decimal(scale) => {
            let precision = col.info.type_precision.unwrap_or(10).clamp(1, 38) as u8;
            let scale = scale.min(u32::from(precision));
            let digits = 10u64.pow(scale.min(18));
            let values = rows.map(|r| r as i128 * 10i128.pow(scale) + ((r * 37) % digits) as i128);
            Arc::new(
                Decimal128Array::from_iter_values(values)
                    .with_precision_and_scale(precision, scale as i8)
                    .map_err(std::io::Error::other)?,
            )
        }
        _ => Arc::new(rows.map(|r| col.cell(r)).collect::<StringArray>()),
    })
}

/// Writes generated rows `rows` as an Arrow IPC stream.
pub(crate) fn write_chunk(
    cols: &[Col],
    rows: Range<u64>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let columns = cols
        .iter()
        .map(|c| Ok((c.info.name.as_str(), column(c, rows.clone())?, true)))
        .collect::<std::io::Result<Vec<_>>>()?;
    write_stream(RecordBatch::try_from_iter_with_nullable(columns), w)
}

/// Writes recorded text rows as an Arrow IPC stream of text columns: the recorded cells
/// exactly, whatever their SQL types.
pub(crate) fn write_text(
    names: &[&str],
    rows: &[Vec<Option<String>>],
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let columns = names.iter().enumerate().map(|(i, name)| {
        let cells: StringArray = rows
            .iter()
            .map(|row| row.get(i).cloned().flatten())
            .collect();
        (*name, Arc::new(cells) as ArrayRef, true)
    });
    write_stream(RecordBatch::try_from_iter_with_nullable(columns), w)
}

fn write_stream(
    batch: Result<RecordBatch, arrow_schema::ArrowError>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let batch = batch.map_err(std::io::Error::other)?;
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(w, &batch.schema())
        .map_err(std::io::Error::other)?;
    writer.write(&batch).map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}
