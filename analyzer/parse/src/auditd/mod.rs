//! Linux audit records: auditd's log format (RAW and ENRICHED), the same records forwarded over
//! syslog (audisp-syslog, the kernel's `audit:` printk lines, journald's `audit[pid]: TYPE …`),
//! and Microsoft's auoms (Azure Monitor agent) `AUOMS_*` records.
//!
//! One record is one event: auditd writes the records of one kernel event (SYSCALL, EXECVE,
//! CWD, PATH…, PROCTITLE, EOE) as separate lines that share the `msg=audit(time:serial)` stamp,
//! and [`parse`] reads one of them. The serial is kept (`auditd.sequence`) so a search for it
//! finds the whole event, and [`join::Joiner`] builds one more event from the records of each
//! kernel event. The field layout is described in the crate docs ("Linux audit").
//!
//! Values are written by the kernel either double-quoted, or unquoted, or (for strings that
//! could hold spaces, quotes or control bytes: file names, command arguments, `proctitle` …)
//! hex-encoded. [`parse`] strips the quotes and decodes the hex of the fields that are encoded
//! that way, so `a0="dd"` and `a0=6464` both read `dd`.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sen_core::event::{Event, Value};

use crate::ecs::{self, categorize, set_int, set_int_str, set_str};

pub mod join;
mod tables;

#[cfg(test)]
mod tests;

/// A field value: text, or (auoms `path_*` arrays) a list of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// One value, unquoted and decoded.
    Text(String),
    /// A JSON array of strings (auoms).
    List(Vec<String>),
}

impl Field {
    /// The text of a single value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Text(s) => Some(s),
            Field::List(_) => None,
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `node=` (the host name auditd prefixes with `name_format`), when present.
    pub node: Option<String>,
    /// The record type as auditd names it (`SYSCALL`, `USER_LOGIN`, `AUOMS_EXECVE`); numeric
    /// types of kernel and journald lines are named (`1300` → `SYSCALL`), unknown ones are
    /// `UNKNOWN[n]` as auditd writes them.
    pub record_type: String,
    /// The event time from `audit(<epoch>.<ms>:<serial>)`; `None` for journald lines, which
    /// carry none.
    pub time: Option<DateTime<Utc>>,
    /// The event serial number shared by the records of one event.
    pub sequence: Option<u64>,
    /// Every `key=value`, in order, first occurrence of a key only; the `key=value` pairs inside
    /// `msg='…'` of user-space records are included as if they stood outside it.
    pub fields: Vec<(String, Field)>,
}

impl Record {
    /// The text value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str())
    }

    fn put(&mut self, key: &str, v: Field) {
        if !self.fields.iter().any(|(k, _)| k == key) {
            self.fields.push((key.to_owned(), v));
        }
    }
}

/// Why a line that looks like an audit record is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuditError(pub &'static str);

/// Whether `line` starts like an audit record (`type=` or `node=`), so that [`parse`] failing
/// on it is worth reporting.
pub fn looks_like(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("type=") || (t.starts_with("node=") && t.contains(" type="))
}

/// Parse one record: `[node=N ]type=T [msg=]audit(SECONDS.MILLIS:SERIAL): key=value …`.
pub fn parse(line: &str) -> Result<Record, AuditError> {
    let line = normalize_separators(line);
    let mut s = line.trim_start();
    let mut node = None;
    if let Some(r) = s.strip_prefix("node=") {
        let (v, rest) = split_token(r);
        node = Some(v.to_owned()).filter(|v| !v.is_empty());
        s = rest.trim_start();
    }
    let r = s.strip_prefix("type=").ok_or(AuditError("expected `type=` at the start"))?;
    let (kind, rest) = split_token(r);
    if kind.is_empty() {
        return Err(AuditError("empty record type"));
    }
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("msg=").unwrap_or(rest);
    let stamp =
        rest.strip_prefix("audit(").ok_or(AuditError("expected `msg=audit(` after the type"))?;
    let (inside, body) =
        stamp.split_once("):").ok_or(AuditError("unterminated `audit(` time stamp"))?;
    let (time, sequence) = stamp_of(inside).ok_or(AuditError("bad `audit(` time stamp"))?;
    let mut rec = Record {
        node,
        record_type: type_name(kind),
        time: Some(time),
        sequence: Some(sequence),
        fields: Vec::new(),
    };
    read_fields(&mut rec, body);
    Ok(rec)
}

