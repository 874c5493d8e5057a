//! Juniper Junos OS syslog messages (MX/PTX routers, EX/QFX switches, SRX firewalls).
//!
//! Shapes read:
//!
//! * the standard format: `rpd[1234]: BGP_IO_ERROR_CLOSE_SESSION: BGP peer 10.0.0.2 …`,
//!   `mgd[5]: UI_COMMIT: User 'admin' requested 'commit' operation`, `RT_FLOW: RT_FLOW_SESSION_CREATE:
//!   session created 10.0.0.1/51234->8.8.8.8/53 …` (program, then the message tag);
//! * the kernel's TCP-MD5 messages: `/kernel: tcp_auth_ok: Packet from 192.0.2.2:179 missing MD5
//!   digest`;
//! * structured data (`structured-data` syslog, SRX `sd-syslog` streams): RFC 5424 with the tag as
//!   MSGID and the fields in `[junos@2636.… key="value" …]`, received as RFC 5424 or as the
//!   message of a relay's BSD header (`… junos-flow: 2017-09-23T13:54:54.803Z srx1 RT_FLOW -
//!   RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.39 source-address="…" …]`).
//!
//! `RT_*` messages (SRX security: flows, screens, IDP, UTM) are `juniper.srx`, everything else
//! `juniper.junos`.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use sen_core::event::Event;

use crate::ecs::{self, categorize, set_str};
use crate::syslog::{self, Syslog5424};

use super::huawei::protocol_by_port;

/// Daemons whose messages start with a Junos tag (`BGP_…:`, `UI_…:`): `RT_*` and these.
fn is_junos_program(p: &str) -> bool {
    p.starts_with("RT_")
        || matches!(
            p,
            "rpd"
                | "mgd"
                | "chassisd"
                | "dcd"
                | "kmd"
                | "alarmd"
                | "mib2d"
                | "dfwd"
                | "bfdd"
                | "ppmd"
                | "lacpd"
                | "l2ald"
                | "jlaunchd"
                | "craftd"
                | "cosd"
        )
}

/// One Junos message, whatever shape it came in.
#[derive(Debug, Default)]
struct Junos<'a> {
    /// The daemon (`rpd`, `RT_FLOW`, `kernel`).
    process: Option<&'a str>,
    /// The message tag (`BGP_IO_ERROR_CLOSE_SESSION`, `RT_FLOW_SESSION_CREATE`).
    tag: Option<&'a str>,
    /// Structured data parameters (`source-address` …).
    params: Vec<(&'a str, Cow<'a, str>)>,
    /// The message text after the tag.
    text: &'a str,
}

/// A Junos tag: `[A-Z][A-Z0-9_]+` with an underscore.
fn is_tag(s: &str) -> bool {
    s.len() >= 3
        && s.len() <= 64
        && s.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && s.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        && s.contains('_')
}

/// `TAG: text` at the start of `msg`.
fn split_tag(msg: &str) -> Option<(&str, &str)> {
    let (tag, rest) = msg.split_once(':')?;
    if !is_tag(tag) || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((tag, rest.trim()))
}

/// The junos element's parameters.
fn junos_params<'a>(sd: &[syslog::SdElement<'a>]) -> Option<Vec<(&'a str, Cow<'a, str>)>> {
    let el = sd.iter().find(|el| el.id.starts_with("junos@"))?;
    Some(el.params.clone())
}

/// An RFC 5424 message from Junos (structured data `junos@…`, or a Junos daemon with a tag as
/// MSGID). Returns whether it was one.
pub(crate) fn apply_5424(e: &mut Event, s: &Syslog5424<'_>) -> bool {
    let params = junos_params(&s.structured_data);
    let process = s.appname;
    let junos_program = process.is_some_and(is_junos_program);
    if params.is_none() && !(junos_program && s.msgid.is_some_and(is_tag)) {
        return false;
    }
    let j = Junos {
        process,
        tag: s.msgid.filter(|m| is_tag(m)),
        params: params.unwrap_or_default(),
        text: s.message_text().unwrap_or_default(),
    };
    apply(e, &j);
    true
}

static SD_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"[junos@"));

/// A syslog message body from Junos, by program and content. Returns whether it was one.
pub(crate) fn parse(e: &mut Event, program: &str, msg: &str) -> bool {
    let msg = msg.trim();
    if SD_FINDER.find(msg.as_bytes()).is_some() {
        return structured_in_message(e, program, msg);
    }
    if program == "kernel" && msg.starts_with("tcp_auth_ok:") {
        let j = Junos { process: Some("kernel"), text: msg, ..Junos::default() };
        apply(e, &j);
        return true;
    }
    if !is_junos_program(program) {
        return false;
    }
    let Some((tag, text)) = split_tag(msg) else { return false };
    apply(e, &Junos { process: Some(program), tag: Some(tag), params: Vec::new(), text });
    true
}

