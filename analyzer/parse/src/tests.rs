//! Tests of the public entry points and the ECS mapping.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sen_core::event::{Event, FieldRef, TAG_PARSE_FAILURE};

use super::*;

// `ctx`, `s`, `int`, `ip` and `list` are shared with the per-format test modules.

pub(crate) fn ctx() -> Context {
    Context::new(DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z").unwrap().with_timezone(&Utc))
}

fn ev(line: &str) -> Event {
    Event::new("id".into(), ctx().received, line)
}

fn run(line: &str, f: Format) -> (Event, Outcome) {
    let mut e = ev(line);
    let o = normalize_line(&mut e, f, &ctx());
    (e, o)
}

pub(crate) fn s<'a>(e: &'a Event, p: &str) -> Option<&'a str> {
    e.get_str(p)
}

pub(crate) fn int(e: &Event, p: &str) -> Option<i64> {
    match e.get(p) {
        Some(FieldRef::Int(i)) => Some(i),
        _ => None,
    }
}

pub(crate) fn ip(e: &Event, p: &str) -> Option<IpAddr> {
    match e.get(p) {
        Some(FieldRef::Ip(i)) => Some(i),
        _ => None,
    }
}

pub(crate) fn list(e: &Event, p: &str) -> Vec<String> {
    match e.get(p) {
        Some(FieldRef::List(l)) => l.iter().map(|v| v.to_text()).collect(),
        Some(other) => vec![other.to_text()],
        None => vec![],
    }
}

fn ts(e: &Event) -> String {
    e.timestamp.to_rfc3339()
}

#[test]
fn format_names() {
    for n in Format::NAMES {
        assert_eq!(n.parse::<Format>().unwrap().as_str(), n);
    }
    let err = "xml".parse::<Format>().unwrap_err().to_string();
    assert!(err.contains("xml") && err.contains("rfc5424"), "{err}");
}

#[test]
fn sshd_failed_password() {
    let (e, o) = run(
        "Mar 29 23:18:33 ip-10-77-20-248 sshd[6402]: Failed password for invalid user admin from 218.60.136.106 port 56338 ssh2",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Sshd]);
    assert!(!o.is_failure());
    assert_eq!(ts(&e), "2026-03-29T23:18:33+00:00");
    assert_eq!(s(&e, "host.name"), Some("ip-10-77-20-248"));
    assert_eq!(s(&e, "process.name"), Some("sshd"));
    assert_eq!(int(&e, "process.pid"), Some(6402));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "event.action"), Some("ssh_login"));
    assert_eq!(s(&e, "system.auth.ssh.method"), Some("password"));
    assert_eq!(s(&e, "user.name"), Some("admin"));
    assert_eq!(ip(&e, "source.ip"), Some("218.60.136.106".parse().unwrap()));
    assert_eq!(int(&e, "source.port"), Some(56338));
    assert_eq!(list(&e, "event.category"), vec!["authentication"]);
    assert_eq!(list(&e, "related.ip"), vec!["218.60.136.106"]);
    assert_eq!(list(&e, "related.user"), vec!["admin"]);
    assert_eq!(s(&e, "event.module"), Some("sshd"));
    assert_eq!(s(&e, "event.dataset"), Some("system.auth"));
    assert_eq!(s(&e, "event.kind"), Some("event"));
    assert!(s(&e, "message").unwrap().starts_with("Failed password"));
    assert_eq!(
        e.original,
        "Mar 29 23:18:33 ip-10-77-20-248 sshd[6402]: Failed password for invalid user admin from 218.60.136.106 port 56338 ssh2"
    );
}

#[test]
fn sshd_variants() {
    let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        (
            "Accepted publickey for ubuntu from 85.245.107.41 port 54259 ssh2: RSA SHA256:abc",
            "ssh_login",
            Some("success"),
            Some("ubuntu"),
        ),
        ("Invalid user  from 34.204.227.175", "ssh_login", Some("failure"), None),
        (
            "Disconnected from invalid user admin 1.2.3.4 port 22 [preauth]",
            "ssh_disconnect",
            None,
            Some("admin"),
        ),
        (
            "Connection closed by authenticating user root 1.2.3.4 port 5 [preauth]",
            "ssh_connection_closed",
            None,
            Some("root"),
        ),
        (
            "Received disconnect from 24.151.103.17 port 56789:11: disconnected by user",
            "ssh_disconnect",
            None,
            None,
        ),
        (
            "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
            "ssh_reverse_mapping_failed",
            None,
            None,
        ),
        (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.93.215.158  user=root",
            "authentication_failure",
            Some("failure"),
            Some("root"),
        ),
        (
            "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=46.30.160.83  user=root",
            "authentication_failure",
            Some("failure"),
            Some("root"),
        ),
        (
            "pam_unix(sshd:session): session opened for user elastic_user_5 by (uid=0)",
            "session_opened",
            Some("success"),
            Some("elastic_user_5"),
        ),
        (
            "message repeated 5 times: [ Failed password for root from 218.60.136.106 port 56338 ssh2]",
            "ssh_login",
            Some("failure"),
            Some("root"),
        ),
        (
            "error: maximum authentication attempts exceeded for root from 190.178.62.6 port 56562 ssh2 [preauth]",
            "ssh_max_auth_exceeded",
            Some("failure"),
            Some("root"),
        ),
        (
            "Did not receive identification string from 1.2.3.4 port 5",
            "ssh_no_identification",
            None,
            None,
        ),
    ];
    for (msg, action, outcome, user) in cases {
        let line = format!("Apr  9 03:17:16 web sshd[1]: {msg}");
        let (e, o) = run(&line, Format::Auto);
        assert!(o.matched(Parser::Sshd), "{msg}: {o}");
        assert_eq!(s(&e, "event.action"), Some(*action), "{msg}");
        assert_eq!(s(&e, "event.outcome"), *outcome, "{msg}");
        assert_eq!(s(&e, "user.name"), *user, "{msg}");
        if !msg.starts_with("pam_unix(sshd:session)") {
            assert!(e.get("source.ip").is_some(), "{msg}: no source.ip");
        }
    }
}