/// An audit record inside a syslog message of `program` (base name), if the message holds one:
/// audisp-syslog and the auditd/auoms plugins write the log line as it is; the kernel prefixes
/// `audit: ` (after an optional `[uptime]`) and names the type by number; journald's `audit`
/// lines are `TYPE key=value…` without a time stamp (the syslog header's time stands).
pub(crate) fn in_syslog(program: &str, msg: &str) -> Option<Record> {
    let mut m = msg.trim_start();
    if program == "kernel" {
        if let Some(r) = m.strip_prefix('[')
            && let Some((_, after)) = r.split_once(']')
        {
            m = after.trim_start();
        }
        m = m.strip_prefix("audit:")?.trim_start();
    }
    if looks_like(m) {
        return parse(m).ok();
    }
    if program == "audit" {
        return journal(m);
    }
    None
}

/// journald's form: `SERVICE_START pid=1 uid=0 … msg='unit=… res=success'`.
fn journal(m: &str) -> Option<Record> {
    let (kind, body) = m.split_once(' ')?;
    let upper = kind.len() >= 3
        && kind.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if !upper || !body.contains('=') {
        return None;
    }
    let body = normalize_separators(body);
    let mut rec = Record {
        node: None,
        record_type: kind.to_owned(),
        time: None,
        sequence: None,
        fields: Vec::new(),
    };
    read_fields(&mut rec, &body);
    Some(rec)
}

/// rsyslog escapes the ENRICHED format's group separator (0x1D) as `#035`.
fn normalize_separators(s: &str) -> Cow<'_, str> {
    if s.contains("#035") { Cow::Owned(s.replace("#035", "\u{1d}")) } else { Cow::Borrowed(s) }
}

fn split_token(s: &str) -> (&str, &str) {
    match s.find([' ', '\t', '\u{1d}']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn type_name(kind: &str) -> String {
    match kind.parse::<u16>() {
        Ok(n) => match tables::record_type(n) {
            Some(name) => name.to_owned(),
            None => format!("UNKNOWN[{n}]"),
        },
        Err(_) => kind.to_owned(),
    }
}

/// `1604996384.965:93777` → time and serial.
fn stamp_of(s: &str) -> Option<(DateTime<Utc>, u64)> {
    let (t, serial) = s.split_once(':')?;
    let serial = serial.trim().parse().ok()?;
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    let secs: i64 = secs.parse().ok()?;
    if frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32)
    };
    Some((DateTime::from_timestamp(secs, nanos)?, serial))
}

fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x1d)
}

fn is_key_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'[' | b']')
}

/// The length of the `key` of a `key=` token at the start of `s`, if it is one.
fn key_len(s: &[u8]) -> Option<usize> {
    if !s.first().copied().is_some_and(is_key_start) {
        return None;
    }
    let n = s.iter().position(|c| !is_key_char(*c)).unwrap_or(s.len());
    (s.get(n) == Some(&b'=')).then_some(n)
}

fn skip_seps(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_sep(s[i]) {
        i += 1;
    }
    i
}

/// Whether the token at `i` (after separators) ends a value: end of input, a `key=` token, or
/// (inside `msg='…'`) the closing quote.
fn ends_value(s: &[u8], i: usize, nested: bool) -> bool {
    i >= s.len() || key_len(&s[i..]).is_some() || (nested && s[i] == b'\'')
}

