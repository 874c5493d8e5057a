//! Demo data generator behind `sen serve --demo`: the demo province of Đồng Tháp.
//!
//! Produces raw log lines exactly as the province's devices would send them over syslog. This
//! first version holds the province inventory and the public API; traffic comes next.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};

/// The beaconing story's known-bad domain.
pub const BAD_DOMAIN: &str = "cdn.update-sync.example.net";
/// The beaconing story's known-bad address (what [`BAD_DOMAIN`] resolves to).
pub const BAD_IP: &str = "192.0.2.250";
/// The SSH password guesser "from abroad".
pub const ATTACKER_SSH_IP: &str = "198.51.100.213";
/// The web scanner / SQL injector attacking the public-service portal.
pub const ATTACKER_WEB_IP: &str = "192.0.2.227";
/// The port scanner sweeping the DMZ.
pub const SCANNER_IP: &str = "198.51.100.249";

/// One generated raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRecord {
    /// When the device sent it.
    pub at: DateTime<Utc>,
    /// The sending host's address, from its zone's CIDR.
    pub peer: IpAddr,
    /// The sending host's name.
    pub host: String,
    /// The tenant the sender belongs to.
    pub organization: Option<String>,
    /// The raw line, as sent over syslog.
    pub line: String,
}

/// One host of the demo province's inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Host name.
    pub host: String,
    /// Address (inside its zone's CIDR).
    pub ip: IpAddr,
    /// Owning organization (tenant id).
    pub organization: String,
    /// Information system id, when the host belongs to one.
    pub system: Option<String>,
    /// Information system name (Vietnamese).
    pub system_name: Option<String>,
    /// Security level (cấp độ, 1–5) of the information system.
    pub level: Option<u8>,
    /// Network zone id.
    pub zone: String,
}

/// Static inventory of the demo province (hosts → org, information system, security level, zone), for asset enrichment.
pub fn assets() -> Vec<Asset> {
    vec![Asset {
        host: "web01".into(),
        ip: IpAddr::V4(Ipv4Addr::new(10, 10, 1, 11)),
        organization: "stttt".into(),
        system: Some("portal".into()),
        system_name: Some("Cổng Thông tin điện tử tỉnh".into()),
        level: Some(3),
        zone: "dmz".into(),
    }]
}

/// Deterministic (seeded) backfill of `span` ending at `end`, sorted by time.
pub fn backfill(end: DateTime<Utc>, span: chrono::Duration, seed: u64) -> Vec<DemoRecord> {
    let _ = (end, span, seed);
    Vec::new()
}

/// Live mode: endless time-ordered generator of normal traffic at roughly `eps` events/s that
/// replays an attack story every few minutes.
#[derive(Debug)]
pub struct LiveDemo {
    now: DateTime<Utc>,
    eps: f64,
}

impl LiveDemo {
    /// A live generator starting at `start`, producing about `eps` records per second of
    /// generated time, seeded for reproducibility.
    pub fn new(start: DateTime<Utc>, eps: f64, seed: u64) -> Self {
        let _ = seed;
        LiveDemo { now: start, eps: eps.max(0.1) }
    }
}

impl Iterator for LiveDemo {
    type Item = DemoRecord;

    fn next(&mut self) -> Option<DemoRecord> {
        self.now += chrono::Duration::microseconds((1e6 / self.eps) as i64);
        Some(DemoRecord {
            at: self.now,
            peer: IpAddr::V4(Ipv4Addr::new(10, 10, 1, 11)),
            host: "web01".into(),
            organization: Some("stttt".into()),
            line: String::new(),
        })
    }
}
