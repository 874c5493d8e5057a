//! Windows event JSON (evtx_dump, winlogbeat, NXLog/Mordor/Sentinel) against the real corpora:
//! every event normalizes without `_parse_failure`, with `event.code`, `winlog.channel` and
//! `@timestamp` = the event's system time; spot checks of the ECS mappings; one event in every
//! shipper's shape gives one layout; malformed objects are tagged, never dropped; arbitrary JSON
//! never panics.
//!
//! Reproduce: `CARGO_TARGET_DIR=target-win cargo test -p sen-parse --test windows -- --nocapture`

mod common;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use proptest::prelude::*;
use sen_core::event::{Event, FieldRef, TAG_PARSE_FAILURE};
use sen_parse::{Context, Outcome, Parser, normalize_json};
use serde_json::{Value as Json, json};

fn ctx() -> Context {
    common::ctx_at("2026-11-26T12:00:00Z")
}

/// Normalize one JSON line as the pipeline does (`event.original` = the line).
fn run(line: &str) -> (Event, Outcome) {
    let c = ctx();
    let mut e = Event::new("t".into(), c.received, line);
    let obj = match serde_json::from_str::<Json>(line) {
        Ok(Json::Object(m)) => m,
        other => panic!("not a JSON object: {other:?}"),
    };
    let o = normalize_json(&mut e, obj, &c);
    (e, o)
}

fn run_obj(v: Json) -> (Event, Outcome) {
    run(&v.to_string())
}

fn s<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.get_str(path)
}

fn int(e: &Event, path: &str) -> Option<i64> {
    match e.get(path) {
        Some(FieldRef::Int(i)) => Some(i),
        _ => None,
    }
}

fn ip(e: &Event, path: &str) -> Option<String> {
    match e.get(path) {
        Some(FieldRef::Ip(ip)) => Some(ip.to_string()),
        _ => None,
    }
}

fn list(e: &Event, path: &str) -> Vec<String> {
    match e.get(path) {
        Some(FieldRef::List(items)) => items.iter().map(|v| v.to_text()).collect(),
        Some(other) => vec![other.to_text()],
        None => Vec::new(),
    }
}

/// Every file under `dir` whose name ends with one of `exts`, sorted.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| exts.iter().any(|x| n.ends_with(x)) && n != "INDEX.json")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

/// Counts for one corpus.
#[derive(Default, Debug)]
struct Tally {
    events: usize,
    without_channel: usize,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, file: &Path, n: usize, why: String) {
        self.failures.push(format!("{}:{}: {why}", file.display(), n + 1));
    }

    fn finish(&self, title: &str) {
        eprintln!(
            "{title}: {} events, {} without a Channel in the source, {} failures",
            self.events,
            self.without_channel,
            self.failures.len()
        );
        common::print_failures(title, &self.failures, 20);
        assert!(self.failures.is_empty(), "{title}: {} failures", self.failures.len());
    }
}

/// The common checks of one evtx-shaped event (`{"Event": {"System": …}}`).
fn check_evtx_line(t: &mut Tally, file: &Path, n: usize, line: &str) {
    let v: Json = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let sys = &v["Event"]["System"];
    let (e, o) = run(line);
    t.events += 1;
    if o.is_failure() || e.has_tag(TAG_PARSE_FAILURE) {
        return t.fail(file, n, format!("failure: {o} {:?}", s(&e, "error.message")));
    }
    if !o.matched(Parser::Windows) {
        return t.fail(file, n, format!("not recognized as Windows: {o}"));
    }
    let id = match &sys["EventID"] {
        Json::Object(m) => m["#text"].to_string(),
        other => other.to_string(),
    };
    if s(&e, "event.code") != Some(id.as_str()) {
        t.fail(file, n, format!("event.code {:?} != {id}", s(&e, "event.code")));
    }
    if int(&e, "winlog.event_id").map(|i| i.to_string()).as_deref() != Some(id.as_str()) {
        t.fail(file, n, format!("winlog.event_id {:?} != {id}", e.get("winlog.event_id")));
    }
    match sys["Channel"].as_str() {
        Some(c) => {
            if s(&e, "winlog.channel") != Some(c) {
                t.fail(file, n, format!("winlog.channel {:?} != {c}", s(&e, "winlog.channel")));
            }
        }
        None => {
            t.without_channel += 1;
            if e.get("winlog.channel").is_some() {
                t.fail(file, n, "a channel invented for a source without one".into());
            }
        }
    }
    let st = sys["TimeCreated"]["#attributes"]["SystemTime"].as_str().unwrap_or_default();
    if e.timestamp != rfc3339(st) {
        t.fail(file, n, format!("@timestamp {} != SystemTime {st}", e.timestamp));
    }
    if e.original != line {
        t.fail(file, n, "event.original changed".into());
    }
    if s(&e, "host.name") != sys["Computer"].as_str() {
        t.fail(file, n, format!("host.name {:?}", s(&e, "host.name")));
    }
    let provider = sys["Provider"]["#attributes"]["Name"].as_str();
    if s(&e, "event.provider") != provider {
        t.fail(file, n, format!("event.provider {:?} != {provider:?}", s(&e, "event.provider")));
    }
    let module = if provider == Some("Microsoft-Windows-Sysmon") { "sysmon" } else { "windows" };
    if s(&e, "event.module") != Some(module) || s(&e, "event.kind") != Some("event") {
        t.fail(file, n, format!("event.module {:?}", s(&e, "event.module")));
    }
    // Every named EventData field is kept, as text.
    if let Some(Json::Object(data)) = v["Event"].get("EventData") {
        for (k, val) in data {
            if k == "Data" || k == "#attributes" || val.is_null() || val.is_object() {
                continue;
            }
            let want = match val {
                Json::String(x) => x.clone(),
                other => other.to_string(),
            };
            let got = e.get(&format!("winlog.event_data.{k}")).map(|f| f.to_text());
            if val.is_array() {
                if got.is_none() {
                    t.fail(file, n, format!("winlog.event_data.{k} missing"));
                }
            } else if got.as_deref() != Some(want.as_str()) {
                t.fail(file, n, format!("winlog.event_data.{k} = {got:?}, want {want:?}"));
            }
        }
    }
}