/// Read every `key=value` of a record body into `rec`.
fn read_fields(rec: &mut Record, body: &str) {
    let mut raw: Vec<(String, String, Quoting)> = Vec::new();
    scan(body.as_bytes(), 0, false, &mut raw);
    let execve = rec.record_type == "EXECVE";
    // EXECVE arguments longer than a record line are split: `a1_len=N a1[0]=… a1[1]=…`.
    let mut chunks: Vec<(String, String)> = Vec::new();
    for (k, v, q) in raw {
        if execve
            && let Some((arg, _)) = k.split_once('[')
            && is_arg(arg)
        {
            match chunks.iter_mut().find(|(a, _)| a == arg) {
                Some((_, buf)) => buf.push_str(&v),
                None => chunks.push((arg.to_owned(), v)),
            }
            continue;
        }
        let value = match q {
            Quoting::List(items) => Field::List(items),
            Quoting::Plain if decodes(&k, execve) => Field::Text(decode(&k, &v)),
            _ => Field::Text(v),
        };
        rec.put(&k, value);
    }
    for (arg, hex) in chunks {
        let v = decode(&arg, &hex);
        rec.put(&arg, Field::Text(v));
    }
}

/// How a value was written.
#[derive(Debug)]
enum Quoting {
    Plain,
    Quoted,
    List(Vec<String>),
}

/// `a0`, `a12`.
fn is_arg(k: &str) -> bool {
    k.len() > 1 && k.starts_with('a') && k[1..].bytes().all(|c| c.is_ascii_digit())
}

/// Fields the kernel and the audit tools hex-encode when their text needs it (then they are
/// written unquoted).
fn decodes(key: &str, execve: bool) -> bool {
    (execve && is_arg(key))
        || matches!(
            key,
            "proctitle"
                | "name"
                | "cwd"
                | "comm"
                | "exe"
                | "key"
                | "acct"
                | "cmd"
                | "data"
                | "path"
                | "ocomm"
                | "dir"
                | "file"
                | "watch"
                | "old_name"
                | "new_name"
        )
}

/// Decode an unquoted value written as upper-case hex; anything else (`(null)`, `?`, a plain
/// word) stays as it is. `proctitle` separates the arguments with NULs: they become spaces.
fn decode(key: &str, v: &str) -> String {
    let b = v.as_bytes();
    let hex = !b.is_empty()
        && b.len().is_multiple_of(2)
        && b.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    if !hex {
        return v.to_owned();
    }
    let bytes: Vec<u8> = b.chunks_exact(2).map(|p| (nibble(p[0]) << 4) | nibble(p[1])).collect();
    let text = String::from_utf8_lossy(&bytes);
    if key == "proctitle" {
        text.trim_end_matches('\0').replace('\0', " ")
    } else {
        text.into_owned()
    }
}

fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => c - b'A' + 10,
    }
}

