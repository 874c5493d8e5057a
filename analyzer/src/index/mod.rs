//! The event index: Tantivy, one index per UTC day under `<root>/<YYYY-MM-DD>/`.
//!
//! Architecture invariant: only this module knows Tantivy.
//!
//! # Durability and idempotence
//! Every commit of a day index carries, as its commit payload, the bus position it includes
//! (`{"partition": next_offset, …}`). The pipeline commits bus offsets only after the index
//! commits, so after a crash it replays from the bus's committed offset; records a day index
//! already holds (offset below that index's payload position) are skipped. Events whose id was
//! chosen by the sender (a retried HTTP batch) are upserted by id instead, so a retry never
//! duplicates them either.
//!
//! # Retention
//! Whole days are deleted: those older than `max_age_days`, and the oldest ones while the disk
//! holding the index has less than `min_free_bytes` free.

pub mod query;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use parking_lot::Mutex;
use sen_core::{Event, Value};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::schema::OwnedValue;
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy, Score,
    SegmentReader, TantivyDocument, Term,
};

use query::to_v6;
use schema::{Fields, Kind};

pub use query::QueryError;

/// Index errors.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Tantivy failed.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// Filesystem failure.
    #[error("index i/o error on {path}: {source}")]
    Io {
        /// Path involved.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad query.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Bad request parameters.
    #[error("{0}")]
    BadRequest(String),
}

type Result<T> = std::result::Result<T, IndexError>;

/// Index settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// Memory budget of the writer of a day index, in bytes.
    pub writer_memory_bytes: usize,
    /// Indexing threads per writer.
    pub writer_threads: usize,
    /// Delete days older than this many days (0 = keep forever).
    pub max_age_days: u32,
    /// Delete the oldest days while free disk space is below this many bytes (0 = off).
    pub min_free_bytes: u64,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            writer_memory_bytes: 256 << 20,
            writer_threads: 2,
            max_age_days: 90,
            min_free_bytes: 1 << 30,
        }
    }
}

struct Day {
    index: Index,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    /// Bus position (partition → next offset) included in the last commit.
    committed: BTreeMap<u32, u64>,
    /// Position added since (not yet committed).
    pending: BTreeMap<u32, u64>,
    dirty: bool,
    last_write: Instant,
}

/// An event turned into an index document, ready for [`IndexStore::add_prepared`]. Building it
/// is the CPU-heavy part of indexing and can run on any thread.
pub struct PreparedDoc {
    date: NaiveDate,
    id: String,
    pos: Option<Position>,
    upsert: bool,
    doc: TantivyDocument,
}

impl std::fmt::Debug for PreparedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedDoc").field("date", &self.date).field("id", &self.id).finish()
    }
}

/// The set of day indexes.
pub struct IndexStore {
    root: PathBuf,
    cfg: IndexConfig,
    fields: Fields,
    days: Mutex<BTreeMap<NaiveDate, Arc<Mutex<Day>>>>,
}

impl std::fmt::Debug for IndexStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexStore").field("root", &self.root).finish()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io { path: path.display().to_string(), source }
}

/// Where an event came from on the bus (for replay skipping).
#[derive(Debug, Clone, Copy)]
pub struct Position {
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
}

impl IndexStore {
    /// Open (or create) the store, loading every existing day.
    pub fn open(root: &Path, cfg: IndexConfig) -> Result<IndexStore> {
        std::fs::create_dir_all(root).map_err(io_err(root))?;
        let store = IndexStore {
            root: root.to_owned(),
            cfg,
            fields: schema::build(),
            days: Mutex::new(BTreeMap::new()),
        };
        for entry in std::fs::read_dir(root).map_err(io_err(root))? {
            let entry = entry.map_err(io_err(root))?;
            let name = entry.file_name();
            let Some(date) =
                name.to_str().and_then(|n| NaiveDate::parse_from_str(n, "%Y-%m-%d").ok())
            else {
                continue;
            };
            store.day(date)?;
        }
        Ok(store)
    }

