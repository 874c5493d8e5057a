//! The decoder behind the HTTP ingest API (`POST /api/v1/ingest`). The route lives in the
//! console; this module is pure functions over the request body.
//!
//! The body is NDJSON: one JSON object per line, blank lines ignored, optionally compressed with
//! gzip or zstd (`Content-Encoding`). [`decode_batch`] decompresses with a hard cap on the
//! decompressed size (a zip bomb stops at the cap, it is never inflated in full), then turns
//! each line into a [`RawRecord`] with `Body::Json(line)`. Lines that are not JSON objects are
//! reported in [`DecodedBatch::errors`] with their 1-based line number; the good lines are kept.
//!
//! # Acknowledgement
//! The route should answer success only once the records are durable, e.g. with
//! [`crate::batcher::Publisher::send_all_acked`]. With a `batch_id`, each record's `origin` is
//! `"{batch_id}/{line index}"` (0-based index of the line in the decompressed body), so a
//! sender that retries the same batch after a failure or a time-out produces the same event
//! ids and the duplicates collapse downstream.
//!
//! Decoding is CPU-bound (decompression, JSON validation): call it from
//! `tokio::task::spawn_blocking` for large bodies.

use std::borrow::Cow;
use std::io::Read;

use sen_core::raw::{Body, RawRecord, Transport};
use serde::Serialize;

/// Size limits of one ingest request.
#[derive(Debug, Clone)]
pub struct IngestLimits {
    /// Largest request body as received (compressed), in bytes.
    pub max_body_bytes: usize,
    /// Largest body after decompression, in bytes.
    pub max_decompressed_bytes: usize,
    /// Most records (non-blank lines) in one request.
    pub max_records: usize,
    /// Longest line, in bytes; longer lines are reported as line errors.
    pub max_line_bytes: usize,
    /// Most line errors listed in [`DecodedBatch::errors`] (all are counted).
    pub max_reported_errors: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_body_bytes: 16 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
            max_records: 100_000,
            max_line_bytes: 1024 * 1024,
            max_reported_errors: 100,
        }
    }
}

/// What the caller knows about the request.
#[derive(Debug, Clone, Default)]
pub struct BatchMeta {
    /// Receive time, milliseconds since the Unix epoch (the same for every record).
    pub received_ms: i64,
    /// The client address (`ip:port`).
    pub peer: Option<String>,
    /// The tenant, from the API token.
    pub organization: Option<String>,
    /// A sender-chosen id of the batch (e.g. an `Idempotency-Key`/`X-Sen-Batch-Id` header);
    /// see the module docs.
    pub batch_id: Option<String>,
}

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number in the decompressed body.
    pub line: usize,
    /// Why the line was rejected.
    pub reason: String,
}

/// The result of decoding one request.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBatch {
    /// The accepted records, in body order.
    pub records: Vec<RawRecord>,
    /// Rejected lines (at most [`IngestLimits::max_reported_errors`] of them).
    pub errors: Vec<LineError>,
    /// Total number of rejected lines (may exceed `errors.len()`).
    pub error_count: usize,
}

/// Errors that reject a whole request. [`IngestError::status`] gives the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The `Content-Encoding` is not `identity`, `gzip` or `zstd` (HTTP 415).
    #[error("unsupported content encoding `{0}` (use identity, gzip or zstd)")]
    UnsupportedEncoding(String),
    /// The body does not decompress (HTTP 400).
    #[error("cannot decode {encoding} body: {reason}")]
    BadEncoding {
        /// The encoding.
        encoding: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The body is empty or holds only blank lines (HTTP 400).
    #[error("empty batch: the body holds no records")]
    Empty,
    /// The compressed body is larger than allowed (HTTP 413).
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The decompressed body is larger than allowed (HTTP 413).
    #[error("decompressed body exceeds {limit} bytes")]
    DecompressedTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More records than allowed (HTTP 413).
    #[error("batch holds more than {limit} records")]
    TooManyRecords {
        /// The limit.
        limit: usize,
    },
}

impl IngestError {
    /// The HTTP status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            IngestError::UnsupportedEncoding(_) => 415,
            IngestError::BadEncoding { .. } | IngestError::Empty => 400,
            IngestError::BodyTooLarge { .. }
            | IngestError::DecompressedTooLarge { .. }
            | IngestError::TooManyRecords { .. } => 413,
        }
    }
}

/// A supported content encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip (also `x-gzip`); concatenated members are accepted.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Encoding {
    /// Parse a `Content-Encoding` header value (case-insensitive; absent or empty means
    /// identity; `identity` entries in a list are ignored, at most one other coding).
    pub fn parse(header: Option<&str>) -> Result<Encoding, IngestError> {
        let Some(header) = header else { return Ok(Encoding::Identity) };
        let mut found = Encoding::Identity;
        for coding in header.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let e = match coding.to_ascii_lowercase().as_str() {
                "identity" => continue,
                "gzip" | "x-gzip" => Encoding::Gzip,
                "zstd" => Encoding::Zstd,
                _ => return Err(IngestError::UnsupportedEncoding(coding.to_string())),
            };
            if found != Encoding::Identity {
                return Err(IngestError::UnsupportedEncoding(header.trim().to_string()));
            }
            found = e;
        }
        Ok(found)
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Zstd => "zstd",
        }
    }
}

