#![warn(missing_docs)]
//! `sen-parse`: log parsers and ECS normalization. Pure code: no I/O, no global state.
//!
//! Entry points:
//! * [`normalize_line`]: one raw line (syslog RFC 3164/5424, CEF, LEEF, JSON, Apache/nginx access
//!   and error logs, Linux audit records, FortiGate `key=value` logs, Huawei VRP and Cisco
//!   messages without a syslog header) into an [`Event`] with ECS fields;
//! * [`normalize_json`]: one JSON object from the HTTP ingest API (already-normalized ECS, a raw
//!   line in `message` / `event.original` plus explicit fields, a Windows event log record, or
//!   a Zeek log record).
//!
//! Both never panic and never drop input: a line nothing understands keeps its text as `message`
//! and gets the tag [`TAG_PARSE_FAILURE`] and an `error.message`.
//!
//! The per-format modules ([`syslog`], [`cef`], [`leef`], [`access`], [`errorlog`], [`auditd`],
//! [`fortigate`]) are public for tools and tests that want the raw parse results.
//!
//! Inside a syslog message, the body is parsed by program (sshd, sudo, su, systemd-logind,
//! dnsmasq, Junos daemons) and by content (Linux audit records, CEF, LEEF, FortiGate
//! `key=value`, Huawei VRP `%%01…`, Cisco `%…`, Junos tags and structured data, PAM, netfilter,
//! Zeek JSON, Apache error and access logs).
//!
//! # Field conventions
//!
//! * Every event: `event.kind` (`event` unless the input says otherwise).
//! * Syslog: `log.syslog.priority`, `log.syslog.facility.{code,name}`,
//!   `log.syslog.severity.{code,name}`, `log.level` (severity keyword), `log.syslog.version`,
//!   `log.syslog.appname` = `process.name`, `log.syslog.procid` (+ `process.pid` when numeric),
//!   `log.syslog.msgid`, `host.hostname` = `host.name`, structured data as
//!   `log.syslog.structured_data.<SD-ID>.<PARAM>`, `message` = the MSG part (BOM stripped).
//!   Payload parsers inside a syslog message never replace `message`, but their timestamp (CEF
//!   `rt`, access log time) wins over the header's.
//! * `event.module` / `event.dataset`: `sshd`, `sudo`, `su`, `pam`, `systemd-logind` /
//!   `system.auth`; `iptables` / `iptables.log`; `apache` / `apache.access`, `apache.error`;
//!   `nginx` / `nginx.error`; `cef` / `cef.log`; `leef` / `leef.log`; `cisco` / `cisco.asa`,
//!   `cisco.ios`; `auditd` / `auditd.log`; `fortinet` / `fortinet.firewall`; `huawei` /
//!   `huawei.vrp`; `juniper` / `juniper.junos`, `juniper.srx`.
//! * Authentication (Filebeat-compatible): `event.action` `ssh_login` with `event.outcome`
//!   `success`/`failure`, `system.auth.ssh.{event,method,signature}`; PAM
//!   `authentication_failure`, `session_opened`, `session_closed`; sudo `sudo_command`
//!   (`user.effective.name` = the target user, `system.auth.sudo.*`); su `su`.
//! * Addresses: `source.ip`/`destination.ip` are typed IPs and also go to `related.ip`; user
//!   names go to `related.user`; non-IP hosts go to `*.domain`.
//! * CEF: header in `cef.*` and `observer.{vendor,product,version}`, `event.code`,
//!   `event.severity`, `message` (= `msg` extension, else Name); every extension raw under
//!   `cef.extensions.<key>`, labelled custom fields under `cef.custom.<label>`.
//! * LEEF: header in `leef.*`, attributes raw under `leef.attributes.<key>`.
//!
//! * Microsoft Sentinel / Log Analytics `Syslog` rows (JSON with `SyslogMessage` and `Facility`
//!   or `Type: Syslog`) become the syslog record they were: `@timestamp` from `EventTime` (else
//!   `TimeGenerated`), `host.hostname` = `host.name` (`HostName`, else `Computer`), `host.ip`,
//!   `log.syslog.facility.name`, `log.syslog.severity.name`, `log.syslog.appname` =
//!   `process.name` (`ProcessName`), `process.pid`, `message`; the message is parsed like any
//!   syslog message. Collector columns (`TenantId`, `_ResourceId`, `MG` …) stay in
//!   `event.original` only.
//!
//! # Network devices
//!
//! **FortiGate** (module [`fortigate`], parser `fortigate`): FortiOS's `key=value` logs
//! (`date= time= devname= devid= logid= type= subtype= level= vd= …`, values quoted when they
//! hold spaces) after FortiOS's bare `<PRI>`, an RFC 5424 header, a relay's BSD header or no
//! header at all, and FortiGate's CEF (`CEF:0|Fortinet|Fortigate|…`, read as CEF and then as the
//! FortiOS log it is: `FTNTFGT<key>` extensions are FortiOS keys, `src`/`dst`/`spt`/`dpt`/`act`/
//! `duser`/`deviceExternalId` … go back to `srcip`/`dstip`/`srcport`/`dstport`/`action`/`user`/
//! `devid`, `cat` gives `type` and `subtype`).
//!
//! * **Every key under `fortinet.firewall.<key>`**, with FortiOS's name and its value as text
//!   (the first one when a key repeats): `fortinet.firewall.cfgpath`, `fortinet.firewall.action`,
//!   `fortinet.firewall.vd`. SigmaHQ's `product: fortigate` rules read these names.
//! * `event.module` `fortinet`, `event.dataset` `fortinet.firewall`, `observer.vendor`
//!   `Fortinet`, `observer.product` `FortiGate`, `observer.type` `firewall`, `observer.name` /
//!   `observer.hostname` (`devname`; also `host.name` when the syslog header named no host),
//!   `observer.serial_number` (`devid`), `event.code` (`logid`), `log.level` (`level`) and
//!   `event.severity` (its syslog code).
//! * `@timestamp`: `eventtime` (epoch seconds, milliseconds, microseconds or nanoseconds), else
//!   `date` + `time` in the `tz` offset, else in [`Context::timezone`]; it wins over a syslog
//!   header's time.
//! * ECS: `source.*`/`destination.*` (`srcip`/`remip`, `srcport`, `srcmac`, `dstip`, `dstport`,
//!   `dstmac`, `hostname` → `destination.domain`), NAT (`transip`/`transport` →
//!   `source.nat.*`, `tranip`/`tranport` → `destination.nat.*`), `network.transport` and
//!   `network.iana_number` (`proto` number), `network.application` (`app`), interfaces
//!   (`srcintf`/`dstintf` → `observer.ingress`/`egress.interface.name`), bytes and packets
//!   (`sentbyte`/`rcvdbyte`/`sentpkt`/`rcvdpkt` → `source.*`/`destination.*`),
//!   `event.duration` (`duration`, seconds → ns), `rule.id`/`rule.name`/`rule.uuid` (`policyid`,
//!   `policyname`, `poluuid`), `user.name` (`user`), `source.ip` from `ui` (`GUI(10.0.0.5)`)
//!   when no other address names the source, `event.action` (`action`, as written).
//! * Categories: `type=traffic` → `network`/`connection` + `denied` (deny, block, drop …;
//!   `event.outcome` `failure`) or `allowed` (+ `start`/`end`; `success`); `type=event` with a
//!   `cfgpath` (logids 0100044544-0100044547) → `configuration` + `creation`/`deletion`/`change`
//!   by `action`; logins, logouts and authentications → `authentication` with `event.outcome`
//!   from `status`; UTM logs (`type=utm`, or FortiOS 5's `ips`, `virus`, `webfilter` … types) →
//!   `network` (+ `intrusion_detection` for IPS and anomaly, `malware` for antivirus), `denied`
//!   when the session was stopped.
//! * What the tokenizer cannot read (a quoted value without its closing quote, text that is not
//!   `key=value`) tags the event `_parse_failure` with an `error.message` naming it and its byte
//!   offset; every pair around it is kept.
//!
//! **Huawei VRP** (parser `huawei`): information-center messages
//! `%%01BGP/3/STATE_CHG_UPDOWN(l)[24]:text (Name=value, …)` inside syslog (VRP's `Mmm dd yyyy
//! hh:mm:ss+hh:mm` timestamps included) or alone. `event.module` `huawei`, `event.dataset`
//! `huawei.vrp`, `observer.vendor` `Huawei`, `observer.os.name` `VRP`, `huawei.vrp.{version,
//! module, severity, brief, log_type, sequence}`, `event.code` `MODULE/severity/BRIEF`,
//! `log.level`/`event.severity`, the trailing parameters as `huawei.vrp.params.<Name>`
//! (`User` → `user.name`, `Ip` → `source.ip`), and `network.protocol` `bgp`/`ldp` for the BGP
//! and LDP modules and for TCP-MD5 messages naming port 179/646. The syslog `message` keeps the
//! `%%` header.
//!
//! **Juniper Junos** (parser `junos`): daemon messages with their tag (`rpd[1520]:
//! BGP_IO_ERROR_CLOSE_SESSION: …`, `mgd`, `RT_FLOW`, `chassisd` …), the kernel's TCP-MD5 messages
//! (`/kernel: tcp_auth_ok: Packet from 192.0.2.2:179 missing MD5 digest`), and structured-data
//! syslog (`[junos@2636.… key="value" …]`, as RFC 5424 or behind a relay's BSD header).
//! `event.module` `juniper`, `event.dataset` `juniper.srx` for SRX security messages (`RT_*`;
//! `observer.product` `SRX`, `observer.type` `firewall`) and `juniper.junos` for the rest,
//! `observer.vendor` `Juniper`, `juniper.<srx|junos>.{process, tag}`, `event.code` (the tag),
//! every structured-data parameter as `juniper.<srx|junos>.<name>` (`-` → `_`), ECS from them
//! (`source-address`, `destination-port`, `nat-*`, `protocol-id`, `policy-name` → `rule.name`,
//! zones, interfaces, bytes, `elapsed-time`, `username`, `reason`, `attack-name`, `action`),
//! RT_FLOW sessions as `network`/`connection` with `event.action` `flow_started`, `flow_close`
//! or `flow_deny` (the BSD text form's `a/p->b/q` read for the addresses), `user.name` of
//! `UI_*` commit and command messages, and `network.protocol` `bgp`/`ldp` for BGP/LDP tags and
//! kernel TCP-MD5 messages naming port 179/646.
//!
//! # Linux audit
//!
//! Module [`auditd`]: auditd's log lines (RAW and ENRICHED formats, with or without `node=`), the
//! same records inside syslog (audisp-syslog and other programs: the message starts with
//! `type=` or `node=`; the kernel's `audit: type=1400 audit(…)` lines, with the type numbers
//! named; journald's `audit[pid]: TYPE key=value …`) and Microsoft auoms records
//! (`type=AUOMS_EXECVE audit(…)`, usually inside a Sentinel `Syslog` row). The names follow
//! Auditbeat's auditd module.
//!
//! * **One event per record, plus one per kernel event.** auditd writes one kernel event as
//!   several records (SYSCALL, EXECVE, CWD, PATH…, PROCTITLE, EOE) sharing
//!   `msg=audit(time:serial)`; [`normalize_line`] makes each record its own event
//!   (`event.dataset` `auditd.log`), and `auditd.sequence` (the serial) finds the others.
//!   SigmaHQ's auditd rules are written per record (`type: EXECVE` with `a0`…, `type: SYSCALL`
//!   with `exe`, `type: PATH` with `name`), so they match as intended. A stateful
//!   [`auditd::join::Joiner`], run by the analyzer pipeline and the tools over each stream in
//!   order, adds one *joined* event per multi-record kernel event (below), which holds what
//!   rules that need fields of two records read (the SYSCALL's `exe` and the EXECVE's
//!   arguments: `Image` and `CommandLine`). auoms records hold the whole event already.
//! * `event.module` `auditd`, `event.dataset` `auditd.log`, `@timestamp` from `audit(epoch)`
//!   (it wins over a syslog header's time), `auditd.message_type` (the record type in lower
//!   case: `syscall`, `execve`, `user_login`, `auoms_execve`), `auditd.sequence` (integer),
//!   `host.name` from `node=`.
//! * `auditd.data.<key>`: every `key=value` of the record, with the key as written (`a0`,
//!   `exe`, `SYSCALL`, `path_name`), the value unquoted and, where the kernel hex-encodes it
//!   (`proctitle`, EXECVE arguments, `name`, `cwd`, `comm`, `exe`, `acct`, `cmd` …), decoded;
//!   `proctitle`'s NUL separators become spaces; split EXECVE arguments (`a1[0]`, `a1[1]`) are
//!   joined into `a1`; the `key=value` pairs inside `msg='…'` stand next to the others; auoms
//!   arrays (`path_name=["…"]`) are lists. A RAW x86_64 record also gets `auditd.data.SYSCALL`
//!   (the system call's name) and `auditd.data.ARCH` as the ENRICHED format writes them.
//! * ECS: `process.pid`, `process.parent.pid` (`ppid`), `process.executable` (`exe`),
//!   `process.name` (`comm`), `process.working_directory` (`cwd`), `process.args`,
//!   `process.args_count` and `process.command_line` (EXECVE; auoms `cmdline`),
//!   `process.title` (PROCTITLE), `user.id` (`uid`), `user.audit.id` (`auid`, unless unset),
//!   `user.effective.id` (`euid`), `user.group.id`, user names from the ENRICHED `UID`/`AUID`/
//!   `EUID` or auoms `user`/`audit_user`/`effective_user` (also `related.user`), `file.path`,
//!   `file.inode`, `file.uid`, `file.gid` (PATH), `source.ip`/`source.domain` (`addr`,
//!   `hostname`), `user.name` (`acct`; `user.target.name` for account management),
//!   `event.outcome` from `success=yes|no` or `res=success|failed`.
//! * Categories: a successful AUOMS_EXECVE is `process`/`start` (for the records of an
//!   `execve`, the joined event is); PATH records of a created or deleted file
//!   `file`/`creation` or `deletion`; USER_AUTH, USER_ACCT, CRED_*, LOGIN `authentication`;
//!   USER_LOGIN/USER_LOGOUT `authentication` + `session` start/end; USER_START/USER_END
//!   `session`; ADD_/DEL_USER and _GROUP, USER_MGMT, USER_CHAUTHTOK `iam`.
//! * A line that starts like a record (`type=`, `node=… type=`) but has no valid
//!   `audit(time:serial)` stamp is a parse failure saying why.
//! * **Joined events** (`event.dataset` `auditd.event`, module [`auditd::join`]): the records
//!   of one source (tenant, sender address without port, `host.name`), time stamp and serial,
//!   closed at their PROCTITLE record (the kernel's last before EOE) or EOE, or once the stream
//!   is 512 records past the last one, or when the caller flushes (end of a file, an idle
//!   source); user-space messages (logins, PAM, services: one record each) are not grouped, and
//!   one-record events make none, except the records of an `execve` (a lone EXECVE or SYSCALL
//!   in an excerpt). Fields: `auditd.sequence`, `auditd.message_type` (the SYSCALL record's,
//!   else the first's), `auditd.records` (the record types in order), `auditd.data.*` of the
//!   SYSCALL record, `auditd.paths` (each PATH record's fields), `auditd.records_dropped`
//!   (records past 64); `process.*` and `user.*` of the records, the SYSCALL's first
//!   (`process.executable`, `process.name`, `process.pid`, `process.parent.pid`; the parent's
//!   `process.parent.executable`, `command_line` and `name` when its start was joined before,
//!   `process.working_directory` from CWD, `process.title` from PROCTITLE, `process.args`,
//!   `process.args_count` and `process.command_line` from every EXECVE record together),
//!   `file.*` of the first PATH record that is not a `PARENT` directory, `event.outcome`,
//!   `event.category: process` / `event.type: start` for an `execve` that did not fail; the
//!   SYSCALL record's (else the first record's) other fields: context such as `host.*`,
//!   `log.*`, `input.type`, `event.ingested`, enrichment (not its `message`);
//!   `event.original` the records' lines; the id derived from the first record's id.
//!
//! # Windows event logs
//!
//! JSON objects (from [`normalize_json`], or JSON lines) in the shape of the `evtx` crate /
//! evtx_dump (`{"Event": {"System": …}}`), winlogbeat / Elastic Agent (`winlog.*`), or NXLog
//! `im_msvistalog`, the Mordor / Security-Datasets NDJSON and Microsoft Sentinel exports
//! (top-level `EventID` + `Channel`) get one layout, whatever the shipper (parser `windows`):
//!
//! * `@timestamp` = the event's system time: `System/TimeCreated/@SystemTime`; winlogbeat's
//!   `@timestamp`; Mordor's `TimeCreated`; Sentinel's `TimeGenerated`; NXLog's `EventTime`. A
//!   zone-less time is in [`Context::timezone`], except NXLog's `EventTime` next to
//!   `EventReceivedTime` and a Logstash `@timestamp`, which give away the collector's zone.
//! * `event.code` (the EventID as text), `event.provider`, `event.kind` `event`, `event.module`
//!   `windows` (`sysmon` for Microsoft-Windows-Sysmon), `event.dataset` (`windows.security`,
//!   `windows.system`, `windows.sysmon_operational`, …, else `windows.eventlog`), `host.name` =
//!   the computer name, `message` (the rendered message, when the input has one), `log.level`
//!   (`information`, `warning` …).
//! * winlogbeat's layout: `winlog.channel` (well-known channels in their canonical spelling),
//!   `winlog.event_id` (integer), `winlog.provider_name`, `winlog.provider_guid`,
//!   `winlog.computer_name`, `winlog.record_id`, `winlog.process.pid`,
//!   `winlog.process.thread.id`, `winlog.user.{identifier,name,domain,type}`, `winlog.version`,
//!   `winlog.activity_id`, `winlog.keywords` (names of the standard keyword bits, `Audit
//!   Success` …), `winlog.task` / `winlog.opcode` (names, when the input has them). Every
//!   EventData field under `winlog.event_data.<Name>` with its original name and its value as
//!   text (unnamed `Data` elements as `param1`, `param2` …), UserData fields under
//!   `winlog.user_data.<Name>` with the element name in `winlog.user_data.xml_name`.
//! * ECS, after Elastic's pipelines: Sysmon 1/5/25 `process.*` (with `parent.*`, `hash.*`,
//!   `pe.*`), 3 `source.*`/`destination.*`/`network.*`, 6/7 `file.*` and code signature, 8/10 the
//!   source process, 2/11/15/23/26/29 `file.*`, 12/13/14 `registry.*`, 17/18 the pipe in
//!   `file.name`, 22 `dns.*`, and `user.*` from `User`; Security 4624/4625/4634/4647/4648
//!   (`authentication`; `user.*` = the target account, `source.*`, `winlog.logon.*`), 4672,
//!   4688/4689 `process.*`, user and group management (`iam`; the actor in `user.*`, the account
//!   in `user.target.*`, the group in `group.*`), Kerberos/NTLM 4768/4769/4771/4776, shares
//!   5140/5145, WFP 5156-5159, services and scheduled tasks 4697-4702, log cleared 1102; System
//!   7045 `service.name`; PowerShell 4104 `powershell.file.script_block_text`. Security events
//!   get `event.outcome` from the audit keywords, an `event.action` and, failing a better actor,
//!   `user.*` from the `Subject*` fields.
//! * `event.original` stays the JSON text. Transport metadata of NXLog, Logstash and Sentinel
//!   (`SourceModuleName`, `port`, `TenantId` …) is not event data and stays only there.
//! * A Windows object without an EventID, with an unreadable `System` or an unreadable time keeps
//!   what could be read and is tagged `_parse_failure` with an `error.message`.
//!
//! # Zeek logs
//!
//! Zeek records as JSON (parser `zeek`): from [`normalize_json`], JSON lines, or the JSON body of
//! a syslog message. Recognized shapes: Zeek's own JSON writer (the log's name is not in the
//! record: it is inferred from the field set where that is unambiguous, else `unknown`), `_path`
//! (Zeek's `json-streaming-logs`, Corelight), `@stream` (Security-Datasets / Mordor captures,
//! with `_` for Zeek's `.`: `id_orig_h`), nested records (`"id": {"orig_h": …}`), and any of
//! these as the text of `message` / `event.original` in a shipper's envelope (the log then may
//! also come from a Zeek file name in `log.file.path`; the envelope's fields are kept where the
//! record sets nothing). Zeek's TSV files are decoded into this JSON shape by `sen ingest` (the
//! collector's `zeek_tsv`), which reads their headers.
//!
//! * `event.module` `zeek`, `event.dataset` `zeek.<log>` (`zeek.conn`, `zeek.dns` …),
//!   `@timestamp` = `ts` (epoch seconds, epoch milliseconds or ISO 8601), `observer.product`
//!   `zeek`, `observer.hostname` = the sensor (`_system_name`, `@system`).
//! * **Every field of the record under `zeek.<log>.<field>`** with Zeek's own (dotted) names and
//!   JSON types: `zeek.dns.query`, `zeek.conn.id.orig_h`, `zeek.x509.certificate.serial`. The
//!   underscored forms some shippers write for Zeek's records (`id_`, and per log `certificate_`,
//!   `san_`, `basic_constraints_`, `times_`, `remote_location_`, `seen_`, `data_channel_`,
//!   `version_`) are put back to dots; other underscores are Zeek's own (`orig_ip_bytes`).
//!   `zeek.session_id` = `uid` (else the first of `conn_uids`).
//! * ECS, after Elastic's Zeek integration: `source.ip`/`source.port` = `id.orig_h`/`id.orig_p`,
//!   `destination.*` = `id.resp_*` (not for ICMP, whose "ports" are type and code), `related.ip`,
//!   `network.transport` (`proto`, else the log's: `tcp` for http, ssl, smb, dce_rpc, ssh, ftp,
//!   smtp, rdp), `network.protocol` (conn `service`, else the log's), `event.category` /
//!   `event.type` per log (conn `network`/`connection` + `start`/`end` by `conn_state`; dns
//!   `network`/`connection, protocol, info`; http `network, web`; kerberos and ntlm add
//!   `authentication`; files and pe `file`/`info`; smb_files `network, file`; notice
//!   `intrusion_detection` with `event.kind` `alert`).
//!   conn: `event.duration` (ns), `source.bytes`/`destination.bytes` (IP bytes), `*.packets`,
//!   `network.bytes`/`network.packets`, `source.mac`/`destination.mac`, `network.direction` from
//!   `local_orig`/`local_resp`. dns: `dns.question.name`/`type`/`class`, `dns.id`,
//!   `dns.response_code`, `dns.header_flags`, `dns.type`, `dns.answers` (`data`, `ttl`),
//!   `dns.resolved_ip`. http: `http.request.method` (also `event.action`), `url.original`,
//!   `url.path`, `url.query`, `url.domain` (= `host` without port), `user_agent.original`,
//!   `http.response.status_code` + `event.outcome`, `http.version`, `http.*.body.bytes`,
//!   `http.*.mime_type`, `user.name`. ssl: `tls.version`/`version_protocol`, `tls.cipher`,
//!   `tls.curve`, `tls.client.server_name` (+ `destination.domain`), `tls.server.subject`/
//!   `issuer`, `tls.client.ja3`, `tls.server.ja3s`, `tls.server.hash.sha1`, `tls.established`,
//!   `tls.resumed`. x509: `file.x509.*` (serial, version, subject/issuer parts, validity, key,
//!   alternative names). files: `file.name`, `file.mime_type`, `file.size`, `file.hash.*` +
//!   `related.hash`, `server.ip` (sender) / `client.ip` (receiver). smb_files: `event.action`,
//!   `file.name`, `file.path` (= `path\name`), `file.size`, file times. kerberos:
//!   `event.action` (request type), `event.outcome`, `user.name`/`user.domain` from `client`.
//!   dce_rpc: `event.action` (operation). notice: `rule.name` (note), `message` (msg).
//! * A Zeek record without a readable `ts` keeps everything else and is tagged
//!   `_parse_failure` with an `error.message`.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sen_core::event::{Event, TAG_PARSE_FAILURE, Value};

