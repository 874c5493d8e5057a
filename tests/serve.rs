//! End-to-end: the real `sen serve` on loopback — syslog over TCP and UDP, the HTTP ingest API,
//! the search API contract, and the console page.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};

use common::{Server, client, corpus};
use serde_json::Value;

#[test]
fn auth_log_over_tcp_every_line_searchable() {
    let Some(corpus) = corpus() else { return };
    let text =
        std::fs::read_to_string(corpus.join("logs/elastic-examples/auth-bruteforce/auth.log"))
            .unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let failed = lines.iter().filter(|l| l.contains("Failed password")).count() as u64;
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path(), &[]);
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    // Mixed framing on one connection: newline for the first half, octet counting (RFC 6587,
    // with a PRI as real senders add) after.
    let half = lines.len() / 2;
    let mut buf = Vec::new();
    for l in &lines[..half] {
        buf.extend_from_slice(l.as_bytes());
        buf.push(b'\n');
    }
    for l in &lines[half..] {
        let msg = format!("<38>{l}");
        buf.extend_from_slice(format!("{} {msg}", msg.len()).as_bytes());
    }
    s.write_all(&buf).unwrap();
    drop(s);
    srv.wait_count("", lines.len() as u64, 120);
    assert_eq!(srv.count("\"Failed password\""), failed);
    assert_eq!(
        srv.count("process.name:sshd AND event.outcome:failure AND \"Failed password\""),
        failed
    );
    assert!(srv.count("event.category:authentication") >= failed);
    // Search hits are flat dotted ECS JSON, newest first.
    let (status, v) = srv.get("/api/v1/search", &[("q", "\"Failed password\""), ("limit", "5")]);
    assert_eq!(status, 200);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    for h in hits {
        assert!(h["source.ip"].is_string(), "{h}");
        assert!(h["event.original"].as_str().unwrap().contains("Failed password"));
        assert_eq!(h["process.name"], "sshd");
    }
    let t: Vec<&str> = hits.iter().map(|h| h["@timestamp"].as_str().unwrap()).collect();
    assert!(t.windows(2).all(|w| w[0] >= w[1]), "newest first: {t:?}");
}

#[test]
fn udp_http_ingest_and_api_contract() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path(), &[]);
    let http = client();

    // Syslog over UDP.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..20 {
        let line = format!(
            "<38>Nov 26 10:00:{i:02} web01 sshd[99]: Failed password for root from 203.0.113.{i} port 22 ssh2"
        );
        sock.send_to(line.as_bytes(), srv.udp).unwrap();
    }
    // HTTP ingest: identity, gzip and zstd; ECS objects and raw lines; one bad line.
    let ecs = serde_json::json!({"@timestamp": chrono::Utc::now().to_rfc3339(), "event": {"kind": "event", "category": ["network"]},
        "source": {"ip": "198.51.100.9", "port": 4444}, "message": "ecs object", "labels": {"case": "ecs"}});
    let raw = serde_json::json!({"message": "<86>Nov 26 10:00:00 db01 sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls"});
    let body = format!("{ecs}\n{raw}\nnot json\n\n[1,2]\n");
    let r = http.post(srv.url("/api/v1/ingest")).body(body.clone()).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["accepted"], 2, "{v}");
    assert_eq!(v["rejected"], 2, "{v}");
    assert_eq!(v["errors"][0]["line"], 3, "{v}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("{ecs}\n").as_bytes()).unwrap();
    let r = http
        .post(srv.url("/api/v1/ingest"))
        .header("content-encoding", "gzip")
        .header("x-sen-batch-id", "gz-1")
        .body(gz.finish().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let z = zstd::encode_all(format!("{raw}\n").as_bytes(), 1).unwrap();
    let r = http
        .post(srv.url("/api/v1/ingest"))
        .header("content-encoding", "zstd")
        .body(z)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .post(srv.url("/api/v1/ingest"))
        .header("content-encoding", "br")
        .body("x")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let r = http.post(srv.url("/api/v1/ingest")).body("").send().unwrap();
    assert_eq!(r.status().as_u16(), 400);

    srv.wait_count("", 24, 60);
    assert_eq!(srv.count("input.type:syslog-udp"), 20);
    assert_eq!(srv.count("source.ip:203.0.113.0/28"), 16);
    assert_eq!(srv.count("labels.case:ecs"), 2);
    assert_eq!(srv.count("source.port:4444"), 2);
    assert_eq!(srv.count("process.name:sudo AND user.name:alice"), 2);

    // API contract: errors, histogram, top values, health, metrics, page and headers.
    let (status, v) = srv.get("/api/v1/search", &[("q", "user.name:(alice")]);
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("position"), "{v}");
    assert!(v["position"].is_u64(), "{v}");
    let (status, _) = srv.get("/api/v1/search", &[("from", "yesterday")]);
    assert_eq!(status, 400);
    let (status, _) = srv.get("/api/v1/search", &[("limit", "-1")]);
    assert_eq!(status, 400);
    let (status, v) = srv.get("/api/v1/search", &[("q", "*"), ("limit", "2"), ("offset", "1")]);
    assert_eq!(status, 200);
    assert_eq!(v["total"], 24);
    assert_eq!(v["hits"].as_array().unwrap().len(), 2);
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(400)).to_rfc3339();
    let to = (now + chrono::Duration::hours(1)).to_rfc3339();
    let (status, v) =
        srv.get("/api/v1/histogram", &[("from", &from), ("to", &to), ("buckets", "30")]);
    assert_eq!(status, 200, "{v}");
    let sum: u64 =
        v["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, 24);
    let (status, v) = srv.get("/api/v1/fields/input.type/top", &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["values"][0]["value"], "syslog-udp");
    assert_eq!(v["values"][0]["count"], 20);
    let (status, _) = srv.get("/api/v1/fields/bad%20field/top", &[]);
    assert_eq!(status, 400);
    let (status, v) = srv.get("/healthz", &[]);
    assert_eq!((status, v["status"].as_str()), (200, Some("ok")));
    let metrics = http.get(srv.url("/metrics")).send().unwrap().text().unwrap();
    assert!(metrics.contains("sen_intake_records_total{transport=\"syslog-udp\"} 20"), "{metrics}");
    assert!(metrics.contains("sen_index_lag_records"), "{metrics}");
    assert!(metrics.contains("sen_intake_dropped_total"), "{metrics}");
    let page = http.get(srv.url("/")).send().unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(page.text().unwrap().contains("/ui/app.js"));
    let js = http.get(srv.url("/ui/app.js")).send().unwrap();
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
}

