//! Getting a feed document: a local file or an HTTP(S) URL, with a size cap and change
//! detection (file modification time and length; HTTP `ETag` / `Last-Modified`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use reqwest::header::{
    ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};

use super::config::{IntelConfig, load_certs, url_allowed};
use super::parse::FeedFormat;

/// What identifies a version of a feed document, to ask for (or detect) changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Validator {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    file: Option<(SystemTime, u64)>,
}

/// The outcome of a fetch.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// The document did not change since `Validator`.
    NotModified,
    /// A (new) document.
    Body { text: String, validator: Validator },
}

/// Build the HTTP client shared by all feeds: rustls with the system's roots plus
/// `ca_file`, the download timeout, and a redirect policy that refuses insecure targets.
pub(crate) fn client(cfg: &IntelConfig) -> Result<reqwest::Client, String> {
    let allow_insecure = cfg.allow_insecure_http;
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(true)
        .connect_timeout(Duration::from_secs(15).min(cfg.timeout))
        .timeout(cfg.timeout)
        .user_agent(concat!("sen/", env!("CARGO_PKG_VERSION"), " (threat intel)"))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else if let Err(e) = url_allowed(attempt.url(), allow_insecure) {
                let scheme = attempt.url().scheme().to_owned();
                attempt.error(format!("redirect to {scheme}: {e}"))
            } else {
                attempt.follow()
            }
        }));
    if let Some(ca) = &cfg.ca_file {
        for cert in load_certs(ca)? {
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| format!("cannot build the HTTPS client: {e}"))
}

fn too_big(max: u64) -> String {
    format!("the document is larger than intel.max_feed_bytes ({max} bytes)")
}

/// Read a file, unless its modification time and length equal `prev`'s.
pub(crate) async fn file(path: &Path, prev: &Validator, max: u64) -> Result<Fetched, String> {
    let shown = path.display();
    let meta = tokio::fs::metadata(path).await.map_err(|e| format!("cannot read {shown}: {e}"))?;
    let stamp = (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len());
    if prev.file == Some(stamp) {
        return Ok(Fetched::NotModified);
    }
    if meta.len() > max {
        return Err(too_big(max));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(max));
    }
    Ok(Fetched::Body {
        text: text(bytes),
        validator: Validator { file: Some(stamp), ..Validator::default() },
    })
}

/// Feed text: UTF-8, invalid sequences replaced (they can only spoil the entries they are in).
fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// GET a URL, conditionally on `prev`, reading at most `max` bytes.
pub(crate) async fn url(
    client: &reqwest::Client,
    url: &str,
    format: FeedFormat,
    api_key: Option<&str>,
    prev: &Validator,
    max: u64,
) -> Result<Fetched, String> {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static(match format {
            FeedFormat::Stix => {
                "application/taxii+json;version=2.1, application/json;q=0.9, */*;q=0.1"
            }
            FeedFormat::Misp => "application/json, */*;q=0.1",
            FeedFormat::Csv => "text/csv, text/plain;q=0.9, */*;q=0.1",
        }),
    );
    if let Some(k) = api_key {
        let mut v = HeaderValue::from_str(k)
            .map_err(|_| "the API key holds characters a header cannot carry".to_string())?;
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    if let Some(etag) = &prev.etag {
        headers.insert(IF_NONE_MATCH, etag.clone());
    }
    if let Some(lm) = &prev.last_modified {
        headers.insert(IF_MODIFIED_SINCE, lm.clone());
    }
    // Errors name the redacted URL only: the query may hold a key.
    let shown = super::config::redact_url(url);
    let mut resp = client
        .get(url)
        .headers(headers)
        .send()
        .await
        .map_err(|e| format!("GET {shown}: {}", error_chain(e)))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        return Err(format!("GET {shown}: HTTP {status}"));
    }
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_big(max));
    }
    let validator = Validator {
        etag: resp.headers().get(ETAG).cloned(),
        last_modified: resp.headers().get(LAST_MODIFIED).cloned(),
        file: None,
    };
    let mut body = Vec::new();
    while let Some(chunk) =
        resp.chunk().await.map_err(|e| format!("GET {shown}: {}", error_chain(e)))?
    {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_big(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched::Body { text: text(body), validator })
}

/// An error with its causes (`error sending request: … : invalid peer certificate: …`),
/// without the URL reqwest puts in its own message.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}
