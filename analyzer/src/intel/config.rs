//! The `[intel]` configuration section.
//!
//! ```toml
//! [intel]
//! retro_hunt_days = 7          # hunt this far back when new indicators arrive (0: off)
//! retro_hunt_limit = 10000     # at most this many matching events per hunt
//! ca_file = "/etc/sen/intel-ca.pem"   # extra trusted roots for HTTPS feeds (PEM), optional
//!
//! [[intel.feeds]]
//! name = "abuse-feodo"         # letters, digits, `.`, `_`, `-`; names rule ids and tags
//! format = "csv"               # stix | misp | csv
//! url = "https://feodotracker.abuse.ch/downloads/ipblocklist.csv"   # or path = "…"
//! refresh = "1h"               # humantime duration
//! level = "high"               # alert level: informational, low, medium, high, critical
//!
//! [[intel.feeds]]
//! name = "misp"
//! format = "misp"
//! url = "https://misp.example.org/attributes/restSearch/json"
//! api_key_file = "/etc/sen/misp.key"  # sent as `Authorization` (MISP's API key header)
//! to_ids_only = true           # misp: only attributes flagged for detection (default)
//! ```
//!
//! HTTPS certificates are verified against the system's roots plus `ca_file`. Plain `http://`
//! is refused unless the host is the loopback (`127.0.0.1`, `::1`, `localhost`) or
//! `allow_insecure_http = true`; redirects are held to the same rule.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::parse::FeedFormat;
use crate::alerts::Level;

/// Threat intel settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntelConfig {
    /// The feeds.
    pub feeds: Vec<FeedConfig>,
    /// When new indicators arrive, hunt for them in the events of this many past days
    /// (0: no retro-hunt).
    pub retro_hunt_days: u32,
    /// Most matching events one retro-hunt reports.
    pub retro_hunt_limit: usize,
    /// Extra trusted root certificates (PEM) for HTTPS feeds, beside the system's.
    pub ca_file: Option<PathBuf>,
    /// Allow plain `http://` feed URLs on hosts other than the loopback.
    pub allow_insecure_http: bool,
    /// Largest feed document, in bytes.
    pub max_feed_bytes: u64,
    /// Time limit of one download.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for IntelConfig {
    fn default() -> Self {
        IntelConfig {
            feeds: Vec::new(),
            retro_hunt_days: 7,
            retro_hunt_limit: 10_000,
            ca_file: None,
            allow_insecure_http: false,
            max_feed_bytes: 256 << 20,
            timeout: Duration::from_secs(120),
        }
    }
}

fn one_hour() -> Duration {
    Duration::from_secs(3600)
}
fn high() -> Level {
    Level::High
}
fn yes() -> bool {
    true
}

/// One feed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Unique name (letters, digits, `.`, `_`, `-`): alerts name it (`ioc:<name>:<type>`,
    /// tag `intel.<name>`).
    pub name: String,
    /// Document format.
    pub format: FeedFormat,
    /// A local file (exactly one of `path` and `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// An HTTPS URL (exactly one of `path` and `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// How often to reload it (a file is re-read only when it changed; a URL is fetched with
    /// `If-None-Match` / `If-Modified-Since`).
    #[serde(default = "one_hour", with = "humantime_serde")]
    pub refresh: Duration,
    /// Level of the alerts on its indicators.
    #[serde(default = "high")]
    pub level: Level,
    /// Whether the feed is used.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// MISP only: load only attributes with `to_ids` set (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ids_only: Option<bool>,
    /// STIX only: cyber-observable objects in the bundle are indicators too (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observables: Option<bool>,
    /// A file holding an API key, sent as the `Authorization` header (MISP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
}

impl FeedConfig {
    /// Where the feed comes from, for people: the path, or the URL without user info, query
    /// and fragment (which may hold keys).
    pub fn source(&self) -> String {
        match (&self.path, &self.url) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(u)) => redact_url(u),
            (None, None) => String::new(),
        }
    }
}

