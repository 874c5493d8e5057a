//! Reading log files for import (`sen ingest FILE`): Windows EVTX (through the `evtx` crate, in
//! the evtx_dump JSON shape the analyzer understands), Zeek TSV logs (through
//! [`crate::zeek_tsv`], in the shape of Zeek's JSON writer), NDJSON, and plain log lines.
//!
//! Every record becomes one JSON object line for the HTTP ingest API. A record that cannot be
//! read (a corrupt EVTX record, a line that is not valid UTF-8 JSON in NDJSON mode) is reported
//! with its position and the reading goes on: one bad record never loses the good ones around
//! it.

use std::io::{BufRead, Read};
use std::path::Path;

/// Input format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Decide from the content: EVTX magic, else NDJSON when the first line is an object,
    /// else lines.
    Auto,
    /// Windows event log file.
    Evtx,
    /// One JSON object per line (ECS events or objects holding a raw line).
    Ndjson,
    /// Plain log lines (syslog, access logs …), each parsed by the analyzer.
    Lines,
    /// Zeek's tab-separated logs (`#separator`, `#fields`, `#types` headers).
    ZeekTsv,
}

impl std::str::FromStr for FileFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(FileFormat::Auto),
            "evtx" => Ok(FileFormat::Evtx),
            "ndjson" | "json" => Ok(FileFormat::Ndjson),
            "lines" | "text" => Ok(FileFormat::Lines),
            "zeek" | "zeek-tsv" => Ok(FileFormat::ZeekTsv),
            other => Err(format!(
                "unknown file format `{other}` (use auto, evtx, ndjson, lines or zeek-tsv)"
            )),
        }
    }
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Opening or reading failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The EVTX container is unreadable (bad header).
    #[error("{path} is not a readable EVTX file: {reason}")]
    Evtx {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// One record that could not be read (the others still are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// 1-based record (EVTX) or line (text) number.
    pub position: u64,
    /// Why.
    pub reason: String,
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// Detect the format of a file from its first bytes.
pub fn detect(path: &Path) -> Result<FileFormat, FileError> {
    let io = |source| FileError::Io { path: path.display().to_string(), source };
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path).map_err(io)?.take(4096).read_to_end(&mut head).map_err(io)?;
    if head.starts_with(EVTX_MAGIC) {
        return Ok(FileFormat::Evtx);
    }
    let first = head.split(|b| *b == b'\n').map(<[u8]>::trim_ascii).find(|l| !l.is_empty());
    Ok(match first {
        Some(l) if l.starts_with(b"{") => FileFormat::Ndjson,
        Some(l) if crate::zeek_tsv::is_header(l) => FileFormat::ZeekTsv,
        _ => FileFormat::Lines,
    })
}