#[test]
fn sudo_su_pam_logind() {
    let (e, o) = run(
        "Apr  9 18:42:32 host sudo:   ubuntu : TTY=pts/0 ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/sbin/service metricbeat stop",
        Format::Auto,
    );
    assert!(o.matched(Parser::Sudo));
    assert_eq!(s(&e, "user.name"), Some("ubuntu"));
    assert_eq!(s(&e, "user.effective.name"), Some("root"));
    assert_eq!(s(&e, "system.auth.sudo.command"), Some("/usr/sbin/service metricbeat stop"));
    assert_eq!(s(&e, "event.outcome"), Some("success"));
    let (e, _) = run(
        "Apr  9 18:42:32 host sudo:   bob : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh",
        Format::Auto,
    );
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "event.reason"), Some("3 incorrect password attempts"));
    let (e, o) = run("Apr  9 18:42:32 host su[12]: FAILED su for root by bob", Format::Auto);
    assert!(o.matched(Parser::Su));
    assert_eq!(
        (s(&e, "user.name"), s(&e, "user.effective.name"), s(&e, "event.outcome")),
        (Some("bob"), Some("root"), Some("failure"))
    );
    let (e, o) = run(
        "Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
        Format::Auto,
    );
    assert!(o.matched(Parser::Su));
    assert_eq!(
        (s(&e, "process.name"), s(&e, "user.name"), s(&e, "event.action")),
        (Some("su(pam_unix)"), Some("cyrus"), Some("session_opened"))
    );
    let (e, o) = run(
        "Apr 19 13:17:01 host CRON[2886]: pam_unix(cron:session): session closed for user root",
        Format::Auto,
    );
    assert!(o.matched(Parser::Pam));
    assert_eq!((s(&e, "event.module"), s(&e, "user.name")), (Some("pam"), Some("root")));
    assert_eq!(list(&e, "event.type"), vec!["end"]);
    let (e, o) = run(
        "Mar 30 14:24:07 host systemd-logind[1118]: New session 193 of user ubuntu.",
        Format::Auto,
    );
    assert!(o.matched(Parser::SystemdLogind));
    assert_eq!(
        (s(&e, "user.name"), s(&e, "systemd.logind.session_id")),
        (Some("ubuntu"), Some("193"))
    );
}

#[test]
fn iptables_ufw() {
    let (e, o) = run(
        "Feb  5 06:30:36 host kernel: [ 8665.951930] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.7 DST=10.0.0.5 LEN=40 TOS=0x00 PREC=0x00 TTL=244 ID=13 PROTO=TCP SPT=46413 DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0",
        Format::Auto,
    );
    assert!(o.matched(Parser::Iptables), "{o}");
    assert_eq!(s(&e, "event.action"), Some("block"));
    assert_eq!(s(&e, "rule.name"), Some("UFW BLOCK"));
    assert_eq!(s(&e, "observer.ingress.interface.name"), Some("eth0"));
    assert_eq!(s(&e, "observer.egress.interface.name"), None);
    assert_eq!(ip(&e, "source.ip"), Some("203.0.113.7".parse().unwrap()));
    assert_eq!((int(&e, "source.port"), int(&e, "destination.port")), (Some(46413), Some(23)));
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!(s(&e, "source.mac"), Some("52-54-00-65-43-21"));
    assert_eq!(list(&e, "event.type"), vec!["connection", "denied"]);
    assert_eq!(s(&e, "event.module"), Some("iptables"));
}

#[test]
fn access_log_alone_and_in_syslog() {
    let line = r#"83.149.9.216 - bob [17/May/2015:10:05:03 +0000] "GET /presentations/x.png?a=1 HTTP/1.1" 404 203023 "http://semicomplete.com/" "Mozilla/5.0""#;
    let (e, o) = run(line, Format::Auto);
    assert!(o.matched(Parser::AccessLog), "{o}");
    assert_eq!(ts(&e), "2015-05-17T10:05:03+00:00");
    assert_eq!(ip(&e, "source.ip"), Some("83.149.9.216".parse().unwrap()));
    assert_eq!(s(&e, "user.name"), Some("bob"));
    assert_eq!(s(&e, "http.request.method"), Some("GET"));
    assert_eq!(
        (s(&e, "url.path"), s(&e, "url.query")),
        (Some("/presentations/x.png"), Some("a=1"))
    );
    assert_eq!(s(&e, "http.version"), Some("1.1"));
    assert_eq!(int(&e, "http.response.status_code"), Some(404));
    assert_eq!(int(&e, "http.response.body.bytes"), Some(203023));
    assert_eq!(s(&e, "http.request.referrer"), Some("http://semicomplete.com/"));
    assert_eq!(s(&e, "user_agent.original"), Some("Mozilla/5.0"));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "event.dataset"), Some("apache.access"));
    let (e, o) = run(&format!("<34>Jan 12 06:30:00 xxx apache: {line}"), Format::Auto);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::AccessLog]);
    assert_eq!(s(&e, "message"), Some(line));
    assert_eq!(int(&e, "http.response.status_code"), Some(404));
}