#[test]
fn ingest_token_and_unparseable_lines() {
    let dir = tempfile::tempdir().unwrap();
    let token = "s3cret-token-for-tests-0123456789";
    let srv = Server::start(dir.path(), &["--ingest-token", token]);
    let http = client();
    let body = "{\"event\": {\"original\": \"@@@ nothing parses this @@@\"}}\n";
    let r = http.post(srv.url("/api/v1/ingest")).body(body).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http.post(srv.url("/api/v1/ingest")).bearer_auth("wrong").body(body).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http.post(srv.url("/api/v1/ingest")).bearer_auth(token).body(body).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // A syslog line nothing understands is still indexed, raw text kept and tagged.
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    s.write_all(b"\x01\x02 binary-ish garbage \xff\xfe line\n").unwrap();
    drop(s);
    srv.wait_count("tags:_parse_failure", 2, 60);
    let (_, v) =
        srv.get("/api/v1/search", &[("q", "tags:_parse_failure AND input.type:syslog-tcp")]);
    let hit = &v["hits"][0];
    assert!(hit["event.original"].as_str().unwrap().contains("garbage"), "{hit}");
    assert!(hit["error.message"].is_string(), "{hit}");
}

#[test]
fn graceful_restart_keeps_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Server::start(dir.path(), &[]);
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    for i in 0..500 {
        writeln!(s, "<13>Nov 26 10:00:00 host{} app[1]: message number {i}", i % 7).unwrap();
    }
    drop(s);
    srv.wait_count("", 500, 60);
    srv.stop();
    srv.spawn();
    assert_eq!(srv.count(""), 500);
    assert_eq!(srv.count("host.name:host3"), 71);
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(srv.count(""), 500, "no replay duplicates after restart");
}

#[test]
fn ingest_token_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "file-token-abcdefghijklmnop\n").unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &["--ingest-token-file", token_file.to_str().unwrap()]);
    let http = client();
    let body = "{\"message\": \"hello\"}\n";
    let r = http.post(srv.url("/api/v1/ingest")).body(body).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .post(srv.url("/api/v1/ingest"))
        .bearer_auth("file-token-abcdefghijklmnop")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn ingest_files_evtx_and_lines_idempotently() {
    let Some(corpus) = corpus() else { return };
    let pair = corpus.join("sigma/regression_pairs/rules/windows/process_creation");
    let mut evtx = None;
    for d in std::fs::read_dir(&pair).unwrap().flatten() {
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "evtx") {
                evtx = Some(f.path());
            }
        }
        if evtx.is_some() {
            break;
        }
    }
    let evtx = evtx.unwrap();
    let expected = std::fs::read_to_string(evtx.with_extension("ndjson"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .count() as u64;
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("auth.log");
    std::fs::write(&lines, "Nov 26 10:00:00 web01 sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2\nNov 26 10:00:01 web01 sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2\n").unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &[]);
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sen"))
            .args(["ingest", "--server", &format!("http://{}", srv.http)])
            .arg(&evtx)
            .arg(&lines)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("{expected} records read, {expected} accepted")), "{text}");
    }
    srv.wait_count("", expected + 2, 60);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(srv.count(""), expected + 2, "a second import adds nothing");
    assert_eq!(srv.count("source.ip:203.0.113.5"), 2);
}
