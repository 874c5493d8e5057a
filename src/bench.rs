//! `sen bench`: start a fresh `sen serve` (this binary) on loopback, drive syslog over TCP or the
//! HTTP ingest API at a rate, and measure: accepted EPS, end-to-end EPS until searchable,
//! p50/p99 ingest-to-searchable latency, server CPU time and peak RSS.
//!
//! Latency: events are sent on one connection and land in one bus partition, so they become
//! searchable in order; the search total is polled every 20 ms and event *i* counts as
//! searchable at the first poll whose total exceeds *i*.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// Arguments of `sen bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Number of events to send.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Target send rate in events per second (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Transport: `tcp` (syslog, octet-counting framing) or `http` (NDJSON ingest API).
    #[arg(long, default_value = "tcp")]
    pub transport: String,
    /// Log lines to replay (cycled); default: a built-in mix of sshd, nginx, CEF and iptables.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Events per HTTP request.
    #[arg(long, default_value_t = 1000)]
    pub http_batch: usize,
    /// Index commit interval of the server under test, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub commit_interval_ms: u64,
    /// Give up waiting for searchability after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep the server's data directory (printed) instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Configuration file for the server under test (its data directory and listeners are
    /// still the bench's own).
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
}

const SAMPLE: &[&str] = &[
    "<38>Nov 26 10:15:01 web01 sshd[2212]: Failed password for invalid user admin from 198.51.100.23 port 52144 ssh2",
    "<38>Nov 26 10:15:02 web01 sshd[2212]: Accepted publickey for admin.tuan from 10.10.9.15 port 50122 ssh2: RSA SHA256:abc",
    "<190>Nov 26 10:15:02 web02 nginx: 198.51.100.77 - - [26/Nov/2026:10:15:02 +0700] \"GET /tin-tuc/thong-bao-moi HTTP/1.1\" 200 18342 \"https://dongthap.gov.vn/\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"",
    "<134>Nov 26 10:15:03 fw-border CEF:0|Fortinet|FortiGate|7.2.5|0000000013|traffic deny|5|src=192.0.2.44 spt=41234 dst=203.0.113.10 dpt=3389 proto=6 act=deny",
    "<4>Nov 26 10:15:03 fw-core kernel: [12345.678] [FW-CORE DROP] IN=eth1 OUT=eth2 SRC=10.10.2.31 DST=10.10.3.12 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=5555 DF PROTO=TCP SPT=51000 DPT=5432 WINDOW=29200 RES=0x00 SYN URGP=0",
    "<86>Nov 26 10:15:04 db01 sudo:  nguyenvana : TTY=pts/0 ; PWD=/home/nguyenvana ; USER=root ; COMMAND=/usr/bin/systemctl restart postgresql",
];