    /// Schema handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    fn day(&self, date: NaiveDate) -> Result<Arc<Mutex<Day>>> {
        let mut days = self.days.lock();
        if let Some(d) = days.get(&date) {
            return Ok(d.clone());
        }
        let dir = self.root.join(date.format("%Y-%m-%d").to_string());
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let mmap = tantivy::directory::MmapDirectory::open(&dir).map_err(|e| {
            IndexError::BadRequest(format!("cannot open index {}: {e}", dir.display()))
        })?;
        let exists = Index::exists(&mmap).map_err(|e| {
            IndexError::BadRequest(format!("cannot open index {}: {e}", dir.display()))
        })?;
        let index = if exists {
            Index::open(mmap)?
        } else {
            let settings = IndexSettings {
                docstore_compression: tantivy::store::Compressor::Zstd(Default::default()),
                // Larger blocks: better ratio and far fewer compression contexts per second.
                docstore_blocksize: 64 * 1024,
                ..IndexSettings::default()
            };
            Index::builder()
                .schema(self.fields.schema.clone())
                .settings(settings)
                .open_or_create(mmap)?
        };
        if serde_json::to_value(index.schema()).ok()
            != serde_json::to_value(&self.fields.schema).ok()
        {
            return Err(IndexError::BadRequest(format!(
                "day index {} was written with an incompatible schema (an older Sen?); move it aside \
                 and re-ingest, or run the Sen version that wrote it",
                dir.display()
            )));
        }
        schema::register_tokenizers(&index);
        let committed = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<BTreeMap<u32, u64>>(&p).ok())
            .unwrap_or_default();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let day = Arc::new(Mutex::new(Day {
            index,
            reader,
            writer: None,
            committed,
            pending: BTreeMap::new(),
            dirty: false,
            last_write: Instant::now(),
        }));
        days.insert(date, day.clone());
        Ok(day)
    }

    /// The UTC day an event is filed under. Timestamps far outside the plausible window are
    /// filed under the ingest day so one bad clock cannot create (or retention-delete) a
    /// far-away index.
    fn date_for(&self, ts: DateTime<Utc>, now: DateTime<Utc>) -> NaiveDate {
        let max_age =
            i64::from(if self.cfg.max_age_days == 0 { 36500 } else { self.cfg.max_age_days });
        if ts > now + chrono::Duration::days(1) || ts < now - chrono::Duration::days(max_age) {
            now.date_naive()
        } else {
            ts.date_naive()
        }
    }

    /// Build the index document of an event (any thread). `upsert` events replace any indexed
    /// event with the same id; events with a position a day index already committed are
    /// skipped when added.
    pub fn prepare(
        &self,
        event: &Event,
        pos: Option<Position>,
        upsert: bool,
        now: DateTime<Utc>,
    ) -> PreparedDoc {
        PreparedDoc {
            date: self.date_for(event.timestamp, now),
            id: if upsert { event.id.clone() } else { String::new() },
            pos,
            upsert,
            doc: self.to_doc(event),
        }
    }

    /// Add a batch of events (prepares them on this thread). Returns how many were added.
    pub fn add_batch(&self, events: &[(Event, Option<Position>, bool)]) -> Result<usize> {
        let now = Utc::now();
        let docs =
            events.iter().map(|(e, pos, upsert)| self.prepare(e, *pos, *upsert, now)).collect();
        self.add_prepared(docs)
    }

    /// Add prepared documents. Returns how many were added (replayed ones are skipped).
    pub fn add_prepared(&self, docs: Vec<PreparedDoc>) -> Result<usize> {
        let mut by_day: BTreeMap<NaiveDate, Vec<PreparedDoc>> = BTreeMap::new();
        for d in docs {
            by_day.entry(d.date).or_default().push(d);
        }
        let mut added = 0;
        for (date, docs) in by_day {
            let day = self.day(date)?;
            let mut d = day.lock();
            if d.writer.is_none() {
                // Full budget for the current days; older days (late or backfilled events) get
                // a small single-threaded writer so many open days cannot exhaust memory.
                let recent = date >= Utc::now().date_naive() - chrono::Duration::days(1);
                let (threads, memory) = if recent {
                    (self.cfg.writer_threads.max(1), self.cfg.writer_memory_bytes)
                } else {
                    (1, self.cfg.writer_memory_bytes / 8)
                };
                let w = d.index.writer_with_num_threads(threads, memory.max(30 << 20))?;
                d.writer = Some(w);
            }
            let committed = d.committed.clone();
            let mut pending = std::mem::take(&mut d.pending);
            let Some(writer) = d.writer.as_ref() else { continue };
            for p in docs {
                if let Some(pos) = p.pos {
                    if committed.get(&pos.partition).is_some_and(|next| pos.offset < *next) {
                        continue;
                    }
                    let e = pending.entry(pos.partition).or_insert(0);
                    *e = (*e).max(pos.offset + 1);
                }
                if p.upsert {
                    writer
                        .delete_term(Term::from_field_u64(self.fields.id, schema::id_hash(&p.id)));
                }
                writer.add_document(p.doc)?;
                added += 1;
            }
            d.pending = pending;
            d.dirty = true;
            d.last_write = Instant::now();
        }
        Ok(added)
    }

    /// Lower every day's committed bus position to at most the bus's end offsets. After an OS
    /// crash under a relaxed fsync policy the bus can lose its tail and hand those offsets to
    /// new records; without this the index would skip them as replays. Returns how many day
    /// positions were lowered.
    pub fn clamp_positions(&self, end: &BTreeMap<u32, u64>) -> usize {
        let days: Vec<_> = self.days.lock().values().cloned().collect();
        let mut lowered = 0;
        for day in days {
            let mut d = day.lock();
            for (p, next) in d.committed.iter_mut() {
                if let Some(e) = end.get(p)
                    && *next > *e
                {
                    *next = *e;
                    lowered += 1;
                }
            }
        }
        lowered
    }

    /// The bus offset up to which partition `partition` is in some day's committed index (the
    /// next offset after the highest one committed), if any. Records below it are replays.
    pub fn indexed_upto(&self, partition: u32) -> Option<u64> {
        let days: Vec<_> = self.days.lock().values().cloned().collect();
        days.iter().filter_map(|d| d.lock().committed.get(&partition).copied()).max()
    }

    /// Mark every open day as including the bus position `upto` (partition → next offset), so
    /// the next commit records it even for days that received none of those records.
    pub fn note_position(&self, upto: &BTreeMap<u32, u64>) {
        let days: Vec<_> = self.days.lock().values().cloned().collect();
        for day in days {
            let mut d = day.lock();
            if d.writer.is_some() {
                for (p, o) in upto {
                    let e = d.pending.entry(*p).or_insert(0);
                    *e = (*e).max(*o);
                }
                d.dirty = true;
            }
        }
    }

    /// Commit every day with uncommitted writes, recording the bus position, and make the new
    /// documents searchable. Writers idle for longer than `idle_close` are closed.
    pub fn commit(&self, idle_close: std::time::Duration) -> Result<()> {
        let days: Vec<_> = self.days.lock().values().cloned().collect();
        for day in days {
            let mut d = day.lock();
            if d.dirty {
                let mut position = d.committed.clone();
                for (p, o) in &d.pending {
                    let e = position.entry(*p).or_insert(0);
                    *e = (*e).max(*o);
                }
                let payload = serde_json::to_string(&position).unwrap_or_default();
                if let Some(w) = d.writer.as_mut() {
                    let mut prepared = w.prepare_commit()?;
                    prepared.set_payload(&payload);
                    prepared.commit()?;
                }
                d.committed = position;
                d.pending.clear();
                d.dirty = false;
                d.reader.reload()?;
            }
            if d.writer.is_some()
                && d.last_write.elapsed() > idle_close
                && let Some(w) = d.writer.take()
            {
                w.wait_merging_threads()?;
            }
        }
        Ok(())
    }

    fn to_doc(&self, e: &Event) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_u64(f.id, schema::id_hash(&e.id));
        doc.add_date(
            f.ts,
            tantivy::DateTime::from_timestamp_millis(e.timestamp.timestamp_millis()),
        );
        for (spec, field) in schema::FIELDS.iter().zip(&f.typed) {
            if spec.path == "organization.id" {
                if let Some(org) = &e.organization {
                    doc.add_text(*field, org);
                }
                continue;
            }
            let Some(v) = e.fields.get(spec.path) else { continue };
            add_typed(&mut doc, *field, spec.kind, v);
        }
        let mut attrs = BTreeMap::new();
        for (k, v) in &e.fields {
            if schema::spec_for(k).is_some() {
                continue;
            }
            attrs.insert(k.to_string(), owned(v));
        }
        if !attrs.is_empty() {
            doc.add_object(f.attrs, attrs);
        }
        doc.add_bytes(f.doc, e.to_json_string().as_bytes());
        doc
    }

    /// Days overlapping `[from, to)`, newest first.
    fn days_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(NaiveDate, Arc<Mutex<Day>>)> {
        let days = self.days.lock();
        days.range(from.date_naive()..=to.date_naive())
            .rev()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    fn build_query(
        &self,
        q: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        index: &Index,
    ) -> Result<Box<dyn Query>> {
        let ast = query::parse(q)?;
        let text = index
            .tokenizers()
            .get(schema::TEXT_TOKENIZER)
            .ok_or_else(|| IndexError::BadRequest("text tokenizer missing".into()))?;
        let mut compiler = query::Compiler { fields: &self.fields, text };
        let user = compiler.compile(&ast)?;
        let range = RangeQuery::new(
            std::ops::Bound::Included(Term::from_field_date(
                self.fields.ts,
                tantivy::DateTime::from_timestamp_millis(from.timestamp_millis()),
            )),
            std::ops::Bound::Excluded(Term::from_field_date(
                self.fields.ts,
                tantivy::DateTime::from_timestamp_millis(to.timestamp_millis()),
            )),
        );
        Ok(Box::new(BooleanQuery::new(vec![(Occur::Must, user), (Occur::Must, Box::new(range))])))
    }

    /// Search: matching events in `[from, to)`, newest first.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse> {
        let started = Instant::now();
        check_range(req.from, req.to)?;
        let need = req.offset + req.limit;
        let mut total = 0u64;
        let mut hits: Vec<(i64, serde_json::Value)> = Vec::new();
        for (_, day) in self.days_in(req.from, req.to) {
            let (index, searcher) = {
                let d = day.lock();
                (d.index.clone(), d.reader.searcher())
            };
            let q = self.build_query(&req.q, req.from, req.to, &index)?;
            let collected = hits.len();
            if collected >= need {
                total += searcher.search(&*q, &Count)? as u64;
                continue;
            }
            let top = TopDocs::with_limit(need - collected)
                .order_by_fast_field::<tantivy::DateTime>(schema::TS, Order::Desc);
            let (docs, count) = searcher.search(&*q, &(top, Count))?;
            total += count as u64;
            for (ts, addr) in docs {
                hits.push((
                    ts.into_timestamp_millis(),
                    load_doc(&searcher, addr, self.fields.doc)?,
                ));
            }
        }
        let hits = hits.into_iter().skip(req.offset).take(req.limit).map(|(_, d)| d).collect();
        Ok(SearchResponse { total, hits, took_ms: started.elapsed().as_millis() as u64 })
    }

    /// Count of matches per time bucket over `[from, to)`.
    pub fn histogram(
        &self,
        q: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        buckets: usize,
    ) -> Result<Histogram> {
        check_range(from, to)?;
        let buckets = buckets.clamp(1, 1000);
        let span = (to - from).num_milliseconds().max(1);
        let interval = nice_interval(span / buckets as i64);
        let start = from.timestamp_millis().div_euclid(interval) * interval;
        let n = ((to.timestamp_millis() - start + interval - 1) / interval).max(1) as usize;
        let mut counts = vec![0u64; n];
        for (_, day) in self.days_in(from, to) {
            let (index, searcher) = {
                let d = day.lock();
                (d.index.clone(), d.reader.searcher())
            };
            let q = self.build_query(q, from, to, &index)?;
            let part = searcher.search(&*q, &HistogramCollector { start, interval, n })?;
            for (c, p) in counts.iter_mut().zip(part) {
                *c += p;
            }
        }
        let buckets = counts
            .into_iter()
            .enumerate()
            .map(|(i, count)| Bucket {
                t: DateTime::from_timestamp_millis(start + i as i64 * interval).unwrap_or(from),
                count,
            })
            .collect();
        Ok(Histogram { interval_ms: interval, buckets })
    }

    /// The most frequent values of a field among matches in `[from, to)`.
    pub fn top_values(
        &self,
        field: &str,
        q: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        size: usize,
    ) -> Result<TopValues> {
        check_range(from, to)?;
        let size = size.clamp(1, 1000);
        let spec = schema::spec_for(field);
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut matched = 0u64;
        let mut sampled = false;
        for (_, day) in self.days_in(from, to) {
            let (index, searcher) = {
                let d = day.lock();
                (d.index.clone(), d.reader.searcher())
            };
            let q = self.build_query(q, from, to, &index)?;
            match spec {
                Some(spec) if spec.kind != Kind::Text => {
                    let c = TermsCollector { name: spec.name, kind: spec.kind };
                    let (part, count) = searcher.search(&*q, &(c, Count))?;
                    matched += count as u64;
                    for (k, v) in part {
                        *counts.entry(k).or_default() += v;
                    }
                }
                _ => {
                    // Fields without a column: count over the newest matching events' stored
                    // documents (bounded), and say so in the answer.
                    const SAMPLE: usize = 10_000;
                    let top = TopDocs::with_limit(SAMPLE)
                        .order_by_fast_field::<tantivy::DateTime>(schema::TS, Order::Desc);
                    let (docs, count) = searcher.search(&*q, &(top, Count))?;
                    matched += count as u64;
                    sampled |= count > SAMPLE;
                    for (_, addr) in docs {
                        let doc = load_doc(&searcher, addr, self.fields.doc)?;
                        match doc.get(field) {
                            Some(serde_json::Value::Array(items)) => {
                                for it in items {
                                    *counts.entry(json_text(it)).or_default() += 1;
                                }
                            }
                            Some(serde_json::Value::Null) | None => {}
                            Some(v) => *counts.entry(json_text(v)).or_default() += 1,
                        }
                    }
                }
            }
        }
        let mut values: Vec<TopValue> =
            counts.into_iter().map(|(value, count)| TopValue { value, count }).collect();
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        let with_field: u64 = values.iter().map(|v| v.count).sum();
        values.truncate(size);
        let shown: u64 = values.iter().map(|v| v.count).sum();
        Ok(TopValues {
            field: field.to_owned(),
            values,
            other: with_field - shown,
            total: matched,
            sampled,
        })
    }

    /// Total documents per day (for status pages and tests).
    pub fn doc_counts(&self) -> BTreeMap<NaiveDate, u64> {
        let days: Vec<_> = self.days.lock().iter().map(|(k, v)| (*k, v.clone())).collect();
        days.into_iter().map(|(k, d)| (k, d.lock().reader.searcher().num_docs())).collect()
    }

    /// Apply retention: delete days older than `max_age_days`, then the oldest days while free
    /// disk space is below `min_free_bytes` (never today's). Returns the deleted days.
    pub fn enforce_retention(&self, now: DateTime<Utc>) -> Result<Vec<NaiveDate>> {
        let mut deleted = Vec::new();
        let today = now.date_naive();
        if self.cfg.max_age_days > 0 {
            let cutoff = today - chrono::Duration::days(i64::from(self.cfg.max_age_days));
            let old: Vec<NaiveDate> = self.days.lock().range(..cutoff).map(|(k, _)| *k).collect();
            for d in old {
                self.delete_day(d)?;
                deleted.push(d);
            }
        }
        if self.cfg.min_free_bytes > 0 {
            while free_bytes(&self.root).is_some_and(|f| f < self.cfg.min_free_bytes) {
                let oldest = self.days.lock().keys().next().copied();
                match oldest {
                    Some(d) if d < today => {
                        self.delete_day(d)?;
                        deleted.push(d);
                    }
                    _ => break,
                }
            }
        }
        Ok(deleted)
    }

    fn delete_day(&self, date: NaiveDate) -> Result<()> {
        let day = self.days.lock().remove(&date);
        if let Some(day) = day {
            let mut d = day.lock();
            if let Some(w) = d.writer.take() {
                drop(w);
            }
        }
        let dir = self.root.join(date.format("%Y-%m-%d").to_string());
        tracing::info!(day = %date, "retention: deleting day index");
        std::fs::remove_dir_all(&dir).map_err(io_err(&dir))
    }
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    if to <= from {
        return Err(IndexError::BadRequest("`to` must be after `from`".into()));
    }
    Ok(())
}

