//! Writing Delta tables (CTAS, INSERT, samples, pipelines) with delta-rs.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use deltalake::DeltaTable;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;

/// The Delta-compatible form of an Arrow type (Delta has no views, unsigned or nanosecond
/// types; Databricks strings are plain UTF-8).
pub(crate) fn delta_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Date64 => DataType::Date32,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => DataType::Decimal128(*p, *s),
        DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
        DataType::Timestamp(_, Some(_)) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Interval(_)
        | DataType::Duration(_) => DataType::Utf8,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => DataType::List(Arc::new(delta_field(f))),
        DataType::Struct(fields) => DataType::Struct(Fields::from(
            fields.iter().map(|f| delta_field(f)).collect::<Vec<_>>(),
        )),
        DataType::Map(entries, sorted) => DataType::Map(Arc::new(delta_field(entries)), *sorted),
        DataType::Dictionary(_, v) => delta_type(v),
        other => other.clone(),
    }
}

fn delta_field(f: &Field) -> Field {
    Field::new(f.name(), delta_type(f.data_type()), true).with_metadata(f.metadata().clone())
}

/// Casts a batch to Delta-compatible types (keeping field metadata such as comments).
pub(crate) fn normalize(batch: &RecordBatch) -> Result<RecordBatch, String> {
    let schema = batch.schema();
    let fields: Vec<Field> = schema.fields().iter().map(|f| delta_field(f)).collect();
    let columns = batch
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast(c, f.data_type()).map_err(|e| format!("column {}: {e}", f.name()))
            }
        })
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

/// Writes batches as one Delta commit.
pub(crate) async fn write(
    path: &Path,
    batches: Vec<RecordBatch>,
    mode: SaveMode,
    description: Option<&str>,
    replace_schema: bool,
) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let url = crate::lakehouse::table_url(path).map_err(|e| e.message)?;
    let batches = batches
        .iter()
        .map(normalize)
        .collect::<Result<Vec<_>, _>>()?;
    let table = DeltaTable::try_from_url(url)
        .await
        .map_err(|e| e.to_string())?;
    let mut builder = table.write(batches).with_save_mode(mode);
    if let Some(d) = description {
        builder = builder.with_description(d);
    }
    if replace_schema && mode == SaveMode::Overwrite {
        builder = builder.with_schema_mode(SchemaMode::Overwrite);
    }
    builder.await.map(|_| ()).map_err(|e| e.to_string())
}
