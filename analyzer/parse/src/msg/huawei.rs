//! Huawei VRP information-center messages (routers, switches, firewalls running VRP):
//! `%%01BGP/3/STATE_CHG_UPDOWN(l)[24]:The status of the peer 10.1.1.2 changed from ESTABLISHED to
//! IDLE. (InstanceName=Public, StateChangeReason=Hold Timer Expired)`.
//!
//! The header is `%%` + a two-digit version, the module (`BGP`, `SHELL`, `IFNET` …), the severity
//! (0-7, syslog's), the brief name of the message, the log type in parentheses (`l` log, `s`
//! security, `d` diagnostic, `t` trap) and a sequence number in brackets, both optional. Most
//! messages end with their parameters in parentheses, `(Name=value, …)`.

use std::borrow::Cow;

use sen_core::event::Event;

use crate::ecs::{self, set_str};

/// A VRP message header and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Vrp<'a> {
    pub version: &'a str,
    pub module: &'a str,
    pub severity: u8,
    pub brief: &'a str,
    pub log_type: Option<&'a str>,
    pub sequence: Option<&'a str>,
    pub text: &'a str,
}

fn run(b: &[u8], at: usize, max: usize, ok: impl Fn(u8) -> bool) -> usize {
    b.get(at..).unwrap_or_default().iter().take(max + 1).take_while(|c| ok(**c)).count()
}

/// Parse `%%ddMODULE/S/BRIEF(t)[n]:text` at the start of `s`.
pub(crate) fn parse(s: &str) -> Option<Vrp<'_>> {
    let b = s.as_bytes();
    if !s.starts_with("%%") || !b.get(2..4)?.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut p = 4;
    let mlen = run(b, p, 32, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if mlen == 0 || mlen > 32 || b.get(p + mlen) != Some(&b'/') {
        return None;
    }
    let module = s.get(p..p + mlen)?;
    p += mlen + 1;
    let sev = *b.get(p)?;
    if !(b'0'..=b'7').contains(&sev) || b.get(p + 1) != Some(&b'/') {
        return None;
    }
    p += 2;
    let blen = run(b, p, 64, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if blen == 0 || blen > 64 {
        return None;
    }
    let brief = s.get(p..p + blen)?;
    p += blen;
    let mut log_type = None;
    if b.get(p) == Some(&b'(') {
        let n = run(b, p + 1, 4, |c| c.is_ascii_alphabetic());
        if n == 0 || n > 4 || b.get(p + 1 + n) != Some(&b')') {
            return None;
        }
        log_type = s.get(p + 1..p + 1 + n);
        p += n + 2;
    }
    let mut sequence = None;
    if b.get(p) == Some(&b'[') {
        let n = run(b, p + 1, 20, |c| c.is_ascii_digit());
        if n == 0 || n > 20 || b.get(p + 1 + n) != Some(&b']') {
            return None;
        }
        sequence = s.get(p + 1..p + 1 + n);
        p += n + 2;
    }
    if b.get(p) != Some(&b':') {
        return None;
    }
    Some(Vrp {
        version: s.get(2..4)?,
        module,
        severity: sev - b'0',
        brief,
        log_type,
        sequence,
        text: s.get(p + 1..)?.trim(),
    })
}

/// The parameters in the trailing `(Name=value, Name=value)` of a message text, values unquoted.
pub(crate) fn params(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::new();
    let Some(inner) = text.strip_suffix(')') else { return out };
    let Some(open) =
        inner.rfind(" (").map(|i| i + 2).or_else(|| inner.starts_with('(').then_some(1))
    else {
        return out;
    };
    let inner = inner.get(open..).unwrap_or_default();
    // Pairs are separated by `, ` before the next `Name=`; a value may hold commas itself.
    let is_name = |s: &str| {
        let n = s.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
        n > 0 && s.as_bytes().get(n) == Some(&b'=')
    };
    let mut starts = vec![0];
    for (at, _) in inner.match_indices(", ") {
        if is_name(inner.get(at + 2..).unwrap_or_default()) {
            starts.push(at + 2);
        }
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(inner.len(), |&n| n - 2);
        let Some(pair) = inner.get(start..end) else { continue };
        let Some((k, v)) = pair.split_once('=') else { continue };
        if !is_name(pair) {
            continue;
        }
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(v);
        out.push((k, Cow::Borrowed(v)));
    }
    out
}

/// Whether a text names TCP port `port` (`:179`, `=179`, `port 179`), not as part of a longer
/// number.
pub(crate) fn mentions_port(text: &str, port: &str) -> bool {
    text.match_indices(port).any(|(at, _)| {
        let b = text.as_bytes();
        let before = at.checked_sub(1).and_then(|i| b.get(i));
        let after = b.get(at + port.len());
        matches!(before, Some(b':' | b'=' | b' ' | b'('))
            && !after.is_some_and(u8::is_ascii_digit)
            && (before != Some(&b' ')
                || at
                    .checked_sub(5)
                    .and_then(|i| b.get(i..at))
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"port ")))
    })
}