#[test]
fn apache_and_nginx_error() {
    let (e, o) = run(
        "[Tue Jun 08 11:54:08.929301 2021] [php7:emerg] [pid 1374899] [client 95.223.77.60:41888] AH00957: boom",
        Format::Auto,
    );
    assert!(o.matched(Parser::ApacheError), "{o}");
    assert_eq!(ts(&e), "2021-06-08T11:54:08.929301+00:00");
    assert_eq!((s(&e, "log.level"), s(&e, "apache.error.module")), (Some("emerg"), Some("php7")));
    assert_eq!((int(&e, "process.pid"), int(&e, "source.port")), (Some(1374899), Some(41888)));
    assert_eq!((s(&e, "message"), s(&e, "error.code")), (Some("AH00957: boom"), Some("AH00957")));
    let (e, o) = run(
        "2021/04/01 13:02:31 [error] 31#31: *1 open() failed, client: 172.17.0.1, server: localhost, request: \"POST /nf HTTP/1.1\", host: \"localhost:8081\"",
        Format::Auto,
    );
    assert!(o.matched(Parser::NginxError), "{o}");
    assert_eq!((s(&e, "log.level"), s(&e, "message")), (Some("error"), Some("open() failed")));
    assert_eq!(
        (s(&e, "http.request.method"), s(&e, "url.domain"), int(&e, "url.port")),
        (Some("POST"), Some("localhost"), Some(8081))
    );
}

#[test]
fn rfc5424_fields() {
    let (e, o) = run(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] \u{feff}An application event log entry",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc5424]);
    assert_eq!(ts(&e), "2003-10-11T22:14:15.003+00:00");
    assert_eq!(int(&e, "log.syslog.priority"), Some(165));
    assert_eq!(
        (s(&e, "log.syslog.facility.name"), int(&e, "log.syslog.facility.code")),
        (Some("local4"), Some(20))
    );
    assert_eq!(
        (s(&e, "log.syslog.severity.name"), s(&e, "log.level")),
        (Some("notice"), Some("notice"))
    );
    assert_eq!((s(&e, "log.syslog.version"), s(&e, "log.syslog.msgid")), (Some("1"), Some("ID47")));
    assert_eq!((s(&e, "log.syslog.appname"), int(&e, "process.pid")), (Some("evntslog"), Some(42)));
    assert_eq!(
        s(&e, "log.syslog.structured_data.exampleSDID@32473.eventSource"),
        Some("Application")
    );
    assert_eq!(s(&e, "message"), Some("An application event log entry"));
    assert_eq!(s(&e, "host.hostname"), Some("mymachine.example.com"));
}

#[test]
fn rfc5424_failure_keeps_partial() {
    let (e, o) = run("<29>3 2016-01-15T01:00:43Z hn S - - [meta escape=\"]\"] x", Format::Rfc5424);
    assert!(o.is_failure());
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    assert!(s(&e, "error.message").unwrap().contains("rfc5424"), "{:?}", s(&e, "error.message"));
    assert_eq!(s(&e, "host.hostname"), Some("hn"));
    assert_eq!(int(&e, "log.syslog.priority"), Some(29));
    assert_eq!(s(&e, "message"), Some("<29>3 2016-01-15T01:00:43Z hn S - - [meta escape=\"]\"] x"));
}

#[test]
fn timezone_and_year() {
    let mut c = ctx();
    c.timezone = chrono_tz::America::New_York;
    let mut e = ev("Dec 31 23:00:00 h p: x");
    c.received = DateTime::parse_from_rfc3339("2027-01-01T05:30:00Z").unwrap().with_timezone(&Utc);
    normalize_line(&mut e, Format::Auto, &c);
    assert_eq!(ts(&e), "2027-01-01T04:00:00+00:00");
    // An ISO timestamp with its own offset ignores the context zone.
    let mut e = ev("2026-06-01T10:00:00+02:00 h p: x");
    normalize_line(&mut e, Format::Auto, &c);
    assert_eq!(ts(&e), "2026-06-01T08:00:00+00:00");
}

#[test]
fn cef_with_syslog_header() {
    let line = "<134>Nov 26 10:00:00 fw01 CEF:0|Vendor\\|X|Product|1.2|100|Port scan|7|src=10.0.0.1 spt=1234 dst=10.0.0.2 dpt=80 proto=TCP suser=alice duser=bob act=blocked request=http://x/y?z msg=Scan seen from a b rt=1543270652000 cs1=abc cs1Label=Rule Name cn1=5";
    let (e, o) = run(line, Format::Auto);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Cef], "{o}");
    assert_eq!(s(&e, "host.name"), Some("fw01"));
    assert_eq!(s(&e, "observer.vendor"), Some("Vendor|X"));
    assert_eq!(
        (s(&e, "observer.product"), s(&e, "observer.version")),
        (Some("Product"), Some("1.2"))
    );
    assert_eq!((s(&e, "event.code"), int(&e, "event.severity")), (Some("100"), Some(7)));
    assert_eq!(s(&e, "message"), Some("Scan seen from a b"));
    assert_eq!(s(&e, "cef.name"), Some("Port scan"));
    assert_eq!(ip(&e, "source.ip"), Some("10.0.0.1".parse().unwrap()));
    assert_eq!((int(&e, "source.port"), int(&e, "destination.port")), (Some(1234), Some(80)));
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!((s(&e, "source.user.name"), s(&e, "user.name")), (Some("alice"), Some("bob")));
    assert_eq!(s(&e, "event.action"), Some("blocked"));
    assert_eq!(s(&e, "url.original"), Some("http://x/y?z"));
    assert_eq!(ts(&e), "2018-11-26T22:17:32+00:00");
    assert_eq!(s(&e, "cef.custom.Rule Name"), Some("abc"));
    assert_eq!(s(&e, "cef.extensions.cn1"), Some("5"));
    assert_eq!(s(&e, "event.module"), Some("cef"));
}

