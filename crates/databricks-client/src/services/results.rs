//! Reading result chunks whatever their disposition: INLINE `data_array`, a hybrid
//! disposition's inline Arrow `attachment`, or EXTERNAL_LINKS downloaded from pre-signed
//! URLs and decoded (Arrow IPC or JSON). As the reference says, a chunk's external links
//! are looked at first, then its attachment, then its `data_array`.
//!
//! Rows come out as JSON_ARRAY cells (text, `None` for SQL NULL), Arrow values written
//! by the contract's cell rules (`databricks_api::cells`), so a value reads the same
//! whichever format carried it and callers render and type it one way. Only one chunk
//! is held at a time.
//!
//! Pre-signed URLs are credentials of their own: the Databricks `Authorization` header
//! is never sent to them (REFERENCE.md §1.4), their `http_headers` are, and the URL is
//! never logged or put in an error.

pub use databricks_api::cells::append_rows;

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::services::sql::{ExternalLink, ResultData, ResultManifest};

/// An inline attachment may expand to at most this many bytes (the servers put results
/// of a few MiB inline; this bounds what a hostile frame can make us allocate).
const MAX_ATTACHMENT_BYTES: usize = 256 * 1024 * 1024;

/// How a statement's chunks are encoded, from its manifest.
#[derive(Debug, Clone, Default)]
pub struct ChunkEncoding {
    /// `JSON_ARRAY`, `ARROW_STREAM` or `CSV`.
    pub format: String,
    /// `LZ4_FRAME` when chunk bytes are compressed.
    pub compression: Option<String>,
}

impl ChunkEncoding {
    pub fn of(manifest: &ResultManifest) -> ChunkEncoding {
        ChunkEncoding {
            format: manifest.format.clone().unwrap_or_default(),
            compression: manifest.result_compression.clone(),
        }
    }

    fn compressed(&self) -> bool {
        self.compression.as_deref() == Some(databricks_api::attachment::LZ4_FRAME)
    }
}

/// The wanted rows of one chunk.
#[derive(Debug, Clone, Default)]
pub struct ChunkRows {
    pub chunk_index: i64,
    /// Offset (in the whole result) of the first row in `rows`.
    pub row_offset: i64,
    pub rows: Vec<Vec<Option<String>>>,
    pub next_chunk_index: Option<i64>,
}

