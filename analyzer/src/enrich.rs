//! Enrichment: GeoIP (country, ASN) for public addresses, and asset context (organization,
//! information system, security level, zone) from the asset inventory.
//!
//! GeoIP databases are MaxMind DB files. Both common layouts are understood: GeoIP2/GeoLite2
//! (`country.iso_code`, `autonomous_system_number`, `autonomous_system_organization`) and the
//! flat layout of the ip-location-db packages (`country_code`, same ASN keys).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use sen_core::{Event, FieldRef, Value};
use serde::{Deserialize, Serialize};

/// Enrichment settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichConfig {
    /// MaxMind DB files with country data (GeoIP2-Country/City layout or flat `country_code`).
    pub geoip_country: Vec<PathBuf>,
    /// MaxMind DB files with ASN data.
    pub geoip_asn: Vec<PathBuf>,
    /// Known assets (hosts).
    pub assets: Vec<Asset>,
    /// Networks with known geography/ownership. They take precedence over the databases
    /// (most specific prefix wins) and apply to any address, private ones included — for
    /// partner networks, VPN pools, or ranges the databases get wrong.
    pub networks: Vec<NetworkInfo>,
}

/// Geography and ownership of a network, set by configuration.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkInfo {
    /// The network (`198.51.100.0/24`).
    pub cidr: ipnet::IpNet,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default)]
    pub country: Option<String>,
    /// Autonomous system number.
    #[serde(default)]
    pub asn: Option<u32>,
    /// Autonomous system organization.
    #[serde(default)]
    pub as_org: Option<String>,
}

/// One known host.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Host name as it appears in logs.
    pub host: String,
    /// Its address, when fixed (matches the syslog sender address too).
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// The tenant (agency).
    pub organization: String,
    /// Information system id.
    #[serde(default)]
    pub system: Option<String>,
    /// Information system name.
    #[serde(default)]
    pub system_name: Option<String>,
    /// Approved security level (1–5, Decree 85/2016).
    #[serde(default)]
    pub level: Option<u8>,
    /// Network zone.
    #[serde(default)]
    pub zone: Option<String>,
}

/// Enrichment errors (at load time; lookups never fail an event).
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// A database could not be opened.
    #[error("cannot open GeoIP database {path}: {reason}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A bad asset entry.
    #[error("asset `{host}`: {reason}")]
    Asset {
        /// Host of the entry.
        host: String,
        /// Why.
        reason: String,
    },
}

#[derive(Deserialize)]
struct CountryRec<'a> {
    #[serde(borrow)]
    country: Option<CountryInner<'a>>,
    #[serde(borrow)]
    registered_country: Option<CountryInner<'a>>,
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct CountryInner<'a> {
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct AsnRec<'a> {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

/// The enricher (cheap to share: readers are immutable).
pub struct Enricher {
    country: Vec<maxminddb::Reader<Vec<u8>>>,
    asn: Vec<maxminddb::Reader<Vec<u8>>>,
    by_host: HashMap<String, Asset>,
    by_ip: HashMap<IpAddr, Asset>,
    networks: Vec<NetworkInfo>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("country_dbs", &self.country.len())
            .field("asn_dbs", &self.asn.len())
            .field("assets", &self.by_host.len())
            .finish()
    }
}

fn open_db(path: &Path) -> Result<maxminddb::Reader<Vec<u8>>, EnrichError> {
    maxminddb::Reader::open_readfile(path)
        .map_err(|e| EnrichError::Open { path: path.display().to_string(), reason: e.to_string() })
}

/// Whether an address is worth a GeoIP lookup (not private, loopback, link-local, …).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let seg0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (seg0 & 0xfe00) == 0xfc00
                || (seg0 & 0xffc0) == 0xfe80)
        }
    }
}

/// Per side: the IP field and the fields GeoIP fills (static: no formatting per event).
struct GeoPaths {
    ip: &'static str,
    country: &'static str,
    asn: &'static str,
    as_org: &'static str,
}

macro_rules! geo_paths {
    ($($side:literal),*) => {
        &[$(GeoPaths {
            ip: concat!($side, ".ip"),
            country: concat!($side, ".geo.country_iso_code"),
            asn: concat!($side, ".as.number"),
            as_org: concat!($side, ".as.organization.name"),
        }),*]
    };
}

const GEO_PATHS: &[GeoPaths] = geo_paths!("source", "destination", "client", "server");