/// Read every record of a file as one JSON object line, calling `f` for each (or for each
/// unreadable record). `f` may stop the reading by returning an error. Returns the format used.
pub fn for_each_record<E>(
    path: &Path,
    format: FileFormat,
    mut f: impl FnMut(Result<String, RecordError>) -> Result<(), E>,
) -> Result<Result<FileFormat, E>, FileError> {
    let format = if format == FileFormat::Auto { detect(path)? } else { format };
    let io = |source| FileError::Io { path: path.display().to_string(), source };
    match format {
        FileFormat::Evtx => {
            let mut parser = evtx::EvtxParser::from_path(path).map_err(|e| FileError::Evtx {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            for (i, rec) in parser.records_json_value().enumerate() {
                let item = match rec {
                    Ok(r) => Ok(r.data.to_string()),
                    Err(e) => Err(RecordError { position: i as u64 + 1, reason: e.to_string() }),
                };
                if let Err(e) = f(item) {
                    return Ok(Err(e));
                }
            }
        }
        FileFormat::ZeekTsv => {
            let mut decoder = crate::zeek_tsv::ZeekTsv::new();
            let read = each_line(path, |n, line| {
                let item = match decoder.line(&String::from_utf8_lossy(line)) {
                    Ok(None) => return Ok(()),
                    Ok(Some(obj)) => Ok(serde_json::Value::Object(obj).to_string()),
                    Err(reason) => Err(RecordError { position: n, reason }),
                };
                f(item)
            });
            if let Err(e) = read.map_err(io)? {
                return Ok(Err(e));
            }
        }
        FileFormat::Ndjson | FileFormat::Lines => {
            let read = each_line(path, |n, line| {
                let line = String::from_utf8_lossy(line.trim_ascii());
                if line.is_empty() {
                    return Ok(());
                }
                let item = if format == FileFormat::Ndjson {
                    match serde_json::from_str::<serde_json::Value>(&line) {
                        Ok(serde_json::Value::Object(_)) => Ok(line.into_owned()),
                        Ok(_) => {
                            Err(RecordError { position: n, reason: "not a JSON object".into() })
                        }
                        Err(e) => Err(RecordError { position: n, reason: e.to_string() }),
                    }
                } else {
                    Ok(serde_json::json!({ "event": { "original": line } }).to_string())
                };
                f(item)
            });
            if let Err(e) = read.map_err(io)? {
                return Ok(Err(e));
            }
        }
        // `detect` never answers Auto: nothing to read.
        FileFormat::Auto => {}
    }
    Ok(Ok(format))
}

/// Call `g` with each line of a file (the bytes up to and including its `\n`) and its 1-based
/// number, until the end or until `g` returns an error.
fn each_line<E>(
    path: &Path,
    mut g: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> std::io::Result<Result<(), E>> {
    let mut reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(Ok(()));
        }
        n += 1;
        if let Err(e) = g(n, &buf) {
            return Ok(Err(e));
        }
    }
}

/// A content hash of a file (xxh3-128, hex), used to derive idempotent batch ids.
pub fn content_hash(path: &Path) -> Result<String, FileError> {
    let io = |source| FileError::Io { path: path.display().to_string(), source };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(path: &Path, format: FileFormat) -> (FileFormat, Vec<Result<String, RecordError>>) {
        let mut out = Vec::new();
        let fmt = for_each_record::<()>(path, format, |r| {
            out.push(r);
            Ok(())
        })
        .unwrap()
        .unwrap();
        (fmt, out)
    }

    #[test]
    fn lines_and_ndjson_with_bad_records_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "Nov 26 10:00:00 h sshd[1]: hi\n\n\u{1}raw\n").unwrap();
        let (fmt, recs) = collect(&p, FileFormat::Auto);
        assert_eq!(fmt, FileFormat::Lines);
        assert_eq!(recs.len(), 2);
        let v: serde_json::Value = serde_json::from_str(recs[0].as_ref().unwrap()).unwrap();
        assert_eq!(v["event"]["original"], "Nov 26 10:00:00 h sshd[1]: hi");

        let p = dir.path().join("b.ndjson");
        std::fs::write(&p, "{\"message\":\"a\"}\n[1]\n{broken\n{\"message\":\"b\"}\n").unwrap();
        let (fmt, recs) = collect(&p, FileFormat::Auto);
        assert_eq!(fmt, FileFormat::Ndjson);
        assert_eq!(recs.iter().filter(|r| r.is_ok()).count(), 2);
        assert_eq!(recs[1].as_ref().unwrap_err().position, 2);
        assert_eq!(recs[2].as_ref().unwrap_err().position, 3);
    }

    #[test]
    fn zeek_tsv_files_become_zeek_json_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(
            &p,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
             #fields\tts\tuid\tquery\tanswers\n#types\ttime\tstring\tstring\tvector[string]\n\
             1588205199.824370\tC1\twww.example.com\t1.2.3.4,5.6.7.8\nbroken\n",
        )
        .unwrap();
        let (fmt, recs) = collect(&p, FileFormat::Auto);
        assert_eq!(fmt, FileFormat::ZeekTsv);
        assert_eq!(recs.len(), 2);
        let v: serde_json::Value = serde_json::from_str(recs[0].as_ref().unwrap()).unwrap();
        assert_eq!(v["_path"], "dns");
        assert_eq!(v["query"], "www.example.com");
        assert_eq!(v["answers"], serde_json::json!(["1.2.3.4", "5.6.7.8"]));
        assert_eq!(v["event.original"], "1588205199.824370\tC1\twww.example.com\t1.2.3.4,5.6.7.8");
        assert_eq!(recs[1].as_ref().unwrap_err().position, 9);
        assert_eq!("zeek-tsv".parse::<FileFormat>().unwrap(), FileFormat::ZeekTsv);
    }

    #[test]
    fn evtx_from_the_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../shared/corpora/public/sigma/regression_pairs/rules/windows/process_creation",
        );
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "corpus missing under CI");
            eprintln!("skipping: {} is absent", dir.display());
            return;
        };
        let mut checked = 0;
        for pair in entries.flatten().take(10) {
            let files: Vec<_> =
                std::fs::read_dir(pair.path()).unwrap().flatten().map(|e| e.path()).collect();
            let Some(evtx) = files.iter().find(|p| p.extension().is_some_and(|e| e == "evtx"))
            else {
                continue;
            };
            let ndjson = evtx.with_extension("ndjson");
            let expected =
                std::fs::read_to_string(&ndjson).unwrap().lines().filter(|l| !l.is_empty()).count();
            let (fmt, recs) = collect(evtx, FileFormat::Auto);
            assert_eq!(fmt, FileFormat::Evtx);
            assert_eq!(recs.len(), expected, "{}", evtx.display());
            for r in recs {
                let v: serde_json::Value = serde_json::from_str(&r.unwrap()).unwrap();
                assert!(
                    v["Event"]["System"]["EventID"].is_number()
                        || v["Event"]["System"]["EventID"].is_object()
                );
            }
            checked += 1;
        }
        assert!(checked > 0);
    }

    #[test]
    fn not_evtx_is_a_clear_error_and_hash_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.evtx");
        std::fs::write(&p, b"not an evtx").unwrap();
        let err = for_each_record::<()>(&p, FileFormat::Evtx, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("x.evtx"), "{err}");
        assert_eq!(content_hash(&p).unwrap(), content_hash(&p).unwrap());
        assert!("xml".parse::<FileFormat>().is_err());
    }
}