#[test]
fn leef_v1_v2() {
    let (e, o) = run(
        "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^srcPort=50^dstPort=443^proto=6^usrName=joe^devTime=Oct 05 2018 13:20:30^devTimeFormat=MMM dd yyyy HH:mm:ss",
        Format::Auto,
    );
    assert!(o.matched(Parser::Leef), "{o}");
    assert_eq!(ip(&e, "destination.ip"), Some("10.0.0.5".parse().unwrap()));
    assert_eq!((int(&e, "source.port"), int(&e, "destination.port")), (Some(50), Some(443)));
    assert_eq!((s(&e, "network.transport"), s(&e, "user.name")), (Some("tcp"), Some("joe")));
    assert_eq!(ts(&e), "2018-10-05T13:20:30+00:00");
    assert_eq!(s(&e, "leef.attributes.usrName"), Some("joe"));
    assert_eq!(s(&e, "event.code"), Some("41"));
    let (e, o) = run(
        "Jan 18 11:07:53 host LEEF:1.0|Microsoft|MSExchange|4.0|15345|src=10.50.1.1\tdst=2.10.20.20",
        Format::Leef,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Leef]);
    assert_eq!(ip(&e, "source.ip"), Some("10.50.1.1".parse().unwrap()));
}

#[test]
fn json_lines_and_objects() {
    let (e, o) = run(
        r#"{"@timestamp":"2026-01-02T03:04:05Z","source":{"ip":"10.1.2.3"},"user.name":"x","organization.id":"evil","event.id":"s1","tags":["a"]}"#,
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Json]);
    assert_eq!(ts(&e), "2026-01-02T03:04:05+00:00");
    assert_eq!(ip(&e, "source.ip"), Some("10.1.2.3".parse().unwrap()));
    assert_eq!(e.organization, None);
    assert_eq!(e.id, "id");
    assert_eq!(s(&e, "labels.sender_event_id"), Some("s1"));
    assert!(e.has_tag("a"));

    // A raw line in `message`, explicit fields win.
    let obj = serde_json::json!({
        "message": "Mar 29 23:18:33 web sshd[6402]: Failed password for root from 1.2.3.4 port 5 ssh2",
        "host": {"name": "override"}
    });
    let mut e = ev("{…}");
    let o = normalize_json(&mut e, obj.as_object().unwrap().clone(), &ctx());
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Json, Parser::Rfc3164, Parser::Sshd]);
    assert_eq!(s(&e, "host.name"), Some("override"));
    assert_eq!(s(&e, "host.hostname"), Some("web"));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "message").map(|m| m.starts_with("Failed password")), Some(true));
    assert!(e.original.starts_with("Mar 29"));

    // A bad @timestamp is reported, not dropped.
    let obj = serde_json::json!({"@timestamp": "yesterday", "message": "hello"});
    let mut e = ev("{…}");
    let o = normalize_json(&mut e, obj.as_object().unwrap().clone(), &ctx());
    assert!(o.is_failure());
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    assert!(s(&e, "error.message").unwrap().contains("@timestamp"));
    assert_eq!(e.timestamp, ctx().received);
    assert_eq!(s(&e, "message"), Some("hello"));

    // Invalid JSON fails like any line.
    let (e, o) = run("{not json", Format::Json);
    assert!(o.is_failure());
    assert!(s(&e, "error.message").unwrap().contains("invalid JSON"));
}

#[test]
fn unknown_line_fails_softly() {
    let (e, o) = run("hello world, nothing to see", Format::Auto);
    assert!(o.is_failure());
    assert_eq!(o.parsers().count(), 0);
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    assert_eq!(s(&e, "message"), Some("hello world, nothing to see"));
    assert!(s(&e, "error.message").is_some());
    assert_eq!(s(&e, "event.kind"), Some("event"));
    let (e, o) = run("", Format::Auto);
    assert!(o.is_failure());
    assert_eq!(s(&e, "message"), Some(""));
}

#[test]
fn peer_ip_recorded() {
    let mut c = ctx();
    c.peer_ip = Some("192.0.2.1".parse().unwrap());
    let mut e = ev("<133>Nov 26 10:00:00 haproxy[1]: x");
    normalize_line(&mut e, Format::Auto, &c);
    assert_eq!(ip(&e, "host.ip"), Some("192.0.2.1".parse().unwrap()));
    let mut e = ev("<13>Nov 26 10:00:00 h p: x");
    normalize_line(&mut e, Format::Auto, &c);
    assert_eq!((ip(&e, "host.ip"), s(&e, "host.name")), (None, Some("h")));
}

#[test]
fn lenient_5424_in_auto() {
    // Check Point: no <PRI>, non-standard structured data.
    let line = "1 2019-05-15T16:27:08Z HOSTNAME CheckPoint 19710 - [action:\"Key Install\"; flags:\"133376\"] rest";
    let (e, o) = run(line, Format::Auto);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc5424], "{o}");
    assert_eq!(ts(&e), "2019-05-15T16:27:08+00:00");
    assert_eq!(
        (s(&e, "host.name"), s(&e, "process.name"), int(&e, "process.pid")),
        (Some("HOSTNAME"), Some("CheckPoint"), Some(19710))
    );
    assert_eq!(s(&e, "message"), Some("[action:\"Key Install\"; flags:\"133376\"] rest"));
    assert_eq!(int(&e, "log.syslog.priority"), None);
    // The explicit format stays strict.
    let (_, o) = run("<13>1 2019-05-15T16:27:08Z h a 1 - [bad sd] x", Format::Rfc5424);
    assert!(o.is_failure());
    let (e, o) = run("<13>1 2019-05-15T16:27:08Z h a 1 - [bad sd] x", Format::Auto);
    assert!(!o.is_failure());
    assert_eq!(s(&e, "message"), Some("[bad sd] x"));
}