fn evtx_corpus(rel: &str, title: &str) -> Option<Tally> {
    let root = common::corpus(rel)?;
    let mut t = Tally::default();
    for f in files(&root, &[".ndjson"]) {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            check_evtx_line(&mut t, &f, n, line);
        }
    }
    t.finish(title);
    Some(t)
}

#[test]
fn evtx_attack_samples() {
    let Some(t) = evtx_corpus("windows-events/evtx-attack-samples", "evtx-attack-samples") else {
        return;
    };
    assert_eq!(t.events, 5250, "the corpus has 5,250 events");
}

#[test]
fn sigma_regression_pairs() {
    let Some(t) = evtx_corpus("sigma/regression_pairs", "sigma regression_pairs") else { return };
    assert!(t.events >= 150, "{} events", t.events);
    assert_eq!(t.without_channel, 0);
}

/// The Mordor / Security-Datasets files (and the Sentinel exports of the compound datasets):
/// every object with `EventID` and `Channel` is a Windows event.
#[test]
fn mordor_windows_channels() {
    let Some(root) = common::corpus("windows-events/mordor") else { return };
    let mut t = Tally::default();
    let mut others = 0usize;
    let mut by_channel = std::collections::BTreeMap::<String, usize>::new();
    for f in files(&root, &[".json", ".ndjson"]) {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let Ok(Json::Object(src)) = serde_json::from_str::<Json>(line) else { continue };
            let (e, o) = run(line);
            let windows = src.contains_key("EventID") && src.contains_key("Channel");
            if !windows {
                others += 1;
                if o.matched(Parser::Windows) {
                    t.fail(&f, n, "a non-Windows object was taken for a Windows event".into());
                }
                continue;
            }
            t.events += 1;
            let channel = src["Channel"].as_str().unwrap_or_default();
            *by_channel.entry(channel.to_owned()).or_default() += 1;
            if o.is_failure() || !o.matched(Parser::Windows) {
                t.fail(&f, n, format!("{o} {:?}", s(&e, "error.message")));
                continue;
            }
            let id = src["EventID"].to_string();
            if s(&e, "event.code") != Some(id.as_str()) {
                t.fail(&f, n, format!("event.code {:?} != {id}", s(&e, "event.code")));
            }
            if !s(&e, "winlog.channel").is_some_and(|c| c.eq_ignore_ascii_case(channel)) {
                t.fail(&f, n, format!("winlog.channel {:?} != {channel}", s(&e, "winlog.channel")));
            }
            if e.original != line {
                t.fail(&f, n, "event.original changed".into());
            }
            // The system time: Mordor's TimeCreated (zone-less in some datasets: the context's
            // zone, UTC here, applies), else Sentinel's TimeGenerated, else NXLog's EventTime in
            // the collector's zone, which Logstash's @timestamp (set on receipt, seconds later)
            // pins down.
            let utc = |k: &str| {
                let v = src.get(k).and_then(Json::as_str)?;
                Some(match NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f") {
                    Ok(naive) => naive.and_utc(),
                    Err(_) => rfc3339(v),
                })
            };
            if let Some(tc) = utc("TimeCreated").or_else(|| utc("TimeGenerated")) {
                if e.timestamp != tc {
                    t.fail(&f, n, format!("@timestamp {} != {tc}", e.timestamp));
                }
            } else if let (Some(et), Some(ls)) =
                (src.get("EventTime").and_then(Json::as_str), utc("@timestamp"))
            {
                let local = NaiveDateTime::parse_from_str(et, "%Y-%m-%d %H:%M:%S")
                    .unwrap_or_else(|e| panic!("{et}: {e}"));
                let offset = (local.and_utc() - e.timestamp).num_seconds();
                let lag = (ls - e.timestamp).num_seconds();
                if offset % 900 != 0 || !(0..=120).contains(&lag) {
                    t.fail(&f, n, format!("@timestamp {} for EventTime {et} / {ls}", e.timestamp));
                }
            } else {
                t.fail(&f, n, "no time to check against".into());
            }
        }
    }
    eprintln!("mordor: by channel {by_channel:?}; {others} non-Windows objects");
    t.finish("mordor");
    assert!(t.events > 16_000, "{} events", t.events);
}

