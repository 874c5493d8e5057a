//! sudo, su, PAM and systemd-logind messages (the `system.auth` dataset).

use sen_core::event::Event;

use crate::ecs::{self, categorize, set_str};

/// `pam_unix(sshd:auth): authentication failure; …` (or, with `bare`, the body alone as old
/// `prog(pam_unix)` lines write it). Returns whether a known PAM message matched.
pub(crate) fn pam(e: &mut Event, msg: &str, bare: bool) -> bool {
    if !e.fields.contains_key("event.module") {
        ecs::module(e, "pam", "system.auth");
    }
    let body = if bare {
        msg
    } else {
        let Some(close) = msg.find("): ") else { return false };
        let head = msg.get(..close).unwrap_or_default();
        if let Some((module, _)) = head.split_once('(') {
            set_str(e, "system.auth.pam.module", module);
        }
        msg.get(close + 3..).unwrap_or_default()
    };
    pam_body(e, body)
}

/// The PAM message after `pam_unix(…): `.
pub(crate) fn pam_body(e: &mut Event, body: &str) -> bool {
    let body = body.trim();
    if let Some(r) = body.strip_prefix("session opened for user ") {
        categorize(e, &["session"], &["start"]);
        set_str(e, "event.action", "session_opened");
        set_str(e, "event.outcome", "success");
        let (user, by) = r.split_once(" by ").unwrap_or((r, ""));
        ecs::set_user(e, "user.name", strip_uid(user));
        let by = strip_uid(by);
        if !by.is_empty() {
            set_str(e, "system.auth.pam.origin", by);
            e.push("related.user", by);
        }
        return true;
    }
    if let Some(r) = body.strip_prefix("session closed for user ") {
        categorize(e, &["session"], &["end"]);
        set_str(e, "event.action", "session_closed");
        ecs::set_user(e, "user.name", strip_uid(r));
        return true;
    }
    if let Some(r) = body.strip_prefix("authentication failure;") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "authentication_failure");
        set_str(e, "event.outcome", "failure");
        for kv in r.split_ascii_whitespace() {
            let Some((k, v)) = kv.split_once('=') else { continue };
            match k {
                "rhost" => ecs::set_endpoint(e, "source", v),
                "user" => ecs::set_user(e, "user.name", v),
                "ruser" => ecs::set_user(e, "source.user.name", v),
                "tty" => ecs::set_opt(e, "system.auth.pam.tty", v),
                "uid" => {
                    ecs::set_int_str(e, "user.id", v);
                }
                _ => {}
            }
        }
        return true;
    }
    if let Some(r) = body.strip_prefix("check pass; ") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "authentication_failure");
        set_str(e, "event.outcome", "failure");
        set_str(e, "event.reason", r);
        return true;
    }
    if let Some(r) = body.strip_prefix("password changed for ") {
        categorize(e, &["iam"], &["change", "user"]);
        set_str(e, "event.action", "password_changed");
        ecs::set_user(e, "user.name", r);
        return true;
    }
    if let Some(r) = body.strip_prefix("auth could not identify password for [") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "authentication_failure");
        set_str(e, "event.outcome", "failure");
        ecs::set_user(e, "user.name", r.trim_end_matches(']'));
        return true;
    }
    false
}

/// `root(uid=0)` → `root`; `(uid=0)` → ``.
fn strip_uid(s: &str) -> &str {
    let s = s.trim();
    match s.find('(') {
        Some(i) => s.get(..i).unwrap_or_default(),
        None => s,
    }
}