pub mod access;
pub mod auditd;
pub mod cef;
mod ecs;
pub mod errorlog;
pub mod fortigate;
mod json;
pub mod leef;
mod msg;
pub mod syslog;
pub mod time;
mod windows;
mod zeek;

pub use ecs::{FACILITY_NAMES, SEVERITY_NAMES};

/// Input format of a line. `Auto` detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Detect: JSON `{`, `CEF:`/`LEEF:` (after an optional syslog header), RFC 5424, RFC 3164,
    /// Huawei VRP / Cisco message, Linux audit record, FortiGate `key=value` log, Apache/nginx
    /// access log, Apache/nginx error log.
    #[default]
    Auto,
    /// BSD syslog (RFC 3164), with or without `<PRI>`.
    Rfc3164,
    /// Syslog RFC 5424.
    Rfc5424,
    /// ArcSight Common Event Format (optionally after a syslog header).
    Cef,
    /// IBM QRadar Log Event Extended Format 1.0 / 2.0 (optionally after a syslog header).
    Leef,
    /// One JSON object per line.
    Json,
}

impl Format {
    /// All formats, in their text form.
    pub const NAMES: [&'static str; 6] = ["auto", "rfc3164", "rfc5424", "cef", "leef", "json"];

    /// The text form (`"rfc3164"` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Rfc3164 => "rfc3164",
            Format::Rfc5424 => "rfc5424",
            Format::Cef => "cef",
            Format::Leef => "leef",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format `{0}` (expected one of: auto, rfc3164, rfc5424, cef, leef, json)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "rfc3164" | "3164" | "bsd" => Format::Rfc3164,
            "rfc5424" | "5424" => Format::Rfc5424,
            "cef" => Format::Cef,
            "leef" => Format::Leef,
            "json" | "ndjson" => Format::Json,
            _ => return Err(UnknownFormat(s.to_owned())),
        })
    }
}

