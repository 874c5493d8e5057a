//! Field mapping: Sigma field names → Sen event paths (issue "Detection", item 2).
//!
//! SigmaHQ rules name fields as the log source does: Windows event data names (`Image`,
//! `TargetUserName`), IIS/W3C names for web servers (`cs-uri-query`), firewall names
//! (`dst_port`), Zeek names (`id.orig_h`). Sen stores Windows events under `winlog.*`, Zeek
//! records under `zeek.<log>.*` (sen-parse's Zeek normalizer) and everything else as ECS. Two
//! layers map one onto the other:
//!
//! * **at load**, [`rewrite_rule`] rewrites each compiled rule's field names once, by the
//!   rule's logsource: a `product: windows` rule's bare names go to `winlog.event_data.<name>`
//!   (System names such as `EventID` to their `winlog.*` field); a `product: linux`,
//!   `service: auditd` rule's names are auditd's own (`type`, `syscall`, `SYSCALL`, `exe`, `a0`,
//!   `name`, `key`…): `type` goes to `auditd.message_type` (lower case, as sen-parse writes it;
//!   Sigma's default matching ignores case, so `type: EXECVE` matches) and every other name to
//!   `auditd.data.<name>`; a `product: zeek` rule's Zeek names go to `zeek.<service>.<name>`
//!   (`query` in a `service: dns` rule reads `zeek.dns.query`, `id.resp_p` reads
//!   `zeek.dns.id.resp_p`), and the few non-Zeek names SigmaHQ's Zeek rules use to ECS
//!   ([`ZEEK_ECS`]); a `product: fortigate` rule's names are FortiOS's own (`action`,
//!   `cfgpath`, `srcip` …) and go to `fortinet.firewall.<name>`, where sen-parse keeps every
//!   FortiOS key (`action` there is the log's own, not `event.action`); any other rule's names with an ECS equivalent in [`ECS_ALIASES`] go to it
//!   (`cs-uri-query` → `url.query`). Dotted ECS names and names with no mapping are kept.
//! * **at run time**, `SigmaView::get_field` (rsigma's `Event` trait) falls back the same way for names
//!   a rule computes while matching (correlation `group-by`, `fieldref`, `expand`
//!   placeholders) and for rules whose logsource does not say which one applies (a
//!   `product: zeek` rule without a `service` reads the Zeek log the event came from).

use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule};

use super::view::windows_system_field;

/// Sigma field names (Sysmon generic, W3C/IIS web, firewall, DNS) and their ECS paths, in the
/// order tried.
pub const ECS_ALIASES: &[(&str, &[&str])] = &[
    // process_creation (Sysmon names, as generic rules use them)
    ("Image", &["process.executable"]),
    ("CommandLine", &["process.command_line"]),
    ("ParentImage", &["process.parent.executable"]),
    ("ParentCommandLine", &["process.parent.command_line"]),
    ("ProcessId", &["process.pid"]),
    ("ParentProcessId", &["process.parent.pid"]),
    ("CurrentDirectory", &["process.working_directory"]),
    ("OriginalFileName", &["process.pe.original_file_name"]),
    ("User", &["user.name"]),
    ("TargetFilename", &["file.path"]),
    // network_connection
    ("DestinationIp", &["destination.ip"]),
    ("DestinationPort", &["destination.port"]),
    ("DestinationHostname", &["destination.domain"]),
    ("SourceIp", &["source.ip"]),
    ("SourcePort", &["source.port"]),
    ("Protocol", &["network.transport"]),
    // dns
    ("QueryName", &["dns.question.name"]),
    ("query", &["dns.question.name"]),
    ("record_type", &["dns.question.type"]),
    // webserver / proxy (W3C extended log format names)
    ("c-ip", &["source.ip"]),
    ("cs-method", &["http.request.method"]),
    ("cs-uri-stem", &["url.path"]),
    ("cs-uri-query", &["url.query"]),
    ("c-uri", &["url.original"]),
    ("cs-uri", &["url.original"]),
    ("c-uri-query", &["url.query"]),
    ("c-uri-stem", &["url.path"]),
    ("c-uri-extension", &["url.extension"]),
    ("sc-status", &["http.response.status_code"]),
    ("c-useragent", &["user_agent.original"]),
    ("cs-user-agent", &["user_agent.original"]),
    ("cs-referrer", &["http.request.referrer"]),
    ("cs-referer", &["http.request.referrer"]),
    ("cs-host", &["url.domain", "destination.domain"]),
    ("r-dns", &["url.domain", "destination.domain"]),
    ("cs-version", &["http.version"]),
    ("cs-bytes", &["http.request.bytes"]),
    ("sc-bytes", &["http.response.bytes"]),
    ("cs-username", &["user.name"]),
    ("cs-cookie", &["http.request.cookie"]),
    // firewall
    ("src_ip", &["source.ip"]),
    ("dst_ip", &["destination.ip"]),
    ("src_port", &["source.port"]),
    ("dst_port", &["destination.port"]),
    ("action", &["event.action"]),
];