/// Scan `key=value` pairs from `i`; inside `msg='…'` (`nested`) stop after the closing quote
/// and return the position after it.
fn scan(s: &[u8], mut i: usize, nested: bool, out: &mut Vec<(String, String, Quoting)>) -> usize {
    loop {
        i = skip_seps(s, i);
        if i >= s.len() {
            return i;
        }
        if nested && s[i] == b'\'' {
            return i + 1;
        }
        let Some(klen) = key_len(&s[i..]) else {
            // A word that is no `key=value` (SELinux `avc:  denied  { read } for`): skip it.
            while i < s.len() && !is_sep(s[i]) && !(nested && s[i] == b'\'') {
                i += 1;
            }
            continue;
        };
        let key = text(&s[i..i + klen]);
        i += klen + 1;
        match s.get(i) {
            Some(b'"') => {
                let start = i + 1;
                let mut j = start;
                let end = loop {
                    match s[j..].iter().position(|c| *c == b'"') {
                        Some(off) => {
                            let q = j + off;
                            let after = q + 1;
                            let closes = after >= s.len()
                                || (nested && s[after] == b'\'')
                                || (is_sep(s[after]) && ends_value(s, skip_seps(s, after), nested));
                            if closes {
                                break Some(q);
                            }
                            j = q + 1;
                        }
                        None => break None,
                    }
                };
                match end {
                    Some(q) => {
                        out.push((key, text(&s[start..q]), Quoting::Quoted));
                        i = q + 1;
                    }
                    None => {
                        // Unterminated: keep the rest.
                        out.push((key, text(&s[start..]), Quoting::Quoted));
                        return s.len();
                    }
                }
            }
            Some(b'\'') if key == "msg" => {
                let before = out.len();
                let start = i + 1;
                let after = scan(s, start, true, out);
                if out.len() == before {
                    // `msg='free text'`: keep it as the value.
                    let end = if after > start && s.get(after - 1) == Some(&b'\'') {
                        after - 1
                    } else {
                        after
                    };
                    out.push((key, text(&s[start..end]), Quoting::Quoted));
                }
                i = after;
            }
            Some(b'\'') => {
                let start = i + 1;
                let end =
                    s[start..].iter().position(|c| *c == b'\'').map_or(s.len(), |o| start + o);
                out.push((key, text(&s[start..end]), Quoting::Quoted));
                i = (end + 1).min(s.len());
            }
            Some(b'[') => {
                let end = list_end(s, i);
                let raw = text(&s[i..end]);
                match serde_json::from_str::<Vec<String>>(&raw) {
                    Ok(items) => out.push((key, String::new(), Quoting::List(items))),
                    Err(_) => out.push((key, raw, Quoting::Plain)),
                }
                i = end;
            }
            _ => {
                // Unquoted: up to the next separator; words that follow and are no `key=`
                // belong to it (auoms writes `proctitle=` with spaces, unescaped).
                let start = i;
                let mut end = i;
                loop {
                    while end < s.len() && !is_sep(s[end]) && !(nested && s[end] == b'\'') {
                        end += 1;
                    }
                    let next = skip_seps(s, end);
                    if end < s.len() && s[end] != 0x1d && !ends_value(s, next, nested) {
                        end = next;
                        continue;
                    }
                    break;
                }
                out.push((key, text(&s[start..end]), Quoting::Plain));
                i = end;
            }
        }
    }
}

/// The end (exclusive) of a `[ … ]` value starting at `start`, honouring JSON strings.
fn list_end(s: &[u8], start: usize) -> usize {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (k, &c) in s.iter().enumerate().skip(start) {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' => depth += 1,
            b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return k + 1;
                }
            }
            _ if is_sep(c) && depth == 0 => return k,
            _ => {}
        }
    }
    s.len()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The architecture name of an audit `arch=` value.
fn arch_name(arch: &str) -> Option<&'static str> {
    Some(match arch.to_ascii_lowercase().as_str() {
        "c000003e" => "x86_64",
        "40000003" => "i386",
        "c00000b7" => "aarch64",
        "40000028" => "armeb",
        "c0000015" => "ppc64le",
        "80000016" => "s390x",
        "c00000f3" => "riscv64",
        _ => return None,
    })
}

/// A user id that means "not set".
fn unset_id(v: &str) -> bool {
    matches!(v, "4294967295" | "-1" | "unset" | "?" | "")
}

fn usable(v: &str) -> bool {
    !matches!(v, "" | "?" | "(null)" | "(none)" | "unset")
}

