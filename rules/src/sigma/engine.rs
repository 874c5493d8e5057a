//! Sen's Sigma engine: rsigma's compiled rules behind Sen's own routing, prefilter and event
//! view (ADR 0008).
//!
//! [`RuleSet::load`] parses every Sigma document under the given paths and keeps every error
//! ([`LoadReport`]); [`SigmaEngine::new`] compiles the rules (every compile error reported too,
//! naming file and rule), applies Sigma filters, rewrites field names ([`super::fields`]) and
//! derives each rule's prefilter needles ([`super::prefilter`]). [`SigmaEngine::evaluate`] then
//! takes one `&sen_core::Event`:
//!
//! 1. its class ([`super::logsource`]) selects a cached plan: the rules whose logsource
//!    admits the class and, per field their needles name, one shared [`Scan`];
//! 2. one pass over the event's fields finds the scanned ones (by hash, not one map lookup
//!    per scanned field); each value is lower-cased once and scanned once, which marks the
//!    prefilter clauses whose needle occurred; a rule becomes a candidate when every one of
//!    its clauses is marked, or when it has none, unless a kill needle occurred (a value that
//!    makes one of its negated filters hold, [`super::prefilter::rule_kills`]);
//! 3. the candidates are evaluated over a zero-copy [`SigmaView`]: for alerting
//!    ([`SigmaEngine::evaluate_for_alerts`], the [`DetectionEngine`] the pipeline uses) on the
//!    rules' compact form ([`super::compact`]), each match naming its rule; for explaining
//!    ([`SigmaEngine::evaluate_event`], `sen rules test`) by rsigma's `evaluate_rule`, with
//!    the selections and fields that matched.
//!
//! The engine is `Sync`: evaluate from as many threads as you like.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use rsigma_eval::{CompiledRule, EvaluationResult, ResultBody};
use rsigma_parser::{CorrelationRule, FilterRule, FilterRuleTarget, SigmaRule};
use rustc_hash::{FxHashMap, FxHashSet};
use sen_core::event::Event;
use sen_core::fields::Name;
use serde::Serialize;

use super::fields::{mapping_for, rewrite_rule};
use super::logsource::{EventFacts, LogClass, classify, event_facts};
use super::lower::{Joined, lowered};
use super::prefilter::{
    Clause, Known, MAX_CLAUSES, Needle, Scope, rule_kills, rule_needles, rule_needles_in,
};
use super::scan::{KILL, Scan, ScanBuilder};
use super::view::{SigmaView, keyword_searched, value, visit_value};
use crate::check::RuleError;
use sen_core::event::Value;

/// Sigma documents loaded from files, with where each came from.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    /// Detection rules and their files.
    pub rules: Vec<(SigmaRule, PathBuf)>,
    /// Correlation rules and their files.
    pub correlations: Vec<(CorrelationRule, PathBuf)>,
    /// Filters and their files.
    pub filters: Vec<(FilterRule, PathBuf)>,
    /// YAML files read.
    pub files: usize,
    /// Every problem met while reading and parsing.
    pub errors: Vec<RuleError>,
}

impl RuleSet {
    /// Read every `.yml`/`.yaml` file under each path (files or directory trees).
    pub fn load(paths: &[PathBuf]) -> RuleSet {
        let mut set = RuleSet::default();
        for p in paths {
            set.add_path(p);
        }
        set
    }

    /// Read one file or directory tree.
    pub fn add_path(&mut self, path: &Path) {
        if !path.exists() {
            self.errors.push(RuleError {
                file: path.to_owned(),
                rule: None,
                reason: "no such file or directory".into(),
            });
            return;
        }
        let mut files = Vec::new();
        crate::check::yaml_files(path, &mut files, &mut self.errors);
        for f in files {
            self.files += 1;
            match std::fs::read_to_string(&f) {
                Ok(text) => self.add_yaml(&text, &f),
                Err(e) => {
                    self.errors.push(RuleError { file: f, rule: None, reason: e.to_string() })
                }
            }
        }
    }

    /// Parse Sigma YAML (one or more documents) read from `file`.
    pub fn add_yaml(&mut self, text: &str, file: &Path) {
        match rsigma_parser::parse_sigma_yaml(text) {
            Ok(c) => {
                for e in c.errors {
                    self.errors.push(RuleError { file: file.to_owned(), rule: None, reason: e });
                }
                self.rules.extend(c.rules.into_iter().map(|r| (r, file.to_owned())));
                self.correlations.extend(c.correlations.into_iter().map(|r| (r, file.to_owned())));
                self.filters.extend(c.filters.into_iter().map(|r| (r, file.to_owned())));
            }
            Err(e) => self.errors.push(RuleError {
                file: file.to_owned(),
                rule: None,
                reason: e.to_string(),
            }),
        }
    }
}

/// Call `f` on every leaf of a compiled rule's detections (a selection's items, a keyword
/// list), through `and`, `or` and conditional groupings. Array matches are left alone: their
/// names are relative to the array member.
fn for_each_leaf(rule: &mut CompiledRule, f: &mut impl FnMut(&mut rsigma_eval::CompiledDetection)) {
    fn walk(
        d: &mut rsigma_eval::CompiledDetection,
        f: &mut impl FnMut(&mut rsigma_eval::CompiledDetection),
    ) {
        use rsigma_eval::CompiledDetection as D;
        match d {
            D::AnyOf(ds) | D::And(ds) => ds.iter_mut().for_each(|d| walk(d, f)),
            D::Conditional { named, .. } => named.values_mut().for_each(|d| walk(d, f)),
            D::ArrayMatch { .. } => {}
            D::AllOf(_) | D::Keywords(_) => f(d),
        }
    }
    rule.detections.values_mut().for_each(|d| walk(d, f));
}

/// Give field-less items of a selection map (`keywords: {'|all': [a, b]}`) the keyword
/// semantics Sigma defines for them: each value is a substring of some value of the event.
/// rsigma compiles them like field values (exact match), so SigmaHQ rules written this way
/// (12 of them, e.g. "Binary Padding - Linux") would never match.
fn keyword_items_contain(rule: &mut CompiledRule) {
    fn matcher(m: &mut rsigma_eval::CompiledMatcher) {
        use rsigma_eval::CompiledMatcher as M;
        match m {
            M::Exact { value, case_insensitive } => {
                *m = M::Contains {
                    value: std::mem::take(value),
                    case_insensitive: *case_insensitive,
                }
            }
            M::AnyOf(ms) | M::AllOf(ms) => ms.iter_mut().for_each(matcher),
            _ => {}
        }
    }
    for_each_leaf(rule, &mut |d| {
        if let rsigma_eval::CompiledDetection::AllOf(items) = d {
            for item in items.iter_mut().filter(|i| i.field.is_none() && i.exists.is_none()) {
                matcher(&mut item.matcher);
            }
        }
    });
}

/// Rebuild rsigma's Aho-Corasick sets as contiguous NFAs. rsigma builds them with the crate's
/// defaults, a DFA for small sets: about 18 MB for the SigmaHQ rules, for automata that only run
/// on the few events the prefilter lets through (and only ask whether any needle occurs). The
/// NFA answers the same for a tenth of the memory.
fn compact_automata(rule: &mut CompiledRule) {
    fn matcher(m: &mut rsigma_eval::CompiledMatcher) {
        use rsigma_eval::CompiledMatcher as M;
        match m {
            M::AhoCorasickSet { automaton, needles, .. } => {
                if let Ok(nfa) = aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build(needles.iter())
                {
                    *automaton = nfa;
                }
            }
            M::AnyOf(ms) | M::AllOf(ms) => ms.iter_mut().for_each(matcher),
            M::CaseInsensitiveGroup { children, .. } => children.iter_mut().for_each(matcher),
            M::Not(inner) => matcher(inner),
            M::TimestampPart { inner, .. } => matcher(inner),
            _ => {}
        }
    }
    for_each_leaf(rule, &mut |d| match d {
        rsigma_eval::CompiledDetection::AllOf(items) => {
            items.iter_mut().for_each(|i| matcher(&mut i.matcher))
        }
        rsigma_eval::CompiledDetection::Keywords(m) => matcher(m),
        _ => {}
    });
}

/// What a rule is, for alerts and reports.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// The rule's `id`, else its `name`, else its title.
    pub id: String,
    /// The `name` (correlation rules refer to rules by it).
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Level (`informational` … `critical`); `medium` when the rule sets none.
    pub level: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Author(s), as the rule names them (SigmaHQ's licence, DRL 1.1, asks that messages based
    /// on a rule's matches keep them).
    pub author: Option<String>,
    /// Logsource product, service, category.
    pub product: Option<String>,
    /// Logsource service.
    pub service: Option<String>,
    /// Logsource category.
    pub category: Option<String>,
    /// The file it came from.
    pub file: PathBuf,
    /// Referenced by a correlation rule with `generate: false` (the default): its matches feed
    /// the correlation and raise no alert of their own.
    pub correlation_only: bool,
}

