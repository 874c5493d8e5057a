use sen_core::event::{Event, FieldRef, TAG_PARSE_FAILURE};

use super::*;
use crate::tests::{ctx, int, list, s};
use crate::{Format, normalize_line};

// The records of `arp -a` from OTRF Security-Datasets (Mordor), MIT licence:
// datasets/atomic/linux/discovery/host/sh_arp_cache.
const ARP: [&str; 6] = [
    r#"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=104 comm="arp" exe="/usr/sbin/arp" key=(null)"#,
    r#"type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1="-a""#,
    r#"type=CWD msg=audit(1604994496.155:92733): cwd="/home/wardog""#,
    r#"type=PATH msg=audit(1604994496.155:92733): item=0 name="/usr/sbin/arp" inode=13181 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"#,
    r#"type=PATH msg=audit(1604994496.155:92733): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=29514 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"#,
    r#"type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=617270002D61"#,
];

fn ev(i: usize, line: &str) -> Event {
    let mut e = Event::new(format!("r{i}"), ctx().received, line);
    normalize_line(&mut e, Format::Auto, &ctx());
    e
}

fn events(lines: &[&str]) -> Vec<Event> {
    lines.iter().enumerate().map(|(i, l)| ev(i, l)).collect()
}

/// Every event `with_joined` produces, and the joined ones.
fn join(lines: &[&str], limits: JoinLimits) -> (Vec<Event>, Vec<Event>) {
    let all = with_joined(events(lines), limits);
    let joined = all.iter().filter(|e| s(e, "event.dataset") == Some(JOINED_DATASET)).cloned();
    let joined = joined.collect();
    (all, joined)
}

/// `line` with the serial `serial` instead of ARP's.
fn serial(line: &str, serial: u64) -> String {
    line.replace(":92733)", &format!(":{serial})"))
}

#[test]
fn execve_records_become_one_process_start() {
    let (all, joined) = join(&ARP, JoinLimits::default());
    assert_eq!(all.len(), 7, "the six records and the joined event");
    assert_eq!(joined.len(), 1);
    let e = &joined[0];
    assert_eq!(s(e, "event.module"), Some("auditd"));
    assert_eq!(s(e, "event.dataset"), Some("auditd.event"));
    assert_eq!(list(e, "event.category"), ["process"]);
    assert_eq!(list(e, "event.type"), ["start"]);
    assert_eq!(s(e, "event.outcome"), Some("success"));
    assert_eq!(s(e, "process.executable"), Some("/usr/sbin/arp"));
    assert_eq!(s(e, "process.name"), Some("arp"));
    assert_eq!(s(e, "process.command_line"), Some("arp -a"));
    assert_eq!(list(e, "process.args"), ["arp", "-a"]);
    assert_eq!(int(e, "process.args_count"), Some(2));
    assert_eq!(s(e, "process.working_directory"), Some("/home/wardog"));
    assert_eq!(s(e, "process.title"), Some("arp -a"));
    assert_eq!(int(e, "process.pid"), Some(1631));
    assert_eq!(int(e, "process.parent.pid"), Some(29002));
    assert_eq!(s(e, "user.id"), Some("1000"));
    assert_eq!(s(e, "user.audit.id"), Some("1000"));
    assert_eq!(s(e, "file.path"), Some("/usr/sbin/arp"));
    assert_eq!(s(e, "file.inode"), Some("13181"));
    assert_eq!(int(e, "auditd.sequence"), Some(92733));
    assert_eq!(s(e, "auditd.message_type"), Some("syscall"));
    assert_eq!(
        list(e, "auditd.records"),
        ["syscall", "execve", "cwd", "path", "path", "proctitle"]
    );
    // The SYSCALL record's own data (its `a0` is the system call's argument, as Auditbeat has it).
    assert_eq!(s(e, "auditd.data.SYSCALL"), Some("execve"));
    assert_eq!(s(e, "auditd.data.a0"), Some("558e251634a0"));
    let Some(FieldRef::Json(paths)) = e.get("auditd.paths") else { panic!("auditd.paths") };
    assert_eq!(
        *paths,
        serde_json::json!([
            {"item":"0","name":"/usr/sbin/arp","inode":"13181","dev":"08:01","mode":"0100755","ouid":"0","ogid":"0","rdev":"00:00","nametype":"NORMAL","cap_fp":"0","cap_fi":"0","cap_fe":"0","cap_fver":"0","cap_frootid":"0"},
            {"item":"1","name":"/lib64/ld-linux-x86-64.so.2","inode":"29514","dev":"08:01","mode":"0100755","ouid":"0","ogid":"0","rdev":"00:00","nametype":"NORMAL","cap_fp":"0","cap_fi":"0","cap_fe":"0","cap_fver":"0","cap_frootid":"0"}
        ])
    );
    assert_eq!(e.timestamp, all[0].timestamp);
    assert_eq!(e.original, ARP.join("\n"));
    assert_eq!(e.id, sen_core::derive_id(&[b"auditd.join", b"r0"]));
    // The records keep their own events, none of them a process start on its own.
    for (r, line) in all.iter().zip(ARP) {
        assert_eq!(r.original, line);
        assert_eq!(s(r, "event.dataset"), Some("auditd.log"));
        assert!(r.get("event.category").is_none(), "{line}");
    }
}