#[derive(Debug, serde::Serialize)]
struct Report {
    transport: String,
    events: usize,
    target_rate: u64,
    send_seconds: f64,
    accepted_eps: f64,
    searchable_seconds: f64,
    end_to_end_eps: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    server_cpu_seconds: f64,
    server_cpu_cores_avg: f64,
    server_peak_rss_mib: f64,
    indexed: u64,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Server {
    child: Child,
    http: SocketAddr,
    syslog: SocketAddr,
    dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(commit_ms: u64, config: Option<&std::path::Path>) -> Result<Server> {
    let dir = tempfile::Builder::new().prefix("sen-bench-").tempdir()?;
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let syslog: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    if let Some(c) = config {
        cmd.arg("serve").arg("--config").arg(c).arg("--data-dir");
    } else {
        cmd.args(["serve", "--data-dir"]);
    }
    let child = cmd
        .arg(dir.path())
        .args(["--listen-http", &http.to_string(), "--listen-syslog-tcp", &syslog.to_string()])
        .args(["--listen-syslog-udp", "off", "--commit-interval-ms", &commit_ms.to_string()])
        .env("SEN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting sen serve")?;
    let server = Server { child, http, syslog, dir: Some(dir) };
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client
            .get(format!("http://{http}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(server);
        }
        if Instant::now() > deadline {
            bail!("sen serve did not become healthy within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn proc_stats(pid: u32) -> (f64, f64) {
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0);
    (cpu, rss)
}

fn load_lines(input: &Option<PathBuf>) -> Result<Vec<String>> {
    match input {
        None => Ok(SAMPLE.iter().map(|s| (*s).to_owned()).collect()),
        Some(p) => {
            let f =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let lines: Vec<String> = std::io::BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.trim().is_empty())
                .collect();
            if lines.is_empty() {
                bail!("{} holds no lines", p.display());
            }
            Ok(lines)
        }
    }
}

fn total(client: &reqwest::blocking::Client, http: SocketAddr) -> Result<u64> {
    let from = "2000-01-01T00:00:00Z";
    let to = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let v: serde_json::Value = client
        .get(format!("http://{http}/api/v1/search"))
        .query(&[("q", ""), ("from", from), ("to", &to), ("limit", "0")])
        .send()?
        .json()?;
    Ok(v["total"].as_u64().unwrap_or(0))
}

/// Run the benchmark.
pub fn run(args: BenchArgs) -> Result<()> {
    if args.events == 0 {
        bail!("--events must be at least 1");
    }
    let lines = load_lines(&args.input)?;
    let mut server = start_server(args.commit_interval_ms, args.config.as_deref())?;
    let pid = server.child.id();
    let (cpu0, _) = proc_stats(pid);
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let n = args.events;
    let mut sent_at: Vec<Instant> = Vec::with_capacity(n);
    let start = Instant::now();
    let pace = |i: usize| {
        if args.rate > 0 {
            let due = start + Duration::from_secs_f64(i as f64 / args.rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    };
    // Poll searchability in a second thread while sending.
    let http = server.http;
    let poll_client = client.clone();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let timeout = Duration::from_secs(args.timeout_secs);
    let poller = std::thread::spawn(move || -> Vec<(Instant, u64)> {
        let mut samples = Vec::new();
        let began = Instant::now();
        loop {
            if let Ok(t) = total(&poll_client, http) {
                samples.push((Instant::now(), t));
                if t >= n as u64 {
                    break;
                }
            }
            if stop_rx.try_recv().is_ok() || began.elapsed() > timeout {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        samples
    });
    match args.transport.as_str() {
        "tcp" => {
            let mut s =
                std::io::BufWriter::with_capacity(256 * 1024, TcpStream::connect(server.syslog)?);
            for i in 0..n {
                pace(i);
                let line = &lines[i % lines.len()];
                write!(s, "{} {}", line.len(), line)?;
                if args.rate > 0 {
                    s.flush()?;
                }
                sent_at.push(Instant::now());
            }
            s.flush()?;
        }
        "http" => {
            let mut i = 0;
            while i < n {
                let end = (i + args.http_batch.max(1)).min(n);
                let mut body = String::new();
                for j in i..end {
                    pace(j);
                    let v = serde_json::json!({ "message": lines[j % lines.len()] });
                    body.push_str(&v.to_string());
                    body.push('\n');
                }
                loop {
                    let r = client
                        .post(format!("http://{}/api/v1/ingest", server.http))
                        .body(body.clone())
                        .send()?;
                    if r.status().is_success() {
                        break;
                    }
                    if r.status().as_u16() == 429 || r.status().as_u16() == 503 {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                    bail!("ingest answered {}: {}", r.status(), r.text().unwrap_or_default());
                }
                let now = Instant::now();
                sent_at.extend(std::iter::repeat_n(now, end - i));
                i = end;
            }
        }
        other => bail!("unknown transport `{other}` (use tcp or http)"),
    }
    let send_secs = start.elapsed().as_secs_f64();
    let samples = poller.join().map_err(|_| anyhow::anyhow!("poller panicked"))?;
    drop(stop_tx);
    let indexed = samples.last().map(|s| s.1).unwrap_or(0);
    let done_at = samples.iter().find(|s| s.1 >= n as u64).map(|s| s.0);
    let (cpu1, rss) = proc_stats(pid);
    let Some(done_at) = done_at else {
        bail!("only {indexed} of {n} events became searchable within {} s", args.timeout_secs);
    };
    let mut lat: Vec<f64> = Vec::with_capacity(n);
    let mut k = 0;
    for (i, t_sent) in sent_at.iter().enumerate() {
        while k < samples.len() && samples[k].1 <= i as u64 {
            k += 1;
        }
        let t_ok = samples.get(k).map(|s| s.0).unwrap_or(done_at);
        lat.push(t_ok.saturating_duration_since(*t_sent).as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let e2e = done_at.duration_since(start).as_secs_f64();
    let report = Report {
        transport: args.transport.clone(),
        events: n,
        target_rate: args.rate,
        send_seconds: send_secs,
        accepted_eps: n as f64 / send_secs,
        searchable_seconds: e2e,
        end_to_end_eps: n as f64 / e2e,
        latency_p50_ms: pct(0.50),
        latency_p99_ms: pct(0.99),
        latency_max_ms: pct(1.0),
        server_cpu_seconds: cpu1 - cpu0,
        server_cpu_cores_avg: (cpu1 - cpu0) / e2e,
        server_peak_rss_mib: rss,
        indexed,
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "transport            {}", report.transport)?;
        writeln!(out, "events               {}", report.events)?;
        writeln!(
            out,
            "accepted EPS         {:.0}  ({:.2} s to send)",
            report.accepted_eps, report.send_seconds
        )?;
        writeln!(
            out,
            "end-to-end EPS       {:.0}  ({:.2} s until all searchable)",
            report.end_to_end_eps, report.searchable_seconds
        )?;
        writeln!(
            out,
            "latency p50 / p99    {:.0} ms / {:.0} ms (max {:.0} ms)",
            report.latency_p50_ms, report.latency_p99_ms, report.latency_max_ms
        )?;
        writeln!(
            out,
            "server CPU           {:.2} s ({:.2} cores avg)",
            report.server_cpu_seconds, report.server_cpu_cores_avg
        )?;
        writeln!(out, "server peak RSS      {:.0} MiB", report.server_peak_rss_mib)?;
    }
    if args.keep
        && let Some(dir) = server.dir.take()
    {
        eprintln!("data kept in {}", dir.keep().display());
    }
    Ok(())
}
