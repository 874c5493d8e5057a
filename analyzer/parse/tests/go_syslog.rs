//! Conformance against the go-syslog vectors (`formats/syslog-go-syslog/go_syslog_vectors.jsonl`):
//! same validity, same fields.
//!
//! Deliberate differences, applied to the expected side before comparing:
//! * structured data values: go-syslog keeps escapes verbatim (`\]`); RFC 5424 §6.3.3 says they
//!   are escapes, so Sen un-escapes them (`]`) — the expected values are un-escaped here;
//! * a leading BOM is stripped from the message (`syslog::Syslog5424::message_text`) so search
//!   sees the text — stripped from the expected message too;
//! * non-UTF-8 messages (the `input_hex`-only vectors) become lossy UTF-8 since events hold text —
//!   the expected bytes are converted the same way;
//! * go-syslog's `partial` for an invalid SD keeps the empty element (`{"id": {}}`); Sen's partial
//!   result keeps the elements read so far too, but the comparison of partials covers only the
//!   header fields (priority, facility, severity, version, timestamp, hostname, appname);
//! * RFC 3164 timestamps are year-less; compared on month, day and time.
//!
//! Reproduce: `CARGO_TARGET_DIR=target-parse cargo test -p sen-parse --test go_syslog -- --nocapture`

mod common;

use chrono::{DateTime, Datelike, Timelike};
use sen_parse::syslog::{self, Syslog5424};
use sen_parse::time::LogTime;
use sen_parse::{Format, Parser};
use serde_json::Value as J;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn unescape_sd(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\' | ']')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn expected_message(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.strip_prefix('\u{feff}').unwrap_or(s).to_owned()),
        J::Object(o) => {
            let bytes = hex(o.get("hex")?.as_str()?);
            let s = String::from_utf8_lossy(&bytes).into_owned();
            Some(s.strip_prefix('\u{feff}').unwrap_or(&s).to_owned())
        }
        _ => None,
    }
}

/// Compare the header fields present in `exp` with `got`; returns the mismatches.
fn compare_5424(exp: &serde_json::Map<String, J>, got: &Syslog5424<'_>, full: bool) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |name: &str, want: Option<&J>, have: Option<String>| {
        let want = want.and_then(|w| match w {
            J::String(s) => Some(s.clone()),
            J::Number(n) => Some(n.to_string()),
            _ => None,
        });
        if want != have {
            bad.push(format!("{name}: want {want:?} got {have:?}"));
        }
    };
    check("priority", exp.get("priority"), Some(got.priority.to_string()));
    check("facility", exp.get("facility"), Some((got.priority >> 3).to_string()));
    check("severity", exp.get("severity"), Some((got.priority & 7).to_string()));
    check("version", exp.get("version"), Some(got.version.to_string()));
    check("hostname", exp.get("hostname"), got.hostname.map(str::to_owned));
    check("appname", exp.get("appname"), got.appname.map(str::to_owned));
    if full {
        check("procid", exp.get("procid"), got.procid.map(str::to_owned));
        check("msgid", exp.get("msgid"), got.msgid.map(str::to_owned));
        let want_msg = exp.get("message").and_then(expected_message);
        let have_msg = got.message_text().map(str::to_owned);
        if want_msg != have_msg {
            bad.push(format!("message: want {want_msg:?} got {have_msg:?}"));
        }
        if let Some(J::Object(sd)) = exp.get("structured_data") {
            for (id, params) in sd {
                let Some(el) = got.structured_data.iter().find(|e| e.id == id) else {
                    bad.push(format!("sd element {id} missing"));
                    continue;
                };
                for (k, v) in params.as_object().into_iter().flatten() {
                    let want = unescape_sd(v.as_str().unwrap_or_default());
                    let have =
                        el.params.iter().find(|(pk, _)| pk == k).map(|(_, pv)| pv.to_string());
                    if have.as_deref() != Some(want.as_str()) {
                        bad.push(format!("sd {id}.{k}: want {want:?} got {have:?}"));
                    }
                }
            }
        }
    }
    match (exp.get("timestamp").and_then(J::as_str), got.timestamp) {
        (None, None) => {}
        (Some(w), Some(h)) => {
            let w = DateTime::parse_from_rfc3339(w).expect("expected timestamp");
            if w != h {
                bad.push(format!("timestamp: want {w} got {h}"));
            }
        }
        (w, h) => bad.push(format!("timestamp: want {w:?} got {h:?}")),
    }
    bad
}

