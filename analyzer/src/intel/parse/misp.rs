//! MISP JSON: events and attribute lists.
//!
//! Accepted documents:
//!
//! - an event (`{"Event": {…}}`, as in a MISP feed's `<uuid>.json` or `/events/view`),
//! - a list of events (`[{"Event": …}, …]`, or a REST search's `{"response": [{"Event": …}]}`),
//! - an attribute list (`{"Attribute": […]}`, a REST attribute search's
//!   `{"response": {"Attribute": […]}}`, or a bare `[{"type": …, "value": …}, …]`).
//!
//! An event's attributes are its `Attribute` list and the `Attribute` lists of its `Object`s.
//!
//! | attribute type | IOC |
//! |---|---|
//! | `ip-src`, `ip-dst` | IP, or CIDR for a block |
//! | `ip-src\|port`, `ip-dst\|port` | the IP |
//! | `domain`, `hostname` | domain (an IP value is an IP) |
//! | `domain\|ip` | the domain and the IP |
//! | `url` | URL |
//! | `md5`, `sha1`, `sha256` | hash |
//! | `filename\|md5`, `filename\|sha1`, `filename\|sha256` | the hash (file name in the description) |
//!
//! Other types (`email-src`, `mutex`, `regkey` …) are counted by type, not reported as issues.
//! With [`ParseOptions::to_ids_only`] (the default) only attributes with `to_ids` set are
//! loaded, as MISP's own exports do; `to_ids` may be a boolean, `0`/`1` or `"0"`/`"1"`.
//! Attributes marked `deleted` are skipped.
//!
//! Provenance: source id = the attribute `uuid` (else its location), name = the event's
//! `info`, description = the attribute's `comment`, labels = the event's and the attribute's
//! tag names.

use serde_json::Value as Json;

use super::{IssueKind, ParseError, ParseOptions, Parsed, json_str};
use crate::intel::ioc::{Ioc, IocKind, IocValue, clip};

/// Parse a MISP document.
pub fn parse(text: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| ParseError::json(&e))?;
    let mut out = Parsed::default();
    let not_misp = || {
        ParseError::document(
            "not a MISP document (expected `Event`, `Attribute`, `response`, or a list of events \
             or attributes)",
        )
    };
    match &doc {
        Json::Object(map) if map.contains_key("Event") => {
            event(&doc["Event"], "Event", opts, &mut out);
        }
        Json::Object(map) if map.contains_key("Attribute") => {
            attributes(&doc["Attribute"], "Attribute", &EventCtx::default(), opts, &mut out);
        }
        Json::Object(map) if map.contains_key("response") => match &doc["response"] {
            Json::Array(items) => list(items, "response", opts, &mut out),
            Json::Object(r) if r.contains_key("Attribute") => {
                let ctx = EventCtx::default();
                attributes(&r["Attribute"], "response.Attribute", &ctx, opts, &mut out);
            }
            _ => return Err(not_misp()),
        },
        Json::Array(items) => list(items, "", opts, &mut out),
        _ => return Err(not_misp()),
    }
    Ok(out)
}

/// A list of events or attributes.
fn list(items: &[Json], prefix: &str, opts: &ParseOptions, out: &mut Parsed) {
    let ctx = EventCtx::default();
    for (i, item) in items.iter().enumerate() {
        let loc = format!("{prefix}[{i}]");
        if let Some(ev) = item.get("Event") {
            event(ev, &format!("{loc}.Event"), opts, out);
        } else if item.get("type").is_some() && item.get("value").is_some() {
            attribute(item, &loc, &ctx, opts, out);
        } else {
            out.stats.entries += 1;
            out.issue(
                IssueKind::Invalid,
                loc,
                "neither an event (`Event`) nor an attribute (`type`, `value`)".into(),
            );
        }
    }
}

#[derive(Default)]
struct EventCtx {
    info: Option<String>,
    tags: Vec<String>,
}