/// Write a record into `e`: `event.module` `auditd`, `auditd.*` and ECS (see the crate docs).
pub(crate) fn apply(e: &mut Event, rec: &Record) {
    ecs::module(e, "auditd", "auditd.log");
    if let Some(t) = rec.time {
        e.timestamp = t;
    }
    let kind = rec.record_type.as_str();
    set_str(e, "auditd.message_type", &kind.to_ascii_lowercase());
    if let Some(n) = rec.sequence
        && let Ok(n) = i64::try_from(n)
    {
        set_int(e, "auditd.sequence", n);
    }
    if let Some(node) = &rec.node {
        set_str(e, "host.name", node);
    }
    for (k, v) in &rec.fields {
        let path = ecs::join("auditd.data", k);
        match v {
            Field::Text(s) => e.fields.insert(path, Value::Str(s.clone())),
            Field::List(items) => e
                .fields
                .insert(path, Value::List(items.iter().map(|s| Value::Str(s.clone())).collect())),
        };
    }
    let get = |k: &str| rec.get(k).filter(|v| usable(v));

    // The interpreted names auditd's ENRICHED format appends (`ARCH`, `SYSCALL`): filled in
    // for RAW records, so rules can name the system call whatever the log format.
    let arch = rec.get("ARCH").map(str::to_owned).or_else(|| {
        rec.get("arch").map(|a| arch_name(a).map_or_else(|| a.to_owned(), str::to_owned))
    });
    if let Some(a) = &arch
        && rec.get("ARCH").is_none()
        && rec.get("arch").is_some()
    {
        set_str(e, "auditd.data.ARCH", a);
    }
    let syscall: Option<String> = match (rec.get("SYSCALL"), rec.get("syscall")) {
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(n)) if n.bytes().all(|c| c.is_ascii_digit()) => {
            if arch.as_deref() == Some("x86_64") {
                n.parse().ok().and_then(tables::syscall_x86_64).map(str::to_owned)
            } else {
                None
            }
        }
        (None, Some(name)) => Some(name.to_owned()),
        (None, None) => None,
    };
    if let Some(name) = &syscall
        && rec.get("SYSCALL").is_none()
    {
        set_str(e, "auditd.data.SYSCALL", name);
    }

    // Process.
    if let Some(pid) = get("pid") {
        set_int_str(e, "process.pid", pid);
    }
    if let Some(ppid) = get("ppid") {
        set_int_str(e, "process.parent.pid", ppid);
    }
    if let Some(exe) = get("exe") {
        set_str(e, "process.executable", exe);
    }
    if let Some(comm) = get("comm") {
        set_str(e, "process.name", comm);
    }
    if let Some(cwd) = get("cwd") {
        set_str(e, "process.working_directory", cwd);
    }

    // Users: ids as written, names from ENRICHED (`UID="root"`) or auoms (`user=root`).
    for (id_key, name_keys, path) in [
        ("uid", &["UID", "user"][..], "user"),
        ("auid", &["AUID", "audit_user"][..], "user.audit"),
        ("euid", &["EUID", "effective_user"][..], "user.effective"),
    ] {
        if let Some(id) = rec.get(id_key).filter(|v| !unset_id(v)) {
            set_str(e, &ecs::join(path, "id"), id);
        }
        if let Some(name) = name_keys.iter().find_map(|k| get(k)).filter(|v| !unset_id(v)) {
            ecs::set_user(e, &ecs::join(path, "name"), name);
        }
    }
    if let Some(gid) = rec.get("gid").filter(|v| !unset_id(v)) {
        set_str(e, "user.group.id", gid);
    }
    if let Some(name) = get("GID").or_else(|| get("group")) {
        set_str(e, "user.group.name", name);
    }

    // Outcome: `success=yes|no` (syscalls), `res=success|failed` or `res=1|0` (user space).
    let outcome = match (rec.get("success"), rec.get("res")) {
        (Some("yes"), _) | (None, Some("success" | "1")) => Some("success"),
        (Some("no"), _) | (None, Some("failed" | "0")) => Some("failure"),
        _ => None,
    };
    if let Some(o) = outcome {
        set_str(e, "event.outcome", o);
    }

    match kind {
        // A process start is the joined event of the execve's records ([`join`]), not each
        // of its records: SYSCALL and EXECVE get no category of their own.
        "SYSCALL" => {}
        "EXECVE" => {
            let argc: Option<usize> = rec.get("argc").and_then(|n| n.parse().ok());
            let args = rec.fields.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)));
            set_args(e, argc, args);
        }
        "AUOMS_EXECVE" => {
            if let Some(cmd) = get("cmdline") {
                set_str(e, "process.command_line", cmd);
            }
            if outcome != Some("failure") {
                categorize(e, &["process"], &["start"]);
            }
        }
        "PROCTITLE" => {
            if let Some(t) = get("proctitle") {
                set_str(e, "process.title", t);
            }
        }
        "PATH" => {
            if let Some(name) = get("name") {
                set_str(e, "file.path", name);
            }
            if let Some(v) = get("inode") {
                set_str(e, "file.inode", v);
            }
            if let Some(v) = get("ouid") {
                set_str(e, "file.uid", v);
            }
            if let Some(v) = get("ogid") {
                set_str(e, "file.gid", v);
            }
            match rec.get("nametype") {
                Some("CREATE") => categorize(e, &["file"], &["creation"]),
                Some("DELETE") => categorize(e, &["file"], &["deletion"]),
                _ => {}
            }
        }
        _ => other(e, rec, kind),
    }
}

