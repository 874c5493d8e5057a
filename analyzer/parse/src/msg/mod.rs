//! Parsers for syslog message bodies, chosen by program name and by content.

use sen_core::event::Event;

use crate::{Context, Outcome, Parser, access, errorlog};

mod auth;
pub(crate) mod cisco;
mod dnsmasq;
pub(crate) mod huawei;
mod iptables;
pub(crate) mod junos;
mod sshd;

/// The program name without path and `(pam_unix)`-style suffix: `/usr/sbin/sshd` → `sshd`,
/// `sshd(pam_unix)` → `sshd`.
fn base_program(p: &str) -> &str {
    let p = p.rsplit('/').next().unwrap_or(p);
    match p.find('(') {
        Some(i) if i > 0 => p.get(..i).unwrap_or(p),
        _ => p,
    }
}

/// Parse a syslog message body by program and content, writing ECS fields (never `message`).
pub(crate) fn parse_message(
    e: &mut Event,
    program: Option<&str>,
    msg: &str,
    ctx: &Context,
    out: &mut Outcome,
) {
    let full = program.unwrap_or("");
    // `su(pam_unix)`: old-style PAM lines without the `pam_unix(…)` prefix.
    let pam_suffix = full.ends_with("(pam_unix)");
    let base = base_program(full);
    let matched = match base {
        "sshd" | "sshd-session" | "sshd-auth" => {
            sshd::parse(e, msg, pam_suffix).then_some(Parser::Sshd)
        }
        "sudo" => auth::sudo(e, msg).then_some(Parser::Sudo),
        "su" => auth::su(e, msg, pam_suffix).then_some(Parser::Su),
        "systemd-logind" => auth::logind(e, msg).then_some(Parser::SystemdLogind),
        "dnsmasq" => dnsmasq::parse(e, msg).then_some(Parser::Dnsmasq),
        _ => None,
    };
    if let Some(p) = matched {
        out.push(p);
        return;
    }
    if matches!(base, "sshd" | "sshd-session" | "sshd-auth" | "sudo" | "su" | "systemd-logind") {
        return;
    }
    let trimmed = msg.trim_start();
    // A Linux audit record (audisp-syslog, auoms, the kernel's `audit:` lines, journald).
    if let Some(rec) = crate::auditd::in_syslog(base, trimmed) {
        crate::auditd::apply(e, &rec);
        out.push(Parser::Auditd);
        return;
    }
    // A CEF/LEEF payload in a syslog message (explicit `rfc3164`/`rfc5424` format).
    if trimmed.starts_with("CEF:") {
        if let Ok(c) = crate::cef::parse(trimmed) {
            crate::apply_cef(e, &c, ctx, out);
        }
        return;
    }
    if trimmed.starts_with("LEEF:") {
        if let Ok(l) = crate::leef::parse(trimmed) {
            crate::leef::apply(e, &l, ctx);
            out.push(Parser::Leef);
        }
        return;
    }
    // FortiGate's `key=value` logs (FortiOS sends them after a bare `<PRI>` or an RFC 5424 header).
    if crate::fortigate::looks_like(trimmed) {
        crate::fortigate::normalize(e, trimmed, ctx, out);
        return;
    }
    if trimmed.starts_with("%%")
        && let Some(v) = huawei::parse(trimmed)
    {
        huawei::apply(e, &v, false);
        out.push(Parser::Huawei);
        return;
    }
    if memchr::memchr(b'%', trimmed.as_bytes()).is_some()
        && let Some(c) = cisco::find(trimmed)
    {
        cisco::apply(e, &c, false);
        out.push(Parser::Cisco);
        return;
    }
    if junos::parse(e, base, trimmed) {
        out.push(Parser::Junos);
        return;
    }
    if trimmed.starts_with("pam_") || pam_suffix {
        if auth::pam(e, trimmed, pam_suffix) {
            out.push(Parser::Pam);
        }
        return;
    }
    if iptables::parse(e, msg) {
        out.push(Parser::Iptables);
        return;
    }
    let Some(&first) = trimmed.as_bytes().first() else { return };
    if first == b'{' {
        // Zeek's JSON logs forwarded over syslog (rsyslog `imfile`, syslog-ng `file()`).
        if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str(trimmed)
            && crate::zeek::is_zeek(&obj)
        {
            crate::zeek::apply(e, obj, None, ctx, out);
        }
        return;
    }
    if first == b'[' {
        if let Some(a) = errorlog::parse_apache(trimmed) {
            if let Some(t) = a.timestamp.and_then(|t| t.resolve(ctx)) {
                e.timestamp = t;
            }
            errorlog::write_apache(e, &a);
            out.push(Parser::ApacheError);
        }
        return;
    }
    if (first.is_ascii_alphanumeric() || first == b':')
        && trimmed.contains(" [")
        && let Ok(a) = access::parse(trimmed)
        && a.timestamp.is_some()
        && a.request.is_some()
        && a.status.is_some()
    {
        if let Some(t) = a.timestamp {
            e.timestamp = t.with_timezone(&chrono::Utc);
        }
        access::write(e, &a);
        out.push(Parser::AccessLog);
    }
}