impl Enricher {
    /// Open the databases and index the assets.
    pub fn new(cfg: &EnrichConfig) -> Result<Enricher, EnrichError> {
        let mut by_host = HashMap::new();
        let mut by_ip = HashMap::new();
        for a in &cfg.assets {
            if a.host.trim().is_empty() {
                return Err(EnrichError::Asset {
                    host: a.host.clone(),
                    reason: "empty host name".into(),
                });
            }
            if let Some(level) = a.level
                && !(1..=5).contains(&level)
            {
                return Err(EnrichError::Asset {
                    host: a.host.clone(),
                    reason: format!("security level {level} is not between 1 and 5"),
                });
            }
            by_host.insert(a.host.to_lowercase(), a.clone());
            if let Some(ip) = a.ip {
                by_ip.insert(ip, a.clone());
            }
        }
        Ok(Enricher {
            country: cfg.geoip_country.iter().map(|p| open_db(p)).collect::<Result<_, _>>()?,
            asn: cfg.geoip_asn.iter().map(|p| open_db(p)).collect::<Result<_, _>>()?,
            by_host,
            by_ip,
            networks: cfg.networks.clone(),
        })
    }

    fn network(&self, ip: IpAddr) -> Option<&NetworkInfo> {
        self.networks.iter().filter(|n| n.cidr.contains(&ip)).max_by_key(|n| n.cidr.prefix_len())
    }