/// What the parsers need to know about where a line came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// When the line was received (used to infer the year of year-less syslog dates).
    pub received: DateTime<Utc>,
    /// Time zone of timestamps that carry none (year-less syslog, Apache error log …).
    pub timezone: chrono_tz::Tz,
    /// Address of the sender, if known (recorded as `host.ip` for syslog lines without HOSTNAME,
    /// as RFC 3164 §4.3.2 asks of relays).
    pub peer_ip: Option<IpAddr>,
}

impl Context {
    /// A context with the given received time, UTC, no peer.
    pub fn new(received: DateTime<Utc>) -> Self {
        Context { received, timezone: chrono_tz::Tz::UTC, peer_ip: None }
    }
}

impl Default for Context {
    /// Received now, UTC, no peer.
    fn default() -> Self {
        Context::new(Utc::now())
    }
}

/// A parser that understood (part of) a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Parser {
    /// BSD syslog header.
    Rfc3164,
    /// RFC 5424 header.
    Rfc5424,
    /// CEF.
    Cef,
    /// LEEF.
    Leef,
    /// JSON object.
    Json,
    /// Apache/nginx access log (combined or common).
    AccessLog,
    /// Apache error log.
    ApacheError,
    /// nginx error log.
    NginxError,
    /// OpenSSH server messages.
    Sshd,
    /// sudo messages.
    Sudo,
    /// su messages.
    Su,
    /// PAM (`pam_unix(…)`) messages.
    Pam,
    /// systemd-logind session messages.
    SystemdLogind,
    /// iptables / nftables / UFW kernel log lines.
    Iptables,
    /// Cisco ASA / FTD / IOS `%FACILITY-SEVERITY-MNEMONIC: text` messages.
    Cisco,
    /// dnsmasq query logs (query, forwarded, reply, cached).
    Dnsmasq,
    /// A Windows event log record as JSON (evtx_dump, winlogbeat, NXLog/Mordor/Sentinel).
    Windows,
    /// A Linux audit record (auditd, audisp-syslog, kernel and journald `audit` lines, auoms).
    Auditd,
    /// A Zeek log record as JSON (Zeek's writer, `_path`, `@stream`, or inside an envelope).
    Zeek,
    /// A Fortinet FortiGate (FortiOS) log: `key=value` pairs, or FortiGate's CEF.
    Fortigate,
    /// A Huawei VRP information-center message (`%%01BGP/3/…`).
    Huawei,
    /// A Juniper Junos OS message (`rpd`, `mgd`, `RT_FLOW` …, kernel TCP-MD5, structured data).
    Junos,
}