/// The ECS paths of a Sigma field name, if it has any.
pub fn ecs_aliases(name: &str) -> &'static [&'static str] {
    ECS_ALIASES.iter().find(|(k, _)| *k == name).map(|(_, v)| *v).unwrap_or(&[])
}

/// Zeek record names (Zeek logs `id.orig_h`, `certificate.serial`, `times.modified` …): a
/// dotted field name starting with one of these is a Zeek name, not an ECS one.
pub const ZEEK_RECORDS: &[&str] = &[
    "id",
    "certificate",
    "san",
    "basic_constraints",
    "times",
    "remote_location",
    "seen",
    "data_channel",
    "version",
];

/// Names in `product: zeek` rules that are not Zeek field names (W3C/proxy names and generic
/// firewall names, as `zeek_http_executable_download_from_webdav` uses `c-useragent` and
/// `c-uri`), and the ECS field sen-parse's Zeek normalizer fills from the Zeek field.
pub const ZEEK_ECS: &[(&str, &str)] = &[
    ("c-useragent", "user_agent.original"),
    ("cs-user-agent", "user_agent.original"),
    ("c-uri", "url.original"),
    ("cs-uri", "url.original"),
    ("c-uri-query", "url.query"),
    ("cs-uri-query", "url.query"),
    ("c-uri-stem", "url.path"),
    ("cs-uri-stem", "url.path"),
    ("cs-host", "url.domain"),
    ("r-dns", "url.domain"),
    ("cs-method", "http.request.method"),
    ("sc-status", "http.response.status_code"),
    ("cs-referrer", "http.request.referrer"),
    ("cs-referer", "http.request.referrer"),
    ("c-ip", "source.ip"),
    ("src_ip", "source.ip"),
    ("dst_ip", "destination.ip"),
    ("src_port", "source.port"),
    ("dst_port", "destination.port"),
];

/// The ECS path of a non-Zeek name in a Zeek rule ([`ZEEK_ECS`]).
pub fn zeek_ecs(name: &str) -> Option<&'static str> {
    ZEEK_ECS.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

/// Whether a rule field name is a Zeek field name: a bare name (`query`, `Z`) or one below a
/// Zeek record (`id.resp_h`), and not one of [`ZEEK_ECS`].
pub fn is_zeek_name(name: &str) -> bool {
    if zeek_ecs(name).is_some() || name.starts_with('@') {
        return false;
    }
    match name.split_once('.') {
        None => true,
        Some((first, _)) => ZEEK_RECORDS.contains(&first),
    }
}

/// The event path of a Zeek field of a log: `zeek.<log>.<name>`.
pub fn zeek_path(log: &str, name: &str) -> String {
    let mut p = String::with_capacity(6 + log.len() + name.len());
    p.push_str("zeek.");
    p.push_str(log);
    p.push('.');
    p.push_str(name);
    p
}

