//! The three result formats (§1.1), written once from a backend's Arrow batch:
//! - JSON_ARRAY: rows of cells (`databricks_api::cells`), every value a string or null;
//! - CSV (RFC 4180): the same cell text, NULL as `null`, and a header row of the column
//!   names in the first chunk only, as the API documents;
//! - ARROW_STREAM: one IPC stream per chunk, view and large types cast to the classic
//!   ones readers expect.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::cast;
use arrow_schema::{ArrowError, DataType, Field, Schema};
use databricks_api::backend::{ResultFormat, ResultRows};
use databricks_api::cells::{self, Cells};

/// Rows `range` of a result as JSON_ARRAY cells.
pub(super) fn cells(rows: &dyn ResultRows, range: Range<u64>) -> Result<Cells, ArrowError> {
    Ok(cells::rows(&rows.batch(range)?))
}

/// Rows `range` of a result in `format`: the bytes of one download or attachment.
pub(super) fn write(
    rows: &dyn ResultRows,
    range: Range<u64>,
    format: ResultFormat,
) -> Result<Vec<u8>, ArrowError> {
    let first = range.start == 0;
    let batch = rows.batch(range)?;
    match format {
        ResultFormat::JsonArray => serde_json::to_vec(&cells::rows(&batch))
            .map_err(|e| ArrowError::JsonError(e.to_string())),
        ResultFormat::Csv => {
            let header = first.then(|| rows.columns().iter().map(|c| c.name.as_str()));
            Ok(csv(header, &cells::rows(&batch)))
        }
        ResultFormat::ArrowStream => arrow_stream(&classic(&batch)?),
    }
}

fn csv<'a>(header: Option<impl Iterator<Item = &'a str>>, rows: &Cells) -> Vec<u8> {
    fn field(out: &mut String, text: &str) {
        if text.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(text);
        }
    }
    let mut out = String::new();
    if let Some(names) = header {
        for (i, name) in names.enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, name);
        }
        out.push('\n');
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, cell.as_deref().unwrap_or("null"));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// The batch with view and large types cast to the classic ones.
fn classic(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        let t = match f.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
            DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
            t => t.clone(),
        };
        columns.push(if &t == c.data_type() {
            c.clone()
        } else {
            cast(c, &t)?
        });
        fields.push(Field::new(f.name(), t, f.is_nullable()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// An Arrow IPC stream: the schema and one batch.
fn arrow_stream(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_as_rfc_4180_and_writes_null() {
        let rows = vec![
            vec![Some("a,b".to_string()), None],
            vec![Some("say \"hi\"".to_string()), Some("x".to_string())],
        ];
        let text = String::from_utf8(csv(Some(["s", "n"].into_iter()), &rows)).unwrap_or_default();
        assert_eq!(text, "s,n\n\"a,b\",null\n\"say \"\"hi\"\"\",x\n");
        let later =
            String::from_utf8(csv(None::<std::iter::Empty<&str>>, &rows)).unwrap_or_default();
        assert!(later.starts_with("\"a,b\",null\n"));
    }
}