#[test]
fn proctitle_or_eoe_closes_the_event_at_once() {
    // The kernel writes PROCTITLE last before EOE: the event is complete there.
    let mut lines: Vec<&str> = ARP.to_vec();
    lines.push("type=EOE msg=audit(1604994496.155:92733): ");
    let evs = events(&lines);
    let mut j = Joiner::new(JoinLimits::default());
    let mut out = Vec::new();
    for (i, e) in evs.into_iter().enumerate() {
        j.push(100 + i as u64, e, &mut out);
        if i < 5 {
            assert!(out.is_empty(), "nothing before the PROCTITLE");
            assert_eq!(j.oldest_open(), Some(100));
        }
    }
    assert_eq!(out.len(), 1, "the EOE after it opens nothing");
    assert_eq!((out[0].first, out[0].closed_at), (100, Some(105)));
    assert_eq!(j.open_groups(), 0);
    assert_eq!(j.oldest_open(), None);
    assert_eq!(s(&out[0].event, "process.command_line"), Some("arp -a"));
    // Without a PROCTITLE (a filtered log), the EOE closes it, and is one of its records.
    let mut lines: Vec<&str> = ARP[..5].to_vec();
    lines.push("type=EOE msg=audit(1604994496.155:92733): ");
    let mut out = Vec::new();
    for (i, e) in events(&lines).into_iter().enumerate() {
        j.push(200 + i as u64, e, &mut out);
    }
    assert_eq!((out[0].first, out[0].closed_at), (200, Some(205)));
    assert_eq!(list(&out[0].event, "auditd.records").last().map(String::as_str), Some("eoe"));
    assert_eq!(j.open_groups(), 0);
}

#[test]
fn interleaved_serials_are_told_apart() {
    // Two processes' records interleaved, as records of system calls ending on two CPUs can
    // be (no PROCTITLE here: their EOE records close them).
    let a: Vec<String> = ARP[..5].iter().map(|l| serial(l, 7001)).collect();
    let b: Vec<String> = ARP[..5]
        .iter()
        .map(|l| serial(l, 7002).replace("\"arp\"", "\"ip\"").replace("a0=\"arp\"", "a0=\"ip\""))
        .map(|l| l.replace("a1=\"-a\"", "a1=\"neigh\"").replace("/usr/sbin/arp", "/usr/sbin/ip"))
        .collect();
    let mut lines = Vec::new();
    for i in 0..5 {
        lines.push(a[i].as_str());
        lines.push(b[i].as_str());
    }
    lines.push("type=EOE msg=audit(1604994496.155:7002): ");
    lines.push("type=EOE msg=audit(1604994496.155:7001): ");
    let (all, joined) = join(&lines, JoinLimits::default());
    assert_eq!(all.len(), 12 + 2);
    let got: Vec<(Option<&str>, Option<&str>)> =
        joined.iter().map(|e| (s(e, "process.executable"), s(e, "process.command_line"))).collect();
    assert_eq!(
        got,
        [(Some("/usr/sbin/ip"), Some("ip neigh")), (Some("/usr/sbin/arp"), Some("arp -a"))],
        "in the order their EOE came"
    );
    // Each joined event right after its EOE.
    assert_eq!(s(&all[10], "auditd.message_type"), Some("eoe"));
    assert_eq!(s(&all[11], "event.dataset"), Some(JOINED_DATASET));
    assert_eq!(s(&all[12], "auditd.message_type"), Some("eoe"));
    assert_eq!(s(&all[13], "process.command_line"), Some("arp -a"));
    assert_eq!(
        list(&all[13], "auditd.records"),
        ["syscall", "execve", "cwd", "path", "path", "eoe"]
    );
}