fn free_bytes(path: &Path) -> Option<u64> {
    let st = nix::sys::statvfs::statvfs(path).ok()?;
    Some(st.blocks_available() * st.fragment_size())
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn load_doc(
    searcher: &tantivy::Searcher,
    addr: DocAddress,
    field: tantivy::schema::Field,
) -> Result<serde_json::Value> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    use tantivy::schema::Value as _;
    let bytes = doc.get_first(field).and_then(|v| v.as_bytes());
    Ok(bytes.and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(serde_json::Value::Null))
}

fn add_typed(doc: &mut TantivyDocument, field: tantivy::schema::Field, kind: Kind, v: &Value) {
    if let Value::List(items) = v {
        for it in items {
            add_typed(doc, field, kind, it);
        }
        return;
    }
    match kind {
        Kind::Keyword | Kind::Text => {
            let s = v.to_text();
            if !s.is_empty() {
                doc.add_text(field, s);
            }
        }
        Kind::Ip => {
            if let Some(ip) = v.as_ip() {
                doc.add_ip_addr(field, to_v6(ip));
            }
        }
        Kind::Int => {
            if let Some(n) = v.as_i64() {
                doc.add_i64(field, n);
            }
        }
    }
}

fn from_v6(ip: Ipv6Addr) -> IpAddr {
    match ip.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(ip),
    }
}