/// How a rule's field names are mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// `winlog.*` (a `product: windows` rule).
    Windows,
    /// auditd's own names under `auditd.*` (a `product: linux`, `service: auditd` rule).
    Auditd,
    /// ECS aliases (a rule for another product, or a web/firewall/dns/proxy category).
    Ecs,
    /// A `product: zeek` rule, with its `service` (the Zeek log, lower case) when it names one.
    Zeek(Option<String>),
    /// FortiOS's own names under `fortinet.firewall.*` (a `product: fortigate` rule).
    Fortigate,
    /// Leave names alone (a rule that may apply to several products).
    None,
}

/// The mapping for a rule's logsource.
pub fn mapping_for(
    product: Option<&str>,
    service: Option<&str>,
    category: Option<&str>,
) -> Mapping {
    match product.map(str::to_ascii_lowercase).as_deref() {
        Some("windows") => Mapping::Windows,
        Some("zeek") => Mapping::Zeek(service.map(str::to_ascii_lowercase)),
        Some("fortigate") => Mapping::Fortigate,
        Some("linux") if service.is_some_and(|s| s.eq_ignore_ascii_case("auditd")) => {
            Mapping::Auditd
        }
        Some(_) => Mapping::Ecs,
        None => match category.map(str::to_ascii_lowercase).as_deref() {
            Some("webserver" | "proxy" | "firewall" | "dns") => Mapping::Ecs,
            _ => Mapping::None,
        },
    }
}

/// The event path for one rule field.
pub fn map_field(name: &str, mapping: &Mapping) -> Option<String> {
    if let Mapping::Zeek(service) = mapping {
        if let Some(ecs) = zeek_ecs(name) {
            return Some(ecs.to_owned());
        }
        // Without a service the log is not known before the event: the view resolves the name.
        return match service {
            Some(log) if is_zeek_name(name) => Some(zeek_path(log, name)),
            _ => None,
        };
    }
    if name.contains('.') || name.starts_with('@') {
        return None;
    }
    match mapping {
        Mapping::Windows => Some(match windows_system_field(name) {
            Some(sys) => sys.to_owned(),
            None => format!("winlog.event_data.{name}"),
        }),
        Mapping::Auditd => Some(auditd_field(name)),
        Mapping::Fortigate => Some(fortigate_field(name)),
        Mapping::Ecs => ecs_aliases(name).first().map(|s| (*s).to_owned()),
        Mapping::Zeek(_) | Mapping::None => None,
    }
}

/// The sen-parse path of an auditd field name: `type` → `auditd.message_type`, anything else →
/// `auditd.data.<name>`.
pub fn auditd_field(name: &str) -> String {
    if name == "type" { "auditd.message_type".to_owned() } else { format!("auditd.data.{name}") }
}

/// The sen-parse path of a FortiOS field name (`cfgpath` → `fortinet.firewall.cfgpath`).
pub fn fortigate_field(name: &str) -> String {
    let mut p = String::with_capacity(18 + name.len());
    p.push_str("fortinet.firewall.");
    p.push_str(name);
    p
}

/// Rewrite every field name of a compiled rule (detection items, array scopes, `fieldref`
/// targets) for `mapping`.
pub fn rewrite_rule(rule: &mut CompiledRule, mapping: &Mapping) {
    if *mapping == Mapping::None {
        return;
    }
    for det in rule.detections.values_mut() {
        rewrite_detection(det, mapping);
    }
}

/// Rewrite the field names of one compiled detection (see [`rewrite_rule`]).
pub fn rewrite_detection(d: &mut CompiledDetection, mapping: &Mapping) {
    if *mapping == Mapping::None {
        return;
    }
    match d {
        CompiledDetection::AllOf(items) => {
            for item in items {
                if let Some(f) = &item.field
                    && let Some(m) = map_field(f, mapping)
                {
                    item.field = Some(m);
                }
                rewrite_matcher(&mut item.matcher, mapping);
            }
        }
        CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => {
            ds.iter_mut().for_each(|d| rewrite_detection(d, mapping))
        }
        CompiledDetection::Keywords(m) => rewrite_matcher(m, mapping),
        CompiledDetection::ArrayMatch { field, body, .. } => {
            if let Some(m) = map_field(field, mapping) {
                *field = m;
            }
            // Inside an array scope, names are relative to the member: leave them.
            let _ = body;
        }
        CompiledDetection::Conditional { named, .. } => {
            named.values_mut().for_each(|d| rewrite_detection(d, mapping))
        }
    }
}

