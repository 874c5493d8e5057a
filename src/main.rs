//! The `sen` binary: subcommand dispatch only. The work lives in the crates.

mod bench;
mod config;
mod ingest;
mod rules_cmd;
mod serve;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

/// mimalloc: the pipeline allocates many small strings per event; glibc malloc showed up as
/// ~17% of server CPU in profiles (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hand the calling thread's free pages back to the system now (mimalloc's `mi_collect`).
/// Loading thousands of Sigma rules parses far more than the engine keeps; mimalloc would
/// otherwise hold those pages for reuse, about 40 MB of RSS (docs/PERFORMANCE.md).
#[allow(unsafe_code)] // an FFI call into the allocator this binary links
pub(crate) fn release_free_memory() {
    // SAFETY: takes only a flag, may be called from any thread at any time, and only walks
    // mimalloc's own structures.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[derive(Debug, Parser)]
#[command(name = "sen", version, about = "Sen: an open-source SOC/SIEM platform")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run intake, analyzer and console in one process (embedded bus).
    Serve {
        /// Configuration file (TOML); flags override it.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Data directory (bus, index, state).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Console/API/ingest listen address.
        #[arg(long)]
        listen_http: Option<String>,
        /// Syslog TCP listen address ("off" disables).
        #[arg(long)]
        listen_syslog_tcp: Option<String>,
        /// Syslog UDP listen address ("off" disables).
        #[arg(long)]
        listen_syslog_udp: Option<String>,
        /// Bearer token required by POST /api/v1/ingest.
        #[arg(long, env = "SEN_INGEST_TOKEN", hide_env_values = true)]
        ingest_token: Option<String>,
        /// File holding the ingest bearer token (e.g. a systemd credential); keeps the secret
        /// out of the command line and the environment.
        #[arg(long, env = "SEN_INGEST_TOKEN_FILE", conflicts_with = "ingest_token")]
        ingest_token_file: Option<PathBuf>,
        /// Load the demo province (24 h backfill on an empty data dir, then live traffic).
        #[arg(long)]
        demo: bool,
        /// Index commit interval in milliseconds (how soon events become searchable).
        #[arg(long)]
        commit_interval_ms: Option<u64>,
    },
    /// Parse log lines from stdin and print one normalized JSON event per line (and, for Linux
    /// audit records, the joined event of each kernel event after its records).
    Parse {
        /// Input format.
        #[arg(long, default_value = "auto")]
        format: String,
        /// IANA time zone for timestamps without one.
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Import files (Windows .evtx, NDJSON, plain log lines) into a running Sen over its
    /// HTTP ingest API; re-importing the same file (same --batch) adds nothing twice.
    Ingest(ingest::IngestArgs),
    /// Sigma rule tools.
    Rules {
        #[command(subcommand)]
        cmd: RulesCmd,
    },
    /// Print the demo province's log lines (as its devices send them), one per line.
    Demo {
        /// Hours of history to generate, ending now.
        #[arg(long, default_value_t = 24)]
        hours: u32,
        /// Random seed (same seed and end time, same lines).
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Drive a Sen server with syslog or HTTP load and report throughput, latency, CPU and RSS.
    Bench(bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
enum RulesCmd {
    /// Load and compile every Sigma file under a path; print each error with its file and
    /// reason (exit status 1 when any failed).
    Check {
        /// A rule file or a directory tree of them.
        path: PathBuf,
        /// Print a JSON summary (counts loaded/failed and every error) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate rules on events from files (NDJSON, EVTX, Zeek TSV or log lines, normalized
    /// as the server does) and print each match: rule, event, and why.
    Test {
        /// Rule file or directory (repeatable). Without it, the built-in packs.
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Also load the built-in packs when --rules is given.
        #[arg(long)]
        builtin: bool,
        /// The events (repeatable, or several paths after one flag; events of several files
        /// are evaluated in time order).
        #[arg(long, required = true, num_args = 1..)]
        events: Vec<PathBuf>,
        /// IANA time zone for timestamps without one.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Print one JSON report instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Replay the events of a time range from the index through rules and report how many
    /// matches and alerts (after grouping) each would have raised. Safe on a running server.
    Backtest {
        /// Rule file or directory (repeatable). Without it, the built-in packs.
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// Also load the built-in packs when --rules is given.
        #[arg(long)]
        builtin: bool,
        /// The server's data directory.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Start of the range (RFC 3339 or now-7d).
        #[arg(long, default_value = "now-24h")]
        from: String,
        /// End of the range.
        #[arg(long, default_value = "now")]
        to: String,
        /// Only events matching this search query.
        #[arg(long, default_value = "")]
        query: String,
        /// Print one JSON report instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Validate a configuration file (syntax, unknown fields, addresses, files).
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the default configuration.
    Default,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve {
            config,
            data_dir,
            listen_http,
            listen_syslog_tcp,
            listen_syslog_udp,
            ingest_token,
            ingest_token_file,
            demo,
            commit_interval_ms,
        } => {
            init_tracing();
            let ingest_token = match ingest_token_file {
                Some(path) => {
                    let t = std::fs::read_to_string(&path).with_context(|| {
                        format!("cannot read ingest token file {}", path.display())
                    })?;
                    let t = t.trim().to_owned();
                    anyhow::ensure!(!t.is_empty(), "ingest token file {} is empty", path.display());
                    Some(t)
                }
                None => ingest_token,
            };
            let base = match &config {
                Some(p) => config::Config::load(p)?,
                None => config::Config::default(),
            };
            let o = serve::Overrides {
                data_dir,
                listen_http,
                listen_syslog_tcp,
                listen_syslog_udp,
                ingest_token,
                commit_interval_ms,
            };
            let cfg = serve::apply(base, &o);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(serve::run(cfg, demo))
        }
        Cmd::Parse { format, timezone } => parse(&format, &timezone),
        Cmd::Config { cmd: ConfigCmd::Check { file } } => {
            let cfg = config::Config::load(&file)?;
            cfg.check().with_context(|| format!("in {}", file.display()))?;
            println!("{}: ok", file.display());
            Ok(())
        }
        Cmd::Config { cmd: ConfigCmd::Default } => {
            print!("{}", toml::to_string_pretty(&config::Config::default())?);
            Ok(())
        }
        Cmd::Bench(args) => bench::run(args),
        Cmd::Ingest(args) => ingest::run(args),
        Cmd::Rules { cmd: RulesCmd::Check { path, json } } => {
            if !rules_cmd::check(&path, json)? {
                std::process::exit(1);
            }
            Ok(())
        }
        Cmd::Rules { cmd: RulesCmd::Test { rules, builtin, events, timezone, json } } => {
            rules_cmd::test(&rules, builtin, &events, &timezone, json)
        }
        Cmd::Rules {
            cmd: RulesCmd::Backtest { rules, builtin, data_dir, from, to, query, json },
        } => rules_cmd::backtest(&rules, builtin, &data_dir, &from, &to, &query, json),
        Cmd::Demo { hours, seed } => {
            let records = sen_collector::demo::backfill(
                chrono::Utc::now(),
                chrono::Duration::hours(i64::from(hours)),
                seed,
            );
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for r in records {
                writeln!(out, "{}", r.line)?;
            }
            out.flush()?;
            Ok(())
        }
    }
}

fn parse(format: &str, timezone: &str) -> Result<()> {
    let format: sen_parse::Format = format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let tz: chrono_tz::Tz =
        timezone.parse().map_err(|_| anyhow::anyhow!("unknown time zone `{timezone}`"))?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut reader = stdin.lock();
    let mut n: u64 = 0;
    // Audit records: the joined event of each kernel event is printed once its records are in
    // (after its PROCTITLE or EOE, 512 lines later, or at the end of the input).
    let mut joiner = sen_parse::auditd::join::Joiner::default();
    let mut joined = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        let now = chrono::Utc::now();
        let id = sen_core::derive_id(&[b"parse", &n.to_be_bytes()]);
        let mut event = sen_core::Event::new(id, now, line);
        let ctx = sen_parse::Context { received: now, timezone: tz, peer_ip: None };
        sen_parse::normalize_line(&mut event, format, &ctx);
        joiner.advance(n, &mut joined);
        for j in joined.drain(..) {
            serde_json::to_writer(&mut out, &j.event)?;
            out.write_all(b"\n")?;
        }
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
        if sen_parse::auditd::join::joinable(&event) {
            joiner.push(n, event, &mut joined);
        }
        for j in joined.drain(..) {
            serde_json::to_writer(&mut out, &j.event)?;
            out.write_all(b"\n")?;
        }
    }
    joiner.flush(&mut joined);
    for j in joined {
        serde_json::to_writer(&mut out, &j.event)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