impl Parser {
    /// Short name (`"rfc3164"`, `"sshd"` …).
    pub fn name(self) -> &'static str {
        match self {
            Parser::Rfc3164 => "rfc3164",
            Parser::Rfc5424 => "rfc5424",
            Parser::Cef => "cef",
            Parser::Leef => "leef",
            Parser::Json => "json",
            Parser::AccessLog => "access_log",
            Parser::ApacheError => "apache_error",
            Parser::NginxError => "nginx_error",
            Parser::Sshd => "sshd",
            Parser::Sudo => "sudo",
            Parser::Su => "su",
            Parser::Pam => "pam",
            Parser::SystemdLogind => "systemd_logind",
            Parser::Iptables => "iptables",
            Parser::Cisco => "cisco",
            Parser::Dnsmasq => "dnsmasq",
            Parser::Windows => "windows",
            Parser::Auditd => "auditd",
            Parser::Zeek => "zeek",
            Parser::Fortigate => "fortigate",
            Parser::Huawei => "huawei",
            Parser::Junos => "junos",
        }
    }
}

/// Why a line (or part of a JSON object) was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {reason}")]
pub struct ParseError {
    /// The format that was tried (`"rfc5424"`, `"auto"` …).
    pub format: &'static str,
    /// What went wrong.
    pub reason: Cow<'static, str>,
}

