//! ECS fields for the common Windows events, after the Elastic winlogbeat / Agent pipelines
//! (Sysmon, Security, System). The raw event data is always kept under `winlog.event_data.*`;
//! these are additions for analysts and ECS-based content.

use sen_core::event::{Event, Value};

use super::Audit;
use crate::ecs::{categorize, parse_ip, push_ip, set_int, set_ip, set_port, set_str, set_user};

/// Read access to an event's data fields (`EventData` first, then `UserData`).
pub(super) struct Fields<'a> {
    pub(super) data: &'a [(String, Value)],
    pub(super) user_data: &'a [(String, Value)],
}

impl<'a> Fields<'a> {
    /// The text of a field as written, unless blank or `-` (Windows' "no value").
    pub(super) fn get(&self, name: &str) -> Option<&'a str> {
        let find = |list: &'a [(String, Value)]| {
            list.iter().rev().find(|(k, _)| k == name).and_then(|(_, v)| v.as_str())
        };
        let v = find(self.data).or_else(|| find(self.user_data))?;
        let t = v.trim();
        (!t.is_empty() && t != "-").then_some(v)
    }
}

/// `C:\Windows\System32\cmd.exe` → `cmd.exe`.
fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// `<prefix>.executable` and `<prefix>.name`.
fn executable(e: &mut Event, prefix: &str, path: Option<&str>) {
    let Some(path) = path else { return };
    set_str(e, &format!("{prefix}.executable"), path);
    let name = basename(path);
    if !name.is_empty() {
        set_str(e, &format!("{prefix}.name"), name);
    }
}

/// A process id written in decimal (Sysmon) or `0x` hex (Security).
fn pid(e: &mut Event, path: &str, v: Option<&str>) {
    // 0 is Windows' "no process" (`ProcessId` 0x0 of a network logon).
    if let Some(n) = v.and_then(super::int_text).filter(|n| *n > 0) {
        set_int(e, path, n);
    }
}

fn text(e: &mut Event, path: &str, v: Option<&str>) {
    if let Some(v) = v {
        set_str(e, path, v);
    }
}

/// `DOMAIN\name` (Sysmon `User`) into `user.domain` and `user.name`.
fn domain_user(e: &mut Event, prefix: &str, v: Option<&str>) {
    let Some(v) = v else { return };
    match v.split_once('\\') {
        Some((d, n)) => {
            if !d.is_empty() {
                set_str(e, &format!("{prefix}.domain"), d);
            }
            set_user(e, &format!("{prefix}.name"), n);
        }
        None => set_user(e, &format!("{prefix}.name"), v),
    }
}

/// `user.name`, `user.domain`, `user.id` from a Security event's `<Side>UserName`,
/// `<Side>DomainName`, `<Side>UserSid`.
fn account(e: &mut Event, prefix: &str, f: &Fields<'_>, side: &str) {
    if let Some(n) = f.get(&format!("{side}UserName")) {
        set_user(e, &format!("{prefix}.name"), n);
    }
    text(e, &format!("{prefix}.domain"), f.get(&format!("{side}DomainName")));
    text(e, &format!("{prefix}.id"), f.get(&format!("{side}UserSid")));
}

/// `<side>.ip` (and `related.ip`) when `v` is an IP address (IPv4-mapped IPv6 made IPv4).
fn ip(e: &mut Event, side: &str, v: Option<&str>) {
    if let Some(ip) = v.and_then(parse_ip) {
        set_ip(e, side, ip.to_canonical());
    }
}

/// A port, unless 0 (Windows' "no port").
fn port(e: &mut Event, path: &str, v: Option<&str>) {
    if let Some(p) = v.filter(|p| p.trim() != "0") {
        set_port(e, path, p);
    }
}

