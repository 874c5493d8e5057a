//! Zeek JSON normalization: each shape, each log's ECS fields, field-name normalization.

use sen_core::event::{Event, TAG_PARSE_FAILURE, Value};

use crate::tests::{ctx, int, ip, list, s};
use crate::{Outcome, Parser, normalize_json};

fn run(json: &str) -> (Event, Outcome) {
    let serde_json::Value::Object(obj) = serde_json::from_str(json).unwrap() else { panic!() };
    let mut e = Event::new("id".into(), ctx().received, json);
    let o = normalize_json(&mut e, obj, &ctx());
    (e, o)
}

#[test]
fn mordor_stream_conn_with_underscored_ids() {
    let line = r#"{"@stream":"conn","@system":"bobs.bigwheel.local","@proc":"zeek","ts":1588205199.82437,"uid":"Cvf4XX17hSAgXDdGEd","id_orig_h":"10.0.1.6","id_orig_p":54243,"id_resp_h":"10.0.0.4","id_resp_p":53,"proto":"udp","service":"dns","duration":0.001528024673461914,"orig_bytes":39,"resp_bytes":55,"conn_state":"SF","missed_bytes":0,"history":"Dd","orig_pkts":1,"orig_ip_bytes":67,"resp_pkts":1,"resp_ip_bytes":83,"orig_l2_addr":"00:0d:3a:13:e3:69","resp_l2_addr":"12:34:56:78:9a:bc"}"#;
    let (e, o) = run(line);
    assert!(!o.is_failure(), "{o}");
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Json, Parser::Zeek]);
    assert_eq!(s(&e, "event.module"), Some("zeek"));
    assert_eq!(s(&e, "event.dataset"), Some("zeek.conn"));
    assert_eq!(s(&e, "event.kind"), Some("event"));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:06:39.824370+00:00");
    assert_eq!(ip(&e, "source.ip"), Some("10.0.1.6".parse().unwrap()));
    assert_eq!(int(&e, "source.port"), Some(54243));
    assert_eq!(ip(&e, "destination.ip"), Some("10.0.0.4".parse().unwrap()));
    assert_eq!(int(&e, "destination.port"), Some(53));
    assert_eq!(list(&e, "related.ip"), vec!["10.0.1.6", "10.0.0.4"]);
    assert_eq!(s(&e, "network.transport"), Some("udp"));
    assert_eq!(s(&e, "network.protocol"), Some("dns"));
    assert_eq!(int(&e, "source.bytes"), Some(67));
    assert_eq!(int(&e, "destination.packets"), Some(1));
    assert_eq!(int(&e, "network.bytes"), Some(150));
    assert_eq!(int(&e, "event.duration"), Some(1_528_025));
    assert_eq!(s(&e, "source.mac"), Some("00-0D-3A-13-E3-69"));
    assert_eq!(list(&e, "event.category"), vec!["network"]);
    assert_eq!(list(&e, "event.type"), vec!["connection", "start", "end"]);
    assert_eq!(s(&e, "observer.hostname"), Some("bobs.bigwheel.local"));
    assert_eq!(s(&e, "observer.product"), Some("zeek"));
    assert_eq!(s(&e, "zeek.session_id"), Some("Cvf4XX17hSAgXDdGEd"));
    // Every Zeek field under zeek.<log>, with Zeek's dotted names.
    assert_eq!(s(&e, "zeek.conn.id.orig_h"), Some("10.0.1.6"));
    assert_eq!(int(&e, "zeek.conn.id.resp_p"), Some(53));
    assert_eq!(int(&e, "zeek.conn.orig_bytes"), Some(39));
    assert_eq!(s(&e, "zeek.conn.history"), Some("Dd"));
    assert!(e.get("zeek.conn.id_orig_h").is_none());
    assert!(e.get("zeek.conn.@stream").is_none());
    // The original text is untouched.
    assert_eq!(e.original, line);
}

