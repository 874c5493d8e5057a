//! CEF edge cases from the Logstash CEF codec (`formats/cef-logstash-codec-cef/cef_edge_case_inputs.jsonl`):
//! no crash, the 7 header fields extracted, escapes un-escaped.
//!
//! Reproduce: `CARGO_TARGET_DIR=target-parse cargo test -p sen-parse --test cef_edge -- --nocapture`

mod common;

use sen_parse::{Format, Parser};

#[test]
fn cef_edge_cases() {
    let Some(vectors) = common::jsonl("formats/cef-logstash-codec-cef/cef_edge_case_inputs.jsonl")
    else {
        return;
    };
    let ctx = common::ctx_at("2026-11-26T12:00:00Z");
    let mut failures = Vec::new();
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or_default();
        let input = v["input"].as_str().unwrap_or_default();
        for format in [Format::Auto, Format::Cef] {
            let (e, o) = common::normalize(input, format, &ctx);
            let mut bad = Vec::new();
            if o.is_failure() || !o.matched(Parser::Cef) {
                bad.push(format!("not parsed as CEF: {o}"));
            }
            for f in [
                "cef.version",
                "cef.device.vendor",
                "cef.device.product",
                "cef.device.version",
                "cef.device.event_class_id",
                "cef.name",
                "cef.severity",
            ] {
                match e.get_str(f) {
                    None => bad.push(format!("{f} missing")),
                    // Header escapes must be gone (a `\|` left would mean a missed escape).
                    Some(val)
                        if val.contains("\\|")
                            && name != "escaped_backslash_in_header_edge_case" =>
                    {
                        bad.push(format!("{f} still escaped: {val:?}"))
                    }
                    _ => {}
                }
            }
            let get = |k: &str| e.get(k).map(|f| f.to_text());
            let expect = |bad: &mut Vec<String>, k: &str, want: &str| {
                if get(k).as_deref() != Some(want) {
                    bad.push(format!("{k}: want {want:?} got {:?}", get(k)));
                }
            };
            match name {
                "escaped_pipes" => {
                    expect(&mut bad, "cef.extensions.moo", "this\\|has an escaped pipe")
                }
                "pipes_in_message" => expect(&mut bad, "cef.extensions.moo", "this|has an pipe"),
                "equal_in_message" => expect(&mut bad, "cef.extensions.moo", "this =has = equals="),
                "backslash_in_message" => {
                    expect(&mut bad, "cef.extensions.moo", "this \\has \\ backslashs\\")
                }
                "escaped_backslash_in_header" => {
                    expect(&mut bad, "cef.device.vendor", "secu\\rity");
                    expect(&mut bad, "cef.device.product", "threat\\manager");
                    expect(&mut bad, "cef.device.version", "1.\\0");
                    expect(&mut bad, "cef.device.event_class_id", "10\\0");
                    expect(&mut bad, "cef.name", "tro\\jan successfully stopped");
                    expect(&mut bad, "cef.severity", "\\10");
                }
                "escaped_backslash_in_header_edge_case" => {
                    expect(&mut bad, "cef.device.vendor", "security\\|");
                    expect(&mut bad, "cef.device.product", "threatmanager\\");
                }
                "escaped_pipes_in_header" => {
                    expect(&mut bad, "cef.device.vendor", "secu|rity");
                    expect(&mut bad, "cef.device.product", "threatmanager|");
                    expect(&mut bad, "cef.severity", "|10");
                }
                "equal_in_header" => expect(&mut bad, "cef.device.product", "threatmanager=equal"),
                "spaces_in_between_keys" | "leading_whitespace" | "message"
                    if input.contains("src=10.0.0.192") =>
                {
                    expect(&mut bad, "cef.extensions.src", "10.0.0.192");
                    expect(&mut bad, "source.ip", "10.0.0.192");
                }
                "allow_spaces_in_values" => {
                    expect(&mut bad, "cef.extensions.dproc", "InternetExplorer x.x.x.x")
                }
                "dots_in_keys" => expect(&mut bad, "cef.extensions.ad.nn", "TEST"),
                "preserve_additional_fields_with_dot_notations" => {
                    expect(&mut bad, "cef.extensions.ad.Error_,Code", "3221225578");
                    expect(&mut bad, "cef.extensions.ad.field[0]", "field0");
                }
                "preserve_random_values_key_value_pairs_alongside_with_additional_fields" => {
                    match get("cef.extensions.cs4") {
                        Some(v)
                            if v.starts_with("401 random.user")
                                && v.contains("/CN=random.user/OU=User Login")
                                && !v.contains("\\=") => {}
                        other => bad.push(format!("cs4 not un-escaped: {other:?}")),
                    }
                }
                "translate_abbreviated_cef_fields" => {
                    expect(&mut bad, "network.transport", "tcp");
                    expect(&mut bad, "source.domain", "source.host.name");
                    expect(&mut bad, "destination.port", "9200");
                    expect(&mut bad, "event.outcome", "success");
                }
                "log_with_custom_typed_fields" => {
                    expect(&mut bad, "cef.custom.pi", "3.1415926");
                    expect(&mut bad, "cef.custom.theory", "silly");
                    expect(&mut bad, "cef.custom.localhost", "::1");
                }
                _ => {}
            }
            if !bad.is_empty() {
                failures.push(format!("{name} ({format}): {}", bad.join("; ")));
            }
        }
    }
    common::print_failures("cef edge cases", &failures, 50);
    println!("CEF edge cases: {}/{} pass", vectors.len() * 2 - failures.len(), vectors.len() * 2);
    assert!(failures.is_empty());
}