/// Sysmon `Hashes` (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`) into `<prefix>.hash.*` (lower case) and
/// `<prefix>.pe.imphash`, each also in `related.hash`.
fn hashes(e: &mut Event, prefix: &str, v: Option<&str>) {
    let Some(v) = v else { return };
    for part in v.split(',') {
        let Some((algo, hash)) = part.split_once('=') else { continue };
        let hash = hash.trim().to_ascii_lowercase();
        if hash.is_empty() {
            continue;
        }
        let algo = algo.trim().to_ascii_lowercase();
        let path = match algo.as_str() {
            "imphash" => format!("{prefix}.pe.imphash"),
            "md5" | "sha1" | "sha256" | "sha384" | "sha512" => format!("{prefix}.hash.{algo}"),
            _ => continue,
        };
        e.push("related.hash", &hash);
        e.fields.insert(path, Value::Str(hash));
    }
}

/// `file.path`, `file.name`, `file.directory`, `file.extension`.
fn file(e: &mut Event, path: Option<&str>) {
    let Some(path) = path else { return };
    set_str(e, "file.path", path);
    let name = basename(path);
    if name.is_empty() {
        return;
    }
    set_str(e, "file.name", name);
    if let Some(dir) = path.get(..path.len() - name.len()).map(|d| d.trim_end_matches(['\\', '/']))
        && !dir.is_empty()
    {
        set_str(e, "file.directory", dir);
    }
    if let Some((stem, ext)) = name.rsplit_once('.')
        && !stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= 16
    {
        set_str(e, "file.extension", &ext.to_ascii_lowercase());
    }
}

/// Sysmon writes `?` for PE metadata it could not read.
fn keep(v: Option<&str>) -> Option<&str> {
    v.filter(|v| *v != "?")
}

/// PE metadata of Sysmon process and image events.
fn pe(e: &mut Event, prefix: &str, f: &Fields<'_>) {
    text(e, &format!("{prefix}.pe.original_file_name"), keep(f.get("OriginalFileName")));
    text(e, &format!("{prefix}.pe.company"), keep(f.get("Company")));
    text(e, &format!("{prefix}.pe.description"), keep(f.get("Description")));
    text(e, &format!("{prefix}.pe.product"), keep(f.get("Product")));
    text(e, &format!("{prefix}.pe.file_version"), keep(f.get("FileVersion")));
}

/// Code signature of Sysmon image and driver loads.
fn signature(e: &mut Event, f: &Fields<'_>) {
    if let Some(s) = f.get("Signed") {
        e.fields.insert("file.code_signature.signed".to_owned(), Value::Bool(s == "true"));
    }
    text(e, "file.code_signature.subject_name", f.get("Signature"));
    if let Some(s) = f.get("SignatureStatus") {
        set_str(e, "file.code_signature.status", s);
        e.fields.insert("file.code_signature.valid".to_owned(), Value::Bool(s == "Valid"));
    }
}

/// The Sysmon process fields every event has (`Image`, `ProcessId`, `ProcessGuid`, `User`).
fn sysmon_process(e: &mut Event, f: &Fields<'_>) {
    executable(e, "process", f.get("Image"));
    pid(e, "process.pid", f.get("ProcessId"));
    text(e, "process.entity_id", f.get("ProcessGuid"));
}