#[test]
fn cisco_messages() {
    let (e, o) = run(
        "%ASA-2-106001: Inbound TCP connection denied from 1.2.3.4/5 to 6.7.8.9/1433",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Cisco]);
    assert_eq!(
        (s(&e, "observer.product"), s(&e, "event.code"), s(&e, "log.level")),
        (Some("ASA"), Some("106001"), Some("crit"))
    );
    assert_eq!(
        s(&e, "message"),
        Some("Inbound TCP connection denied from 1.2.3.4/5 to 6.7.8.9/1433")
    );
    let (e, o) = run(
        "<189>Jan 12 06:30:00 rtr1 123: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from console",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Cisco]);
    assert_eq!((s(&e, "observer.product"), s(&e, "event.code")), (Some("IOS"), Some("CONFIG_I")));
    // A `%` header right after the time is neither the host name nor the program.
    for line in [
        "<166>Nov 26 2026 12:00:00: %ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.1/5000 (198.51.100.1/5000) to dmz:10.10.1.5/443 (10.10.1.5/443)",
        "Sep  1 10:25:29 10.10.10.1 %IPS-4-SIGNATURE: Sig:3051 Subsig:1 Sev:4 TCP Connection Window Size DoS",
    ] {
        let (e, o) = run(line, Format::Auto);
        assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Cisco], "{line}");
        assert_eq!(e.get("process.name"), None, "{line}");
    }
}

#[test]
fn cef_in_explicit_syslog_and_embedded_json() {
    let (e, o) =
        run("<134>Nov 26 10:00:00 fw01 CEF:0|V|P|1|100|Name|5|src=10.0.0.1", Format::Rfc3164);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Cef]);
    assert_eq!(ip(&e, "source.ip"), Some("10.0.0.1".parse().unwrap()));
    // `event.original` holding JSON is not re-parsed and is not a failure.
    let obj = serde_json::json!({"event": {"original": "{\"a\":1}"}, "source.ip": "10.0.0.9"});
    let mut e = ev("{…}");
    let o = normalize_json(&mut e, obj.as_object().unwrap().clone(), &ctx());
    assert!(!o.is_failure());
    assert_eq!(e.original, "{\"a\":1}");
    // An explicit `event.original` that nothing understands is tagged.
    let obj = serde_json::json!({"event.original": "gibberish"});
    let mut e = ev("{…}");
    let o = normalize_json(&mut e, obj.as_object().unwrap().clone(), &ctx());
    assert!(o.is_failure());
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    assert_eq!(s(&e, "message"), Some("gibberish"));
}

const FGT_CONFIG: &str = r#"date=2026-11-26 time=15:00:01 devname="fw-border" devid="FG201FTK22901234" eventtime=1795680001123456789 tz="+0700" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(10.10.3.5)" action="Add" cfgtid=1310721 cfgpath="system.admin" cfgobj="svc_backup" cfgattr="accprofile[super_admin]vdom[root]" msg="Add system.admin svc_backup""#;

#[test]
fn fortigate_kv_with_and_without_syslog_headers() {
    // FortiOS's own syslog (`<PRI>` only), an RFC 5424 header, a relay's BSD header, no header.
    for (line, parsers) in [
        (format!("<189>{FGT_CONFIG}"), vec![Parser::Rfc3164, Parser::Fortigate]),
        (
            format!("<189>1 2026-11-26T15:00:01+07:00 fw-border - - - - {FGT_CONFIG}"),
            vec![Parser::Rfc5424, Parser::Fortigate],
        ),
        (
            format!("Nov 26 15:00:01 fw-border {FGT_CONFIG}"),
            vec![Parser::Rfc3164, Parser::Fortigate],
        ),
        (FGT_CONFIG.to_owned(), vec![Parser::Fortigate]),
    ] {
        let (e, o) = run(&line, Format::Auto);
        assert!(!o.is_failure(), "{line}: {o}");
        assert_eq!(o.parsers().collect::<Vec<_>>(), parsers, "{line}");
        // `eventtime` (nanoseconds) wins over the syslog header's time.
        assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:00:01.123456789+00:00", "{line}");
        assert_eq!(s(&e, "event.module"), Some("fortinet"));
        assert_eq!(s(&e, "event.dataset"), Some("fortinet.firewall"));
        assert_eq!(s(&e, "fortinet.firewall.cfgpath"), Some("system.admin"));
        assert_eq!(s(&e, "fortinet.firewall.action"), Some("Add"));
        assert_eq!(s(&e, "fortinet.firewall.msg"), Some("Add system.admin svc_backup"));
        assert_eq!(s(&e, "fortinet.firewall.cfgattr"), Some("accprofile[super_admin]vdom[root]"));
        assert_eq!(s(&e, "event.action"), Some("Add"));
        assert_eq!(s(&e, "event.code"), Some("0100044547"));
        assert_eq!(list(&e, "event.category"), ["configuration"]);
        assert_eq!(list(&e, "event.type"), ["creation"]);
        assert_eq!(s(&e, "user.name"), Some("admin"));
        assert_eq!(ip(&e, "source.ip"), Some("10.10.3.5".parse().unwrap()));
        assert_eq!(
            (s(&e, "observer.vendor"), s(&e, "observer.product"), s(&e, "observer.name")),
            (Some("Fortinet"), Some("FortiGate"), Some("fw-border"))
        );
        assert_eq!(s(&e, "observer.serial_number"), Some("FG201FTK22901234"));
        assert_eq!(s(&e, "host.name"), Some("fw-border"));
        assert_eq!((s(&e, "log.level"), int(&e, "event.severity")), (Some("information"), Some(6)));
    }
}

