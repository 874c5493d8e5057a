//! Zeek's tab-separated log format (its default ASCII writer), decoded into the records of
//! Zeek's JSON writer, so the analyzer's Zeek normalizer reads both alike.
//!
//! A Zeek TSV file opens with headers that give the meaning of every data line (its columns are
//! separated by tabs, shown here as spaces):
//!
//! ```text
//! #separator \x09
//! #set_separator    ,
//! #empty_field    (empty)
//! #unset_field    -
//! #path    conn
//! #fields    ts    uid    id.orig_h    id.orig_p    …
//! #types    time    string    addr    port    …
//! 1588205199.824370    Cvf4XX17hSAgXDdGEd    10.0.1.6    54243    …
//! #close    2020-04-30-01-00-00
//! ```
//!
//! A data line alone names none of its fields, so this is a decoder with state: it must see a
//! file from its header on ([`ZeekTsv::line`]). That is why Zeek TSV is read from files
//! (`sen ingest`, `sen rules test`) and not from a stream of lines (syslog), where the header
//! is gone; send Zeek's JSON there instead. Like EVTX, this decodes a container format: each
//! record's values are only split, unescaped and typed as the header says, never
//! interpreted.
//!
//! Each data line becomes one JSON object: `_path` (from `#path`), every field by its header
//! name with its value typed by `#types` (`time`/`interval`/`double` as numbers,
//! `count`/`int`/`port` as integers, `bool` as `true`/`false`, `set[…]`/`vector[…]` as arrays,
//! everything else as text; `-` unset fields left out, `(empty)` as `""` or `[]`), and
//! `event.original`: the TSV line as read.

use serde_json::{Map, Value as Json};