impl ParseError {
    pub(crate) fn new(format: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        ParseError { format, reason: reason.into() }
    }
}

/// What [`normalize_line`] / [`normalize_json`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    matched: [Option<Parser>; 4],
    tagged: bool,
    /// The failure (the event carries `_parse_failure`), or what was rejected in an otherwise
    /// understood input (a bad `@timestamp`).
    pub error: Option<ParseError>,
}

impl Outcome {
    /// The parsers that matched, outermost first (`rfc3164`, then `sshd`).
    pub fn parsers(&self) -> impl Iterator<Item = Parser> + '_ {
        self.matched.iter().flatten().copied()
    }

    /// Whether `p` matched.
    pub fn matched(&self, p: Parser) -> bool {
        self.parsers().any(|x| x == p)
    }

    /// The innermost parser that matched.
    pub fn innermost(&self) -> Option<Parser> {
        self.parsers().last()
    }

    /// Whether the event was tagged `_parse_failure`: nothing understood the line, or part of the
    /// input was rejected (a bad `@timestamp`, an `event.original` no parser understood).
    pub fn is_failure(&self) -> bool {
        self.tagged
    }

    pub(crate) fn push(&mut self, p: Parser) {
        if let Some(slot) = self.matched.iter_mut().find(|s| s.is_none()) {
            *slot = Some(p);
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in self.parsers() {
            if !first {
                f.write_str("+")?;
            }
            f.write_str(p.name())?;
            first = false;
        }
        if first {
            f.write_str("unparsed")?;
        }
        if let Some(e) = &self.error {
            write!(f, " ({e})")?;
        }
        Ok(())
    }
}