impl DatabricksClient {
    /// The rows of `chunk` (of statement `statement_id`, encoded as its manifest says)
    /// whose offsets in the whole result fall in `wanted`, downloading its external
    /// links if it has them. Rows outside `wanted` are never turned into text, so a
    /// page of 100 rows out of a 100,000-row chunk costs memory for 100 rows.
    pub async fn chunk_rows(
        &self,
        statement_id: &str,
        encoding: &ChunkEncoding,
        chunk: ResultData,
        wanted: std::ops::Range<u64>,
    ) -> Result<ChunkRows, Error> {
        let format = encoding.format.as_str();
        let next_from_links = chunk.external_links.last().and_then(|l| l.next_chunk_index);
        let mut out = ChunkRows {
            chunk_index: chunk.chunk_index.unwrap_or(0),
            row_offset: chunk.row_offset.unwrap_or(0),
            rows: Vec::new(),
            next_chunk_index: chunk.next_chunk_index.or(next_from_links),
        };
        let window = |start: u64| {
            let skip = wanted.start.saturating_sub(start) as usize;
            let take = wanted.end.saturating_sub(start.max(wanted.start)) as usize;
            (skip, take)
        };
        if chunk.external_links.is_empty()
            && let Some(attachment) = &chunk.attachment
        {
            let start = chunk.row_offset.unwrap_or(0).max(0) as u64;
            let (skip, take) = window(start);
            out.row_offset = (start + skip as u64) as i64;
            if take > 0 {
                out.rows = decode_attachment(attachment, encoding, skip, take)?;
            }
            return Ok(out);
        }
        if let Some(data) = chunk.data_array {
            let start = chunk.row_offset.unwrap_or(0).max(0) as u64;
            let skip = wanted.start.saturating_sub(start) as usize;
            let take = wanted.end.saturating_sub(start.max(wanted.start)) as usize;
            out.row_offset = (start + skip as u64) as i64;
            out.rows = data.into_iter().skip(skip).take(take).collect();
            return Ok(out);
        }
        let mut first_kept: Option<u64> = None;
        for link in &chunk.external_links {
            let bytes = match self.download_external_link(link).await {
                Ok(b) => b,
                // An expired link: ask for the chunk again to get a fresh one.
                Err(Error::Api(e)) if matches!(e.status, 400 | 403) => {
                    let fresh = self
                        .get_statement_chunk(statement_id, link.chunk_index)
                        .await?;
                    let Some(fresh_link) = fresh.external_links.into_iter().next() else {
                        return Err(Error::Decode {
                            endpoint: "external link".into(),
                            detail: "the refreshed chunk has no external link".into(),
                        });
                    };
                    self.download_external_link(&fresh_link).await?
                }
                Err(e) => return Err(e),
            };
            let bytes = if encoding.compressed() {
                databricks_api::attachment::decompress_lz4_frame(&bytes, MAX_ATTACHMENT_BYTES)
                    .map_err(|e| Error::Decode {
                        endpoint: "external link".into(),
                        detail: e.to_string(),
                    })?
                    .into()
            } else {
                bytes
            };
            let link_start = link.row_offset.max(0) as u64;
            let (skip, take) = window(link_start);
            if take == 0 {
                continue;
            }
            first_kept.get_or_insert(link_start + skip as u64);
            out.rows.extend(decode(format, &bytes, skip, take)?);
        }
        out.row_offset = first_kept.map_or(out.row_offset, |o| o as i64);
        Ok(out)
    }

    /// Downloads a pre-signed URL without the Databricks credentials.
    pub async fn download_external_link(&self, link: &ExternalLink) -> Result<bytes::Bytes, Error> {
        let url = url::Url::parse(&link.external_link).map_err(|_| Error::Decode {
            endpoint: "external link".into(),
            detail: "the workspace returned an external link that is not a URL".into(),
        })?;
        let secure = url.scheme() == "https"
            || (url.scheme() == "http" && crate::config::is_loopback_host(&url));
        if !secure {
            return Err(Error::InvalidInput(
                "refusing to download a result over plain http from a non-loopback host".into(),
            ));
        }
        let mut request = self.raw_http()?.get(url);
        for (name, value) in &link.http_headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let detail = e.without_url().to_string();
            Error::Network {
                host: "cloud storage".into(),
                endpoint: "external link download".into(),
                detail: format!(
                    "{detail}. The server could not download the result from cloud storage; if this network blocks it, start the server with --sql-disposition inline"
                ),
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            let mut e = crate::error::ApiError::from_response(
                status.as_u16(),
                "GET external link".into(),
                None,
                body.get(..2048).unwrap_or(&body),
            );
            e.message = format!("downloading a result chunk failed ({})", e.message);
            return Err(Error::Api(Box::new(e)));
        }
        response.bytes().await.map_err(|e| Error::Network {
            host: "cloud storage".into(),
            endpoint: "external link download".into(),
            detail: e.without_url().to_string(),
        })
    }
}

/// Decodes rows `skip..skip + take` of a hybrid-disposition chunk's `attachment` (base64,
/// LZ4 frame when the encoding says so). Never panics, whatever the text.
pub fn decode_attachment(
    attachment: &str,
    encoding: &ChunkEncoding,
    skip: usize,
    take: usize,
) -> Result<Vec<Vec<Option<String>>>, Error> {
    let bytes = databricks_api::attachment::decode(
        attachment,
        encoding.compression.as_deref(),
        MAX_ATTACHMENT_BYTES,
    )
    .map_err(|e| Error::Decode {
        endpoint: "result attachment".into(),
        detail: e.to_string(),
    })?;
    decode(&encoding.format, &bytes, skip, take)
}