fn rewrite_matcher(m: &mut CompiledMatcher, mapping: &Mapping) {
    match m {
        CompiledMatcher::FieldRef { field, .. } => {
            if let Some(mapped) = map_field(field, mapping) {
                *field = mapped;
            }
        }
        CompiledMatcher::Not(inner) => rewrite_matcher(inner, mapping),
        CompiledMatcher::TimestampPart { inner, .. } => rewrite_matcher(inner, mapping),
        CompiledMatcher::AnyOf(ms) | CompiledMatcher::AllOf(ms) => {
            ms.iter_mut().for_each(|m| rewrite_matcher(m, mapping))
        }
        CompiledMatcher::CaseInsensitiveGroup { children, .. } => {
            children.iter_mut().for_each(|m| rewrite_matcher(m, mapping))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::{DetectionEngine, RuleSet, SigmaEngine};

    /// Every field name SigmaHQ's Zeek rules use (rules/network/zeek and the Zeek rules of
    /// rules-emerging-threats, commit 8eaafff1), with its logsource service, and where Sen
    /// reads it.
    const SIGMAHQ_ZEEK: &[(&str, &str, &str)] = &[
        ("dce_rpc", "endpoint", "zeek.dce_rpc.endpoint"),
        ("dce_rpc", "operation", "zeek.dce_rpc.operation"),
        ("smb_files", "path", "zeek.smb_files.path"),
        ("smb_files", "name", "zeek.smb_files.name"),
        ("x509", "certificate.serial", "zeek.x509.certificate.serial"),
        ("dns", "query", "zeek.dns.query"),
        ("dns", "answers", "zeek.dns.answers"),
        ("dns", "rejected", "zeek.dns.rejected"),
        ("dns", "Z", "zeek.dns.Z"),
        ("dns", "qtype_name", "zeek.dns.qtype_name"),
        ("dns", "id.resp_p", "zeek.dns.id.resp_p"),
        ("http", "c-useragent", "user_agent.original"),
        ("http", "c-uri", "url.original"),
        ("http", "resp_mime_types", "zeek.http.resp_mime_types"),
        ("http", "host", "zeek.http.host"),
        ("http", "uri", "zeek.http.uri"),
        ("http", "user_agent", "zeek.http.user_agent"),
        ("http", "method", "zeek.http.method"),
        ("http", "status_code", "zeek.http.status_code"),
        ("http", "client_header_names", "zeek.http.client_header_names"),
        ("http", "request_body_len", "zeek.http.request_body_len"),
        ("http", "id.resp_h", "zeek.http.id.resp_h"),
        ("rdp", "id.orig_h", "zeek.rdp.id.orig_h"),
        ("kerberos", "request_type", "zeek.kerberos.request_type"),
        ("kerberos", "cipher", "zeek.kerberos.cipher"),
        ("kerberos", "service", "zeek.kerberos.service"),
    ];

    #[test]
    fn sigmahq_zeek_field_names_map_to_where_sen_parse_puts_them() {
        for (service, name, want) in SIGMAHQ_ZEEK {
            let m = mapping_for(Some("zeek"), Some(service), None);
            assert_eq!(map_field(name, &m).as_deref(), Some(*want), "{service} {name}");
        }
        // Without a service the view resolves Zeek names at run time; foreign names map now.
        let m = mapping_for(Some("Zeek"), None, None);
        assert_eq!(m, Mapping::Zeek(None));
        assert_eq!(map_field("query", &m), None);
        assert_eq!(map_field("c-uri", &m).as_deref(), Some("url.original"));
        // Already-qualified and ECS names stay.
        let m = mapping_for(Some("zeek"), Some("dns"), None);
        assert_eq!(map_field("zeek.dns.query", &m), None);
        assert_eq!(map_field("destination.ip", &m), None);
        assert_eq!(map_field("dst_ip", &m).as_deref(), Some("destination.ip"));
        assert!(is_zeek_name("basic_constraints.ca") && !is_zeek_name("source.ip"));
        // Other products are unchanged.
        assert_eq!(mapping_for(Some("windows"), Some("security"), None), Mapping::Windows);
        assert_eq!(mapping_for(None, None, Some("dns")), Mapping::Ecs);
    }

    fn zeek_event(json: &str) -> sen_core::event::Event {
        let serde_json::Value::Object(obj) = serde_json::from_str(json).unwrap() else { panic!() };
        let ctx = sen_parse::Context::new(chrono::Utc::now());
        let mut e = sen_core::event::Event::new("z".into(), ctx.received, json);
        sen_parse::normalize_json(&mut e, obj, &ctx);
        e
    }

    fn engine(yaml: &str) -> SigmaEngine {
        let mut set = RuleSet::default();
        set.add_yaml(yaml, std::path::Path::new("t.yml"));
        let (engine, report) = SigmaEngine::new(&set);
        assert_eq!(report.failed, 0, "{:?}", report.errors);
        engine
    }

    fn titles(engine: &SigmaEngine, e: &sen_core::event::Event) -> Vec<String> {
        let mut hits = Vec::new();
        engine.evaluate(e, &mut hits);
        hits.iter().map(|h| engine.rules()[h.rule].title.clone()).collect()
    }

    const RULES: &str = "title: onion
logsource: {product: zeek, service: dns}
detection:
  selection: {query|endswith: '.onion'}
  not_rejected: {rejected: 'true'}
  condition: selection and not not_rejected
---
title: webdav exe
logsource: {product: zeek, service: http}
detection:
  webdav:
    - c-useragent|contains: 'WebDAV'
    - c-uri|contains: 'webdav'
  exe:
    - resp_mime_types|contains: 'dosexec'
    - c-uri|endswith: '.exe'
  condition: webdav and exe
---
title: put public
logsource: {product: zeek, service: http}
detection:
  selection: {user_agent|contains: 'WebDAV', method: 'PUT'}
  filter: {id.resp_h|cidr: ['10.0.0.0/8', '192.168.0.0/16']}
  condition: selection and not filter
---
title: cobalt cert
logsource: {product: zeek, service: x509}
detection:
  selection: {certificate.serial: 8BB00EE}
  condition: selection
---
title: any zeek log
logsource: {product: zeek}
detection:
  selection: {id.resp_p: 4444}
  condition: selection
";

    #[test]
    fn zeek_rules_match_events_sen_parse_normalized() {
        let engine = engine(RULES);
        let dns = zeek_event(
            r#"{"ts":1.6e9,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":5353,"id.resp_h":"10.0.0.1","id.resp_p":53,"query":"abc.onion","qtype_name":"A","rejected":false}"#,
        );
        assert_eq!(titles(&engine, &dns), ["onion"]);
        let rejected = zeek_event(
            r#"{"ts":1.6e9,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":5353,"id.resp_h":"10.0.0.1","id.resp_p":53,"query":"abc.onion","qtype_name":"A","rejected":true}"#,
        );
        assert!(titles(&engine, &rejected).is_empty());
        // A `product: zeek` rule without a service reads the event's own log.
        let c2 = zeek_event(
            r#"{"@stream":"conn","ts":1.6e9,"uid":"C2","id_orig_h":"10.0.0.5","id_orig_p":50000,"id_resp_h":"203.0.113.9","id_resp_p":4444,"proto":"tcp","conn_state":"SF"}"#,
        );
        assert_eq!(titles(&engine, &c2), ["any zeek log"]);
        let get = zeek_event(
            r#"{"_path":"http","ts":1.6e9,"uid":"C3","id.orig_h":"10.0.1.4","id.orig_p":60759,"id.resp_h":"192.168.0.4","id.resp_p":80,"method":"GET","uri":"/webdav/python.exe","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362","resp_mime_types":["application/x-dosexec"]}"#,
        );
        assert_eq!(titles(&engine, &get), ["webdav exe"]);
        let put_private = zeek_event(
            r#"{"_path":"http","ts":1.6e9,"uid":"C3","id.orig_h":"10.0.1.4","id.orig_p":60759,"id.resp_h":"192.168.0.4","id.resp_p":80,"method":"PUT","uri":"/webdav/a.7z","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362"}"#,
        );
        assert!(titles(&engine, &put_private).is_empty());
        let put_public = zeek_event(
            r#"{"_path":"http","ts":1.6e9,"uid":"C3","id.orig_h":"10.0.1.4","id.orig_p":60759,"id.resp_h":"198.51.100.7","id.resp_p":80,"method":"PUT","uri":"/webdav/a.7z","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362"}"#,
        );
        assert_eq!(titles(&engine, &put_public), ["put public"]);
        let cert = zeek_event(
            r#"{"@stream":"x509","ts":1.6e9,"id":"F1","certificate_version":3,"certificate_serial":"8BB00EE"}"#,
        );
        assert_eq!(titles(&engine, &cert), ["cobalt cert"]);
    }

    #[test]
    fn fortigate_rules_read_fortios_names() {
        let m = mapping_for(Some("fortigate"), Some("event"), None);
        assert_eq!(m, Mapping::Fortigate);
        // `action` is FortiOS's own field here, not the ECS alias `event.action`.
        assert_eq!(map_field("action", &m).as_deref(), Some("fortinet.firewall.action"));
        assert_eq!(map_field("cfgpath", &m).as_deref(), Some("fortinet.firewall.cfgpath"));
        assert_eq!(map_field("source.ip", &m), None);
        assert_eq!(
            map_field("action", &mapping_for(None, None, Some("firewall"))).as_deref(),
            Some("event.action")
        );
        let engine = engine(
            "title: fgt\nlogsource: {product: fortigate, service: event}\ndetection:\n  s: {action: Add, cfgpath: system.admin}\n  condition: s\n---\ntitle: fgt any\nlogsource: {product: fortigate}\ndetection:\n  s: {cfgobj|startswith: svc}\n  condition: s\n",
        );
        let line = r#"<189>date=2026-11-26 time=15:00:01 devname="fw" logid="0100044547" type="event" subtype="system" user="admin" action="Add" cfgpath="system.admin" cfgobj="svc_backup""#;
        let ctx = sen_parse::Context::new(chrono::Utc::now());
        let mut e = sen_core::event::Event::new("f".into(), ctx.received, line);
        sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
        let mut got = titles(&engine, &e);
        got.sort();
        assert_eq!(got, ["fgt", "fgt any"]);
        // Another configuration path (administrator profiles) is not an administrator.
        let other = line.replace("\"system.admin\"", "\"system.accprofile\"");
        let mut e = sen_core::event::Event::new("g".into(), ctx.received, other.as_str());
        sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
        assert_eq!(titles(&engine, &e), ["fgt any"]);
    }

    #[test]
    fn builtin_copies_of_operator_rules_are_shadowed_not_errors() {
        let rule = "title: t\nid: 11111111-2222-3333-4444-555555555555\nlogsource: {product: zeek, service: dns}\ndetection:\n  s: {query: x}\n  condition: s\n";
        let mut set = RuleSet::default();
        set.add_yaml(rule, std::path::Path::new("/etc/sen/sigma/t.yml"));
        set.add_yaml(rule, std::path::Path::new("builtin:zeek/t.yml"));
        let (engine, report) = SigmaEngine::new(&set);
        assert_eq!((report.loaded, report.failed, report.shadowed), (1, 0, 1));
        assert_eq!(engine.rules()[0].file, std::path::Path::new("/etc/sen/sigma/t.yml"));
        // Two operator files with one id are still an error.
        set.add_yaml(rule, std::path::Path::new("/etc/sen/sigma/copy.yml"));
        let (_, report) = SigmaEngine::new(&set);
        assert_eq!(report.failed, 1);
    }
}