fn tag_names(v: &Json) -> Vec<String> {
    match v.get("Tag") {
        Some(Json::Array(tags)) => tags
            .iter()
            .filter_map(|t| json_str(t, "name").or_else(|| t.as_str()))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn event(ev: &Json, loc: &str, opts: &ParseOptions, out: &mut Parsed) {
    if !ev.is_object() {
        out.stats.entries += 1;
        return out.issue(IssueKind::Invalid, loc.into(), "`Event` is not an object".into());
    }
    let ctx = EventCtx { info: json_str(ev, "info").map(str::to_owned), tags: tag_names(ev) };
    if let Some(attrs) = ev.get("Attribute") {
        attributes(attrs, &format!("{loc}.Attribute"), &ctx, opts, out);
    }
    match ev.get("Object") {
        None | Some(Json::Null) => {}
        Some(Json::Array(objects)) => {
            for (i, obj) in objects.iter().enumerate() {
                if let Some(attrs) = obj.get("Attribute") {
                    attributes(attrs, &format!("{loc}.Object[{i}].Attribute"), &ctx, opts, out);
                }
            }
        }
        Some(_) => {
            out.issue(IssueKind::Invalid, format!("{loc}.Object"), "not an array".into());
        }
    }
}

fn attributes(attrs: &Json, loc: &str, ctx: &EventCtx, opts: &ParseOptions, out: &mut Parsed) {
    match attrs {
        Json::Array(items) => {
            for (i, a) in items.iter().enumerate() {
                attribute(a, &format!("{loc}[{i}]"), ctx, opts, out);
            }
        }
        Json::Null => {}
        _ => out.issue(IssueKind::Invalid, loc.into(), "not an array".into()),
    }
}

/// `true`, `1`, `"1"`, `"true"`.
fn flag(v: Option<&Json>) -> Option<bool> {
    match v? {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => n.as_i64().map(|n| n != 0),
        Json::String(s) => match s.trim() {
            "1" | "true" | "True" => Some(true),
            "0" | "false" | "False" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn attribute(a: &Json, loc: &str, ctx: &EventCtx, opts: &ParseOptions, out: &mut Parsed) {
    out.stats.entries += 1;
    let uuid = json_str(a, "uuid");
    let location = match uuid {
        Some(u) => format!("{loc} {}", clip(u)),
        None => loc.to_owned(),
    };
    let (Some(ty), Some(value)) = (json_str(a, "type"), json_str(a, "value")) else {
        return out.issue(
            IssueKind::Invalid,
            location,
            "attribute needs a text `type` and `value`".into(),
        );
    };
    if flag(a.get("deleted")) == Some(true) {
        out.stats.deleted += 1;
        return;
    }
    if opts.to_ids_only && flag(a.get("to_ids")) != Some(true) {
        out.stats.not_to_ids += 1;
        return;
    }
    // (value, kind or None = IP/domain by value), file name for composite hash types.
    let mut parts: Vec<(&str, Option<IocKind>)> = Vec::with_capacity(2);
    let mut filename = None;
    match ty {
        "ip-src" | "ip-dst" => parts.push((value, Some(IocKind::Cidr))),
        "ip-src|port" | "ip-dst|port" => match value.rsplit_once('|') {
            Some((ip, _port)) => parts.push((ip, Some(IocKind::Ip))),
            None => parts.push((value, Some(IocKind::Ip))),
        },
        "domain" | "hostname" => parts.push((value, None)),
        "domain|ip" => match value.split_once('|') {
            Some((d, ip)) => {
                parts.push((d, None));
                parts.push((ip, Some(IocKind::Ip)));
            }
            None => {
                return out.issue(
                    IssueKind::Invalid,
                    location,
                    format!("`domain|ip` value `{}` has no `|`", clip(value)),
                );
            }
        },
        "url" => parts.push((value, Some(IocKind::Url))),
        "md5" => parts.push((value, Some(IocKind::Md5))),
        "sha1" => parts.push((value, Some(IocKind::Sha1))),
        "sha256" => parts.push((value, Some(IocKind::Sha256))),
        "filename|md5" | "filename|sha1" | "filename|sha256" => {
            let kind = match ty {
                "filename|md5" => IocKind::Md5,
                "filename|sha1" => IocKind::Sha1,
                _ => IocKind::Sha256,
            };
            match value.rsplit_once('|') {
                Some((name, hash)) => {
                    filename = Some(name);
                    parts.push((hash, Some(kind)));
                }
                None => {
                    return out.issue(
                        IssueKind::Invalid,
                        location,
                        format!("`{ty}` value `{}` has no `|`", clip(value)),
                    );
                }
            }
        }
        other => return out.ignore(other),
    }
    let mut labels = ctx.tags.clone();
    for t in tag_names(a) {
        if !labels.contains(&t) {
            labels.push(t);
        }
    }
    let description = json_str(a, "comment")
        .map(str::to_owned)
        .or_else(|| filename.map(|f| format!("file name: {f}")));
    for (text, kind) in parts {
        let parsed = match kind {
            Some(IocKind::Cidr) => IocValue::parse(IocKind::Cidr, text),
            Some(k) => IocValue::parse(k, text),
            None => IocValue::parse_host(text),
        };
        match parsed {
            Ok(value) => out.push(Ioc {
                value,
                feed: opts.feed.clone(),
                source_id: uuid.map_or_else(|| loc.to_owned(), str::to_owned),
                name: ctx.info.clone(),
                description: description.clone(),
                confidence: None,
                labels: labels.clone(),
                valid_until: None,
            }),
            Err(e) => out.issue(IssueKind::Invalid, location.clone(), format!("`{ty}`: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerts::Level;
    use crate::intel::ioc::FeedInfo;

    fn opts() -> ParseOptions {
        ParseOptions::new(FeedInfo::new("misp", Level::High), Utc::now())
    }

    fn summary(out: &Parsed) -> Vec<String> {
        out.iocs.iter().map(|i| format!("{} {} {}", i.kind(), i.value, i.source_id)).collect()
    }

    fn event_doc() -> Json {
        serde_json::json!({"Event": {
            "uuid": "ev-1", "info": "Phishing campaign", "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {"uuid": "a1", "type": "ip-dst", "value": "198.51.100.7", "to_ids": true, "comment": "c2"},
                {"uuid": "a2", "type": "ip-src|port", "value": "203.0.113.5|4444", "to_ids": "1"},
                {"uuid": "a3", "type": "domain|ip", "value": "Evil.Example|192.0.2.9", "to_ids": 1},
                {"uuid": "a4", "type": "hostname", "value": "mail.evil.example", "to_ids": true,
                 "Tag": [{"name": "kill-chain:delivery"}]},
                {"uuid": "a5", "type": "url", "value": "http://evil.example/dl", "to_ids": true},
                {"uuid": "a6", "type": "filename|sha256", "value": format!("inv.exe|{}", "B".repeat(64)), "to_ids": true},
                {"uuid": "a7", "type": "ip-dst", "value": "198.51.100.8", "to_ids": false},
                {"uuid": "a8", "type": "ip-dst", "value": "198.51.100.9", "to_ids": true, "deleted": true},
                {"uuid": "a9", "type": "email-src", "value": "x@evil.example", "to_ids": true},
                {"uuid": "a10", "type": "md5", "value": "not-a-hash", "to_ids": true},
                {"uuid": "a11", "type": "ip-dst", "value": "10.0.0.0/8", "to_ids": true},
                {"uuid": "a12", "type": "ip-dst", "to_ids": true}
            ],
            "Object": [{"name": "file", "Attribute": [
                {"uuid": "o1", "type": "md5", "value": "D41D8CD98F00B204E9800998ECF8427E", "to_ids": true},
                {"uuid": "o2", "type": "filename", "value": "inv.exe", "to_ids": false}
            ]}]
        }})
    }

    #[test]
    fn event_with_objects() {
        let out = parse(&event_doc().to_string(), &opts()).unwrap();
        assert_eq!(
            summary(&out),
            [
                "ip 198.51.100.7 a1",
                "ip 203.0.113.5 a2",
                "domain evil.example a3",
                "ip 192.0.2.9 a3",
                "domain mail.evil.example a4",
                "url http://evil.example/dl a5",
                &format!("sha256 {} a6", "b".repeat(64)),
                "cidr 10.0.0.0/8 a11",
                "md5 d41d8cd98f00b204e9800998ecf8427e o1",
            ]
        );
        let a1 = &out.iocs[0];
        assert_eq!(a1.name.as_deref(), Some("Phishing campaign"));
        assert_eq!(a1.description.as_deref(), Some("c2"));
        assert_eq!(a1.labels, ["tlp:green"]);
        assert_eq!(out.iocs[4].labels, ["tlp:green", "kill-chain:delivery"]);
        assert_eq!(out.iocs[6].description.as_deref(), Some("file name: inv.exe"));
        let s = &out.stats;
        assert_eq!((s.entries, s.loaded, s.not_to_ids, s.deleted), (14, 9, 2, 1));
        assert_eq!((s.invalid, s.unsupported), (2, 0));
        assert_eq!(s.ignored.get("email-src"), Some(&1));
        assert!(
            out.issues.iter().any(|i| i.location == "Event.Attribute[9] a10"),
            "{:?}",
            out.issues
        );
        assert!(out.issues.iter().any(|i| i.location == "Event.Attribute[11] a12"));
    }

    #[test]
    fn to_ids_can_be_ignored() {
        let mut o = opts();
        o.to_ids_only = false;
        let out = parse(&event_doc().to_string(), &o).unwrap();
        assert_eq!(out.stats.loaded, 10, "a7 (to_ids false) is loaded; filename is not an IOC");
        assert_eq!(out.stats.ignored.get("filename"), Some(&1));
    }

    #[test]
    fn lists_and_responses() {
        let attrs = serde_json::json!([
            {"type": "domain", "value": "a.example", "to_ids": true},
            {"type": "sha1", "value": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "to_ids": true},
            {"foo": 1}
        ]);
        let out = parse(&attrs.to_string(), &opts()).unwrap();
        assert_eq!(
            summary(&out),
            ["domain a.example [0]", "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 [1]"]
        );
        assert_eq!(out.issues[0].location, "[2]");
        let resp = serde_json::json!({"response": {"Attribute": [
            {"uuid": "r1", "type": "ip-dst", "value": "192.0.2.1", "to_ids": true}]}});
        assert_eq!(summary(&parse(&resp.to_string(), &opts()).unwrap()), ["ip 192.0.2.1 r1"]);
        let events = serde_json::json!({"response": [event_doc(), event_doc()]});
        let out = parse(&events.to_string(), &opts()).unwrap();
        assert_eq!(out.stats.loaded, 18);
        assert!(out.issues.iter().any(|i| i.location == "response[1].Event.Attribute[9] a10"));
        assert!(parse("{\"x\": 1}", &opts()).is_err());
        assert!(parse("[1, 2", &opts()).unwrap_err().location.starts_with("line 1"));
    }
}
