//! Elastic examples: `auth-bruteforce/auth.log` (every line parses; sshd password failures equal
//! the "Failed password" lines) and `apache-access/apache_access.log` (≥ 99.9% access events).
//!
//! Reproduce: `CARGO_TARGET_DIR=target-parse cargo test -p sen-parse --test elastic -- --nocapture`

mod common;

use std::collections::BTreeMap;

use sen_parse::{Format, Parser};

#[test]
fn auth_log() {
    let Some(log) = common::read("logs/elastic-examples/auth-bruteforce/auth.log") else { return };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let (mut n, mut failed, mut pw_failures, mut invalid, mut accepted) = (0, 0, 0, 0, 0);
    let failed_password_lines = log.lines().filter(|l| l.contains("Failed password")).count();
    let mut by_parser: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for line in log.lines() {
        n += 1;
        let (e, o) = common::normalize(line, Format::Auto, &ctx);
        *by_parser.entry(o.to_string()).or_default() += 1;
        if o.is_failure() {
            failed += 1;
            failures.push(line.to_owned());
            continue;
        }
        let is = |k: &str, v: &str| e.get_str(k) == Some(v);
        if o.matched(Parser::Sshd)
            && is("event.outcome", "failure")
            && is("system.auth.ssh.method", "password")
            && is("event.action", "ssh_login")
        {
            pw_failures += 1;
            assert!(e.get("source.ip").is_some(), "no source.ip: {line}");
        }
        if is("system.auth.ssh.event", "Invalid") {
            invalid += 1;
        }
        if is("system.auth.ssh.event", "Accepted") {
            accepted += 1;
        }
    }
    common::print_failures("auth.log", &failures, 20);
    println!(
        "auth.log: {n} lines, {failed} parse failures; sshd password failures {pw_failures} (\"Failed password\" lines: {failed_password_lines}); invalid user {invalid}; accepted {accepted}"
    );
    for (k, v) in &by_parser {
        println!("  {v:6} {k}");
    }
    assert_eq!(n, 7121);
    assert_eq!(failed, 0);
    assert_eq!(failed_password_lines, 713);
    assert_eq!(pw_failures, failed_password_lines);
    assert_eq!(invalid, 178);
}

#[test]
fn apache_access_log() {
    let Some(log) = common::read("logs/elastic-examples/apache-access/apache_access.log") else {
        return;
    };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let (mut n, mut ok) = (0, 0);
    let mut failures = Vec::new();
    for line in log.lines() {
        n += 1;
        let (e, o) = common::normalize(line, Format::Auto, &ctx);
        if o.matched(Parser::AccessLog)
            && e.get("http.response.status_code").is_some()
            && e.get("source.ip").is_some()
        {
            ok += 1;
        } else {
            failures.push(format!("{line} => {o}"));
        }
    }
    common::print_failures("apache_access.log", &failures, 20);
    let pct = 100.0 * ok as f64 / n as f64;
    println!("apache_access.log: {ok}/{n} access events ({pct:.3}%)");
    assert_eq!(n, 10_000);
    assert!(pct >= 99.9, "{pct:.3}% < 99.9%");
}