#[test]
fn same_serial_from_two_hosts_is_two_events() {
    let lines: Vec<String> =
        ARP.iter().flat_map(|l| [format!("node=web01 {l}"), format!("node=web02 {l}")]).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (_, joined) = join(&refs, JoinLimits::default());
    let hosts: Vec<Option<&str>> = joined.iter().map(|e| s(e, "host.name")).collect();
    assert_eq!(hosts, [Some("web01"), Some("web02")]);
    assert!(joined.iter().all(|e| s(e, "process.command_line") == Some("arp -a")));
}

#[test]
fn without_proctitle_or_eoe_a_window_closes_the_event() {
    let limits = JoinLimits { window: 4, max_records: 64 };
    let mut j = Joiner::new(limits);
    let mut out = Vec::new();
    for (i, e) in events(&ARP[..5]).into_iter().enumerate() {
        j.push(10 + i as u64, e, &mut out);
    }
    // Last record at 14: open through offset 18, closed at 19.
    j.advance(18, &mut out);
    assert!(out.is_empty());
    j.advance(19, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].first, out[0].closed_at), (10, Some(19)));
    // The position does not depend on when the caller noticed: the same stream advanced in one
    // step far beyond closes at the same offset.
    let mut j = Joiner::new(limits);
    let mut late = Vec::new();
    for (i, e) in events(&ARP[..5]).into_iter().enumerate() {
        j.push(10 + i as u64, e, &mut late);
    }
    j.advance(5000, &mut late);
    assert_eq!(late[0].closed_at, Some(19));
    assert_eq!(late[0].event, out[0].event);
}

#[test]
fn open_groups_and_records_are_bounded() {
    // Records kept per group: three kept, the rest counted.
    let mut j = Joiner::new(JoinLimits { window: 8, max_records: 3 });
    let mut out = Vec::new();
    let mut offset = 0;
    for n in 0..100u64 {
        for l in ARP {
            j.push(offset, ev(offset as usize, &serial(l, 1000 + n)), &mut out);
            offset += 1;
        }
    }
    j.flush(&mut out);
    assert_eq!(out.len(), 100);
    let e = &out[0].event;
    assert_eq!(list(e, "auditd.records"), ["syscall", "execve", "cwd"]);
    assert_eq!(int(e, "auditd.records_dropped"), Some(3));
    assert_eq!(s(e, "process.command_line"), Some("arp -a"));
    assert!(e.get("file.path").is_none());
    // Open groups: 100 events interleaved record by record, so each event's records are 100
    // offsets apart. Never more than `window` groups are open (plus the one a record opens),
    // and the records too far apart to be joined still give their own events; the SYSCALL and
    // EXECVE records of the execve a process start each.
    let mut j = Joiner::new(JoinLimits { window: 8, max_records: 64 });
    let mut out = Vec::new();
    let mut offset = 0;
    let mut max_open = 0;
    for l in ARP {
        for n in 0..100u64 {
            j.push(offset, ev(offset as usize, &serial(l, 1000 + n)), &mut out);
            offset += 1;
            max_open = max_open.max(j.open_groups());
        }
    }
    j.flush(&mut out);
    assert!(max_open <= 9, "{max_open}");
    assert_eq!(j.open_groups(), 0);
    assert_eq!(out.len(), 200);
    let execve = out.iter().filter(|x| list(&x.event, "auditd.records") == ["execve"]).count();
    let syscall = out.iter().filter(|x| list(&x.event, "auditd.records") == ["syscall"]).count();
    assert_eq!((execve, syscall), (100, 100));
}

#[test]
fn malformed_and_foreign_lines_stay_their_own_events() {
    let lines = [
        ARP[0],
        "type=SYSCALL msg=audit(abc:92733): pid=1",
        "Nov 26 10:00:00 web01 sshd[1]: Accepted password for alice from 203.0.113.9 port 22 ssh2",
        "not a log line at all",
        ARP[1],
        ARP[2],
        ARP[3],
        ARP[4],
        ARP[5],
    ];
    let (all, joined) = join(&lines, JoinLimits::default());
    assert_eq!(all.len(), lines.len() + 1);
    for (e, l) in all.iter().zip(lines) {
        assert_eq!(e.original, l);
    }
    assert!(all[1].has_tag(TAG_PARSE_FAILURE) && all[3].has_tag(TAG_PARSE_FAILURE));
    assert_eq!(joined.len(), 1);
    assert_eq!(s(&joined[0], "process.command_line"), Some("arp -a"));
    assert_eq!(list(&joined[0], "auditd.records").len(), 6, "the bad line is not a record");
    assert!(!joined[0].original.contains("abc"));
}

