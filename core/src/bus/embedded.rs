//! The embedded durable log: the one-machine [`Bus`] implementation.
//!
//! Topics are split into partitions; each partition is a directory of append-only segment
//! files. Records carry a CRC32C, so a torn or damaged tail is found and cut on open.
//!
//! # Layout
//!
//! ```text
//! <dir>/<topic>/<partition>/<20-digit base offset>.log    a segment (append-only)
//! <dir>/<topic>/<partition>/<20-digit base offset>.index  summary + sparse index of a closed segment
//! <dir>/_offsets/<group>.json                              a consumer group's committed offsets
//! ```
//!
//! The base offset in a segment's name is the offset of its first record. The `.index` file is
//! written (and fsynced) when the segment is closed; on open it is trusted when its checksum is
//! good and the segment's size matches, otherwise the segment is scanned. Group names are
//! percent-encoded in file names; the file also holds the plain name.
//!
//! # Record framing
//!
//! All integers little-endian:
//!
//! ```text
//! len: u32        number of bytes after the crc field (20 + key + payload)
//! crc: u32        CRC32C over the `len` bytes that follow
//! offset: u64
//! timestamp: i64  producer timestamp, ms since the epoch
//! key_len: u32
//! key, payload
//! ```
//!
//! One publish encodes each touched partition's records into one buffer and writes it with one
//! positioned write (two when the batch crosses a segment roll).
//!
//! # Durability: what is on disk when [`Bus::publish`] returns `Ok`
//!
//! - [`FsyncPolicy::Always`] (the default): every record of the batch has been written and
//!   `fdatasync`ed in the segment file of each touched partition (one fsync per partition), and
//!   the directory entry of any segment created by the batch has been fsynced. The batch
//!   survives a process crash and an OS crash or power loss (on a disk that honours flushes).
//!   Consumers see a record only after it is fsynced, so no consumer can commit past data a
//!   crash could take back.
//! - [`FsyncPolicy::IntervalMs`]: the records are written to the OS (the page cache). They
//!   survive a crash of the process (`kill -9`), but an OS crash or power loss can lose the
//!   records acknowledged during the last interval (plus the duration of an fsync in flight).
//!   A background thread fsyncs every partition written since its previous pass; an fsync
//!   error there is logged with `tracing::error!` (the publisher was already acknowledged) and
//!   retried on the next pass. Dropping the [`EmbeddedLog`] fsyncs once more.
//! - [`FsyncPolicy::Never`]: as `IntervalMs` without the background thread: the kernel writes
//!   dirty pages back when it likes. Use [`EmbeddedLog::flush`] for an explicit flush.
//!
//! Under every policy: a segment is fsynced (with its `.index` file) when it is closed by a
//! roll, so closed segments are complete on disk; and [`Bus::commit`] always writes the group
//! file atomically and durably (temporary file, fsync, rename, fsync of the directory).
//!
//! A batch spread over several partitions is not atomic: when an error is returned, the part
//! of the batch appended to other partitions may be stored. A producer retrying the batch then
//! stores those records twice, which at-least-once delivery allows.
//!
//! # What a crash replays
//!
//! On open, the last (active) segment of every partition is scanned record by record (length,
//! checksum, contiguous offsets). At the first short record, impossible length, checksum
//! mismatch or out-of-sequence offset, the file is truncated to the last good record and a
//! `tracing::warn!` names the file and the bytes cut ([`EmbeddedLog::recovery`] lists them).
//! Closed segments are trusted through their `.index` file, or scanned (and cut the same way)
//! when it is missing or does not match. Every record before the damage is served again;
//! records after it are gone and their offsets are handed to the next records published.
//! Consumers resume from their committed offsets, so they see again what they had read but not
//! committed (at-least-once). A committed offset above the recovered end of its partition
//! (possible only under `IntervalMs`/`Never` after an OS crash) is lowered to that end with a
//! warning, so that records published after the restart are not skipped.
//!
//! # Concurrency
//!
//! [`EmbeddedLog`] is `Send + Sync`; share it as `Arc<dyn Bus>`. Each partition has its own
//! append lock (partitions append in parallel) and a separate, briefly held, read view, so
//! fetches do not wait for an fsync in progress. File I/O of `publish`, `fetch` and `commit`
//! runs under [`tokio::task::block_in_place`] on a multi-threaded runtime and under
//! [`tokio::task::spawn_blocking`] on a current-thread runtime. A directory may be open by one
//! [`EmbeddedLog`] at a time; a second open in the same process fails (there is no
//! inter-process lock: do not point two processes at the same directory).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Weak, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{Bus, BusError, Delivered, Message, partition_for};

/// Bytes before a record's body: `len` and `crc`.
const HEADER_BYTES: usize = 8;
/// Fixed part of a record's body: offset, timestamp, key length.
const BODY_FIXED_BYTES: usize = 20;
/// A sparse index entry is kept at most every this many bytes of a segment.
const INDEX_INTERVAL_BYTES: u64 = 4096;
/// A fetch stops adding records once it holds this many bytes (it returns at least one).
const FETCH_MAX_BYTES: usize = 16 << 20;
/// Read granularity of fetches and scans.
const READ_CHUNK_BYTES: usize = 256 << 10;
/// A fetch plan covers at most this many segments.
const MAX_PLAN_SEGMENTS: usize = 4;
/// Hard upper bound of `max_record_bytes` (the frame length is a u32).
const MAX_RECORD_LIMIT: u64 = 1 << 30;
/// Directory of the consumer group files.
const OFFSETS_DIR: &str = "_offsets";
/// Magic of `.index` files.
const INDEX_MAGIC: &[u8; 8] = b"SENIDX1\n";

/// When appended records are fsynced. See the module docs for what each policy guarantees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// fsync every publish before it returns (`fsync = "always"`).
    #[default]
    Always,
    /// fsync in the background every this many milliseconds (`fsync = { interval_ms = 50 }`).
    IntervalMs(u64),
    /// Never fsync appends; leave write-back to the OS (`fsync = "never"`).
    Never,
}

/// Per-topic settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// Number of partitions (at least 1).
    pub partitions: u32,
}

