//! Shared by the rules acceptance tests: corpus location and event normalization as
//! `sen serve` does it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sen_core::event::Event;

/// `shared/corpora/public`, or `None` (with a note) when absent outside CI.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/public");
    if dir.is_dir() {
        return Some(dir);
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "corpus missing under CI");
    eprintln!("skipping: {} is absent", dir.display());
    None
}

/// Normalize each line of a file: JSON objects as structured events, anything else as a log
/// line (syslog, access log, CEF …), and join audit records as the pipeline does (the joined
/// event of a kernel event follows its records). Event ids are `<file>:<line>`.
pub fn events(path: &Path, timezone: chrono_tz::Tz) -> Vec<Event> {
    let ctx = sen_parse::Context {
        received: chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").unwrap().to_utc(),
        timezone,
        peer_ip: None,
    };
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() || l.starts_with("# ") {
            continue;
        }
        let mut e = Event::new(format!("{name}:{}", i + 1), ctx.received, l);
        match serde_json::from_str::<serde_json::Value>(l) {
            Ok(serde_json::Value::Object(map)) => {
                sen_parse::normalize_json(&mut e, map, &ctx);
            }
            _ => {
                sen_parse::normalize_line(&mut e, sen_parse::Format::Auto, &ctx);
            }
        }
        out.push(e);
    }
    sen_parse::auditd::join::with_joined(out, Default::default())
}

/// Every file under `dir` (recursively) whose extension is one of `exts`, sorted.
pub fn tree_files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for p in rd.flatten().map(|e| e.path()) {
            if p.is_dir() {
                walk(&p, exts, out);
            } else if p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, exts, &mut out);
    out.sort();
    out
}
