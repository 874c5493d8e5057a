//! Zeek logs sent as JSON, normalized to one layout whatever the shipper: ECS (after the
//! conventions of Elastic's Zeek integration) plus every Zeek field under `zeek.<log>.<field>`.
//!
//! [`normalize`] (inside [`crate::normalize_json`]) recognizes a Zeek record in these shapes:
//!
//! * Zeek's own JSON writer (`LogAscii::use_json`): `ts` (epoch seconds, ISO 8601 or epoch
//!   milliseconds), `uid`, dotted `id.orig_h` …; the log's name is not in the record, so it is
//!   inferred from the field set where that is unambiguous ([`infer_log`]), else `unknown`;
//! * the same with `_path` (Zeek's `json-streaming-logs` package, Corelight) and `_write_ts`,
//!   `_system_name`;
//! * `@stream` / `@system` / `@proc` (the Mordor / Security-Datasets captures), often with
//!   underscores for Zeek's record separator (`id_orig_h`, `certificate_serial`), which are put
//!   back to Zeek's dotted names ([`ZEEK_RECORDS`]);
//! * nested records (`"id": {"orig_h": …}`), as some shippers expand dotted keys;
//! * any of these as the text of `message` or `event.original` in a shipper's envelope
//!   (Filebeat or Fluent Bit without a Zeek module): the log's name may then come from the
//!   file name in `log.file.path`, and the envelope's other fields are kept where the Zeek
//!   record sets nothing.
//!
//! The output layout is documented in the crate docs (`lib.rs`, "Zeek logs"). A Zeek record
//! without a readable `ts` keeps everything else and is tagged `_parse_failure`.

use chrono::{DateTime, Utc};
use sen_core::event::{Event, Fields, Value};
use serde_json::{Map, Value as Json};

use crate::ecs::{self, set_int, set_str};
use crate::{Context, Outcome, ParseError, Parser};

/// Zeek record fields written with `_` instead of `.` by some shippers, per log: `(log, prefix)`.
/// `None` as the log: every log. `id_orig_h` becomes `id.orig_h`, `certificate_serial`
/// becomes `certificate.serial`. Only these prefixes are rewritten: `seen_bytes` (files) or
/// `orig_ip_bytes` (conn) are Zeek's own names.
pub(crate) const ZEEK_RECORDS: &[(Option<&str>, &str)] = &[
    (None, "id"),
    (Some("x509"), "certificate"),
    (Some("x509"), "san"),
    (Some("x509"), "basic_constraints"),
    (Some("smb_files"), "times"),
    (Some("notice"), "remote_location"),
    (Some("intel"), "seen"),
    (Some("ftp"), "data_channel"),
    (Some("software"), "version"),
];

/// If `obj` is a Zeek record (directly or inside a shipper's envelope), normalize it into
/// `event` and return `None`; otherwise give the object back untouched.
pub(crate) fn normalize(
    event: &mut Event,
    mut obj: Map<String, Json>,
    ctx: &Context,
    out: &mut Outcome,
) -> Option<Map<String, Json>> {
    if is_zeek(&obj) {
        apply(event, obj, None, ctx, out);
        return None;
    }
    // An envelope whose raw line is a Zeek JSON record.
    let inner_at = ["message", "event.original"]
        .into_iter()
        .find_map(|k| {
            let text = obj.get(k).and_then(Json::as_str).filter(|t| looks_like_object(t))?;
            Some((k, false, text))
        })
        .or_else(|| {
            let nested = obj.get("event")?.get("original")?.as_str()?;
            looks_like_object(nested).then_some(("event", true, nested))
        });
    let Some((key, nested, text)) = inner_at else { return Some(obj) };
    let Ok(Json::Object(inner)) = serde_json::from_str::<Json>(text) else { return Some(obj) };
    if !is_zeek(&inner) {
        return Some(obj);
    }
    event.original = text.to_owned();
    if nested {
        if let Some(Json::Object(ev)) = obj.get_mut("event") {
            ev.remove("original");
        }
    } else {
        obj.remove(key);
    }
    apply(event, inner, Some(obj), ctx, out);
    None
}

fn looks_like_object(s: &str) -> bool {
    let t = s.trim();
    t.starts_with('{') && t.ends_with('}')
}

