//! A result cut into chunks for its disposition (§1.1, §1.5): INLINE rows as JSON_ARRAY
//! chunks of about 2 MiB (the whole result at most 25 MiB, else the statement fails),
//! EXTERNAL_LINKS downloads of about 16 MiB each, and the hybrid INLINE_OR_EXTERNAL_LINKS,
//! which sends a result inline when its bytes stay within
//! `attachment::INLINE_LIMIT` (Arrow as one LZ4-compressed attachment, JSON as rows) and
//! as external links otherwise. Chunks are rendered once, here.

use std::ops::Range;
use std::sync::Arc;

use databricks_api::attachment;
use databricks_api::backend::{ResultFormat, ResultRows, StatementFailure};
use databricks_api::sql::ColumnInfo;

use super::formats;
use serde::{Deserialize, Serialize};

/// INLINE results larger than this fail, as in Databricks (§1.5).
const INLINE_LIMIT: usize = 25 * 1024 * 1024;
/// Target JSON size of one INLINE chunk.
const INLINE_CHUNK: usize = 2 * 1024 * 1024;
/// Target size of one EXTERNAL_LINKS download.
const EXTERNAL_CHUNK: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    Inline,
    External,
    /// INLINE_OR_EXTERNAL_LINKS: [`package`] chooses by the result's size.
    Hybrid,
}

