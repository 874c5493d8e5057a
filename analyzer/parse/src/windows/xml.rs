//! The `<Data Name="…">…</Data>` elements of an `EventData` XML fragment (Microsoft Sentinel's
//! `SecurityEvent.EventData` column). Hand-written scanning: not a general XML parser, just the
//! flat element list Windows writes there.

/// Call `f(name, value)` for each `<Data>` element of `xml`, in order. `name` is the `Name`
/// attribute (`None` for unnamed elements); `value` has its entities decoded (`""` for an empty
/// or self-closing element).
pub(super) fn data_elements(xml: &str, mut f: impl FnMut(Option<String>, String)) {
    let mut rest = xml;
    while let Some(at) = rest.find("<Data") {
        let after = rest.get(at + 5..).unwrap_or_default();
        // `<DataItem …>` and the like are other elements.
        match after.bytes().next() {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => {}
            _ => {
                rest = after;
                continue;
            }
        }
        let Some((attrs, self_closing, body)) = start_tag(after) else { return };
        let name = attribute(attrs, "Name").map(unescape);
        if self_closing {
            f(name, String::new());
            rest = body;
            continue;
        }
        match body.find("</Data>") {
            Some(end) => {
                f(name, unescape(body.get(..end).unwrap_or_default()));
                rest = body.get(end + 7..).unwrap_or_default();
            }
            None => {
                f(name, unescape(body));
                return;
            }
        }
    }
}

/// Split `attrs…>rest` at the end of the start tag (quotes respected): the attribute text,
/// whether the tag is self-closing, and what follows it.
fn start_tag(s: &str) -> Option<(&str, bool, &str)> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                let head = s.get(..i)?;
                let rest = s.get(i + 1..)?;
                return Some(match head.strip_suffix('/') {
                    Some(h) => (h, true, rest),
                    None => (head, false, rest),
                });
            }
            (None, _) => {}
        }
    }
    None
}

/// The value of attribute `name` in `attrs` (` Name="x" Other='y'`).
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let eq = rest.find('=')?;
        let key = rest.get(..eq)?.trim();
        let after = rest.get(eq + 1..)?.trim_start();
        let q = after.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let body = after.get(1..)?;
        let end = body.find(q)?;
        if key == name {
            return body.get(..end);
        }
        rest = body.get(end + 1..)?;
    }
}

/// Decode the five XML entities and numeric character references; anything else is kept.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let decoded = tail.find(';').filter(|&end| end <= 12).and_then(|end| {
            let ent = tail.get(1..end)?;
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = tail.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(xml: &str) -> Vec<(Option<String>, String)> {
        let mut v = Vec::new();
        data_elements(xml, |n, x| v.push((n, x)));
        v
    }

    #[test]
    fn named_unnamed_empty_and_entities() {
        let xml = "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\r\n  \
                   <Data Name=\"ProcessID\">3936</Data>\r\n  <Data Name='Application'>a &amp; b &lt;c&gt; &#233;&#x41;</Data>\
                   <Data Name=\"Empty\" /><Data>unnamed</Data><DataItem>no</DataItem><Data Name=\"q\">&bogus; &</Data></EventData>";
        assert_eq!(
            all(xml),
            vec![
                (Some("ProcessID".into()), "3936".into()),
                (Some("Application".into()), "a & b <c> éA".into()),
                (Some("Empty".into()), String::new()),
                (None, "unnamed".into()),
                (Some("q".into()), "&bogus; &".into()),
            ]
        );
    }

    #[test]
    fn truncated_input_does_not_panic() {
        for xml in ["<Data", "<Data Name=\"x", "<Data Name=\"x\">abc", "<Data>&#xFFFFFFFF;</Data>"]
        {
            let _ = all(xml);
        }
        assert_eq!(all("<Data Name=\"x\">abc"), vec![(Some("x".into()), "abc".into())]);
    }
}