#[test]
fn zeek_writer_dns_is_inferred_from_its_fields() {
    let (e, o) = run(
        r#"{"ts":1588205199.82437,"uid":"Cvf4","id.orig_h":"10.0.1.6","id.orig_p":54243,"id.resp_h":"10.0.0.4","id.resp_p":53,"proto":"udp","trans_id":41180,"rtt":0.0015,"query":"www.bing.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["a-0001.a-afdentry.net.trafficmanager.net","204.79.197.200"],"TTLs":[60.0,20.0],"rejected":false}"#,
    );
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.dns"));
    assert_eq!(s(&e, "dns.question.name"), Some("www.bing.com"));
    assert_eq!(s(&e, "dns.question.type"), Some("A"));
    assert_eq!(s(&e, "dns.question.class"), Some("IN"));
    assert_eq!(s(&e, "dns.response_code"), Some("NOERROR"));
    assert_eq!(s(&e, "dns.id"), Some("41180"));
    assert_eq!(s(&e, "dns.type"), Some("answer"));
    assert_eq!(list(&e, "dns.header_flags"), vec!["RD", "RA"]);
    assert_eq!(list(&e, "dns.resolved_ip"), vec!["204.79.197.200"]);
    assert_eq!(
        e.fields.get("dns.answers"),
        Some(&Value::json(serde_json::json!([
            {"data": "a-0001.a-afdentry.net.trafficmanager.net", "ttl": 60},
            {"data": "204.79.197.200", "ttl": 20}
        ])))
    );
    assert_eq!(list(&e, "event.type"), vec!["connection", "protocol", "info"]);
    assert_eq!(s(&e, "network.protocol"), Some("dns"));
    assert_eq!(s(&e, "zeek.dns.query"), Some("www.bing.com"));
    assert_eq!(int(&e, "zeek.dns.Z"), Some(0));
    assert_eq!(e.fields.get("zeek.dns.rejected"), Some(&Value::Bool(false)));
    assert_eq!(list(&e, "zeek.dns.answers").len(), 2);
}

#[test]
fn path_http_with_iso_time() {
    let (e, o) = run(
        r#"{"_path":"http","_write_ts":"2020-04-30T00:32:21.500000Z","ts":"2020-04-30T00:32:21.422844Z","uid":"CIu","id.orig_h":"10.0.1.4","id.orig_p":60759,"id.resp_h":"192.168.0.4","id.resp_p":80,"trans_depth":1,"method":"GET","host":"192.168.0.4:8080","uri":"/webdav/python.exe?x=1","version":"1.1","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362","request_body_len":0,"response_body_len":381,"status_code":401,"status_msg":"Unauthorized","tags":[],"resp_mime_types":["application/x-dosexec"],"username":"bob"}"#,
    );
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.http"));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:32:21.422844+00:00");
    assert_eq!(s(&e, "http.request.method"), Some("GET"));
    assert_eq!(s(&e, "url.original"), Some("/webdav/python.exe?x=1"));
    assert_eq!(s(&e, "url.path"), Some("/webdav/python.exe"));
    assert_eq!(s(&e, "url.query"), Some("x=1"));
    assert_eq!(s(&e, "url.domain"), Some("192.168.0.4"));
    assert_eq!(s(&e, "user_agent.original"), Some("Microsoft-WebDAV-MiniRedir/10.0.18362"));
    assert_eq!(int(&e, "http.response.status_code"), Some(401));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "http.response.mime_type"), Some("application/x-dosexec"));
    assert_eq!(int(&e, "http.response.body.bytes"), Some(381));
    assert_eq!(s(&e, "user.name"), Some("bob"));
    assert_eq!(list(&e, "event.category"), vec!["network", "web"]);
    assert_eq!(s(&e, "network.transport"), Some("tcp"));
    assert_eq!(s(&e, "zeek.http.uri"), Some("/webdav/python.exe?x=1"));
    assert_eq!(s(&e, "zeek.http._write_ts"), Some("2020-04-30T00:32:21.500000Z"));
    assert!(e.get("zeek.http._path").is_none());
}

