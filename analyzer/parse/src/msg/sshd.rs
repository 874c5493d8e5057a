//! OpenSSH server (`sshd`) messages.

use sen_core::event::Event;

use super::auth;
use crate::ecs::{self, categorize, set_str};

/// Parse an sshd message; returns whether a known pattern matched. Always sets the module.
pub(crate) fn parse(e: &mut Event, msg: &str, pam_suffix: bool) -> bool {
    ecs::module(e, "sshd", "system.auth");
    let mut m = msg.trim();
    // rsyslog de-duplication: `message repeated 5 times: [ Failed password for … ]`
    if let Some(r) = m.strip_prefix("message repeated ")
        && let Some((_, inner)) = r.split_once(" times: [")
    {
        m = inner.trim().trim_end_matches(']').trim();
    }
    if let Some(r) = m.strip_suffix("[preauth]") {
        m = r.trim_end();
    }
    for p in ["error: ", "fatal: "] {
        if let Some(r) = m.strip_prefix(p) {
            m = r;
        }
    }
    if m.starts_with("pam_") {
        return auth::pam(e, m, false);
    }
    if let Some(r) = m.strip_prefix("Accepted ") {
        return login(e, r, true);
    }
    if let Some(r) = m.strip_prefix("Failed ") {
        return login(e, r, false);
    }
    if let Some(r) = m.strip_prefix("Invalid user ") {
        set_str(e, "system.auth.ssh.event", "Invalid");
        login_fields(e, "ssh_login", false);
        user_from(e, r);
        return true;
    }
    if let Some(r) = m.strip_prefix("input_userauth_request: invalid user ") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "ssh_invalid_user");
        ecs::set_user(e, "user.name", r);
        return true;
    }
    if let Some(r) = m.strip_prefix("PAM ") {
        // `PAM 5 more authentication failures; logname= uid=0 … rhost=1.2.3.4 user=root`
        if r.contains("more authentication failure")
            && let Some((_, kv)) = r.split_once("; ")
        {
            return auth::pam_body(e, &format!("authentication failure; {kv}"));
        }
        return false;
    }
    if let Some(r) = m.strip_prefix("Disconnected from ") {
        session_end(e, "ssh_disconnect", r);
        return true;
    }
    if let Some(r) = m.strip_prefix("Connection closed by ") {
        session_end(e, "ssh_connection_closed", r);
        return true;
    }
    if let Some(r) = m.strip_prefix("Received disconnect from ") {
        categorize(e, &["session"], &["end"]);
        set_str(e, "event.action", "ssh_disconnect");
        // `IP port P:11: reason` or `IP: 11: reason`
        let (addr, reason) = match r.split_once(": ") {
            Some((a, why)) => (a, Some(why)),
            None => (r, None),
        };
        let addr = addr.split(':').next().unwrap_or(addr);
        ip_port(e, "source", addr);
        if let Some(why) = reason {
            let why = why.split_once(": ").map_or(why, |(code, w)| {
                if code.bytes().all(|c| c.is_ascii_digit()) { w } else { why }
            });
            ecs::set_opt(e, "event.reason", why.trim());
        }
        return true;
    }
    if let Some(r) = m.strip_prefix("reverse mapping checking getaddrinfo for ") {
        // `host [ip] failed - POSSIBLE BREAK-IN ATTEMPT!`
        categorize(e, &["network"], &["info"]);
        set_str(e, "event.action", "ssh_reverse_mapping_failed");
        if let Some((host, rest)) = r.split_once(" [") {
            ecs::set_opt(e, "source.domain", host);
            if let Some((ip, _)) = rest.split_once(']') {
                ecs::set_endpoint(e, "source", ip);
            }
        }
        return true;
    }
    if let Some(r) = m.strip_prefix("Address ") {
        if let Some((ip, rest)) = r.split_once(" maps to ") {
            categorize(e, &["network"], &["info"]);
            set_str(e, "event.action", "ssh_reverse_mapping_failed");
            ecs::set_endpoint(e, "source", ip);
            if let Some((host, _)) = rest.split_once(',') {
                ecs::set_opt(e, "source.domain", host);
            }
            return true;
        }
        return false;
    }
    if let Some(r) = m.strip_prefix("Did not receive identification string from ") {
        categorize(e, &["network"], &["connection"]);
        set_str(e, "event.action", "ssh_no_identification");
        ip_port(e, "source", r);
        return true;
    }
    if let Some(r) = m.strip_prefix("Connection from ") {
        categorize(e, &["network"], &["connection", "start"]);
        set_str(e, "event.action", "ssh_connection");
        match r.split_once(" on ") {
            Some((src, dst)) => {
                ip_port(e, "source", src);
                ip_port(e, "destination", dst.split(" rdomain").next().unwrap_or(dst));
            }
            None => {
                ip_port(e, "source", r);
            }
        }
        return true;
    }
    if let Some(r) = m.strip_prefix("Bad protocol version identification ") {
        categorize(e, &["network"], &["protocol"]);
        set_str(e, "event.action", "ssh_bad_protocol_version");
        if let Some(i) = r.rfind(" from ") {
            ip_port(e, "source", r.get(i + 6..).unwrap_or_default());
        }
        return true;
    }
    if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for ") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "ssh_max_auth_exceeded");
        set_str(e, "event.outcome", "failure");
        user_from(e, r.strip_prefix("invalid user ").unwrap_or(r));
        return true;
    }
    if let Some(r) = m.strip_prefix("User ") {
        // `User root from 1.2.3.4 not allowed because not listed in AllowUsers`
        if let Some((head, why)) = r.split_once(" not allowed because ") {
            login_fields(e, "ssh_login", false);
            ecs::set_opt(e, "event.reason", why);
            user_from(e, head);
            return true;
        }
        return false;
    }
    if let Some(r) = m.strip_prefix("Unable to negotiate with ") {
        categorize(e, &["network"], &["protocol"]);
        set_str(e, "event.action", "ssh_negotiation_failed");
        let addr = r.split(':').next().unwrap_or(r);
        ip_port(e, "source", addr);
        return true;
    }
    if let Some(r) = m.strip_prefix("Connection reset by ") {
        categorize(e, &["network"], &["end"]);
        set_str(e, "event.action", "ssh_connection_reset");
        session_user_ip_port(e, r);
        return true;
    }
    if pam_suffix {
        return auth::pam_body(e, m);
    }
    false
}

