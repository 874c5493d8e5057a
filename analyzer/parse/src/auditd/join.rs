//! Joining the records of one kernel event into one event.
//!
//! The kernel writes one audited system call as several records (SYSCALL, EXECVE, CWD,
//! PATH…, PROCTITLE, then EOE) that share `msg=audit(time:serial)`. The parser makes one
//! event per record; a [`Joiner`] watches those events in the order they were received and,
//! once the records of an event are all in, builds one more event from them: the process (the
//! SYSCALL's `exe`, `pid`, `ppid`, users), its arguments (every EXECVE record), its working
//! directory (CWD), the files (PATH) and, for an `execve`, `event.category: process` /
//! `event.type: start`. The record events stay as they are; the joined one comes in addition
//! (see "Linux audit" in the crate docs for its fields).
//!
//! Records are grouped by source (tenant, sender address, host), time stamp and serial. A
//! group is complete at its PROCTITLE record (the kernel writes it last, just before EOE) or
//! its EOE. Not every group has them (filtered logs, excerpts, records of other kinds of
//! events), and the kernel and syslog can deliver records of several events interleaved, so a
//! group is also closed once `window` offsets have passed since its last record
//! ([`JoinLimits::window`]); [`Joiner::flush`] closes whatever is open (end of a file, an idle
//! source). User-space messages (types 1100–1299 and 2100–2999: logins, PAM, services) are one
//! record each and are not grouped. Offsets are
//! positions in the caller's stream (bus offsets, line numbers): a group closes at a position
//! that depends on the stream only, so replaying the same stream joins the same way.
//!
//! Memory is bounded: at most `window` groups can be open (each has a record among the last
//! `window` offsets), and a group keeps at most `max_records` records; the records past that
//! are counted in `auditd.records_dropped` of the joined event (their own events are kept as
//! always).
//!
//! **Parent processes.** Audit records name the parent by pid only (`ppid`). The joiner keeps
//! the process starts it has joined, by source and pid (the newest start of a pid wins, as
//! after pid reuse), and fills a joined event's `process.parent.executable`,
//! `process.parent.command_line` and `process.parent.name` from its parent's start when it saw
//! it, so SigmaHQ's `ParentImage` / `ParentCommandLine` rules work on Linux. The table is
//! bounded ([`PROCESS_TABLE`] starts per generation, two generations). A caller can save it
//! ([`Joiner::process_starts`]) and give it to the next joiner
//! ([`Joiner::restore_process_starts`]), so a restart does not forget the long-running
//! parents (a web server, sshd); a parent started before any joiner saw it stays unnamed.
//!
//! Pure code: no clock, no I/O. The caller decides when a source is idle.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use sen_core::event::{Event, Value};

use super::tables;
use crate::ecs::{self, categorize, set_int, set_str};

/// Process starts remembered per generation for naming parents (two generations are kept: at
/// most twice this many entries).
pub const PROCESS_TABLE: usize = 32_768;

/// A process start the joiner saw: what its children's events name as their parent.
#[derive(Debug, Clone)]
struct Started {
    executable: Option<String>,
    command_line: Option<String>,
    name: Option<String>,
}

/// A process start a joiner remembers, as saved across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessStart {
    /// The source (tenant, sender address, host), hashed stably across versions.
    pub source: u64,
    /// Its process id.
    pub pid: i64,
    /// `process.executable`.
    pub executable: Option<String>,
    /// `process.command_line`.
    pub command_line: Option<String>,
    /// `process.name`.
    pub name: Option<String>,
}

/// Process starts by (source, pid): the current generation and the one before.
#[derive(Debug, Default)]
struct Processes {
    current: HashMap<(u64, i64), Started>,
    previous: HashMap<(u64, i64), Started>,
    /// Starts remembered so far (restored ones included).
    inserted: u64,
}

impl Processes {
    fn get(&self, k: &(u64, i64)) -> Option<&Started> {
        self.current.get(k).or_else(|| self.previous.get(k))
    }