#[test]
fn x509_underscores_become_zeek_records() {
    let (e, o) = run(
        r#"{"@stream":"x509","ts":1588207244.736422,"id":"F1v6","certificate_version":3,"certificate_serial":"8BB00EE","certificate_subject":"emailAddress=a@b.net,CN=rempel.group.net,OU=synth,O=Rempel\\, Group,ST=SC,C=US","certificate_issuer":"CN=Major Cobalt Strike,O=cobaltstrike","certificate_not_valid_before":1470462331.0,"certificate_not_valid_after":1722750331.0,"certificate_key_alg":"rsaEncryption","certificate_sig_alg":"sha256WithRSAEncryption","certificate_key_length":2048,"certificate_exponent":"65537","san_dns":["a.example","b.example"],"basic_constraints_ca":true}"#,
    );
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.x509"));
    assert_eq!(s(&e, "zeek.x509.certificate.serial"), Some("8BB00EE"));
    assert_eq!(e.fields.get("zeek.x509.basic_constraints.ca"), Some(&Value::Bool(true)));
    assert_eq!(list(&e, "zeek.x509.san.dns"), vec!["a.example", "b.example"]);
    assert_eq!(s(&e, "zeek.x509.id"), Some("F1v6"));
    assert_eq!(s(&e, "file.x509.serial_number"), Some("8BB00EE"));
    assert_eq!(s(&e, "file.x509.version_number"), Some("3"));
    assert_eq!(list(&e, "file.x509.subject.common_name"), vec!["rempel.group.net"]);
    assert_eq!(list(&e, "file.x509.subject.organization"), vec!["Rempel, Group"]);
    assert_eq!(list(&e, "file.x509.issuer.common_name"), vec!["Major Cobalt Strike"]);
    assert_eq!(int(&e, "file.x509.public_key_size"), Some(2048));
    assert_eq!(int(&e, "file.x509.public_key_exponent"), Some(65537));
    assert_eq!(
        e.get("file.x509.not_after").map(|f| f.to_text()),
        Some("2024-08-04T05:45:31Z".to_owned())
    );
    assert_eq!(list(&e, "file.x509.alternative_names"), vec!["a.example", "b.example"]);
    // Without `@stream` the log is inferred from the certificate fields.
    let (e, _) = run(
        r#"{"ts":1588207244.736422,"id":"F1v6","certificate.version":3,"certificate.serial":"8BB00EE"}"#,
    );
    assert_eq!(s(&e, "event.dataset"), Some("zeek.x509"));
}

#[test]
fn smb_files_and_nested_ids() {
    let (e, o) = run(
        r#"{"ts":1588206049.298765,"uid":"CF37","id":{"orig_h":"10.0.1.6","orig_p":56957,"resp_h":"10.0.0.4","resp_p":445},"action":"SMB::FILE_OPEN","path":"\\\\NEWYORK\\IPC$","name":"spoolss","size":0,"times":{"modified":1588187906.664602}}"#,
    );
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.smb_files"));
    assert_eq!(s(&e, "zeek.smb_files.path"), Some("\\\\NEWYORK\\IPC$"));
    assert_eq!(s(&e, "zeek.smb_files.id.resp_h"), Some("10.0.0.4"));
    assert_eq!(s(&e, "file.path"), Some("\\\\NEWYORK\\IPC$\\spoolss"));
    assert_eq!(s(&e, "file.name"), Some("spoolss"));
    assert_eq!(s(&e, "event.action"), Some("SMB::FILE_OPEN"));
    assert_eq!(list(&e, "event.type"), vec!["connection", "protocol", "info"]);
    assert_eq!(list(&e, "event.category"), vec!["network", "file"]);
    assert_eq!(
        e.get("file.mtime").map(|f| f.to_text()),
        Some("2020-04-29T19:18:26.664602Z".to_owned())
    );
    assert_eq!(s(&e, "network.protocol"), Some("smb"));
}

