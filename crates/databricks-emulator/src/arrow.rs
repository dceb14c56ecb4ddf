//! ARROW_STREAM chunks: the generated rows of a chunk as one Arrow IPC stream, with
//! Arrow types matching the SQL types (as Databricks sends them).

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int8Builder, Int16Builder,
    Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::backends::statements::{Col, Kind};

fn column(col: &Col, offset: u64, count: u64) -> std::io::Result<(Field, ArrayRef)> {
    let rows = offset..offset + count;
    let nullable = true;
    Ok(match col.kind {
        Kind::Long => {
            let mut b = Int64Builder::new();
            rows.for_each(|r| b.append_value(r as i64));
            (
                Field::new(&col.name, DataType::Int64, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Int => {
            let mut b = Int32Builder::new();
            rows.for_each(|r| b.append_value(r as i32));
            (
                Field::new(&col.name, DataType::Int32, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Short => {
            let mut b = Int16Builder::new();
            rows.for_each(|r| b.append_value((r % 32_768) as i16));
            (
                Field::new(&col.name, DataType::Int16, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Byte => {
            let mut b = Int8Builder::new();
            rows.for_each(|r| b.append_value((r % 128) as i8));
            (
                Field::new(&col.name, DataType::Int8, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Double => {
            let mut b = Float64Builder::new();
            rows.for_each(|r| b.append_value(r as f64 * 1.5));
            (
                Field::new(&col.name, DataType::Float64, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Bool => {
            let mut b = BooleanBuilder::new();
            rows.for_each(|r| b.append_value(r.is_multiple_of(2)));
            (
                Field::new(&col.name, DataType::Boolean, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Date => {
            let mut b = Date32Builder::new();
            rows.for_each(|r| b.append_value(19_723 + (r % 3653) as i32));
            (
                Field::new(&col.name, DataType::Date32, nullable),
                Arc::new(b.finish()),
            )
        }
        Kind::Timestamp => {
            let mut b = TimestampMicrosecondBuilder::new().with_timezone("Etc/UTC");
            rows.for_each(|r| b.append_value((1_704_067_200_000 + (r as i64) * 60_000) * 1000));
            let t = DataType::Timestamp(TimeUnit::Microsecond, Some("Etc/UTC".into()));
            (Field::new(&col.name, t, nullable), Arc::new(b.finish()))
        }
        Kind::Decimal(scale) => {
            let precision = col.precision.unwrap_or(10).clamp(1, 38) as u8;
            let scale = scale.min(precision as u32) as i8;
            let mut b = Decimal128Builder::new()
                .with_precision_and_scale(precision, scale)
                .map_err(std::io::Error::other)?;
            for r in rows {
                let frac = (r * 37) % 10u64.pow(scale as u32);
                b.append_value(r as i128 * 10i128.pow(scale as u32) + frac as i128);
            }
            let t = DataType::Decimal128(precision, scale);
            (Field::new(&col.name, t, nullable), Arc::new(b.finish()))
        }
        _ => {
            let mut b = StringBuilder::new();
            rows.for_each(|r| b.append_option(col.cell(r)));
            (
                Field::new(&col.name, DataType::Utf8, nullable),
                Arc::new(b.finish()),
            )
        }
    })
}

/// Writes rows `[offset, offset + count)` as an Arrow IPC stream.
pub(crate) fn write_chunk(
    cols: &[Col],
    offset: u64,
    count: u64,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut fields = Vec::with_capacity(cols.len());
    let mut arrays = Vec::with_capacity(cols.len());
    for c in cols {
        let (f, a) = column(c, offset, count)?;
        fields.push(f);
        arrays.push(a);
    }
    write_stream(fields, arrays, w)
}

/// Writes recorded text rows as an Arrow IPC stream of text columns: the recorded cells
/// exactly, whatever their SQL types.
pub(crate) fn write_text(
    names: &[&str],
    rows: &[Vec<Option<String>>],
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut fields = Vec::with_capacity(names.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let mut b = StringBuilder::new();
        rows.iter()
            .for_each(|row| b.append_option(row.get(i).cloned().flatten()));
        fields.push(Field::new(*name, DataType::Utf8, true));
        arrays.push(Arc::new(b.finish()));
    }
    write_stream(fields, arrays, w)
}

fn write_stream(
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(std::io::Error::other)?;
    let mut writer =
        arrow_ipc::writer::StreamWriter::try_new(w, &schema).map_err(std::io::Error::other)?;
    writer.write(&batch).map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}