    fn insert(&mut self, k: (u64, i64), v: Started) {
        if self.current.len() >= PROCESS_TABLE {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(k, v);
        self.inserted += 1;
    }
}

/// The dataset of a joined event (`auditd.log` is one record).
pub const JOINED_DATASET: &str = "auditd.event";

/// Bounds of a [`Joiner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinLimits {
    /// A group without EOE is closed once the stream is this many offsets past its last record.
    /// It also bounds the number of open groups.
    pub window: u64,
    /// Records kept per group; more are counted, not kept.
    pub max_records: usize,
}

impl Default for JoinLimits {
    /// 512 offsets, 64 records.
    fn default() -> Self {
        JoinLimits { window: 512, max_records: 64 }
    }
}

/// A joined event and where it closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The event.
    pub event: Event,
    /// Offset of the group's first record.
    pub first: u64,
    /// The stream offset the group closed at: its PROCTITLE or EOE record, or the first offset
    /// past its window. `None` when [`Joiner::flush`] closed it.
    pub closed_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    source: u64,
    secs: i64,
    nanos: u32,
    serial: i64,
}

#[derive(Debug)]
struct Group {
    first: u64,
    last: u64,
    records: Vec<Event>,
    dropped: u64,
}

/// Joins audit record events (see the module docs). Feed it every record event of one stream in
/// order with [`Joiner::push`]; call [`Joiner::advance`] when the stream moved on without audit
/// records and [`Joiner::flush`] at its end.
#[derive(Debug, Default)]
pub struct Joiner {
    limits: JoinLimits,
    open: HashMap<Key, Group>,
    /// (group, offset of a record added to it), in stream order. An entry whose group has a
    /// later record, or is closed, is stale and skipped.
    order: VecDeque<(Key, u64)>,
    /// Process starts, for naming parents.
    processes: Processes,
}

/// Whether `e` is an audit record a [`Joiner`] takes: an auditd log record with a serial
/// (auoms records are whole events already; journald's lines carry no serial).
pub fn joinable(e: &Event) -> bool {
    // A line that failed to parse has no dataset: it is never a record here.
    e.fields.get("event.dataset").and_then(Value::as_str) == Some("auditd.log")
        && matches!(e.fields.get("auditd.sequence"), Some(Value::Int(_)))
        && !record_type(e).starts_with("auoms_")
}

fn record_type(e: &Event) -> &str {
    e.fields.get("auditd.message_type").and_then(Value::as_str).unwrap_or("")
}

fn key_of(e: &Event) -> Option<Key> {
    let Some(Value::Int(serial)) = e.fields.get("auditd.sequence") else { return None };
    Some(Key {
        source: source_of(e),
        secs: e.timestamp.timestamp(),
        nanos: e.timestamp.timestamp_subsec_nanos(),
        serial: *serial,
    })
}

/// The source of a record (tenant, sender address, host), hashed (xxh3: the same in every
/// build, as saved process tables need).
fn source_of(e: &Event) -> u64 {
    let mut h = Xxh3::new();
    let mut part = |s: Option<&str>| match s {
        Some(s) => {
            h.update(&[1]);
            h.update(s.as_bytes());
            h.update(&[0]);
        }
        None => h.update(&[0]),
    };
    part(e.organization.as_deref());
    // The sender's address without its port: a reconnecting sender is the same source.
    match e.fields.get("log.source.address").and_then(Value::as_str) {
        Some(a) => match a.parse::<SocketAddr>() {
            Ok(sa) => part(Some(&sa.ip().to_string())),
            Err(_) => part(Some(a)),
        },
        None => part(None),
    }
    part(e.fields.get("host.name").and_then(Value::as_str));
    h.digest()
}

impl Joiner {
    /// A joiner with these bounds (a window of at least 1 offset and 1 record).
    pub fn new(limits: JoinLimits) -> Joiner {
        let limits =
            JoinLimits { window: limits.window.max(1), max_records: limits.max_records.max(1) };
        Joiner {
            limits,
            open: HashMap::new(),
            order: VecDeque::new(),
            processes: Processes::default(),
        }
    }

    /// The bounds in use.
    pub fn limits(&self) -> JoinLimits {
        self.limits
    }

