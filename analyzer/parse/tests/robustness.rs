//! Property tests: no input makes the parsers panic, and every event keeps its original text.
//!
//! Reproduce: `CARGO_TARGET_DIR=target-parse cargo test -p sen-parse --test robustness`

use chrono::Utc;
use proptest::prelude::*;
use sen_core::event::{Event, TAG_PARSE_FAILURE};
use sen_parse::{Context, Format, normalize_json, normalize_line};

const FORMATS: [Format; 6] =
    [Format::Auto, Format::Rfc3164, Format::Rfc5424, Format::Cef, Format::Leef, Format::Json];

fn check(line: &str) {
    let ctx = Context::new(Utc::now());
    for f in FORMATS {
        let mut e = Event::new("p".into(), ctx.received, line);
        let o = normalize_line(&mut e, f, &ctx);
        assert_eq!(e.original, line);
        assert_eq!(
            o.is_failure(),
            e.has_tag(TAG_PARSE_FAILURE) || o.error.is_some() && o.is_failure()
        );
        if o.is_failure() {
            assert!(e.get("error.message").is_some());
        }
    }
}

fn prefixes() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("<13>".to_owned()),
        Just("<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b=\"".to_owned()),
        Just("<34>Oct 11 22:14:15 host su[".to_owned()),
        Just("Feb 29 00:00:00 h sshd[1]: Failed password for ".to_owned()),
        Just("Dec 31 23:59:60 h sudo: u : ".to_owned()),
        Just("CEF:0|".to_owned()),
        Just("CEF:0|a|b|c|d|e|10|k=".to_owned()),
        Just("LEEF:2.0|a|b|c|d|x".to_owned()),
        Just("LEEF:1.0|a|b|c|d|devTime=".to_owned()),
        Just("{\"message\":\"".to_owned()),
        Just("{\"_path\":\"conn\",\"ts\":".to_owned()),
        Just("{\"@stream\":\"x509\",\"ts\":1.5e9,\"id\":\"F\",\"certificate_serial\":".to_owned()),
        Just("<13>Nov 26 10:00:00 h zeek: {\"_path\":\"dns\",\"ts\":\"".to_owned()),
        Just("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"".to_owned()),
        Just("[Sun Dec 04 04:47:44 2005] [error] [client ".to_owned()),
        Just("2021/04/01 13:02:31 [error] 1#1: *1 x, client: ".to_owned()),
        Just("Jan  1 00:00:00 h kernel: IN=eth0 SRC=".to_owned()),
        Just("2024-01-02T03:04:05.123+01:00 h p[1]: ".to_owned()),
        Just("type=EXECVE msg=audit(1604996384.965:93777): argc=2 a0=\"".to_owned()),
        Just("node=h type=USER_LOGIN msg=audit(1.2:3): pid=1 msg='acct=".to_owned()),
        Just("Jan  1 00:00:00 h kernel: [ 1.0] audit: type=1300 audit(1.1:1): a1[0]=".to_owned()),
        Just("{\"Facility\":\"user\",\"SyslogMessage\":\"type=AUOMS_EXECVE audit(".to_owned()),
        Just("<189>date=2026-11-26 time=15:00:01 logid=\"0100044547\" type=\"event\" msg=\"".to_owned()),
        Just("logid=0000000013 type=traffic eventtime=".to_owned()),
        Just("<189>Nov 26 15:00:05 fw CEF:0|Fortinet|Fortigate|v7|1|x|3|cat=".to_owned()),
        Just("<187>Nov 26 2026 15:10:01+07:00 pe1 %%01BGP/3/X(l)[1]:y (A=".to_owned()),
        Just("%%01".to_owned()),
        Just("<28>Nov 26 15:11:01 mx1 /kernel: tcp_auth_ok: Packet from ".to_owned()),
        Just("<28>Nov 26 15:11:01 mx1 rpd[1]: BGP_".to_owned()),
        Just("<14>1 2026-11-26T15:12:01Z srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1 source-address=\"".to_owned()),
        Just("Sep 23 13:54:55 h junos-flow: 2026-11-26T08:12:02Z srx RT_FLOW - X [junos@".to_owned()),
    ]
}