/// Configuration of an [`EmbeddedLog`].
///
/// Every field has a default, e.g. in TOML:
///
/// ```toml
/// default_partitions = 2
/// segment_bytes = 134217728
/// fsync = "always"                 # or "never", or { interval_ms = 50 }
/// retention_bytes = 10737418240    # per partition; absent = unlimited
/// retention_age = 604800000        # milliseconds; absent = unlimited
/// max_record_bytes = 8388608
/// [topics.raw]
/// partitions = 4
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Topics created on open, with their partition counts. A topic already on disk keeps at
    /// least the partitions it has.
    pub topics: BTreeMap<String, TopicConfig>,
    /// Partition count of a topic created by its first publish (default 2).
    pub default_partitions: u32,
    /// A segment is closed and a new one started before a record would make it larger than
    /// this (default 128 MiB). A segment holds at least one record.
    pub segment_bytes: u64,
    /// When appends are fsynced (default [`FsyncPolicy::Always`]).
    pub fsync: FsyncPolicy,
    /// Per partition: closed segments are deleted, oldest first, while the partition is larger
    /// than this many bytes. `None` (the default) keeps everything.
    pub retention_bytes: Option<u64>,
    /// Closed segments whose newest record timestamp is older than this many milliseconds are
    /// deleted. `None` (the default) keeps everything.
    #[serde(alias = "retention_age_ms")]
    pub retention_age: Option<u64>,
    /// Largest key + payload size accepted, in bytes (default 8 MiB, at most 1 GiB).
    pub max_record_bytes: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            topics: BTreeMap::new(),
            default_partitions: 2,
            segment_bytes: 128 << 20,
            fsync: FsyncPolicy::Always,
            retention_bytes: None,
            retention_age: None,
            max_record_bytes: 8 << 20,
        }
    }
}

impl LogConfig {
    fn validate(&self) -> Result<(), BusError> {
        let bad = |what: String| Err(BusError::Other(format!("invalid log config: {what}")));
        if self.default_partitions == 0 {
            return bad("default_partitions must be at least 1".into());
        }
        if self.segment_bytes == 0 {
            return bad("segment_bytes must be positive".into());
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > MAX_RECORD_LIMIT {
            return bad(format!("max_record_bytes must be in 1..={MAX_RECORD_LIMIT}"));
        }
        if self.fsync == FsyncPolicy::IntervalMs(0) {
            return bad("fsync interval must be positive".into());
        }
        for (name, topic) in &self.topics {
            if !valid_topic_name(name) {
                return bad(format!("invalid topic name `{name}`"));
            }
            if topic.partitions == 0 {
                return bad(format!("topic `{name}` must have at least one partition"));
            }
        }
        Ok(())
    }
}

/// A cut made by recovery on open: a damaged tail removed from a segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub path: PathBuf,
    /// Bytes kept (the file's new length).
    pub kept_bytes: u64,
    /// Bytes removed.
    pub cut_bytes: u64,
    /// What was wrong at the cut.
    pub reason: String,
}

/// Description of one segment of a partition (see [`EmbeddedLog::segments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The segment file.
    pub path: PathBuf,
    /// Offset of its first record.
    pub base_offset: u64,
    /// Offset after its last record.
    pub end_offset: u64,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Newest record timestamp (ms since the epoch), if it holds records.
    pub newest_timestamp_ms: Option<i64>,
    /// Whether it is the active segment (the one appended to).
    pub active: bool,
}

/// The embedded durable log. See the module docs.
pub struct EmbeddedLog {
    inner: Arc<Inner>,
    flusher: Option<Flusher>,
}

struct Flusher {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

struct Inner {
    dir: PathBuf,
    config: LogConfig,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    /// group → topic → partition → next offset.
    offsets: Mutex<HashMap<String, GroupOffsets>>,
    recovery: Vec<Truncation>,
    _guard: DirGuard,
}

type GroupOffsets = BTreeMap<String, BTreeMap<u32, u64>>;

struct Topic {
    partitions: Vec<Arc<Partition>>,
}

struct Partition {
    dir: PathBuf,
    /// Serializes appends, rolls and retention.
    append: Mutex<Appender>,
    /// What readers may see. Only changed while `append` is held.
    view: RwLock<View>,
    /// Woken after every append.
    notify: Notify,
    /// Appended since the last background fsync.
    dirty: AtomicBool,
    /// A segment was created since the last directory fsync.
    dir_dirty: AtomicBool,
}

struct Appender {
    /// Set after a failed write or fsync left the file in an unknown state.
    poisoned: Option<String>,
    scratch: Vec<u8>,
}

struct View {
    /// Never empty; the last one is the active segment.
    segments: Vec<SegMeta>,
    next_offset: u64,
}

struct SegMeta {
    path: PathBuf,
    base: u64,
    end: u64,
    size: u64,
    max_ts: Option<i64>,
    /// Sparse (offset, byte position) pairs, ascending.
    index: Vec<(u64, u64)>,
    /// Open handle: the active segment only (closed ones are opened per read).
    file: Option<Arc<File>>,
}

/// Process-wide set of open log directories.
static OPEN_DIRS: LazyLock<std::sync::Mutex<HashSet<PathBuf>>> =
    LazyLock::new(|| std::sync::Mutex::new(HashSet::new()));

struct DirGuard(PathBuf);

impl DirGuard {
    fn acquire(dir: &Path) -> Result<DirGuard, BusError> {
        let mut open = OPEN_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        if !open.insert(dir.to_path_buf()) {
            return Err(BusError::Other(format!(
                "log directory {} is already open in this process",
                dir.display()
            )));
        }
        Ok(DirGuard(dir.to_path_buf()))
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        let mut open = OPEN_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn io_err(path: &Path, source: io::Error) -> BusError {
    BusError::Io { path: path.display().to_string(), source }
}

trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T, BusError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T, BusError> {
        self.map_err(|e| io_err(path, e))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, pos)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut pos: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, pos) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], pos: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, pos)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut pos: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, pos) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// fsync a directory (makes created, renamed and deleted entries durable).
fn sync_dir(dir: &Path) -> Result<(), BusError> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all()).at(dir)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Topic names follow Kafka's rules (`[A-Za-z0-9._-]`, at most 249 characters); a leading `.`
/// or `_` is refused here (hidden files, the `_offsets` directory).
fn valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && !name.starts_with(['.', '_'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// File name (without extension) of a consumer group: bytes outside `[A-Za-z0-9._-]`, and a
/// leading `.`, are written `%XX`.
fn group_file_stem(group: &str) -> String {
    let mut out = String::with_capacity(group.len());
    for (i, b) in group.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn index_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.index"))
}

/// Parse `<20 digits>.<ext>`.
fn parse_segment_name(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
    if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
        stem.parse().ok()
    } else {
        None
    }
}

/// Run blocking file I/O without stalling the async reactor.
async fn blocking<T, F>(f: F) -> Result<T, BusError>
where
    F: FnOnce() -> Result<T, BusError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(_) => tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| BusError::Other(format!("bus i/o task failed: {e}")))?,
        Err(_) => f(),
    }
}

// ---------------------------------------------------------------------------------------------
// Records

fn record_bytes(m: &Message) -> u64 {
    (HEADER_BYTES + BODY_FIXED_BYTES + m.key.len() + m.payload.len()) as u64
}