fn login_fields(e: &mut Event, action: &str, success: bool) {
    if success {
        categorize(e, &["authentication", "session"], &["start"]);
    } else {
        categorize(e, &["authentication"], &["info"]);
    }
    set_str(e, "event.action", action);
    set_str(e, "event.outcome", if success { "success" } else { "failure" });
}

/// `password for [invalid user ]USER from IP port PORT ssh2[: SIG]`
fn login(e: &mut Event, r: &str, success: bool) -> bool {
    let Some((method, rest)) = r.split_once(" for ") else { return false };
    if method.is_empty() || method.contains(' ') {
        return false;
    }
    set_str(e, "system.auth.ssh.event", if success { "Accepted" } else { "Failed" });
    set_str(e, "system.auth.ssh.method", method);
    login_fields(e, "ssh_login", success);
    let rest = match rest.strip_prefix("invalid user ") {
        Some(r) => {
            set_str(e, "system.auth.ssh.invalid_user", "true");
            r
        }
        None => rest,
    };
    let tail = user_from(e, rest);
    // `ssh2: RSA SHA256:…`
    if let Some((_, sig)) = tail.split_once(": ") {
        ecs::set_opt(e, "system.auth.ssh.signature", sig.trim());
    }
    true
}

/// `USER from IP[ port PORT][ tail]`; returns the tail.
fn user_from<'a>(e: &mut Event, r: &'a str) -> &'a str {
    let Some(i) = r.rfind(" from ") else {
        ecs::set_user(e, "user.name", r);
        return "";
    };
    ecs::set_user(e, "user.name", r.get(..i).unwrap_or_default());
    let after = r.get(i + 6..).unwrap_or_default();
    ip_port(e, "source", after)
}

/// `IP[ port PORT][ tail]`; returns the tail.
fn ip_port<'a>(e: &mut Event, side: &str, s: &'a str) -> &'a str {
    let s = s.trim();
    let (ip, rest) = s.split_once(' ').unwrap_or((s, ""));
    ecs::set_endpoint(e, side, ip);
    if let Some(r) = rest.strip_prefix("port ") {
        let (port, tail) = r.split_once(' ').unwrap_or((r, ""));
        ecs::set_port(e, &ecs::join(side, "port"), port.trim_end_matches(':'));
        return tail;
    }
    rest
}

/// `[invalid user|authenticating user|user ]USER IP port PORT` or `IP port PORT`.
fn session_user_ip_port(e: &mut Event, r: &str) {
    let r = r.trim();
    let r = ["invalid user ", "authenticating user ", "user "]
        .iter()
        .find_map(|p| r.strip_prefix(p))
        .map(|rest| {
            // The user is everything before the last `IP port N`.
            match rest.rfind(" port ") {
                Some(pi) => {
                    let head = rest.get(..pi).unwrap_or_default();
                    match head.rsplit_once(' ') {
                        Some((user, _)) => {
                            ecs::set_user(e, "user.name", user);
                            rest.get(user.len() + 1..).unwrap_or_default()
                        }
                        None => rest,
                    }
                }
                None => rest,
            }
        })
        .unwrap_or(r);
    ip_port(e, "source", r);
}

fn session_end(e: &mut Event, action: &str, r: &str) {
    categorize(e, &["session"], &["end"]);
    set_str(e, "event.action", action);
    session_user_ip_port(e, r);
}