#[test]
fn single_records_join_nothing_but_a_lone_execve_record_is_a_process_start() {
    let (all, joined) = join(
        &[
            "type=USER_LOGIN msg=audit(1700000000.123:4242): pid=812 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=sshd res=success'",
            "type=SERVICE_START msg=audit(1700000000.200:4243): pid=1 uid=0 msg='unit=cron comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" res=success'",
        ],
        JoinLimits::default(),
    );
    assert_eq!((all.len(), joined.len()), (2, 0));
    // User-space messages are whole events: they are not even held.
    let mut j = Joiner::new(JoinLimits::default());
    j.push(0, all[0].clone(), &mut Vec::new());
    assert_eq!(j.open_groups(), 0);
    // An excerpt with only the EXECVE record (grep EXECVE audit.log): its arguments are still
    // a process start for process_creation rules.
    let (_, joined) = join(&[ARP[1]], JoinLimits::default());
    assert_eq!(joined.len(), 1);
    assert_eq!(s(&joined[0], "process.command_line"), Some("arp -a"));
    assert_eq!(list(&joined[0], "event.type"), ["start"]);
    assert!(joined[0].get("process.executable").is_none());
    // The same for a lone SYSCALL record of an execve.
    let (_, joined) = join(&[ARP[0]], JoinLimits::default());
    assert_eq!(s(&joined[0], "process.executable"), Some("/usr/sbin/arp"));
    assert_eq!(list(&joined[0], "event.type"), ["start"]);
    assert!(joined[0].get("process.command_line").is_none());
    // Not for another system call's record.
    let (_, joined) = join(
        &["type=SYSCALL msg=audit(1.5:9): arch=c000003e syscall=87 success=yes exit=0 pid=2"],
        JoinLimits::default(),
    );
    assert!(joined.is_empty());
    // auoms records hold the whole event already.
    assert!(!joinable(&ev(0, "type=AUOMS_EXECVE audit(1652292621.990:84143): syscall=execve")));
}

#[test]
fn arguments_split_over_several_execve_records() {
    let lines = [
        "type=SYSCALL msg=audit(1.5:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 comm=\"sh\" exe=\"/bin/sh\"",
        "type=EXECVE msg=audit(1.5:7): argc=4 a0=\"sh\" a1=\"-c\" a2_len=6 a2[0]=616263",
        "type=EXECVE msg=audit(1.5:7): a2[1]=646566 a3=\"x y\"",
        "type=EOE msg=audit(1.5:7): ",
    ];
    let (_, joined) = join(&lines, JoinLimits::default());
    let e = &joined[0];
    // a2's chunks in two records: each record decodes its own, the argument is whole in order.
    assert_eq!(list(e, "process.args"), ["sh", "-c", "abc", "x y"]);
    assert_eq!(s(e, "process.command_line"), Some("sh -c abc x y"));
    assert_eq!(int(e, "process.args_count"), Some(4));
}

#[test]
fn failed_execve_and_other_system_calls_are_no_process_start() {
    let (_, joined) = join(
        &[
            "type=SYSCALL msg=audit(1.5:8): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=2 comm=\"sh\" exe=\"/bin/sh\"",
            "type=CWD msg=audit(1.5:8): cwd=\"/tmp\"",
            "type=PATH msg=audit(1.5:8): item=0 name=\"./x\" nametype=UNKNOWN",
            "type=EOE msg=audit(1.5:8): ",
            // unlink(/tmp/a): the parent directory first, then the deleted file.
            "type=SYSCALL msg=audit(1.5:9): arch=c000003e syscall=87 success=yes exit=0 ppid=1 pid=2 uid=0 comm=\"rm\" exe=\"/bin/rm\" key=\"del\"",
            "type=CWD msg=audit(1.5:9): cwd=\"/root\"",
            "type=PATH msg=audit(1.5:9): item=0 name=\"/tmp\" inode=1 nametype=PARENT",
            "type=PATH msg=audit(1.5:9): item=1 name=\"/tmp/a\" inode=2 nametype=DELETE",
            "type=EOE msg=audit(1.5:9): ",
        ],
        JoinLimits::default(),
    );
    assert_eq!(joined.len(), 2);
    assert_eq!(s(&joined[0], "event.outcome"), Some("failure"));
    assert!(joined[0].get("event.category").is_none());
    assert_eq!(s(&joined[0], "file.path"), Some("./x"));
    let e = &joined[1];
    assert!(e.get("event.category").is_none());
    assert_eq!(s(e, "auditd.data.SYSCALL"), Some("unlink"));
    assert_eq!(s(e, "auditd.data.key"), Some("del"));
    assert_eq!(s(e, "process.executable"), Some("/bin/rm"));
    assert_eq!(s(e, "process.working_directory"), Some("/root"));
    assert_eq!(s(e, "file.path"), Some("/tmp/a"), "the object, not its parent directory");
}