/// Parse `event.original` with `format`, filling ECS fields.
///
/// `event` arrives with id, timestamp = received time and original = the line already set. On
/// failure the event keeps its raw text as `message`, gets tag `_parse_failure`
/// ([`TAG_PARSE_FAILURE`]) and `error.message` saying why. Never panics.
pub fn normalize_line(event: &mut Event, format: Format, ctx: &Context) -> Outcome {
    // Take the line out so parsers can borrow it while writing the event.
    let line = std::mem::take(&mut event.original);
    let mut outcome = Outcome::default();
    let text = line.trim_end_matches(['\n', '\r', '\0']);
    let result = parse_line(event, text, format, ctx, &mut outcome);
    if let Err(err) = result {
        outcome.matched = [None; 4];
        outcome.tagged = true;
        fail(event, text, &err);
        outcome.error = Some(err);
    }
    finish(event, ctx, &outcome);
    event.original = line;
    outcome
}

/// Normalize one JSON object from the HTTP ingest API.
///
/// `obj` is either an already-normalized ECS event (flat dotted or nested keys), or an object
/// whose `message` or `event.original` holds a raw line: that line is parsed like
/// [`normalize_line`] with [`Format::Auto`], and the sender's explicit fields win over parsed ones.
/// `@timestamp` (RFC 3339, or epoch milliseconds) wins over the received time; a bad one becomes
/// an `error.message` and the `_parse_failure` tag, not a drop. `organization.id` is never taken
/// from the body (the tenant comes from authentication); a sender's `event.id` is kept as
/// `labels.sender_event_id` (the event id stays the origin-derived one).
///
/// A Windows event log record (evtx_dump, winlogbeat, NXLog, Mordor, Sentinel shapes) is
/// normalized to the layout described under "Windows event logs" in the crate docs, a Zeek log
/// record (directly or inside a shipper's `message`) to the one under "Zeek logs".
pub fn normalize_json(
    event: &mut Event,
    obj: serde_json::Map<String, serde_json::Value>,
    ctx: &Context,
) -> Outcome {
    let mut outcome = Outcome::default();
    json::normalize_object(event, obj, ctx, &mut outcome);
    finish(event, ctx, &outcome);
    outcome
}