/// Largest zstd window accepted (2^25 = 32 MiB), bounding the decoder's memory whatever the
/// frame header asks for.
const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// Decompress `body` into at most `cap` bytes.
pub fn decompress(
    encoding: Encoding,
    body: &[u8],
    cap: usize,
) -> Result<Cow<'_, [u8]>, IngestError> {
    let too_large = IngestError::DecompressedTooLarge { limit: cap };
    let bad = |reason: String| IngestError::BadEncoding { encoding: encoding.name(), reason };
    let reader: Box<dyn Read + '_> = match encoding {
        Encoding::Identity => {
            if body.len() > cap {
                return Err(too_large);
            }
            return Ok(Cow::Borrowed(body));
        }
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(body)),
        Encoding::Zstd => {
            let mut d =
                zstd::stream::read::Decoder::with_buffer(body).map_err(|e| bad(e.to_string()))?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(|e| bad(e.to_string()))?;
            Box::new(d)
        }
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(cap).min(1 << 20));
    // Read one byte past the cap to tell "exactly at the cap" from "over it".
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut out).map_err(|e| bad(e.to_string()))?;
    if out.len() > cap {
        return Err(too_large);
    }
    Ok(Cow::Owned(out))
}

/// Decode one ingest request body. See the module docs.
pub fn decode_batch(
    content_encoding: Option<&str>,
    body: &[u8],
    limits: &IngestLimits,
    meta: BatchMeta,
) -> Result<DecodedBatch, IngestError> {
    let encoding = Encoding::parse(content_encoding)?;
    if body.len() > limits.max_body_bytes {
        return Err(IngestError::BodyTooLarge { limit: limits.max_body_bytes });
    }
    let data = decompress(encoding, body, limits.max_decompressed_bytes)?;

    let mut batch = DecodedBatch { records: Vec::new(), errors: Vec::new(), error_count: 0 };
    let mut lines_seen = 0usize;
    for (index, raw_line) in data.split(|&b| b == b'\n').enumerate() {
        let line = raw_line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        lines_seen += 1;
        if lines_seen > limits.max_records {
            return Err(IngestError::TooManyRecords { limit: limits.max_records });
        }
        match check_line(line, limits.max_line_bytes) {
            Ok(text) => batch.records.push(RawRecord {
                received_ms: meta.received_ms,
                transport: Transport::Http,
                peer: meta.peer.clone(),
                organization: meta.organization.clone(),
                origin: meta.batch_id.as_ref().map(|b| format!("{b}/{index}")),
                format: None,
                body: Body::Json(text.to_string()),
            }),
            Err(reason) => {
                batch.error_count += 1;
                if batch.errors.len() < limits.max_reported_errors {
                    batch.errors.push(LineError { line: index + 1, reason });
                }
            }
        }
    }
    if lines_seen == 0 {
        return Err(IngestError::Empty);
    }
    Ok(batch)
}