#[test]
fn go_syslog_vectors() {
    let Some(vectors) = common::jsonl("formats/syslog-go-syslog/go_syslog_vectors.jsonl") else {
        return;
    };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let mut pass = 0;
    let mut failures = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let input = match v.get("input").and_then(J::as_str) {
            Some(s) => s.to_owned(),
            None => String::from_utf8_lossy(&hex(v["input_hex"].as_str().unwrap())).into_owned(),
        };
        let valid = v["valid"].as_bool().unwrap();
        let rfc = v["rfc"].as_str().unwrap();
        let mut bad: Vec<String> = Vec::new();
        if rfc == "5424" {
            let got = syslog::parse_5424(&input);
            match (&got, valid) {
                (Ok(s), true) => {
                    // `expected: {}` means "valid" only (no fields recorded upstream).
                    if let Some(J::Object(exp)) =
                        v.get("expected").filter(|e| e.as_object().is_some_and(|o| !o.is_empty()))
                    {
                        bad.extend(compare_5424(exp, s, true));
                    }
                }
                (Err(e), false) => {
                    if let (Some(J::Object(p)), Some(partial)) = (v.get("partial"), &e.partial) {
                        bad.extend(
                            compare_5424(p, partial, false)
                                .into_iter()
                                .map(|m| format!("partial {m}")),
                        );
                    }
                }
                (Ok(_), false) => bad.push(format!("accepted, want error {}", v["error"])),
                (Err(e), true) => bad.push(format!("rejected: {e}")),
            }
            // The public entry point agrees on validity.
            let (event, outcome) = common::normalize(&input, Format::Rfc5424, &ctx);
            if outcome.is_failure() == valid {
                bad.push(format!(
                    "normalize_line(Rfc5424) failure={} for valid={valid}",
                    outcome.is_failure()
                ));
            }
            if valid && !outcome.matched(Parser::Rfc5424) {
                bad.push("normalize_line did not report rfc5424".into());
            }
            if let (true, Some(J::Object(exp))) = (valid, v.get("expected"))
                && let Some(p) = exp.get("priority").and_then(J::as_i64)
                && event.get("log.syslog.priority").map(|f| f.to_text()) != Some(p.to_string())
            {
                bad.push("log.syslog.priority not set".into());
            }
        } else {
            match syslog::parse_3164(&input) {
                None => bad.push("rejected".into()),
                Some(s) => {
                    let exp = v["expected"].as_object().unwrap();
                    let num = |k: &str| exp.get(k).and_then(J::as_i64);
                    if num("priority") != s.priority.map(i64::from) {
                        bad.push(format!("priority {:?}", s.priority));
                    }
                    if num("facility") != s.priority.map(|p| i64::from(p >> 3)) {
                        bad.push("facility".into());
                    }
                    if num("severity") != s.priority.map(|p| i64::from(p & 7)) {
                        bad.push("severity".into());
                    }
                    let st = |k: &str| exp.get(k).and_then(J::as_str).map(str::to_owned);
                    if st("hostname").as_deref() != s.hostname {
                        bad.push(format!("hostname {:?}", s.hostname));
                    }
                    if st("appname").as_deref() != s.appname {
                        bad.push(format!("appname {:?}", s.appname));
                    }
                    if st("procid").as_deref() != s.procid {
                        bad.push(format!("procid {:?}", s.procid));
                    }
                    if st("message").as_deref() != Some(s.message) {
                        bad.push(format!("message {:?}", s.message));
                    }
                    // `Jan 12 06:30:00`
                    let want = exp["timestamp"]["value"]
                        .as_str()
                        .unwrap()
                        .split_whitespace()
                        .collect::<Vec<_>>();
                    match s.timestamp {
                        Some(LogTime::YearLess { month, day, time }) => {
                            let have = format!(
                                "{:02}:{:02}:{:02}",
                                time.hour(),
                                time.minute(),
                                time.second()
                            );
                            let t = ctx.received.with_month(month).unwrap();
                            let mon = t.format("%b").to_string();
                            if want != [mon.as_str(), &day.to_string(), &have] {
                                bad.push(format!("timestamp {want:?} vs {mon} {day} {have}"));
                            }
                        }
                        other => bad.push(format!("timestamp {other:?}")),
                    }
                }
            }
            let (_, outcome) = common::normalize(&input, Format::Rfc3164, &ctx);
            if outcome.is_failure() {
                bad.push("normalize_line(Rfc3164) failed".into());
            }
        }
        if bad.is_empty() {
            pass += 1;
        } else {
            failures.push(format!("#{i} {rfc} {input:?}: {}", bad.join("; ")));
        }
    }
    common::print_failures("go-syslog", &failures, 50);
    println!("go-syslog vectors: {pass}/{} pass", vectors.len());
    assert_eq!(pass, vectors.len(), "go-syslog vectors: {pass}/{} pass", vectors.len());
}
