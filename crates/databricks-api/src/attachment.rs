//! Inline Arrow results of the hybrid disposition `INLINE_OR_EXTERNAL_LINKS`
//! (REFERENCE.md §1.1): a small result's chunk carries `attachment`, the Arrow IPC stream
//! bytes in base64, LZ4-frame compressed when `manifest.result_compression` is
//! `LZ4_FRAME`. One codec, used by the servers to write and the client to read.

use base64::Engine as _;
use std::io::Read as _;

/// The hybrid disposition's name in an execute request.
pub const HYBRID_DISPOSITION: &str = "INLINE_OR_EXTERNAL_LINKS";

/// `manifest.result_compression` of LZ4-frame compressed chunks.
pub const LZ4_FRAME: &str = "LZ4_FRAME";

/// A result whose Arrow IPC bytes stay within this travels inline (the servers' choice
/// under the hybrid disposition); larger ones go as external links, which the client
/// pages through one chunk at a time.
pub const INLINE_LIMIT: usize = 4 * 1024 * 1024;

/// Results of at least this many Arrow bytes are compressed: below it LZ4's frame costs
/// more than it saves.
pub const COMPRESS_FROM: usize = 16 * 1024;

/// An attachment the client cannot read.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("the attachment is not valid base64")]
    Base64,
    #[error("result compression {0} is not supported by this client")]
    UnknownCompression(String),
    #[error("the LZ4 frame of the attachment is not valid: {0}")]
    Lz4(String),
    #[error("the attachment expands to more than {0} bytes")]
    TooLarge(usize),
}

/// Whether a result of `ipc_bytes` Arrow bytes in all is sent compressed
/// (`manifest.result_compression` is one value for every chunk of a statement).
pub fn should_compress(ipc_bytes: usize) -> bool {
    ipc_bytes >= COMPRESS_FROM
}

/// Encodes Arrow IPC stream bytes as an attachment's base64 text, as an LZ4 frame when
/// `compress` (then the manifest says `LZ4_FRAME`).
pub fn encode(ipc: &[u8], compress: bool) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    if !compress {
        return engine.encode(ipc);
    }
    let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(ipc.len() / 2));
    // Writing to a Vec cannot fail; should it, the frame is still well formed.
    let _ = std::io::Write::write_all(&mut encoder, ipc);
    let frame = encoder.finish().unwrap_or_default();
    engine.encode(frame)
}

/// Decodes an attachment into Arrow IPC stream bytes, refusing to expand beyond
/// `max_len` (the bytes come from the network: a small frame must not claim gigabytes).
pub fn decode(
    attachment: &str,
    compression: Option<&str>,
    max_len: usize,
) -> Result<Vec<u8>, AttachmentError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(attachment.trim())
        .map_err(|_| AttachmentError::Base64)?;
    match compression {
        None | Some("") | Some("NONE") => {
            if raw.len() > max_len {
                return Err(AttachmentError::TooLarge(max_len));
            }
            Ok(raw)
        }
        Some(LZ4_FRAME) => decompress_lz4_frame(&raw, max_len),
        Some(other) => Err(AttachmentError::UnknownCompression(other.to_string())),
    }
}

/// Expands an LZ4 frame, at most `max_len` bytes of it.
pub fn decompress_lz4_frame(frame: &[u8], max_len: usize) -> Result<Vec<u8>, AttachmentError> {
    let decoder = lz4_flex::frame::FrameDecoder::new(frame);
    let mut out = Vec::new();
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| AttachmentError::Lz4(e.to_string()))?;
    if out.len() > max_len {
        return Err(AttachmentError::TooLarge(max_len));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn small_attachments_stay_uncompressed_and_round_trip() {
        let bytes = b"ARROW1 small".to_vec();
        assert!(!should_compress(bytes.len()));
        let text = encode(&bytes, false);
        assert_eq!(decode(&text, None, 1 << 20).unwrap(), bytes);
        assert_eq!(decode(&text, Some("NONE"), 1 << 20).unwrap(), bytes);
    }

    #[test]
    fn large_attachments_are_lz4_frames_and_round_trip() {
        let bytes: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        assert!(should_compress(bytes.len()));
        let text = encode(&bytes, true);
        assert!(text.len() < bytes.len() / 2, "compressible data shrinks");
        assert_eq!(decode(&text, Some(LZ4_FRAME), bytes.len()).unwrap(), bytes);
    }

    #[test]
    fn a_frame_expanding_past_the_limit_is_refused() {
        let bytes = vec![0u8; 1 << 20];
        let text = encode(&bytes, true);
        assert!(matches!(
            decode(&text, Some(LZ4_FRAME), 1000),
            Err(AttachmentError::TooLarge(1000))
        ));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            decode("not base64!", None, 10),
            Err(AttachmentError::Base64)
        ));
        assert!(matches!(
            decode("AAAA", Some("ZSTD"), 10),
            Err(AttachmentError::UnknownCompression(_))
        ));
        assert!(matches!(
            decode("AAAAAAAA", Some(LZ4_FRAME), 10),
            Err(AttachmentError::Lz4(_))
        ));
    }
}