/// Validate one trimmed, non-empty line: UTF-8, within the size limit, one JSON object.
fn check_line(line: &[u8], max_line: usize) -> Result<&str, String> {
    if line.len() > max_line {
        return Err(format!("line of {} bytes exceeds the limit of {max_line} bytes", line.len()));
    }
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    if !text.starts_with('{') {
        return Err("not a JSON object (each line must be one JSON object)".to_string());
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn meta(batch: Option<&str>) -> BatchMeta {
        BatchMeta {
            received_ms: 42,
            peer: Some("127.0.0.1:40000".into()),
            organization: Some("acme".into()),
            batch_id: batch.map(str::to_string),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const BODY: &[u8] = b"{\"message\":\"a\"}\n\n  {\"event\":{\"kind\":\"alert\"}}  \r\n";

    fn check_good(batch: &DecodedBatch) {
        assert!(batch.errors.is_empty(), "{:?}", batch.errors);
        let texts: Vec<&str> = batch.records.iter().map(|r| r.text()).collect();
        assert_eq!(texts, vec!["{\"message\":\"a\"}", "{\"event\":{\"kind\":\"alert\"}}"]);
        let r = &batch.records[1];
        assert_eq!(r.transport, Transport::Http);
        assert_eq!(r.organization.as_deref(), Some("acme"));
        assert_eq!(r.peer.as_deref(), Some("127.0.0.1:40000"));
        assert_eq!(r.received_ms, 42);
        assert!(matches!(r.body, Body::Json(_)));
    }

    #[test]
    fn identity_gzip_zstd() {
        let limits = IngestLimits::default();
        for enc in [None, Some(""), Some("identity"), Some("IDENTITY")] {
            check_good(&decode_batch(enc, BODY, &limits, meta(None)).unwrap());
        }
        for enc in ["gzip", "x-gzip", "GZip", "identity, gzip"] {
            check_good(&decode_batch(Some(enc), &gzip(BODY), &limits, meta(None)).unwrap());
        }
        let z = zstd::encode_all(BODY, 3).unwrap();
        check_good(&decode_batch(Some("zstd"), &z, &limits, meta(None)).unwrap());
        // Concatenated gzip members.
        let mut two = gzip(b"{\"a\":1}\n");
        two.extend(gzip(b"{\"b\":2}\n"));
        let b = decode_batch(Some("gzip"), &two, &limits, meta(None)).unwrap();
        assert_eq!(b.records.len(), 2);
    }

    #[test]
    fn origins_follow_batch_id_and_line_index() {
        let b = decode_batch(None, BODY, &IngestLimits::default(), meta(Some("b-1"))).unwrap();
        let origins: Vec<_> = b.records.iter().map(|r| r.origin.clone().unwrap()).collect();
        assert_eq!(origins, vec!["b-1/0", "b-1/2"]);
        let b = decode_batch(None, BODY, &IngestLimits::default(), meta(None)).unwrap();
        assert!(b.records.iter().all(|r| r.origin.is_none()));
    }

    #[test]
    fn bad_lines_are_reported_good_lines_kept() {
        let body = b"{\"ok\":1}\nnot json\n[1,2]\n\n{\"ok\":2}\n{\"unterminated\":\n\"str\"\n{\"x\":1} trailing\n\xff\xfe{}\n{\"ok\":3}";
        let b = decode_batch(None, body, &IngestLimits::default(), meta(None)).unwrap();
        let lines: Vec<usize> = b.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 6, 7, 8, 9]);
        assert_eq!(b.error_count, 6);
        assert!(b.errors[0].reason.contains("JSON object"), "{:?}", b.errors);
        assert!(b.errors[2].reason.contains("invalid JSON"), "{:?}", b.errors);
        assert!(b.errors[5].reason.contains("UTF-8"), "{:?}", b.errors);
        let texts: Vec<&str> = b.records.iter().map(|r| r.text()).collect();
        assert_eq!(texts, vec!["{\"ok\":1}", "{\"ok\":2}", "{\"ok\":3}"]);
    }

    #[test]
    fn reported_errors_are_capped_but_counted() {
        let body = "x\n".repeat(500);
        let limits = IngestLimits { max_reported_errors: 10, ..IngestLimits::default() };
        let b = decode_batch(None, body.as_bytes(), &limits, meta(None)).unwrap();
        assert!(b.records.is_empty());
        assert_eq!(b.errors.len(), 10);
        assert_eq!(b.error_count, 500);
    }

    #[test]
    fn request_errors_and_statuses() {
        let limits = IngestLimits::default();
        let e = decode_batch(Some("br"), BODY, &limits, meta(None)).unwrap_err();
        assert_eq!((e.status(), e.clone()), (415, IngestError::UnsupportedEncoding("br".into())));
        let e = decode_batch(Some("gzip, zstd"), BODY, &limits, meta(None)).unwrap_err();
        assert_eq!(e.status(), 415);
        let e =
            decode_batch(Some("gzip"), b"definitely not gzip", &limits, meta(None)).unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        let e =
            decode_batch(Some("zstd"), b"definitely not zstd", &limits, meta(None)).unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        // Truncated gzip.
        let g = gzip(BODY);
        let e = decode_batch(Some("gzip"), &g[..g.len() / 2], &limits, meta(None)).unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        assert_eq!(decode_batch(None, b"", &limits, meta(None)).unwrap_err(), IngestError::Empty);
        assert_eq!(
            decode_batch(None, b"\n \r\n\n", &limits, meta(None)).unwrap_err().status(),
            400
        );
        let small = IngestLimits { max_body_bytes: 10, ..IngestLimits::default() };
        assert_eq!(decode_batch(None, BODY, &small, meta(None)).unwrap_err().status(), 413);
        let few = IngestLimits { max_records: 1, ..IngestLimits::default() };
        let e = decode_batch(None, BODY, &few, meta(None)).unwrap_err();
        assert_eq!((e.status(), e), (413, IngestError::TooManyRecords { limit: 1 }));
        let short = IngestLimits { max_line_bytes: 16, ..IngestLimits::default() };
        let b = decode_batch(None, BODY, &short, meta(None)).unwrap();
        assert_eq!(b.records.len(), 1);
        assert_eq!(b.errors[0].line, 3);
    }

    #[test]
    fn decompressed_cap_is_exact() {
        let data = vec![b'{'; 1000];
        assert_eq!(decompress(Encoding::Gzip, &gzip(&data), 1000).unwrap().len(), 1000);
        assert_eq!(
            decompress(Encoding::Gzip, &gzip(&data), 999).unwrap_err(),
            IngestError::DecompressedTooLarge { limit: 999 }
        );
        assert_eq!(decompress(Encoding::Identity, &data, 999).unwrap_err().status(), 413);
        let z = zstd::encode_all(&data[..], 1).unwrap();
        assert_eq!(decompress(Encoding::Zstd, &z, 1000).unwrap().len(), 1000);
        assert_eq!(decompress(Encoding::Zstd, &z, 999).unwrap_err().status(), 413);
    }
}