#[test]
fn context_comes_from_the_syscall_record_and_tenants_stay_apart() {
    let mut evs = events(&ARP);
    for e in &mut evs {
        e.organization = Some("agency-a".into());
        e.set("log.source.address", "192.0.2.7:51000");
        e.set("sen.zone", "dmz");
        e.set("labels.sender_event_id", "x");
    }
    // The same records from another tenant, and from the same sender on another connection.
    let mut other = events(&ARP);
    for e in &mut other {
        e.organization = Some("agency-b".into());
        e.set("log.source.address", "192.0.2.7:51000");
    }
    let mut reconnected = events(&ARP[3..]);
    for e in &mut reconnected {
        e.organization = Some("agency-a".into());
        e.set("log.source.address", "192.0.2.7:52000");
    }
    let mut j = Joiner::new(JoinLimits::default());
    let mut out = Vec::new();
    let mut stream = Vec::new();
    for i in 0..3 {
        stream.push(evs[i].clone());
        stream.push(other[i].clone());
    }
    stream.extend(other[3..].iter().cloned());
    stream.extend(reconnected);
    for (i, e) in stream.into_iter().enumerate() {
        j.push(i as u64, e, &mut out);
    }
    j.flush(&mut out);
    assert_eq!(out.len(), 2);
    let a = out.iter().find(|x| x.event.organization.as_deref() == Some("agency-a")).unwrap();
    assert_eq!(list(&a.event, "auditd.records").len(), 6, "the port is not part of the source");
    assert_eq!(s(&a.event, "sen.zone"), Some("dmz"));
    assert_eq!(s(&a.event, "log.source.address"), Some("192.0.2.7:51000"));
    assert!(a.event.get("labels.sender_event_id").is_none());
}

#[test]
fn restarting_from_the_oldest_open_record_joins_the_same_events() {
    // A consumer that stops with events open and restarts from `oldest_open` (the pipeline's
    // bus commit) gets the same joined events, at the same offsets, as one that never stopped.
    let mut stream: Vec<String> = Vec::new();
    for n in 0..6u64 {
        for (i, l) in ARP.iter().enumerate() {
            stream.push(serial(l, 500 + n));
            if n % 2 == 0 && i == 5 {
                stream.push(format!("type=EOE msg=audit(1604994496.155:{}): ", 500 + n));
            }
        }
    }
    let limits = JoinLimits { window: 5, max_records: 64 };
    let run = |from: usize, upto: usize| {
        let mut j = Joiner::new(limits);
        let mut out = Vec::new();
        for (i, l) in stream.iter().enumerate().take(upto).skip(from) {
            j.push(i as u64, ev(i, l), &mut out);
        }
        (j, out)
    };
    let (_, whole) = run(0, stream.len());
    let cut = 15;
    let (j, before) = run(0, cut);
    let hold = j.oldest_open().unwrap() as usize;
    assert!(hold < cut);
    let (_, after) = run(hold, stream.len());
    let key = |x: &Joined| (x.event.id.clone(), x.closed_at, x.event.original.clone());
    let mut got: Vec<_> = before.iter().map(key).collect();
    // What the restarted run closes before the stop point was joined before the stop already.
    got.extend(after.iter().filter(|x| x.closed_at.is_some_and(|c| c >= cut as u64)).map(key));
    let want: Vec<_> = whole.iter().map(key).collect();
    assert_eq!(got, want);
}

#[test]
fn without_a_syscall_record_the_first_record_leads() {
    // A filtered log that kept only the PATH records of a file creation.
    let (_, joined) = join(
        &[
            "type=PATH msg=audit(1.5:10): item=0 name=\"/etc/\" inode=1 nametype=PARENT",
            "type=PATH msg=audit(1.5:10): item=1 name=\"/etc/ld.so.preload\" inode=2 nametype=CREATE",
        ],
        JoinLimits::default(),
    );
    let e = &joined[0];
    assert_eq!(s(e, "auditd.message_type"), Some("path"));
    assert_eq!(s(e, "file.path"), Some("/etc/ld.so.preload"));
    assert_eq!(s(e, "file.inode"), Some("2"));
    assert!(e.get("event.category").is_none(), "file categories stay on the PATH records");
    let Some(FieldRef::Json(paths)) = e.get("auditd.paths") else { panic!("auditd.paths") };
    let names: Vec<&str> =
        paths.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["/etc/", "/etc/ld.so.preload"]);
}