#[test]
fn fortigate_traffic_to_ecs() {
    let line = r#"<189>date=2026-11-26 time=15:02:10 devname="fw-border" devid="FG201FTK22901234" tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=198.51.100.66 srcport=61874 srcintf="wan1" srcintfrole="wan" dstip=10.10.1.11 dstport=3389 dstintf="dmz" dstintfrole="dmz" srcmac="00:0c:29:aa:bb:cc" sessionid=1234567 proto=6 action="deny" policyid=0 policytype="policy" service="RDP" trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=1"#;
    let (e, o) = run(line, Format::Auto);
    assert!(!o.is_failure(), "{o}");
    // No eventtime: date + time in the `tz` zone.
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:02:10+00:00");
    assert_eq!(ip(&e, "source.ip"), Some("198.51.100.66".parse().unwrap()));
    assert_eq!((int(&e, "source.port"), int(&e, "destination.port")), (Some(61874), Some(3389)));
    assert_eq!(ip(&e, "destination.ip"), Some("10.10.1.11".parse().unwrap()));
    assert_eq!(
        (s(&e, "network.transport"), int(&e, "network.iana_number")),
        (Some("tcp"), Some(6))
    );
    assert_eq!((s(&e, "event.action"), s(&e, "event.outcome")), (Some("deny"), Some("failure")));
    assert_eq!(list(&e, "event.category"), ["network"]);
    assert_eq!(list(&e, "event.type"), ["connection", "denied"]);
    assert_eq!(s(&e, "rule.id"), Some("0"));
    assert_eq!(s(&e, "observer.ingress.interface.name"), Some("wan1"));
    assert_eq!(s(&e, "source.mac"), Some("00-0C-29-AA-BB-CC"));
    assert_eq!(int(&e, "source.packets"), Some(1));
    assert_eq!(s(&e, "fortinet.firewall.service"), Some("RDP"));
    // Without `tz`, the context's zone applies.
    let mut c = ctx();
    c.timezone = chrono_tz::Asia::Ho_Chi_Minh;
    let mut e =
        ev("date=2026-11-26 time=15:02:10 logid=0000000013 type=traffic action=close proto=17");
    normalize_line(&mut e, Format::Auto, &c);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:02:10+00:00");
    assert_eq!(list(&e, "event.type"), ["connection", "allowed", "end"]);
    assert_eq!(s(&e, "network.transport"), Some("udp"));
}

#[test]
fn fortigate_logins_and_utm() {
    let (e, _) = run(
        r#"<190>date=2026-11-26 time=15:03:00 devname="fw-border" devid="FG201FTK22901234" logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="admin" ui="https(203.0.113.77)" method="https" srcip=203.0.113.77 dstip=10.10.0.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(203.0.113.77) because of invalid password""#,
        Format::Auto,
    );
    assert_eq!(list(&e, "event.category"), ["authentication"]);
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(ip(&e, "source.ip"), Some("203.0.113.77".parse().unwrap()));
    let (e, _) = run(
        r#"<185>date=2026-11-26 time=15:04:00 devname="fw-border" devid="FG201FTK22901234" logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" vd="root" severity="critical" srcip=198.51.100.9 dstip=10.10.1.11 srcport=40000 dstport=80 proto=6 action="dropped" attack="Apache.Log4j.Error.Log.Remote.Code.Execution" attackid=51006 msg="applications3: Apache.Log4j.Error.Log.Remote.Code.Execution""#,
        Format::Auto,
    );
    assert_eq!(list(&e, "event.category"), ["network", "intrusion_detection"]);
    assert_eq!(list(&e, "event.type"), ["denied"]);
    assert_eq!(
        s(&e, "fortinet.firewall.attack"),
        Some("Apache.Log4j.Error.Log.Remote.Code.Execution")
    );
}

#[test]
fn fortigate_cef_is_read_as_fortios() {
    let line = "<189>Nov 26 15:00:05 fw-border CEF:0|Fortinet|Fortigate|v7.2.5|44547|event:system Object attribute configured|3|deviceExternalId=FG201FTK22901234 FTNTFGTlogid=0100044547 cat=event:system FTNTFGTsubtype=system FTNTFGTlevel=information FTNTFGTvd=root FTNTFGTeventtime=1795680005000000000 FTNTFGTtz=+0700 FTNTFGTlogdesc=Object attribute configured duser=admin FTNTFGTui=GUI(10.10.3.5) act=Add FTNTFGTcfgtid=1310725 FTNTFGTcfgpath=vpn.ssl.web.portal FTNTFGTcfgobj=full-access2 msg=Add vpn.ssl.web.portal full-access2";
    let (e, o) = run(line, Format::Auto);
    assert_eq!(
        o.parsers().collect::<Vec<_>>(),
        vec![Parser::Rfc3164, Parser::Cef, Parser::Fortigate]
    );
    assert_eq!(s(&e, "event.module"), Some("fortinet"));
    assert_eq!(s(&e, "fortinet.firewall.type"), Some("event"));
    assert_eq!(s(&e, "fortinet.firewall.subtype"), Some("system"));
    assert_eq!(s(&e, "fortinet.firewall.action"), Some("Add"));
    assert_eq!(s(&e, "fortinet.firewall.cfgpath"), Some("vpn.ssl.web.portal"));
    assert_eq!(s(&e, "fortinet.firewall.logdesc"), Some("Object attribute configured"));
    assert_eq!(s(&e, "fortinet.firewall.user"), Some("admin"));
    assert_eq!(s(&e, "fortinet.firewall.devid"), Some("FG201FTK22901234"));
    assert_eq!(s(&e, "cef.extensions.FTNTFGTcfgpath"), Some("vpn.ssl.web.portal"));
    assert_eq!(s(&e, "observer.version"), Some("v7.2.5"));
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:00:05+00:00");
    // CEF traffic: `proto` is a number; `cat` gives type and subtype.
    let (e, _) = run(
        "CEF:0|Fortinet|Fortigate|v7.2.5|0000000013|traffic:forward deny|3|deviceExternalId=FG1 cat=traffic:forward src=198.51.100.66 spt=1 dst=10.10.1.11 dpt=22 proto=6 act=deny app=SSH",
        Format::Auto,
    );
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    // FortiOS's `app` is the application, not the protocol.
    assert_eq!((s(&e, "network.application"), e.get("network.protocol")), (Some("ssh"), None));
    assert_eq!(
        (s(&e, "fortinet.firewall.type"), s(&e, "fortinet.firewall.logid")),
        (Some("traffic"), Some("0000000013"))
    );
    assert_eq!(list(&e, "event.type"), ["connection", "denied"]);
    // Another vendor's CEF is not FortiGate.
    let (e, o) = run("CEF:0|Fortinet|FortiWeb|7.2|1|x|5|src=10.0.0.1 act=Add", Format::Auto);
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Cef]);
    assert_eq!(s(&e, "event.module"), Some("cef"));
}