/// Counts and errors of a load.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// YAML files read.
    pub files: usize,
    /// Detection rules compiled and loaded.
    pub loaded: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Filters applied.
    pub filters: usize,
    /// Documents or rules that failed (each in `errors`).
    pub failed: usize,
    /// Rules the prefilter can skip (have needles) / must always evaluate.
    pub prefiltered: usize,
    /// Built-in pack rules not loaded because a rule of the given paths has the same id.
    pub shadowed: usize,
    /// Every error.
    pub errors: Vec<RuleError>,
}

/// One rule matched one event.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index of the rule in [`SigmaEngine::rules`] (its title, level, tags: [`RuleInfo`]).
    pub rule: usize,
    /// rsigma's result (the rule's header, matched selections and fields), when the
    /// evaluation built one: always for [`SigmaEngine::evaluate_event`]; on the alerting path
    /// ([`SigmaEngine::evaluate_for_alerts`]) only for the few rules the compact form does not
    /// describe. Alerts read the rule by its index; rsigma's correlation takes the header,
    /// built on demand by [`SigmaEngine::result_of`].
    pub result: Option<EvaluationResult>,
}

impl Hit {
    /// Names of the selections that matched (none in a result built for alerts,
    /// [`SigmaEngine::evaluate_for_alerts`]).
    pub fn selections(&self) -> &[String] {
        match self.result.as_ref().map(|r| &r.body) {
            Some(ResultBody::Detection(d)) => &d.matched_selections,
            _ => &[],
        }
    }