    /// The process starts remembered for naming parents, oldest generation first (restoring
    /// them in this order keeps the newest start of a reused pid).
    pub fn process_starts(&self) -> Vec<ProcessStart> {
        let p = &self.processes;
        p.previous
            .iter()
            .filter(|(k, _)| !p.current.contains_key(k))
            .chain(p.current.iter())
            .map(|(&(source, pid), s)| ProcessStart {
                source,
                pid,
                executable: s.executable.clone(),
                command_line: s.command_line.clone(),
                name: s.name.clone(),
            })
            .collect()
    }

    /// How many process starts this joiner has remembered so far: a caller that saves the table
    /// can skip saving it while this does not change.
    pub fn process_starts_seen(&self) -> u64 {
        self.processes.inserted
    }

    /// Remember these process starts (saved by [`Joiner::process_starts`]) as if they had been
    /// joined, in order; the table's bound applies.
    pub fn restore_process_starts(&mut self, starts: impl IntoIterator<Item = ProcessStart>) {
        for s in starts {
            let start =
                Started { executable: s.executable, command_line: s.command_line, name: s.name };
            self.processes.insert((s.source, s.pid), start);
        }
    }

    /// Add the record event at stream offset `offset` (offsets increase). Joined events that
    /// close, because the stream reached `offset` or because this record is a PROCTITLE or an
    /// EOE, are appended to `out`. An event that is not [`joinable`], or a user-space message,
    /// only advances the stream.
    pub fn push(&mut self, offset: u64, e: Event, out: &mut Vec<Joined>) {
        self.advance(offset, out);
        if !joinable(&e) {
            return;
        }
        let kind = record_type(&e);
        // A user-space message is a whole event: its own record says it all.
        if tables::user_space(kind) {
            return;
        }
        let Some(key) = key_of(&e) else { return };
        let eoe = kind == "eoe";
        // The kernel writes PROCTITLE last before EOE: the records are all in.
        let last = eoe || kind == "proctitle";
        let max = self.limits.max_records;
        let group = match self.open.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            // An EOE without its records (or after a PROCTITLE closed them) closes nothing.
            Entry::Vacant(_) if eoe => return,
            Entry::Vacant(v) => {
                v.insert(Group { first: offset, last: offset, records: Vec::new(), dropped: 0 })
            }
        };
        if group.records.len() < max || eoe {
            group.records.push(e);
        } else {
            group.dropped += 1;
        }
        if last {
            if let Some(g) = self.open.remove(&key) {
                self.emit(key.source, build(g, Some(offset)), out);
            }
            return;
        }
        group.last = offset;
        self.order.push_back((key, offset));
    }

    /// The stream reached `offset` (records that are no audit records, the end of a batch):
    /// close the groups whose window ended before it.
    pub fn advance(&mut self, offset: u64, out: &mut Vec<Joined>) {
        while let Some(&(key, at)) = self.order.front() {
            let current = self.open.get(&key).is_some_and(|g| g.last == at);
            if !current {
                self.order.pop_front();
                continue;
            }
            let end = at.saturating_add(self.limits.window);
            if end >= offset {
                break;
            }
            self.order.pop_front();
            if let Some(g) = self.open.remove(&key) {
                self.emit(key.source, build(g, Some(end + 1)), out);
            }
        }
    }

    /// Close every open group (end of input, or a source gone quiet), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Joined>) {
        let mut groups: Vec<(Key, Group)> = self.open.drain().collect();
        groups.sort_by_key(|(_, g)| g.first);
        self.order.clear();
        for (key, g) in groups {
            self.emit(key.source, build(g, None), out);
        }
    }

    /// Name the parent of a joined process event from the starts seen so far (of the group's
    /// `source`), remember the start if it is one, and hand the event out.
    fn emit(&mut self, source: u64, joined: Option<Joined>, out: &mut Vec<Joined>) {
        let Some(mut j) = joined else { return };
        let e = &mut j.event;
        let int = |e: &Event, k: &str| match e.fields.get(k) {
            Some(Value::Int(n)) => Some(*n),
            Some(Value::Str(s)) => s.parse().ok(),
            _ => None,
        };
        if let Some(ppid) = int(e, "process.parent.pid")
            && let Some(p) = self.processes.get(&(source, ppid))
        {
            let p = p.clone();
            for (k, v) in [
                ("process.parent.executable", p.executable),
                ("process.parent.command_line", p.command_line),
                ("process.parent.name", p.name),
            ] {
                if let Some(v) = v {
                    e.set_default(k, v);
                }
            }
        }
        let started = e.fields.get("event.type").is_some_and(|t| match t {
            Value::Str(s) => s == "start",
            Value::List(l) => l.iter().any(|v| v.as_str() == Some("start")),
            _ => false,
        });
        if started && let Some(pid) = int(e, "process.pid") {
            let text = |k: &str| e.fields.get(k).and_then(Value::as_str).map(str::to_owned);
            let start = Started {
                executable: text("process.executable"),
                command_line: text("process.command_line"),
                name: text("process.name"),
            };
            self.processes.insert((source, pid), start);
        }
        out.push(j);
    }

    /// The offset of the first record of the oldest open group: a consumer that restarts from
    /// there sees every record of every group still open.
    pub fn oldest_open(&self) -> Option<u64> {
        self.open.values().map(|g| g.first).min()
    }

    /// Groups open now.
    pub fn open_groups(&self) -> usize {
        self.open.len()
    }
}