fn encode_record(buf: &mut Vec<u8>, offset: u64, m: &Message) {
    // Sizes were checked against `max_record_bytes` (≤ 1 GiB), so they fit in a u32.
    let body_len = (BODY_FIXED_BYTES + m.key.len() + m.payload.len()) as u32;
    let start = buf.len();
    buf.extend_from_slice(&body_len.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&offset.to_le_bytes());
    buf.extend_from_slice(&m.timestamp_ms.to_le_bytes());
    buf.extend_from_slice(&(m.key.len() as u32).to_le_bytes());
    buf.extend_from_slice(&m.key);
    buf.extend_from_slice(&m.payload);
    let crc = crc32c::crc32c(&buf[start + HEADER_BYTES..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// A record as read from a segment (borrowing the reader's buffer).
struct RawRecord<'a> {
    pos: u64,
    size: u64,
    offset: u64,
    timestamp_ms: i64,
    key: &'a [u8],
    payload: &'a [u8],
}

enum Next<'a> {
    Record(RawRecord<'a>),
    End,
    Damaged { pos: u64, reason: String },
}

/// Sequential reader of records between two byte positions of a segment, with positioned
/// reads of [`READ_CHUNK_BYTES`].
struct RecordReader<'f> {
    file: &'f File,
    path: &'f Path,
    limit: u64,
    buf: Vec<u8>,
    buf_pos: u64,
    cursor: usize,
}

impl<'f> RecordReader<'f> {
    fn new(file: &'f File, path: &'f Path, start: u64, limit: u64) -> Self {
        RecordReader { file, path, limit, buf: Vec::new(), buf_pos: start, cursor: 0 }
    }

    fn pos(&self) -> u64 {
        self.buf_pos + self.cursor as u64
    }

    /// Make `n` bytes from the cursor available; the caller checked `pos + n <= limit`.
    fn ensure(&mut self, n: usize) -> Result<(), BusError> {
        if self.buf.len() - self.cursor >= n {
            return Ok(());
        }
        self.buf.drain(..self.cursor);
        self.buf_pos += self.cursor as u64;
        self.cursor = 0;
        let have = self.buf.len();
        let left = usize::try_from(self.limit - self.buf_pos).unwrap_or(usize::MAX);
        let want = n.max(READ_CHUNK_BYTES).min(left);
        self.buf.resize(want, 0);
        read_exact_at(self.file, &mut self.buf[have..want], self.buf_pos + have as u64)
            .at(self.path)
    }

    fn next(&mut self) -> Result<Next<'_>, BusError> {
        let pos = self.pos();
        if pos >= self.limit {
            return Ok(Next::End);
        }
        let remaining = self.limit - pos;
        if remaining < HEADER_BYTES as u64 {
            let reason = format!("short record header ({remaining} bytes)");
            return Ok(Next::Damaged { pos, reason });
        }
        self.ensure(HEADER_BYTES)?;
        let c = self.cursor;
        let len = le_u32(&self.buf[c..]) as usize;
        let crc = le_u32(&self.buf[c + 4..]);
        if len < BODY_FIXED_BYTES {
            return Ok(Next::Damaged { pos, reason: format!("bad record length {len}") });
        }
        let total = HEADER_BYTES + len;
        if total as u64 > remaining {
            let reason = format!("short record ({total} bytes announced, {remaining} left)");
            return Ok(Next::Damaged { pos, reason });
        }
        self.ensure(total)?;
        let c = self.cursor;
        let body = &self.buf[c + HEADER_BYTES..c + total];
        if crc32c::crc32c(body) != crc {
            return Ok(Next::Damaged { pos, reason: "checksum mismatch".into() });
        }
        let offset = le_u64(body);
        let timestamp_ms = le_u64(&body[8..]) as i64;
        let key_len = le_u32(&body[16..]) as usize;
        if key_len > len - BODY_FIXED_BYTES {
            return Ok(Next::Damaged { pos, reason: format!("bad key length {key_len}") });
        }
        self.cursor += total;
        let body = &self.buf[c + HEADER_BYTES..c + total];
        let (key, payload) = body[BODY_FIXED_BYTES..].split_at(key_len);
        Ok(Next::Record(RawRecord { pos, size: total as u64, offset, timestamp_ms, key, payload }))
    }
}

/// Add a sparse index entry if the last one is far enough behind.
fn maybe_index(index: &mut Vec<(u64, u64)>, offset: u64, pos: u64) {
    if index.last().is_none_or(|&(_, p)| pos - p >= INDEX_INTERVAL_BYTES) {
        index.push((offset, pos));
    }
}

struct Scan {
    valid_size: u64,
    end: u64,
    max_ts: Option<i64>,
    index: Vec<(u64, u64)>,
    damage: Option<(u64, String)>,
}

/// Read a whole segment, checking every record; stops at the first damaged one.
fn scan_segment(file: &File, path: &Path, base: u64, len: u64) -> Result<Scan, BusError> {
    let mut reader = RecordReader::new(file, path, 0, len);
    let mut scan = Scan { valid_size: 0, end: base, max_ts: None, index: Vec::new(), damage: None };
    loop {
        match reader.next()? {
            Next::End => break,
            Next::Damaged { pos, reason } => {
                scan.damage = Some((pos, reason));
                break;
            }
            Next::Record(rec) => {
                if rec.offset != scan.end {
                    let reason = format!("offset {} where {} was expected", rec.offset, scan.end);
                    scan.damage = Some((rec.pos, reason));
                    break;
                }
                maybe_index(&mut scan.index, rec.offset, rec.pos);
                scan.end += 1;
                scan.max_ts =
                    Some(scan.max_ts.map_or(rec.timestamp_ms, |t| t.max(rec.timestamp_ms)));
                scan.valid_size = rec.pos + rec.size;
            }
        }
    }
    Ok(scan)
}

// ---------------------------------------------------------------------------------------------
// Index files of closed segments