#[test]
fn envelope_with_the_zeek_line_in_message() {
    let inner = r#"{"ts":1588205198.908336,"uid":"CbD9","id.orig_h":"10.0.1.4","id.orig_p":60595,"id.resp_h":"10.0.0.4","id.resp_p":88,"request_type":"TGS","client":"bob/DMEVALS.LOCAL","service":"cifs/newyork","success":false,"cipher":"rc4-hmac"}"#;
    let env = serde_json::json!({
        "@timestamp": "2026-11-26T11:00:00Z",
        "message": inner,
        "log": {"file": {"path": "/opt/zeek/logs/current/kerberos.log"}},
        "host": {"name": "sensor-1"},
        "source": {"ip": "192.0.2.1"},
    });
    let (e, o) = run(&env.to_string());
    assert!(!o.is_failure(), "{o}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.kerberos"));
    assert_eq!(e.original, inner);
    assert_eq!(s(&e, "host.name"), Some("sensor-1"));
    assert_eq!(s(&e, "log.file.path"), Some("/opt/zeek/logs/current/kerberos.log"));
    // The Zeek record wins over the envelope; the envelope's read time is `event.created`.
    assert_eq!(ip(&e, "source.ip"), Some("10.0.1.4".parse().unwrap()));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:06:38.908336+00:00");
    assert_eq!(
        e.get("event.created").map(|f| f.to_text()),
        Some("2026-11-26T11:00:00Z".to_owned())
    );
    assert!(e.get("message").is_none());
    assert_eq!(s(&e, "event.action"), Some("TGS"));
    assert_eq!(s(&e, "event.outcome"), Some("failure"));
    assert_eq!(s(&e, "user.name"), Some("bob"));
    assert_eq!(s(&e, "user.domain"), Some("DMEVALS.LOCAL"));
    assert_eq!(s(&e, "zeek.kerberos.cipher"), Some("rc4-hmac"));
    // The file name names the log even when the fields alone would not.
    let env = serde_json::json!({
        "message": r#"{"ts":1588205198.9,"uid":"C1","id.orig_h":"10.0.1.4","id.orig_p":1,"id.resp_h":"10.0.0.4","id.resp_p":88}"#,
        "log.file.path": "kerberos.log",
    });
    let (e, _) = run(&env.to_string());
    assert_eq!(s(&e, "event.dataset"), Some("zeek.kerberos"));
}

#[test]
fn converted_tsv_keeps_its_line_as_original() {
    let (e, o) = run(
        r#"{"_path":"conn","ts":1588205199.82437,"uid":"C1","id.orig_h":"10.0.1.6","id.orig_p":1,"id.resp_h":"10.0.0.4","id.resp_p":2,"proto":"tcp","event.original":"1588205199.824370\tC1\t10.0.1.6\t1\t10.0.0.4\t2\ttcp"}"#,
    );
    assert!(!o.is_failure(), "{o}");
    assert_eq!(e.original, "1588205199.824370\tC1\t10.0.1.6\t1\t10.0.0.4\t2\ttcp");
    assert!(e.get("zeek.conn.event.original").is_none());
}