/// Join a whole stream: `events` with each joined event inserted after the record its group
/// closed at (the rest at the end), offsets being positions in `events`.
pub fn with_joined(events: Vec<Event>, limits: JoinLimits) -> Vec<Event> {
    let mut j = Joiner::new(limits);
    let mut joined = Vec::new();
    let mut out = Vec::with_capacity(events.len() + events.len() / 4);
    for (i, e) in events.into_iter().enumerate() {
        let i = i as u64;
        let take = joinable(&e);
        j.advance(i, &mut joined);
        out.extend(joined.drain(..).map(|x| x.event));
        if take {
            j.push(i, e.clone(), &mut joined);
        }
        out.push(e);
        out.extend(joined.drain(..).map(|x| x.event));
    }
    j.flush(&mut joined);
    out.extend(joined.into_iter().map(|x| x.event));
    out
}

/// Fields of the primary record a joined event does not take: the text of that one record
/// (a syslog message, a sender's id for it) and its categories.
fn dropped(path: &str) -> bool {
    matches!(
        path,
        "message" | "labels.sender_event_id" | "event.category" | "event.type" | "event.action"
    )
}

/// What a record is to the joined event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Syscall,
    Execve,
    Path,
    Eoe,
    Other,
}

/// The joined event of a closed group; `None` for a group that is one record, unless that
/// record is part of an `execve` (an excerpt of a log may hold only the EXECVE or the SYSCALL
/// record): a process start is always a joined event. The records are consumed: their values
/// move into the joined event rather than being copied.
fn build(g: Group, closed_at: Option<u64>) -> Option<Joined> {
    let mut recs = g.records;
    // The record types, moved out (they become `auditd.records`).
    let types: Vec<Value> = recs
        .iter_mut()
        .map(|r| r.fields.remove("auditd.message_type").unwrap_or(Value::Str(String::new())))
        .collect();
    let kinds: Vec<Kind> = types
        .iter()
        .map(|t| match t.as_str().unwrap_or("") {
            "syscall" => Kind::Syscall,
            "execve" => Kind::Execve,
            "path" => Kind::Path,
            "eoe" => Kind::Eoe,
            _ => Kind::Other,
        })
        .collect();
    let data = kinds.iter().filter(|k| **k != Kind::Eoe).count();
    let execve = kinds.contains(&Kind::Execve);
    let primary = kinds.iter().position(|k| *k == Kind::Syscall).unwrap_or(0);
    let syscall = recs.get(primary)?.fields.get("auditd.data.SYSCALL").and_then(Value::as_str);
    let exec = execve
        || (kinds.get(primary) == Some(&Kind::Syscall)
            && matches!(syscall, Some("execve" | "execveat")));
    if data < 2 && !exec {
        return None;
    }
    let first = recs.first()?;
    let id = sen_core::derive_id(&[b"auditd.join", first.id.as_bytes()]);
    let mut original = String::with_capacity(recs.iter().map(|r| r.original.len() + 1).sum());
    for (i, r) in recs.iter().enumerate() {
        if i > 0 {
            original.push('\n');
        }
        original.push_str(&r.original);
    }
    let mut e = Event::new(id, recs[primary].timestamp, original);
    // Arguments: the EXECVE records together (long argument lists take several).
    if execve {
        let execs = || recs.iter().zip(&kinds).filter(|(_, k)| **k == Kind::Execve);
        let argc = execs().find_map(|(r, _)| {
            r.fields.get("auditd.data.argc").and_then(Value::as_str).and_then(|n| n.parse().ok())
        });
        let args = execs().flat_map(|(r, _)| {
            r.fields
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("auditd.data.")?, v.as_str()?)))
        });
        super::set_args(&mut e, argc, args);
    }
    // Files: the first PATH record that names the object (not its parent directory).
    let is_path = |i: usize| kinds[i] == Kind::Path;
    let object = (0..recs.len())
        .filter(|i| is_path(*i))
        .find(|i| {
            recs[*i].fields.get("auditd.data.nametype").and_then(Value::as_str) != Some("PARENT")
        })
        .or_else(|| (0..recs.len()).find(|i| is_path(*i)));
    // The primary record's fields are the base: its data, process, users and context (the
    // arguments just read win over those of an EXECVE primary).
    e.organization = recs[primary].organization.take();
    let args = std::mem::replace(&mut e.fields, std::mem::take(&mut recs[primary].fields));
    e.fields.retain(|k, _| !dropped(k));
    e.fields.extend(args);
    let mut paths: Vec<serde_json::Value> = Vec::new();
    // The other records in order: process and user fields the primary lacks (CWD's working
    // directory, PROCTITLE's title …), user names, the object's file, every PATH's data.
    for i in (0..recs.len()).filter(|i| *i != primary) {
        let fields = std::mem::take(&mut recs[i].fields);
        let mut path_data = serde_json::Map::new();
        for (k, v) in fields {
            if k.starts_with("process.") || k.starts_with("user.") {
                e.fields.entry(k).or_insert(v);
            } else if k == "related.user" {
                let names = match v {
                    Value::List(names) => names,
                    other => vec![other],
                };
                for n in names.iter().filter_map(Value::as_str) {
                    e.push("related.user", n);
                }
            } else if kinds[i] == Kind::Path && k.starts_with("auditd.data.") {
                path_data.insert(k["auditd.data.".len()..].to_owned(), into_json(v));
            } else if Some(i) == object && k.starts_with("file.") {
                e.fields.insert(k, v);
            }
        }
        if kinds[i] == Kind::Path {
            paths.push(serde_json::Value::Object(path_data));
        }
    }
    if kinds[primary] == Kind::Path {
        // A group without SYSCALL whose first record is a PATH: its data is the base already.
        let data = e.fields.with_prefix("auditd.data.");
        let item = data.map(|(k, v)| (k["auditd.data.".len()..].to_owned(), v.to_json())).collect();
        paths.insert(0, serde_json::Value::Object(item));
    }
    if !paths.is_empty() {
        e.fields.insert("auditd.paths".to_owned(), Value::json(serde_json::Value::Array(paths)));
    }
    ecs::module(&mut e, "auditd", JOINED_DATASET);
    set_str(&mut e, "event.kind", "event");
    e.fields.insert("auditd.message_type".to_owned(), types[primary].clone());
    e.fields.insert("auditd.records".to_owned(), Value::List(types));
    if g.dropped > 0 {
        set_int(&mut e, "auditd.records_dropped", i64::try_from(g.dropped).unwrap_or(i64::MAX));
    }
    let failed = e.fields.get("event.outcome").and_then(Value::as_str) == Some("failure");
    if exec && !failed {
        categorize(&mut e, &["process"], &["start"]);
    }
    Some(Joined { event: e, first: g.first, closed_at })
}

/// A field value as JSON, moving its text.
fn into_json(v: Value) -> serde_json::Value {
    match v {
        Value::Str(s) => serde_json::Value::String(s),
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests;