    /// Country ISO code of an address, from the first database that knows it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        for db in &self.country {
            if let Ok(Some(rec)) = db.lookup::<CountryRec<'_>>(ip) {
                let code = rec
                    .country_code
                    .or_else(|| rec.country.as_ref().and_then(|c| c.iso_code))
                    .or_else(|| rec.registered_country.as_ref().and_then(|c| c.iso_code));
                if let Some(code) = code {
                    return Some(code.to_owned());
                }
            }
        }
        None
    }

    /// ASN number and organization of an address.
    pub fn asn(&self, ip: IpAddr) -> Option<(u32, Option<String>)> {
        for db in &self.asn {
            if let Ok(Some(rec)) = db.lookup::<AsnRec<'_>>(ip)
                && let Some(n) = rec.autonomous_system_number
            {
                return Some((n, rec.autonomous_system_organization.map(str::to_owned)));
            }
        }
        None
    }

    /// Enrich one event in place. `peer` is the sender address (syslog source).
    pub fn enrich(&self, e: &mut Event, peer: Option<IpAddr>) {
        if !self.country.is_empty() || !self.asn.is_empty() || !self.networks.is_empty() {
            for paths in GEO_PATHS {
                let ip = match e.get(paths.ip) {
                    Some(FieldRef::Ip(ip)) => ip,
                    Some(FieldRef::Str(s)) => match s.parse() {
                        Ok(ip) => ip,
                        Err(_) => continue,
                    },
                    _ => continue,
                };
                // Configured networks win (any address); databases only for public ones.
                let (country, asn) = match self.network(ip) {
                    Some(net) => (net.country.clone(), net.asn.map(|n| (n, net.as_org.clone()))),
                    None if is_public(ip) => (self.country(ip), self.asn(ip)),
                    None => continue,
                };
                if let Some(cc) = country {
                    e.set(paths.country, cc);
                }
                if let Some((n, org)) = asn {
                    e.set(paths.asn, Value::Int(i64::from(n)));
                    if let Some(org) = org {
                        e.set(paths.as_org, org);
                    }
                }
            }
        }
        if self.by_host.is_empty() {
            return;
        }
        let asset = e
            .get_str("host.name")
            .and_then(|h| self.by_host.get(&h.to_lowercase()))
            .or_else(|| {
                e.get_str("host.hostname").and_then(|h| self.by_host.get(&h.to_lowercase()))
            })
            .or_else(|| peer.and_then(|p| self.by_ip.get(&p)));
        if let Some(a) = asset {
            if e.organization.is_none() {
                e.organization = Some(a.organization.clone());
            }
            e.set_default("host.name", a.host.as_str());
            if let Some(ip) = a.ip {
                e.set_default("host.ip", Value::Ip(ip));
            }
            if let Some(s) = &a.system {
                e.set("sen.system.id", s.as_str());
            }
            if let Some(s) = &a.system_name {
                e.set("sen.system.name", s.as_str());
            }
            if let Some(l) = a.level {
                e.set("sen.system.level", Value::Int(i64::from(l)));
            }
            if let Some(z) = &a.zone {
                e.set("sen.zone", z.as_str());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn write_dbs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let mut w = mmdb_writer::Writer::new("GeoLite2-Country");
        w.insert(
            "8.8.8.0/24".parse::<ipnet::IpNet>().unwrap(),
            &serde_json::json!({"country": {"iso_code": "US"}}),
        )
        .unwrap();
        let country = dir.join("country.mmdb");
        std::fs::write(&country, w.to_bytes().unwrap()).unwrap();
        let mut flat = mmdb_writer::Writer::new("geo-whois-asn-country");
        flat.insert(
            "1.52.0.0/14".parse::<ipnet::IpNet>().unwrap(),
            &serde_json::json!({"country_code": "VN"}),
        )
        .unwrap();
        let flat_path = dir.join("flat.mmdb");
        std::fs::write(&flat_path, flat.to_bytes().unwrap()).unwrap();
        let mut a = mmdb_writer::Writer::new("GeoLite2-ASN");
        a.insert(
            "1.52.0.0/14".parse::<ipnet::IpNet>().unwrap(),
            &serde_json::json!({"autonomous_system_number": 18403, "autonomous_system_organization": "FPT Telecom"}),
        )
        .unwrap();
        let asn = dir.join("asn.mmdb");
        std::fs::write(&asn, a.to_bytes().unwrap()).unwrap();
        (country, flat_path, asn)
    }

    #[test]
    fn geoip_both_layouts_and_asn() {
        let dir = tempfile::tempdir().unwrap();
        let (country, flat, asn) = write_dbs(dir.path());
        let en = Enricher::new(&EnrichConfig {
            geoip_country: vec![country, flat],
            geoip_asn: vec![asn],
            assets: vec![],
            networks: vec![
                NetworkInfo {
                    cidr: "198.51.100.0/24".parse().unwrap(),
                    country: Some("VN".into()),
                    asn: None,
                    as_org: None,
                },
                NetworkInfo {
                    cidr: "198.51.100.7/32".parse().unwrap(),
                    country: Some("NL".into()),
                    asn: Some(64500),
                    as_org: Some("Example Hosting".into()),
                },
            ],
        })
        .unwrap();
        let mut e = Event::new("x".into(), Utc::now(), "o");
        e.set("source.ip", Value::Ip("1.53.1.2".parse().unwrap()));
        e.set("destination.ip", Value::Ip("8.8.8.8".parse().unwrap()));
        e.set("client.ip", Value::Ip("10.1.2.3".parse().unwrap()));
        en.enrich(&mut e, None);
        assert_eq!(e.get_str("source.geo.country_iso_code"), Some("VN"));
        assert_eq!(e.get("source.as.number"), Some(FieldRef::Int(18403)));
        assert_eq!(e.get_str("source.as.organization.name"), Some("FPT Telecom"));
        assert_eq!(e.get_str("destination.geo.country_iso_code"), Some("US"));
        assert_eq!(
            e.get("client.geo.country_iso_code"),
            None,
            "private addresses are not looked up"
        );
    }

    #[test]
    fn missing_database_is_a_clear_error() {
        let err = Enricher::new(&EnrichConfig {
            geoip_country: vec!["/nonexistent/x.mmdb".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.mmdb"), "{err}");
    }

    #[test]
    fn assets_by_host_and_peer() {
        let asset = Asset {
            host: "web01".into(),
            ip: Some("10.10.1.11".parse().unwrap()),
            organization: "stttt".into(),
            system: Some("portal".into()),
            system_name: Some("Cổng Thông tin điện tử tỉnh".into()),
            level: Some(3),
            zone: Some("dmz".into()),
        };
        let en =
            Enricher::new(&EnrichConfig { assets: vec![asset], ..Default::default() }).unwrap();
        let mut e = Event::new("x".into(), Utc::now(), "o");
        e.set("host.name", "WEB01");
        en.enrich(&mut e, None);
        assert_eq!(e.organization.as_deref(), Some("stttt"));
        assert_eq!(e.get("sen.system.level"), Some(FieldRef::Int(3)));
        let mut e = Event::new("y".into(), Utc::now(), "o");
        en.enrich(&mut e, Some("10.10.1.11".parse().unwrap()));
        assert_eq!(e.get_str("host.name"), Some("web01"));
        assert_eq!(e.get_str("sen.zone"), Some("dmz"));
        let bad = Asset {
            host: "x".into(),
            organization: "o".into(),
            level: Some(7),
            ..Default::default()
        };
        assert!(Enricher::new(&EnrichConfig { assets: vec![bad], ..Default::default() }).is_err());
    }
}