/// Decodes rows `skip..skip + take` of a downloaded chunk of the given manifest format.
pub fn decode(
    format: &str,
    bytes: &[u8],
    skip: usize,
    take: usize,
) -> Result<Vec<Vec<Option<String>>>, Error> {
    match format {
        "ARROW_STREAM" => decode_arrow(bytes, skip, take),
        "JSON_ARRAY" | "" => serde_json::from_slice::<Vec<Vec<Option<String>>>>(bytes)
            .map(|rows| rows.into_iter().skip(skip).take(take).collect())
            .map_err(|e| Error::Decode {
                endpoint: "external link".into(),
                detail: format!("the JSON_ARRAY chunk is not valid: {e}"),
            }),
        other => Err(Error::Decode {
            endpoint: "external link".into(),
            detail: format!("result format {other} is not supported by this client"),
        }),
    }
}

/// Rows `skip..skip + take` of an Arrow IPC stream as text cells (NULL as `None`).
/// Rows outside the window are never formatted. Never panics, whatever the bytes.
pub fn decode_arrow(
    bytes: &[u8],
    skip: usize,
    take: usize,
) -> Result<Vec<Vec<Option<String>>>, Error> {
    // arrow-ipc panics on some malformed streams (a schema with an integer width it does
    // not know: found by fuzz/ `results`); the bytes come from cloud storage, so such a
    // stream is a decode error, not a crashed call.
    std::panic::catch_unwind(|| decode_arrow_window(bytes, skip, take)).unwrap_or_else(|_| {
        Err(Error::Decode {
            endpoint: "external link".into(),
            detail: "the Arrow result chunk is not valid: the decoder rejected it".into(),
        })
    })
}

fn decode_arrow_window(
    bytes: &[u8],
    mut skip: usize,
    mut take: usize,
) -> Result<Vec<Vec<Option<String>>>, Error> {
    check_ipc_sizes(bytes).map_err(|detail| Error::Decode {
        endpoint: "external link".into(),
        detail: format!("the Arrow result chunk is not valid: {detail}"),
    })?;
    let bad = |e: arrow_schema::ArrowError| Error::Decode {
        endpoint: "external link".into(),
        detail: format!("the Arrow result chunk is not valid: {e}"),
    };
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).map_err(bad)?;
    let mut rows = Vec::new();
    for batch in reader {
        if take == 0 {
            break;
        }
        let batch = batch.map_err(bad)?;
        let n = batch.num_rows();
        if skip >= n {
            skip -= n;
            continue;
        }
        let end = skip.saturating_add(take).min(n);
        databricks_api::cells::append_rows(&batch, skip..end, &mut rows);
        take -= end - skip;
        skip = 0;
    }
    Ok(rows)
}

/// A compressed buffer may declare at most this many bytes per compressed byte, plus
/// `EXPANSION_SLACK`: LZ4 (the only codec enabled) expands a byte to at most 255.
const MAX_EXPANSION: u64 = 1024;
const EXPANSION_SLACK: u64 = 1 << 20;