fn encode_index(seg: &SegMeta) -> Vec<u8> {
    let mut b = Vec::with_capacity(56 + seg.index.len() * 16);
    b.extend_from_slice(INDEX_MAGIC);
    b.extend_from_slice(&seg.base.to_le_bytes());
    b.extend_from_slice(&seg.size.to_le_bytes());
    b.extend_from_slice(&seg.end.to_le_bytes());
    b.push(u8::from(seg.max_ts.is_some()));
    b.extend_from_slice(&seg.max_ts.unwrap_or(0).to_le_bytes());
    b.extend_from_slice(&(seg.index.len() as u64).to_le_bytes());
    for &(o, p) in &seg.index {
        b.extend_from_slice(&o.to_le_bytes());
        b.extend_from_slice(&p.to_le_bytes());
    }
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// Decode an index file; `None` unless it is intact and describes `log_size` bytes at `base`.
fn decode_index(b: &[u8], base: u64, log_size: u64) -> Option<SegMeta> {
    const FIXED: usize = 8 + 8 + 8 + 8 + 1 + 8 + 8;
    if b.len() < FIXED + 4 || &b[..8] != INDEX_MAGIC {
        return None;
    }
    let (body, crc) = b.split_at(b.len() - 4);
    if crc32c::crc32c(body) != le_u32(crc) {
        return None;
    }
    let (file_base, size, end) = (le_u64(&body[8..]), le_u64(&body[16..]), le_u64(&body[24..]));
    let max_ts = (body[32] == 1).then(|| le_u64(&body[33..]) as i64);
    let n = usize::try_from(le_u64(&body[41..])).ok()?;
    if file_base != base
        || size != log_size
        || end < base
        || body.len() != FIXED.checked_add(n.checked_mul(16)?)?
    {
        return None;
    }
    let mut index = Vec::with_capacity(n);
    for e in body[FIXED..].chunks_exact(16) {
        let (o, p) = (le_u64(e), le_u64(&e[8..]));
        let ordered = index.last().is_none_or(|&(lo, lp)| o > lo && p > lp);
        if !ordered || o >= end || p >= size {
            return None;
        }
        index.push((o, p));
    }
    if index.first().is_some_and(|&e| e != (base, 0)) {
        return None;
    }
    Some(SegMeta { path: PathBuf::new(), base, end, size, max_ts, index, file: None })
}

fn write_index_file(dir: &Path, seg: &SegMeta) -> Result<(), BusError> {
    let path = index_path(dir, seg.base);
    let tmp = path.with_extension("index.tmp");
    let mut f = File::create(&tmp).at(&tmp)?;
    f.write_all(&encode_index(seg)).at(&tmp)?;
    f.sync_all().at(&tmp)?;
    fs::rename(&tmp, &path).at(&path)
}

// ---------------------------------------------------------------------------------------------
// Partitions

/// Open a segment file: an existing one, or (`create`) a new empty one. A file left at that
/// name by a roll that failed half-way is emptied: it was never part of the log.
fn open_segment_file(path: &Path, create: bool) -> Result<File, BusError> {
    OpenOptions::new().read(true).write(true).create(create).truncate(create).open(path).at(path)
}

struct ReadPlan {
    segments: Vec<PlannedRead>,
}

struct PlannedRead {
    path: PathBuf,
    file: Option<Arc<File>>,
    start: u64,
    limit: u64,
}

enum ReadOutcome {
    Records(Vec<Delivered>),
    /// A planned segment was deleted meanwhile (retention); plan again.
    Vanished,
}

impl Partition {
    /// Create an empty partition (directory and first segment).
    fn create(dir: PathBuf) -> Result<Partition, BusError> {
        fs::create_dir_all(&dir).at(&dir)?;
        let path = segment_path(&dir, 0);
        let file = open_segment_file(&path, true)?;
        sync_dir(&dir)?;
        let seg = SegMeta {
            path,
            base: 0,
            end: 0,
            size: 0,
            max_ts: None,
            index: Vec::new(),
            file: Some(Arc::new(file)),
        };
        Ok(Partition::with_segments(dir, vec![seg]))
    }

    fn with_segments(dir: PathBuf, segments: Vec<SegMeta>) -> Partition {
        let next_offset = segments.last().map_or(0, |s| s.end);
        Partition {
            dir,
            append: Mutex::new(Appender { poisoned: None, scratch: Vec::new() }),
            view: RwLock::new(View { segments, next_offset }),
            notify: Notify::new(),
            dirty: AtomicBool::new(false),
            dir_dirty: AtomicBool::new(false),
        }
    }

    /// Open an existing partition directory, recovering damaged segments.
    fn open(dir: PathBuf, report: &mut Vec<Truncation>) -> Result<Partition, BusError> {
        let mut bases = Vec::new();
        let mut indexes = HashSet::new();
        for entry in fs::read_dir(&dir).at(&dir)? {
            let entry = entry.at(&dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(base) = parse_segment_name(&name, "log") {
                bases.push(base);
            } else if let Some(base) = parse_segment_name(&name, "index") {
                indexes.insert(base);
            } else if name.ends_with(".tmp") {
                let path = entry.path();
                fs::remove_file(&path).at(&path)?;
            }
        }
        bases.sort_unstable();
        let Some(&tail) = bases.last() else {
            return Partition::create(dir);
        };
        for stale in indexes.iter().copied().filter(|b| !bases.contains(b) || *b == tail) {
            let path = index_path(&dir, stale);
            fs::remove_file(&path).at(&path)?;
        }
        let mut segments = Vec::with_capacity(bases.len());
        for &base in &bases {
            let active = base == tail;
            let trusted = !active && indexes.contains(&base);
            segments.push(open_segment(&dir, base, active, trusted, report)?);
        }
        for w in segments.windows(2) {
            if w[0].end > w[1].base {
                tracing::warn!(
                    segment = %w[1].path.display(),
                    "segment starts at offset {} but the previous one ends at {}",
                    w[1].base,
                    w[0].end
                );
            }
        }
        Ok(Partition::with_segments(dir, segments))
    }

    fn earliest_and_end(&self) -> (u64, u64) {
        let v = self.view.read();
        (v.segments.first().map_or(v.next_offset, |s| s.base), v.next_offset)
    }

    /// Append records (all to this partition); returns the offset of the first.
    fn append(&self, cfg: &LogConfig, msgs: &[&Message]) -> Result<u64, BusError> {
        let mut ap = self.append.lock();
        let result = self.append_locked(&mut ap, cfg, msgs);
        drop(ap);
        // Also after a partial failure: part of the batch may be readable.
        self.notify.notify_waiters();
        result
    }

    fn append_locked(
        &self,
        ap: &mut Appender,
        cfg: &LogConfig,
        msgs: &[&Message],
    ) -> Result<u64, BusError> {
        if let Some(why) = &ap.poisoned {
            return Err(BusError::Other(format!(
                "partition {} is unusable after an earlier failure ({why}); reopen the log",
                self.dir.display()
            )));
        }
        let first = self.view.read().next_offset;
        let mut i = 0;
        while i < msgs.len() {
            let (active_file, path, mut size, mut next, mut last_index_pos) = {
                let v = self.view.read();
                let seg = v.segments.last().ok_or_else(|| BusError::Other("no segment".into()))?;
                (
                    seg.file.clone(),
                    seg.path.clone(),
                    seg.size,
                    v.next_offset,
                    seg.index.last().copied(),
                )
            };
            if size > 0 && size + record_bytes(msgs[i]) > cfg.segment_bytes {
                self.roll(cfg)?;
                continue;
            }
            let file = active_file.ok_or_else(|| {
                BusError::Other(format!("active segment {} is not open", path.display()))
            })?;
            let write_pos = size;
            let mut scratch = std::mem::take(&mut ap.scratch);
            scratch.clear();
            let mut new_index = Vec::new();
            let mut max_ts = None::<i64>;
            while i < msgs.len() {
                let m = msgs[i];
                let rec = record_bytes(m);
                if !scratch.is_empty() && size + rec > cfg.segment_bytes {
                    break;
                }
                if last_index_pos.is_none_or(|(_, p)| size - p >= INDEX_INTERVAL_BYTES) {
                    new_index.push((next, size));
                    last_index_pos = Some((next, size));
                }
                encode_record(&mut scratch, next, m);
                max_ts = Some(max_ts.map_or(m.timestamp_ms, |t| t.max(m.timestamp_ms)));
                size += rec;
                next += 1;
                i += 1;
            }
            let written = self.write_chunk(ap, &file, &path, &scratch, write_pos, cfg);
            ap.scratch = scratch;
            written?;
            let mut v = self.view.write();
            v.next_offset = next;
            if let Some(seg) = v.segments.last_mut() {
                seg.size = size;
                seg.end = next;
                seg.max_ts = match (seg.max_ts, max_ts) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                seg.index.extend(new_index);
            }
        }
        Ok(first)
    }

    /// Write one encoded chunk at `pos`, fsync it under `Always`. On failure the file is cut
    /// back to `pos`, or the partition is poisoned when that is not possible.
    fn write_chunk(
        &self,
        ap: &mut Appender,
        file: &File,
        path: &Path,
        bytes: &[u8],
        pos: u64,
        cfg: &LogConfig,
    ) -> Result<(), BusError> {
        if let Err(e) = write_all_at(file, bytes, pos) {
            if let Err(cut) = file.set_len(pos) {
                ap.poisoned = Some(format!("write failed ({e}), then truncation failed ({cut})"));
            }
            return Err(io_err(path, e));
        }
        if cfg.fsync == FsyncPolicy::Always {
            if let Err(e) = file.sync_data() {
                ap.poisoned = Some(format!("fsync failed: {e}"));
                return Err(io_err(path, e));
            }
        } else {
            self.dirty.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Close the active segment (fsync it, write its index) and start a new one. The caller
    /// holds the append lock.
    fn roll(&self, cfg: &LogConfig) -> Result<(), BusError> {
        let (old_file, old_path, next) = {
            let v = self.view.read();
            let seg = v.segments.last().ok_or_else(|| BusError::Other("no segment".into()))?;
            (seg.file.clone(), seg.path.clone(), v.next_offset)
        };
        if let Some(f) = &old_file {
            f.sync_all().at(&old_path)?;
        }
        {
            let v = self.view.read();
            if let Some(seg) = v.segments.last() {
                write_index_file(&self.dir, seg)?;
            }
        }
        let path = segment_path(&self.dir, next);
        let file = Arc::new(open_segment_file(&path, true)?);
        if cfg.fsync == FsyncPolicy::Always {
            sync_dir(&self.dir)?;
        } else {
            self.dir_dirty.store(true, Ordering::Release);
        }
        {
            let mut v = self.view.write();
            if let Some(seg) = v.segments.last_mut() {
                seg.file = None;
            }
            v.segments.push(SegMeta {
                path,
                base: next,
                end: next,
                size: 0,
                max_ts: None,
                index: Vec::new(),
                file: Some(file),
            });
        }
        self.retain(cfg, now_ms())?;
        Ok(())
    }

    /// Delete closed segments beyond the retention limits; the caller holds the append lock
    /// (or calls through [`Partition::enforce_retention`]). Returns the number deleted.
    fn retain(&self, cfg: &LogConfig, now: i64) -> Result<usize, BusError> {
        if cfg.retention_bytes.is_none() && cfg.retention_age.is_none() {
            return Ok(0);
        }
        let cutoff =
            cfg.retention_age.map(|a| now.saturating_sub(i64::try_from(a).unwrap_or(i64::MAX)));
        let victims: Vec<(PathBuf, u64)> = {
            let mut v = self.view.write();
            let mut total: u64 = v.segments.iter().map(|s| s.size).sum();
            let mut n = 0;
            while n + 1 < v.segments.len() {
                let s = &v.segments[n];
                let too_old = cutoff.is_some_and(|c| s.max_ts.is_none_or(|t| t < c));
                let too_big = cfg.retention_bytes.is_some_and(|b| total > b);
                if !(too_old || too_big) {
                    break;
                }
                total -= s.size;
                n += 1;
            }
            v.segments.drain(..n).map(|s| (s.path, s.base)).collect()
        };
        for (path, base) in &victims {
            fs::remove_file(path).at(path)?;
            let ix = index_path(&self.dir, *base);
            match fs::remove_file(&ix) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&ix, e)),
                _ => {}
            }
            tracing::debug!(segment = %path.display(), "retention deleted segment");
        }
        Ok(victims.len())
    }

    fn enforce_retention(&self, cfg: &LogConfig, now: i64) -> Result<usize, BusError> {
        let _ap = self.append.lock();
        self.retain(cfg, now)
    }

    /// What to read for a fetch at `offset`; `None` when nothing is there yet.
    fn plan(&self, offset: u64) -> Result<Option<ReadPlan>, BusError> {
        let v = self.view.read();
        let earliest = v.segments.first().map_or(v.next_offset, |s| s.base);
        if offset < earliest {
            return Err(BusError::OffsetOutOfRange { requested: offset, earliest });
        }
        if offset >= v.next_offset {
            return Ok(None);
        }
        let mut i = v.segments.partition_point(|s| s.base <= offset).saturating_sub(1);
        while i < v.segments.len() && v.segments[i].end <= offset {
            i += 1;
        }
        let segments: Vec<PlannedRead> = v.segments[i..]
            .iter()
            .take(MAX_PLAN_SEGMENTS)
            .enumerate()
            .map(|(k, s)| {
                let start = if k == 0 {
                    let j = s.index.partition_point(|&(o, _)| o <= offset);
                    if j == 0 { 0 } else { s.index[j - 1].1 }
                } else {
                    0
                };
                PlannedRead { path: s.path.clone(), file: s.file.clone(), start, limit: s.size }
            })
            .collect();
        Ok((!segments.is_empty()).then_some(ReadPlan { segments }))
    }

    fn fsync_active(&self) -> Result<(), BusError> {
        let (file, path) = {
            let v = self.view.read();
            match v.segments.last() {
                Some(s) => (s.file.clone(), s.path.clone()),
                None => return Ok(()),
            }
        };
        if let Some(f) = file {
            f.sync_data().at(&path)?;
        }
        Ok(())
    }

    /// fsync what was appended since the last pass (the active segment, the directory).
    fn flush_dirty(&self) -> Result<(), BusError> {
        if self.dir_dirty.swap(false, Ordering::AcqRel)
            && let Err(e) = sync_dir(&self.dir)
        {
            self.dir_dirty.store(true, Ordering::Release);
            return Err(e);
        }
        if self.dirty.swap(false, Ordering::AcqRel)
            && let Err(e) = self.fsync_active()
        {
            self.dirty.store(true, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    fn segments_info(&self) -> Vec<SegmentInfo> {
        let v = self.view.read();
        let last = v.segments.len().saturating_sub(1);
        v.segments
            .iter()
            .enumerate()
            .map(|(i, s)| SegmentInfo {
                path: s.path.clone(),
                base_offset: s.base,
                end_offset: s.end,
                size_bytes: s.size,
                newest_timestamp_ms: s.max_ts,
                active: i == last,
            })
            .collect()
    }
}

/// Open one segment on recovery: trust its index, or scan it and cut a damaged tail.
fn open_segment(
    dir: &Path,
    base: u64,
    active: bool,
    has_index: bool,
    report: &mut Vec<Truncation>,
) -> Result<SegMeta, BusError> {
    let path = segment_path(dir, base);
    let file = open_segment_file(&path, false)?;
    let len = file.metadata().at(&path)?.len();
    if has_index {
        let ix = index_path(dir, base);
        let bytes = fs::read(&ix).at(&ix)?;
        if let Some(mut seg) = decode_index(&bytes, base, len) {
            seg.path = path;
            return Ok(seg);
        }
        tracing::warn!(index = %ix.display(), "segment index does not match its segment; scanning");
    }
    let scan = scan_segment(&file, &path, base, len)?;
    if let Some((pos, reason)) = scan.damage {
        let cut = len - scan.valid_size;
        tracing::warn!(
            segment = %path.display(),
            kept_bytes = scan.valid_size,
            cut_bytes = cut,
            "damaged record at byte {pos} ({reason}); truncating the segment after the last good record"
        );
        file.set_len(scan.valid_size).at(&path)?;
        file.sync_all().at(&path)?;
        report.push(Truncation {
            path: path.clone(),
            kept_bytes: scan.valid_size,
            cut_bytes: cut,
            reason,
        });
    }
    let mut seg = SegMeta {
        path,
        base,
        end: scan.end,
        size: scan.valid_size,
        max_ts: scan.max_ts,
        index: scan.index,
        file: None,
    };
    if active {
        seg.file = Some(Arc::new(file));
    } else {
        write_index_file(dir, &seg)?;
    }
    Ok(seg)
}

/// Read the records of a plan from `offset` (blocking).
fn read_plan(
    plan: ReadPlan,
    partition: u32,
    offset: u64,
    max: usize,
) -> Result<ReadOutcome, BusError> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for seg in plan.segments {
        let file = match seg.file {
            Some(f) => f,
            None => match File::open(&seg.path) {
                Ok(f) => Arc::new(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound && out.is_empty() => {
                    return Ok(ReadOutcome::Vanished);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(io_err(&seg.path, e)),
            },
        };
        let mut reader = RecordReader::new(&file, &seg.path, seg.start, seg.limit);
        loop {
            match reader.next()? {
                Next::End => break,
                Next::Damaged { pos, reason } => {
                    if out.is_empty() {
                        return Err(BusError::Other(format!(
                            "damaged record in {} at byte {pos}: {reason}",
                            seg.path.display()
                        )));
                    }
                    return Ok(ReadOutcome::Records(out));
                }
                Next::Record(rec) => {
                    if rec.offset < offset {
                        continue;
                    }
                    bytes += rec.key.len() + rec.payload.len();
                    out.push(Delivered {
                        partition,
                        offset: rec.offset,
                        timestamp_ms: rec.timestamp_ms,
                        key: rec.key.to_vec(),
                        payload: rec.payload.to_vec(),
                    });
                    if out.len() >= max || bytes >= FETCH_MAX_BYTES {
                        return Ok(ReadOutcome::Records(out));
                    }
                }
            }
        }
    }
    Ok(ReadOutcome::Records(out))
}

// ---------------------------------------------------------------------------------------------
// The log

#[derive(Serialize, Deserialize)]
struct GroupFile {
    group: String,
    offsets: GroupOffsets,
}

impl EmbeddedLog {
    /// Open (or create) a log in `dir`, recovering every partition found there (see the
    /// module docs) and creating the configured topics. Blocking (recovery reads the tail
    /// segments): from async code, call it under `spawn_blocking`.
    pub fn open(dir: &Path, config: LogConfig) -> Result<EmbeddedLog, BusError> {
        config.validate()?;
        fs::create_dir_all(dir).at(dir)?;
        let dir = fs::canonicalize(dir).at(dir)?;
        let guard = DirGuard::acquire(&dir)?;
        let mut recovery = Vec::new();
        let topics = load_topics(&dir, &config, &mut recovery)?;
        let offsets = load_offsets(&dir, &topics)?;
        let inner = Arc::new(Inner {
            dir,
            config,
            topics: RwLock::new(topics),
            offsets: Mutex::new(offsets),
            recovery,
            _guard: guard,
        });
        let flusher = match inner.config.fsync {
            FsyncPolicy::IntervalMs(ms) => Some(spawn_flusher(&inner, Duration::from_millis(ms))?),
            _ => None,
        };
        Ok(EmbeddedLog { inner, flusher })
    }

    /// The log directory (canonical path).
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &LogConfig {
        &self.inner.config
    }

    /// The cuts recovery made when this log was opened (empty after a clean shutdown).
    pub fn recovery(&self) -> &[Truncation] {
        &self.inner.recovery
    }

    /// The segments of a partition, oldest first.
    pub fn segments(&self, topic: &str, partition: u32) -> Result<Vec<SegmentInfo>, BusError> {
        Ok(self.inner.partition(topic, partition)?.segments_info())
    }

    /// Delete closed segments beyond the retention limits in every partition (it also runs
    /// on every segment roll). Returns how many segments were deleted. Blocking: call it
    /// from `spawn_blocking` or a timer thread.
    pub fn enforce_retention(&self) -> Result<usize, BusError> {
        self.enforce_retention_at(now_ms())
    }

    /// [`EmbeddedLog::enforce_retention`] with an explicit "now" (ms since the epoch).
    pub fn enforce_retention_at(&self, now_ms: i64) -> Result<usize, BusError> {
        let mut deleted = 0;
        for p in self.inner.all_partitions() {
            deleted += p.enforce_retention(&self.inner.config, now_ms)?;
        }
        Ok(deleted)
    }

    /// fsync the active segment of every partition (useful under `Never`/`IntervalMs` before
    /// a planned shutdown). Blocking.
    pub fn flush(&self) -> Result<(), BusError> {
        for p in self.inner.all_partitions() {
            p.dirty.store(false, Ordering::Release);
            p.dir_dirty.store(false, Ordering::Release);
            sync_dir(&p.dir)?;
            p.fsync_active()?;
        }
        Ok(())
    }
}

impl Drop for EmbeddedLog {
    fn drop(&mut self) {
        if let Some(f) = self.flusher.take() {
            drop(f.stop);
            let _ = f.thread.join();
            if let Err(e) = self.inner.flush_dirty() {
                tracing::error!(error = %e, "final fsync of the bus log failed");
            }
        }
    }
}

fn spawn_flusher(inner: &Arc<Inner>, every: Duration) -> Result<Flusher, BusError> {
    let (stop, rx) = mpsc::channel::<()>();
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let thread = std::thread::Builder::new()
        .name("sen-bus-fsync".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                let Some(inner) = weak.upgrade() else { break };
                if let Err(e) = inner.flush_dirty() {
                    tracing::error!(error = %e, "background fsync of the bus log failed");
                }
            }
        })
        .map_err(|e| BusError::Other(format!("cannot start the bus fsync thread: {e}")))?;
    Ok(Flusher { stop, thread })
}

fn load_topics(
    dir: &Path,
    config: &LogConfig,
    report: &mut Vec<Truncation>,
) -> Result<HashMap<String, Arc<Topic>>, BusError> {
    let mut topics = HashMap::new();
    for entry in fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !valid_topic_name(&name) || !entry.file_type().at(&entry.path())?.is_dir() {
            continue;
        }
        let tdir = entry.path();
        let mut on_disk = 0u32;
        for p in fs::read_dir(&tdir).at(&tdir)? {
            let p = p.at(&tdir)?;
            let pname = p.file_name().to_string_lossy().into_owned();
            if let Ok(n) = pname.parse::<u32>()
                && n.to_string() == pname
                && p.file_type().at(&p.path())?.is_dir()
            {
                on_disk = on_disk.max(n.saturating_add(1));
            }
        }
        let configured = config.topics.get(&name).map(|t| t.partitions);
        let count = match configured {
            Some(c) if c < on_disk => {
                tracing::warn!(topic = %name, "topic has {on_disk} partitions on disk, more than the {c} configured; keeping {on_disk}");
                on_disk
            }
            Some(c) => c,
            None if on_disk == 0 => config.default_partitions,
            None => on_disk,
        };
        let mut partitions = Vec::with_capacity(count as usize);
        for p in 0..count {
            let pdir = tdir.join(p.to_string());
            let part = if pdir.is_dir() {
                Partition::open(pdir, report)?
            } else {
                Partition::create(pdir)?
            };
            partitions.push(Arc::new(part));
        }
        sync_dir(&tdir)?;
        topics.insert(name, Arc::new(Topic { partitions }));
    }
    for (name, t) in &config.topics {
        if !topics.contains_key(name) {
            topics.insert(name.clone(), Arc::new(create_topic(dir, name, t.partitions)?));
        }
    }
    Ok(topics)
}

fn create_topic(dir: &Path, name: &str, partitions: u32) -> Result<Topic, BusError> {
    let tdir = dir.join(name);
    fs::create_dir_all(&tdir).at(&tdir)?;
    let parts = (0..partitions)
        .map(|p| Partition::create(tdir.join(p.to_string())).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    sync_dir(&tdir)?;
    sync_dir(dir)?;
    Ok(Topic { partitions: parts })
}

fn load_offsets(
    dir: &Path,
    topics: &HashMap<String, Arc<Topic>>,
) -> Result<HashMap<String, GroupOffsets>, BusError> {
    let odir = dir.join(OFFSETS_DIR);
    fs::create_dir_all(&odir).at(&odir)?;
    let mut groups = HashMap::new();
    for entry in fs::read_dir(&odir).at(&odir)? {
        let path = entry.at(&odir)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.ends_with(".tmp") {
            fs::remove_file(&path).at(&path)?;
            continue;
        }
        if !name.ends_with(".json") {
            continue;
        }
        let bytes = fs::read(&path).at(&path)?;
        let mut file: GroupFile = serde_json::from_slice(&bytes).map_err(|e| {
            BusError::Other(format!("corrupt consumer offsets file {}: {e}", path.display()))
        })?;
        for (topic, parts) in file.offsets.iter_mut() {
            let Some(t) = topics.get(topic) else { continue };
            for (p, off) in parts.iter_mut() {
                let Some(part) = t.partitions.get(*p as usize) else { continue };
                let (_, end) = part.earliest_and_end();
                if *off > end {
                    tracing::warn!(
                        group = %file.group, topic = %topic, partition = *p,
                        "committed offset {off} is past the recovered log end {end}; lowering it"
                    );
                    *off = end;
                }
            }
        }
        groups.insert(file.group, file.offsets);
    }
    Ok(groups)
}

impl Inner {
    fn topic(&self, topic: &str) -> Result<Arc<Topic>, BusError> {
        self.topics.read().get(topic).cloned().ok_or_else(|| BusError::UnknownTopic(topic.into()))
    }

    fn partition(&self, topic: &str, partition: u32) -> Result<Arc<Partition>, BusError> {
        self.topic(topic)?
            .partitions
            .get(partition as usize)
            .cloned()
            .ok_or_else(|| BusError::UnknownPartition { topic: topic.into(), partition })
    }

    fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.topics.read().values().flat_map(|t| t.partitions.iter().cloned()).collect()
    }

    fn topic_or_create(&self, topic: &str) -> Result<Arc<Topic>, BusError> {
        if let Some(t) = self.topics.read().get(topic) {
            return Ok(t.clone());
        }
        if !valid_topic_name(topic) {
            return Err(BusError::Other(format!("invalid topic name `{topic}`")));
        }
        let mut topics = self.topics.write();
        if let Some(t) = topics.get(topic) {
            return Ok(t.clone());
        }
        let t = Arc::new(create_topic(&self.dir, topic, self.config.default_partitions)?);
        topics.insert(topic.to_owned(), t.clone());
        Ok(t)
    }

    fn publish_sync(&self, topic: &str, messages: &[Message]) -> Result<Vec<(u32, u64)>, BusError> {
        for m in messages {
            let n = m.key.len() + m.payload.len();
            if n as u64 > self.config.max_record_bytes {
                return Err(BusError::TooLarge(n));
            }
        }
        let t = self.topic_or_create(topic)?;
        let count = t.partitions.len() as u32;
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); t.partitions.len()];
        for (i, m) in messages.iter().enumerate() {
            groups[partition_for(&m.key, count) as usize].push(i);
        }
        let touched: Vec<(usize, Vec<&Message>)> = groups
            .iter()
            .enumerate()
            .filter(|(_, idxs)| !idxs.is_empty())
            .map(|(p, idxs)| (p, idxs.iter().map(|&i| &messages[i]).collect()))
            .collect();
        let firsts = self.append_all(&t, &touched);
        let mut out = vec![(0, 0); messages.len()];
        for ((p, _), first) in touched.iter().zip(firsts) {
            let first = first?;
            for (k, &i) in groups[*p].iter().enumerate() {
                out[i] = (*p as u32, first + k as u64);
            }
        }
        Ok(out)
    }

    /// Append each partition's records; under `Always`, partitions are appended (and fsynced)
    /// in parallel.
    fn append_all(
        &self,
        t: &Topic,
        touched: &[(usize, Vec<&Message>)],
    ) -> Vec<Result<u64, BusError>> {
        let serial =
            |(p, msgs): &(usize, Vec<&Message>)| t.partitions[*p].append(&self.config, msgs);
        if touched.len() < 2 || self.config.fsync != FsyncPolicy::Always {
            return touched.iter().map(serial).collect();
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = touched
                .iter()
                .map(|job| {
                    std::thread::Builder::new()
                        .name("sen-bus-append".into())
                        .spawn_scoped(s, move || serial(job))
                        .map_err(|_| job)
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h.join().unwrap_or_else(|_| {
                        Err(BusError::Other("a partition append thread panicked".into()))
                    }),
                    // No thread available: append here.
                    Err(job) => serial(job),
                })
                .collect()
        })
    }

    fn flush_dirty(&self) -> Result<(), BusError> {
        let mut first_err = None;
        for p in self.all_partitions() {
            if let Err(e) = p.flush_dirty() {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn commit_sync(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next: u64,
    ) -> Result<(), BusError> {
        let mut groups = self.offsets.lock();
        let offsets = groups.entry(group.to_owned()).or_default();
        let prev = offsets.entry(topic.to_owned()).or_default().insert(partition, next);
        let file = GroupFile { group: group.to_owned(), offsets: offsets.clone() };
        if let Err(e) = self.write_group_file(&file) {
            let parts = offsets.entry(topic.to_owned()).or_default();
            match prev {
                Some(p) => parts.insert(partition, p),
                None => parts.remove(&partition),
            };
            return Err(e);
        }
        Ok(())
    }

    fn write_group_file(&self, file: &GroupFile) -> Result<(), BusError> {
        let odir = self.dir.join(OFFSETS_DIR);
        let stem = group_file_stem(&file.group);
        let path = odir.join(format!("{stem}.json"));
        let tmp = odir.join(format!("{stem}.json.tmp"));
        let bytes = serde_json::to_vec_pretty(file)
            .map_err(|e| BusError::Other(format!("cannot encode consumer offsets: {e}")))?;
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(&bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
        drop(f);
        fs::rename(&tmp, &path).at(&path)?;
        sync_dir(&odir)
    }

    /// One non-waiting read attempt.
    async fn read_once(
        &self,
        part: &Arc<Partition>,
        partition: u32,
        offset: u64,
        max: usize,
    ) -> Result<Vec<Delivered>, BusError> {
        for _ in 0..8 {
            let Some(plan) = part.plan(offset)? else { return Ok(Vec::new()) };
            match blocking(move || read_plan(plan, partition, offset, max)).await? {
                ReadOutcome::Records(r) => return Ok(r),
                ReadOutcome::Vanished => continue,
            }
        }
        Err(BusError::Other("segments kept vanishing under a fetch".into()))
    }
}

#[async_trait]
impl Bus for EmbeddedLog {
    fn partitions(&self, topic: &str) -> Result<u32, BusError> {
        Ok(self.inner.topic(topic)?.partitions.len() as u32)
    }

    async fn publish(
        &self,
        topic: &str,
        messages: Vec<Message>,
    ) -> Result<Vec<(u32, u64)>, BusError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let inner = self.inner.clone();
        let topic = topic.to_owned();
        blocking(move || inner.publish_sync(&topic, &messages)).await
    }

    async fn fetch(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivered>, BusError> {
        let part = self.inner.partition(topic, partition)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::now().checked_add(wait);
        loop {
            let notified = part.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let records = self.inner.read_once(&part, partition, offset, max).await?;
            if !records.is_empty() || wait.is_zero() {
                return Ok(records);
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, notified).await.is_err() {
                        return Ok(Vec::new());
                    }
                }
                None => notified.await,
            }
        }
    }

    async fn commit(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError> {
        self.inner.partition(topic, partition)?;
        if group.is_empty() {
            return Err(BusError::Other("empty consumer group name".into()));
        }
        let inner = self.inner.clone();
        let (group, topic) = (group.to_owned(), topic.to_owned());
        blocking(move || inner.commit_sync(&group, &topic, partition, next_offset)).await
    }

    async fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, BusError> {
        self.inner.partition(topic, partition)?;
        let groups = self.inner.offsets.lock();
        Ok(groups.get(group).and_then(|g| g.get(topic)).and_then(|t| t.get(&partition)).copied())
    }

    async fn watermarks(&self, topic: &str, partition: u32) -> Result<(u64, u64), BusError> {
        Ok(self.inner.partition(topic, partition)?.earliest_and_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_encode_injectively() {
        assert_eq!(group_file_stem("analyzer"), "analyzer");
        assert_eq!(group_file_stem("a/b"), "a%2Fb");
        assert_eq!(group_file_stem("a%2Fb"), "a%252Fb");
        assert_eq!(group_file_stem(".x"), "%2Ex");
        assert_eq!(group_file_stem("x.y"), "x.y");
    }

    #[test]
    fn topic_names() {
        assert!(valid_topic_name("raw"));
        assert!(valid_topic_name("conformance.multi-1_x"));
        for bad in ["", ".", "..", "_offsets", "a/b", "a b", "é"] {
            assert!(!valid_topic_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn segment_names() {
        assert_eq!(parse_segment_name("00000000000000000042.log", "log"), Some(42));
        assert_eq!(parse_segment_name("42.log", "log"), None);
        assert_eq!(parse_segment_name("00000000000000000042.index", "log"), None);
        assert_eq!(parse_segment_name("0000000000000000004x.log", "log"), None);
    }

    #[test]
    fn index_round_trip_and_rejects_damage() {
        let seg = SegMeta {
            path: PathBuf::new(),
            base: 10,
            end: 30,
            size: 9000,
            max_ts: Some(-5),
            index: vec![(10, 0), (20, 4100), (25, 8300)],
            file: None,
        };
        let bytes = encode_index(&seg);
        let back = decode_index(&bytes, 10, 9000).expect("decodes");
        assert_eq!((back.base, back.end, back.size, back.max_ts), (10, 30, 9000, Some(-5)));
        assert_eq!(back.index, seg.index);
        assert!(decode_index(&bytes, 10, 9001).is_none());
        assert!(decode_index(&bytes, 11, 9000).is_none());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode_index(&b, 10, 9000).is_none(), "flip at {i}");
        }
        assert!(decode_index(&bytes[..bytes.len() - 1], 10, 9000).is_none());
    }

    #[test]
    fn config_parses_with_defaults_and_rejects_unknown_fields() {
        let c: LogConfig = serde_json::from_str(
            r#"{"fsync": {"interval_ms": 50}, "retention_age": 1000, "topics": {"raw": {"partitions": 4}}}"#,
        )
        .expect("parses");
        assert_eq!(c.fsync, FsyncPolicy::IntervalMs(50));
        assert_eq!(c.retention_age, Some(1000));
        assert_eq!(c.default_partitions, 2);
        assert_eq!(c.topics["raw"].partitions, 4);
        let never: LogConfig = serde_json::from_str(r#"{"fsync": "never"}"#).expect("parses");
        assert_eq!(never.fsync, FsyncPolicy::Never);
        assert!(serde_json::from_str::<LogConfig>(r#"{"segment_size": 1}"#).is_err());
        assert!(serde_json::from_str::<LogConfig>(r#"{"topics": {"t": {"parts": 1}}}"#).is_err());
    }
}