#[derive(Serialize, Deserialize)]
pub(super) enum Payload {
    /// INLINE rows.
    Rows(Vec<Vec<Option<String>>>),
    /// A hybrid-disposition Arrow chunk: base64 (of LZ4 frames when compressed).
    Attachment(String),
    /// The bytes an external link serves.
    Download(#[serde(with = "base64_bytes")] Arc<Vec<u8>>),
}

#[derive(Serialize, Deserialize)]
pub(super) struct Chunk {
    pub row_offset: u64,
    pub row_count: u64,
    pub byte_count: u64,
    pub payload: Payload,
}

/// A succeeded statement's result, ready to serve.
#[derive(Serialize, Deserialize)]
pub(super) struct Packaged {
    #[serde(with = "format_name")]
    pub format: ResultFormat,
    pub columns: Vec<ColumnInfo>,
    pub total_rows: u64,
    pub truncated: bool,
    /// No chunk at all for a statement without a result set (DDL, DML without rows).
    pub chunks: Vec<Chunk>,
    /// `manifest.result_compression` of the attachment.
    pub compressed: bool,
}

impl Packaged {
    /// Whether chunks are downloaded from links (the manifest then counts bytes).
    pub(super) fn external(&self) -> bool {
        self.chunks
            .iter()
            .any(|c| matches!(c.payload, Payload::Download(_)))
    }
}

fn failure(error_code: &str, sql_state: &str, message: impl Into<String>) -> StatementFailure {
    StatementFailure {
        error_code: error_code.to_string(),
        message: message.into(),
        sql_state: Some(sql_state.to_string()),
    }
}

fn render_failed(e: arrow_schema::ArrowError) -> StatementFailure {
    failure(
        "INTERNAL_ERROR",
        "XX000",
        format!("The result could not be rendered: {e}"),
    )
}

pub(super) fn package(
    rows: &dyn ResultRows,
    disposition: Disposition,
    format: ResultFormat,
) -> Result<Packaged, StatementFailure> {
    let mut packaged = Packaged {
        format,
        columns: rows.columns().to_vec(),
        total_rows: rows.row_count(),
        truncated: rows.truncated(),
        chunks: Vec::new(),
        compressed: false,
    };
    if packaged.columns.is_empty() {
        return Ok(packaged);
    }
    let estimate = rows
        .row_bytes()
        .saturating_mul(packaged.total_rows as usize);
    let disposition = match (disposition, format) {
        (Disposition::Hybrid, ResultFormat::ArrowStream) => {
            // Rendered to learn its size only when it may fit.
            if estimate <= 2 * attachment::INLINE_LIMIT
                && let Some(chunks) = attachments(rows, packaged.total_rows)?
            {
                packaged.compressed = chunks.1;
                packaged.chunks = chunks.0;
                return Ok(packaged);
            }
            Disposition::External
        }
        (Disposition::Hybrid, ResultFormat::JsonArray) if estimate <= attachment::INLINE_LIMIT => {
            Disposition::Inline
        }
        (Disposition::Hybrid, _) => Disposition::External,
        (other, _) => other,
    };
    packaged.chunks = match disposition {
        Disposition::Inline => inline_chunks(rows, packaged.total_rows)?,
        Disposition::External | Disposition::Hybrid => {
            external_chunks(rows, packaged.total_rows, format)?
        }
    };
    Ok(packaged)
}

/// A hybrid-disposition Arrow result as inline attachments, one per chunk of the
/// backend's size (else one), when their bytes stay within `attachment::INLINE_LIMIT`;
/// `None` when they do not. Whether they are compressed is decided on their total.
fn attachments(
    rows: &dyn ResultRows,
    total: u64,
) -> Result<Option<(Vec<Chunk>, bool)>, StatementFailure> {
    let per_chunk = rows.chunk_rows().filter(|n| *n > 0).unwrap_or(total);
    let mut rendered = Vec::new();
    let mut bytes = 0;
    for range in ranges(total, per_chunk) {
        let ipc = formats::write(rows, range.clone(), ResultFormat::ArrowStream)
            .map_err(render_failed)?;
        bytes += ipc.len();
        if bytes > attachment::INLINE_LIMIT {
            return Ok(None);
        }
        rendered.push((range, ipc));
    }
    let compressed = attachment::should_compress(bytes);
    let chunks = rendered
        .into_iter()
        .map(|(range, ipc)| Chunk {
            row_offset: range.start,
            row_count: range.end - range.start,
            byte_count: ipc.len() as u64,
            payload: Payload::Attachment(attachment::encode(&ipc, compressed)),
        })
        .collect();
    Ok(Some((chunks, compressed)))
}

/// The rows of an INLINE result, in chunks of the backend's size or of about 2 MiB.
fn inline_chunks(rows: &dyn ResultRows, total: u64) -> Result<Vec<Chunk>, StatementFailure> {
    let too_large = || {
        failure(
            "INLINE_RESULT_TOO_LARGE",
            "54000",
            "The result exceeds the 25 MiB limit of the INLINE disposition. Use disposition EXTERNAL_LINKS, a row_limit, or a LIMIT clause.",
        )
    };
    // Far over the limit: refused without rendering it.
    if rows.row_bytes().saturating_mul(total as usize) > 2 * INLINE_LIMIT {
        return Err(too_large());
    }
    if let Some(per_chunk) = rows.chunk_rows().filter(|n| *n > 0) {
        return ranges(total, per_chunk)
            .map(|range| {
                Ok(Chunk {
                    row_offset: range.start,
                    row_count: range.end - range.start,
                    byte_count: 0,
                    payload: Payload::Rows(formats::cells(rows, range).map_err(render_failed)?),
                })
            })
            .collect();
    }
    let mut chunks = Vec::new();
    let (mut current, mut current_bytes, mut offset, mut total_bytes) = (Vec::new(), 0, 0, 0);
    for row in formats::cells(rows, 0..total).map_err(render_failed)? {
        // The row's JSON: quotes and commas around each cell, `null` for NULL.
        let size = row
            .iter()
            .map(|c| c.as_ref().map_or(5, |s| s.len() + 3))
            .sum::<usize>()
            + 2;
        total_bytes += size;
        if total_bytes > INLINE_LIMIT {
            return Err(too_large());
        }
        if !current.is_empty() && current_bytes + size > INLINE_CHUNK {
            let rows: Vec<_> = std::mem::take(&mut current);
            let count = rows.len() as u64;
            chunks.push(Chunk {
                row_offset: offset,
                row_count: count,
                byte_count: current_bytes as u64,
                payload: Payload::Rows(rows),
            });
            offset += count;
            current_bytes = 0;
        }
        current_bytes += size;
        current.push(row);
    }
    chunks.push(Chunk {
        row_offset: offset,
        row_count: current.len() as u64,
        byte_count: current_bytes as u64,
        payload: Payload::Rows(current),
    });
    Ok(chunks)
}

/// The downloads of an EXTERNAL_LINKS result: one chunk even for zero rows.
fn external_chunks(
    rows: &dyn ResultRows,
    total: u64,
    format: ResultFormat,
) -> Result<Vec<Chunk>, StatementFailure> {
    let per_chunk = rows
        .chunk_rows()
        .filter(|n| *n > 0)
        .unwrap_or_else(|| (EXTERNAL_CHUNK / rows.row_bytes().max(1)).max(1) as u64);
    ranges(total, per_chunk)
        .map(|range| {
            let bytes = formats::write(rows, range.clone(), format).map_err(render_failed)?;
            Ok(Chunk {
                row_offset: range.start,
                row_count: range.end - range.start,
                byte_count: bytes.len() as u64,
                payload: Payload::Download(Arc::new(bytes)),
            })
        })
        .collect()
}

/// `0..total` in ranges of `per_chunk` rows; one empty range for no rows.
fn ranges(total: u64, per_chunk: u64) -> impl Iterator<Item = Range<u64>> {
    let per_chunk = per_chunk.max(1);
    let count = total.div_ceil(per_chunk).max(1);
    (0..count).map(move |n| {
        let start = n * per_chunk;
        start..(start + per_chunk).min(total)
    })
}

mod base64_bytes {
    use std::sync::Arc;

    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Arc<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes.as_slice()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Vec<u8>>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Arc::new)
            .map_err(serde::de::Error::custom)
    }
}

mod format_name {
    use databricks_api::backend::ResultFormat;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(format: &ResultFormat, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(format.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ResultFormat, D::Error> {
        match String::deserialize(d)?.as_str() {
            "ARROW_STREAM" => Ok(ResultFormat::ArrowStream),
            "CSV" => Ok(ResultFormat::Csv),
            _ => Ok(ResultFormat::JsonArray),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_rows() {
        let all: Vec<_> = ranges(10, 3).collect();
        assert_eq!(all, vec![0..3, 3..6, 6..9, 9..10]);
        assert_eq!(ranges(0, 5).collect::<Vec<_>>(), vec![0..0]);
        assert_eq!(ranges(4, 4).collect::<Vec<_>>(), vec![0..4]);
    }
}