/// Refuses an IPC stream that declares sizes its bytes cannot hold: arrow-ipc allocates a
/// message body (and a compressed buffer's uncompressed size) as declared before reading
/// it, and a failed allocation aborts the process (found by fuzz/ `results`: a 16-byte
/// buffer claiming 1 PiB). Checks the framing, each message's body length, and each
/// compressed buffer's declared size against what its bytes can expand to.
fn check_ipc_sizes(bytes: &[u8]) -> Result<(), String> {
    let word = |at: usize| -> Option<i32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(i32::from_le_bytes(b))
    };
    let mut pos = 0usize;
    // Without an end-of-stream marker the reader stops at the end of the bytes too.
    while let Some(mut len) = word(pos) {
        pos += 4;
        if len == -1 {
            // The continuation marker precedes the length since format 0.15.
            let Some(next) = word(pos) else {
                return Ok(());
            };
            len = next;
            pos += 4;
        }
        if len == 0 {
            return Ok(());
        }
        let len = usize::try_from(len).map_err(|_| format!("negative metadata length {len}"))?;
        let end = pos.saturating_add(len);
        let meta = bytes.get(pos..end).ok_or("truncated message metadata")?;
        pos = end;
        let message = arrow_ipc::root_as_message(meta).map_err(|e| e.to_string())?;
        let body_len = usize::try_from(message.bodyLength())
            .map_err(|_| format!("negative body length {}", message.bodyLength()))?;
        let end = pos.saturating_add(body_len);
        let body = bytes.get(pos..end).ok_or("truncated message body")?;
        pos = end;
        let batch = message
            .header_as_record_batch()
            .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        let Some(batch) = batch else { continue };
        if batch.compression().is_none() {
            continue;
        }
        for buffer in batch.buffers().into_iter().flatten() {
            let (Ok(offset), Ok(length)) = (
                usize::try_from(buffer.offset()),
                usize::try_from(buffer.length()),
            ) else {
                return Err("negative buffer offset or length".into());
            };
            let data = body
                .get(offset..offset.saturating_add(length))
                .ok_or("buffer outside the message body")?;
            let Some((prefix, compressed)) = data.split_first_chunk::<8>() else {
                continue;
            };
            let declared = i64::from_le_bytes(*prefix);
            let most = (compressed.len() as u64)
                .saturating_mul(MAX_EXPANSION)
                .saturating_add(EXPANSION_SLACK);
            if declared > 0 && declared as u64 > most {
                return Err(format!(
                    "a compressed buffer of {} bytes declares {declared} bytes",
                    compressed.len()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    /// Databricks' Arrow types read as its JSON_ARRAY text: timestamps with milliseconds,
    /// binary as base64, nested values as JSON (Arrow's own display gives `0102ff`,
    /// `2024-03-05T10:15:00Z` and `{a: 1}`).
    #[test]
    fn arrow_cells_read_as_json_array_text() {
        use arrow_array::{ArrayRef, BinaryArray, StructArray, TimestampMicrosecondArray};
        let ts = TimestampMicrosecondArray::from(vec![1_709_633_700_000_000]);
        let strukt = StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        )]);
        let columns: [(&str, ArrayRef); 3] = [
            ("t", Arc::new(ts.with_timezone("Etc/UTC"))),
            ("b", Arc::new(BinaryArray::from(vec![&[1u8, 2, 255][..]]))),
            ("s", Arc::new(strukt)),
        ];
        let batch = RecordBatch::try_from_iter(columns).expect("a batch");
        let mut buf = Vec::new();
        let mut w =
            arrow_ipc::writer::StreamWriter::try_new(&mut buf, &batch.schema()).expect("a writer");
        w.write(&batch).expect("written");
        w.finish().expect("finished");
        drop(w);
        let rows = decode_arrow(&buf, 0, 10).expect("rows");
        let expected = ["2024-03-05T10:15:00.000Z", "AQL/", r#"{"a":1}"#];
        assert_eq!(rows, vec![expected.map(|c| Some(c.to_string())).to_vec()]);
    }

    #[test]
    fn arrow_stream_round_trip_keeps_nulls() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("null"), None])),
            ],
        )
        .ok();
        let mut buf = Vec::new();
        if let (Some(batch), Ok(mut w)) = (
            batch,
            arrow_ipc::writer::StreamWriter::try_new(&mut buf, &schema),
        ) {
            assert!(w.write(&batch).is_ok());
            assert!(w.finish().is_ok());
        }
        let rows = decode_arrow(&buf, 0, 10).ok();
        assert_eq!(
            rows,
            Some(vec![
                vec![Some("1".into()), Some("null".into())],
                vec![Some("2".into()), None]
            ])
        );
        assert_eq!(
            decode_arrow(&buf, 1, 1).ok(),
            Some(vec![vec![Some("2".into()), None]])
        );
        assert!(decode_arrow(b"garbage", 0, 1).is_err());
    }

    #[test]
    fn malformed_arrow_schema_is_an_error_not_a_panic() {
        // Found by fuzz/ `results`: a field of integer type with a bit width arrow-ipc
        // panics on.
        let stream =
            b"\xff\xff\xff\xff\xa8\x00\x00\x00\x10\x00\x00\x00\x00\x00\x0a\x00\x0c\x00\x06\x00\
          \x05\x00\x08\x00\x0a\x00\x00\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00\x00\x03\x00\
          \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x02\
          \x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
          \x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x61\x62\x00\x00\
          \x00\x00\x02\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\
          \x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\
          \x00\x61\x62\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x02\x00\x00\
          \x00\x61\x62\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00";
        assert!(matches!(
            decode_arrow(stream, 0, 10),
            Err(Error::Decode { .. })
        ));
        assert!(decode("ARROW_STREAM", stream, 1, usize::MAX).is_err());
    }

    #[test]
    fn compressed_buffer_declaring_a_huge_size_is_an_error_not_an_abort() {
        // Found by fuzz/ `results`: an LZ4 buffer whose declared uncompressed size made
        // arrow-ipc's allocation fail, which aborts the process.
        let stream =
            b"\xff\xff\xff\xff\xa8\x00\x00\x00\x10\x00\x00\x00\x00\x00\x0a\x00\x0c\x00\x06\x00\
          \x05\x00\x08\x00\x0a\x00\x00\x00\x00\x01\x04\x00\x0c\x00\x00\x00\x08\x00\x08\x00\
          \x00\x00\x04\x00\x08\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x44\x00\x00\x00\
          \x04\x00\x00\x00\xd4\xff\xff\xff\x00\x00\x01\x05\x10\x00\x00\x00\x1c\x00\x00\x00\
          \x04\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x6e\x61\x6d\x65\x00\x00\x00\x00\
          \x04\x00\x04\x00\x04\x00\x00\x00\x10\x00\x14\x00\x08\x00\x06\x00\x07\x00\x0c\x00\
          \x00\x00\x10\x00\x10\x00\x00\x00\x00\x00\x01\x02\x10\x00\x00\x00\x1c\x00\x00\x00\
          \x04\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x69\x64\x00\x00\x08\x00\x0c\x00\
          \x08\x00\x07\x00\x08\x00\x00\x00\x00\x00\x00\x01\x40\x00\x00\x00\xff\xff\xff\xff\
          \xd8\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x18\x00\x06\x00\x05\x00\
          \x08\x00\x0c\x00\x0c\x00\x00\x00\x00\x0c\x00\x1c\x00\x10\x00\x78\x00\x00\x00\x1c\
          \x00\x00\x00\x14\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\
          \x00\x04\x00\x04\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x18\
          \x01\x00\x00\x00\x00\x00\x00\x00\x82\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x80\
          \x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\
          \x00\x00\x04\x22\x4d\x18\x60\x40\x82\x02\x00\x00\x80\x61\x62\x00\x00\x00\x00\x00\
          \x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xd8\x00\x00\x00\x14\x00\x00\x00\x00\x00\
          \x1c\x00\x00\x00\x14\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
          \x04\x00\x04\x00\x04\x00\x01\x00\x00\x00\x02\x00\x00\x00\x82\x02\x00\x00\x80\x61\
          \x62\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00";
        assert!(matches!(
            decode_arrow(stream, 0, 10),
            Err(Error::Decode { .. })
        ));
    }
}
