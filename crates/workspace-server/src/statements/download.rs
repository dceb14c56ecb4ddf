//! The "cloud storage" behind external links: `GET /external-results/{id}/{chunk}`. Like
//! a pre-signed object-store URL it authenticates by its signature and expiry, answers
//! in the object store's XML, and refuses a request that also carries an
//! `Authorization` header (clients must never send the Databricks token there, §1.4).

use axum::response::Response;
use sha2::Digest;

use super::StatementService;
use super::package::Payload;
use super::store::{Seen, Settled};
use crate::request::ApiRequest;
use crate::response::bytes_response;

/// The first path segment of download URLs.
pub const DOWNLOAD_PREFIX: &str = "external-results";

/// The URL of chunk `index`, valid until `expires_ms`.
pub(super) fn link(
    base_url: &str,
    id: &str,
    index: usize,
    expires_ms: i64,
    secret: &str,
) -> String {
    let signature = signature(secret, id, index, expires_ms);
    format!(
        "{base_url}/{DOWNLOAD_PREFIX}/{id}/{index}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires-At={expires_ms}&X-Amz-Signature={signature}"
    )
}

fn signature(secret: &str, id: &str, index: usize, expires_ms: i64) -> String {
    let digest = sha2::Sha256::digest(format!("{secret}:{id}:{index}:{expires_ms}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn xml(status: u16, code: &str, message: &str) -> Response {
    bytes_response(
        status,
        "application/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        .into_bytes(),
    )
}

fn no_such_key() -> Response {
    xml(404, "NoSuchKey", "The specified key does not exist.")
}

impl StatementService {
    /// Serves a download: `segments` are those after [`DOWNLOAD_PREFIX`].
    pub(crate) async fn download(&self, request: &ApiRequest, segments: &[&str]) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            return xml(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            );
        }
        if request.headers.contains_key("authorization") {
            return xml(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            );
        }
        let [id, index] = segments else {
            return no_such_key();
        };
        let (Some(statement), Ok(index)) = (self.store.get(id), index.parse::<usize>()) else {
            return no_such_key();
        };
        let Some(expires_ms) = request
            .query("X-Amz-Expires-At")
            .and_then(|e| e.parse::<i64>().ok())
        else {
            return xml(
                403,
                "AccessDenied",
                "Query-string authentication requires the expiry.",
            );
        };
        let given = request.query("X-Amz-Signature").unwrap_or_default();
        let expected = signature(statement.secret(), id, index, expires_ms);
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return xml(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            );
        }
        if super::now_ms() > expires_ms {
            return xml(403, "AccessDenied", "Request has expired");
        }
        let Seen::Settled(Settled::Succeeded(result)) = statement.look(id, &self.store).await
        else {
            return no_such_key();
        };
        match result.chunks.get(index).map(|c| &c.payload) {
            Some(Payload::Download(bytes)) => {
                bytes_response(200, result.format.content_type(), bytes.as_ref().clone())
            }
            _ => no_such_key(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