fn corpus_line(rel: &str, pred: impl Fn(&str) -> bool) -> Option<String> {
    let text = common::read(rel)?;
    Some(text.lines().find(|l| pred(l)).unwrap_or_else(|| panic!("{rel}: no such line")).to_owned())
}

#[test]
fn sysmon_1_process_create() {
    let Some(line) =
        corpus_line("windows-events/evtx-attack-samples/Execution/exec_sysmon_1_ftp.ndjson", |l| {
            l.contains("\"EventRecordID\":16511,")
        })
    else {
        return;
    };
    let (e, o) = run(&line);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Json, Parser::Windows]);
    assert_eq!(s(&e, "event.module"), Some("sysmon"));
    assert_eq!(s(&e, "event.code"), Some("1"));
    assert_eq!(s(&e, "process.command_line"), Some("\"C:\\Windows\\system32\\cmd.exe\" "));
    assert_eq!(s(&e, "winlog.event_data.CommandLine"), Some("\"C:\\Windows\\system32\\cmd.exe\" "));
    assert_eq!(s(&e, "process.executable"), Some("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(s(&e, "process.name"), Some("cmd.exe"));
    assert_eq!(int(&e, "process.pid"), Some(4092));
    assert_eq!(s(&e, "winlog.event_data.ProcessId"), Some("4092"));
    assert_eq!(s(&e, "process.parent.executable"), Some("C:\\Windows\\explorer.exe"));
    assert_eq!(s(&e, "process.parent.name"), Some("explorer.exe"));
    assert_eq!(int(&e, "process.parent.pid"), Some(3192));
    assert_eq!(s(&e, "process.parent.command_line"), Some("C:\\Windows\\Explorer.EXE"));
    assert_eq!(s(&e, "process.hash.md5"), Some("ad7b9c14083b52bc532fba5948342b98"));
    assert_eq!(s(&e, "process.pe.imphash"), Some("ceefb55f764020cc5c5f8f23349ab163"));
    assert_eq!(s(&e, "process.working_directory"), Some("C:\\Users\\IEUser\\"));
    assert_eq!((s(&e, "user.name"), s(&e, "user.domain")), (Some("IEUser"), Some("IEWIN7")));
    assert_eq!(list(&e, "event.category"), ["process"]);
    assert_eq!(list(&e, "event.type"), ["start"]);
    assert_eq!(s(&e, "host.name"), Some("IEWIN7"));
    assert_eq!(s(&e, "winlog.channel"), Some("Microsoft-Windows-Sysmon/Operational"));
    assert_eq!(int(&e, "winlog.record_id"), Some(16511));
    assert_eq!(int(&e, "winlog.process.pid"), Some(2012));
    assert_eq!(int(&e, "winlog.process.thread.id"), Some(300));
    assert_eq!(s(&e, "winlog.user.identifier"), Some("S-1-5-18"));
    assert_eq!(s(&e, "log.level"), Some("information"));
    assert_eq!(e.timestamp, rfc3339("2019-05-12T17:20:01.980574Z"));
}

#[test]
fn security_4624_network_logon() {
    // Record 772607 of the evtx-attack-samples: a network logon of Administrator.
    let Some(root) = common::corpus("windows-events/evtx-attack-samples") else { return };
    let line = files(&root, &[".ndjson"])
        .into_iter()
        .find_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            text.lines().find(|l| l.contains("\"EventRecordID\":772607,")).map(str::to_owned)
        })
        .expect("record 772607");
    let (e, o) = run(&line);
    assert!(!o.is_failure());
    assert_eq!(s(&e, "event.module"), Some("windows"));
    assert_eq!(s(&e, "event.dataset"), Some("windows.security"));
    assert_eq!(list(&e, "event.category"), ["authentication"]);
    assert_eq!(s(&e, "event.outcome"), Some("success"));
    assert_eq!(s(&e, "event.action"), Some("logged-in"));
    assert_eq!(s(&e, "user.name"), Some("Administrator"));
    assert_eq!(s(&e, "user.domain"), Some("3B"));
    assert_eq!(ip(&e, "source.ip").as_deref(), Some("172.16.66.37"));
    assert_eq!(int(&e, "source.port"), Some(50106));
    assert_eq!(s(&e, "winlog.logon.type"), Some("Network"));
    assert_eq!(s(&e, "winlog.event_data.LogonType"), Some("3"));
    assert_eq!(s(&e, "winlog.logon.id"), Some("0x1136e95"));
    assert_eq!(list(&e, "winlog.keywords"), ["Audit Success"]);
}

