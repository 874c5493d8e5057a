//! Which Sigma logsources an event belongs to (ADR 0008, "routing").
//!
//! A rule applies to an event when the rule's `product`, `service` and `category`, each when
//! set, are among the event's ([`LogClass::admits`]). The event's logsource is derived from a
//! few fields only ([`CLASS_INPUTS`]), so events with equal values there share one class, and
//! the engine caches one evaluation plan per class ([`class_key`]).
//!
//! * **Windows** (`winlog.channel`, `winlog.event_id`): `rules/mappings/windows.tsv`, the Sigma
//!   taxonomy's channel → service and (channel, EventID) → category tables, plus Security 4688
//!   as `process_creation` as pySigma's Windows pipeline does. One event may have several
//!   categories (Sysmon 12 is `registry_event`, `registry_add` and `registry_delete`).
//! * **Everything else** from ECS: `host.os.type` or the parser's module gives the product
//!   (`linux` for sshd, sudo, su, PAM, logind, iptables, dnsmasq, auditd and any syslog record;
//!   `zeek` for `event.module: zeek`; `cisco` for Cisco messages, with the services `aaa` for
//!   CLI command and login logs (`PARSER`, `SYS`, `SEC_LOGIN` …), `bgp` (`BGP`, `TCP`) and
//!   `ldp` by the message's facility; `fortigate` for FortiGate logs, with FortiOS's log type as
//!   the service (`traffic`, `event`, `utm`), traffic logs being `firewall` logs; `huawei` and
//!   `juniper` for Huawei VRP and Junos messages, with the service `bgp` or `ldp` when the
//!   parser found the message to be about that protocol, `network.protocol`), the module the
//!   services (`sshd`, `sudo`, `auditd`; `auth`
//!   for the authentication modules; `syslog` and the program name (`cron`, `vsftpd`; `cron` for
//!   crontab, `clamav` for clamd, `guacamole` for guacd) for Linux syslog records; the Zeek log for Zeek), and
//!   `event.dataset` / `event.category` / `event.type` the categories (`webserver` for access
//!   logs and any `web` event, `firewall`, `dns`, `process_creation` for ECS process start
//!   events — Windows 4688, Sysmon 1, AUOMS_EXECVE records and the joined event of the auditd
//!   records of an `execve` —, `network_connection`, `file_event` (also auditd PATH
//!   records of a created file), `proxy`). Zeek's `http` log is also a `proxy` source (a sensor
//!   sees the requests a proxy would log; the SigmaHQ Zeek configurations of sigmac mapped it
//!   the same way) and, being `web`, a `webserver` one; its `dns` log is a `dns` source. Those
//!   generic rules read the ECS fields sen-parse fills for Zeek.
//! * **Derived events**: the joined event of a kernel event's audit records
//!   (`event.dataset: auditd.event`) is `product: linux` with its categories and no service,
//!   and only rules naming one of its categories apply ([`LogClass::derived`]): the records
//!   stay `service: auditd` for SigmaHQ's per-record rules, and rules for every Linux log
//!   (keywords) read the records, not their copy a second time.

use super::cache::prefetch;
use std::hash::Hasher;
use std::sync::OnceLock;

use sen_core::event::{Event, Value};
use xxhash_rust::xxh3::Xxh3;

/// Positions in [`CLASS_INPUTS`].
const CHANNEL: usize = 0;
const EVENT_ID: usize = 1;
const MODULE: usize = 2;
const DATASET: usize = 3;

/// The fields an event's class is computed from.
pub const CLASS_INPUTS: &[&str] = &[
    // Read by position in [`event_facts`]: [`CHANNEL`], [`EVENT_ID`], [`MODULE`], [`DATASET`].
    "winlog.channel",
    "winlog.event_id",
    "event.module",
    "event.dataset",
    "event.category",
    "event.type",
    "host.os.type",
    "log.syslog.appname",
    "observer.product",
    "observer.type",
    "cisco.facility",
    "fortinet.firewall.type",
    "network.protocol",
];

const WINDOWS_TSV: &str = include_str!("../../mappings/windows.tsv");

/// One row of the Windows table.
#[derive(Debug, Clone)]
struct WinRow {
    channel: String,
    /// `None`: every EventID.
    ids: Option<Vec<i64>>,
    service: Option<String>,
    category: Option<String>,
}