fn owned(v: &Value) -> OwnedValue {
    match v {
        Value::Str(s) => OwnedValue::Str(s.clone()),
        Value::Int(i) => OwnedValue::I64(*i),
        Value::Float(f) => OwnedValue::F64(*f),
        Value::Bool(b) => OwnedValue::Bool(*b),
        Value::Ip(ip) => OwnedValue::Str(ip.to_string()),
        Value::Time(t) => {
            OwnedValue::Date(tantivy::DateTime::from_timestamp_millis(t.timestamp_millis()))
        }
        Value::List(items) => OwnedValue::Array(items.iter().map(owned).collect()),
        Value::Json(j) => OwnedValue::from((**j).clone()),
    }
}

/// Pick a round bucket width (ms) at least `min`.
fn nice_interval(min: i64) -> i64 {
    const STEPS: &[i64] = &[
        1_000,
        2_000,
        5_000,
        10_000,
        15_000,
        30_000,
        60_000,
        120_000,
        300_000,
        600_000,
        900_000,
        1_800_000,
        3_600_000,
        7_200_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        172_800_000,
        604_800_000,
    ];
    STEPS.iter().copied().find(|s| *s >= min).unwrap_or(((min / 86_400_000) + 1) * 86_400_000)
}

/// A search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Query text.
    pub q: String,
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Page size.
    pub limit: usize,
    /// Page start.
    pub offset: usize,
}