/// Sysmon (`Microsoft-Windows-Sysmon/Operational`).
pub(super) fn sysmon(e: &mut Event, id: i64, f: &Fields<'_>) {
    text(e, "rule.name", f.get("RuleName"));
    domain_user(e, "user", f.get("User"));
    match id {
        1 => {
            categorize(e, &["process"], &["start"]);
            sysmon_process(e, f);
            text(e, "process.command_line", f.get("CommandLine"));
            text(e, "process.working_directory", f.get("CurrentDirectory"));
            pe(e, "process", f);
            hashes(e, "process", f.get("Hashes"));
            executable(e, "process.parent", f.get("ParentImage"));
            pid(e, "process.parent.pid", f.get("ParentProcessId"));
            text(e, "process.parent.entity_id", f.get("ParentProcessGuid"));
            text(e, "process.parent.command_line", f.get("ParentCommandLine"));
            text(e, "winlog.logon.id", f.get("LogonId"));
        }
        2 => {
            categorize(e, &["file"], &["change"]);
            sysmon_process(e, f);
            file(e, f.get("TargetFilename"));
        }
        3 => {
            categorize(e, &["network"], &["connection", "start"]);
            sysmon_process(e, f);
            ip(e, "source", f.get("SourceIp"));
            port(e, "source.port", f.get("SourcePort"));
            text(e, "source.domain", f.get("SourceHostname"));
            ip(e, "destination", f.get("DestinationIp"));
            port(e, "destination.port", f.get("DestinationPort"));
            text(e, "destination.domain", f.get("DestinationHostname"));
            if let Some(p) = f.get("Protocol") {
                set_str(e, "network.transport", &p.to_ascii_lowercase());
            }
            match f.get("Initiated") {
                Some("true") => set_str(e, "network.direction", "egress"),
                Some("false") => set_str(e, "network.direction", "ingress"),
                _ => {}
            }
            let v6 = f.get("SourceIsIpv6").or_else(|| f.get("DestinationIsIpv6"));
            match v6 {
                Some("true") => set_str(e, "network.type", "ipv6"),
                Some("false") => set_str(e, "network.type", "ipv4"),
                _ => {}
            }
        }
        4 | 16 => categorize(e, &["configuration"], &["change"]),
        5 => {
            categorize(e, &["process"], &["end"]);
            sysmon_process(e, f);
        }
        6 => {
            categorize(e, &["driver"], &["start"]);
            file(e, f.get("ImageLoaded"));
            hashes(e, "file", f.get("Hashes"));
            signature(e, f);
        }
        7 => {
            categorize(e, &["process"], &["change"]);
            sysmon_process(e, f);
            file(e, f.get("ImageLoaded"));
            hashes(e, "file", f.get("Hashes"));
            pe(e, "file", f);
            signature(e, f);
        }
        8 | 10 => {
            categorize(e, &["process"], if id == 8 { &["change"] } else { &["access"] });
            executable(e, "process", f.get("SourceImage"));
            pid(e, "process.pid", f.get("SourceProcessId"));
            text(e, "process.entity_id", f.get("SourceProcessGuid").or(f.get("SourceProcessGUID")));
            pid(e, "process.thread.id", f.get("SourceThreadId"));
            if let Some(u) = f.get("SourceUser") {
                domain_user(e, "user", Some(u));
            }
        }
        9 => {
            categorize(e, &["process"], &["access"]);
            sysmon_process(e, f);
            text(e, "file.path", f.get("Device"));
        }
        11 | 29 => {
            categorize(e, &["file"], &["creation"]);
            sysmon_process(e, f);
            file(e, f.get("TargetFilename"));
            hashes(e, "file", f.get("Hashes"));
        }
        12..=14 => {
            sysmon_process(e, f);
            registry(e, id, f);
        }
        15 => {
            categorize(e, &["file"], &["creation"]);
            sysmon_process(e, f);
            file(e, f.get("TargetFilename"));
            hashes(e, "file", f.get("Hash").or(f.get("Hashes")));
        }
        17 | 18 => {
            categorize(e, &["file"], if id == 17 { &["creation"] } else { &["access"] });
            sysmon_process(e, f);
            text(e, "file.name", f.get("PipeName"));
        }
        22 => {
            categorize(e, &["network"], &["connection", "protocol", "info"]);
            sysmon_process(e, f);
            set_str(e, "network.protocol", "dns");
            text(e, "dns.question.name", f.get("QueryName"));
            if let Some(code) = f.get("QueryStatus").and_then(dns_status) {
                set_str(e, "dns.response_code", code);
            }
            if let Some(results) = f.get("QueryResults") {
                dns_results(e, results);
            }
        }
        23 | 26 => {
            categorize(e, &["file"], &["deletion"]);
            sysmon_process(e, f);
            file(e, f.get("TargetFilename"));
            hashes(e, "file", f.get("Hashes"));
        }
        25 => {
            categorize(e, &["process"], &["change"]);
            sysmon_process(e, f);
        }
        _ => sysmon_process(e, f),
    }
}