/// Structured data in a BSD message: a relayed RFC 5424 body without `<PRI>` and version
/// (`TIMESTAMP HOST APP PROCID MSGID [junos@…] MSG`), or `TAG [junos@…] MSG`.
fn structured_in_message(e: &mut Event, program: &str, msg: &str) -> bool {
    let body = format!("1 {msg}");
    if let Some((_, s)) = syslog::parse_5424_lenient(&body)
        && let Some(params) = junos_params(&s.structured_data)
    {
        if let Some(t) = s.timestamp {
            e.timestamp = t.with_timezone(&chrono::Utc);
        }
        if let Some(h) = s.hostname {
            set_str(e, "observer.hostname", h);
            set_str(e, "observer.name", h);
        }
        let j = Junos {
            process: s.appname,
            tag: s.msgid.filter(|m| is_tag(m)),
            params,
            text: s.message_text().unwrap_or_default(),
        };
        apply(e, &j);
        return true;
    }
    let (tag, rest) = msg.split_once(' ').unwrap_or((msg, ""));
    let tag = tag.trim_end_matches(':');
    if !is_tag(tag) {
        return false;
    }
    let Some((sd, text)) = syslog::parse_sd(rest.trim_start()) else { return false };
    let Some(params) = junos_params(&sd) else { return false };
    let process = (!program.is_empty()).then_some(program);
    apply(e, &Junos { process, tag: Some(tag), params, text });
    true
}

/// `a/p->b/q` (RT_FLOW text): the two addresses and ports.
fn flow_tuple(text: &str) -> Option<(&str, &str, &str, &str)> {
    let arrow = text.find("->")?;
    let left = text.get(..arrow)?.rsplit(' ').next()?;
    let right = text.get(arrow + 2..)?.split(' ').next()?;
    let (sa, sp) = left.rsplit_once('/')?;
    let (da, dp) = right.rsplit_once('/')?;
    Some((sa, sp, da, dp))
}