/// Search results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    /// Number of matches.
    pub total: u64,
    /// The page of events (flat dotted ECS JSON), newest first.
    pub hits: Vec<serde_json::Value>,
    /// Time taken.
    pub took_ms: u64,
}

/// A histogram.
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// Bucket width.
    pub interval_ms: i64,
    /// Buckets in time order.
    pub buckets: Vec<Bucket>,
}

/// One histogram bucket.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Bucket start.
    pub t: DateTime<Utc>,
    /// Matches in the bucket.
    pub count: u64,
}

/// Top values of a field.
#[derive(Debug, Clone, Serialize)]
pub struct TopValues {
    /// The field.
    pub field: String,
    /// Values, most frequent first.
    pub values: Vec<TopValue>,
    /// Count of occurrences of values not shown.
    pub other: u64,
    /// Matching events.
    pub total: u64,
    /// True when counted over a sample of the newest matches (fields without a column).
    pub sampled: bool,
}

/// One value and its count.
#[derive(Debug, Clone, Serialize)]
pub struct TopValue {
    /// The value.
    pub value: String,
    /// How often.
    pub count: u64,
}

struct HistogramCollector {
    start: i64,
    interval: i64,
    n: usize,
}

struct HistogramSegment {
    col: tantivy::columnar::Column<tantivy::DateTime>,
    start: i64,
    interval: i64,
    counts: Vec<u64>,
}