/// Sysmon 12/13/14: `registry.path` (= `TargetObject`), `registry.hive`, `registry.key`,
/// `registry.value` (value events), `registry.data.*` (13).
fn registry(e: &mut Event, id: i64, f: &Fields<'_>) {
    let kind = f.get("EventType").unwrap_or_default();
    let types: &[&str] = match (id, kind) {
        (12, "CreateKey") => &["creation"],
        (12, "DeleteKey" | "DeleteValue") => &["deletion"],
        _ => &["change"],
    };
    categorize(e, &["configuration", "registry"], types);
    let Some(path) = f.get("TargetObject") else { return };
    set_str(e, "registry.path", path);
    let (root, rest) = path.split_once('\\').unwrap_or((path, ""));
    let hive = match root.to_ascii_uppercase().as_str() {
        "HKLM" | "HKEY_LOCAL_MACHINE" => Some("HKLM"),
        "HKU" | "HKEY_USERS" => Some("HKU"),
        "HKCU" | "HKEY_CURRENT_USER" => Some("HKCU"),
        "HKCR" | "HKEY_CLASSES_ROOT" => Some("HKCR"),
        "HKCC" | "HKEY_CURRENT_CONFIG" => Some("HKCC"),
        _ => None,
    };
    let key_part = if hive.is_some() { rest } else { path };
    if let Some(h) = hive {
        set_str(e, "registry.hive", h);
    }
    let is_value = id == 13 || matches!(kind, "SetValue" | "DeleteValue");
    if is_value {
        match key_part.rsplit_once('\\') {
            Some((key, value)) => {
                set_str(e, "registry.key", key);
                set_str(e, "registry.value", value);
            }
            None => set_str(e, "registry.value", key_part),
        }
    } else if !key_part.is_empty() {
        set_str(e, "registry.key", key_part);
    }
    if id == 13
        && let Some(details) = f.get("Details")
    {
        let (kind, data) = registry_data(details);
        set_str(e, "registry.data.type", kind);
        e.fields.insert("registry.data.strings".to_owned(), Value::List(vec![Value::Str(data)]));
    }
}

/// Sysmon's rendering of registry data: `DWORD (0x00000001)`, `QWORD (0x…-0x…)`,
/// `Binary Data`, or the string itself.
fn registry_data(details: &str) -> (&'static str, String) {
    let hex = |s: &str| {
        s.strip_prefix('(')?.strip_suffix(')')?.strip_prefix("0x").map(|h| h.replace("-0x", ""))
    };
    if let Some(rest) = details.strip_prefix("DWORD ")
        && let Some(n) = hex(rest).and_then(|h| u64::from_str_radix(&h, 16).ok())
    {
        return ("REG_DWORD", n.to_string());
    }
    if let Some(rest) = details.strip_prefix("QWORD ")
        && let Some(n) = hex(rest).and_then(|h| u64::from_str_radix(&h, 16).ok())
    {
        return ("REG_QWORD", n.to_string());
    }
    if details == "Binary Data" {
        return ("REG_BINARY", details.to_owned());
    }
    ("REG_SZ", details.to_owned())
}

/// DNS response code for Sysmon 22 `QueryStatus` (a Win32 DNS status).
fn dns_status(s: &str) -> Option<&'static str> {
    Some(match s {
        "0" => "NOERROR",
        "9001" => "FORMERR",
        "9002" => "SERVFAIL",
        "9003" => "NXDOMAIN",
        "9004" => "NOTIMP",
        "9005" => "REFUSED",
        _ => return None,
    })
}

/// Sysmon 22 `QueryResults` (`type:  5 cname.example;::ffff:1.2.3.4;`): the addresses into
/// `dns.resolved_ip` (and `related.ip`).
fn dns_results(e: &mut Event, results: &str) {
    for r in results.split(';') {
        if let Some(ip) = parse_ip(r) {
            let ip = ip.to_canonical();
            push_ip(e, "dns.resolved_ip", ip);
            push_ip(e, "related.ip", ip);
        }
    }
}

