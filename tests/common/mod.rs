//! Shared helpers of the end-to-end suites: start the real `sen` binary on loopback with free
//! ports and a temporary data directory, talk to it, and stop it by PID.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The corpus directory shipped beside the project (`../shared/corpora/public`).
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/public");
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus directory {} is missing (required under CI=true)", p.display());
    }
    eprintln!("skipping: corpus directory {} is absent", p.display());
    None
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `sen serve`.
pub struct Server {
    pub child: Option<Child>,
    pub http: SocketAddr,
    pub tcp: SocketAddr,
    pub udp: SocketAddr,
    pub data: PathBuf,
    pub extra: Vec<String>,
}

impl Server {
    /// Start on fresh ports with the given data directory.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            http: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            tcp: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            udp: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            data: data.to_owned(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    /// (Re)start the process on the same ports and data directory.
    pub fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_sen"))
            .args(["serve", "--data-dir"])
            .arg(&self.data)
            .args(["--listen-http", &self.http.to_string()])
            .args(["--listen-syslog-tcp", &self.tcp.to_string()])
            .args(["--listen-syslog-udp", &self.udp.to_string()])
            .args(["--commit-interval-ms", "200"])
            .args(&self.extra)
            .env("SEN_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sen serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client().get(self.url("/healthz")).send()
                && r.status().is_success()
            {
                return;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("sen serve exited early: {status}");
            }
            assert!(Instant::now() < deadline, "sen serve did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    /// SIGKILL (no chance to flush anything).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// GET a JSON API with query parameters (all time by default).
    pub fn get(&self, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let mut q: Vec<(&str, &str)> =
            vec![("from", "2000-01-01T00:00:00Z"), ("to", "2100-01-01T00:00:00Z")];
        for (k, v) in params {
            q.retain(|(qk, _)| qk != k);
            q.push((k, v));
        }
        let r = client().get(self.url(path)).query(&q).send().expect("request");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// Total matches of a query over all time.
    pub fn count(&self, q: &str) -> u64 {
        let (status, v) = self.get("/api/v1/search", &[("q", q), ("limit", "0")]);
        assert_eq!(status, 200, "search `{q}` failed: {v}");
        v["total"].as_u64().unwrap()
    }

    /// Wait until a query matches `n` events (panics after `secs`).
    pub fn wait_count(&self, q: &str, n: u64, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = 0;
        while Instant::now() < deadline {
            last = self.count(q);
            if last >= n {
                assert_eq!(last, n, "query `{q}` matched more than expected");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("query `{q}`: {last} of {n} events searchable after {secs} s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}
