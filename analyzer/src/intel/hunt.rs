//! Retro-hunt: look for new indicators in the events already indexed.
//!
//! [`retro_hunt`] turns the indicators into search queries in Sen's query language (OR-ed
//! clauses, up to [`MAX_CLAUSES`] per query), runs them with [`IndexStore::search`] over
//! `[since, until)`, and checks every event found with an [`IocSet`] of the same indicators,
//! so a hit means exactly what it means at ingest (the queries only select candidates).
//!
//! What is searched, per indicator:
//!
//! - **IP**: every IP field of [`set::WATCHED`](super::set::WATCHED).
//! - **CIDR**: the typed IP fields of the index (`source.ip`, `destination.ip`, `client.ip`,
//!   `host.ip`, `related.ip`) as blocks. The others (`server.ip`, `dns.resolved_ip`) are
//!   indexed as text: an IPv4 block of at most [`MAX_TEXT_BLOCK`] addresses is searched
//!   address by address, a larger one by text prefixes on octet boundaries (`10.1.*` for
//!   `10.1.0.0/16`; a `/20` is sixteen `a.b.c.*` prefixes, a `/17` the one `/16` around it —
//!   the matcher then drops the candidates outside the block), at most [`MAX_TEXT_PREFIXES`]
//!   per block. An IPv6 block is searched there by the text every address of it starts with
//!   in its canonical form (RFC 5952, as Sen writes addresses): its leading whole groups up to
//!   the first zero group, which `::` may compress (`2001:db8:bad:*` for
//!   `2001:db8:bad::/48`, `2001:db8:*` for `2001:db8:0:1::/64`), when that is at least two
//!   groups ([`v6_prefix`]). Blocks larger than a `/2`, and IPv6 blocks without two such
//!   groups, are not searched there (listed in [`RetroHunt::not_searched`]).
//! - **Domain**: the name itself in every domain field; its subdomains (`*.evil.example`) in
//!   the keyword fields the index types (`dns.question.name`, `url.domain`), for the first
//!   [`MAX_SUFFIX_DOMAINS`] domains of a hunt (a leading wildcard scans the field's terms). The
//!   other domain fields cannot be searched by suffix (listed in `not_searched`).
//! - **URL**: `url.full` (exact, case-insensitive; with and without scheme when the indicator
//!   has none) and `url.original` (as a phrase).
//! - **Hash**: the ECS hash fields and `related.hash` (Sysmon's `Hashes` text is split into
//!   those fields by the parser).
//!
//! Names written with a trailing dot or URLs in another form than the canonical one (a
//! default port, a fragment) are not found by the queries; the ingest-time matcher sees them.
//!
//! This runs Tantivy searches: call it on a blocking thread (`spawn_blocking`).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use sen_core::Event;

use super::IntelError;
use super::ioc::{Ioc, IocValue};
use super::set::{FieldClass, IocHit, IocSet, watched_fields};
use crate::index::schema::{Kind, spec_for};
use crate::index::{IndexStore, SearchRequest};

/// Most clauses in one query.
pub const MAX_CLAUSES: usize = 512;
/// Domains of one hunt whose subdomains are searched (each is a leading-wildcard query).
pub const MAX_SUFFIX_DOMAINS: usize = 200;
/// Events fetched per search page.
const PAGE: usize = 500;