/// NXLog through Logstash (Mordor): `EventTime` is the collector's local time.
#[test]
fn mordor_nxlog_logstash_time_and_fields() {
    let Some(line) = corpus_line(
        "windows-events/mordor/windows/lateral_movement/host/covenant_copy_smb_CreateRequest.ndjson",
        |l| l.contains("\"SourceModuleType\":\"im_msvistalog\"") && l.contains("\"EventID\":4624"),
    ) else {
        return;
    };
    let (e, o) = run(&line);
    assert!(!o.is_failure(), "{o}");
    let src: Json = serde_json::from_str(&line).unwrap();
    assert!(s(&e, "winlog.channel").is_some_and(|c| c == "Security"));
    assert_eq!(s(&e, "host.name"), src["Hostname"].as_str());
    assert_eq!(s(&e, "winlog.provider_name"), Some("Microsoft-Windows-Security-Auditing"));
    assert_eq!(s(&e, "user.name"), src["TargetUserName"].as_str());
    assert_eq!(s(&e, "winlog.event_data.TargetUserName"), src["TargetUserName"].as_str());
    assert_eq!(int(&e, "winlog.record_id"), src["RecordNumber"].as_i64());
    assert_eq!(int(&e, "winlog.process.pid"), src["ExecutionProcessID"].as_i64());
    assert!(s(&e, "message").is_some_and(|m| m.starts_with("An account was successfully")));
    // Transport metadata is not event data.
    for k in ["SourceModuleName", "EventReceivedTime", "host", "port", "@version", "Keywords"] {
        assert_eq!(e.get(&format!("winlog.event_data.{k}")), None, "{k}");
    }
    assert!(e.has_tag("mordorDataset"));
}

fn check_4625(e: &Event, o: &Outcome, shape: &str) {
    assert!(!o.is_failure(), "{shape}: {o}");
    let got = |p: &str| e.get(p).map(|f| f.to_text());
    assert_eq!(got("event.code").as_deref(), Some("4625"), "{shape}");
    assert_eq!(int(e, "winlog.event_id"), Some(4625), "{shape}");
    assert_eq!(s(e, "winlog.channel"), Some("Security"), "{shape}");
    assert_eq!(s(e, "winlog.provider_name"), Some("Microsoft-Windows-Security-Auditing"));
    assert_eq!(s(e, "event.provider"), Some("Microsoft-Windows-Security-Auditing"));
    assert_eq!(s(e, "winlog.computer_name"), Some("DC01.corp.example"), "{shape}");
    assert_eq!(s(e, "host.name"), Some("DC01.corp.example"), "{shape}");
    assert_eq!(int(e, "winlog.record_id"), Some(9001), "{shape}");
    assert_eq!(int(e, "winlog.process.pid"), Some(612), "{shape}");
    assert_eq!(e.timestamp, rfc3339("2024-03-01T08:15:30.123Z"), "{shape}");
    assert_eq!(s(e, "event.kind"), Some("event"));
    assert_eq!(s(e, "event.module"), Some("windows"));
    assert_eq!(list(e, "event.category"), ["authentication"], "{shape}");
    assert_eq!(s(e, "event.outcome"), Some("failure"), "{shape}");
    assert_eq!(s(e, "event.action"), Some("logon-failed"));
    assert_eq!(s(e, "user.name"), Some("administrator"), "{shape}");
    assert_eq!(s(e, "user.domain"), Some("CORP"), "{shape}");
    assert_eq!(ip(e, "source.ip").as_deref(), Some("203.0.113.50"), "{shape}");
    assert_eq!(int(e, "source.port"), Some(51234), "{shape}");
    assert_eq!(s(e, "source.domain"), Some("KALI"), "{shape}");
    assert_eq!(s(e, "winlog.logon.type"), Some("Network"), "{shape}");
    assert_eq!(s(e, "winlog.logon.failure.reason"), Some("Unknown user name or bad password."));
    assert_eq!(s(e, "winlog.logon.failure.status"), Some("0xc000006d"));
    assert_eq!(s(e, "winlog.event_data.TargetUserName"), Some("administrator"), "{shape}");
    assert_eq!(s(e, "winlog.event_data.IpAddress"), Some("203.0.113.50"), "{shape}");
    assert_eq!(s(e, "winlog.event_data.LogonType"), Some("3"), "{shape}");
    assert_eq!(list(e, "related.user"), ["administrator"], "{shape}");
}