#[test]
fn bad_or_missing_ts_keeps_the_record_and_says_why() {
    let (e, o) = run(r#"{"_path":"conn","ts":"yesterday","uid":"C1","id.orig_h":"10.0.1.6"}"#);
    assert!(o.is_failure());
    assert!(e.has_tag(TAG_PARSE_FAILURE));
    assert!(s(&e, "error.message").unwrap().contains("`ts` is not a time"), "{e}");
    assert_eq!(s(&e, "event.dataset"), Some("zeek.conn"));
    assert_eq!(s(&e, "zeek.conn.uid"), Some("C1"));
    assert_eq!(ip(&e, "source.ip"), Some("10.0.1.6".parse().unwrap()));
    assert_eq!(e.timestamp, ctx().received);
    let (e, o) = run(r#"{"_path":"conn","uid":"C1"}"#);
    assert!(o.is_failure());
    assert!(s(&e, "error.message").unwrap().contains("no `ts`"), "{e}");
}

#[test]
fn epoch_millis_and_text_times() {
    let (e, _) =
        run(r#"{"_path":"weird","ts":1588205198908,"name":"x","notice":false,"peer":"z"}"#);
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:06:38.908+00:00");
    let (e, _) = run(r#"{"_path":"weird","ts":"1588205198.908336","name":"x"}"#);
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:06:38.908336+00:00");
    assert_eq!(s(&e, "event.action"), Some("x"));
}

#[test]
fn not_zeek_objects_stay_generic() {
    for json in [
        r#"{"ts":1,"uid":"u1","message":"hello"}"#,
        r#"{"@timestamp":"2026-11-26T10:00:00Z","source.ip":"10.0.0.1","name":"x"}"#,
        r#"{"message":"{\"a\":1}"}"#,
        r#"{"message":"{not json}"}"#,
    ] {
        let (e, o) = run(json);
        assert!(!o.matched(Parser::Zeek), "{json}");
        assert!(e.get("event.module").is_none(), "{json}");
    }
}

#[test]
fn icmp_types_are_not_ports_and_notice_is_an_alert() {
    let (e, _) = run(
        r#"{"_path":"conn","ts":1.5e9,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":8,"id.resp_h":"10.0.0.2","id.resp_p":0,"proto":"icmp","conn_state":"OTH"}"#,
    );
    assert!(e.get("source.port").is_none());
    assert_eq!(list(&e, "event.type"), vec!["connection", "info"]);
    let (e, _) = run(
        r#"{"ts":1588207244.740518,"uid":"Cp","fuid":"F1","proto":"tcp","note":"SSL::Invalid_Server_Cert","msg":"SSL certificate validation failed","src":"10.0.1.6","dst":"192.168.0.4","p":8443,"actions":["Notice::ACTION_LOG"]}"#,
    );
    assert_eq!(s(&e, "event.dataset"), Some("zeek.notice"));
    assert_eq!(s(&e, "event.kind"), Some("alert"));
    assert_eq!(s(&e, "rule.name"), Some("SSL::Invalid_Server_Cert"));
    assert_eq!(s(&e, "message"), Some("SSL certificate validation failed"));
    assert_eq!(ip(&e, "destination.ip"), Some("192.168.0.4".parse().unwrap()));
    assert_eq!(int(&e, "destination.port"), Some(8443));
}

#[test]
fn ssl_and_files() {
    let (e, _) = run(
        r#"{"ts":1588207244.7,"uid":"Cp","id.orig_h":"10.0.1.6","id.orig_p":57091,"id.resp_h":"192.168.0.4","id.resp_p":8443,"version":"TLSv12","cipher":"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384","server_name":"evil.example","resumed":false,"established":true,"resp_certificate_sha1":"d9105746ea","ja3":"e0fe"}"#,
    );
    assert_eq!(s(&e, "event.dataset"), Some("zeek.ssl"));
    assert_eq!(s(&e, "tls.version"), Some("1.2"));
    assert_eq!(s(&e, "tls.version_protocol"), Some("tls"));
    assert_eq!(s(&e, "tls.client.server_name"), Some("evil.example"));
    assert_eq!(s(&e, "destination.domain"), Some("evil.example"));
    assert_eq!(s(&e, "tls.server.hash.sha1"), Some("D9105746EA"));
    assert_eq!(s(&e, "tls.client.ja3"), Some("e0fe"));
    assert_eq!(e.fields.get("tls.established"), Some(&Value::Bool(true)));
    let (e, _) = run(
        r#"{"ts":1588206049.3,"fuid":"FZ7","tx_hosts":["10.0.0.4"],"rx_hosts":["10.0.1.6"],"conn_uids":["CF37"],"source":"SMB","mime_type":"text/ini","filename":"gpt.ini","seen_bytes":22,"total_bytes":22,"md5":"cc85","sha1":"1a1a"}"#,
    );
    assert_eq!(s(&e, "event.dataset"), Some("zeek.files"));
    assert_eq!(s(&e, "file.name"), Some("gpt.ini"));
    assert_eq!(int(&e, "file.size"), Some(22));
    assert_eq!(s(&e, "file.hash.md5"), Some("cc85"));
    assert_eq!(list(&e, "related.hash"), vec!["cc85", "1a1a"]);
    assert_eq!(ip(&e, "server.ip"), Some("10.0.0.4".parse().unwrap()));
    assert_eq!(ip(&e, "client.ip"), Some("10.0.1.6".parse().unwrap()));
    assert_eq!(s(&e, "zeek.session_id"), Some("CF37"));
    // `seen_bytes` is a files field, not a `seen` record.
    assert_eq!(int(&e, "zeek.files.seen_bytes"), Some(22));
    assert_eq!(list(&e, "event.category"), vec!["file"]);
}

#[test]
fn log_inference_table() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["conn_state", "uid"], Some("conn")),
        (&["qtype_name", "query"], Some("dns")),
        (&["trans_depth", "method", "uri"], Some("http")),
        (&["trans_depth", "helo", "mailfrom"], Some("smtp")),
        (&["trans_depth", "method", "uri", "call_id"], Some("sip")),
        (&["established", "server_name"], Some("ssl")),
        (&["request_type", "client", "service", "cipher"], Some("kerberos")),
        (&["endpoint", "operation", "named_pipe"], Some("dce_rpc")),
        (&["path", "share_type"], Some("smb_mapping")),
        (&["action", "path", "name", "size"], Some("smb_files")),
        (&["note", "msg", "fuid"], Some("notice")),
        (&["fuid", "tx_hosts", "mime_type"], Some("files")),
        (&["certificate.serial"], Some("x509")),
        (&["machine", "is_exe"], Some("pe")),
        (&["name", "peer", "notice"], Some("weird")),
        (&["analyzer", "failure_reason"], Some("dpd")),
        (&["auth_success", "client", "server"], Some("ssh")),
        (&["command", "reply_code", "user"], Some("ftp")),
        (&["cookie", "result", "security_protocol"], Some("rdp")),
        (&["username", "domainname", "hostname"], Some("ntlm")),
        (&["uid", "id.orig_h"], None),
    ];
    for (keys, want) in cases {
        let got = super::infer_log(&|k| keys.contains(&k));
        assert_eq!(got, *want, "{keys:?}");
    }
}

#[test]
fn unknown_log_when_the_fields_do_not_tell() {
    let (e, o) = run(
        r#"{"ts":1588205198.9,"uid":"C1","id.orig_h":"10.0.1.4","id.orig_p":1,"id.resp_h":"10.0.0.4","id.resp_p":445}"#,
    );
    assert!(!o.is_failure());
    assert_eq!(s(&e, "event.dataset"), Some("zeek.unknown"));
    assert_eq!(s(&e, "zeek.unknown.uid"), Some("C1"));
    assert_eq!(list(&e, "event.category"), vec!["network"]);
}

#[test]
fn helpers() {
    assert_eq!(super::host_without_port("a.example:8080"), "a.example");
    assert_eq!(super::host_without_port("[2001:db8::1]:80"), "2001:db8::1");
    assert_eq!(super::host_without_port("2001:db8::1"), "2001:db8::1");
    assert_eq!(
        super::log_from_path("/var/log/zeek/conn.00:00:00-01:00:00.log.gz").as_deref(),
        Some("conn")
    );
    assert_eq!(super::log_from_path("dns.log").as_deref(), Some("dns"));
    assert_eq!(super::log_from_path("x509.2020-04-30-00-00-00.log").as_deref(), Some("x509"));
    assert_eq!(super::log_from_path("NASHUA_conn.log"), None);
    assert_eq!(super::dotted(Some("files"), "seen_bytes"), None);
    assert_eq!(super::dotted(Some("intel"), "seen_indicator").as_deref(), Some("seen.indicator"));
    assert_eq!(super::dotted(None, "id_orig_h").as_deref(), Some("id.orig_h"));
    assert_eq!(super::dotted(None, "id"), None);
}

#[test]
fn zeek_json_inside_syslog() {
    let line = r#"<134>Nov 26 10:00:00 sensor1 zeek: {"_path":"dns","ts":1588205199.82437,"uid":"C1","id.orig_h":"10.0.1.6","id.orig_p":54243,"id.resp_h":"10.0.0.4","id.resp_p":53,"proto":"udp","query":"abc.onion","qtype_name":"A"}"#;
    let mut e = Event::new("id".into(), ctx().received, line);
    let o = crate::normalize_line(&mut e, crate::Format::Auto, &ctx());
    assert!(!o.is_failure(), "{o}");
    assert_eq!(o.parsers().collect::<Vec<_>>(), vec![Parser::Rfc3164, Parser::Zeek]);
    assert_eq!(s(&e, "host.name"), Some("sensor1"));
    assert_eq!(s(&e, "event.dataset"), Some("zeek.dns"));
    assert_eq!(s(&e, "dns.question.name"), Some("abc.onion"));
    assert_eq!(e.timestamp.to_rfc3339(), "2020-04-30T00:06:39.824370+00:00");
    assert!(s(&e, "message").unwrap().starts_with("{\"_path\":\"dns\""));
    assert_eq!(e.original, line);
    // Other JSON in a syslog message is left alone.
    let mut e = Event::new("id".into(), ctx().received, "<134>Nov 26 10:00:00 h app: {\"a\":1}");
    let o = crate::normalize_line(&mut e, crate::Format::Auto, &ctx());
    assert!(!o.matched(Parser::Zeek));
}