/// Whether an object is a Zeek log record (see the module docs). Cheap: a few key lookups.
pub(crate) fn is_zeek(obj: &Map<String, Json>) -> bool {
    let key = |k: &str| obj.contains_key(k);
    let ts = matches!(obj.get("ts"), Some(Json::Number(_) | Json::String(_)));
    if matches!(obj.get("_path"), Some(Json::String(_))) && (ts || key("_write_ts") || key("uid")) {
        return true;
    }
    if matches!(obj.get("@stream"), Some(Json::String(_)))
        && (ts || obj.get("@proc").and_then(Json::as_str) == Some("zeek"))
    {
        return true;
    }
    if !ts {
        return false;
    }
    let conn_id = key("id.orig_h")
        || key("id_orig_h")
        || matches!(obj.get("id"), Some(Json::Object(o)) if o.contains_key("orig_h"));
    if conn_id && (key("uid") || key("fuid")) {
        return true;
    }
    if key("fuid") && (key("tx_hosts") || key("rx_hosts") || key("conn_uids") || key("seen_bytes"))
    {
        return true;
    }
    if matches!(obj.get("id"), Some(Json::String(_))) {
        let x509 = obj.iter().any(|(k, v)| {
            k.starts_with("certificate.")
                || k.starts_with("certificate_")
                || (k == "certificate" && v.is_object())
        });
        if x509 || (key("machine") && (key("is_exe") || key("compile_ts"))) {
            return true;
        }
    }
    // Notices name their type `Module::Name`.
    let note = obj.get("note").and_then(Json::as_str).is_some_and(|n| n.contains("::"));
    note || (key("name") && key("peer") && matches!(obj.get("notice"), Some(Json::Bool(_))))
        || (key("software_type") && key("host"))
}

/// A log name from `_path`, `@stream` or a file name: lower case, `[a-z0-9_]` only.
fn clean_log(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    Some(
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect(),
    )
}

/// The log name in a Zeek file name: `conn.log`, `dns.2020-04-30-00-00-00.log`,
/// `conn.00:00:00-01:00:00.log.gz`, `/var/log/zeek/current/http.log`. `None` when the name
/// does not look like a Zeek log file (`NASHUA_conn.log` does not).
fn log_from_path(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    let (stem, rest) = name.split_once('.')?;
    if !rest.contains("log")
        || stem.is_empty()
        || !stem.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    clean_log(stem)
}

/// The Zeek log a record came from, from its fields alone (see the module docs); `None` when
/// the field set does not tell (Zeek's writer does not name the log in the record). Record
/// fields may still be in their underscored form (`certificate_serial`).
pub(crate) fn infer_log(has: &dyn Fn(&str) -> bool) -> Option<&'static str> {
    let any = |ks: &[&str]| ks.iter().any(|k| has(k));
    let log = if has("note") {
        "notice"
    } else if any(&[
        "certificate.serial",
        "certificate.version",
        "certificate.subject",
        "certificate_serial",
        "certificate_version",
        "certificate_subject",
    ]) {
        "x509"
    } else if has("machine") && any(&["is_exe", "compile_ts"]) {
        "pe"
    } else if has("fuid")
        && any(&["tx_hosts", "rx_hosts", "conn_uids", "seen_bytes", "missing_bytes", "timedout"])
    {
        "files"
    } else if any(&["conn_state", "missed_bytes", "orig_pkts", "orig_ip_bytes"]) {
        "conn"
    } else if any(&["qtype", "qtype_name", "qclass", "rcode", "rcode_name"])
        || (has("AA") && has("RD"))
    {
        "dns"
    } else if any(&["call_id", "request_from"]) {
        "sip"
    } else if any(&["helo", "mailfrom", "rcptto", "last_reply"]) {
        "smtp"
    } else if (has("trans_depth")
        && any(&["method", "uri", "host", "status_code", "user_agent", "request_body_len"]))
        || (has("method") && has("uri"))
    {
        "http"
    } else if any(&[
        "established",
        "resumed",
        "cert_chain_fuids",
        "cert_chain_fps",
        "ja3",
        "ssl_history",
    ]) || (has("server_name") && has("cipher"))
    {
        "ssl"
    } else if any(&["request_type", "till", "forwardable"])
        || (has("client") && has("service") && has("cipher"))
    {
        "kerberos"
    } else if any(&["auth_success", "auth_attempts", "host_key", "kex_alg", "hassh"]) {
        "ssh"
    } else if has("command") && any(&["reply_code", "reply_msg"]) {
        "ftp"
    } else if any(&["keyboard_layout", "client_build", "security_protocol"])
        || (has("cookie") && has("result"))
    {
        "rdp"
    } else if has("endpoint") && has("operation") {
        "dce_rpc"
    } else if has("share_type") || (has("path") && has("native_file_system")) {
        "smb_mapping"
    } else if any(&["times.modified", "times_modified"])
        || (has("action") && has("path") && has("name"))
    {
        "smb_files"
    } else if has("analyzer") && has("failure_reason") {
        "dpd"
    } else if has("name") && has("peer") && has("notice") {
        "weird"
    } else if has("username") && any(&["domainname", "server_nb_computer_name"]) {
        "ntlm"
    } else if any(&["assigned_addr", "lease_time", "msg_types"]) {
        "dhcp"
    } else if any(&["seen.indicator", "seen_indicator"]) {
        "intel"
    } else if has("software_type") {
        "software"
    } else if has("tunnel_type") {
        "tunnel"
    } else if has("stratum") && has("poll") {
        "ntp"
    } else if has("get_requests") || (has("community") && has("up_since")) {
        "snmp"
    } else if has("ts_delta") && has("percent_lost") {
        "capture_loss"
    } else {
        return None;
    };
    Some(log)
}