/// The header state of one Zeek TSV file.
#[derive(Debug, Clone)]
pub struct ZeekTsv {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for ZeekTsv {
    fn default() -> Self {
        ZeekTsv {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

/// Whether a file's first line is a Zeek TSV header.
pub fn is_header(first_line: &[u8]) -> bool {
    first_line.starts_with(b"#separator ")
}

/// Zeek's `\xHH` escapes (separators and unprintable bytes) decoded; other backslashes are
/// literal (Zeek writes Windows paths as they are).
pub fn unescape(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let (Some(h), Some(l)) = (hex(b.get(i + 2)), hex(b.get(i + 3)))
        {
            out.push(h << 4 | l);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: Option<&u8>) -> Option<u8> {
    let c = *b?;
    (c as char).to_digit(16).map(|d| d as u8)
}

impl ZeekTsv {
    /// A decoder with Zeek's default separators and no header read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read one line: a header updates the state (`Ok(None)`), a data line becomes the JSON
    /// object of its record. A data line that does not fit the header (before `#fields`, or
    /// with another number of columns) is an error naming why; the next lines still decode.
    pub fn line(&mut self, line: &str) -> Result<Option<Map<String, Json>>, String> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(None);
        }
        if let Some(h) = line.strip_prefix('#') {
            self.header(h);
            return Ok(None);
        }
        if self.fields.is_empty() {
            return Err("Zeek TSV data line before any `#fields` header".into());
        }
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(format!(
                "Zeek TSV line has {} columns, the `#fields` header {}",
                values.len(),
                self.fields.len()
            ));
        }
        let mut obj = Map::new();
        if let Some(p) = &self.path {
            obj.insert("_path".into(), Json::String(p.clone()));
        }
        for (i, (name, raw)) in self.fields.iter().zip(values).enumerate() {
            if raw == self.unset {
                continue;
            }
            let ty = self.types.get(i).map(String::as_str).unwrap_or("string");
            obj.insert(name.clone(), self.value(ty, raw));
        }
        obj.insert("event.original".into(), Json::String(line.to_owned()));
        Ok(Some(obj))
    }

    fn header(&mut self, h: &str) {
        if let Some(v) = h.strip_prefix("separator ") {
            self.separator = unescape(v.trim());
            if self.separator.is_empty() {
                self.separator = "\t".into();
            }
            // A new header block (files concatenated after rotation) starts afresh.
            self.fields.clear();
            self.types.clear();
            self.path = None;
            return;
        }
        let (key, rest) = match h.split_once(self.separator.as_str()) {
            Some((k, r)) => (k, r),
            None => (h, ""),
        };
        let list = || rest.split(self.separator.as_str()).map(unescape).collect::<Vec<_>>();
        match key {
            "set_separator" => self.set_separator = unescape(rest),
            "empty_field" => self.empty = unescape(rest),
            "unset_field" => self.unset = unescape(rest),
            "path" => self.path = Some(unescape(rest)).filter(|p| !p.is_empty()),
            "fields" => self.fields = list(),
            "types" => self.types = list(),
            _ => {}
        }
    }

    fn value(&self, ty: &str, raw: &str) -> Json {
        let inner = ty
            .strip_prefix("set[")
            .or_else(|| ty.strip_prefix("vector["))
            .and_then(|t| t.strip_suffix(']'));
        if let Some(elem) = inner {
            if raw == self.empty {
                return Json::Array(Vec::new());
            }
            return Json::Array(
                raw.split(self.set_separator.as_str())
                    .filter(|v| *v != self.unset)
                    .map(|v| scalar(elem, v))
                    .collect(),
            );
        }
        if raw == self.empty {
            return Json::String(String::new());
        }
        scalar(ty, raw)
    }
}

/// One value of a Zeek type; text when it does not read as its type.
fn scalar(ty: &str, raw: &str) -> Json {
    match ty {
        "time" | "interval" | "double" => {
            if let Ok(f) = raw.parse::<f64>()
                && let Some(n) = serde_json::Number::from_f64(f)
            {
                return Json::Number(n);
            }
        }
        "count" | "int" | "port" => {
            if let Ok(i) = raw.parse::<i64>() {
                return Json::from(i);
            }
            if let Ok(u) = raw.parse::<u64>() {
                return Json::from(u);
            }
        }
        "bool" => match raw {
            "T" => return Json::Bool(true),
            "F" => return Json::Bool(false),
            _ => {}
        },
        _ => {}
    }
    Json::String(unescape(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2020-04-30-00-06-39
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\tlocal_orig\ttunnel_parents\thistory
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tbool\tset[string]\tstring
1588205199.824370\tCvf4XX17hSAgXDdGEd\t10.0.1.6\t54243\t10.0.0.4\t53\tudp\tdns\t0.001528\tT\t(empty)\tDd
1588205199.827696\tCJ21\t10.0.1.6\t56880\t10.0.0.4\t445\ttcp\t-\t-\tF\tA,B\ta\\x09b
#close\t2020-04-30-01-00-00
";

    #[test]
    fn header_then_typed_records() {
        let mut z = ZeekTsv::new();
        let mut recs = Vec::new();
        for l in CONN.lines() {
            if let Some(r) = z.line(l).unwrap() {
                recs.push(r);
            }
        }
        assert_eq!(recs.len(), 2);
        let r = &recs[0];
        assert_eq!(r["_path"], "conn");
        assert_eq!(r["ts"], serde_json::json!(1588205199.82437));
        assert_eq!(r["id.orig_h"], "10.0.1.6");
        assert_eq!(r["id.orig_p"], 54243);
        assert_eq!(r["local_orig"], true);
        assert_eq!(r["tunnel_parents"], serde_json::json!([]));
        assert!(r["event.original"].as_str().unwrap().starts_with("1588205199.824370\tCvf4"));
        let r = &recs[1];
        assert!(!r.contains_key("service"), "unset fields are left out");
        assert!(!r.contains_key("duration"));
        assert_eq!(r["tunnel_parents"], serde_json::json!(["A", "B"]));
        assert_eq!(r["history"], "a\tb", "escaped separator");
    }

    #[test]
    fn bad_lines_are_errors_and_the_next_ones_decode() {
        let mut z = ZeekTsv::new();
        let e = z.line("1\t2").unwrap_err();
        assert!(e.contains("before any `#fields`"), "{e}");
        for l in CONN.lines().take(8) {
            z.line(l).unwrap();
        }
        let e = z.line("1588205199.8\tC1").unwrap_err();
        assert!(e.contains("2 columns") && e.contains("12"), "{e}");
        let ok = z.line("1.5\tC2\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t-\tF\t(empty)\tS");
        assert!(ok.unwrap().is_some());
    }

    #[test]
    fn unescape_only_hex() {
        assert_eq!(unescape("\\\\NEWYORK\\IPC$"), "\\\\NEWYORK\\IPC$");
        assert_eq!(unescape("a\\x2cb\\x"), "a,b\\x");
        assert_eq!(unescape("\\xc3\\xa9"), "é");
        assert!(is_header(b"#separator \\x09"));
        assert!(!is_header(b"#fields\tts"));
    }
}