fn windows_rows() -> &'static [WinRow] {
    static ROWS: OnceLock<Vec<WinRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        WINDOWS_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                if c.len() != 4 {
                    return None;
                }
                let ids = if c[1] == "*" {
                    None
                } else {
                    Some(c[1].split(',').filter_map(|x| x.trim().parse().ok()).collect())
                };
                let opt = |s: &str| (s != "-").then(|| s.to_owned());
                Some(WinRow {
                    channel: c[0].to_owned(),
                    ids,
                    service: opt(c[2]),
                    category: opt(c[3]),
                })
            })
            .collect()
    })
}

/// An event's Sigma logsource: product, services and categories (lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogClass {
    /// `windows`, `linux`, `zeek`, …
    pub product: Option<String>,
    /// Services (`security`, `sysmon`, `sshd`, `auth`, …).
    pub services: Vec<String>,
    /// Categories (`process_creation`, `webserver`, …).
    pub categories: Vec<String>,
    /// An event Sen assembled from other events it also keeps (auditd's joined kernel events):
    /// only rules that name one of its categories apply, so a rule for every Linux log does not
    /// read the same records a second time.
    pub derived: bool,
}

impl LogClass {
    /// Whether a rule with this logsource applies to events of this class. Fields a rule leaves
    /// out match anything; custom logsource fields (`definition`, vendor keys) are ignored.
    pub fn admits(
        &self,
        product: Option<&str>,
        service: Option<&str>,
        category: Option<&str>,
    ) -> bool {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if self.derived && category.is_none() {
            return false;
        }
        product.is_none_or(|p| self.product.as_deref().is_some_and(|q| eq(p, q)))
            && service.is_none_or(|s| self.services.iter().any(|q| eq(s, q)))
            && category.is_none_or(|c| self.categories.iter().any(|q| eq(c, q)))
    }

    fn add_service(&mut self, s: &str) {
        if !self.services.iter().any(|x| x == s) {
            self.services.push(s.to_owned());
        }
    }

    fn add_category(&mut self, s: &str) {
        if !self.categories.iter().any(|x| x == s) {
            self.categories.push(s.to_owned());
        }
    }
}

fn texts<'a>(e: &'a Event, path: &str, out: &mut Vec<std::borrow::Cow<'a, str>>) {
    out.clear();
    match e.fields.get(path) {
        Some(Value::Str(s)) => out.push(std::borrow::Cow::Borrowed(s)),
        Some(Value::List(items)) => {
            for i in items {
                if let Value::Str(s) = i {
                    out.push(std::borrow::Cow::Borrowed(s));
                }
            }
        }
        Some(Value::Int(n)) => out.push(std::borrow::Cow::Owned(n.to_string())),
        _ => {}
    }
}

/// What one pass over an event's fields learns for the engine: its class key and what
/// [`super::view::SigmaView`] needs to know.
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    /// The cache key of the event's class ([`class_key`]).
    pub key: u64,
    /// Whether it is a Windows event (has `winlog.channel` or `winlog.event_id`).
    pub windows: bool,
    /// `winlog.channel`, when text.
    pub channel: Option<&'a str>,
    /// `winlog.event_id`, when an integer.
    pub event_id: Option<i64>,
    /// `event.module`, when text.
    pub module: Option<&'a str>,
    /// `event.dataset`, when text.
    pub dataset: Option<&'a str>,
    /// Whether some field holds untyped JSON.
    pub has_json: bool,
}

/// The cache key of an event's class: a hash of the [`CLASS_INPUTS`] values (allocation-free).
pub fn class_key(e: &Event) -> u64 {
    event_facts(e).key
}