/// The records of `bash -i` (pid 29002, ARP's parent) started by pid 1.
fn shell_start() -> Vec<String> {
    ARP.iter()
        .map(|l| serial(l, 92700))
        .map(|l| l.replace("ppid=29002 pid=1631", "ppid=1 pid=29002"))
        .map(|l| {
            l.replace("/usr/sbin/arp", "/usr/bin/bash").replace("comm=\"arp\"", "comm=\"bash\"")
        })
        .map(|l| l.replace("a0=\"arp\" a1=\"-a\"", "a0=\"bash\" a1=\"-i\""))
        .collect()
}

#[test]
fn a_process_start_names_its_parent_from_an_earlier_start() {
    // The shell (pid 29002) starts first, then `arp -a` (ppid 29002) from it; a third process
    // whose parent was never seen gets no parent name.
    let shell = shell_start();
    let orphan: Vec<String> =
        ARP.iter().map(|l| serial(l, 92800).replace("ppid=29002", "ppid=4242")).collect();
    let mut lines: Vec<&str> = shell.iter().map(String::as_str).collect();
    lines.extend(ARP.iter().copied());
    lines.extend(orphan.iter().map(String::as_str));
    let mut j = Joiner::new(JoinLimits::default());
    let mut out = Vec::new();
    for (i, e) in events(&lines).into_iter().enumerate() {
        j.push(i as u64, e, &mut out);
    }
    j.flush(&mut out);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(s(&out[0].event, "process.executable"), Some("/usr/bin/bash"));
    assert_eq!(s(&out[0].event, "process.parent.executable"), None, "pid 1 was not seen");
    let arp = &out[1].event;
    assert_eq!(s(arp, "process.executable"), Some("/usr/sbin/arp"));
    assert_eq!(s(arp, "process.parent.executable"), Some("/usr/bin/bash"), "{arp:?}");
    assert_eq!(s(arp, "process.parent.command_line"), Some("bash -i"));
    assert_eq!(s(&out[2].event, "process.parent.executable"), None);
}

#[test]
fn saved_process_starts_name_parents_after_a_restart() {
    // The shell starts before a restart; `arp -a` from it arrives after, at a new joiner that
    // was given the first one's table (through JSON, as the pipeline saves it).
    let shell = shell_start();
    let lines: Vec<&str> = shell.iter().map(String::as_str).collect();
    let mut before = Joiner::new(JoinLimits::default());
    let mut out = Vec::new();
    for (i, e) in events(&lines).into_iter().enumerate() {
        before.push(i as u64, e, &mut out);
    }
    before.flush(&mut out);
    let saved = before.process_starts();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0].pid, 29002);
    let json = serde_json::to_string(&saved).unwrap();
    let restored: Vec<ProcessStart> = serde_json::from_str(&json).unwrap();

    let run = |j: &mut Joiner| {
        let mut out = Vec::new();
        for (i, e) in events(&ARP).into_iter().enumerate() {
            j.push(100 + i as u64, e, &mut out);
        }
        j.flush(&mut out);
        assert_eq!(out.len(), 1);
        s(&out[0].event, "process.parent.executable").map(str::to_owned)
    };
    assert_eq!(run(&mut Joiner::new(JoinLimits::default())), None, "a fresh joiner forgets");
    let mut after = Joiner::new(JoinLimits::default());
    after.restore_process_starts(restored);
    assert_eq!(after.process_starts_seen(), 1);
    assert_eq!(run(&mut after).as_deref(), Some("/usr/bin/bash"));
    assert_eq!(after.process_starts_seen(), 2, "arp's own start is remembered too");
    // The newest start of a pid wins, in the table and in what it saves.
    let mut newer = saved[0].clone();
    newer.executable = Some("/usr/bin/zsh".into());
    after.restore_process_starts([newer]);
    let again = after.process_starts();
    let shell_starts: Vec<_> = again.iter().filter(|p| p.pid == 29002).collect();
    assert_eq!(shell_starts.len(), 1);
    assert_eq!(shell_starts[0].executable.as_deref(), Some("/usr/bin/zsh"));
}