fn apply(e: &mut Event, j: &Junos<'_>) {
    let srx = j.process.is_some_and(|p| p.starts_with("RT_"))
        || j.tag.is_some_and(|t| t.starts_with("RT_"));
    let ds = if srx { "srx" } else { "junos" };
    ecs::module(e, "juniper", if srx { "juniper.srx" } else { "juniper.junos" });
    set_str(e, "observer.vendor", "Juniper");
    if srx {
        set_str(e, "observer.product", "SRX");
        set_str(e, "observer.type", "firewall");
    }
    let field = |name: &str| {
        let mut p = String::with_capacity(13 + ds.len() + name.len());
        p.push_str("juniper.");
        p.push_str(ds);
        p.push('.');
        p.extend(name.chars().map(|c| if c == '-' { '_' } else { c }));
        p
    };
    if let Some(p) = j.process {
        set_str(e, &field("process"), p);
    }
    if let Some(t) = j.tag {
        set_str(e, &field("tag"), t);
        set_str(e, "event.code", t);
    }
    let get = |k: &str| {
        j.params
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty() && *v != "N/A" && *v != "UNKNOWN")
    };
    for (k, v) in &j.params {
        e.fields.entry(field(k)).or_insert_with(|| sen_core::event::Value::Str(v.to_string()));
    }
    // ECS from the structured data (RT_FLOW, RT_SCREEN, RT_IDP, UI_* …).
    for (key, side) in [("source-address", "source"), ("destination-address", "destination")] {
        if let Some(v) = get(key) {
            ecs::set_endpoint(e, side, v);
        }
    }
    for (key, path) in [
        ("source-port", "source.port"),
        ("destination-port", "destination.port"),
        ("nat-source-port", "source.nat.port"),
        ("nat-destination-port", "destination.nat.port"),
    ] {
        if let Some(v) = get(key) {
            ecs::set_port(e, path, v);
        }
    }
    for (key, path) in
        [("nat-source-address", "source.nat.ip"), ("nat-destination-address", "destination.nat.ip")]
    {
        if let Some(ip) = get(key).and_then(ecs::parse_ip) {
            e.fields.insert(path.to_owned(), sen_core::event::Value::Ip(ip));
        }
    }
    if let Some(n) = get("protocol-id").and_then(|p| p.parse::<u8>().ok()) {
        ecs::set_iana_protocol(e, n);
    } else if let Some(p) = get("protocol-name") {
        set_str(e, "network.transport", &p.to_ascii_lowercase());
    }
    for (key, path) in [
        ("bytes-from-client", "source.bytes"),
        ("bytes-from-server", "destination.bytes"),
        ("packets-from-client", "source.packets"),
        ("packets-from-server", "destination.packets"),
    ] {
        if let Some(v) = get(key) {
            ecs::set_int_str(e, path, v);
        }
    }
    if let Some(secs) = get("elapsed-time") {
        ecs::set_duration_secs(e, secs);
    }
    for (key, path) in [
        ("policy-name", "rule.name"),
        ("source-zone-name", "observer.ingress.zone"),
        ("destination-zone-name", "observer.egress.zone"),
        ("packet-incoming-interface", "observer.ingress.interface.name"),
        ("interface-name", "observer.ingress.interface.name"),
        ("reason", "event.reason"),
    ] {
        if let Some(v) = get(key) {
            set_str(e, path, v);
        }
    }
    if let Some(a) = get("application") {
        set_str(e, "network.application", &a.to_ascii_lowercase());
    }
    if let Some(u) = get("username") {
        ecs::set_user(e, "user.name", u);
    }
    if let Some(a) = get("attack-name") {
        set_str(e, "rule.name", a);
    }
    // Flows.
    let tag = j.tag.unwrap_or_default();
    let flow = match tag {
        "RT_FLOW_SESSION_CREATE" | "RT_FLOW_SESSION_CREATE_LS" => Some(("flow_started", false)),
        "RT_FLOW_SESSION_CLOSE" | "RT_FLOW_SESSION_CLOSE_LS" => Some(("flow_close", false)),
        "RT_FLOW_SESSION_DENY" | "RT_FLOW_SESSION_DENY_LS" => Some(("flow_deny", true)),
        _ => None,
    };
    if let Some((action, denied)) = flow {
        set_str(e, "event.action", action);
        if j.params.is_empty()
            && let Some((sa, sp, da, dp)) = flow_tuple(j.text)
        {
            ecs::set_endpoint(e, "source", sa);
            ecs::set_port(e, "source.port", sp);
            ecs::set_endpoint(e, "destination", da);
            ecs::set_port(e, "destination.port", dp);
        }
        categorize(e, &["network"], &["connection"]);
        if denied {
            e.push("event.type", "denied");
            set_str(e, "event.outcome", "failure");
        } else {
            e.push("event.type", "allowed");
            e.push("event.type", if action == "flow_close" { "end" } else { "start" });
            set_str(e, "event.outcome", "success");
        }
    } else if let Some(a) = get("action") {
        set_str(e, "event.action", a);
        if srx && matches!(a.to_ascii_lowercase().as_str(), "drop" | "deny" | "reject" | "close") {
            categorize(e, &["network"], &["denied"]);
        }
    }
    // Commits and CLI commands (mgd): the user in `User 'name'`.
    if tag.starts_with("UI_")
        && !e.fields.contains_key("user.name")
        && let Some(rest) = j.text.split_once("User '").map(|(_, r)| r)
        && let Some((user, _)) = rest.split_once('\'')
    {
        ecs::set_user(e, "user.name", user);
    }
    // The routing protocol the message is about (the Sigma service of Juniper's BGP/LDP rules).
    let protocol = if tag.starts_with("BGP_") || tag.starts_with("RPD_BGP") {
        Some("bgp")
    } else if tag.starts_with("LDP_") || tag.starts_with("RPD_LDP") {
        Some("ldp")
    } else if j.process == Some("kernel") {
        protocol_by_port(j.text)
    } else {
        None
    };
    if let Some(p) = protocol {
        set_str(e, "network.protocol", p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_tuples() {
        assert!(is_tag("BGP_IO_ERROR_CLOSE_SESSION") && is_tag("RT_FLOW_SESSION_CREATE"));
        assert!(!is_tag("tcp_auth_ok") && !is_tag("ERROR") && !is_tag("A"));
        assert_eq!(split_tag("UI_COMMIT: User 'a'"), Some(("UI_COMMIT", "User 'a'")));
        assert_eq!(split_tag("UI_COMMIT:x"), None);
        assert_eq!(
            flow_tuple("session created 10.0.0.1/51234->8.8.8.8/53 0x0 junos-dns-udp"),
            Some(("10.0.0.1", "51234", "8.8.8.8", "53"))
        );
        assert_eq!(flow_tuple("no flow"), None);
    }
}