    /// Matched (field, value) pairs (none in a result built for alerts).
    pub fn fields(&self) -> Vec<(String, String)> {
        match self.result.as_ref().map(|r| &r.body) {
            Some(ResultBody::Detection(d)) => d
                .matched_fields
                .iter()
                .map(|f| {
                    let v = match &f.value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (f.field.clone(), v)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The detection engine interface the pipeline uses (ADR 0008): nothing outside `sen-rules`
/// names an rsigma type to evaluate events.
pub trait DetectionEngine: Send + Sync {
    /// The loaded rules.
    fn rules(&self) -> &[RuleInfo];
    /// Evaluate one event for alerting, appending every match to `out`. A match may carry no
    /// rsigma result ([`SigmaEngine::evaluate_for_alerts`]; [`SigmaEngine::evaluate_event`]
    /// has them, [`SigmaEngine::result_of`] builds its header).
    fn evaluate(&self, event: &Event, out: &mut Vec<Hit>);
}

/// One event class's evaluation plan.
struct Plan {
    /// Whether any rule admits the class.
    any: bool,
    /// Rules evaluated without looking at the prefilter (engine indices, ascending).
    always: Vec<u32>,
    /// One scan per field some admitted rule has needles for.
    scans: Vec<Arc<Scan>>,
    /// Event field name → the scans fed by its value: the scan of that field and, for
    /// `winlog.user_data.X`, the scan of `winlog.event_data.X` (the view's fallback).
    by_key: FxHashMap<Box<str>, [u32; 2]>,
    /// A filter in front of `by_key`: one bit per (length, last byte) signature of its keys.
    /// Most of an event's fields have no scan; the filter rejects them without hashing the name.
    key_filter: KeyFilter,
    /// Scans whose field only the view resolves (bare Sigma names, `@timestamp`, `event.*`).
    via_view: Vec<u32>,
    /// The scan of Sigma's `Data` ([`super::view::WHOLE_EVENT_DATA`]), which every
    /// `winlog.event_data` value feeds when the event has no field of that name, or
    /// [`NO_SCAN`].
    whole_data: u32,
    /// The keyword scan.
    keyword: Option<Arc<Scan>>,
    /// Clauses per rule, when some rule has other clauses in this class than the engine's
    /// ([`Known`]).
    nclauses: Option<Box<[u8]>>,
}

/// A 256-bit set of field-name signatures (see [`Plan::key_filter`]).
#[derive(Debug, Default, Clone)]
struct KeyFilter([u64; 4]);

impl KeyFilter {
    fn bit(key: &str) -> usize {
        let last = key.as_bytes().last().copied().unwrap_or(0) as usize;
        (key.len().wrapping_mul(31) ^ last.wrapping_mul(7)) & 255
    }

    fn insert(&mut self, key: &str) {
        let b = Self::bit(key);
        self.0[b >> 6] |= 1 << (b & 63);
    }

    fn may_contain(&self, key: &str) -> bool {
        let b = Self::bit(key);
        self.0[b >> 6] & (1 << (b & 63)) != 0
    }
}

/// Stripes of [`Counter`]: threads add to different cache lines.
const STRIPES: usize = 16;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(AtomicU64);

/// A counter that many threads add to, each to its own stripe, so that counting does not make
/// the evaluating threads take turns over one cache line.
#[derive(Debug, Default)]
struct Counter([Stripe; STRIPES]);

static NEXT_STRIPE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

impl Counter {
    fn add(&self, n: u64) {
        let i = STRIPE.with(|i| *i);
        self.0[i].0.fetch_add(n, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// What to call after the engine has rebuilt plans without common needles: the process's way
/// of handing the memory it freed back to the system (`sen serve` sets mimalloc's collect).
static RELEASE_HOOK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Set, once per process, what to call after the engine has rebuilt plans without common
/// needles and so freed plans and automata: the process's way of handing that memory back to
/// the system (`sen serve` sets mimalloc's collect). Later calls are ignored.
pub fn set_release_hook(hook: fn()) {
    let _ = RELEASE_HOOK.set(hook);
}

/// Engine identities, for the per-thread plan caches.
static NEXT_ENGINE: AtomicU64 = AtomicU64::new(1);

/// Per-thread evaluation scratch: generation stamps instead of clearing per event.
#[derive(Default)]
struct Scratch {
    generation: u32,
    /// Per rule: the generation (high 24 bits) and which of its clauses are marked (low 8
    /// bits, one per clause: [`MAX_CLAUSES`]), in one word: a mark loads and stores one word
    /// of a small array, and nothing per clause.
    rule_state: Vec<u32>,
    /// Per rule: the generation in which a kill needle made it false.
    dead: Vec<u32>,
    scan_gen: Vec<u32>,
    candidates: Vec<u32>,
    lower: Vec<u8>,
    num: String,
    /// The keyword-searched text values of the event, lower-cased, NUL-separated: one SIMD
    /// scan for all of them instead of one call per value.
    text: Joined,
    /// Field scans waiting for `text` to be lowered: the [`Plan::by_key`] slot (scan index
    /// and alias bit) and the value's index in `text`.
    deferred: Vec<(u32, u32)>,
    /// Values the compact evaluation lowered ([`super::compact::Lowered`]).
    lowered_values: super::compact::Lowered,
    /// This thread's copy of the plans it used, for the engine and plan generation in
    /// `plans_of`: finding a plan takes no lock and touches no shared reference count, which
    /// every parse worker would otherwise write for every event.
    plans: FxHashMap<u64, LocalPlan>,
    plans_of: (u64, u64),
}

/// A plan as one thread holds it: the plan, and what its fields resolved to in the last event
/// of the class this thread saw.
struct LocalPlan {
    plan: Arc<Plan>,
    /// By position in the event's field map: the interned field name's address and what it
    /// resolved to. Events of one class nearly always have the same fields in the same (name)
    /// order, so a field is resolved by comparing one address instead of hashing its name
    /// into [`Plan::by_key`] and comparing it with the plan's copy.
    fields: Vec<Resolved>,
}

/// What one field name resolves to in a plan.
#[derive(Clone, Copy)]
struct Resolved {
    /// The interned name's address (interned names are unique: equal addresses, equal
    /// names); 0 for a name that is not interned (never cached).
    name: usize,
    /// Its [`Plan::by_key`] slots (the first [`NO_SCAN`] when it has none).
    slots: [u32; 2],
    /// Whether the keyword search reads it ([`keyword_searched`]).
    keyword: bool,
}

impl Resolved {
    /// Resolve the field at `position` of an event, named `key`, in `plan`, through and
    /// into `cache` ([`LocalPlan::fields`]).
    #[inline]
    fn get(plan: &Plan, cache: &mut Vec<Resolved>, position: usize, key: &Name) -> Resolved {
        let name = key.shared().map_or(0, |s| s.as_ptr() as usize);
        if name != 0
            && let Some(r) = cache.get(position)
            && r.name == name
        {
            return *r;
        }
        let slots =
            if plan.key_filter.may_contain(key) { plan.by_key.get(key.as_str()) } else { None };
        // Every event-data value feeds the scan of Sigma's `Data` (as the view resolves it
        // when the event has no field of that name; kills off, as through an alias).
        let whole = (plan.whole_data != NO_SCAN && key.starts_with("winlog.event_data."))
            .then_some([plan.whole_data | ALIAS | MANY, NO_SCAN]);
        let r = Resolved {
            name,
            slots: slots.copied().or(whole).unwrap_or([NO_SCAN, NO_SCAN]),
            keyword: keyword_searched(key),
        };
        if name != 0 {
            if position < cache.len() {
                cache[position] = r;
            } else if position == cache.len() {
                cache.push(r);
            }
        }
        r
    }
}

impl Scratch {
    /// Start an event: a fresh generation, arrays sized for this engine and plan.
    fn begin(&mut self, rules: usize, scans: usize) -> u32 {
        if self.generation == GENERATIONS - 1 {
            self.generation = 0;
            self.rule_state.iter_mut().for_each(|g| *g = 0);
            self.dead.iter_mut().for_each(|g| *g = 0);
            self.scan_gen.iter_mut().for_each(|g| *g = 0);
        }
        self.generation += 1;
        if self.rule_state.len() < rules {
            self.rule_state.resize(rules, 0);
            self.dead.resize(rules, 0);
        }
        if self.scan_gen.len() < scans {
            self.scan_gen.resize(scans, 0);
        }
        self.candidates.clear();
        self.generation
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Engine counters.
#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct EngineStats {
    /// Events evaluated.
    pub events: u64,
    /// Rule evaluations run (after routing and prefilter).
    pub evaluations: u64,
    /// Matches.
    pub hits: u64,
    /// Distinct event classes seen.
    pub classes: u64,
    /// Distinct prefilter scans built (shared between classes).
    pub scans: u64,
    /// Their approximate heap size in bytes.
    pub scan_bytes: u64,
    /// `contains` needles dropped from their field's automaton because they occur in most
    /// of its values (their clauses count as satisfied).
    pub common_needles: u64,
}

/// Sen's Sigma engine.
pub struct SigmaEngine {
    rules: Vec<CompiledRule>,
    info: Vec<RuleInfo>,
    /// Per rule: its prefilter clauses (`None`: always evaluated).
    cnf: Vec<Option<Vec<Clause>>>,
    /// Per rule: whether its clauses depend on the class (it tests the EventID or the channel,
    /// [`Known`]); such a rule's plans derive them again.
    class_sensitive: Vec<bool>,
    /// Per rule: needles whose occurrence makes it false ([`rule_kills`]).
    kills: Vec<Vec<Needle>>,
    /// The rules in compact form, which the alerting path evaluates ([`super::compact`]).
    compact: super::compact::Compact,
    /// Per rule: how many clauses it has. Clause `i` of rule `r` has the id
    /// [`clause_id`]`(r, i)`: the rule and the clause's bit are read off the id.
    nclauses: Vec<u8>,
    plans: RwLock<HashMap<u64, Arc<Plan>>>,
    /// Every scan built, by fingerprint, for sharing between plans.
    scans: Mutex<FxHashMap<u128, Arc<Scan>>>,
    /// `contains` needles found in most values of their scope ([`Scan::common`]): plans built
    /// from now on leave them out of the automaton and count their clauses as satisfied.
    common: RwLock<FxHashMap<Scope, FxHashSet<String>>>,
    /// Raised by a scan that has judged some of its needles common.
    common_found: Arc<AtomicBool>,
    events: Counter,
    evaluations: Counter,
    hits: Counter,
    /// This engine's identity and the generation of its plan cache (bumped when the cache is
    /// emptied), which the per-thread copies check.
    id: u64,
    plan_generation: AtomicU64,
}

impl std::fmt::Debug for SigmaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaEngine").field("rules", &self.rules.len()).finish()
    }
}

/// A Sigma level's name; `medium` when the rule sets none.
pub(crate) fn level_name(l: Option<rsigma_parser::Level>) -> String {
    use rsigma_parser::Level;
    match l {
        Some(Level::Informational) => "informational",
        Some(Level::Low) => "low",
        Some(Level::Medium) | None => "medium",
        Some(Level::High) => "high",
        Some(Level::Critical) => "critical",
    }
    .to_owned()
}

/// Rule key for errors and lookups: id, else name, else title.
fn rule_key(id: &Option<String>, name: &Option<String>, title: &str) -> String {
    id.clone().or_else(|| name.clone()).unwrap_or_else(|| title.to_owned())
}

impl SigmaEngine {
    /// Compile a rule set. Every rule that fails is reported with its file and reason, the
    /// others load.
    pub fn new(set: &RuleSet) -> (SigmaEngine, LoadReport) {
        let mut report =
            LoadReport { files: set.files, errors: set.errors.clone(), ..LoadReport::default() };
        report.failed = report.errors.len();
        // Rules named by a correlation with generate: false raise no alert of their own.
        let mut correlation_only: HashSet<&str> = HashSet::new();
        for (c, _) in &set.correlations {
            if !c.generate {
                correlation_only.extend(c.rules.iter().map(String::as_str));
            }
        }
        let mut seen_ids: HashMap<String, PathBuf> = HashMap::new();
        let mut rules = Vec::with_capacity(set.rules.len());
        let mut info = Vec::with_capacity(set.rules.len());
        for (rule, file) in &set.rules {
            let key = rule_key(&rule.id, &rule.name, &rule.title);
            if let Some(id) = &rule.id
                && let Some(first) = seen_ids.get(id)
            {
                // A built-in pack rule copied from SigmaHQ (rules/packs/zeek) is shadowed by the
                // same rule in the operator's own rule tree, which loads first: the operator's
                // copy wins, and that is not an error.
                if file.to_string_lossy().starts_with("builtin:")
                    && !first.to_string_lossy().starts_with("builtin:")
                {
                    report.shadowed += 1;
                    continue;
                }
                report.failed += 1;
                report.errors.push(RuleError {
                    file: file.clone(),
                    rule: Some(key),
                    reason: format!("duplicate rule id (first defined in {})", first.display()),
                });
                continue;
            }
            match rsigma_eval::compile_rule(rule) {
                Ok(mut c) => {
                    keyword_items_contain(&mut c);
                    compact_automata(&mut c);
                    let ls = &rule.logsource;
                    rewrite_rule(
                        &mut c,
                        &mapping_for(
                            ls.product.as_deref(),
                            ls.service.as_deref(),
                            ls.category.as_deref(),
                        ),
                    );
                    if let Some(id) = &rule.id {
                        seen_ids.insert(id.clone(), file.clone());
                    }
                    let only = rule.id.as_deref().is_some_and(|i| correlation_only.contains(i))
                        || rule.name.as_deref().is_some_and(|n| correlation_only.contains(n));
                    info.push(RuleInfo {
                        id: key,
                        name: rule.name.clone(),
                        title: rule.title.clone(),
                        level: level_name(rule.level),
                        tags: rule.tags.clone(),
                        description: rule.description.clone(),
                        author: rule.author.clone(),
                        product: ls.product.clone(),
                        service: ls.service.clone(),
                        category: ls.category.clone(),
                        file: file.clone(),
                        correlation_only: only,
                    });
                    rules.push(c);
                }
                Err(e) => {
                    report.failed += 1;
                    report.errors.push(RuleError {
                        file: file.clone(),
                        rule: Some(key),
                        reason: e.to_string(),
                    });
                }
            }
        }
        for (filter, file) in &set.filters {
            match apply_filter(&mut rules, filter) {
                Ok(_) => report.filters += 1,
                Err(reason) => {
                    report.failed += 1;
                    report.errors.push(RuleError {
                        file: file.clone(),
                        rule: Some(rule_key(&filter.id, &filter.name, &filter.title)),
                        reason,
                    });
                }
            }
        }
        let cnf: Vec<_> = rules.iter().map(rule_needles).collect();
        let kills: Vec<_> =
            rules.iter().zip(&cnf).map(|(r, c)| rule_kills(r, c.is_none())).collect();
        let class_sensitive: Vec<bool> = rules.iter().map(Known::concerns).collect();
        // MAX_CLAUSES bounds each count far below u8::MAX.
        let nclauses: Vec<u8> = cnf.iter().map(|c| c.as_ref().map_or(0, Vec::len) as u8).collect();
        report.loaded = rules.len();
        report.prefiltered = cnf.iter().filter(|n| n.is_some()).count();
        report.correlations = set.correlations.len();
        let compact = super::compact::Compact::new(&rules);
        let engine = SigmaEngine {
            compact,
            kills,
            rules,
            info,
            cnf,
            class_sensitive,
            nclauses,
            plans: RwLock::new(HashMap::new()),
            scans: Mutex::new(FxHashMap::default()),
            common: RwLock::new(FxHashMap::default()),
            common_found: Arc::new(AtomicBool::new(false)),
            events: Counter::default(),
            evaluations: Counter::default(),
            hits: Counter::default(),
            id: NEXT_ENGINE.fetch_add(1, Ordering::Relaxed),
            plan_generation: AtomicU64::new(0),
        };
        (engine, report)
    }

    /// Load and compile every Sigma document under `paths`.
    pub fn load(paths: &[PathBuf]) -> (SigmaEngine, RuleSet, LoadReport) {
        let set = RuleSet::load(paths);
        let (engine, report) = SigmaEngine::new(&set);
        (engine, set, report)
    }

    /// The compiled rules (same order as [`SigmaEngine::rules`]).
    pub fn compiled(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        // One lock at a time: `drop_common_needles` holds the plans, then the common set, then
        // the scans, and holding any of them here while taking another could deadlock with it.
        let classes = self.plans.read().len() as u64;
        let common_needles = self.common.read().values().map(|n| n.len() as u64).sum();
        let (scans, scan_bytes) = {
            let scans = self.scans.lock();
            (scans.len() as u64, scans.values().map(|s| s.memory() as u64).sum())
        };
        EngineStats {
            events: self.events.get(),
            evaluations: self.evaluations.get(),
            hits: self.hits.get(),
            classes,
            scans,
            scan_bytes,
            common_needles,
        }
    }

    /// Index of the rule with this id, name or title.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.info
            .iter()
            .position(|r| r.id == key || r.name.as_deref() == Some(key) || r.title == key)
    }

    fn plan(&self, event: &Event, facts: &EventFacts<'_>) -> Arc<Plan> {
        let key = facts.key;
        if let Some(p) = self.plans.read().get(&key) {
            return p.clone();
        }
        let class = classify(event);
        let plan = Arc::new(self.build_plan(&class, &known_of(facts)));
        let mut plans = self.plans.write();
        // Bound the cache: classes are few in practice (channel × EventID, module × dataset);
        // if something floods it with distinct classes, start over rather than grow forever.
        if plans.len() >= 4096 {
            plans.clear();
            self.scans.lock().clear();
            self.plan_generation.fetch_add(1, Ordering::Relaxed);
        }
        plans.entry(key).or_insert(plan).clone()
    }

    /// Indices of the rules whose logsource admits `class`.
    fn admitted<'a>(&'a self, class: &'a LogClass) -> impl Iterator<Item = usize> + 'a {
        self.info.iter().enumerate().filter_map(|(i, r)| {
            class
                .admits(r.product.as_deref(), r.service.as_deref(), r.category.as_deref())
                .then_some(i)
        })
    }

    fn build_plan(&self, class: &LogClass, known: &Known) -> Plan {
        let rules: Vec<u32> = self.admitted(class).map(|i| i as u32).collect();
        let mut always = Vec::new();
        let mut builders: BTreeMap<Scope, ScanBuilder> = BTreeMap::new();
        let mut nclauses: Option<Box<[u8]>> = None;
        let common = self.common.read();
        for &r in &rules {
            let again;
            let cnf = if self.class_sensitive[r as usize] && *known != Known::NONE {
                again = rule_needles_in(&self.rules[r as usize], known);
                let n = again.as_ref().map_or(0, Vec::len) as u8;
                if n != self.nclauses[r as usize] {
                    nclauses.get_or_insert_with(|| self.nclauses.clone().into_boxed_slice())
                        [r as usize] = n;
                }
                &again
            } else {
                &self.cnf[r as usize]
            };
            // A rule that tests the EventID or channel for other values than the class has
            // never matches here: its needles would only make the scans larger.
            if let Some(clauses) = cnf
                && clauses.iter().any(|c| known.rules_out(c))
            {
                continue;
            }
            for (scope, kind, lit) in &self.kills[r as usize] {
                builders.entry(scope.clone()).or_default().add(*kind, lit, KILL | r);
            }
            let Some(clauses) = cnf else {
                always.push(r);
                continue;
            };
            for (i, clause) in clauses.iter().enumerate() {
                let id = clause_id(r, i);
                for (scope, kind, lit) in clause {
                    let b = builders.entry(scope.clone()).or_default();
                    if *kind == super::prefilter::Kind::Contains
                        && common.get(scope).is_some_and(|c| c.contains(lit))
                    {
                        b.add_always(id);
                    } else {
                        b.add(*kind, lit, id);
                    }
                }
            }
        }
        drop(common);
        let mut plan = Plan {
            any: !rules.is_empty(),
            always: Vec::new(),
            scans: Vec::new(),
            by_key: FxHashMap::default(),
            key_filter: KeyFilter::default(),
            via_view: Vec::new(),
            whole_data: NO_SCAN,
            keyword: None,
            nclauses,
        };
        let mut aliases = Vec::new();
        for (scope, builder) in builders {
            let fp = builder.fingerprint(&scope);
            let cached = self.scans.lock().get(&fp).cloned();
            let scan = match cached {
                Some(s) => s,
                None => {
                    let clauses = builder.clauses();
                    match builder.build_learning(scope.clone(), Some(self.common_found.clone())) {
                        Ok(s) => self.scans.lock().entry(fp).or_insert_with(|| Arc::new(s)).clone(),
                        Err(e) => {
                            // No automaton: evaluate those rules unfiltered (correct, slower).
                            tracing::warn!(error = %e, "prefilter automaton not built; rules evaluated unfiltered");
                            always.extend(clauses.iter().map(|&c| clause_rule(c)));
                            continue;
                        }
                    }
                }
            };
            let Some(field) = scan.field.clone() else {
                plan.keyword = Some(scan);
                continue;
            };
            let idx = plan.scans.len() as u32;
            plan.scans.push(scan);
            // A dotted name the event map holds directly; anything the view may resolve
            // otherwise when the map lacks it (bare Sigma names, Zeek record names such as
            // `id.resp_h`, typed members) goes through the view. (The non-Zeek names of Zeek
            // rules, `fields::ZEEK_ECS`, are bare: not direct either.)
            let direct = field.contains('.')
                && !field.starts_with('@')
                && !field.starts_with("event.")
                && field != "organization.id"
                && !super::fields::is_zeek_name(&field);
            if !direct {
                plan.via_view.push(idx);
                continue;
            }
            if let Some(rest) = field.strip_prefix("winlog.event_data.") {
                aliases.push((format!("winlog.user_data.{rest}"), idx));
            }
            if field == super::view::WHOLE_EVENT_DATA {
                plan.whole_data = idx;
            }
            plan.by_key.insert(field.into_boxed_str(), [idx, NO_SCAN]);
        }
        for (key, idx) in aliases {
            let slot = plan.by_key.entry(key.into_boxed_str()).or_insert([NO_SCAN, NO_SCAN]);
            if slot[0] == NO_SCAN {
                slot[0] = idx | ALIAS;
            } else {
                slot[1] = idx | ALIAS;
            }
        }
        for key in plan.by_key.keys() {
            plan.key_filter.insert(key);
        }
        always.sort_unstable();
        always.dedup();
        plan.always = always;
        plan
    }

    /// Evaluate one event with routing but without the prefilter: every rule whose logsource
    /// admits the event's class runs. Slow; it is the reference the prefilter is checked
    /// against (a prefilter may skip only rules that cannot match).
    pub fn evaluate_unfiltered(&self, event: &Event, out: &mut Vec<Hit>) {
        let class = classify(event);
        let view = SigmaView::new(event);
        for r in self.admitted(&class) {
            if let Some(result) = rsigma_eval::evaluate_rule(&self.rules[r], &view) {
                out.push(Hit { rule: r, result: Some(result) });
            }
        }
    }

    /// Take in the needles scans have found common: remember them, and drop the plans that use
    /// those scans (and every thread's copies), so that the next event of each class builds
    /// its plan without them.
    fn drop_common_needles(&self) {
        if !self.common_found.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut plans = self.plans.write();
        let mut changed: Vec<*const Scan> = Vec::new();
        {
            let mut common = self.common.write();
            for scan in self.scans.lock().values() {
                let Some(needles) = scan.common().filter(|n| !n.is_empty()) else { continue };
                let scope = match &scan.field {
                    Some(f) => Scope::Field(f.clone()),
                    None => Scope::Keyword,
                };
                let known = common.entry(scope).or_default();
                let new: Vec<&str> =
                    needles.iter().filter(|n| known.insert(n.to_string())).map(|n| &**n).collect();
                if !new.is_empty() {
                    tracing::info!(
                        field = scan.field.as_deref().unwrap_or("(keywords)"),
                        needles = ?new,
                        "prefilter: needles found in most values are no longer scanned for"
                    );
                    changed.push(Arc::as_ptr(scan));
                }
            }
        }
        if changed.is_empty() {
            return;
        }
        plans.retain(|_, p| {
            !p.scans.iter().chain(p.keyword.iter()).any(|s| changed.contains(&Arc::as_ptr(s)))
        });
        self.scans.lock().retain(|_, s| !changed.contains(&Arc::as_ptr(s)));
        self.plan_generation.fetch_add(1, Ordering::Relaxed);
        drop(plans);
        if let Some(release) = RELEASE_HOOK.get() {
            release();
        }
    }

    /// Evaluate one event; every match is appended to `out` with rsigma's full result (the
    /// selections and field values that matched, as `sen rules test` shows them).
    pub fn evaluate_event(&self, event: &Event, out: &mut Vec<Hit>) {
        self.evaluate_with(event, out, Detail::Full)
    }

    /// Evaluate one event for alerting: the same matches as [`SigmaEngine::evaluate_event`],
    /// decided on the rules' compact form ([`super::compact`]), each naming its rule and
    /// without rsigma's result (matched selections and fields, which alerts do not read; a
    /// rule's header, which correlation takes, from [`SigmaEngine::result_of`]). Building the
    /// header for every match cost the attack samples 2–3 % (its strings cloned each time).
    pub fn evaluate_for_alerts(&self, event: &Event, out: &mut Vec<Hit>) {
        self.evaluate_with(event, out, Detail::Rule)
    }

    /// A match's rsigma result: the one it carries, or one holding the rule's header (title,
    /// id, level, tags) and no matched selections or fields, which is what rsigma's
    /// correlation reads. `hit` is one this engine produced (its rule index is this engine's).
    pub fn result_of(&self, hit: &Hit) -> EvaluationResult {
        match &hit.result {
            Some(r) => r.clone(),
            None => self.header_of(hit.rule),
        }
    }

    /// An rsigma result holding rule `rule`'s header (title, id, level, tags) and no matched
    /// selections or fields: what rsigma's correlation reads of a match.
    pub fn header_of(&self, rule: usize) -> EvaluationResult {
        header_only(&self.rules[rule])
    }

    fn evaluate_with(&self, event: &Event, out: &mut Vec<Hit>, detail: Detail) {
        self.events.add(1);
        if self.common_found.load(Ordering::Relaxed) {
            self.drop_common_needles();
        }
        let facts = event_facts(event);
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let sc = &mut *guard;
            let owner = (self.id, self.plan_generation.load(Ordering::Relaxed));
            if sc.plans_of != owner || sc.plans.len() >= 4096 {
                sc.plans.clear();
                sc.plans_of = owner;
            }
            let (any, nscans) = {
                let p = sc.plans.entry(facts.key).or_insert_with(|| LocalPlan {
                    plan: self.plan(event, &facts),
                    fields: Vec::new(),
                });
                (p.plan.any, p.plan.scans.len())
            };
            if !any {
                return;
            }
            let view = SigmaView::with_facts(event, &facts);
            let generation = sc.begin(self.rules.len(), nscans);
            let Scratch {
                plans,
                rule_state,
                dead,
                scan_gen,
                candidates,
                lower,
                num,
                text,
                deferred,
                lowered_values,
                ..
            } = sc;
            // Borrowed from this thread's copy: no reference count is written per event.
            let Some(LocalPlan { plan, fields: resolved }) = plans.get_mut(&facts.key) else {
                return;
            };
            let plan: &Plan = plan;
            let nclauses: &[u8] = plan.nclauses.as_deref().unwrap_or(&self.nclauses);
            // Kill marks count only from a field's own text value: the value rsigma's matcher
            // sees (not a `winlog.user_data` alias, a number's text or a list's members).
            let kill_ok = std::cell::Cell::new(false);
            let mut mark = |cs: &[u32]| {
                for &c in cs {
                    if c & KILL != 0 {
                        if kill_ok.get() {
                            dead[(c & !KILL) as usize] = generation;
                        }
                        continue;
                    }
                    let r = clause_rule(c) as usize;
                    let bit = 1u32 << (c as usize % MAX_CLAUSES);
                    let mut state = rule_state[r];
                    if state >> 8 != generation {
                        state = generation << 8;
                    }
                    if state & bit != 0 {
                        continue;
                    }
                    state |= bit;
                    rule_state[r] = state;
                    if state & 0xff == (1u32 << nclauses[r]) - 1 {
                        self.compact.prefetch(r);
                        candidates.push(r as u32);
                    }
                }
            };
            let keyword = plan.keyword.as_deref();
            // A keyword scan of `contains` needles only (the usual case) runs once over all the
            // text values joined by NUL, which no needle holds.
            let joined = keyword.is_some_and(Scan::joinable);
            text.clear();
            deferred.clear();
            // One pass over the event's fields feeds the scans of the fields it has and the
            // keyword scan; a text value is lower-cased once for all of them. Joined for the
            // keyword scan, values are lowered at once after the pass, and their fields'
            // scans run then.
            let has_json = facts.has_json;
            // A `by_key` slot's scan, and whether it is the field's own (not reached through
            // an alias).
            let scan_of =
                |si: u32| (&*plan.scans[(si & !(ALIAS | MANY)) as usize], si & ALIAS == 0);
            for (position, (k, v)) in event.fields.iter().enumerate() {
                let r = Resolved::get(plan, resolved, position, k);
                let slots = (r.slots[0] != NO_SCAN).then_some(&r.slots);
                let kw = keyword.filter(|_| r.keyword);
                if slots.is_none() && kw.is_none() {
                    continue;
                }
                // The `by_key` slots of the scans this value feeds (each scan once an event,
                // but `Data`'s once a value).
                let mut field_scans: [Option<u32>; 2] = [None, None];
                if let Some(slots) = slots {
                    for (slot, &si) in field_scans.iter_mut().zip(slots) {
                        let i = (si & !(ALIAS | MANY)) as usize;
                        if si != NO_SCAN && (si & MANY != 0 || scan_gen[i] != generation) {
                            scan_gen[i] = generation;
                            *slot = Some(si);
                        }
                    }
                }
                match v {
                    Value::Str(s) if joined && kw.is_some() => {
                        let at = text.push(s);
                        deferred.extend(field_scans.iter().flatten().map(|&si| (si, at)));
                    }
                    Value::Str(s) => {
                        let l = lowered(s, lower);
                        for (scan, own) in field_scans.iter().flatten().map(|&si| scan_of(si)) {
                            kill_ok.set(own);
                            scan.run(l, &mut mark);
                        }
                        kill_ok.set(false);
                        if let Some(kw) = kw {
                            kw.run(l, &mut mark);
                        }
                    }
                    Value::Int(n) => {
                        for scan in field_scans.iter().flatten().map(|&si| scan_of(si).0).chain(kw)
                        {
                            scan.run_int(*n, num, &mut mark);
                        }
                    }
                    other => {
                        for scan in field_scans.iter().flatten().map(|&si| scan_of(si).0) {
                            visit_leaves(&value(other), num, &mut |s| {
                                scan.run(lowered(s, lower), &mut mark)
                            });
                        }
                        if let Some(kw) = kw {
                            // Numbers, addresses, times and booleans are written out only
                            // when some needle could occur in their text.
                            let scalars = kw.scalar_text().then_some(&mut *num);
                            if joined {
                                visit_value(k, other, scalars, &mut |_, s| {
                                    text.push(s);
                                });
                            } else {
                                visit_value(k, other, scalars, &mut |_, s| {
                                    kw.run(lowered(s, lower), &mut mark)
                                });
                            }
                        }
                    }
                }
            }
            if let Some(kw) = keyword
                && joined
            {
                view.visit_other_strings(&mut |_, s| {
                    text.push(s);
                });
                text.lower();
                for &(si, at) in deferred.iter() {
                    let (scan, own) = scan_of(si);
                    kill_ok.set(own);
                    scan.run(text.value(at), &mut mark);
                }
                kill_ok.set(false);
                kw.run(text.text(), &mut mark);
            }
            let mut run = |scan: &Scan, s: &str| scan.run(lowered(s, lower), &mut mark);
            if let Some(kw) = keyword
                && !joined
            {
                view.visit_other_strings(&mut |_, s| run(kw, s));
            }
            // Names only the view resolves; and, when some value is untyped JSON, paths that
            // may lead below it.
            let through_view = |si: u32, run: &mut dyn FnMut(&Scan, &str)| {
                use rsigma_eval::Event as _;
                let scan = &plan.scans[si as usize];
                if let Some(f) = &scan.field
                    && let Some(v) = view.get_field(f)
                {
                    visit_leaves(&v, &mut String::new(), &mut |s| run(scan, s));
                }
            };
            for &si in &plan.via_view {
                through_view(si, &mut run);
            }
            if has_json {
                for si in 0..plan.scans.len() as u32 {
                    if scan_gen[si as usize] != generation && !plan.via_view.contains(&si) {
                        through_view(si, &mut run);
                    }
                }
            }
            candidates.extend_from_slice(&plan.always);
            candidates.retain(|&r| dead[r as usize] != generation);
            candidates.sort_unstable();
            candidates.dedup();
            let before = out.len();
            lowered_values.clear();
            for &r in candidates.iter() {
                if detail == Detail::Rule && self.compact.supports(r as usize) {
                    if self.compact.matches(r as usize, &view, lowered_values) {
                        out.push(Hit { rule: r as usize, result: None });
                    }
                } else if let Some(result) =
                    rsigma_eval::evaluate_rule(&self.rules[r as usize], &view)
                {
                    out.push(Hit { rule: r as usize, result: Some(result) });
                }
            }
            self.evaluations.add(candidates.len() as u64);
            self.hits.add((out.len() - before) as u64);
        });
    }
}

/// The id of clause `i` of rule `r`: the rule's index and the clause's bit in
/// [`Scratch::rule_state`] (the rule index stays below [`KILL`]'s bit, which marks kills).
#[inline]
fn clause_id(r: u32, i: usize) -> u32 {
    debug_assert!(i < MAX_CLAUSES && r < KILL / MAX_CLAUSES as u32);
    r * MAX_CLAUSES as u32 + i as u32
}

/// The rule a clause id ([`clause_id`]) belongs to.
#[inline]
fn clause_rule(c: u32) -> u32 {
    c / MAX_CLAUSES as u32
}

const NO_SCAN: u32 = u32::MAX;
/// Set on a [`Plan::by_key`] slot that reaches a scan through an alias
/// (`winlog.user_data.X` feeding the scan of `winlog.event_data.X`).
const ALIAS: u32 = 1 << 31;
/// Set on the slot through which every `winlog.event_data` value feeds the scan of Sigma's
/// `Data` ([`Plan::whole_data`]): that scan runs once a value, not once an event.
const MANY: u32 = 1 << 30;
/// Generations before the per-thread stamps are cleared: [`Scratch::rule_state`] keeps a
/// generation in 24 bits.
const GENERATIONS: u32 = 1 << 24;

/// How much of a match's result to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// rsigma's full result.
    Full,
    /// The rule alone where the compact form decides ([`SigmaEngine::evaluate_for_alerts`]).
    Rule,
}

/// A detection result holding the rule's header only.
fn header_only(rule: &CompiledRule) -> EvaluationResult {
    EvaluationResult {
        header: rsigma_eval::result::RuleHeader {
            rule_title: rule.title.clone(),
            rule_id: rule.id.clone(),
            level: rule.level,
            tags: rule.tags.clone(),
            custom_attributes: rule.custom_attributes.clone(),
            enrichments: None,
        },
        body: ResultBody::Detection(rsigma_eval::result::DetectionBody {
            matched_selections: Vec::new(),
            matched_fields: Vec::new(),
            event: None,
        }),
    }
}

/// What every event of a class holds ([`Known`]): the class key of a Windows event is its
/// channel and EventID.
fn known_of(facts: &EventFacts<'_>) -> Known {
    if !facts.windows {
        return Known::NONE;
    }
    Known { event_id: facts.event_id, channel: facts.channel.map(str::to_lowercase) }
}

/// Every text leaf of a value, numbers formatted as rsigma formats them for string matchers.
fn visit_leaves(v: &rsigma_eval::EventValue<'_>, num: &mut String, scan: &mut dyn FnMut(&str)) {
    use rsigma_eval::EventValue;
    use std::fmt::Write;
    match v {
        EventValue::Str(s) => scan(s),
        EventValue::Int(n) => {
            num.clear();
            let _ = write!(num, "{n}");
            scan(num)
        }
        EventValue::Float(f) => {
            num.clear();
            let _ = write!(num, "{f}");
            scan(num)
        }
        EventValue::Bool(b) => scan(if *b { "true" } else { "false" }),
        EventValue::Array(items) => items.iter().for_each(|i| visit_leaves(i, num, scan)),
        EventValue::Map(_) | EventValue::Null => {}
    }
}

impl DetectionEngine for SigmaEngine {
    fn rules(&self) -> &[RuleInfo] {
        &self.info
    }

    fn evaluate(&self, event: &Event, out: &mut Vec<Hit>) {
        self.evaluate_for_alerts(event, out)
    }
}

/// Apply a Sigma filter (meta-filter specification) to the rules it targets: each target's
/// conditions become `(condition) and (filter condition)`.
fn apply_filter(rules: &mut [CompiledRule], filter: &FilterRule) -> Result<usize, String> {
    use rsigma_parser::ConditionExpr;
    let mut dets = Vec::new();
    for (name, d) in &filter.detection.named {
        dets.push((
            name.clone(),
            rsigma_eval::compiler::compile_detection(d).map_err(|e| e.to_string())?,
        ));
    }
    if dets.is_empty() {
        return Err("filter has no detection".into());
    }
    let prefix = format!("__filter_{}_", rule_key(&filter.id, &filter.name, &filter.title));
    fn rename(c: &ConditionExpr, prefix: &str) -> ConditionExpr {
        match c {
            ConditionExpr::Identifier(n) => ConditionExpr::Identifier(format!("{prefix}{n}")),
            ConditionExpr::And(cs) => {
                ConditionExpr::And(cs.iter().map(|c| rename(c, prefix)).collect())
            }
            ConditionExpr::Or(cs) => {
                ConditionExpr::Or(cs.iter().map(|c| rename(c, prefix)).collect())
            }
            ConditionExpr::Not(c) => ConditionExpr::Not(Box::new(rename(c, prefix))),
            ConditionExpr::Selector { quantifier, pattern } => {
                let pattern = match pattern {
                    rsigma_parser::SelectorPattern::Them => {
                        rsigma_parser::SelectorPattern::Pattern(format!("{prefix}*"))
                    }
                    rsigma_parser::SelectorPattern::Pattern(p) => {
                        rsigma_parser::SelectorPattern::Pattern(format!("{prefix}{p}"))
                    }
                };
                ConditionExpr::Selector { quantifier: quantifier.clone(), pattern }
            }
        }
    }
    let cond = match filter.detection.conditions.first() {
        Some(c) => rename(c, &prefix),
        None => ConditionExpr::And(
            dets.iter().map(|(n, _)| ConditionExpr::Identifier(format!("{prefix}{n}"))).collect(),
        ),
    };
    let mut applied = 0;
    for rule in rules.iter_mut() {
        let targeted = match &filter.rules {
            FilterRuleTarget::Any => true,
            FilterRuleTarget::Specific(refs) => {
                refs.iter().any(|r| rule.id.as_deref() == Some(r.as_str()) || rule.title == *r)
            }
        };
        let ls_ok = filter.logsource.as_ref().is_none_or(|fl| {
            let m = |f: &Option<String>, r: &Option<String>| match f {
                None => true,
                Some(fv) => r.as_deref().is_some_and(|rv| fv.eq_ignore_ascii_case(rv)),
            };
            m(&fl.category, &rule.logsource.category)
                && m(&fl.product, &rule.logsource.product)
                && m(&fl.service, &rule.logsource.service)
        });
        if !targeted || !ls_ok {
            continue;
        }
        let ls = &rule.logsource;
        let mapping =
            mapping_for(ls.product.as_deref(), ls.service.as_deref(), ls.category.as_deref());
        for (name, d) in &dets {
            let mut d = d.clone();
            super::fields::rewrite_detection(&mut d, &mapping);
            rule.detections.insert(format!("{prefix}{name}"), d);
        }
        rule.conditions = rule
            .conditions
            .iter()
            .map(|c| ConditionExpr::And(vec![c.clone(), cond.clone()]))
            .collect();
        applied += 1;
    }
    if applied == 0 && matches!(filter.rules, FilterRuleTarget::Specific(_)) {
        return Err(format!("filter `{}` matches no loaded rule", filter.title));
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::DetectionEngine;

    fn engine(yaml: &str) -> SigmaEngine {
        let mut set = RuleSet::default();
        set.add_yaml(yaml, Path::new("t.yml"));
        let (engine, report) = SigmaEngine::new(&set);
        assert_eq!(report.failed, 0, "{:?}", report.errors);
        engine
    }

    /// The titles of the rules `e` matches on a Linux (`bash`) event with `fields`, sorted.
    fn matched(e: &SigmaEngine, fields: &[(&str, &str)]) -> Vec<String> {
        let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
        ev.set("log.syslog.appname", "bash");
        for (k, v) in fields {
            ev.set(k, *v);
        }
        let mut out = Vec::new();
        e.evaluate(&ev, &mut out);
        let mut titles: Vec<String> = out.iter().map(|h| e.rules()[h.rule].title.clone()).collect();
        titles.sort();
        titles
    }

    fn hits(engine: &SigmaEngine, message: &str) -> usize {
        let mut e = Event::new("1".into(), chrono::Utc::now(), message);
        e.set("message", message);
        e.set("log.syslog.appname", "bash");
        let mut out = Vec::new();
        engine.evaluate(&e, &mut out);
        out.len()
    }

    #[test]
    fn needles_in_most_values_are_dropped_and_matches_stay_the_same() {
        let e = engine(
            "title: t1\nid: 11111111-1111-1111-1111-111111111111\nlogsource: {product: linux}\n\
             detection:\n  a: {process.command_line|contains: 'common'}\n  \
             b: {process.name|contains: 'rarething'}\n  condition: a and b\n---\n\
             title: t2\nid: 22222222-2222-2222-2222-222222222222\nlogsource: {product: linux}\n\
             detection:\n  a: {process.command_line|contains: 'common'}\n  condition: a\n",
        );
        let event = |cmd: &str, name: &str| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("host.os.type", "linux");
            ev.set("process.command_line", cmd);
            ev.set("process.name", name);
            ev
        };
        let fired = |ev: &Event| {
            let mut out = Vec::new();
            e.evaluate(ev, &mut out);
            let mut titles: Vec<&str> =
                out.iter().map(|h| e.rules()[h.rule].title.as_str()).collect();
            titles.sort();
            titles.join(",")
        };
        let common = event("/bin/common --x", "bash");
        for _ in 0..crate::sigma::scan::LEARN_RUNS + 10 {
            assert_eq!(fired(&common), "t2");
        }
        assert_eq!(e.stats().common_needles, 1, "`common` is in every command line");
        // The dropped needle's clauses count as satisfied; evaluation still decides.
        assert_eq!(fired(&event("/bin/other", "rarething")), "");
        assert_eq!(fired(&event("/bin/common", "rarething")), "t1,t2");
        assert_eq!(fired(&event("/bin/common", "bash")), "t2");
        assert_eq!(fired(&event("/bin/other", "bash")), "");
    }

    #[test]
    fn kill_needles_rule_out_candidates_from_the_fields_own_value_only() {
        let e = engine(
            "title: t\nlogsource: {product: windows, category: process_creation}\n\
             detection:\n  sel: {Image|endswith: '.exe'}\n  \
             filter_main: {Image|startswith: 'C:\\Windows\\'}\n  \
             condition: sel and not 1 of filter_*\n",
        );
        let event = |fields: &[(&str, &str)]| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational");
            ev.fields.insert("winlog.event_id", Value::Int(1));
            for (k, v) in fields {
                ev.set(k, *v);
            }
            ev
        };
        // (fields, fires, evaluated)
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, bool);
        let cases: [Case<'_>; 4] = [
            (&[("winlog.event_data.Image", "C:\\Windows\\System32\\x.exe")], false, false),
            (&[("winlog.event_data.Image", "C:\\Temp\\x.exe")], true, true),
            // The view reads `event_data`; a filter value under `user_data` must not kill.
            (
                &[
                    ("winlog.event_data.Image", "C:\\Temp\\x.exe"),
                    ("winlog.user_data.Image", "C:\\Windows\\y.exe"),
                ],
                true,
                true,
            ),
            // Only under `user_data`: the view falls back to it and the filter holds; rsigma
            // decides (no kill through the alias).
            (&[("winlog.user_data.Image", "C:\\Windows\\y.exe")], false, true),
        ];
        for (fields, fires, evaluated) in cases {
            let before = e.stats().evaluations;
            let mut out = Vec::new();
            e.evaluate(&event(fields), &mut out);
            assert_eq!(out.len(), usize::from(fires), "{fields:?}");
            assert_eq!(e.stats().evaluations - before, u64::from(evaluated), "{fields:?}");
        }
    }

    #[test]
    fn a_rule_of_filters_alone_is_killed_by_a_needle_anywhere_in_the_value() {
        // "Execution Of Non-Existing File": no clause, so evaluated for every event of its
        // class, unless the value holds the filter's `contains` literal anywhere.
        let e = engine(
            "title: t\nlogsource: {product: windows, category: process_creation}\n\
             detection:\n  filter_main_path: {Image|contains: '\\'}\n  \
             filter_optional_system: {Image: 'System'}\n  \
             condition: not 1 of filter_main_* and not 1 of filter_optional_*\n",
        );
        let event = |image: &str| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational");
            ev.fields.insert("winlog.event_id", Value::Int(1));
            ev.set("winlog.event_data.Image", image);
            ev
        };
        let run = |image: &str| {
            let before = e.stats().evaluations;
            let mut out = Vec::new();
            e.evaluate(&event(image), &mut out);
            (out.len(), e.stats().evaluations - before)
        };
        // The needle is in every value, past the scans' learning period: it stays a kill
        // (searched apart from the automaton, it is never judged common, and a kill never
        // becomes a mark for every value).
        for _ in 0..crate::sigma::scan::LEARN_RUNS + 10 {
            assert_eq!(run("C:\\Windows\\System32\\cmd.exe"), (0, 0));
        }
        assert_eq!(run("mimikatz.exe"), (1, 1));
        assert_eq!(run("System"), (0, 0), "the exact filter kills too");
        assert_eq!(run("C:\\x.exe"), (0, 0));
    }