fn data_4625() -> Json {
    json!({
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-",
        "SubjectLogonId": "0x0", "TargetUserSid": "S-1-0-0", "TargetUserName": "administrator",
        "TargetDomainName": "CORP", "Status": "0xc000006d", "FailureReason": "%%2313",
        "SubStatus": "0xc000006a", "LogonType": "3", "LogonProcessName": "NtLmSsp ",
        "AuthenticationPackageName": "NTLM", "WorkstationName": "KALI",
        "TransmittedServices": "-", "LmPackageName": "-", "KeyLength": "0", "ProcessId": "0x0",
        "ProcessName": "-", "IpAddress": "203.0.113.50", "IpPort": "51234"
    })
}

/// One failed logon in each shipper's shape gives the same layout.
#[test]
fn one_layout_whatever_the_shipper() {
    let mut evtx = json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing",
                "Guid": "54849625-5478-4994-A5BA-3E3B0328C30D"}},
            "EventID": 4625, "Version": 0, "Level": 0, "Task": 12544, "Opcode": 0,
            "Keywords": "0x8010000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-03-01T08:15:30.123000Z"}},
            "EventRecordID": 9001, "Correlation": null,
            "Execution": {"#attributes": {"ProcessID": 612, "ThreadID": 700}},
            "Channel": "Security", "Computer": "DC01.corp.example", "Security": null
        },
        "EventData": {}
    }});
    evtx["Event"]["EventData"] = data_4625();
    let (e, o) = run_obj(evtx);
    check_4625(&e, &o, "evtx");
    assert_eq!(list(&e, "winlog.keywords"), ["Audit Failure"]);

    let mut beat = json!({
        "@timestamp": "2024-03-01T08:15:30.123Z",
        "event": {"code": "4625", "kind": "event", "provider": "Microsoft-Windows-Security-Auditing",
                  "action": "Logon", "created": "2024-03-01T08:15:31.000Z"},
        "host": {"name": "wec01", "os": {"family": "windows"}},
        "agent": {"type": "winlogbeat", "version": "8.12.0"},
        "log": {"level": "information"},
        "message": "An account failed to log on.",
        "winlog": {
            "channel": "Security", "event_id": "4625", "provider_name": "Microsoft-Windows-Security-Auditing",
            "provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}", "computer_name": "DC01.corp.example",
            "record_id": 9001, "process": {"pid": 612, "thread": {"id": 700}},
            "keywords": ["Audit Failure"], "opcode": "Info", "task": "Logon", "api": "wineventlog",
            "event_data": {}
        }
    });
    beat["winlog"]["event_data"] = data_4625();
    let (e, o) = run_obj(beat.clone());
    check_4625(&e, &o, "winlogbeat");
    assert_eq!(s(&e, "agent.type"), Some("winlogbeat"));
    assert_eq!(s(&e, "message"), Some("An account failed to log on."));
    assert_eq!(s(&e, "winlog.task"), Some("Logon"));

    // The same, flat dotted.
    let flat = sen_core::event::flatten_json(beat).unwrap();
    let dotted: serde_json::Map<String, Json> =
        flat.into_iter().map(|(k, v)| (k.into_string(), v.to_json())).collect();
    let (e, o) = run_obj(Json::Object(dotted));
    check_4625(&e, &o, "winlogbeat flat");

    let mut nxlog = json!({
        "EventTime": "2024-03-01 09:15:30", "EventReceivedTime": "2024-03-01 09:15:31",
        "Hostname": "DC01.corp.example", "Keywords": -9218868437227405312i64,
        "EventType": "AUDIT_FAILURE", "SeverityValue": 4, "Severity": "ERROR", "EventID": 4625,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}", "Version": 0, "Task": 12544,
        "OpcodeValue": 0, "RecordNumber": 9001, "ExecutionProcessID": 612, "ExecutionThreadID": 700,
        "Channel": "Security", "Category": "Logon", "Opcode": "Info",
        "Message": "An account failed to log on.", "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog", "@timestamp": "2024-03-01T08:15:31.500Z"
    });
    for (k, v) in data_4625().as_object().unwrap() {
        nxlog[k] = v.clone();
    }
    let (e, o) = run_obj(nxlog);
    // NXLog writes whole seconds in the collector's zone (here UTC+1, worked out from
    // EventReceivedTime against Logstash's @timestamp).
    assert_eq!(e.timestamp, rfc3339("2024-03-01T08:15:30Z"));
    let mut e = e;
    e.timestamp = rfc3339("2024-03-01T08:15:30.123Z");
    check_4625(&e, &o, "nxlog");
    assert_eq!(s(&e, "log.level"), Some("error"));
    assert_eq!(s(&e, "winlog.task"), Some("Logon"));
    assert_eq!(e.get("winlog.event_data.SourceModuleType"), None);
}