/// Zeek's dotted name for a key a shipper wrote with `_` (see [`ZEEK_RECORDS`]).
fn dotted(log: Option<&str>, key: &str) -> Option<String> {
    if key.contains('.') {
        return None;
    }
    ZEEK_RECORDS.iter().find_map(|(l, prefix)| {
        if l.is_some_and(|l| Some(l) != log) {
            return None;
        }
        let rest = key.strip_prefix(prefix)?.strip_prefix('_')?;
        (!rest.is_empty()).then(|| format!("{prefix}.{rest}"))
    })
}

fn rename_records(flat: Fields, log: Option<&str>) -> Fields {
    let mut out = Fields::with_capacity(flat.len());
    for (k, v) in flat {
        match dotted(log, &k) {
            // A record written both ways keeps the dotted (Zeek's own) value.
            Some(d) => {
                out.entry(d).or_insert(v);
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    out
}

/// One Zeek record's fields by Zeek's (dotted) name.
struct Rec {
    f: Fields,
}

impl Rec {
    fn get(&self, k: &str) -> Option<&Value> {
        self.f.get(k)
    }

    /// Text, unless empty or Zeek's unset marker `-`.
    fn str(&self, k: &str) -> Option<&str> {
        match self.f.get(k) {
            Some(Value::Str(s)) if !s.is_empty() && s != "-" => Some(s),
            _ => None,
        }
    }

    fn int(&self, k: &str) -> Option<i64> {
        self.f.get(k).and_then(Value::as_i64)
    }

    fn float(&self, k: &str) -> Option<f64> {
        self.f.get(k).and_then(Value::as_f64).filter(|f| f.is_finite())
    }

    fn bool(&self, k: &str) -> Option<bool> {
        match self.f.get(k)? {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => match s.as_str() {
                "T" | "true" => Some(true),
                "F" | "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Copy the texts of `(to, from)` pairs that are set: `from` in the record, `to` in `e`.
    fn copy_strs(&self, e: &mut Event, pairs: &[(&str, &str)]) {
        for &(to, from) in pairs {
            if let Some(v) = self.str(from) {
                set_str(e, to, v);
            }
        }
    }

    /// Copy the integers of `(to, from)` pairs that are set: `from` in the record, `to` in `e`.
    fn copy_ints(&self, e: &mut Event, pairs: &[(&str, &str)]) {
        for &(to, from) in pairs {
            if let Some(n) = self.int(from) {
                set_int(e, to, n);
            }
        }
    }

    /// The texts of a set/vector (or of a single value).
    fn strs(&self, k: &str) -> Vec<String> {
        match self.f.get(k) {
            Some(Value::List(items)) => {
                items.iter().map(Value::to_text).filter(|s| !s.is_empty() && s != "-").collect()
            }
            Some(Value::Json(_)) | None => Vec::new(),
            Some(other) => {
                let s = other.to_text();
                if s.is_empty() || s == "-" { Vec::new() } else { vec![s] }
            }
        }
    }
}

/// A Zeek time (`ts`, `times.modified`, `certificate.not_valid_before` …): epoch seconds as a
/// number or text, epoch milliseconds (Zeek's `JSON::TS_MILLIS`), or ISO 8601
/// (`JSON::TS_ISO8601`; a zone-less time is in the context's zone).
fn zeek_time(v: &Value, ctx: &Context) -> Option<DateTime<Utc>> {
    match v {
        Value::Float(f) => epoch_seconds(*f),
        Value::Int(n) if n.unsigned_abs() >= 100_000_000_000 => DateTime::from_timestamp_millis(*n),
        Value::Int(n) => DateTime::from_timestamp(*n, 0),
        Value::Time(t) => Some(*t),
        Value::Str(s) => {
            let s = s.trim();
            if let Some(t) = crate::time::epoch(s) {
                return Some(t);
            }
            match crate::time::iso8601(s.as_bytes()) {
                Some((t, n)) if n == s.len() => t.resolve(ctx),
                _ => None,
            }
        }
        _ => None,
    }
}

fn epoch_seconds(f: f64) -> Option<DateTime<Utc>> {
    // Up to the year 5138 in seconds; microseconds stay exact in an f64 up to 2^53.
    if !f.is_finite() || !(0.0..1e11).contains(&f) {
        return None;
    }
    DateTime::from_timestamp_micros((f * 1e6).round() as i64)
}

/// Seconds (Zeek `interval`) as ECS nanoseconds.
fn nanos(secs: f64) -> Option<i64> {
    (secs.is_finite() && (0.0..9.0e9).contains(&secs)).then(|| (secs * 1e9).round() as i64)
}

/// Keys a shipper adds to a Zeek record that are not fields of the log.
const META: [&str; 5] = ["_path", "@stream", "_system_name", "@system", "@proc"];

/// Normalize one Zeek record (see [`normalize`]); `envelope`: the shipper's object around it.
/// Inside a syslog message the syslog `message` stays.
pub(crate) fn apply(
    event: &mut Event,
    mut obj: Map<String, Json>,
    envelope: Option<Map<String, Json>>,
    ctx: &Context,
    out: &mut Outcome,
) {
    out.push(Parser::Zeek);
    let mut meta: [Option<String>; 5] = Default::default();
    for (slot, k) in meta.iter_mut().zip(META) {
        if let Some(Json::String(s)) = obj.get(k) {
            *slot = Some(s.clone());
            obj.remove(k);
        }
    }
    let [path, stream, system_name, system, proc_] = meta;
    // The raw text a converter kept (`sen ingest` of a Zeek TSV file keeps the TSV line).
    if let Some(Json::String(s)) = obj.remove("event.original") {
        event.original = s;
    } else if let Some(Json::Object(ev)) = obj.get_mut("event")
        && let Some(Json::String(s)) = ev.remove("original")
    {
        event.original = s;
        if ev.is_empty() {
            obj.remove("event");
        }
    }
    // A Logstash-style envelope inside the record: `@timestamp` is when it was read.
    let read_time = obj.remove("@timestamp");
    let flat = sen_core::event::flatten_json(Json::Object(obj)).unwrap_or_default();
    let flat = rename_records(flat, None);
    let file_hint = envelope.as_ref().and_then(|env| {
        let p = env
            .get("log.file.path")
            .or_else(|| env.get("log")?.get("file")?.get("path"))?
            .as_str()?;
        log_from_path(p)
    });
    let log = path
        .as_deref()
        .or(stream.as_deref())
        .and_then(clean_log)
        .or(file_hint)
        .or_else(|| infer_log(&|k| flat.contains_key(k)).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let rec = Rec { f: rename_records(flat, Some(&log)) };

    ecs::module(event, "zeek", &format!("zeek.{log}"));
    let product = proc_.as_deref().and_then(clean_log);
    set_str(event, "observer.product", product.as_deref().unwrap_or("zeek"));
    if let Some(h) = system_name.as_deref().or(system.as_deref()).filter(|h| !h.is_empty()) {
        set_str(event, "observer.hostname", h);
    }
    match rec.get("ts").and_then(|v| zeek_time(v, ctx)) {
        Some(t) => event.timestamp = t,
        None => {
            let why = match rec.get("ts") {
                Some(v) => format!("`ts` is not a time: {:?}", cut(&v.to_text(), 64)),
                None => "the record has no `ts`".to_owned(),
            };
            crate::json::reject(event, out, ParseError::new("zeek", why));
        }
    }
    common(event, &rec);
    per_log(event, &log, &rec, ctx);

    let prefix = format!("zeek.{log}.");
    for (k, v) in rec.f {
        event.fields.insert(format!("{prefix}{k}"), v);
    }
    if let Some(Value::Time(t)) = read_time.and_then(|v| Value::from_json("@timestamp", v)) {
        event.fields.entry("event.created".to_owned()).or_insert(Value::Time(t));
    }
    if let Some(env) = envelope {
        keep_envelope(event, env);
    }
}

fn cut(s: &str, n: usize) -> &str {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The shipper's own fields, where the Zeek record set nothing (its `@timestamp`, the read
/// time, becomes `event.created`).
fn keep_envelope(event: &mut Event, env: Map<String, Json>) {
    let Ok(flat) = sen_core::event::flatten_json(Json::Object(env)) else { return };
    for (k, v) in flat {
        if k == "@timestamp" {
            if let Value::Time(t) = v {
                event.fields.entry("event.created".to_owned()).or_insert(Value::Time(t));
            }
            continue;
        }
        if event.fields.contains_key(&k) {
            continue;
        }
        crate::json::put_explicit(event, k, v);
    }
}

/// Fields every log with a connection id or uid shares.
fn common(e: &mut Event, r: &Rec) {
    let transport = r.str("proto").map(str::to_ascii_lowercase);
    let icmp = transport.as_deref().is_some_and(|t| t.starts_with("icmp"));
    for (side, h, p) in
        [("source", "id.orig_h", "id.orig_p"), ("destination", "id.resp_h", "id.resp_p")]
    {
        if let Some(ip) = r.str(h) {
            ecs::set_endpoint(e, side, ip);
        }
        // For ICMP Zeek logs type and code as ports: they are not ports.
        if !icmp && let Some(port) = r.int(p).filter(|p| (0..=65535).contains(p)) {
            set_int(e, &ecs::join(side, "port"), port);
        }
    }
    if let Some(uid) = r.str("uid") {
        set_str(e, "zeek.session_id", uid);
    }
    if let Some(t) = transport {
        set_str(e, "network.transport", &t);
    }
}

/// `event.category` / `event.type`, `network.protocol` and `network.transport` (when the log
/// does not say) of each log.
type Shape =
    (&'static [&'static str], &'static [&'static str], Option<&'static str>, Option<&'static str>);

fn shape(log: &str) -> Shape {
    const NET: &[&str] = &["network"];
    const CP: &[&str] = &["connection", "protocol"];
    const CPI: &[&str] = &["connection", "protocol", "info"];
    const INFO: &[&str] = &["info"];
    match log {
        "conn" => (NET, &["connection"], None, None),
        "dns" => (NET, CPI, Some("dns"), None),
        "http" => (&["network", "web"], CPI, Some("http"), Some("tcp")),
        "ssl" => (NET, CP, Some("tls"), Some("tcp")),
        "x509" => (NET, INFO, None, None),
        "files" | "pe" => (&["file"], INFO, None, None),
        "kerberos" => (&["network", "authentication"], CPI, Some("kerberos"), None),
        "ntlm" => (&["network", "authentication"], CPI, Some("ntlm"), None),
        "smb_files" => (&["network", "file"], CP, Some("smb"), Some("tcp")),
        "smb_mapping" => (NET, CPI, Some("smb"), Some("tcp")),
        "dce_rpc" => (NET, CP, Some("dce_rpc"), Some("tcp")),
        "notice" => (&["intrusion_detection"], INFO, None, None),
        "weird" => (NET, INFO, None, None),
        "dpd" => (NET, &["connection", "info"], None, None),
        "ssh" => (NET, CP, Some("ssh"), Some("tcp")),
        "ftp" => (NET, CP, Some("ftp"), Some("tcp")),
        "smtp" => (NET, CP, Some("smtp"), Some("tcp")),
        "rdp" => (NET, CP, Some("rdp"), Some("tcp")),
        "dhcp" => (NET, CPI, Some("dhcp"), Some("udp")),
        "sip" => (NET, CP, Some("sip"), None),
        "snmp" => (NET, CP, Some("snmp"), Some("udp")),
        "ntp" => (NET, CP, Some("ntp"), Some("udp")),
        "tunnel" => (NET, &["connection"], None, None),
        "software" => (&["host"], INFO, None, None),
        "intel" => (&["threat"], &["indicator"], None, None),
        _ => (&[], &[], None, None),
    }
}

fn per_log(e: &mut Event, log: &str, r: &Rec, ctx: &Context) {
    let (categories, types, protocol, transport) = shape(log);
    if categories.is_empty() && (r.get("id.orig_h").is_some() || r.get("uid").is_some()) {
        ecs::categorize(e, &["network"], &["connection"]);
    } else {
        ecs::categorize(e, categories, types);
    }
    if let Some(p) = protocol {
        set_str(e, "network.protocol", p);
    }
    if let Some(t) = transport {
        e.fields.entry("network.transport".to_owned()).or_insert_with(|| Value::Str(t.to_owned()));
    }
    match log {
        "conn" => conn(e, r),
        "dns" => dns(e, r),
        "http" => http(e, r),
        "ssl" => ssl(e, r),
        "x509" => x509(e, r, ctx),
        "files" => files(e, r),
        "kerberos" => {
            if let Some(t) = r.str("request_type") {
                set_str(e, "event.action", t);
            }
            outcome(e, r.bool("success"));
            if let Some(c) = r.str("client") {
                match c.split_once('/') {
                    Some((user, realm)) => {
                        ecs::set_user(e, "user.name", user);
                        set_str(e, "user.domain", realm);
                    }
                    None => ecs::set_user(e, "user.name", c),
                }
            }
        }
        "ntlm" => {
            if let Some(u) = r.str("username") {
                ecs::set_user(e, "user.name", u);
            }
            if let Some(d) = r.str("domainname") {
                set_str(e, "user.domain", d);
            }
            outcome(e, r.bool("success"));
        }
        "smb_files" => smb_files(e, r, ctx),
        "dce_rpc" => {
            if let Some(op) = r.str("operation") {
                set_str(e, "event.action", op);
            }
        }
        "notice" => {
            set_str(e, "event.kind", "alert");
            if let Some(n) = r.str("note") {
                set_str(e, "rule.name", n);
            }
            if let Some(m) = r.str("msg") {
                e.fields.entry("message".to_owned()).or_insert_with(|| Value::Str(m.to_owned()));
            }
            if r.get("id.orig_h").is_none() {
                if let Some(s) = r.str("src") {
                    ecs::set_endpoint(e, "source", s);
                }
                if let Some(d) = r.str("dst") {
                    ecs::set_endpoint(e, "destination", d);
                }
                if let Some(p) = r.int("p").filter(|p| (0..=65535).contains(p)) {
                    set_int(e, "destination.port", p);
                }
            }
        }
        "weird" => {
            if let Some(n) = r.str("name") {
                set_str(e, "event.action", n);
            }
        }
        "dpd" => {
            if let Some(a) = r.str("analyzer") {
                set_str(e, "network.protocol", &a.to_ascii_lowercase());
            }
        }
        "ssh" => {
            if let Some(ok) = r.bool("auth_success") {
                e.push("event.category", "authentication");
                e.push("event.type", "info");
                outcome(e, Some(ok));
            }
        }
        "ftp" => {
            if let Some(u) = r.str("user") {
                ecs::set_user(e, "user.name", u);
            }
            if let Some(c) = r.str("command") {
                set_str(e, "event.action", c);
            }
        }
        _ => {}
    }
}

fn outcome(e: &mut Event, ok: Option<bool>) {
    if let Some(ok) = ok {
        set_str(e, "event.outcome", if ok { "success" } else { "failure" });
    }
}

fn conn(e: &mut Event, r: &Rec) {
    if let Some(s) = r.str("service") {
        set_str(e, "network.protocol", &s.to_ascii_lowercase());
    }
    if let Some(d) = r.float("duration").and_then(nanos) {
        set_int(e, "event.duration", d);
    }
    r.copy_ints(
        e,
        &[
            ("source.bytes", "orig_ip_bytes"),
            ("destination.bytes", "resp_ip_bytes"),
            ("source.packets", "orig_pkts"),
            ("destination.packets", "resp_pkts"),
        ],
    );
    if let (Some(a), Some(b)) = (r.int("orig_ip_bytes"), r.int("resp_ip_bytes")) {
        set_int(e, "network.bytes", a.saturating_add(b));
    }
    if let (Some(a), Some(b)) = (r.int("orig_pkts"), r.int("resp_pkts")) {
        set_int(e, "network.packets", a.saturating_add(b));
    }
    for (to, from) in [("source.mac", "orig_l2_addr"), ("destination.mac", "resp_l2_addr")] {
        if let Some(m) = r.str(from).and_then(ecs::ecs_mac) {
            set_str(e, to, &m);
        }
    }
    let direction = match (r.bool("local_orig"), r.bool("local_resp")) {
        (Some(true), Some(true)) => Some("internal"),
        (Some(true), Some(false)) => Some("outbound"),
        (Some(false), Some(true)) => Some("inbound"),
        (Some(false), Some(false)) => Some("external"),
        _ => None,
    };
    if let Some(d) = direction {
        set_str(e, "network.direction", d);
    }
    // Connection states (Zeek's conn.log documentation): which ones began and ended.
    match r.str("conn_state") {
        Some("S0" | "S1" | "REJ") => e.push("event.type", "start"),
        Some("SF") => {
            e.push("event.type", "start");
            e.push("event.type", "end");
        }
        Some(_) => e.push("event.type", "info"),
        None => {}
    }
}

fn dns(e: &mut Event, r: &Rec) {
    if let Some(id) = r.get("trans_id") {
        set_str(e, "dns.id", &id.to_text());
    }
    if let Some(q) = r.str("query") {
        set_str(e, "dns.question.name", q);
    }
    if let Some(t) = r.str("qtype_name") {
        set_str(e, "dns.question.type", t);
    }
    let class = match r.int("qclass") {
        Some(1) => Some("IN"),
        Some(3) => Some("CH"),
        Some(4) => Some("HS"),
        Some(254) => Some("NONE"),
        Some(255) => Some("ANY"),
        _ => None,
    };
    if let Some(c) = class {
        set_str(e, "dns.question.class", c);
    }
    if let Some(rc) = r.str("rcode_name") {
        set_str(e, "dns.response_code", rc);
    }
    for flag in ["AA", "TC", "RD", "RA"] {
        if r.bool(flag) == Some(true) {
            e.push("dns.header_flags", flag);
        }
    }
    let answered = r.get("rcode").is_some() || r.get("rcode_name").is_some();
    set_str(e, "dns.type", if answered { "answer" } else { "query" });
    let answers = r.strs("answers");
    if !answers.is_empty() {
        let ttls: Vec<f64> = match r.get("TTLs") {
            Some(Value::List(t)) => t.iter().filter_map(Value::as_f64).collect(),
            _ => Vec::new(),
        };
        let with_ttl = ttls.len() == answers.len();
        let objs: Vec<Json> = answers
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut o = Map::new();
                o.insert("data".into(), Json::String(a.clone()));
                if with_ttl && let Some(t) = ttls.get(i).filter(|t| t.is_finite() && **t >= 0.0) {
                    o.insert("ttl".into(), Json::from(t.round() as i64));
                }
                Json::Object(o)
            })
            .collect();
        e.fields.insert("dns.answers".to_owned(), Value::json(Json::Array(objs)));
        let ips: Vec<Value> =
            answers.iter().filter_map(|a| ecs::parse_ip(a)).map(Value::Ip).collect();
        if !ips.is_empty() {
            e.fields.insert("dns.resolved_ip".to_owned(), Value::List(ips));
        }
    }
    if let Some(d) = r.float("rtt").and_then(nanos) {
        set_int(e, "event.duration", d);
    }
}

fn http(e: &mut Event, r: &Rec) {
    if let Some(m) = r.str("method") {
        set_str(e, "http.request.method", m);
        set_str(e, "event.action", m);
    }
    if let Some(u) = r.str("uri") {
        ecs::set_url_target(e, u);
    }
    if let Some(h) = r.str("host") {
        set_str(e, "url.domain", host_without_port(h));
    }
    if let Some(ua) = r.str("user_agent") {
        set_str(e, "user_agent.original", ua);
    }
    if let Some(rf) = r.str("referrer") {
        set_str(e, "http.request.referrer", rf);
    }
    if let Some(v) = r.str("version") {
        set_str(e, "http.version", v);
    }
    if let Some(s) = r.int("status_code").filter(|s| (100..1000).contains(s)) {
        set_int(e, "http.response.status_code", s);
        set_str(e, "event.outcome", ecs::http_outcome(s as u16));
    }
    r.copy_ints(
        e,
        &[
            ("http.request.body.bytes", "request_body_len"),
            ("http.response.body.bytes", "response_body_len"),
        ],
    );
    for (to, from) in [
        ("http.request.mime_type", "orig_mime_types"),
        ("http.response.mime_type", "resp_mime_types"),
    ] {
        if let Some(m) = r.strs(from).into_iter().next() {
            set_str(e, to, &m);
        }
    }
    if let Some(u) = r.str("username") {
        set_str(e, "url.username", u);
        ecs::set_user(e, "user.name", u);
    }
}

/// `example.com:8080` → `example.com`; IPv6 literals keep their colons.
fn host_without_port(h: &str) -> &str {
    if let Some(inner) = h.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    match h.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => h,
    }
}

fn ssl(e: &mut Event, r: &Rec) {
    if let Some(v) = r.str("version") {
        let lower = v.to_ascii_lowercase();
        let parsed = ["dtlsv", "tlsv", "sslv"].iter().find_map(|p| {
            let digits = lower.strip_prefix(p)?;
            let proto = &p[..p.len() - 1];
            let version = match digits.len() {
                1 => format!("{digits}.0"),
                2 => format!("{}.{}", &digits[..1], &digits[1..]),
                _ => return None,
            };
            digits.bytes().all(|b| b.is_ascii_digit()).then(|| (proto.to_owned(), version))
        });
        if let Some((proto, version)) = parsed {
            set_str(e, "tls.version_protocol", &proto);
            set_str(e, "tls.version", &version);
        }
    }
    r.copy_strs(
        e,
        &[
            ("tls.cipher", "cipher"),
            ("tls.curve", "curve"),
            ("tls.next_protocol", "next_protocol"),
            ("tls.client.server_name", "server_name"),
            ("tls.server.subject", "subject"),
            ("tls.server.issuer", "issuer"),
            ("tls.client.subject", "client_subject"),
            ("tls.client.issuer", "client_issuer"),
            ("tls.client.ja3", "ja3"),
            ("tls.server.ja3s", "ja3s"),
        ],
    );
    if let Some(sni) = r.str("server_name")
        && ecs::parse_ip(sni).is_none()
    {
        set_str(e, "destination.domain", sni);
    }
    if let Some(h) = r.str("resp_certificate_sha1") {
        set_str(e, "tls.server.hash.sha1", &h.to_ascii_uppercase());
    }
    for (to, from) in [("tls.resumed", "resumed"), ("tls.established", "established")] {
        if let Some(b) = r.bool(from) {
            e.fields.insert(to.to_owned(), Value::Bool(b));
        }
    }
}

/// The attributes of an X.509 distinguished name Zeek writes (`CN=a,O=b\, c,C=US`), under
/// ECS's names.
fn dn_parts(dn: &str) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = dn.chars();
    let mut flush = |cur: &mut String| {
        if let Some((k, v)) = cur.split_once('=') {
            let name = match k.trim() {
                "CN" => Some("common_name"),
                "O" => Some("organization"),
                "OU" => Some("organizational_unit"),
                "C" => Some("country"),
                "ST" => Some("state_or_province"),
                "L" => Some("locality"),
                _ => None,
            };
            if let Some(n) = name {
                parts.push((n, v.trim().to_owned()));
            }
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' => flush(&mut cur),
            c => cur.push(c),
        }
    }
    flush(&mut cur);
    parts
}

fn x509(e: &mut Event, r: &Rec, ctx: &Context) {
    for (side, key) in [("subject", "certificate.subject"), ("issuer", "certificate.issuer")] {
        let Some(dn) = r.str(key) else { continue };
        set_str(e, &format!("file.x509.{side}.distinguished_name"), dn);
        for (name, v) in dn_parts(dn) {
            e.push(&format!("file.x509.{side}.{name}"), &v);
        }
    }
    r.copy_strs(
        e,
        &[
            ("file.x509.serial_number", "certificate.serial"),
            ("file.x509.public_key_algorithm", "certificate.key_alg"),
            ("file.x509.signature_algorithm", "certificate.sig_alg"),
            ("file.x509.public_key_curve", "certificate.curve"),
        ],
    );
    if let Some(v) = r.get("certificate.version") {
        set_str(e, "file.x509.version_number", &v.to_text());
    }
    r.copy_ints(
        e,
        &[
            ("file.x509.public_key_size", "certificate.key_length"),
            ("file.x509.public_key_exponent", "certificate.exponent"),
        ],
    );
    for (to, from) in [
        ("file.x509.not_before", "certificate.not_valid_before"),
        ("file.x509.not_after", "certificate.not_valid_after"),
    ] {
        if let Some(t) = r.get(from).and_then(|v| zeek_time(v, ctx)) {
            e.fields.insert(to.to_owned(), Value::Time(t));
        }
    }
    for k in ["san.dns", "san.uri", "san.email", "san.ip"] {
        for n in r.strs(k) {
            e.push("file.x509.alternative_names", &n);
        }
    }
}

fn files(e: &mut Event, r: &Rec) {
    if let Some(n) = r.str("filename") {
        set_str(e, "file.name", n);
    }
    if let Some(m) = r.str("mime_type") {
        set_str(e, "file.mime_type", m);
    }
    if let Some(n) = r.int("total_bytes").or_else(|| r.int("seen_bytes")) {
        set_int(e, "file.size", n);
    }
    for alg in ["md5", "sha1", "sha256"] {
        if let Some(h) = r.str(alg) {
            set_str(e, &format!("file.hash.{alg}"), h);
            e.push("related.hash", h);
        }
    }
    for (side, key) in [("server", "tx_hosts"), ("client", "rx_hosts")] {
        let hosts = r.strs(key);
        for (i, h) in hosts.iter().enumerate() {
            if let Some(ip) = ecs::parse_ip(h) {
                if i == 0 {
                    e.fields.entry(ecs::join(side, "ip")).or_insert(Value::Ip(ip));
                }
                ecs::push_ip(e, "related.ip", ip);
            }
        }
    }
    if r.get("uid").is_none()
        && let Some(uid) = r.strs("conn_uids").into_iter().next()
    {
        set_str(e, "zeek.session_id", &uid);
    }
}

fn smb_files(e: &mut Event, r: &Rec, ctx: &Context) {
    let action = r.str("action");
    if let Some(a) = action {
        set_str(e, "event.action", a);
    }
    e.push(
        "event.type",
        match action {
            Some("SMB::FILE_DELETE") => "deletion",
            Some("SMB::FILE_RENAME" | "SMB::FILE_SET_ATTRIBUTE") => "change",
            _ => "info",
        },
    );
    if let Some(n) = r.str("name") {
        set_str(e, "file.name", n);
        if let Some(p) = r.str("path") {
            set_str(e, "file.path", &format!("{p}\\{n}"));
        }
    }
    if let Some(n) = r.int("size") {
        set_int(e, "file.size", n);
    }
    let times = [
        ("file.accessed", "times.accessed"),
        ("file.ctime", "times.changed"),
        ("file.created", "times.created"),
        ("file.mtime", "times.modified"),
    ];
    for (to, from) in times {
        if let Some(t) = r.get(from).and_then(|v| zeek_time(v, ctx)) {
            e.fields.insert(to.to_owned(), Value::Time(t));
        }
    }
}

#[cfg(test)]
mod tests;
