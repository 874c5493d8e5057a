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