/// NXLog straight to Sen (no Logstash): a zone-less `EventTime` is in the context's time zone.
#[test]
fn nxlog_naive_time_uses_context_zone() {
    let obj = json!({"EventTime": "2024-07-01 10:00:00", "EventID": 4688, "Channel": "Security",
        "Hostname": "ws1", "SourceName": "Microsoft-Windows-Security-Auditing",
        "NewProcessName": "C:\\Windows\\System32\\whoami.exe", "NewProcessId": "0x1a2c",
        "ProcessId": "0x4d0", "CommandLine": "whoami /all", "SubjectUserName": "bob",
        "SubjectDomainName": "CORP", "ParentProcessName": "C:\\Windows\\System32\\cmd.exe"});
    let mut c = ctx();
    c.timezone = chrono_tz::Europe::Paris;
    let mut e = Event::new("t".into(), c.received, obj.to_string());
    let o = normalize_json(&mut e, obj.as_object().unwrap().clone(), &c);
    assert!(!o.is_failure(), "{o}");
    assert_eq!(e.timestamp, rfc3339("2024-07-01T08:00:00Z"));
    assert_eq!(s(&e, "process.name"), Some("whoami.exe"));
    assert_eq!(int(&e, "process.pid"), Some(0x1a2c));
    assert_eq!(int(&e, "process.parent.pid"), Some(0x4d0));
    assert_eq!(s(&e, "process.parent.name"), Some("cmd.exe"));
    assert_eq!(s(&e, "process.command_line"), Some("whoami /all"));
    assert_eq!((s(&e, "user.name"), s(&e, "user.domain")), (Some("bob"), Some("CORP")));
    assert_eq!(list(&e, "event.category"), ["process"]);
}

/// Sentinel exports: `EventData` as an XML string (SecurityEvent) or a JSON string
/// (WindowsEvent).
#[test]
fn sentinel_event_data_strings() {
    let Some(root) = common::corpus("windows-events/mordor/compound/Log4Shell") else { return };
    let sec = files(&root, &[".json"])
        .into_iter()
        .find(|p| p.to_string_lossy().contains("securityauditing"))
        .expect("securityauditing file");
    let text = std::fs::read_to_string(sec).unwrap();
    let line = text.lines().find(|l| l.contains("\"EventID\":5156")).expect("a 5156");
    let (e, o) = run(line);
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "winlog.event_data.DestPort"), Some("8080"));
    assert_eq!(ip(&e, "destination.ip").as_deref(), Some("192.168.2.5"));
    assert_eq!(int(&e, "destination.port"), Some(8080));
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!(s(&e, "host.name"), Some("WORKSTATION5"));
    assert_eq!(e.get("winlog.event_data.TenantId"), None);

    let sysmon = files(&root, &[".json"])
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/sysmon_"))
        .expect("sysmon file");
    let text = std::fs::read_to_string(sysmon).unwrap();
    let line = text.lines().find(|l| l.contains("\"EventID\":3,")).expect("a Sysmon 3");
    let (e, o) = run(line);
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.module"), Some("sysmon"));
    assert!(ip(&e, "source.ip").is_some());
    assert!(int(&e, "destination.port").is_some());
    assert!(s(&e, "winlog.event_data.Image").is_some());
}