/// The routing protocol a message of a device's TCP/socket module is about, by the port it
/// names: BGP (179) or LDP (646).
pub(crate) fn protocol_by_port(text: &str) -> Option<&'static str> {
    if mentions_port(text, "179") {
        Some("bgp")
    } else if mentions_port(text, "646") {
        Some("ldp")
    } else {
        None
    }
}

/// Write the fields (and the text as `message` when `set_message`).
pub(crate) fn apply(e: &mut Event, v: &Vrp<'_>, set_message: bool) {
    ecs::module(e, "huawei", "huawei.vrp");
    set_str(e, "observer.vendor", "Huawei");
    set_str(e, "observer.os.name", "VRP");
    set_str(e, "huawei.vrp.version", v.version);
    set_str(e, "huawei.vrp.module", v.module);
    set_str(e, "huawei.vrp.brief", v.brief);
    ecs::set_int(e, "huawei.vrp.severity", i64::from(v.severity));
    if let Some(t) = v.log_type {
        set_str(e, "huawei.vrp.log_type", t);
    }
    if let Some(n) = v.sequence {
        ecs::set_int_str(e, "huawei.vrp.sequence", n);
    }
    let mut code = String::with_capacity(v.module.len() + v.brief.len() + 3);
    code.push_str(v.module);
    code.push('/');
    code.push(char::from(b'0' + v.severity));
    code.push('/');
    code.push_str(v.brief);
    set_str(e, "event.code", &code);
    ecs::set_severity(e, v.severity);
    for (k, val) in params(v.text) {
        let path = ecs::join("huawei.vrp.params", k);
        e.fields.entry(path).or_insert_with(|| sen_core::event::Value::Str(val.to_string()));
        match k {
            "User" | "UserName" | "Username" => ecs::set_user(e, "user.name", &val),
            "Ip" | "IP" | "IpAddress" | "IPAddress" | "SourceIp" | "SrcIp" => {
                if let Some(ip) = ecs::parse_ip(&val) {
                    ecs::set_ip(e, "source", ip);
                }
            }
            _ => {}
        }
    }
    // The routing protocol the message is about (the Sigma service of Huawei's BGP/LDP rules).
    let module = v.module.to_ascii_uppercase();
    let protocol = if module.starts_with("BGP") {
        Some("bgp")
    } else if module.starts_with("LDP") {
        Some("ldp")
    } else if matches!(module.as_str(), "TCP" | "TCP6" | "SOCKET") {
        protocol_by_port(v.text)
    } else {
        None
    };
    if let Some(p) = protocol {
        set_str(e, "network.protocol", p);
    }
    if set_message {
        set_str(e, "message", v.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let v =
            parse("%%01BGP/3/STATE_CHG_UPDOWN(l)[24]:The status changed. (A=1, B=x, y)").unwrap();
        assert_eq!(
            (v.version, v.module, v.severity, v.brief, v.log_type, v.sequence),
            ("01", "BGP", 3, "STATE_CHG_UPDOWN", Some("l"), Some("24"))
        );
        assert_eq!(v.text, "The status changed. (A=1, B=x, y)");
        let v = parse("%%10SHELL/5/CMDRECORD(s):Recorded command information.").unwrap();
        assert_eq!((v.module, v.log_type, v.sequence), ("SHELL", Some("s"), None));
        let v = parse("%%01INFO/4/SUPPRESS_LOG:Last message repeated 2 times.").unwrap();
        assert_eq!((v.log_type, v.text), (None, "Last message repeated 2 times."));
        for bad in [
            "%%1BGP/3/X:y",
            "%%01BGP/9/X:y",
            "%%01BGP/3/X y",
            "%%01BGP/3/X(l[2]:y",
            "%%01/3/X:y",
            "%ASA-6-302013: Built",
            "%%01BGP/3/X(l)[]:y",
            "%%",
            "%%01",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn parameters() {
        let p = params(
            r#"Recorded. (Task=VT0, Ip=10.1.1.1, VpnName=, User=admin, AuthenticationMethod="Local-user", Command="display bgp peer, verbose")"#,
        );
        let got: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!(
            got,
            [
                ("Task", "VT0"),
                ("Ip", "10.1.1.1"),
                ("VpnName", ""),
                ("User", "admin"),
                ("AuthenticationMethod", "Local-user"),
                ("Command", "display bgp peer, verbose"),
            ]
        );
        assert!(params("no parameters").is_empty());
        assert!(params("odd (text)").is_empty());
        assert!(params(")").is_empty());
    }

    #[test]
    fn ports() {
        assert!(mentions_port("Packet from 192.0.2.2:179 missing", "179"));
        assert!(mentions_port("(LocalPort=179, x)", "179"));
        assert!(mentions_port("to port 179", "179"));
        assert!(!mentions_port("from 192.0.2.2:1790", "179"));
        assert!(!mentions_port("seq 179 of", "179"));
        assert!(!mentions_port("AS 65179", "179"));
    }
}