/// A URL without user info, query and fragment.
pub(crate) fn redact_url(u: &str) -> String {
    match reqwest::Url::parse(u) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "(invalid URL)".into(),
    }
}

/// Whether a URL host is the loopback.
pub(crate) fn is_loopback_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether fetching `url` is allowed: HTTPS, or HTTP on the loopback or when insecure HTTP is
/// allowed.
pub(crate) fn url_allowed(url: &reqwest::Url, allow_insecure_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback_host(url) => Ok(()),
        "http" => {
            Err("plain http is refused (use https, or set `intel.allow_insecure_http = true`)"
                .into())
        }
        other => Err(format!("unsupported scheme `{other}` (use https)")),
    }
}

/// Read PEM certificates from a file.
pub(crate) fn load_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

/// Read an API key file (trimmed, not empty).
pub(crate) fn load_key(path: &Path) -> Result<String, String> {
    let key = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(key.to_owned())
}

impl IntelConfig {
    /// Every problem with the configuration, each naming its field
    /// (`intel.feeds[abuse].url: …`); empty when it is usable.
    pub fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(ca) = &self.ca_file
            && let Err(e) = load_certs(ca)
        {
            errors.push(format!("intel.ca_file: {e}"));
        }
        if self.max_feed_bytes == 0 {
            errors.push("intel.max_feed_bytes: must be at least 1".into());
        }
        if self.timeout.is_zero() {
            errors.push("intel.timeout: must be longer than 0s".into());
        }
        if self.retro_hunt_days > 0 && self.retro_hunt_limit == 0 {
            errors.push(
                "intel.retro_hunt_limit: must be at least 1 (or set retro_hunt_days = 0)".into(),
            );
        }
        let mut names = HashSet::new();
        for (i, f) in self.feeds.iter().enumerate() {
            let at = if f.name.is_empty() {
                format!("intel.feeds[{i}]")
            } else {
                format!("intel.feeds[{}]", f.name)
            };
            if f.name.is_empty() || f.name.len() > 64 {
                errors.push(format!("{at}.name: must be 1 to 64 characters"));
            } else if let Some(c) = f
                .name
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            {
                errors.push(format!(
                    "{at}.name: `{c}` is not allowed (letters, digits, `.`, `_`, `-`)"
                ));
            }
            if !names.insert(f.name.as_str()) {
                errors.push(format!("{at}.name: used by another feed"));
            }
            match (&f.path, &f.url) {
                (Some(_), Some(_)) => errors.push(format!("{at}: set `path` or `url`, not both")),
                (None, None) => errors.push(format!("{at}: set `path` or `url`")),
                (Some(p), None) => {
                    if f.enabled
                        && let Err(e) = std::fs::metadata(p)
                    {
                        errors.push(format!("{at}.path: cannot read {}: {e}", p.display()));
                    }
                }
                (None, Some(u)) => match reqwest::Url::parse(u) {
                    Ok(url) => {
                        if let Err(e) = url_allowed(&url, self.allow_insecure_http) {
                            errors.push(format!("{at}.url: {e}"));
                        }
                    }
                    Err(e) => errors.push(format!("{at}.url: not a URL: {e}")),
                },
            }
            if f.refresh < Duration::from_secs(1) {
                errors.push(format!("{at}.refresh: must be at least 1s"));
            }
            if f.to_ids_only.is_some() && f.format != FeedFormat::Misp {
                errors.push(format!("{at}.to_ids_only: applies to `format = \"misp\"` feeds only"));
            }
            if f.observables.is_some() && f.format != FeedFormat::Stix {
                errors.push(format!("{at}.observables: applies to `format = \"stix\"` feeds only"));
            }
            if let Some(k) = &f.api_key_file {
                if f.url.is_none() {
                    errors.push(format!("{at}.api_key_file: applies to `url` feeds only"));
                } else if let Err(e) = load_key(k) {
                    errors.push(format!("{at}.api_key_file: {e}"));
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        intel: IntelConfig,
    }

    fn parse(text: &str) -> Result<IntelConfig, String> {
        toml::from_str::<Doc>(text).map(|d| d.intel).map_err(|e| e.to_string())
    }

    #[test]
    fn toml_with_defaults_and_durations() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("local.csv");
        std::fs::write(&file, "value\n192.0.2.1\n").unwrap();
        let text = format!(
            "[intel]\nretro_hunt_days = 3\n\n\
             [[intel.feeds]]\nname = \"abuse\"\nformat = \"csv\"\nurl = \"https://feeds.example/x.csv?key=s3cret\"\nrefresh = \"15m\"\nlevel = \"critical\"\n\n\
             [[intel.feeds]]\nname = \"local\"\nformat = \"stix\"\npath = {:?}\nenabled = false\nobservables = false\n",
            file.display().to_string()
        );
        let cfg = parse(&text).unwrap();
        assert_eq!(cfg.retro_hunt_days, 3);
        assert_eq!(cfg.retro_hunt_limit, 10_000);
        let f = &cfg.feeds[0];
        assert_eq!(f.refresh, Duration::from_secs(900));
        assert_eq!(f.level, Level::Critical);
        assert!(f.enabled);
        assert_eq!(f.source(), "https://feeds.example/x.csv", "the key in the query is not shown");
        assert!(!cfg.feeds[1].enabled);
        assert_eq!(cfg.feeds[1].refresh, one_hour());
        assert_eq!(cfg.check(), Vec::<String>::new());
        // Round trip through TOML.
        let back = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<IntelConfig>(&back).unwrap(), cfg);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = parse("[intel]\n[[intel.feeds]]\nname = \"a\"\nformat = \"csv\"\npath = \"x\"\nrefersh = \"1h\"\n")
            .unwrap_err();
        assert!(e.contains("refersh"), "{e}");
        assert!(parse("[intel]\nformat = \"csv\"\n").is_err());
        assert!(
            parse("[intel]\n[[intel.feeds]]\nname = \"a\"\nformat = \"xml\"\npath = \"x\"\n")
                .is_err()
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let feed = |name: &str, url: Option<&str>, path: Option<&str>| FeedConfig {
            name: name.into(),
            format: FeedFormat::Csv,
            path: path.map(PathBuf::from),
            url: url.map(String::from),
            refresh: one_hour(),
            level: Level::High,
            enabled: true,
            to_ids_only: None,
            observables: None,
            api_key_file: None,
        };
        let mut cfg = IntelConfig {
            feeds: vec![
                feed("plain", Some("http://feeds.example/x"), None),
                feed("local", Some("http://127.0.0.1:8080/x"), None),
                feed("localhost", Some("http://localhost/x"), None),
                feed("plain", Some("ftp://feeds.example/x"), None),
                feed("bad name", None, None),
                feed("both", Some("https://a.example/"), Some("/x")),
                feed("missing", None, Some("/nonexistent/sen-intel.csv")),
            ],
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..IntelConfig::default()
        };
        cfg.feeds[1].to_ids_only = Some(false);
        cfg.feeds[2].refresh = Duration::from_millis(10);
        let errors = cfg.check();
        let expect = [
            "intel.ca_file: cannot read /nonexistent/ca.pem",
            "intel.feeds[plain].url: plain http is refused",
            "intel.feeds[local].to_ids_only: applies to `format = \"misp\"`",
            "intel.feeds[localhost].refresh: must be at least 1s",
            "intel.feeds[plain].name: used by another feed",
            "intel.feeds[plain].url: unsupported scheme `ftp`",
            "intel.feeds[bad name].name: ` ` is not allowed",
            "intel.feeds[bad name]: set `path` or `url`",
            "intel.feeds[both]: set `path` or `url`, not both",
            "intel.feeds[missing].path: cannot read /nonexistent/sen-intel.csv",
        ];
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
        for (e, want) in errors.iter().zip(expect) {
            assert!(e.starts_with(want), "{e} / {want}");
        }
        cfg.allow_insecure_http = true;
        cfg.ca_file = None;
        assert_eq!(cfg.check().len(), expect.len() - 2);
    }
}
