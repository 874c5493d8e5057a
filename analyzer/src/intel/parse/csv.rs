//! CSV indicator lists.
//!
//! Lines starting with `#` are comments and blank lines are skipped. The first other line is
//! the **header** when one of its cells names a known column (below); otherwise there is no
//! header, and when the file's lines have one cell each, every cell is a value whose type is
//! inferred. Feeds that write their header as the last comment before the data (abuse.ch:
//! `# id,dateadded,url,…`) are understood too: when the first data line is no header, the
//! comment line just before it is tried.
//!
//! Columns (names case-insensitive, quotes and spaces ignored; other columns are ignored):
//!
//! | column | aliases | meaning |
//! |---|---|---|
//! | `value` | `indicator`, `ioc`, `ioc_value`, `observable` | the indicator |
//! | `type` | `ioc_type`, `indicator_type`, `kind` | its type; empty or `auto`: inferred |
//! | `description` | `comment`, `threat`, `malware`, `malware_printable` | description |
//! | `confidence` | `confidence_level`, `score` | 0–100 |
//! | `id` | `ioc_id`, `uuid` | source id (else `line N`) |
//!
//! Without a `value` column, a column named for a type is the value column and gives the
//! type: `url`, `domain` / `hostname` / `fqdn`, `ip` / `dst_ip` / `ip_address`, `md5` /
//! `md5_hash`, `sha1` / `sha1_hash`, `sha256` / `sha256_hash`.
//!
//! Type names: `ip`, `ipv4`, `ipv6`, `ip-src`, `ip-dst`, `ipv4-addr`, `ipv6-addr`, `ip:port`
//! (the IP is kept), `cidr`, `domain`, `hostname`, `fqdn`, `domain-name`, `url`, `uri`, `md5`,
//! `sha1`, `sha-1`, `sha256`, `sha-256`, `md5_hash`, `sha1_hash`, `sha256_hash`, `hash` (by
//! length), `auto`. Another type is reported as unsupported with its line.
//!
//! Every problem is reported with its line number; the other lines are loaded.

use super::{IssueKind, ParseError, ParseOptions, Parsed};
use crate::intel::ioc::{Ioc, IocKind, IocValue, clip, ip_with_port};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Value,
    Type,
    Description,
    Confidence,
    Id,
    /// A value column whose name gives the type.
    Typed(IocKind),
}

fn column(name: &str) -> Option<Col> {
    let n =
        name.trim().trim_start_matches('#').trim().trim_matches('"').trim().to_ascii_lowercase();
    Some(match n.as_str() {
        "value" | "indicator" | "ioc" | "ioc_value" | "observable" => Col::Value,
        "type" | "ioc_type" | "indicator_type" | "kind" => Col::Type,
        "description" | "comment" | "threat" | "malware" | "malware_printable" => Col::Description,
        "confidence" | "confidence_level" | "score" => Col::Confidence,
        "id" | "ioc_id" | "uuid" => Col::Id,
        "url" => Col::Typed(IocKind::Url),
        "domain" | "hostname" | "fqdn" => Col::Typed(IocKind::Domain),
        "ip" | "dst_ip" | "ip_address" => Col::Typed(IocKind::Ip),
        "md5" | "md5_hash" => Col::Typed(IocKind::Md5),
        "sha1" | "sha1_hash" => Col::Typed(IocKind::Sha1),
        "sha256" | "sha256_hash" => Col::Typed(IocKind::Sha256),
        _ => return None,
    })
}

/// The indicator kind a type name stands for; `Ok(None)`: infer from the value.
fn type_name(t: &str) -> Result<Option<IocKind>, ()> {
    let t = t.trim().to_ascii_lowercase();
    Ok(Some(match t.as_str() {
        "" | "auto" => return Ok(None),
        "ip" | "ipv4" | "ipv6" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr" | "ip:port"
        | "ip_address" => IocKind::Ip,
        "cidr" | "ip-range" | "network" => IocKind::Cidr,
        "domain" | "hostname" | "fqdn" | "domain-name" => IocKind::Domain,
        "url" | "uri" => IocKind::Url,
        "md5" | "md5_hash" => IocKind::Md5,
        "sha1" | "sha-1" | "sha1_hash" => IocKind::Sha1,
        "sha256" | "sha-256" | "sha256_hash" => IocKind::Sha256,
        "hash" | "filehash" | "file_hash" => return Ok(None),
        _ => return Err(()),
    }))
}

#[derive(Debug, Default)]
struct Layout {
    value: Option<usize>,
    typed: Option<(usize, IocKind)>,
    ty: Option<usize>,
    description: Option<usize>,
    confidence: Option<usize>,
    id: Option<usize>,
}

/// Read a header from cells; `None` when no cell names a known column.
fn layout(cells: &[String]) -> Option<Layout> {
    let mut l = Layout::default();
    let mut known = false;
    for (i, c) in cells.iter().enumerate() {
        let Some(col) = column(c) else { continue };
        known = true;
        match col {
            Col::Value => l.value = l.value.or(Some(i)),
            Col::Type => l.ty = l.ty.or(Some(i)),
            Col::Description => l.description = l.description.or(Some(i)),
            Col::Confidence => l.confidence = l.confidence.or(Some(i)),
            Col::Id => l.id = l.id.or(Some(i)),
            Col::Typed(k) => l.typed = l.typed.or(Some((i, k))),
        }
    }
    known.then_some(l)
}