fn fail(event: &mut Event, text: &str, err: &ParseError) {
    event.set("message", text);
    event.add_tag(TAG_PARSE_FAILURE);
    event.set("error.message", err.to_string());
}

fn finish(event: &mut Event, ctx: &Context, outcome: &Outcome) {
    if !event.fields.contains_key("event.kind") {
        event.fields.insert("event.kind".to_owned(), Value::Str("event".to_owned()));
    }
    // RFC 3164 §4.3.2: a syslog message without HOSTNAME is attributed to the sender's address.
    if let Some(ip) = ctx.peer_ip
        && (outcome.matched(Parser::Rfc3164) || outcome.matched(Parser::Rfc5424))
        && !event.fields.contains_key("host.hostname")
        && !event.fields.contains_key("host.ip")
    {
        event.fields.insert("host.ip".to_owned(), Value::Ip(ip));
    }
}

/// Dispatch one line.
pub(crate) fn parse_line(
    event: &mut Event,
    line: &str,
    format: Format,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    match format {
        Format::Auto => auto(event, line, ctx, out),
        Format::Rfc5424 => rfc5424(event, line, ctx, out, false),
        Format::Rfc3164 => rfc3164(event, line, ctx, out),
        Format::Cef => match cef::find(line) {
            Some(at) => cef_with_header(event, line, at, ctx, out),
            None => Err(ParseError::new("cef", "no `CEF:` header found")),
        },
        Format::Leef => match leef::find(line) {
            Some(at) => leef_with_header(event, line, at, ctx, out),
            None => Err(ParseError::new("leef", "no `LEEF:` header found")),
        },
        Format::Json => json::parse_line(event, line, ctx, out),
    }
}

fn auto(event: &mut Event, line: &str, ctx: &Context, out: &mut Outcome) -> Result<(), ParseError> {
    let t = line.trim_start_matches([' ', '\t', '\u{feff}']);
    let b = t.as_bytes();
    let Some(&first) = b.first() else {
        return Err(ParseError::new("auto", "empty line"));
    };
    if first == b'{' {
        return json::parse_line(event, t, ctx, out);
    }
    if let Some(at) = cef::find(t) {
        return cef_with_header(event, t, at, ctx, out);
    }
    if let Some(at) = leef::find(t) {
        return leef_with_header(event, t, at, ctx, out);
    }
    if first == b'<' {
        if syslog::looks_like_5424(b) {
            return rfc5424(event, t, ctx, out, true);
        }
        return rfc3164(event, t, ctx, out);
    }
    if first == b'%' {
        if let Some(v) = msg::huawei::parse(t) {
            msg::huawei::apply(event, &v, true);
            out.push(Parser::Huawei);
            return Ok(());
        }
        if let Some(c) = msg::cisco::parse(t) {
            msg::cisco::apply(event, &c, true);
            out.push(Parser::Cisco);
            return Ok(());
        }
    }
    if (first == b't' || first == b'n') && auditd::looks_like(t) {
        let rec = auditd::parse(t).map_err(|e| ParseError::new("auditd", e.to_string()))?;
        auditd::apply(event, &rec);
        out.push(Parser::Auditd);
        return Ok(());
    }
    // A FortiGate log without a syslog header (`date=… time=… logid=… type=…`).
    if first.is_ascii_alphabetic() && fortigate::looks_like(t) {
        event.set("message", t);
        fortigate::normalize(event, t, ctx, out);
        return Ok(());
    }
    if first.is_ascii_digit() && syslog::looks_like_5424_without_pri(b) {
        return rfc5424(event, t, ctx, out, true);
    }
    if (time::month_abbr(b).is_some()
        || (b.len() > 10 && b.get(4) == Some(&b'-') && first.is_ascii_digit()))
        && let Some(s) = syslog::parse_3164(t)
        && s.timestamp.is_some()
    {
        return finish_3164(event, &s, ctx, out);
    }
    if first == b'[' {
        if errorlog::apply_apache(event, t, ctx) {
            out.push(Parser::ApacheError);
            return Ok(());
        }
    } else if first.is_ascii_digit() && errorlog::apply_nginx(event, t, ctx) {
        out.push(Parser::NginxError);
        return Ok(());
    }
    if access::apply(event, t, true) {
        out.push(Parser::AccessLog);
        return Ok(());
    }
    Err(ParseError::new("auto", "no parser recognized the line"))
}