    #[test]
    fn data_is_the_whole_event_data_of_a_classic_log_record() {
        // SigmaHQ's "MSI Installation From Web": `Data` is every unnamed `<Data>` element,
        // which the normalizer writes as `param1`, `param2` … (EVTX-ATTACK-SAMPLES'
        // rogue_msi_url_1040_1042 has the URL in the first). A needle too short for the
        // prefilter (`://`) leaves the rule to evaluation, which must find it.
        let e = engine(
            "title: msi\nlogsource: {product: windows, service: application}\n\
             detection:\n  selection:\n    Provider_Name: 'MsiInstaller'\n    \
             EventID: [1040, 1042]\n    Data|contains: '://'\n  condition: selection\n",
        );
        let event = |fields: &[(&str, &str)]| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("winlog.channel", "Application");
            ev.set("winlog.provider_name", "MsiInstaller");
            ev.fields.insert("winlog.event_id", Value::Int(1040));
            for (k, v) in fields {
                ev.set(k, *v);
            }
            ev
        };
        let fired = |ev: &Event| {
            let (mut fast, mut full) = (Vec::new(), Vec::new());
            e.evaluate(ev, &mut fast);
            e.evaluate_event(ev, &mut full);
            assert_eq!(fast.len(), full.len(), "both paths agree");
            fast.len()
        };
        let url = event(&[
            ("winlog.event_data.param1", "http://officemysuppbox.com/staterepository"),
            ("winlog.event_data.param2", "2600"),
        ]);
        assert_eq!(fired(&url), 1);
        let local = event(&[("winlog.event_data.param1", "C:\\x.msi")]);
        assert_eq!(fired(&local), 0);
        // A field named `Data` is read as it is.
        let named = event(&[
            ("winlog.event_data.Data", "C:\\x.msi"),
            ("winlog.event_data.param1", "http://x"),
        ]);
        assert_eq!(fired(&named), 0);
        assert_eq!(fired(&event(&[])), 0, "no event data: nothing to match");
    }

    #[test]
    fn a_rule_for_other_event_ids_is_left_out_of_a_class() {
        let e = engine(
            "title: logon\nlogsource: {product: windows, service: security}\n\
             detection:\n  sel:\n    EventID: [4624, 4625]\n    TargetDomainName|contains: 'corp'\n  \
             condition: sel\n---\ntitle: any\nlogsource: {product: windows, service: security}\n\
             detection:\n  sel:\n    TargetUserName|contains: 'admin'\n  condition: sel\n",
        );
        let run = |id: i64| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("winlog.channel", "Security");
            ev.fields.insert("winlog.event_id", Value::Int(id));
            ev.set("winlog.event_data.TargetUserName", "administrator");
            ev.set("winlog.event_data.TargetDomainName", "CORP");
            let before = e.stats().evaluations;
            let mut out = Vec::new();
            e.evaluate(&ev, &mut out);
            let mut titles: Vec<&str> =
                out.iter().map(|h| e.rules()[h.rule].title.as_str()).collect();
            titles.sort();
            (titles.join(","), e.stats().evaluations - before)
        };
        // 4688's class has no scan for the logon rule's needles (its EventID and domain):
        // one scan, for `any`'s user name.
        assert_eq!(run(4688), ("any".to_string(), 1));
        assert_eq!(e.stats().scans, 1);
        assert_eq!(run(4624), ("any,logon".to_string(), 2));
        assert_eq!(run(4625), ("any,logon".to_string(), 2));
    }

    #[test]
    fn learning_on_many_threads_while_stats_are_read() {
        let e = Arc::new(engine(
            "title: t\nlogsource: {product: linux}\ndetection:\n  \
             a: {process.command_line|contains: ['common', 'seldom']}\n  condition: a\n",
        ));
        let done = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let workers: Vec<_> = (0..3)
            .map(|t| {
                let (e, tx) = (e.clone(), tx.clone());
                std::thread::spawn(move || {
                    let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
                    ev.set("host.os.type", "linux");
                    ev.set("process.command_line", format!("/bin/common {t}"));
                    let mut out = Vec::new();
                    for _ in 0..2 * crate::sigma::scan::LEARN_RUNS {
                        out.clear();
                        e.evaluate(&ev, &mut out);
                        assert_eq!(out.len(), 1);
                    }
                    tx.send(()).ok();
                })
            })
            .collect();
        let reader = {
            let (e, done) = (e.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    std::hint::black_box(e.stats());
                }
            })
        };
        for _ in 0..3 {
            rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a worker is stuck");
        }
        done.store(true, Ordering::Relaxed);
        workers.into_iter().chain([reader]).for_each(|w| w.join().unwrap());
        assert_eq!(e.stats().common_needles, 1);
    }

    #[test]
    fn engines_on_one_thread_keep_their_own_plans() {
        // Same event class, different rules: each engine's per-thread plan copy is its own,
        // also when they take turns on one thread, and across threads.
        let a = engine(
            "title: a\nlogsource: {product: linux}\ndetection:\n  kw: ['alpha1']\n  condition: kw\n",
        );
        let b = engine(
            "title: b1\nlogsource: {product: linux}\ndetection:\n  kw: ['bravo2']\n  condition: kw\n---\ntitle: b2\nlogsource: {product: linux}\ndetection:\n  kw: ['bravo3']\n  condition: kw\n",
        );
        for _ in 0..3 {
            assert_eq!((hits(&a, "x alpha1 bravo2"), hits(&b, "x alpha1 bravo2")), (1, 1));
            assert_eq!((hits(&a, "bravo2 bravo3"), hits(&b, "bravo2 bravo3")), (0, 2));
        }
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(hits(&b, "bravo3 alpha1"), 1));
            s.spawn(|| assert_eq!(hits(&a, "bravo3 alpha1"), 1));
        });
        let (ea, eb) = (a.stats().events, b.stats().events);
        assert_eq!((ea, eb), (7, 7), "counted once per evaluation, whatever the thread");
        drop(a);
        // A new engine (perhaps at the old one's address) does not inherit its plans.
        let c = engine(
            "title: c\nlogsource: {product: linux}\ndetection:\n  kw: ['charlie4']\n  condition: kw\n",
        );
        assert_eq!((hits(&c, "alpha1"), hits(&c, "charlie4")), (0, 1));
    }

    #[test]
    fn joined_keyword_scan_matches_within_values_only() {
        let e = engine(
            "title: t\nlogsource: {product: linux}\ndetection:\n  kw: ['abcdef', 'ZZ-TOP']\n  condition: kw\n",
        );
        let eval = |fields: &[(&str, &str)]| matched(&e, fields).len();
        assert_eq!(eval(&[("message", "xx ABCDEF yy")]), 1);
        assert_eq!(eval(&[("message", "nothing"), ("user.name", "zz-top")]), 1, "any value");
        // A needle never spans two values.
        assert_eq!(eval(&[("a.x", "abc"), ("a.y", "def")]), 0);
        assert_eq!(eval(&[("a.x", "Ünïcode abcdef")]), 1, "non-ASCII values are lowered too");
    }

    #[test]
    fn keyword_search_reads_scalars_when_a_needle_could_occur_in_them() {
        // `10.1.2.3` could be an address's text: addresses are written out for the keyword
        // scan. `mimikatz` could not: they are skipped, and text values still found.
        let ip = engine(
            "title: t\nlogsource: {product: linux}\ndetection:\n  kw: ['10.1.2.3', 'T10:']\n  condition: kw\n",
        );
        let word = engine(
            "title: t\nlogsource: {product: linux}\ndetection:\n  kw: ['mimikatz']\n  condition: kw\n",
        );
        let eval = |e: &SigmaEngine, f: &dyn Fn(&mut Event)| {
            let mut ev = Event::new("1".into(), chrono::Utc::now(), "x");
            ev.set("log.syslog.appname", "bash");
            f(&mut ev);
            let mut out = Vec::new();
            e.evaluate(&ev, &mut out);
            out.len()
        };
        let addr: std::net::IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(eval(&ip, &|ev| ev.set("source.ip", addr)), 1);
        assert_eq!(eval(&ip, &|ev| ev.set("host.ip", Value::List(vec![addr.into()]))), 1);
        let time = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:11:12Z").unwrap();
        assert_eq!(eval(&ip, &|ev| ev.set("file.mtime", time.with_timezone(&chrono::Utc))), 1);
        assert_eq!(
            eval(&ip, &|ev| ev.set("source.ip", "10.1.2.4".parse::<std::net::IpAddr>().unwrap())),
            0
        );
        assert_eq!(eval(&word, &|ev| ev.set("source.ip", addr)), 0);
        assert_eq!(
            eval(&word, &|ev| {
                ev.set("source.ip", addr);
                ev.set("process.args", Value::List(vec![Value::Int(3), "MimiKatz.exe".into()]));
            }),
            1
        );
    }

    #[test]
    fn field_scans_of_joined_values_read_them_lowered() {
        // Values joined for the keyword scan are lowered at once after the pass over the
        // fields; a field's scans then read its value, including when a character needs
        // `char::to_lowercase` (the text is rebuilt value by value).
        let e = engine(
            "title: f\nlogsource: {product: linux}\ndetection:\n  sel:\n    process.command_line|contains: 'whoami /all'\n  condition: sel\n---\ntitle: k\nlogsource: {product: linux}\ndetection:\n  kw: ['zz-top']\n  condition: kw\n",
        );
        let titles = |fields: &[(&str, &str)]| matched(&e, fields);
        assert_eq!(titles(&[("process.command_line", "CMD /c WHOAMI /ALL")]), ["f"]);
        assert_eq!(
            titles(&[("message", "Zz-Top®"), ("process.command_line", "whoami /all")]),
            ["f", "k"]
        );
        assert_eq!(
            titles(&[("message", "İ ZZ-TOP"), ("process.command_line", "ΣΑΣ WHOAMI /All")]),
            ["f", "k"]
        );
        assert_eq!(
            titles(&[("message", "whoami /all"), ("process.command_line", "whoami")]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn fields_resolve_by_position_only_while_the_layout_holds() {
        // Events of one class with different fields at the same positions: each field is
        // resolved to its own scans whatever the last event of the class held there.
        let e = engine(
            "title: f\nlogsource: {product: linux}\ndetection:\n  sel:\n    process.command_line|contains: 'whoami'\n  condition: sel\n",
        );
        let eval = |fields: &[(&str, &str)]| matched(&e, fields).len();
        for _ in 0..2 {
            assert_eq!(eval(&[("process.command_line", "whoami")]), 1);
            assert_eq!(eval(&[("a.b", "whoami")]), 0, "another field at the same position");
            assert_eq!(eval(&[("a.b", "x"), ("process.command_line", "whoami")]), 1);
            assert_eq!(eval(&[("process.args", "whoami"), ("z", "1")]), 0);
            // A name too long to intern is never taken from the cache.
            let long = format!("x.{}", "y".repeat(300));
            assert_eq!(eval(&[(long.as_str(), "whoami"), ("process.command_line", "whoami")]), 1);
            assert_eq!(eval(&[(long.as_str(), "whoami")]), 0);
        }
    }

    #[test]
    fn keyword_maps_with_all_match_substrings() {
        let e = engine(
            "title: t\nlogsource: {product: linux}\ndetection:\n  kw:\n    '|all': ['dd', 'if=']\n  f: ['of=']\n  condition: kw and not f\n",
        );
        assert_eq!(hits(&e, "dd if=/dev/zero bs=1 count=1"), 1);
        assert_eq!(hits(&e, "dd if=/dev/zero of=/tmp/x"), 0, "filtered");
        assert_eq!(hits(&e, "dd bs=1"), 0, "both are needed");
    }
}
