//! The envelope of a record on the `raw` topic: what intake received, from where, and when.
//!
//! Intake does no parsing beyond framing; the analyzer turns a [`RawRecord`] into an
//! [`crate::Event`]. The encoding is postcard (compact, schema in this file); the first byte is
//! a version so the format can evolve.

use serde::{Deserialize, Serialize};

/// Name of the topic intake writes raw records to.
pub const RAW_TOPIC: &str = "raw";

const VERSION: u8 = 1;

/// How a record reached Sen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    /// Syslog over UDP.
    SyslogUdp,
    /// Syslog over TCP (newline or octet-counting framing).
    SyslogTcp,
    /// Syslog over TLS.
    SyslogTls,
    /// The HTTP ingest API.
    Http,
    /// The built-in demo generator.
    Demo,
    /// A file read by `sen` (import).
    File,
}

impl Transport {
    /// Short name, used for `observer.type`-like fields and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::SyslogUdp => "syslog-udp",
            Transport::SyslogTcp => "syslog-tcp",
            Transport::SyslogTls => "syslog-tls",
            Transport::Http => "http",
            Transport::Demo => "demo",
            Transport::File => "file",
        }
    }
}

/// The body of a raw record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// A raw log line (syslog message, access log line …) to parse.
    Line(String),
    /// A JSON object: an already-normalized ECS event, or an object whose `message` /
    /// `event.original` holds a raw line to parse.
    Json(String),
}

/// One received record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    /// Receive time, milliseconds since the Unix epoch.
    pub received_ms: i64,
    /// How it arrived.
    pub transport: Transport,
    /// The sender's address (`ip:port`), when known.
    pub peer: Option<String>,
    /// The tenant, when intake knows it (from a token, a listener or a sender mapping).
    pub organization: Option<String>,
    /// A sender-provided identity (for instance `batch-id/line-index`). When present the event
    /// id derives from it, so a sender retrying a batch produces the same ids; when absent the
    /// id derives from the record's bus position.
    pub origin: Option<String>,
    /// Parser hint (`auto`, `rfc3164`, `rfc5424`, `cef`, `leef`, `json`, …), when known.
    pub format: Option<String>,
    /// What was received.
    pub body: Body,
}

/// Error decoding a raw record.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// Empty payload.
    #[error("empty raw record")]
    Empty,
    /// Unknown envelope version.
    #[error("unsupported raw record version {0}")]
    Version(u8),
    /// Corrupt payload.
    #[error("corrupt raw record: {0}")]
    Decode(#[from] postcard::Error),
}

impl RawRecord {
    /// Encode for the bus.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        // Serializing plain structs into a Vec cannot fail.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    /// Decode from the bus.
    pub fn decode(bytes: &[u8]) -> Result<RawRecord, RawError> {
        match bytes.first() {
            None => Err(RawError::Empty),
            Some(&VERSION) => Ok(postcard::from_bytes(&bytes[1..])?),
            Some(&v) => Err(RawError::Version(v)),
        }
    }

    /// The body text (line or JSON).
    pub fn text(&self) -> &str {
        match &self.body {
            Body::Line(s) | Body::Json(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = RawRecord {
            received_ms: 1_700_000_000_000,
            transport: Transport::SyslogTcp,
            peer: Some("127.0.0.1:5514".into()),
            organization: Some("stttt".into()),
            origin: None,
            format: None,
            body: Body::Line("<34>Oct 11 22:14:15 mymachine su: 'su root' failed".into()),
        };
        assert_eq!(RawRecord::decode(&r.encode()).unwrap(), r);
        assert!(matches!(RawRecord::decode(&[]), Err(RawError::Empty)));
        assert!(matches!(RawRecord::decode(&[9, 1]), Err(RawError::Version(9))));
        assert!(RawRecord::decode(&[1, 0xff, 0xff]).is_err());
    }
}
