//! dnsmasq query logs (`log-queries`): the resolver's view of who asked for which name and what
//! it answered — the trail a beaconing host leaves.
//!
//! ```text
//! query[A] cdn.example.net from 10.10.2.103
//! forwarded cdn.example.net to 198.51.100.53
//! reply cdn.example.net is 192.0.2.250
//! cached cdn.example.net is <CNAME>
//! config host.example is NXDOMAIN
//! ```

use sen_core::event::Event;

use crate::ecs::{parse_ip, push_ip, set_ip, set_str};

/// Parse one dnsmasq message; false when it is not a query-log line.
pub(crate) fn parse(e: &mut Event, msg: &str) -> bool {
    let msg = msg.trim();
    let (verb, rest) = msg.split_once(' ').unwrap_or((msg, ""));
    if let Some(qtype) = verb.strip_prefix("query[").and_then(|v| v.strip_suffix(']')) {
        let Some((name, client)) = rest.split_once(" from ") else { return false };
        common(e, name, "query");
        set_str(e, "dns.type", "query");
        set_str(e, "dns.question.type", qtype);
        if let Some(ip) = parse_ip(client) {
            set_ip(e, "source", ip);
            set_ip(e, "client", ip);
        }
        return true;
    }
    match verb {
        "forwarded" => {
            let Some((name, upstream)) = rest.split_once(" to ") else { return false };
            common(e, name, "forwarded");
            if let Some(ip) = parse_ip(upstream) {
                set_ip(e, "destination", ip);
                set_ip(e, "server", ip);
            }
            true
        }
        "reply" | "cached" | "config" | "/etc/hosts" => {
            let Some((name, answer)) = rest.split_once(" is ") else { return false };
            common(e, name, if verb == "reply" { "reply" } else { "cached" });
            set_str(e, "dns.type", "answer");
            let answer = answer.trim();
            if let Some(ip) = parse_ip(answer) {
                push_ip(e, "dns.resolved_ip", ip);
                set_str(e, "dns.answers.data", answer);
            } else if answer == "NXDOMAIN" || answer == "NODATA" {
                set_str(e, "dns.response_code", answer);
            } else {
                set_str(e, "dns.answers.data", answer);
            }
            true
        }
        _ => false,
    }
}

fn common(e: &mut Event, name: &str, action: &str) {
    let name = name.trim().trim_end_matches('.');
    set_str(e, "dns.question.name", name);
    if let Some((_, tld)) = name.rsplit_once('.') {
        set_str(e, "dns.question.top_level_domain", tld);
    }
    set_str(e, "event.kind", "event");
    e.push("event.category", "network");
    e.push("event.type", "protocol");
    set_str(e, "event.action", &format!("dns-{action}"));
    set_str(e, "event.module", "dnsmasq");
    set_str(e, "event.dataset", "dnsmasq.log");
    set_str(e, "network.protocol", "dns");
}

#[cfg(test)]
mod tests {
    use super::*;
    use sen_core::FieldRef;

    fn ev() -> Event {
        Event::new("x".into(), chrono::Utc::now(), "")
    }

    #[test]
    fn query_forward_reply() {
        let mut e = ev();
        assert!(parse(&mut e, "query[A] cdn.update-sync.example.net from 10.10.2.103"));
        assert_eq!(e.get_str("dns.question.name"), Some("cdn.update-sync.example.net"));
        assert_eq!(e.get_str("dns.question.type"), Some("A"));
        assert_eq!(e.get("source.ip"), Some(FieldRef::Ip("10.10.2.103".parse().unwrap())));
        let mut e = ev();
        assert!(parse(&mut e, "forwarded cdn.update-sync.example.net to 198.51.100.53"));
        assert_eq!(e.get("destination.ip"), Some(FieldRef::Ip("198.51.100.53".parse().unwrap())));
        let mut e = ev();
        assert!(parse(&mut e, "reply cdn.update-sync.example.net is 192.0.2.250"));
        assert_eq!(e.get_str("dns.answers.data"), Some("192.0.2.250"));
        assert_eq!(e.get_str("event.action"), Some("dns-reply"));
        let mut e = ev();
        assert!(parse(&mut e, "config nope.example is NXDOMAIN"));
        assert_eq!(e.get_str("dns.response_code"), Some("NXDOMAIN"));
        let mut e = ev();
        assert!(!parse(&mut e, "started, version 2.89 cachesize 150"));
        assert!(!parse(&mut e, "query[A] missing-from"));
    }
}