/// Split one CSV line into cells (`None` if the csv reader finds no record).
fn cells(line: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    rdr.records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Parse a CSV document.
pub fn parse(text: &str, opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Find the first data line and the comment just before it.
    let mut last_comment: Option<&str> = None;
    let mut first_data: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('#') {
            last_comment = Some(t.trim_start_matches('#'));
            continue;
        }
        first_data = Some((i + 1, t));
        break;
    }
    let mut out = Parsed::default();
    let Some((first_line, first)) = first_data else {
        return Ok(out);
    };
    let (layout, header_line) = match layout(&cells(first)) {
        Some(l) => (Some(l), Some(first_line)),
        None => (last_comment.map(cells).as_deref().and_then(layout), None),
    };
    if let Some(l) = &layout
        && l.value.is_none()
        && l.typed.is_none()
    {
        return Err(ParseError {
            location: format!("line {}", header_line.unwrap_or(first_line)),
            message: "the header names no value column (`value`, `indicator`, `url`, `domain`, \
                      `ip`, `sha256` …)"
                .into(),
        });
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    // The reader's line count leaves out comment and blank lines, and a record's position is
    // where the reader started, before the comment and blank lines it skipped: the record's
    // line is the first line from there that is neither.
    let lines: Vec<&str> = text.split('\n').collect();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(lines.iter().scan(0, |acc, l| {
            *acc += l.len() + 1;
            Some(*acc)
        }))
        .collect();
    let line_of = |byte: u64| {
        let mut n = line_starts.partition_point(|s| *s as u64 <= byte).max(1);
        while n < lines.len() && {
            let t = lines[n - 1].trim();
            t.is_empty() || t.starts_with('#')
        } {
            n += 1;
        }
        n
    };
    let mut record = csv::StringRecord::new();
    let mut checked_width = false;
    loop {
        let at = rdr.position().byte();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken quote or invalid UTF-8 spoils this record only.
                let at = e.position().map_or(at, |p| p.byte());
                out.stats.entries += 1;
                out.issue(
                    IssueKind::Invalid,
                    format!("line {}", line_of(at)),
                    format!("bad CSV: {e}"),
                );
                continue;
            }
        }
        let line = line_of(record.position().map_or(at, |p| p.byte()));
        if Some(line) == header_line || record.iter().all(str::is_empty) {
            continue;
        }
        out.stats.entries += 1;
        let loc = format!("line {line}");
        let Some(l) = &layout else {
            // No header: one value per line.
            if record.len() != 1 && !checked_width {
                return Err(ParseError {
                    location: loc,
                    message: format!(
                        "{} columns but no header: name the columns (`type,value,…`) or put one \
                         value per line",
                        record.len()
                    ),
                });
            }
            checked_width = true;
            if record.len() != 1 {
                out.issue(
                    IssueKind::Invalid,
                    loc,
                    format!("{} cells on a one-value-per-line list", record.len()),
                );
                continue;
            }
            match IocValue::infer(&record[0]) {
                Ok(v) => out.push(Ioc::new(v, opts.feed.clone(), loc)),
                Err(e) => out.issue(IssueKind::Invalid, loc, e),
            }
            continue;
        };
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|s| !s.is_empty());
        let (value, mut kind) = match (l.value, l.typed) {
            (Some(i), _) => (get(Some(i)), None),
            (None, Some((i, k))) => (get(Some(i)), Some(k)),
            (None, None) => (None, None),
        };
        let Some(value) = value else {
            out.issue(IssueKind::Invalid, loc, "no value".into());
            continue;
        };
        if let Some(t) = get(l.ty) {
            match type_name(t) {
                Ok(k) => kind = k.or(kind),
                Err(()) => {
                    out.issue(
                        IssueKind::Unsupported,
                        loc,
                        format!("indicator type `{}` is not one Sen matches", clip(t)),
                    );
                    continue;
                }
            }
        }
        let parsed = match kind {
            None => IocValue::infer(value),
            Some(IocKind::Ip) => match ip_with_port(value) {
                Some(ip) => Ok(IocValue::Ip(ip)),
                None => IocValue::parse(IocKind::Ip, value),
            },
            Some(IocKind::Cidr) => IocValue::parse(IocKind::Cidr, value),
            Some(IocKind::Domain) => IocValue::parse_host(value),
            Some(k) => IocValue::parse(k, value),
        };
        let value = match parsed {
            Ok(v) => v,
            Err(e) => {
                out.issue(IssueKind::Invalid, loc, e);
                continue;
            }
        };
        let confidence = match get(l.confidence) {
            None => None,
            Some(c) => match c.trim_end_matches('%').parse::<f64>() {
                Ok(n) if (0.0..=100.0).contains(&n) => Some(n.round() as u8),
                _ => {
                    out.issue(
                        IssueKind::Invalid,
                        loc,
                        format!("confidence `{}` is not a number from 0 to 100", clip(c)),
                    );
                    continue;
                }
            },
        };
        let mut ioc = Ioc::new(value, opts.feed.clone(), get(l.id).map_or(loc, str::to_owned));
        ioc.description = get(l.description).map(str::to_owned);
        ioc.confidence = confidence;
        out.push(ioc);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerts::Level;
    use crate::intel::ioc::FeedInfo;

    fn run(text: &str) -> Parsed {
        parse(text, &ParseOptions::new(FeedInfo::new("csv", Level::High), Utc::now())).unwrap()
    }

    fn summary(out: &Parsed) -> Vec<String> {
        out.iocs.iter().map(|i| format!("{} {} {}", i.kind(), i.value, i.source_id)).collect()
    }

    #[test]
    fn header_driven() {
        let text = "# Sen test feed\n\
                    type,value,description,confidence\n\
                    ip,198.51.100.7,c2 server,90\n\
                    \n\
                    domain,Evil.Example.,phishing,\n\
                    url,\"http://evil.example/a,b\",quoted comma,50\n\
                    sha256,ZZZ,bad hash,10\n\
                    mutex,Global\\x,unsupported type,\n\
                    ,10.0.0.0/8,inferred cidr,\n\
                    ip,198.51.100.8,bad confidence,200\n\
                    md5,\n\
                    ip:port,192.0.2.1:443,threatfox style,\n";
        let out = run(text);
        assert_eq!(
            summary(&out),
            [
                "ip 198.51.100.7 line 3",
                "domain evil.example line 5",
                "url http://evil.example/a,b line 6",
                "cidr 10.0.0.0/8 line 9",
                "ip 192.0.2.1 line 12",
            ]
        );
        assert_eq!(out.iocs[0].description.as_deref(), Some("c2 server"));
        assert_eq!(out.iocs[0].confidence, Some(90));
        let issues: Vec<_> = out.issues.iter().map(|i| (i.location.as_str(), i.kind)).collect();
        assert_eq!(
            issues,
            [
                ("line 7", IssueKind::Invalid),
                ("line 8", IssueKind::Unsupported),
                ("line 10", IssueKind::Invalid),
                ("line 11", IssueKind::Invalid),
            ]
        );
        assert_eq!(out.stats.entries, 9);
    }

    #[test]
    fn single_column_values_are_inferred() {
        let text = "# one per line\n198.51.100.7\n2001:db8::/32\nevil.example\n\
                    https://evil.example/x\nd41d8cd98f00b204e9800998ecf8427e\n???\n";
        let out = run(text);
        let kinds: Vec<_> = out.iocs.iter().map(|i| i.kind()).collect();
        assert_eq!(
            kinds,
            [IocKind::Ip, IocKind::Cidr, IocKind::Domain, IocKind::Url, IocKind::Md5]
        );
        assert_eq!(out.issues.len(), 1);
        assert_eq!(out.issues[0].location, "line 7");
        // A header-only single column works the same.
        let out = run("value\n198.51.100.7\n");
        assert_eq!(summary(&out), ["ip 198.51.100.7 line 2"]);
    }

    #[test]
    fn commented_header_abuse_ch_style() {
        let urlhaus = "################\n# abuse.ch URLhaus\n#\n\
                       # id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n\
                       \"3141\",\"2026-01-01 10:00:00\",\"http://198.51.100.7/bins/x.sh\",\"online\",\"2026-01-02\",\"malware_download\",\"elf\",\"https://urlhaus.abuse.ch/url/3141/\",\"r\"\n";
        let out = run(urlhaus);
        assert_eq!(summary(&out), ["url http://198.51.100.7/bins/x.sh 3141"]);
        assert_eq!(out.iocs[0].description.as_deref(), Some("malware_download"));
        let feodo = "# Feodo\n#\n# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\
                     \"2026-01-01 07:44:46\",\"51.178.161.32\",\"443\",\"online\",\"2026-01-10\",\"Pikabot\"\n";
        let out = run(feodo);
        assert_eq!(summary(&out), ["ip 51.178.161.32 line 4"]);
        assert_eq!(out.iocs[0].description.as_deref(), Some("Pikabot"));
    }

    #[test]
    fn documents_without_a_usable_layout() {
        let opts = ParseOptions::new(FeedInfo::new("csv", Level::High), Utc::now());
        let e = parse("a,b\n1,2\n", &opts).unwrap_err();
        assert_eq!(e.location, "line 1");
        let e = parse("# c\ndescription,confidence\nx,1\n", &opts).unwrap_err();
        assert_eq!(e.location, "line 2");
        assert!(parse("# only comments\n\n", &opts).unwrap().iocs.is_empty());
        // An unclosed quote runs to the end of the document: one bad record, at its line.
        let out = run("type,value\nip,198.51.100.1\nip,\"198.51.100.2\nip,198.51.100.3\n");
        assert_eq!(summary(&out), ["ip 198.51.100.1 line 2"]);
        assert_eq!(out.issues.len(), 1);
        assert_eq!(out.issues[0].location, "line 3");
    }
}