/// One pass over the event's fields finds the [`CLASS_INPUTS`] (two or more map lookups of a
/// cold event cost more than the pass). The pass also reads the first byte of every field name
/// and asks the processor to fetch every cache line of every text value ([`prefetch`]; the
/// loads it replaced held up the work after them): those fetches are independent of one
/// another and overlap with the work that follows, whereas the
/// evaluation reads the values one after another, each waiting for the last when the event is
/// not in cache.
pub fn event_facts(e: &Event) -> EventFacts<'_> {
    const MASK: u64 = {
        let mut m = 0u64;
        let mut i = 0;
        while i < CLASS_INPUTS.len() {
            m |= 1 << CLASS_INPUTS[i].len();
            i += 1;
        }
        m
    };
    let mut found: [Option<&Value>; CLASS_INPUTS.len()] = [None; CLASS_INPUTS.len()];
    let mut touched = 0u8;
    let mut has_json = false;
    let mut has_message = false;
    // The entries are read in order below; ask for all of their lines at once.
    prefetch(e.fields.as_slice());
    for (k, v) in &e.fields {
        has_message |= k.len() == 7 && k.as_str() == "message";
        touched ^= k.as_bytes().first().copied().unwrap_or(0);
        match v {
            // Every cache line of the text, not only the first: a long value (a Windows
            // `Message`, 700 bytes) is read whole by the keyword search.
            Value::Str(s) => prefetch(s.as_bytes()),
            Value::Json(_) => has_json = true,
            _ => {}
        }
        if k.len() < 64
            && MASK & (1 << k.len()) != 0
            && let Some(i) = CLASS_INPUTS.iter().position(|p| *p == k.as_str())
        {
            found[i] = Some(v);
        }
    }
    // The keyword search reads the original text of an event without `message` (whether it
    // is JSON, `visit_other_strings`).
    if !has_message {
        prefetch(&e.original.as_bytes()[..e.original.len().min(1)]);
    }
    std::hint::black_box(touched);
    let (module, dataset) =
        (found[MODULE].and_then(Value::as_str), found[DATASET].and_then(Value::as_str));
    let mut h = Xxh3::new();
    // A Windows event's class depends on its channel and EventID only ([`classify`]).
    let (channel, event_id) = (found[CHANNEL], found[EVENT_ID]);
    let windows = channel.is_some() || event_id.is_some();
    if windows {
        h.write_u8(0xee);
        hash_input(&mut h, channel);
        hash_input(&mut h, event_id);
    } else {
        // `network.protocol` routes Huawei and Juniper events only ([`classify`]); other events
        // (Zeek, CEF applications) have many values of it that would only split equal classes.
        let by_protocol = module
            .is_some_and(|m| m.eq_ignore_ascii_case("huawei") || m.eq_ignore_ascii_case("juniper"));
        for (path, v) in CLASS_INPUTS.iter().zip(found).skip(EVENT_ID + 1) {
            if *path == "network.protocol" && !by_protocol {
                h.write_u8(0);
                continue;
            }
            hash_input(&mut h, v);
        }
    }
    EventFacts {
        key: h.finish(),
        windows,
        channel: channel.and_then(Value::as_str),
        event_id: match event_id {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        },
        module,
        dataset,
        has_json,
    }
}

fn hash_input(h: &mut Xxh3, v: Option<&Value>) {
    match v {
        Some(Value::Str(s)) => {
            // Case variants of one value get separate (equal) plans; the normalizer writes
            // canonical names, so that is rare and only costs a cache entry.
            h.write_u8(1);
            h.write(s.as_bytes());
        }
        Some(Value::Int(n)) => {
            h.write_u8(2);
            h.write_i64(*n);
        }
        Some(Value::List(items)) => {
            h.write_u8(3);
            for i in items {
                if let Value::Str(s) = i {
                    h.write(s.as_bytes());
                    h.write_u8(0);
                }
            }
        }
        Some(_) => h.write_u8(4),
        None => h.write_u8(0),
    }
}

/// `observer.product` values (lower case, substrings) of network firewalls.
const FIREWALL_PRODUCTS: &[&str] = &[
    "fortigate",
    "asa",
    "pan-os",
    "palo alto",
    "checkpoint",
    "check point",
    "sophos",
    "pfsense",
    "opnsense",
    "srx",
    "firepower",
];

/// sen-parse's dataset of a joined audit event (`sen_parse::auditd::join::JOINED_DATASET`).
const AUDITD_JOINED: &str = "auditd.event";

const LINUX_AUTH_MODULES: &[&str] = &["sshd", "pam", "sudo", "su", "systemd-logind"];
const LINUX_MODULES: &[&str] =
    &["sshd", "pam", "sudo", "su", "systemd-logind", "iptables", "dnsmasq", "auditd"];

