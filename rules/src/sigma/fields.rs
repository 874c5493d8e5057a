//! Field mapping: Sigma field names → Sen event paths (issue "Detection", item 2).
//!
//! SigmaHQ rules name fields as the log source does: Windows event data names (`Image`,
//! `TargetUserName`), IIS/W3C names for web servers (`cs-uri-query`), firewall names
//! (`dst_port`), Zeek names (`id.orig_h`). Sen stores Windows events under `winlog.*` and
//! everything else as ECS. Two layers map one onto the other:
//!
//! * **at load**, [`rewrite_rule`] rewrites each compiled rule's field names once, by the
//!   rule's logsource: a `product: windows` rule's bare names go to `winlog.event_data.<name>`
//!   (System names such as `EventID` to their `winlog.*` field); a `product: linux`,
//!   `service: auditd` rule's names are auditd's own (`type`, `syscall`, `SYSCALL`, `exe`, `a0`,
//!   `name`, `key`…): `type` goes to `auditd.message_type` (lower case, as sen-parse writes it;
//!   Sigma's default matching ignores case, so `type: EXECVE` matches) and every other name to
//!   `auditd.data.<name>`; any other non-Windows rule's names with an ECS equivalent in
//!   [`ECS_ALIASES`] go to it (`cs-uri-query` → `url.query`). Dotted names and names with no
//!   mapping are kept (Zeek's `id.orig_h` reads raw Zeek JSON as is).
//! * **at run time**, [`super::view::SigmaView::get_field`] falls back the same way for names
//!   a rule computes while matching (correlation `group-by`, `fieldref`, `expand`
//!   placeholders) and for rules whose logsource does not say which one applies.

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

/// How a rule's field names are mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `winlog.*` (a `product: windows` rule).
    Windows,
    /// auditd's own names under `auditd.*` (a `product: linux`, `service: auditd` rule).
    Auditd,
    /// ECS aliases (a rule for another product, or a web/firewall/dns/proxy category).
    Ecs,
    /// Leave names alone (Zeek, or a rule that may apply to both).
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
        Some("zeek") => Mapping::None,
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
pub fn map_field(name: &str, mapping: Mapping) -> Option<String> {
    if name.contains('.') || name.starts_with('@') {
        return None;
    }
    match mapping {
        Mapping::Windows => Some(match windows_system_field(name) {
            Some(sys) => sys.to_owned(),
            None => format!("winlog.event_data.{name}"),
        }),
        Mapping::Auditd => Some(auditd_field(name)),
        Mapping::Ecs => ecs_aliases(name).first().map(|s| (*s).to_owned()),
        Mapping::None => None,
    }
}

/// The sen-parse path of an auditd field name: `type` → `auditd.message_type`, anything else →
/// `auditd.data.<name>`.
pub fn auditd_field(name: &str) -> String {
    if name == "type" { "auditd.message_type".to_owned() } else { format!("auditd.data.{name}") }
}

/// Rewrite every field name of a compiled rule (detection items, array scopes, `fieldref`
/// targets) for `mapping`.
pub fn rewrite_rule(rule: &mut CompiledRule, mapping: Mapping) {
    if mapping == Mapping::None {
        return;
    }
    for det in rule.detections.values_mut() {
        rewrite_detection(det, mapping);
    }
}

/// Rewrite the field names of one compiled detection (see [`rewrite_rule`]).
pub fn rewrite_detection(d: &mut CompiledDetection, mapping: Mapping) {
    if mapping == Mapping::None {
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

fn rewrite_matcher(m: &mut CompiledMatcher, mapping: Mapping) {
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
