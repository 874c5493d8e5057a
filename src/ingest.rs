//! `sen ingest FILE…`: import files (Windows EVTX, NDJSON, plain log lines) into a running Sen
//! through its HTTP ingest API.
//!
//! Batches carry an id derived from the file's content hash and the batch number, so importing
//! the same file twice (or retrying after a failure) never duplicates events.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use sen_collector::files::{self, FileFormat};

/// Arguments of `sen ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files to import.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Sen's HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Input format: auto, evtx, ndjson, lines or zeek-tsv (auto detects each from the
    /// file's first bytes).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Bearer token of the ingest API.
    #[arg(long, env = "SEN_INGEST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Records per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

struct Totals {
    read: u64,
    unreadable: u64,
    accepted: u64,
    rejected: u64,
}

fn post(
    client: &reqwest::blocking::Client,
    args: &IngestArgs,
    batch_id: &str,
    body: &str,
    totals: &mut Totals,
) -> Result<()> {
    let url = format!("{}/api/v1/ingest", args.server.trim_end_matches('/'));
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=30 {
        let mut req = client.post(&url).header("x-sen-batch-id", batch_id).body(body.to_owned());
        if let Some(t) = &args.token {
            req = req.bearer_auth(t);
        }
        match req.send() {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 400 => {
                let status = r.status();
                let v: serde_json::Value = r.json().unwrap_or_default();
                totals.accepted += v["accepted"].as_u64().unwrap_or(0);
                totals.rejected += v["rejected"].as_u64().unwrap_or(0);
                if let Some(errors) = v["errors"].as_array() {
                    for e in errors.iter().take(5) {
                        eprintln!("  rejected: {e}");
                    }
                }
                if status.as_u16() == 400 && v["accepted"].is_null() {
                    bail!("server refused the batch: {v}");
                }
                return Ok(());
            }
            Ok(r) if matches!(r.status().as_u16(), 429 | 503) => {}
            Ok(r) => bail!("ingest answered {}: {}", r.status(), r.text().unwrap_or_default()),
            Err(e) if attempt == 30 => return Err(e).context(format!("cannot reach {url}")),
            Err(_) => {}
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    bail!("gave up after 30 attempts: {url} stayed busy")
}

/// Run the import.
pub fn run(args: IngestArgs) -> Result<()> {
    let format: FileFormat = args.format.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let batch_max = args.batch.clamp(1, 100_000);
    for path in &args.files {
        let hash = files::content_hash(path)?;
        let mut totals = Totals { read: 0, unreadable: 0, accepted: 0, rejected: 0 };
        let mut body = String::new();
        let mut in_batch = 0usize;
        let mut batch_no = 0u64;
        let used = files::for_each_record(path, format, |rec| -> Result<()> {
            match rec {
                Ok(line) => {
                    totals.read += 1;
                    body.push_str(&line);
                    body.push('\n');
                    in_batch += 1;
                    if in_batch >= batch_max {
                        post(
                            &client,
                            &args,
                            &format!("file:{hash}:{batch_no}"),
                            &body,
                            &mut totals,
                        )?;
                        body.clear();
                        in_batch = 0;
                        batch_no += 1;
                    }
                }
                Err(e) => {
                    totals.unreadable += 1;
                    eprintln!("{}: record {} unreadable: {}", path.display(), e.position, e.reason);
                }
            }
            Ok(())
        })??;
        if in_batch > 0 {
            post(&client, &args, &format!("file:{hash}:{batch_no}"), &body, &mut totals)?;
        }
        println!(
            "{}: {:?}, {} records read, {} accepted, {} rejected, {} unreadable",
            path.display(),
            used,
            totals.read,
            totals.accepted,
            totals.rejected,
            totals.unreadable
        );
    }
    Ok(())
}