#[test]
fn sysmon_network_registry_file_dns() {
    let sys = |id: u32, data: Json| {
        json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": id,
            "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws1",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}},
            "EventData": data}})
    };
    let (e, _) = run_obj(sys(
        3,
        json!({"Image": "C:\\a\\b.exe", "ProcessId": 10, "Protocol": "tcp",
        "Initiated": true, "SourceIsIpv6": false, "SourceIp": "10.0.0.5", "SourcePort": 50000,
        "DestinationIp": "::ffff:198.51.100.7", "DestinationPort": 443, "DestinationHostname": "-",
        "User": "CORP\\bob"}),
    ));
    assert_eq!(ip(&e, "source.ip").as_deref(), Some("10.0.0.5"));
    assert_eq!(int(&e, "source.port"), Some(50000));
    assert_eq!(ip(&e, "destination.ip").as_deref(), Some("198.51.100.7"));
    assert_eq!(int(&e, "destination.port"), Some(443));
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!(s(&e, "network.direction"), Some("egress"));
    assert_eq!(e.get("destination.domain"), None);
    assert_eq!(s(&e, "winlog.event_data.Initiated"), Some("true"));
    assert_eq!(s(&e, "winlog.event_data.SourcePort"), Some("50000"));
    assert_eq!(s(&e, "user.name"), Some("bob"));

    let (e, _) = run_obj(sys(
        11,
        json!({"Image": "C:\\x.exe",
        "TargetFilename": "C:\\Users\\bob\\AppData\\Local\\Temp\\evil.PS1"}),
    ));
    assert_eq!(s(&e, "file.path"), Some("C:\\Users\\bob\\AppData\\Local\\Temp\\evil.PS1"));
    assert_eq!(s(&e, "file.name"), Some("evil.PS1"));
    assert_eq!(s(&e, "file.directory"), Some("C:\\Users\\bob\\AppData\\Local\\Temp"));
    assert_eq!(s(&e, "file.extension"), Some("ps1"));

    let (e, _) = run_obj(sys(
        13,
        json!({"EventType": "SetValue",
        "TargetObject": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
        "Details": "DWORD (0x00000010)"}),
    ));
    assert_eq!(
        s(&e, "registry.path"),
        Some("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater")
    );
    assert_eq!(s(&e, "registry.hive"), Some("HKLM"));
    assert_eq!(s(&e, "registry.key"), Some("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"));
    assert_eq!(s(&e, "registry.value"), Some("updater"));
    assert_eq!(list(&e, "registry.data.strings"), ["16"]);
    assert_eq!(s(&e, "registry.data.type"), Some("REG_DWORD"));

    let (e, _) = run_obj(sys(
        12,
        json!({"EventType": "CreateKey",
        "TargetObject": "HKU\\S-1-5-21-1\\Software\\Evil"}),
    ));
    assert_eq!(s(&e, "registry.key"), Some("S-1-5-21-1\\Software\\Evil"));
    assert_eq!(e.get("registry.value"), None);
    assert_eq!(list(&e, "event.type"), ["creation"]);

    let (e, _) = run_obj(sys(
        22,
        json!({"QueryName": "evil.example.com", "QueryStatus": "0",
        "QueryResults": "type:  5 cdn.example.net;::ffff:203.0.113.9;2001:db8::1;",
        "Image": "C:\\Windows\\System32\\svchost.exe"}),
    ));
    assert_eq!(s(&e, "dns.question.name"), Some("evil.example.com"));
    assert_eq!(s(&e, "dns.response_code"), Some("NOERROR"));
    assert_eq!(list(&e, "dns.resolved_ip"), ["203.0.113.9", "2001:db8::1"]);
}

#[test]
fn unnamed_data_user_data_and_qualifiers() {
    let (e, o) = run_obj(json!({"Event": {"System": {
        "Provider": {"#attributes": {"Name": "MSSQLSERVER"}},
        "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 15457},
        "Channel": "Application", "Computer": "sql1", "Keywords": "0x80000000000000",
        "TimeCreated": {"#attributes": {"SystemTime": "2019-11-04T09:27:26.143064Z"}}},
        "EventData": {"Data": {"#text": ["show advanced options", "0", "1"]}, "Binary": "613C"}}}));
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.code"), Some("15457"));
    assert_eq!(s(&e, "winlog.event_data.param1"), Some("show advanced options"));
    assert_eq!(s(&e, "winlog.event_data.param3"), Some("1"));
    assert_eq!(s(&e, "winlog.event_data.Binary"), Some("613C"));
    assert_eq!(list(&e, "winlog.keywords"), ["Classic"]);

    // Named Data elements as a list (XML-to-JSON converters).
    let (e, _) = run_obj(json!({"Event": {"System": {"EventID": "4688", "Channel": "Security",
        "TimeCreated": {"@SystemTime": "2019-11-04 09:27:26.143064 UTC"}},
        "EventData": {"Data": [{"@Name": "CommandLine", "#text": "net user"},
                               {"@Name": "Empty"}]}}}));
    assert_eq!(s(&e, "winlog.event_data.CommandLine"), Some("net user"));
    assert_eq!(s(&e, "winlog.event_data.Empty"), Some(""));
    assert_eq!(s(&e, "process.command_line"), Some("net user"));
    assert_eq!(e.timestamp, rfc3339("2019-11-04T09:27:26.143064Z"));

    let (e, o) = run_obj(json!({"Event": {"System": {
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Eventlog"}}, "EventID": 1102,
        "Channel": "Security", "Computer": "PC01",
        "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:35:07.524202Z"}}},
        "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "http://x"},
            "SubjectUserSid": "S-1-5-21-1", "SubjectUserName": "user01",
            "SubjectDomainName": "EXAMPLE", "SubjectLogonId": "0x17dad"}}}}));
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "winlog.user_data.SubjectUserName"), Some("user01"));
    assert_eq!(s(&e, "winlog.user_data.xml_name"), Some("LogFileCleared"));
    assert_eq!(s(&e, "user.name"), Some("user01"));
    assert_eq!(s(&e, "event.action"), Some("audit-log-cleared"));
}

