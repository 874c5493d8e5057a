//! The `sen serve` configuration file (TOML, versioned, unknown fields rejected) and its checks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use sen_analyzer::detect::DetectionConfig;
use sen_analyzer::enrich::EnrichConfig;
use sen_analyzer::index::IndexConfig;
use sen_analyzer::pipeline::PipelineConfig;
use sen_core::bus::embedded::LogConfig;
use serde::{Deserialize, Serialize};

/// Current configuration format version.
pub const VERSION: u32 = 1;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Format version (must be 1).
    pub version: u32,
    /// Where the bus, the index and state live.
    pub data_dir: PathBuf,
    /// HTTP (console, API, ingest).
    pub http: HttpConfig,
    /// Syslog listeners.
    pub syslog: SyslogListeners,
    /// The embedded bus.
    pub bus: LogConfig,
    /// The event index.
    pub index: IndexConfig,
    /// The analyzer pipeline.
    pub pipeline: PipelineConfig,
    /// Enrichment (GeoIP, assets).
    pub enrich: EnrichConfig,
    /// Detection (Sigma rules, correlation, alerts).
    pub detection: DetectionConfig,
    /// Threat intelligence feeds.
    pub intel: sen_analyzer::intel::IntelConfig,
    /// Anomaly detection (first-seen, rare, volume baselines).
    pub anomaly: sen_analyzer::anomaly::AnomalyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: VERSION,
            data_dir: PathBuf::from("data"),
            http: HttpConfig::default(),
            syslog: SyslogListeners::default(),
            bus: LogConfig::default(),
            index: IndexConfig::default(),
            pipeline: PipelineConfig::default(),
            enrich: EnrichConfig::default(),
            detection: DetectionConfig::default(),
            intel: sen_analyzer::intel::IntelConfig::default(),
            anomaly: sen_analyzer::anomaly::AnomalyConfig::default(),
        }
    }
}

/// HTTP settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address (loopback by default until console auth lands).
    pub listen: String,
    /// Bearer token required by `POST /api/v1/ingest`.
    pub ingest_token: Option<String>,
    /// Tenant given to events ingested over HTTP.
    pub ingest_organization: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: "127.0.0.1:8080".into(),
            ingest_token: None,
            ingest_organization: None,
        }
    }
}

/// Syslog listener settings; an empty address disables a listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogListeners {
    /// UDP listen address.
    pub udp: Option<String>,
    /// TCP listen address.
    pub tcp: Option<String>,
    /// TLS listener.
    pub tls: Option<TlsListener>,
    /// Longest message kept, in bytes.
    pub max_message_bytes: usize,
    /// Intake queue capacity, in records.
    pub queue_capacity: usize,
}

impl Default for SyslogListeners {
    fn default() -> Self {
        SyslogListeners {
            udp: Some("127.0.0.1:5514".into()),
            tcp: Some("127.0.0.1:5514".into()),
            tls: None,
            max_message_bytes: 64 * 1024,
            queue_capacity: 65_536,
        }
    }
}

/// Syslog over TLS.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsListener {
    /// Listen address.
    pub listen: String,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM CA bundle: when set, clients must present a certificate it signed.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// Parse an optional listen address ("" or absent = disabled).
pub fn listen_addr(name: &str, v: &Option<String>) -> Result<Option<SocketAddr>> {
    match v.as_deref().map(str::trim) {
        None | Some("") | Some("off") => Ok(None),
        Some(s) => Ok(Some(
            s.parse()
                .with_context(|| format!("{name}: `{s}` is not an address like 127.0.0.1:5514"))?,
        )),
    }
}

impl Config {
    /// Load a file (errors name the file, line and field).
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parse TOML text.
    pub fn parse(text: &str) -> Result<Config> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (
                        before.matches('\n').count() + 1,
                        before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                    )
                })
                .unwrap_or((0, 0));
            anyhow::anyhow!("line {line}, column {col}: {}", e.message())
        })?;
        if cfg.version != VERSION {
            bail!(
                "version: unsupported configuration version {} (this sen reads version {VERSION})",
                cfg.version
            );
        }
        Ok(cfg)
    }

    /// Semantic checks beyond the syntax: addresses, time zone, files that must exist.
    pub fn check(&self) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(e) = self.http.listen.parse::<SocketAddr>() {
            errors.push(format!("http.listen: `{}`: {e}", self.http.listen));
        }
        if let Some(t) = &self.http.ingest_token
            && t.len() < 16
        {
            errors.push("http.ingest_token: use at least 16 characters".to_string());
        }
        for (name, v) in [("syslog.udp", &self.syslog.udp), ("syslog.tcp", &self.syslog.tcp)] {
            if let Err(e) = listen_addr(name, v) {
                errors.push(format!("{e:#}"));
            }
        }
        if let Some(tls) = &self.syslog.tls {
            if let Err(e) = tls.listen.parse::<SocketAddr>() {
                errors.push(format!("syslog.tls.listen: `{}`: {e}", tls.listen));
            }
            if let Err(e) =
                sen_collector::load_server_config(&tls.cert, &tls.key, tls.client_ca.as_deref())
            {
                errors.push(format!("syslog.tls: {e}"));
            }
        }
        if self.pipeline.default_timezone.parse::<chrono_tz::Tz>().is_err() {
            errors.push(format!(
                "pipeline.default_timezone: unknown time zone `{}`",
                self.pipeline.default_timezone
            ));
        }
        if let Err(e) = sen_analyzer::enrich::Enricher::new(&self.enrich) {
            errors.push(format!("enrich: {e}"));
        }
        for p in &self.detection.rules {
            if !p.exists() {
                errors.push(format!("detection.rules: {} does not exist", p.display()));
            }
        }
        if self.detection.alert_window.is_zero() {
            errors.push("detection.alert_window: must be longer than zero".into());
        }
        let corr = &self.detection.correlation;
        if !(1..=sen_rules::sigma::MAX_PARTITIONS).contains(&corr.partitions) {
            errors.push(format!(
                "detection.correlation.partitions: {} is not between 1 and {}",
                corr.partitions,
                sen_rules::sigma::MAX_PARTITIONS
            ));
        }
        if corr.max_state_entries == 0 || corr.max_events == 0 {
            errors.push(
                "detection.correlation: max_state_entries and max_events must be at least 1".into(),
            );
        }
        errors.extend(self.intel.check().into_iter().map(|e| format!("intel: {e}")));
        if let Err(e) = self.anomaly.validate() {
            errors.push(format!("anomaly: {e}"));
        }
        if self.syslog.queue_capacity == 0 {
            errors.push("syslog.queue_capacity: must be at least 1".into());
        }
        if errors.is_empty() { Ok(()) } else { bail!("{}", errors.join("\n")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_check() {
        let text = toml::to_string(&Config::default()).unwrap();
        let cfg = Config::parse(&text).unwrap();
        cfg.check().unwrap();
    }

    #[test]
    fn unknown_field_names_line() {
        let err = Config::parse("version = 1\n[http]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n")
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("lisen"), "{msg}");
    }

    #[test]
    fn semantic_errors_are_all_reported() {
        let mut cfg = Config::default();
        cfg.http.listen = "nope".into();
        cfg.pipeline.default_timezone = "Mars/Base".into();
        cfg.detection.correlation.partitions = 0;
        let msg = format!("{:#}", cfg.check().unwrap_err());
        assert!(msg.contains("http.listen") && msg.contains("Mars/Base"), "{msg}");
        assert!(msg.contains("detection.correlation.partitions: 0"), "{msg}");
        assert!(Config::parse("version = 2").is_err());
    }
}