#[test]
fn fortigate_malformed_lines_keep_good_fields_and_say_why() {
    let line = r#"<189>date=2026-11-26 time=15:00:01 devname="fw-border" logid="0100044547" type="event" msg="unterminated user=admin action=Add cfgpath=system.admin"#;
    let (e, o) = run(line, Format::Auto);
    assert!(o.is_failure());
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    let at = line.find("msg=").unwrap() + 4 - "<189>".len();
    assert_eq!(
        s(&e, "error.message").map(str::to_owned),
        Some(format!("fortigate: unterminated quoted value of `msg` at byte {at}"))
    );
    assert_eq!(o.error.as_ref().map(|e| e.format), Some("fortigate"));
    // The pairs around the bad one are kept, and the line stays the message.
    assert_eq!(s(&e, "fortinet.firewall.msg"), Some("unterminated"));
    assert_eq!(s(&e, "fortinet.firewall.cfgpath"), Some("system.admin"));
    assert_eq!(s(&e, "fortinet.firewall.user"), Some("admin"));
    assert_eq!(s(&e, "message"), line.strip_prefix("<189>"));
    assert_eq!(e.original, line);
    // An unescaped quote inside a value is kept when a later quote closes it before ` key=`.
    let (e, o) = run(r#"logid=1 type=event msg="say "hi" please" action="Add""#, Format::Auto);
    assert!(!o.is_failure());
    assert_eq!(s(&e, "fortinet.firewall.msg"), Some(r#"say "hi" please"#));
    // Junk tokens.
    let (e, o) =
        run("<189>logid=0100044547 type=event ??? action=Edit cfgpath=user.group", Format::Auto);
    assert!(o.is_failure());
    assert_eq!(s(&e, "error.message"), Some("fortigate: expecting `key=value` at byte 28"));
    assert_eq!(s(&e, "fortinet.firewall.cfgpath"), Some("user.group"));
    // A duplicate key keeps its first value: a later `type=` cannot turn an event into traffic.
    let (e, o) =
        run("logid=0100044547 type=event action=Add cfgpath=user.local type=traffic", Format::Auto);
    assert!(!o.is_failure());
    assert_eq!(s(&e, "fortinet.firewall.type"), Some("event"));
    // Lossily decoded bytes (U+FFFD) and bad numbers: no panic, no failure, no bogus ECS.
    let (e, o) = run(
        "<189>logid=0000000013 type=traffic srcip=10.0.0.\u{fffd} srcport=99999 dstport=-1 proto=300 eventtime=99999999999999999999 user=\"\u{fffd}\u{fffd}\"",
        Format::Auto,
    );
    assert!(!o.is_failure());
    assert_eq!(
        (e.get("source.ip"), e.get("source.port"), e.get("destination.port")),
        (None, None, None)
    );
    assert_eq!(s(&e, "network.transport"), Some("300"));
    assert_eq!(s(&e, "user.name"), Some("\u{fffd}\u{fffd}"));
    assert_eq!(e.timestamp, ctx().received);
}

#[test]
fn huawei_vrp_messages() {
    let (e, o) = run(
        "<187>Nov 26 2026 15:10:01+07:00 pe-hue-01 %%01BGP/3/BGP_AUTH_FAILED(l)[112]:BGP session authentication failed. (PeerAddress=203.0.113.1:179, VpnInstance=_public_, ErrorCode=MD5 digest mismatch)",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Huawei]);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:10:01+00:00");
    assert_eq!(s(&e, "host.name"), Some("pe-hue-01"));
    assert_eq!(
        (s(&e, "event.module"), s(&e, "event.dataset")),
        (Some("huawei"), Some("huawei.vrp"))
    );
    assert_eq!(s(&e, "event.code"), Some("BGP/3/BGP_AUTH_FAILED"));
    assert_eq!(
        (s(&e, "huawei.vrp.module"), s(&e, "huawei.vrp.brief")),
        (Some("BGP"), Some("BGP_AUTH_FAILED"))
    );
    assert_eq!(
        (int(&e, "huawei.vrp.sequence"), s(&e, "huawei.vrp.log_type")),
        (Some(112), Some("l"))
    );
    assert_eq!((s(&e, "log.level"), int(&e, "event.severity")), (Some("err"), Some(3)));
    assert_eq!(s(&e, "huawei.vrp.params.PeerAddress"), Some("203.0.113.1:179"));
    assert_eq!(s(&e, "huawei.vrp.params.ErrorCode"), Some("MD5 digest mismatch"));
    assert_eq!(s(&e, "network.protocol"), Some("bgp"));
    // The syslog message keeps the header (keyword rules read it).
    assert!(s(&e, "message").unwrap().starts_with("%%01BGP/3/BGP_AUTH_FAILED(l)[112]:BGP session"));
    // A command record; without a host name; without a syslog header.
    let (e, o) = run(
        r#"<189>Nov 26 2026 15:10:03 %%01SHELL/5/CMDRECORD(s)[114]:Recorded command information. (Task=VT0, Ip=10.10.3.5, VpnName=, User=netadmin, AuthenticationMethod="Local-user", Command="display bgp peer")"#,
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Huawei]);
    assert_eq!(e.get("host.name"), None);
    assert_eq!(s(&e, "user.name"), Some("netadmin"));
    assert_eq!(ip(&e, "source.ip"), Some("10.10.3.5".parse().unwrap()));
    assert_eq!(s(&e, "huawei.vrp.params.Command"), Some("display bgp peer"));
    assert_eq!(e.get("network.protocol"), None);
    let (e, o) = run(
        "%%01IFNET/4/IF_STATE(l)[7]:Interface GigabitEthernet0/0/1 has turned into DOWN state.",
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Huawei]);
    assert_eq!(
        s(&e, "message"),
        Some("Interface GigabitEthernet0/0/1 has turned into DOWN state.")
    );
}