/// A Windows object that is malformed is tagged, keeps what could be read, and is not dropped.
#[test]
fn malformed_windows_objects_are_tagged() {
    let cases = [
        json!({"Event": {"System": 5}}),
        json!({"Event": {"System": {"Channel": "Security", "Computer": "h",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}}}}),
        json!({"Event": {"System": {"EventID": "four", "Channel": "Security",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}}}}),
        json!({"Event": {"System": {"EventID": 1, "Channel": "Security",
            "TimeCreated": {"#attributes": {"SystemTime": "yesterday"}}}}}),
        json!({"Event": {"System": {"EventID": -4, "Channel": "Security",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}}}}),
        json!({"winlog": {"channel": "Security"}, "@timestamp": "2024-01-01T00:00:00Z"}),
        json!({"winlog": {"event_id": 4624}, "@timestamp": "not a time"}),
        json!({"EventID": null, "Channel": "Security", "TimeCreated": "2024-01-01T00:00:00Z"}),
        json!({"EventID": 4624, "Channel": ["Security"], "EventTime": "noon"}),
    ];
    for case in cases {
        let line = case.to_string();
        let (e, o) = run(&line);
        assert!(o.is_failure(), "{line}: {o}");
        assert!(e.has_tag(TAG_PARSE_FAILURE), "{line}");
        assert!(s(&e, "error.message").is_some_and(|m| !m.is_empty()), "{line}");
        assert_eq!(e.original, line);
        assert!(o.matched(Parser::Windows), "{line}");
    }
    // What could be read is kept.
    let (e, _) = run_obj(json!({"Event": {"System": {"Channel": "Security", "Computer": "h",
        "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}}}}));
    assert_eq!((s(&e, "winlog.channel"), s(&e, "host.name")), (Some("Security"), Some("h")));
    assert_eq!(e.timestamp, rfc3339("2024-01-01T00:00:00Z"));
}

/// Objects that are not Windows events go the ordinary JSON way.
#[test]
fn other_json_is_untouched() {
    for v in [
        json!({"Event": "x", "EventID": 1}),
        json!({"EventID": 4624, "message": "no channel"}),
        json!({"source": {"ip": "10.0.0.1"}, "winlogbeat": true}),
    ] {
        let (_, o) = run_obj(v);
        assert!(!o.matched(Parser::Windows));
    }
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Json::String),
        prop_oneof![
            Just("2024-01-01T00:00:00Z"),
            Just("2020-10-12 18:32:50"),
            Just("0x8020000000000000"),
            Just("<Data Name=\"a\">b</Data>"),
            Just("{\"a\":1}"),
            Just("4624"),
            Just("-"),
        ]
        .prop_map(|s| Json::String(s.to_owned())),
    ];
    let key = prop_oneof![
        "[A-Za-z#@._]{0,10}",
        prop_oneof![
            Just("Event"),
            Just("System"),
            Just("EventData"),
            Just("UserData"),
            Just("Data"),
            Just("#attributes"),
            Just("#text"),
            Just("Name"),
            Just("EventID"),
            Just("Channel"),
            Just("TimeCreated"),
            Just("SystemTime"),
            Just("winlog"),
            Just("event_data"),
            Just("event_id"),
            Just("@timestamp"),
            Just("EventTime"),
            Just("EventReceivedTime"),
            Just("Provider"),
            Just("Execution"),
        ]
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

/// Objects shaped like each Windows layout, with arbitrary values where the fields go.
fn arb_windows_object() -> impl Strategy<Value = serde_json::Map<String, Json>> {
    (arb_json(), arb_json(), arb_json(), arb_json(), 0..4u8).prop_map(|(a, b, c, d, which)| {
        let v = match which {
            0 => json!({"Event": {"System": a, "EventData": b, "UserData": c, "RenderingInfo": d}}),
            1 => json!({"Event": {"System": {"EventID": a, "TimeCreated": b, "Provider": c,
                "Execution": d, "Channel": "Security"}, "EventData": {"Data": b}}}),
            2 => json!({"winlog": {"event_id": a, "event_data": b, "channel": c}, "@timestamp": d}),
            _ => json!({"EventID": a, "Channel": b, "EventTime": c, "EventData": d,
                "EventReceivedTime": "2020-01-01 00:00:00", "@timestamp": "2020-01-01T05:00:00Z"}),
        };
        match v {
            Json::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    })
}

fn no_panic(obj: serde_json::Map<String, Json>) {
    let c = ctx();
    let text = Json::Object(obj.clone()).to_string();
    let mut e = Event::new("p".into(), c.received, text.as_str());
    let o = normalize_json(&mut e, obj, &c);
    assert_eq!(e.original, text);
    if o.is_failure() {
        assert!(e.get("error.message").is_some());
    }
    let _ = e.to_json_string();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_objects_never_panic(v in arb_json()) {
        if let Json::Object(m) = v {
            no_panic(m);
        }
    }

    #[test]
    fn arbitrary_windows_shaped_objects_never_panic(m in arb_windows_object()) {
        no_panic(m);
    }
}

/// Cases per property: 2000, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}