/// Every line of every text corpus file through every format: no panic, original kept.
#[test]
fn corpus_sweep_all_formats() {
    let root = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/public"
    ));
    if !root.exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("corpora missing at {} (CI=true)", root.display());
        }
        eprintln!("SKIP: corpora not found at {}", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![root.join("logs"), root.join("formats")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "log" || x == "jsonl" || x == "csv") {
                files.push(p);
            }
        }
    }
    let mut lines = 0usize;
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned();
        for line in text.lines().take(5000) {
            lines += 1;
            check(line);
        }
    }
    println!("corpus sweep: {} files, {lines} lines x {} formats", files.len(), FORMATS.len());
    assert!(lines > 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn arbitrary_strings(s in "\\PC*") {
        check(&s);
    }

    #[test]
    fn arbitrary_bytes_lossy(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn known_prefixes_with_garbage(p in prefixes(), s in "[ -~\\t\\n\\\\|=\\[\\]\"é€𐌼]{0,120}") {
        check(&format!("{p}{s}"));
    }

    #[test]
    fn zeek_records(
        ts in prop_oneof![
            (-1e12..1e12f64).prop_map(serde_json::Value::from),
            "\\PC{0,30}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
        ],
        log in "[a-z_.]{0,10}",
        k in "x[a-z_.]{0,20}",
        v in "\\PC{0,40}",
    ) {
        let ctx = Context::new(Utc::now());
        for obj in [
            serde_json::json!({"_path": log, "ts": ts, "uid": "C", "id_orig_h": v, k.clone(): v}),
            serde_json::json!({"ts": ts, "uid": "C", "id": {"orig_h": v, "resp_p": ts}, k.clone(): ts}),
            serde_json::json!({"message": serde_json::json!({"ts": ts, "uid": v, "id.orig_h": "10.0.0.1", k.clone(): v}).to_string()}),
        ] {
            let text = obj.to_string();
            let mut e = Event::new("p".into(), ctx.received, text.clone());
            let o = normalize_json(&mut e, obj.as_object().cloned().unwrap_or_default(), &ctx);
            prop_assert!(o.matched(sen_parse::Parser::Zeek), "{text}");
            prop_assert_eq!(o.is_failure(), e.has_tag(TAG_PARSE_FAILURE));
        }
    }

    /// Audit record streams, records of several events and hosts interleaved with bad lines:
    /// joining keeps every event as it was, in order, builds joined events only from records
    /// of the stream, and never holds more groups than its window allows.
    #[test]
    fn audit_streams_join_without_loss(
        recs in proptest::collection::vec(
            (0usize..7, 0u64..4, 0usize..2, "[ -~]{0,12}"),
            0..60,
        ),
        window in 1u64..12,
        max_records in 1usize..6,
    ) {
        use sen_parse::auditd::join::{JoinLimits, Joiner, JOINED_DATASET, joinable, with_joined};
        const TYPES: [&str; 7] = ["SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE", "EOE", "BAD"];
        let ctx = Context::new(Utc::now());
        let lines: Vec<String> = recs
            .iter()
            .map(|(t, serial, host, arg)| match TYPES[*t] {
                "BAD" => format!("type=SYSCALL msg=audit(x:{serial}): {arg}"),
                "SYSCALL" => format!("node=h{host} type=SYSCALL msg=audit(1.5:{serial}): syscall=59 success=yes exe=\"/bin/{arg}\""),
                "EXECVE" => format!("node=h{host} type=EXECVE msg=audit(1.5:{serial}): argc=2 a0=\"{arg}\" a1=\"-x\""),
                kind => format!("node=h{host} type={kind} msg=audit(1.5:{serial}): name=\"{arg}\""),
            })
            .collect();
        let events: Vec<Event> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut e = Event::new(format!("r{i}"), ctx.received, l.as_str());
                normalize_line(&mut e, Format::Auto, &ctx);
                e
            })
            .collect();
        let limits = JoinLimits { window, max_records };
        let out = with_joined(events.clone(), limits);
        let (joined, kept): (Vec<&Event>, Vec<&Event>) =
            out.iter().partition(|e| e.get_str("event.dataset") == Some(JOINED_DATASET));
        prop_assert_eq!(kept.len(), events.len());
        for (a, b) in kept.iter().zip(&events) {
            prop_assert_eq!(*a, b);
        }
        for j in &joined {
            prop_assert!(j.original.lines().all(|l| lines.iter().any(|x| x == l)), "{}", j.original);
        }
        let mut joiner = Joiner::new(limits);
        let mut sink = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            if joinable(&e) {
                joiner.push(i as u64, e, &mut sink);
            }
            prop_assert!(joiner.open_groups() as u64 <= window + 1);
        }
        joiner.flush(&mut sink);
        prop_assert_eq!(joiner.open_groups(), 0);
        prop_assert_eq!(sink.len(), joined.len());
    }

    /// FortiOS `key=value` logs: well-formed pairs come back exactly (quoted or not), and a junk
    /// token or an unterminated quote anywhere costs only itself.
    #[test]
    fn fortios_pairs_survive_junk(
        pairs in proptest::collection::btree_map("[a-z][a-z0-9_]{0,9}", "[A-Za-z0-9 ._:/()\\[\\]-]{0,16}", 0..12),
        quote_all in any::<bool>(),
        junk in "[?!#@]{1,5}",
        at in 0usize..12,
    ) {
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        let render = |k: &str, v: &str| {
            if quote_all || v.is_empty() || v.contains(' ') { format!("{k}=\"{v}\"") } else { format!("{k}={v}") }
        };
        let mut tokens: Vec<String> = pairs.iter().map(|(k, v)| render(k, v)).collect();
        let clean = tokens.join(" ");
        let f = sen_parse::fortigate::parse(&clean);
        prop_assert!(f.errors.is_empty(), "{clean}: {:?}", f.errors);
        let got: Vec<(String, String)> = f.pairs.iter().map(|(k, v)| ((*k).to_owned(), v.to_string())).collect();
        prop_assert_eq!(&got, &pairs, "{}", clean);
        // Junk between two pairs: reported once, every pair kept.
        tokens.insert(at.min(tokens.len()), junk);
        let dirty = tokens.join(" ");
        let f = sen_parse::fortigate::parse(&dirty);
        prop_assert_eq!(f.errors.len(), 1, "{}", dirty);
        let got: Vec<(String, String)> = f.pairs.iter().map(|(k, v)| ((*k).to_owned(), v.to_string())).collect();
        prop_assert_eq!(&got, &pairs, "{}", dirty);
        check(&format!("<189>logid=1 type=event {dirty}"));
        // An unterminated quote in the last pair: the others are kept.
        if let Some((k, v)) = pairs.last() {
            let cut = format!("{} {k}=\"{v}", tokens_without_last(&pairs, render));
            let f = sen_parse::fortigate::parse(&cut);
            prop_assert_eq!(f.pairs.len(), pairs.len(), "{}", cut);
            prop_assert_eq!(f.errors.len(), 1, "{}", cut);
            prop_assert_eq!(f.get(k), Some(v.trim_end()), "{}", cut);
        }
    }

    #[test]
    fn json_objects(k in "[a-z@.]{0,12}", v in "\\PC{0,40}", n in any::<i64>()) {
        let ctx = Context::new(Utc::now());
        let obj = serde_json::json!({ k.clone(): v.clone(), "@timestamp": n, "message": v, "event": {"original": k} });
        let mut e = Event::new("p".into(), ctx.received, "{}");
        let _ = normalize_json(&mut e, obj.as_object().cloned().unwrap_or_default(), &ctx);
    }
}

fn tokens_without_last(
    pairs: &[(String, String)],
    render: impl Fn(&str, &str) -> String,
) -> String {
    let n = pairs.len().saturating_sub(1);
    pairs.iter().take(n).map(|(k, v)| render(k, v)).collect::<Vec<_>>().join(" ")
}

/// Cases per property: 2000, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}