impl Collector for HistogramCollector {
    type Fruit = Vec<u64>;
    type Child = HistogramSegment;

    fn for_segment(&self, _ord: u32, reader: &SegmentReader) -> tantivy::Result<HistogramSegment> {
        Ok(HistogramSegment {
            col: reader.fast_fields().date(schema::TS)?,
            start: self.start,
            interval: self.interval,
            counts: vec![0; self.n],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        let mut out = vec![0; self.n];
        for f in fruits {
            for (o, v) in out.iter_mut().zip(f) {
                *o += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for HistogramSegment {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(t) = self.col.first(doc) {
            let b = (t.into_timestamp_millis() - self.start).div_euclid(self.interval);
            if let Some(c) = usize::try_from(b).ok().and_then(|b| self.counts.get_mut(b)) {
                *c += 1;
            }
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.counts
    }
}

struct TermsCollector {
    name: &'static str,
    kind: Kind,
}

enum TermsSegment {
    Str { col: Option<tantivy::columnar::StrColumn>, counts: HashMap<u64, u64> },
    Ip { col: tantivy::columnar::Column<Ipv6Addr>, counts: HashMap<Ipv6Addr, u64> },
    Int { col: tantivy::columnar::Column<i64>, counts: HashMap<i64, u64> },
}

impl Collector for TermsCollector {
    type Fruit = HashMap<String, u64>;
    type Child = TermsSegment;

    fn for_segment(&self, _ord: u32, reader: &SegmentReader) -> tantivy::Result<TermsSegment> {
        let ff = reader.fast_fields();
        Ok(match self.kind {
            Kind::Ip => TermsSegment::Ip { col: ff.ip_addr(self.name)?, counts: HashMap::new() },
            Kind::Int => TermsSegment::Int { col: ff.i64(self.name)?, counts: HashMap::new() },
            _ => TermsSegment::Str { col: ff.str(self.name)?, counts: HashMap::new() },
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<HashMap<String, u64>>,
    ) -> tantivy::Result<HashMap<String, u64>> {
        let mut out: HashMap<String, u64> = HashMap::new();
        for f in fruits {
            for (k, v) in f {
                *out.entry(k).or_default() += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for TermsSegment {
    type Fruit = HashMap<String, u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        match self {
            TermsSegment::Str { col: Some(col), counts } => {
                for ord in col.term_ords(doc) {
                    *counts.entry(ord).or_default() += 1;
                }
            }
            TermsSegment::Str { col: None, .. } => {}
            TermsSegment::Ip { col, counts } => {
                for v in col.values_for_doc(doc) {
                    *counts.entry(v).or_default() += 1;
                }
            }
            TermsSegment::Int { col, counts } => {
                for v in col.values_for_doc(doc) {
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
    }

    fn harvest(self) -> HashMap<String, u64> {
        match self {
            TermsSegment::Str { col: Some(col), counts } => {
                // Resolve ordinals in one sorted pass over the term dictionary (one lookup per
                // value opened a decompression context each: 150x slower on many values).
                let mut sorted: Vec<(u64, u64)> = counts.into_iter().collect();
                sorted.sort_unstable_by_key(|(ord, _)| *ord);
                let mut out = HashMap::with_capacity(sorted.len());
                let mut counts = sorted.iter().map(|(_, c)| *c);
                let _ = col.dictionary().sorted_ords_to_term_cb(
                    sorted.iter().map(|(o, _)| *o),
                    |bytes| {
                        let c = counts.next().unwrap_or(0);
                        *out.entry(String::from_utf8_lossy(bytes).into_owned()).or_default() += c;
                        Ok(())
                    },
                );
                out
            }
            TermsSegment::Str { col: None, .. } => HashMap::new(),
            TermsSegment::Ip { counts, .. } => {
                counts.into_iter().map(|(k, v)| (from_v6(k).to_string(), v)).collect()
            }
            TermsSegment::Int { counts, .. } => {
                counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests;