/// `process.args`, `process.command_line` (the arguments joined by spaces) and
/// `process.args_count` from EXECVE `a<n>` fields (any order; those at or past `argc` are not
/// arguments).
fn set_args<'a>(
    e: &mut Event,
    argc: Option<usize>,
    fields: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let mut args: Vec<(usize, &str)> = fields
        .filter(|(k, _)| is_arg(k))
        .filter_map(|(k, v)| Some((k[1..].parse().ok()?, v)))
        .filter(|(n, _)| argc.is_none_or(|c| *n < c))
        .collect();
    args.sort_by_key(|(n, _)| *n);
    args.dedup_by_key(|(n, _)| *n);
    if !args.is_empty() {
        let list: Vec<Value> = args.iter().map(|(_, a)| Value::Str((*a).to_owned())).collect();
        let line: Vec<&str> = args.iter().map(|(_, a)| *a).collect();
        e.fields.insert("process.args".to_owned(), Value::List(list));
        set_str(e, "process.command_line", &line.join(" "));
    }
    if let Some(c) = argc {
        set_int(e, "process.args_count", c as i64);
    }
}

/// Other records, mostly user space (PAM, login, account management): categories by type, the
/// account acted on (`acct`) and the remote end (`addr`, `hostname`).
fn other(e: &mut Event, rec: &Record, kind: &str) {
    let get = |k: &str| rec.get(k).filter(|v| usable(v));
    let (categories, types): (&[&str], &[&str]) = match kind {
        "USER_AUTH" | "USER_ACCT" | "CRED_ACQ" | "CRED_REFR" | "CRED_DISP" | "USER_ERR"
        | "LOGIN" | "GRP_AUTH" => (&["authentication"], &["info"]),
        "USER_LOGIN" => (&["authentication", "session"], &["start"]),
        "USER_LOGOUT" => (&["authentication", "session"], &["end"]),
        "USER_START" => (&["session"], &["start"]),
        "USER_END" => (&["session"], &["end"]),
        "ADD_USER" => (&["iam"], &["user", "creation"]),
        "DEL_USER" => (&["iam"], &["user", "deletion"]),
        "ADD_GROUP" => (&["iam"], &["group", "creation"]),
        "DEL_GROUP" => (&["iam"], &["group", "deletion"]),
        "USER_MGMT" | "USER_CHAUTHTOK" | "ACCT_LOCK" | "ACCT_UNLOCK" => {
            (&["iam"], &["user", "change"])
        }
        "GRP_MGMT" | "GRP_CHAUTHTOK" => (&["iam"], &["group", "change"]),
        _ => (&[], &[]),
    };
    categorize(e, categories, types);
    // `acct` is the account authenticated or managed.
    if let Some(acct) = get("acct") {
        let path = if categories.contains(&"iam") { "user.target.name" } else { "user.name" };
        ecs::set_user(e, path, acct);
    }
    if let Some(addr) = get("addr") {
        ecs::set_endpoint(e, "source", addr);
    }
    if let Some(host) = get("hostname")
        && ecs::parse_ip(host).is_none()
    {
        set_str(e, "source.domain", host);
    }
}