#[test]
fn junos_messages() {
    // The kernel's TCP-MD5 check, BSD and RFC 5424.
    for line in [
        "<28>Nov 26 15:11:01 mx-hue-01 /kernel: tcp_auth_ok: Packet from 203.0.113.9:179 missing MD5 digest",
        "<28>1 2026-11-26T15:11:01+07:00 mx-hue-01 kernel - - - tcp_auth_ok: Packet from 203.0.113.9:179 missing MD5 digest",
    ] {
        let (e, o) = run(line, Format::Auto);
        assert_eq!(o.innermost(), Some(Parser::Junos), "{line}");
        assert_eq!(
            (s(&e, "event.module"), s(&e, "event.dataset")),
            (Some("juniper"), Some("juniper.junos"))
        );
        assert_eq!(s(&e, "network.protocol"), Some("bgp"), "{line}");
        assert_eq!(s(&e, "observer.vendor"), Some("Juniper"));
    }
    // rpd with its tag.
    let (e, _) = run(
        "<28>Nov 26 15:11:03 mx-hue-01 rpd[1520]: BGP_IO_ERROR_CLOSE_SESSION: BGP peer 203.0.113.9 (External AS 64512): Error event Operation timed out(60) for I/O session - closing it",
        Format::Auto,
    );
    assert_eq!(
        (s(&e, "event.code"), s(&e, "juniper.junos.process")),
        (Some("BGP_IO_ERROR_CLOSE_SESSION"), Some("rpd"))
    );
    assert_eq!(s(&e, "network.protocol"), Some("bgp"));
    // mgd commits name the user.
    let (e, _) = run(
        "<29>Nov 26 15:11:04 mx-hue-01 mgd[8812]: UI_COMMIT: User 'netadmin' requested 'commit' operation (comment: none)",
        Format::Auto,
    );
    assert_eq!((s(&e, "event.code"), s(&e, "user.name")), (Some("UI_COMMIT"), Some("netadmin")));
    // SRX flows as structured data (RFC 5424), and the BSD text form.
    let (e, o) = run(
        r#"<14>1 2026-11-26T15:12:00.123+07:00 srx-hue-01 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="198.51.100.7" source-port="50123" destination-address="10.10.1.20" destination-port="445" connection-tag="0" service-name="junos-smb" protocol-id="6" icmp-type="0" policy-name="deny-all" source-zone-name="untrust" destination-zone-name="dmz" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="ge-0/0/0.0" encrypted="UNKNOWN" reason="policy deny"]"#,
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc5424, Parser::Junos]);
    assert_eq!(s(&e, "event.dataset"), Some("juniper.srx"));
    assert_eq!(ip(&e, "source.ip"), Some("198.51.100.7".parse().unwrap()));
    assert_eq!((int(&e, "source.port"), int(&e, "destination.port")), (Some(50123), Some(445)));
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!(
        (s(&e, "event.action"), s(&e, "event.outcome")),
        (Some("flow_deny"), Some("failure"))
    );
    assert_eq!(list(&e, "event.type"), ["connection", "denied"]);
    assert_eq!(s(&e, "rule.name"), Some("deny-all"));
    assert_eq!(s(&e, "observer.ingress.zone"), Some("untrust"));
    assert_eq!(s(&e, "juniper.srx.service_name"), Some("junos-smb"));
    assert_eq!(e.get("user.name"), None);
    let (e, o) = run(
        "<14>Nov 26 15:12:01 srx-hue-01 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 10.10.2.15/51234->8.8.8.8/53 0x0 junos-dns-udp 203.0.113.5/21345->8.8.8.8/53 0x0 source rule r1 N/A N/A 17 trust-to-untrust trust untrust 12345 N/A(N/A) ge-0/0/1.0",
        Format::Auto,
    );
    assert_eq!(o.innermost(), Some(Parser::Junos));
    assert_eq!(ip(&e, "destination.ip"), Some("8.8.8.8".parse().unwrap()));
    assert_eq!(
        (int(&e, "source.port"), s(&e, "event.action")),
        (Some(51234), Some("flow_started"))
    );
    // A relay's BSD header before a structured-data body.
    let (e, o) = run(
        r#"Sep 23 13:54:55 192.0.2.1 junos-flow: 2026-11-26T08:12:02.803Z srx-hue-02 RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.39 reason="TCP FIN" source-address="10.10.2.15" source-port="51000" destination-address="203.0.113.80" destination-port="443" protocol-id="6" policy-name="trust-to-untrust" elapsed-time="12" bytes-from-client="1200" bytes-from-server="5400" username="alice"]"#,
        Format::Auto,
    );
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Junos]);
    assert_eq!(e.timestamp.to_rfc3339(), "2026-11-26T08:12:02.803+00:00");
    assert_eq!(
        (s(&e, "observer.hostname"), s(&e, "host.name")),
        (Some("srx-hue-02"), Some("192.0.2.1"))
    );
    assert_eq!(
        (int(&e, "source.bytes"), int(&e, "event.duration")),
        (Some(1200), Some(12_000_000_000))
    );
    assert_eq!((s(&e, "user.name"), s(&e, "event.reason")), (Some("alice"), Some("TCP FIN")));
    // Linux's kernel and other programs are not Junos.
    let (e, _) =
        run("<4>Nov 26 15:13:00 web01 kernel: tcp: some message 1.2.3.4:179", Format::Auto);
    assert_ne!(s(&e, "event.module"), Some("juniper"));
    let (e, _) = run("<30>Nov 26 15:13:00 web01 myapp[1]: BGP_FAKE: x", Format::Auto);
    assert_ne!(s(&e, "event.module"), Some("juniper"));
}
