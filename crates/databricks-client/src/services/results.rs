//! Reading result chunks whatever their disposition: INLINE `data_array`, or
//! EXTERNAL_LINKS downloaded from pre-signed URLs and decoded (Arrow IPC or JSON).
//!
//! Rows come out as JSON_ARRAY-style cells (text, `None` for SQL NULL) so callers
//! render and type them one way. Only one chunk is held at a time.
//!
//! Pre-signed URLs are credentials of their own: the Databricks `Authorization` header
//! is never sent to them (REFERENCE.md §1.4), their `http_headers` are, and the URL is
//! never logged or put in an error.

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};

use crate::error::Error;
use crate::http::DatabricksClient;
use crate::services::sql::{ExternalLink, ResultData};

/// The rows of one chunk.
#[derive(Debug, Clone, Default)]
pub struct ChunkRows {
    pub chunk_index: i64,
    pub row_offset: i64,
    pub rows: Vec<Vec<Option<String>>>,
    pub next_chunk_index: Option<i64>,
}

impl DatabricksClient {
    /// The rows of `chunk` (of statement `statement_id`, whose manifest says `format`),
    /// downloading its external links if it has them.
    pub async fn chunk_rows(
        &self,
        statement_id: &str,
        format: &str,
        chunk: ResultData,
    ) -> Result<ChunkRows, Error> {
        let next_from_links = chunk.external_links.last().and_then(|l| l.next_chunk_index);
        let mut out = ChunkRows {
            chunk_index: chunk.chunk_index,
            row_offset: chunk.row_offset,
            rows: Vec::new(),
            next_chunk_index: chunk.next_chunk_index.or(next_from_links),
        };
        if let Some(data) = chunk.data_array {
            out.rows = data;
            return Ok(out);
        }
        if let Some(first) = chunk.external_links.first() {
            out.row_offset = first.row_offset;
        }
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
            out.rows.extend(decode(format, &bytes)?);
        }
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
        let mut request = self.raw_http().get(url);
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
                &body[..body.len().min(2048)],
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

/// Decodes a downloaded chunk of the given manifest format.
pub fn decode(format: &str, bytes: &[u8]) -> Result<Vec<Vec<Option<String>>>, Error> {
    match format {
        "ARROW_STREAM" => decode_arrow(bytes),
        "JSON_ARRAY" | "" => serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            endpoint: "external link".into(),
            detail: format!("the JSON_ARRAY chunk is not valid: {e}"),
        }),
        other => Err(Error::Decode {
            endpoint: "external link".into(),
            detail: format!("result format {other} is not supported by this client"),
        }),
    }
}

/// An Arrow IPC stream as rows of text cells (NULL as `None`).
pub fn decode_arrow(bytes: &[u8]) -> Result<Vec<Vec<Option<String>>>, Error> {
    let bad = |e: arrow_schema::ArrowError| Error::Decode {
        endpoint: "external link".into(),
        detail: format!("the Arrow result chunk is not valid: {e}"),
    };
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).map_err(bad)?;
    let mut rows = Vec::new();
    for batch in reader {
        append_batch(&batch.map_err(bad)?, &mut rows).map_err(bad)?;
    }
    Ok(rows)
}

fn append_batch(
    batch: &RecordBatch,
    rows: &mut Vec<Vec<Option<String>>>,
) -> Result<(), arrow_schema::ArrowError> {
    let options = FormatOptions::default().with_display_error(true);
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    rows.reserve(batch.num_rows());
    for r in 0..batch.num_rows() {
        let row = batch
            .columns()
            .iter()
            .zip(&formatters)
            .map(|(col, f)| (!col.is_null(r)).then(|| f.value(r).to_string()))
            .collect();
        rows.push(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

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
        let rows = decode_arrow(&buf).ok();
        assert_eq!(
            rows,
            Some(vec![
                vec![Some("1".into()), Some("null".into())],
                vec![Some("2".into()), None]
            ])
        );
        assert!(decode_arrow(b"garbage").is_err());
    }
}