/// `  user : TTY=pts/0 ; PWD=/home/user ; USER=root ; COMMAND=/bin/ls` and failures
/// (`user : 3 incorrect password attempts ; TTY=…`).
pub(crate) fn sudo(e: &mut Event, msg: &str) -> bool {
    ecs::module(e, "sudo", "system.auth");
    let m = msg.trim();
    if m.starts_with("pam_") {
        return pam(e, m, false);
    }
    let Some((user, rest)) = m.split_once(" : ") else { return false };
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return false;
    }
    ecs::set_user(e, "user.name", user);
    let (head, command) = match rest.find("COMMAND=") {
        Some(i) => (rest.get(..i).unwrap_or_default(), Some(rest.get(i + 8..).unwrap_or_default())),
        None => (rest, None),
    };
    let mut reason = None;
    for seg in head.split(';') {
        let seg = seg.trim();
        if seg.is_empty() {
            continue;
        }
        match seg.split_once('=') {
            Some(("TTY", v)) => set_str(e, "system.auth.sudo.tty", v),
            Some(("PWD", v)) => set_str(e, "system.auth.sudo.pwd", v),
            Some(("USER", v)) => {
                set_str(e, "system.auth.sudo.user", v);
                ecs::set_user(e, "user.effective.name", v);
            }
            Some(("GROUP", v)) => set_str(e, "system.auth.sudo.group", v),
            Some(_) => {}
            None => reason = reason.or(Some(seg)),
        }
    }
    if let Some(c) = command {
        set_str(e, "system.auth.sudo.command", c.trim());
    }
    match reason {
        None => {
            categorize(e, &["process"], &["start"]);
            set_str(e, "event.action", "sudo_command");
            set_str(e, "event.outcome", "success");
        }
        Some(r) => {
            set_str(e, "event.reason", r);
            let lower = r.to_ascii_lowercase();
            if [
                "incorrect password",
                "not in sudoers",
                "not allowed",
                "password is required",
                "authentication failure",
            ]
            .iter()
            .any(|k| lower.contains(k))
            {
                categorize(e, &["authentication"], &["info"]);
                set_str(e, "event.action", "sudo_command");
                set_str(e, "event.outcome", "failure");
            }
        }
    }
    true
}

/// su: `Successful su for root by alice`, `FAILED su for root by alice`, `+ /dev/pts/0 alice:root`,
/// `(to root) alice on pts/0`, `pam_unix(su:session): …`.
pub(crate) fn su(e: &mut Event, msg: &str, pam_suffix: bool) -> bool {
    ecs::module(e, "su", "system.auth");
    let m = msg.trim();
    if m.starts_with("pam_") {
        return pam(e, m, false);
    }
    let switch = |e: &mut Event, by: &str, to: &str, ok: bool| {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "su");
        set_str(e, "event.outcome", if ok { "success" } else { "failure" });
        ecs::set_user(e, "user.name", by);
        ecs::set_user(e, "user.effective.name", to);
    };
    for (prefix, ok) in [("Successful su for ", true), ("FAILED su for ", false)] {
        if let Some(r) = m.strip_prefix(prefix) {
            let (to, by) = r.split_once(" by ").unwrap_or((r, ""));
            switch(e, by, to, ok);
            return true;
        }
    }
    if let Some(r) = m.strip_prefix("(to ")
        && let Some((to, rest)) = r.split_once(") ")
    {
        let (by, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
        switch(e, by, to, true);
        ecs::set_opt(e, "system.auth.su.tty", tty);
        return true;
    }
    for (prefix, ok) in [("+ ", true), ("- ", false)] {
        if let Some(r) = m.strip_prefix(prefix)
            && let Some((tty, users)) = r.split_once(' ')
            && let Some((by, to)) = users.split_once(':')
        {
            switch(e, by, to, ok);
            ecs::set_opt(e, "system.auth.su.tty", tty);
            return true;
        }
    }
    if m.starts_with("pam_authenticate: Authentication failure") {
        categorize(e, &["authentication"], &["info"]);
        set_str(e, "event.action", "su");
        set_str(e, "event.outcome", "failure");
        return true;
    }
    if pam_suffix {
        return pam_body(e, m);
    }
    false
}

/// systemd-logind: `New session 12 of user alice.`, `Removed session 12.`,
/// `Session 12 logged out. Waiting for processes to exit.`
pub(crate) fn logind(e: &mut Event, msg: &str) -> bool {
    ecs::module(e, "systemd-logind", "system.auth");
    let m = msg.trim().trim_end_matches('.');
    if let Some(r) = m.strip_prefix("New session ")
        && let Some((id, user)) = r.split_once(" of user ")
    {
        categorize(e, &["session"], &["start"]);
        set_str(e, "event.action", "session_started");
        set_str(e, "systemd.logind.session_id", id);
        ecs::set_user(e, "user.name", user);
        return true;
    }
    if let Some(id) = m.strip_prefix("Removed session ") {
        categorize(e, &["session"], &["end"]);
        set_str(e, "event.action", "session_removed");
        set_str(e, "systemd.logind.session_id", id);
        return true;
    }
    if let Some(r) = m.strip_prefix("Session ")
        && let Some((id, _)) = r.split_once(" logged out")
    {
        categorize(e, &["session"], &["end"]);
        set_str(e, "event.action", "session_logged_out");
        set_str(e, "systemd.logind.session_id", id);
        return true;
    }
    false
}
