//! Property tests: the parsers never panic on any input, and the matcher agrees with plain
//! reference definitions of domain, network and URL matching.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::Utc;
use ipnet::{IpNet, Ipv4Net};
use proptest::prelude::*;
use sen_core::{Event, Value};

use super::ioc::{FeedInfo, Ioc, IocKind, IocValue};
use super::parse::{FeedFormat, ParseOptions, parse};
use super::set::IocSet;
use crate::alerts::Level;

fn opts() -> ParseOptions {
    ParseOptions::new(FeedInfo::new("prop", Level::High), Utc::now())
}

fn set_of(values: &[(IocKind, String)]) -> IocSet {
    let feed = FeedInfo::new("prop", Level::High);
    IocSet::build(values.iter().enumerate().map(|(i, (k, v))| {
        Arc::new(Ioc::new(IocValue::parse(*k, v).unwrap(), feed.clone(), i.to_string()))
    }))
}

/// Source ids (indices) of the indicators matching one field value.
fn matched(set: &IocSet, field: &str, value: Value) -> Vec<usize> {
    let mut e = Event::new("e".into(), Utc::now(), "");
    e.set(field, value);
    let mut hits = Vec::new();
    set.match_event(&e, &mut hits);
    let mut ids: Vec<usize> = hits.iter().map(|h| h.ioc.source_id.parse().unwrap()).collect();
    ids.sort_unstable();
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(text in ".{0,300}") {
        for f in [FeedFormat::Stix, FeedFormat::Misp, FeedFormat::Csv] {
            let _ = parse(f, &text, &opts());
        }
        let _ = IocValue::infer(&text);
        for k in IocKind::ALL {
            let _ = IocValue::parse(k, &text);
        }
    }

    #[test]
    fn stix_patterns_never_panic(pattern in "[\\[\\]()' a-z0-9:=.,<>!_*-]{0,80}|.{0,80}") {
        let doc = serde_json::json!({"type": "bundle", "objects": [
            {"type": "indicator", "id": "indicator--p", "pattern_type": "stix", "pattern": pattern}]});
        let out = parse(FeedFormat::Stix, &doc.to_string(), &opts()).unwrap();
        prop_assert_eq!(out.stats.entries, 1);
        prop_assert!(out.stats.loaded > 0 || !out.issues.is_empty(), "an indicator is loaded or reported");
    }

    #[test]
    fn csv_lines_are_each_loaded_or_reported(values in proptest::collection::vec("[ -~]{0,30}", 1..20)) {
        let text = format!("value\n{}\n", values.iter().map(|v| v.replace(['"', '\n', '\r'], "")).collect::<Vec<_>>().join("\n"));
        let out = parse(FeedFormat::Csv, &text, &opts()).unwrap();
        prop_assert_eq!(out.stats.loaded + out.stats.invalid + out.stats.unsupported, out.stats.entries);
    }

    #[test]
    fn domains_match_like_the_definition(
        iocs in proptest::collection::vec(proptest::collection::vec("[ab-]{1,2}", 2..4), 1..6),
        name in proptest::collection::vec("[abAB-]{1,2}", 1..6),
    ) {
        let iocs: Vec<String> = iocs.iter().map(|l| l.join(".")).collect();
        let valid: Vec<(IocKind, String)> = iocs
            .iter()
            .filter(|d| IocValue::parse(IocKind::Domain, d).is_ok())
            .map(|d| (IocKind::Domain, d.clone()))
            .collect();
        let set = set_of(&valid);
        let name = name.join(".");
        let lower = name.to_ascii_lowercase();
        let want: Vec<usize> = valid
            .iter()
            .enumerate()
            .filter(|(_, (_, d))| lower == *d || lower.ends_with(&format!(".{d}")))
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(matched(&set, "dns.question.name", Value::Str(name)), want);
    }

    #[test]
    fn networks_match_like_the_definition(
        nets in proptest::collection::vec((any::<u32>(), 0u8..=32), 1..12),
        probe in any::<u32>(),
        pick in any::<usize>(),
        edge in 0u8..3,
    ) {
        let nets: Vec<Ipv4Net> = nets.iter().map(|(a, l)| Ipv4Net::new(Ipv4Addr::from(*a), *l).unwrap().trunc()).collect();
        let values: Vec<(IocKind, String)> = nets.iter().map(|n| (IocKind::Cidr, n.to_string())).collect();
        let set = set_of(&values);
        // Probe a network's edges as well as random addresses.
        let n = nets[pick % nets.len()];
        let addr = match edge {
            0 => Ipv4Addr::from(probe),
            1 => n.network(),
            _ => n.broadcast(),
        };
        let around = [u32::from(addr).wrapping_sub(1), u32::from(addr), u32::from(addr).wrapping_add(1)];
        for a in around {
            let a = Ipv4Addr::from(a);
            let want: Vec<usize> = nets.iter().enumerate().filter(|(_, n)| n.contains(&a)).map(|(i, _)| i).collect();
            prop_assert_eq!(matched(&set, "source.ip", Value::Ip(IpAddr::V4(a))), want, "{}", a);
        }
    }

    #[test]
    fn v6_networks_match_like_the_definition(
        nets in proptest::collection::vec((any::<u128>(), 0u8..=128), 1..8),
        probe in any::<u128>(),
        pick in any::<usize>(),
    ) {
        let nets: Vec<IpNet> = nets.iter().map(|(a, l)| IpNet::new(IpAddr::V6((*a).into()), *l).unwrap().trunc()).collect();
        let values: Vec<(IocKind, String)> = nets.iter().map(|n| (IocKind::Cidr, n.to_string())).collect();
        // A /128 is an address, and IPv4-mapped networks become IPv4 ones: compare as parsed.
        let parsed: Vec<IocValue> = values.iter().map(|(k, v)| IocValue::parse(*k, v).unwrap()).collect();
        let set = set_of(&values);
        for a in [probe, u128::from(match nets[pick % nets.len()] { IpNet::V6(n) => n.network(), IpNet::V4(_) => unreachable!() })] {
            let ip = IpAddr::V6(a.into()).to_canonical();
            let want: Vec<usize> = parsed.iter().enumerate().filter(|(_, v)| match v {
                IocValue::Cidr(n) => n.contains(&ip),
                IocValue::Ip(x) => *x == ip,
                _ => false,
            }).map(|(i, _)| i).collect();
            prop_assert_eq!(matched(&set, "destination.ip", Value::Ip(ip)), want);
        }
    }

    #[test]
    fn a_url_indicator_matches_its_own_text(
        scheme in prop_oneof![Just(""), Just("http://"), Just("HTTPS://"), Just("ftp://")],
        host in "[a-zA-Z]{1,8}\\.[a-zA-Z]{2,4}",
        port in prop_oneof![Just(String::new()), (1u16..).prop_map(|p| format!(":{p}"))],
        rest in "(/[ -~]{0,20})?",
    ) {
        let url = format!("{scheme}{host}{port}{rest}");
        if IocValue::parse(IocKind::Url, &url).is_ok() {
            let set = set_of(&[(IocKind::Url, url.clone())]);
            prop_assert_eq!(matched(&set, "url.full", Value::Str(url.clone())), vec![0usize], "{}", url);
            prop_assert_eq!(matched(&set, "url.original", Value::Str(format!("  {url}"))), vec![0usize]);
        }
    }
}