/// The result of a retro-hunt.
#[derive(Debug, Clone, Default)]
pub struct RetroHunt {
    /// Each matching event with each indicator it matched.
    pub hits: Vec<(Event, IocHit)>,
    /// Candidate events read from the index (each once).
    pub events_examined: usize,
    /// Search queries run.
    pub queries: usize,
    /// Whether more candidates than `limit` were found (the rest were not examined).
    pub truncated: bool,
    /// What could not be searched (see the module docs).
    pub not_searched: Vec<String>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn typed_ip(field: &str) -> bool {
    spec_for(field).is_some_and(|s| s.kind == Kind::Ip)
}

fn typed_keyword(field: &str) -> bool {
    spec_for(field).is_some_and(|s| s.kind == Kind::Keyword)
}

/// Most addresses of a block searched one by one in a field the index holds as text.
pub const MAX_TEXT_BLOCK: u32 = 16;

/// The addresses of a small IPv4 block (at most [`MAX_TEXT_BLOCK`]), for fields the index
/// holds as text; `None` for a larger block.
fn v4_addresses(net: ipnet::Ipv4Net) -> Option<Vec<String>> {
    let size = 1u64 << (32 - u32::from(net.prefix_len()));
    let base = u32::from(net.network());
    (size <= u64::from(MAX_TEXT_BLOCK))
        .then(|| (0..size as u32).map(|k| std::net::Ipv4Addr::from(base + k).to_string()).collect())
}

/// Most text prefixes one IPv4 block becomes in a field the index holds as text.
pub const MAX_TEXT_PREFIXES: u64 = 64;

/// Text prefixes on octet boundaries (`a.b.c.`, `a.b.`, `a.`) whose union covers an IPv4
/// block: the most specific boundary that needs at most [`MAX_TEXT_PREFIXES`] of them (a
/// prefix may cover more than the block; the matcher checks every candidate). `None` for a
/// block too large.
fn v4_prefixes(net: ipnet::Ipv4Net) -> Option<Vec<String>> {
    let len = u32::from(net.prefix_len());
    let base = u32::from(net.network());
    for g in [24u32, 16, 8] {
        let count: u64 = if len >= g { 1 } else { 1u64 << (g - len) };
        if count > MAX_TEXT_PREFIXES {
            continue;
        }
        let first = base >> (32 - g);
        return Some(
            (0..count as u32)
                .map(|k| {
                    let v = first + k;
                    let octets: Vec<String> =
                        (0..g / 8).rev().map(|i| ((v >> (8 * i)) & 0xff).to_string()).collect();
                    format!("{}.", octets.join("."))
                })
                .collect(),
        );
    }
    None
}

/// The text every address of an IPv6 block starts with in canonical form (RFC 5952: lower
/// case, no leading zeros, the longest run of zero groups compressed to `::`): the block's
/// whole leading groups before its first zero group (a compressed run can only start at a zero
/// group), followed by `:`. `None` when that is fewer than two groups (too broad to search).
fn v6_prefix(net: ipnet::Ipv6Net) -> Option<String> {
    let groups = net.network().segments();
    let whole = usize::from(net.prefix_len()) / 16;
    let lead = groups[..whole].iter().position(|g| *g == 0).unwrap_or(whole);
    (lead >= 2).then(|| {
        let mut out: String =
            groups[..lead].iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
        out.push(':');
        out
    })
}

/// The query clauses for one indicator; `notes` collects what cannot be searched.
fn clauses(ioc: &Ioc, suffix_ok: bool, out: &mut Vec<String>, notes: &mut HashSet<String>) {
    match &ioc.value {
        IocValue::Ip(ip) => {
            for f in watched_fields(FieldClass::Ip) {
                out.push(format!("{f}:{}", quote(&ip.to_string())));
            }
        }
        IocValue::Cidr(net) => {
            for f in watched_fields(FieldClass::Ip) {
                if typed_ip(f) {
                    out.push(format!("{f}:{}", quote(&net.to_string())));
                    continue;
                }
                match net {
                    IpNet::V4(n) => {
                        if let Some(addrs) = v4_addresses(*n) {
                            for a in addrs {
                                out.push(format!("{f}:{}", quote(&a)));
                            }
                        } else if let Some(prefixes) = v4_prefixes(*n) {
                            for p in prefixes {
                                out.push(format!("{f}:{p}*"));
                            }
                        } else {
                            notes.insert(format!(
                                "{f}: IPv4 blocks larger than a /2 (the field is indexed as text)"
                            ));
                        }
                    }
                    IpNet::V6(n) => match v6_prefix(*n) {
                        // `:` is escaped: in a word it would start a field.
                        Some(p) => out.push(format!("{f}:{}*", p.replace(':', "\\:"))),
                        None => {
                            notes.insert(format!(
                                "{f}: IPv6 blocks with fewer than two leading non-zero groups \
                                 (the field is indexed as text)"
                            ));
                        }
                    },
                }
            }
        }
        IocValue::Domain(d) => {
            for f in watched_fields(FieldClass::Domain) {
                out.push(format!("{f}:{}", quote(d)));
                if typed_keyword(f) {
                    if suffix_ok {
                        out.push(format!("{f}:*.{d}"));
                    } else {
                        notes.insert(format!(
                            "{f}: subdomains of domains beyond the first {MAX_SUFFIX_DOMAINS} of a hunt"
                        ));
                    }
                } else {
                    notes.insert(format!(
                        "{f}: subdomains (the field cannot be searched by suffix)"
                    ));
                }
            }
        }
        IocValue::Url(u) => {
            let forms: Vec<String> = match &u.scheme {
                Some(s) => vec![format!("{s}://{}", u.key)],
                None => vec![
                    format!("http://{}", u.key),
                    format!("https://{}", u.key),
                    u.key.to_string(),
                ],
            };
            for form in &forms {
                for f in watched_fields(FieldClass::Url) {
                    out.push(format!("{f}:{}", quote(form)));
                }
            }
        }
        IocValue::Md5(_) | IocValue::Sha1(_) | IocValue::Sha256(_) => {
            let hex = ioc.value.to_string();
            for f in watched_fields(FieldClass::Hash) {
                out.push(format!("{f}:{}", quote(&hex)));
            }
        }
    }
}

/// Hunt for `iocs` in the events of `[since, until)`, examining at most `limit` candidate
/// events. Blocking (Tantivy): run it with `spawn_blocking`.
pub fn retro_hunt(
    store: &IndexStore,
    iocs: &[Arc<Ioc>],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<RetroHunt, IntelError> {
    let mut out = RetroHunt::default();
    if iocs.is_empty() || since >= until || limit == 0 {
        return Ok(out);
    }
    let set = IocSet::build(iocs.iter().cloned());
    let mut notes = HashSet::new();
    let mut batch: Vec<String> = Vec::new();
    let mut queries: Vec<String> = Vec::new();
    let mut domains = 0usize;
    for ioc in iocs {
        let suffix_ok = matches!(ioc.value, IocValue::Domain(_)) && {
            domains += 1;
            domains <= MAX_SUFFIX_DOMAINS
        };
        let mut cl = Vec::new();
        clauses(ioc, suffix_ok, &mut cl, &mut notes);
        if batch.len() + cl.len() > MAX_CLAUSES && !batch.is_empty() {
            queries.push(batch.join(" OR "));
            batch.clear();
        }
        batch.extend(cl);
    }
    if !batch.is_empty() {
        queries.push(batch.join(" OR "));
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut hits = Vec::new();
    'queries: for q in &queries {
        out.queries += 1;
        let mut offset = 0;
        loop {
            let resp = store.search(&SearchRequest {
                q: q.clone(),
                from: since,
                to: until,
                limit: PAGE,
                offset,
            })?;
            let n = resp.hits.len();
            for doc in resp.hits {
                let event: Event = match serde_json::from_value(doc) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %e, "retro-hunt: an indexed event could not be read");
                        continue;
                    }
                };
                if !seen.insert(event.id.clone()) {
                    continue;
                }
                if out.events_examined == limit {
                    out.truncated = true;
                    break 'queries;
                }
                out.events_examined += 1;
                hits.clear();
                set.match_event(&event, &mut hits);
                for h in hits.drain(..) {
                    out.hits.push((event.clone(), h));
                }
            }
            offset += n;
            if n < PAGE || offset as u64 >= resp.total {
                break;
            }
        }
    }
    let mut notes: Vec<String> = notes.into_iter().collect();
    notes.sort();
    out.not_searched = notes;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Level;
    use crate::index::query;
    use crate::intel::ioc::{FeedInfo, IocKind};

    #[test]
    fn small_v4_blocks_become_addresses() {
        let a = |s: &str| v4_addresses(s.parse().unwrap());
        assert_eq!(
            a("192.0.2.8/30").unwrap(),
            ["192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11"]
        );
        assert_eq!(a("192.0.2.16/28").unwrap().len(), 16);
        assert!(a("192.0.2.0/27").is_none());
        assert!(a("0.0.0.0/0").is_none());
    }

    #[test]
    fn larger_v4_blocks_become_octet_prefixes() {
        let p = |s: &str| v4_prefixes(s.parse().unwrap());
        assert_eq!(p("192.0.2.0/27").unwrap(), ["192.0.2."]);
        assert_eq!(p("203.0.113.0/24").unwrap(), ["203.0.113."]);
        let twenty = p("10.1.16.0/20").unwrap();
        assert_eq!(twenty.len(), 16);
        assert_eq!((twenty[0].as_str(), twenty[15].as_str()), ("10.1.16.", "10.1.31."));
        assert_eq!(p("10.1.128.0/18").unwrap().len(), 64);
        assert_eq!(p("10.1.0.0/17").unwrap(), ["10.1."], "the /16 around it");
        assert_eq!(p("10.0.0.0/8").unwrap(), ["10."]);
        assert_eq!(p("172.16.0.0/12").unwrap().len(), 16);
        assert_eq!(p("64.0.0.0/2").unwrap().len(), 64);
        assert!(p("0.0.0.0/1").is_none());
    }

    #[test]
    fn v6_blocks_become_the_text_their_addresses_start_with() {
        let p = |s: &str| v6_prefix(s.parse().unwrap());
        assert_eq!(p("2001:db8:bad::/48").as_deref(), Some("2001:db8:bad:"));
        assert_eq!(p("2001:DB8:0BAD:0001::/64").as_deref(), Some("2001:db8:bad:1:"));
        // A zero group may be compressed: stop before it.
        assert_eq!(p("2001:db8:0:1::/64").as_deref(), Some("2001:db8:"));
        // A partial group does not count.
        assert_eq!(p("2001:db8:8000::/33").as_deref(), Some("2001:db8:"));
        assert_eq!(p("2001:db8::/32").as_deref(), Some("2001:db8:"));
        assert_eq!(p("2001::/16"), None);
        assert_eq!(p("::ffff:0:0/96"), None);
        // Every address of a block, written canonically, starts with its prefix.
        for (block, addr) in [
            ("2001:db8:0:1::/64", "2001:db8:0:1::5"),
            ("2001:db8:0:1::/64", "2001:db8:0:1:0:0:0:0"),
            ("2001:db8::/32", "2001:db8::"),
            ("2001:db8:bad::/48", "2001:db8:bad::"),
            ("2001:db8:bad::/48", "2001:db8:bad:ffff:1:2:3:4"),
        ] {
            let ip: std::net::Ipv6Addr = addr.parse().unwrap();
            assert!(ip.to_string().starts_with(&p(block).unwrap()), "{block} {ip}");
        }
    }

    #[test]
    fn clauses_parse_in_the_query_language() {
        let feed = FeedInfo::new("t", Level::High);
        let mut all = Vec::new();
        let mut notes = HashSet::new();
        for (kind, v) in [
            (IocKind::Ip, "2001:db8::1"),
            (IocKind::Cidr, "198.51.100.0/22"),
            (IocKind::Cidr, "2001:db8::/48"),
            (IocKind::Cidr, "2001::/16"),
            (IocKind::Domain, "my-evil_host.example"),
            (IocKind::Url, "evil.example/a b\"c\\d?x=1"),
            (IocKind::Sha256, &"a".repeat(64)),
        ] {
            let ioc = Ioc::new(IocValue::parse(kind, v).unwrap(), feed.clone(), "x");
            clauses(&ioc, true, &mut all, &mut notes);
        }
        for c in &all {
            query::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        assert!(all.contains(&"dns.question.name:*.my-evil_host.example".to_string()));
        assert!(all.contains(&"server.ip:198.51.100.*".to_string()), "{all:?}");
        assert!(all.contains(&"server.ip:198.51.103.*".to_string()), "{all:?}");
        assert!(all.contains(&"source.ip:\"198.51.100.0/22\"".to_string()));
        assert!(all.contains(&r#"url.full:"https://evil.example/a b\"c\\d?x=1""#.to_string()));
        assert!(all.contains(&r"server.ip:2001\:db8\:*".to_string()), "{all:?}");
        assert!(notes.iter().any(|n| n.starts_with("server.ip: IPv6")), "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("tls.client.server_name: subdomains")));
        query::parse(&all.join(" OR ")).unwrap();
    }
}