/// Logon type names (winlogbeat `winlog.logon.type`).
fn logon_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "0" => "System",
        "2" => "Interactive",
        "3" => "Network",
        "4" => "Batch",
        "5" => "Service",
        "7" => "Unlock",
        "8" => "NetworkCleartext",
        "9" => "NewCredentials",
        "10" => "RemoteInteractive",
        "11" => "CachedInteractive",
        "12" => "CachedRemoteInteractive",
        "13" => "CachedUnlock",
        _ => return None,
    })
}

/// `FailureReason` message ids (`%%2313`) of 4625, in their English text.
fn failure_reason(r: &str) -> Option<&'static str> {
    Some(match r {
        "%%2304" => "An Error occurred during Logon.",
        "%%2305" => "The specified user account has expired.",
        "%%2306" => "The NetLogon component is not active.",
        "%%2307" => "Account locked out.",
        "%%2308" => "The user has not been granted the requested logon type at this machine.",
        "%%2309" => "The specified account's password has expired.",
        "%%2310" => "Account currently disabled.",
        "%%2311" => "Account logon time restriction violation.",
        "%%2312" => "User not allowed to logon at this computer.",
        "%%2313" => "Unknown user name or bad password.",
        _ => return None,
    })
}

fn outcome(e: &mut Event, success: bool) {
    set_str(e, "event.outcome", if success { "success" } else { "failure" });
}

fn action(e: &mut Event, a: &str) {
    set_str(e, "event.action", a);
}

/// The logon fields of 4624/4625/4648 (`source.*`, `winlog.logon.type`, process).
fn logon(e: &mut Event, f: &Fields<'_>) {
    if let Some(name) = f.get("LogonType").and_then(logon_type) {
        set_str(e, "winlog.logon.type", name);
    }
    ip(e, "source", f.get("IpAddress"));
    port(e, "source.port", f.get("IpPort"));
    text(e, "source.domain", f.get("WorkstationName"));
    executable(e, "process", f.get("ProcessName"));
    pid(e, "process.pid", f.get("ProcessId"));
}

/// A Security user-account event: the actor in `user.*`, the account in `user.target.*`.
fn iam_user(e: &mut Event, f: &Fields<'_>, kind: &str, act: &str) {
    categorize(e, &["iam"], &["user", kind]);
    action(e, act);
    account(e, "user", f, "Subject");
    account(e, "user.target", f, "Target");
    if let Some(n) = f.get("TargetUserName") {
        e.push("related.user", n);
    }
}

/// A Security group event: the actor in `user.*`, the group in `group.*`, the member (if any)
/// in `user.target.*`.
fn iam_group(e: &mut Event, f: &Fields<'_>, kind: &str, act: &str) {
    categorize(e, &["iam"], &["group", kind]);
    action(e, act);
    account(e, "user", f, "Subject");
    text(e, "group.name", f.get("TargetUserName"));
    text(e, "group.domain", f.get("TargetDomainName"));
    text(e, "group.id", f.get("TargetSid"));
    text(e, "user.target.id", f.get("MemberSid"));
    // `MemberName` is a distinguished name: `CN=Bob,OU=…`.
    if let Some(cn) = f.get("MemberName").and_then(|dn| dn.strip_prefix("CN=")) {
        let name = cn.split(',').next().unwrap_or(cn);
        set_str(e, "user.target.name", name);
        e.push("related.user", name);
    }
}