/// The class of an event (see the module docs).
pub fn classify(e: &Event) -> LogClass {
    let mut c = LogClass::default();
    let mut buf = Vec::new();
    let channel = e.fields.get("winlog.channel").and_then(Value::as_str);
    let event_id = e.fields.get("winlog.event_id").and_then(|v| match v {
        Value::Int(n) => Some(*n),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    });
    if channel.is_some() || event_id.is_some() {
        c.product = Some("windows".into());
        if let Some(ch) = channel {
            for row in windows_rows() {
                if !row.channel.eq_ignore_ascii_case(ch) {
                    continue;
                }
                if let Some(ids) = &row.ids
                    && !event_id.is_some_and(|id| ids.contains(&id))
                {
                    continue;
                }
                if let Some(s) = &row.service {
                    c.add_service(s);
                }
                if let Some(cat) = &row.category {
                    c.add_category(cat);
                }
            }
        }
        return c;
    }
    let module = e.fields.get("event.module").and_then(Value::as_str).unwrap_or("");
    let dataset = e.fields.get("event.dataset").and_then(Value::as_str).unwrap_or("");
    let module_l = module.to_ascii_lowercase();
    let os = e.fields.get("host.os.type").and_then(Value::as_str).map(str::to_ascii_lowercase);
    if let Some(os) = os {
        c.product = Some(os);
    }
    if module_l == "zeek" || dataset.starts_with("zeek.") {
        c.product = Some("zeek".into());
        if let Some(log) = dataset.strip_prefix("zeek.") {
            c.add_service(&log.to_ascii_lowercase());
        }
    } else if module_l == "cisco" {
        // SigmaHQ's Cisco services are log types: command accounting (`aaa`; IOS logs CLI
        // commands as `%PARSER-5-CFGLOG_LOGGEDCMD`), `bgp` and `ldp`.
        c.product.get_or_insert_with(|| "cisco".into());
        c.add_service("cisco");
        let facility = e.fields.get("cisco.facility").and_then(Value::as_str).unwrap_or("");
        match facility.to_ascii_uppercase().as_str() {
            "PARSER" | "AAA" | "TACACS" | "SEC_LOGIN" | "SYS" => c.add_service("aaa"),
            "BGP" | "TCP" | "BGP_SESSION" => c.add_service("bgp"),
            "LDP" => c.add_service("ldp"),
            _ => {}
        }
    } else if module_l == "auditd" && dataset == AUDITD_JOINED {
        // The joined event of a kernel event's records: its categories only (a process start is
        // `process_creation`); the records themselves are `service: auditd`.
        c.product.get_or_insert_with(|| "linux".into());
        c.derived = true;
    } else if module_l == "fortinet" || dataset == "fortinet.firewall" {
        // FortiGate: SigmaHQ's rules are `product: fortigate` with FortiOS's log type as the
        // service (`event` for system events such as configuration changes). Traffic logs are
        // firewall logs; UTM logs of a stopped session are too (network + denied, below).
        c.product = Some("fortigate".into());
        let kind = e.fields.get("fortinet.firewall.type").and_then(Value::as_str).unwrap_or("");
        let kind = kind.trim().to_ascii_lowercase();
        if !kind.is_empty() {
            c.add_service(&kind);
        }
        if kind == "traffic" {
            c.add_category("firewall");
        }
    } else if module_l == "huawei" || module_l == "juniper" {
        // Huawei VRP and Junos: the services of SigmaHQ's rules are the routing protocol a
        // message is about (`bgp`, `ldp`), which the parsers write as `network.protocol`.
        c.product = Some(module_l.clone());
        if let Some(p) = e.fields.get("network.protocol").and_then(Value::as_str) {
            let p = p.to_ascii_lowercase();
            if matches!(p.as_str(), "bgp" | "ldp") {
                c.add_service(&p);
            }
        }
    } else if LINUX_MODULES.contains(&module_l.as_str()) {
        c.product.get_or_insert_with(|| "linux".into());
        if LINUX_AUTH_MODULES.contains(&module_l.as_str()) {
            c.add_service("auth");
        }
        c.add_service(&module_l);
    } else if !module_l.is_empty() {
        c.add_service(&module_l);
    }
    if let Some(app) = e.fields.get("log.syslog.appname").filter(|_| !c.derived) {
        if c.product.is_none() && !matches!(module_l.as_str(), "cisco" | "cef" | "leef") {
            c.product = Some("linux".into());
        }
        c.add_service("syslog");
        // SigmaHQ's Linux services are program names (`cron`, `vsftpd`, `clamav`, …).
        if c.product.as_deref() == Some("linux")
            && let Some(app) = app.as_str()
        {
            let app = app.rsplit('/').next().unwrap_or(app).to_ascii_lowercase();
            match app.as_str() {
                "crond" | "crontab" | "anacron" => c.add_service("cron"),
                "clamd" | "freshclam" | "clamav-daemon" => c.add_service("clamav"),
                "guacd" => c.add_service("guacamole"),
                a if !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
                    c.add_service(a)
                }
                _ => {}
            }
        }
    }
    let observer = |path: &str| {
        e.fields.get(path).and_then(Value::as_str).map(str::to_ascii_lowercase).unwrap_or_default()
    };
    let (product, otype) = (observer("observer.product"), observer("observer.type"));
    // A FortiGate event's class comes from its log type (above): its configuration and
    // system events are not firewall logs.
    if c.product.as_deref() != Some("fortigate")
        && (otype == "firewall" || FIREWALL_PRODUCTS.iter().any(|p| product.contains(p)))
    {
        c.add_category("firewall");
    }
    match dataset {
        d if d.ends_with(".access") => {
            c.add_category("webserver");
            if let Some(m) = d.strip_suffix(".access") {
                c.add_service(m);
            }
        }
        "iptables.log" | "cisco.asa" => c.add_category("firewall"),
        "dnsmasq.log" => c.add_category("dns"),
        _ => {}
    }
    texts(e, "event.category", &mut buf);
    let categories: Vec<String> = buf.iter().map(|s| s.to_ascii_lowercase()).collect();
    texts(e, "event.type", &mut buf);
    let types: Vec<String> = buf.iter().map(|s| s.to_ascii_lowercase()).collect();
    let has = |v: &[String], x: &str| v.iter().any(|s| s == x);
    if has(&categories, "process") && has(&types, "start") {
        c.add_category("process_creation");
    }
    if has(&categories, "network") && has(&types, "connection") {
        c.add_category("network_connection");
    }
    if has(&categories, "file") && (has(&types, "creation") || has(&types, "change")) {
        c.add_category("file_event");
    }
    if has(&categories, "web") {
        c.add_category("webserver");
    }
    if has(&categories, "firewall") || (has(&categories, "network") && has(&types, "denied")) {
        c.add_category("firewall");
    }
    // Zeek's http log: the web requests a proxy would log.
    if dataset.contains("proxy") || dataset == "zeek.http" {
        c.add_category("proxy");
    }
    if dataset.contains("dns") || has(&categories, "dns") {
        c.add_category("dns");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn ev(fields: &[(&str, Value)]) -> Event {
        let mut e = Event::new("1".into(), Utc::now(), "x");
        for (k, v) in fields {
            e.fields.insert(*k, v.clone());
        }
        e
    }

    #[test]
    fn sysmon_registry_has_three_categories() {
        let e = ev(&[
            ("winlog.channel", Value::Str("Microsoft-Windows-Sysmon/Operational".into())),
            ("winlog.event_id", Value::Int(12)),
        ]);
        let c = classify(&e);
        assert_eq!(c.product.as_deref(), Some("windows"));
        assert_eq!(c.services, vec!["sysmon"]);
        for cat in ["registry_event", "registry_add", "registry_delete"] {
            assert!(c.categories.iter().any(|x| x == cat), "{c:?}");
        }
        assert!(c.admits(Some("windows"), None, Some("registry_add")));
        assert!(!c.admits(Some("windows"), None, Some("process_creation")));
        assert!(!c.admits(Some("linux"), None, None));
        assert!(c.admits(None, None, None));
    }

    #[test]
    fn security_4688_is_process_creation_and_other_ids_are_not() {
        let mk = |id| {
            ev(&[
                ("winlog.channel", Value::Str("security".into())),
                ("winlog.event_id", Value::Int(id)),
            ])
        };
        let c = classify(&mk(4688));
        assert!(c.admits(Some("windows"), Some("security"), None));
        assert!(c.admits(Some("windows"), None, Some("process_creation")));
        let c = classify(&mk(4625));
        assert!(c.admits(Some("windows"), Some("security"), None));
        assert!(!c.admits(Some("windows"), None, Some("process_creation")));
        assert_ne!(class_key(&mk(4688)), class_key(&mk(4625)));
    }

    #[test]
    fn auditd_records_are_linux_auditd_and_execs_are_process_creation() {
        let path = ev(&[
            ("event.module", Value::Str("auditd".into())),
            ("event.dataset", Value::Str("auditd.log".into())),
        ]);
        let c = classify(&path);
        assert!(c.admits(Some("linux"), Some("auditd"), None));
        assert!(!c.admits(Some("linux"), None, Some("process_creation")));
        assert!(!c.admits(Some("linux"), Some("auth"), None));
        // auoms: one record holds the whole execve.
        let auoms = ev(&[
            ("event.module", Value::Str("auditd".into())),
            ("event.dataset", Value::Str("auditd.log".into())),
            ("event.category", Value::List(vec![Value::Str("process".into())])),
            ("event.type", Value::List(vec![Value::Str("start".into())])),
        ]);
        let c = classify(&auoms);
        assert!(c.admits(Some("linux"), Some("auditd"), Some("process_creation")));
        assert_ne!(class_key(&path), class_key(&auoms));
        // The joined event of an execve's records: process_creation only, whatever carried it.
        let joined = ev(&[
            ("event.module", Value::Str("auditd".into())),
            ("event.dataset", Value::Str(sen_parse::auditd::join::JOINED_DATASET.into())),
            ("event.category", Value::List(vec![Value::Str("process".into())])),
            ("event.type", Value::List(vec![Value::Str("start".into())])),
            ("log.syslog.appname", Value::Str("audispd".into())),
        ]);
        let c = classify(&joined);
        assert!(c.derived);
        assert!(c.admits(Some("linux"), None, Some("process_creation")));
        assert!(!c.admits(Some("linux"), Some("auditd"), None), "records are auditd's");
        assert!(!c.admits(Some("linux"), Some("syslog"), None));
        assert!(!c.admits(Some("linux"), None, None), "a rule for any Linux log");
        assert!(!c.admits(None, None, None));
        assert_ne!(class_key(&joined), class_key(&auoms));
        // Other joined events (an unlink's records) answer no rule.
        let other = ev(&[
            ("event.module", Value::Str("auditd".into())),
            ("event.dataset", Value::Str("auditd.event".into())),
        ]);
        let c = classify(&other);
        assert!(!c.admits(Some("linux"), None, None) && !c.admits(None, None, Some("file_event")));
    }

    #[test]
    fn zeek_classes() {
        let mk = |d: &str, cats: &[&str]| {
            let mut e = ev(&[
                ("event.module", Value::Str("zeek".into())),
                ("event.dataset", Value::Str(d.into())),
            ]);
            for c in cats {
                e.push("event.category", c);
            }
            e
        };
        let c = classify(&mk("zeek.http", &["network", "web"]));
        assert!(c.admits(Some("zeek"), Some("http"), None));
        assert!(c.admits(None, None, Some("proxy")));
        assert!(c.admits(None, None, Some("webserver")));
        assert!(!c.admits(Some("zeek"), Some("dns"), None));
        let c = classify(&mk("zeek.dns", &["network"]));
        assert!(c.admits(Some("zeek"), Some("dns"), Some("dns")));
        assert!(!c.admits(None, None, Some("proxy")));
        let c = classify(&mk("zeek.smb_files", &["network", "file"]));
        assert!(c.admits(Some("zeek"), Some("smb_files"), None));
        assert!(!c.admits(Some("linux"), None, None));
    }

    #[test]
    fn linux_auth_and_web_classes() {
        let ssh = ev(&[
            ("event.module", Value::Str("sshd".into())),
            ("event.dataset", Value::Str("system.auth".into())),
            ("log.syslog.appname", Value::Str("sshd".into())),
        ]);
        let c = classify(&ssh);
        assert!(c.admits(Some("linux"), Some("sshd"), None));
        assert!(c.admits(Some("linux"), Some("auth"), None));
        assert!(c.admits(Some("linux"), Some("syslog"), None));
        assert!(!c.admits(Some("windows"), None, None));
        let cron = ev(&[("log.syslog.appname", Value::Str("CRON".into()))]);
        let c = classify(&cron);
        assert!(c.admits(Some("linux"), Some("cron"), None));
        assert!(c.admits(Some("linux"), Some("syslog"), None));
        assert!(!c.admits(Some("linux"), Some("sshd"), None));
        let web = ev(&[
            ("event.module", Value::Str("nginx".into())),
            ("event.dataset", Value::Str("nginx.access".into())),
        ]);
        let c = classify(&web);
        assert!(c.admits(None, None, Some("webserver")));
        assert!(!c.admits(Some("linux"), None, Some("webserver")));
    }
    fn parsed(line: &str) -> Event {
        let ctx = sen_parse::Context::new(Utc::now());
        let mut e = Event::new("p".into(), ctx.received, line);
        sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
        e
    }

    #[test]
    fn fortigate_classes_by_log_type() {
        let config = parsed(
            "<189>date=2026-11-26 time=15:00:01 devname=\"fw\" devid=\"FG1\" logid=\"0100044547\" type=\"event\" subtype=\"system\" action=\"Add\" cfgpath=\"system.admin\"",
        );
        let c = classify(&config);
        assert!(c.admits(Some("fortigate"), Some("event"), None), "{c:?}");
        // Configuration events are not firewall logs, whatever the observer.
        assert!(!c.admits(None, None, Some("firewall")), "{c:?}");
        let traffic = parsed(
            "<189>date=2026-11-26 time=15:00:01 devname=\"fw\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=10.0.0.1 dstip=10.0.0.2 dstport=22 proto=6 action=\"accept\"",
        );
        let c = classify(&traffic);
        assert!(c.admits(Some("fortigate"), Some("traffic"), Some("firewall")), "{c:?}");
        assert!(!c.admits(Some("fortigate"), Some("event"), None));
        assert_ne!(class_key(&config), class_key(&traffic));
        // FortiGate's CEF routes the same way.
        let cef = parsed(
            "CEF:0|Fortinet|Fortigate|v7.2.5|44547|event:system|3|deviceExternalId=FG1 cat=event:system act=Add FTNTFGTcfgpath=system.admin",
        );
        assert!(classify(&cef).admits(Some("fortigate"), Some("event"), None));
        // An IPS drop is a denied session: a firewall log too.
        let ips = parsed(
            "logid=0419016384 type=utm subtype=ips srcip=198.51.100.9 dstip=10.0.0.2 action=dropped",
        );
        let c = classify(&ips);
        assert!(c.admits(Some("fortigate"), Some("utm"), Some("firewall")), "{c:?}");
    }

    #[test]
    fn router_classes_by_protocol() {
        let huawei = parsed(
            "<187>Nov 26 2026 15:10:01+07:00 pe1 %%01BGP/3/BGP_AUTH_FAILED(l)[1]:BGP session authentication failed. (PeerAddress=203.0.113.1:179)",
        );
        let c = classify(&huawei);
        assert!(c.admits(Some("huawei"), Some("bgp"), None), "{c:?}");
        assert!(
            !c.admits(Some("linux"), None, None) && !c.admits(Some("huawei"), Some("ldp"), None)
        );
        let shell = parsed("<189>Nov 26 2026 15:10:04 pe1 %%01SHELL/5/CMDRECORD(s)[2]:Recorded.");
        let c = classify(&shell);
        assert!(
            c.admits(Some("huawei"), None, None) && !c.admits(Some("huawei"), Some("bgp"), None)
        );
        let junos = parsed(
            "<28>Nov 26 15:11:01 mx1 /kernel: tcp_auth_ok: Packet from 203.0.113.9:646 missing MD5 digest",
        );
        let c = classify(&junos);
        assert!(c.admits(Some("juniper"), Some("ldp"), None), "{c:?}");
        let mut bgp = junos.clone();
        bgp.fields.insert("network.protocol", Value::Str("bgp".into()));
        assert_ne!(class_key(&junos), class_key(&bgp));
        // Elsewhere `network.protocol` does not split classes.
        let zeek = |p: &str| {
            ev(&[
                ("event.module", Value::Str("zeek".into())),
                ("event.dataset", Value::Str("zeek.conn".into())),
                ("network.protocol", Value::Str(p.into())),
            ])
        };
        assert_eq!(class_key(&zeek("dns")), class_key(&zeek("http")));
        assert!(!c.admits(Some("juniper"), Some("bgp"), None));
        let srx = parsed(
            "<14>1 2026-11-26T15:12:01+07:00 srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address=\"198.51.100.7\" destination-address=\"10.10.1.20\" destination-port=\"445\" protocol-id=\"6\"]",
        );
        let c = classify(&srx);
        assert!(c.admits(Some("juniper"), None, Some("firewall")), "{c:?}");
        assert!(c.admits(None, None, Some("network_connection")));
    }
}