/// RFC 5424; with `lenient` (auto-detection), a line the strict parser rejects is retried
/// leniently (missing `<PRI>`, non-standard structured data kept in the message).
fn rfc5424(
    event: &mut Event,
    line: &str,
    ctx: &Context,
    out: &mut Outcome,
    lenient: bool,
) -> Result<(), ParseError> {
    let parsed = match syslog::parse_5424(line) {
        Ok(s) => Ok((true, s)),
        Err(e) => match syslog::parse_5424_lenient(line).filter(|_| lenient) {
            Some(found) => Ok(found),
            None => Err(e),
        },
    };
    match parsed {
        Ok((has_pri, s)) => {
            out.push(Parser::Rfc5424);
            let msg = syslog::apply_5424(event, &s, has_pri);
            if let Some(m) = msg {
                event.set("message", m);
            }
            // Junos structured data (the tag is the MSGID, the fields are in `[junos@…]`).
            if msg::junos::apply_5424(event, &s) {
                out.push(Parser::Junos);
            } else if let Some(m) = msg {
                msg::parse_message(event, s.appname, m, ctx, out);
            }
            Ok(())
        }
        Err(e) => {
            // Keep what was read (priority, version, timestamp, host …) next to the failure.
            if let Some(p) = &e.partial {
                syslog::apply_5424(event, p, true);
            }
            Err(ParseError::new("rfc5424", e.to_string()))
        }
    }
}

fn rfc3164(
    event: &mut Event,
    line: &str,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    match syslog::parse_3164(line) {
        Some(s) => finish_3164(event, &s, ctx, out),
        None => Err(ParseError::new("rfc3164", "expecting `<PRI>` or a timestamp at the start")),
    }
}

fn finish_3164(
    event: &mut Event,
    s: &syslog::Syslog3164<'_>,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    out.push(Parser::Rfc3164);
    syslog::apply_3164(event, s, ctx);
    event.set("message", s.message);
    msg::parse_message(event, s.appname, s.message, ctx, out);
    Ok(())
}

/// Parse an optional syslog header before a CEF/LEEF payload starting at `at`.
fn header_before(event: &mut Event, line: &str, at: usize, ctx: &Context, out: &mut Outcome) {
    let Some(prefix) = line.get(..at) else { return };
    let prefix = prefix.trim_end();
    if prefix.is_empty() {
        return;
    }
    if syslog::looks_like_5424(prefix.as_bytes())
        && let Some((has_pri, s)) = syslog::parse_5424_lenient(prefix)
    {
        out.push(Parser::Rfc5424);
        syslog::apply_5424(event, &s, has_pri);
        return;
    }
    if let Some(s) = syslog::parse_3164(prefix) {
        out.push(Parser::Rfc3164);
        syslog::apply_3164(event, &s, ctx);
    }
}

fn cef_with_header(
    event: &mut Event,
    line: &str,
    at: usize,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    let body = line.get(at..).unwrap_or_default();
    let parsed = cef::parse(body).map_err(|e| ParseError::new("cef", e.to_string()))?;
    header_before(event, line, at, ctx, out);
    apply_cef(event, &parsed, ctx, out);
    Ok(())
}

/// Write a CEF record; FortiGate's CEF also as the FortiOS log it is.
pub(crate) fn apply_cef(event: &mut Event, c: &cef::Cef<'_>, ctx: &Context, out: &mut Outcome) {
    out.push(Parser::Cef);
    cef::apply(event, c, ctx);
    if let Some(fg) = fortigate::from_cef(c) {
        fortigate::apply(event, &fg, ctx);
        out.push(Parser::Fortigate);
    }
}

fn leef_with_header(
    event: &mut Event,
    line: &str,
    at: usize,
    ctx: &Context,
    out: &mut Outcome,
) -> Result<(), ParseError> {
    let body = line.get(at..).unwrap_or_default();
    let parsed = leef::parse(body).map_err(|e| ParseError::new("leef", e.to_string()))?;
    header_before(event, line, at, ctx, out);
    out.push(Parser::Leef);
    leef::apply(event, &parsed, ctx);
    Ok(())
}

#[cfg(test)]
mod tests;