/// Security (`Microsoft-Windows-Security-Auditing`, the `Security` channel).
pub(super) fn security(e: &mut Event, id: i64, f: &Fields<'_>, audit: Option<Audit>) {
    if let Some(a) = audit {
        outcome(e, a == Audit::Success);
    }
    match id {
        4624 | 4625 => {
            categorize(e, &["authentication"], &["start"]);
            action(e, if id == 4624 { "logged-in" } else { "logon-failed" });
            outcome(e, id == 4624);
            account(e, "user", f, "Target");
            logon(e, f);
            if id == 4624 {
                text(e, "winlog.logon.id", f.get("TargetLogonId"));
            } else {
                text(e, "winlog.logon.failure.status", f.get("Status"));
                text(e, "winlog.logon.failure.sub_status", f.get("SubStatus"));
                if let Some(r) = f.get("FailureReason") {
                    set_str(e, "winlog.logon.failure.reason", failure_reason(r).unwrap_or(r));
                }
            }
        }
        4634 | 4647 => {
            categorize(e, &["authentication"], &["end"]);
            action(e, "logged-out");
            account(e, "user", f, "Target");
            text(e, "winlog.logon.id", f.get("TargetLogonId"));
            if let Some(name) = f.get("LogonType").and_then(logon_type) {
                set_str(e, "winlog.logon.type", name);
            }
        }
        4648 => {
            categorize(e, &["authentication"], &["start"]);
            action(e, "logged-in-explicit");
            account(e, "user", f, "Subject");
            if let Some(n) = f.get("TargetUserName") {
                set_user(e, "user.effective.name", n);
            }
            text(e, "user.effective.domain", f.get("TargetDomainName"));
            text(e, "destination.domain", f.get("TargetServerName"));
            logon(e, f);
        }
        4672 => {
            categorize(e, &["iam"], &["admin"]);
            action(e, "logged-in-special");
            account(e, "user", f, "Subject");
            text(e, "winlog.logon.id", f.get("SubjectLogonId"));
        }
        4688 => {
            categorize(e, &["process"], &["start"]);
            action(e, "created-process");
            account(e, "user", f, "Subject");
            executable(e, "process", f.get("NewProcessName"));
            pid(e, "process.pid", f.get("NewProcessId"));
            text(e, "process.command_line", f.get("CommandLine"));
            executable(e, "process.parent", f.get("ParentProcessName"));
            pid(e, "process.parent.pid", f.get("ProcessId"));
        }
        4689 => {
            categorize(e, &["process"], &["end"]);
            action(e, "exited-process");
            account(e, "user", f, "Subject");
            executable(e, "process", f.get("ProcessName"));
            pid(e, "process.pid", f.get("ProcessId"));
        }
        4720 => iam_user(e, f, "creation", "added-user-account"),
        4722 => iam_user(e, f, "change", "enabled-user-account"),
        4723 => iam_user(e, f, "change", "changed-password"),
        4724 => iam_user(e, f, "change", "reset-password"),
        4725 => iam_user(e, f, "change", "disabled-user-account"),
        4726 => iam_user(e, f, "deletion", "deleted-user-account"),
        4738 => iam_user(e, f, "change", "modified-user-account"),
        4740 => iam_user(e, f, "change", "locked-out-user-account"),
        4767 => iam_user(e, f, "change", "unlocked-user-account"),
        4781 => {
            iam_user(e, f, "change", "renamed-user-account");
            if let Some(n) = f.get("NewTargetUserName") {
                set_user(e, "user.target.name", n);
            }
        }
        4798 => iam_user(e, f, "info", "group-membership-enumerated"),
        4727 | 4731 | 4754 | 4744 | 4749 | 4759 => {
            iam_group(e, f, "creation", "added-group-account");
        }
        4730 | 4734 | 4758 | 4748 | 4753 | 4763 => {
            iam_group(e, f, "deletion", "deleted-group-account");
        }
        4735 | 4737 | 4755 | 4745 | 4750 | 4760 => {
            iam_group(e, f, "change", "modified-group-account");
        }
        4728 | 4732 | 4756 | 4746 | 4751 | 4761 => {
            iam_group(e, f, "change", "added-member-to-group");
        }
        4729 | 4733 | 4757 | 4747 | 4752 | 4762 => {
            iam_group(e, f, "change", "removed-member-from-group");
        }
        4799 => iam_group(e, f, "info", "user-member-enumerated"),
        4768 | 4769 | 4771 | 4776 => {
            categorize(e, &["authentication"], &["start"]);
            action(
                e,
                match id {
                    4768 => "kerberos-authentication-ticket-requested",
                    4769 => "kerberos-service-ticket-requested",
                    4771 => "kerberos-preauth-failed",
                    _ => "credential-validated",
                },
            );
            if let Some(n) = f.get("TargetUserName") {
                set_user(e, "user.name", n);
            }
            text(e, "user.domain", f.get("TargetDomainName"));
            text(e, "user.id", f.get("TargetSid"));
            ip(e, "source", f.get("IpAddress"));
            port(e, "source.port", f.get("IpPort"));
            text(e, "source.domain", f.get("Workstation"));
            text(e, "service.name", f.get("ServiceName"));
            match (id, f.get("Status")) {
                (4771, _) => outcome(e, false),
                (_, Some(s)) => outcome(e, super::int_text(s) == Some(0)),
                _ => {}
            }
        }
        5156..=5159 => {
            categorize(
                e,
                &["network"],
                if id == 5156 { &["connection", "allowed"] } else { &["connection", "denied"] },
            );
            ip(e, "source", f.get("SourceAddress"));
            port(e, "source.port", f.get("SourcePort"));
            ip(e, "destination", f.get("DestAddress"));
            port(e, "destination.port", f.get("DestPort"));
            if let Some(t) = f.get("Protocol").and_then(ip_protocol) {
                set_str(e, "network.transport", t);
            }
            match f.get("Direction") {
                Some("%%14592") => set_str(e, "network.direction", "inbound"),
                Some("%%14593") => set_str(e, "network.direction", "outbound"),
                _ => {}
            }
            executable(e, "process", f.get("Application"));
            pid(e, "process.pid", f.get("ProcessID").or(f.get("ProcessId")));
        }
        5140 | 5145 => {
            categorize(e, &["network", "file"], &["access"]);
            account(e, "user", f, "Subject");
            ip(e, "source", f.get("IpAddress"));
            port(e, "source.port", f.get("IpPort"));
        }
        4697 => {
            categorize(e, &["iam", "configuration"], &["admin", "creation"]);
            action(e, "service-installed");
            account(e, "user", f, "Subject");
            text(e, "service.name", f.get("ServiceName"));
        }
        4698..=4702 => {
            categorize(
                e,
                &["iam", "configuration"],
                &[match id {
                    4698 => "creation",
                    4699 => "deletion",
                    _ => "change",
                }],
            );
            action(
                e,
                match id {
                    4698 => "scheduled-task-created",
                    4699 => "scheduled-task-deleted",
                    4700 => "scheduled-task-enabled",
                    4701 => "scheduled-task-disabled",
                    _ => "scheduled-task-updated",
                },
            );
            account(e, "user", f, "Subject");
        }
        1102 => {
            categorize(e, &["iam"], &["admin", "change"]);
            action(e, "audit-log-cleared");
            account(e, "user", f, "Subject");
        }
        _ => {}
    }
    // Most other Security events name their actor as Subject*.
    if !e.fields.contains_key("user.name") {
        account(e, "user", f, "Subject");
    }
    if !e.fields.contains_key("source.ip") {
        ip(e, "source", f.get("IpAddress"));
    }
}

/// IANA protocol number (WFP events) as an ECS transport name.
fn ip_protocol(p: &str) -> Option<&'static str> {
    Some(match p {
        "1" => "icmp",
        "2" => "igmp",
        "6" => "tcp",
        "17" => "udp",
        "47" => "gre",
        "50" => "ipsec",
        "58" => "ipv6-icmp",
        _ => return None,
    })
}

/// Other channels: System service installs, PowerShell script blocks.
pub(super) fn other(e: &mut Event, id: i64, channel: Option<&str>, f: &Fields<'_>) {
    match (channel, id) {
        (Some("System"), 7045) => {
            categorize(e, &["iam", "configuration"], &["admin", "creation"]);
            action(e, "service-installed");
            text(e, "service.name", f.get("ServiceName"));
            if let Some(u) = f.get("AccountName") {
                set_user(e, "user.name", u);
            }
        }
        (Some("Microsoft-Windows-PowerShell/Operational"), 4104) => {
            text(e, "powershell.file.script_block_text", f.get("ScriptBlockText"));
            text(e, "powershell.file.script_block_id", f.get("ScriptBlockId"));
            text(e, "file.path", f.get("Path"));
        }
        _ => {}
    }
}
