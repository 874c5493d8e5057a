//! Netfilter (iptables / nftables / UFW) packet log lines written by the kernel:
//! `[ 1234.5] [UFW BLOCK] IN=eth0 OUT= MAC=… SRC=1.2.3.4 DST=5.6.7.8 LEN=40 … PROTO=TCP SPT=1 DPT=2 …`

use sen_core::event::{Event, Value};

use crate::ecs::{self, categorize, set_str};

/// Offset of `IN=` at the start or after a space, when the line also has `SRC=`.
fn find_in(msg: &str) -> Option<usize> {
    let b = msg.as_bytes();
    let mut from = 0;
    while let Some(rel) = memchr::memmem::find(b.get(from..)?, b"IN=") {
        let at = from + rel;
        if at == 0 || b.get(at - 1) == Some(&b' ') {
            return memchr::memmem::find(b, b" SRC=").map(|_| at);
        }
        from = at + 3;
    }
    None
}

/// Parse a netfilter log line; returns whether it was one.
pub(crate) fn parse(e: &mut Event, msg: &str) -> bool {
    let Some(at) = find_in(msg) else { return false };
    ecs::module(e, "iptables", "iptables.log");
    let mut prefix = msg.get(..at).unwrap_or_default().trim();
    // Kernel uptime stamp: `[ 8665.951930]`
    if prefix.starts_with('[')
        && let Some(close) = prefix.find(']')
    {
        let inside = prefix.get(1..close).unwrap_or_default().trim();
        if !inside.is_empty() && inside.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
            prefix = prefix.get(close + 1..).unwrap_or_default().trim();
        }
    }
    let rule = prefix.trim_matches(|c: char| c == '[' || c == ']' || c == ':' || c.is_whitespace());
    let upper = rule.to_ascii_uppercase();
    let (action, denied) = if upper.contains("BLOCK") {
        ("block", Some(true))
    } else if upper.contains("DROP") {
        ("drop", Some(true))
    } else if upper.contains("REJECT") {
        ("reject", Some(true))
    } else if upper.contains("DENY") || upper.contains("DENIED") {
        ("deny", Some(true))
    } else if upper.contains("ACCEPT") {
        ("accept", Some(false))
    } else if upper.contains("ALLOW") {
        ("allow", Some(false))
    } else {
        ("log", None)
    };
    categorize(e, &["network"], &["connection"]);
    match denied {
        Some(true) => e.push("event.type", "denied"),
        Some(false) => e.push("event.type", "allowed"),
        None => {}
    }
    set_str(e, "event.action", action);
    if !rule.is_empty() {
        set_str(e, "rule.name", rule);
    }
    let mut flags: Vec<Value> = Vec::new();
    for tok in msg.get(at..).unwrap_or_default().split_ascii_whitespace() {
        let Some((k, v)) = tok.split_once('=') else {
            if tok.bytes().all(|c| c.is_ascii_uppercase()) && tok.len() <= 4 {
                flags.push(Value::Str(tok.to_owned()));
            }
            continue;
        };
        match k {
            "IN" => ecs::set_opt(e, "observer.ingress.interface.name", v),
            "OUT" => ecs::set_opt(e, "observer.egress.interface.name", v),
            "PHYSIN" => ecs::set_opt(e, "iptables.physical_in", v),
            "PHYSOUT" => ecs::set_opt(e, "iptables.physical_out", v),
            "MAC" => mac(e, v),
            "SRC" => ecs::set_endpoint(e, "source", v),
            "DST" => ecs::set_endpoint(e, "destination", v),
            "LEN" => {
                ecs::set_int_str(e, "iptables.length", v);
            }
            "TOS" => set_str(e, "iptables.tos", v),
            "PREC" => set_str(e, "iptables.precedence_bits", v),
            "TTL" => {
                ecs::set_int_str(e, "iptables.ttl", v);
            }
            "ID" => {
                ecs::set_int_str(e, "iptables.id", v);
            }
            "PROTO" => set_str(e, "network.transport", &v.to_ascii_lowercase()),
            "SPT" => {
                ecs::set_port(e, "source.port", v);
            }
            "DPT" => {
                ecs::set_port(e, "destination.port", v);
            }
            "WINDOW" => {
                ecs::set_int_str(e, "iptables.tcp.window", v);
            }
            "RES" => set_str(e, "iptables.tcp.reserved_bits", v),
            "URGP" => {
                ecs::set_int_str(e, "iptables.tcp.urgent_pointer", v);
            }
            "TYPE" => {
                ecs::set_int_str(e, "iptables.icmp.type", v);
            }
            "CODE" => {
                ecs::set_int_str(e, "iptables.icmp.code", v);
            }
            "MARK" => set_str(e, "iptables.mark", v),
            "UID" => {
                ecs::set_int_str(e, "user.id", v);
            }
            _ => {}
        }
    }
    if !flags.is_empty() {
        e.fields.insert("iptables.flags".to_owned(), Value::List(flags));
    }
    true
}

/// `MAC=dst(6):src(6):ethertype(2)`.
fn mac(e: &mut Event, v: &str) {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() >= 12 {
        if let Some(dst) = parts.get(..6).and_then(|p| ecs::ecs_mac(&p.join(":"))) {
            set_str(e, "destination.mac", &dst);
        }
        if let Some(src) = parts.get(6..12).and_then(|p| ecs::ecs_mac(&p.join(":"))) {
            set_str(e, "source.mac", &src);
        }
    }
}
