//! Sen's Sigma engine: rsigma's compiled rules behind Sen's own routing, prefilter and event
//! view (ADR 0008).
//!
//! [`RuleSet::load`] parses every Sigma document under the given paths and keeps every error
//! ([`LoadReport`]); [`SigmaEngine::new`] compiles the rules (every compile error reported too,
//! naming file and rule), applies Sigma filters, rewrites field names ([`super::fields`]) and
//! derives each rule's prefilter needles ([`super::prefilter`]). [`SigmaEngine::evaluate`] then
//! takes one `&sen_core::Event`:
//!
//! 1. its class ([`super::logsource`]) selects a cached [`Plan`]: the rules whose logsource
//!    admits the class, one Aho-Corasick automaton over those rules' needles, and the fields to
//!    scan;
//! 2. each scanned value is lower-cased once and scanned once; a rule is evaluated only when one
//!    of its needles occurred, or when it has none;
//! 3. rsigma's `evaluate_rule` runs the candidates over a zero-copy [`SigmaView`].
//!
//! The engine is `Sync`: evaluate from as many threads as you like.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use parking_lot::RwLock;
use rsigma_eval::{CompiledRule, EvaluationResult, ResultBody};
use rsigma_parser::{CorrelationRule, FilterRule, FilterRuleTarget, SigmaRule};
use sen_core::event::Event;
use serde::Serialize;

use super::fields::{mapping_for, rewrite_rule};
use super::logsource::{LogClass, class_key, classify};
use super::prefilter::{Scope, rule_needles};
use super::view::SigmaView;
use crate::check::RuleError;

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
    /// Index of the rule in [`SigmaEngine::rules`].
    pub rule: usize,
    /// rsigma's result (matched selections and fields).
    pub result: EvaluationResult,
}

impl Hit {
    /// Names of the selections that matched.
    pub fn selections(&self) -> &[String] {
        match &self.result.body {
            ResultBody::Detection(d) => &d.matched_selections,
            _ => &[],
        }
    }

    /// Matched (field, value) pairs.
    pub fn fields(&self) -> Vec<(String, String)> {
        match &self.result.body {
            ResultBody::Detection(d) => d
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
    /// Evaluate one event, appending every match to `out`.
    fn evaluate(&self, event: &Event, out: &mut Vec<Hit>);
}

/// One automaton of a plan: the needles that must occur in one field (or, for the keyword scan,
/// in any value), and which rules need each.
struct Scan {
    /// The field to scan; `None`: every value the keyword search sees.
    field: Option<String>,
    ac: AhoCorasick,
    /// Per automaton pattern: plan-local indices of the rules that need it.
    pattern_rules: Vec<Vec<u32>>,
}

/// One event class's evaluation plan.
struct Plan {
    /// Engine rule indices whose logsource admits the class.
    rules: Vec<u32>,
    /// Per plan rule: evaluate without looking at the prefilter.
    always: Vec<bool>,
    /// One scan per field that has needles.
    scans: Vec<Scan>,
}

/// Largest pattern set a plan scans with a DFA (larger ones use a contiguous NFA).
const DFA_MAX_PATTERNS: usize = 200;

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
}

/// Sen's Sigma engine.
pub struct SigmaEngine {
    rules: Vec<CompiledRule>,
    info: Vec<RuleInfo>,
    needles: Vec<Option<Vec<(Scope, String)>>>,
    plans: RwLock<HashMap<u64, Arc<Plan>>>,
    events: AtomicU64,
    evaluations: AtomicU64,
    hits: AtomicU64,
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
        let needles: Vec<_> = rules.iter().map(rule_needles).collect();
        report.loaded = rules.len();
        report.prefiltered = needles.iter().filter(|n| n.is_some()).count();
        report.correlations = set.correlations.len();
        let engine = SigmaEngine {
            rules,
            info,
            needles,
            plans: RwLock::new(HashMap::new()),
            events: AtomicU64::new(0),
            evaluations: AtomicU64::new(0),
            hits: AtomicU64::new(0),
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
        EngineStats {
            events: self.events.load(Ordering::Relaxed),
            evaluations: self.evaluations.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            classes: self.plans.read().len() as u64,
        }
    }

    /// Index of the rule with this id, name or title.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.info
            .iter()
            .position(|r| r.id == key || r.name.as_deref() == Some(key) || r.title == key)
    }

    fn plan(&self, event: &Event) -> Arc<Plan> {
        let key = class_key(event);
        if let Some(p) = self.plans.read().get(&key) {
            return p.clone();
        }
        let class = classify(event);
        let plan = Arc::new(self.build_plan(&class));
        let mut plans = self.plans.write();
        // Bound the cache: classes are few in practice (channel × EventID, module × dataset);
        // if something floods it with distinct classes, start over rather than grow forever.
        if plans.len() >= 4096 {
            plans.clear();
        }
        plans.entry(key).or_insert(plan).clone()
    }

    fn build_plan(&self, class: &LogClass) -> Plan {
        let rules: Vec<u32> = self
            .info
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                class.admits(r.product.as_deref(), r.service.as_deref(), r.category.as_deref())
            })
            .map(|(i, _)| i as u32)
            .collect();
        let mut always = vec![false; rules.len()];
        // scope -> (patterns, pattern ids, rules per pattern)
        type Acc = (Vec<String>, HashMap<String, usize>, Vec<Vec<u32>>);
        let mut by_scope: Vec<(Scope, Acc)> = Vec::new();
        for (local, &r) in rules.iter().enumerate() {
            let Some(needles) = &self.needles[r as usize] else {
                always[local] = true;
                continue;
            };
            for (scope, lit) in needles {
                let pos = match by_scope.iter().position(|(s, _)| s == scope) {
                    Some(p) => p,
                    None => {
                        by_scope.push((scope.clone(), Acc::default()));
                        by_scope.len() - 1
                    }
                };
                let (patterns, ids, prules) = &mut by_scope[pos].1;
                let id = *ids.entry(lit.clone()).or_insert_with(|| {
                    patterns.push(lit.clone());
                    prules.push(Vec::new());
                    patterns.len() - 1
                });
                if prules[id].last() != Some(&(local as u32)) {
                    prules[id].push(local as u32);
                }
            }
        }
        let mut scans = Vec::new();
        for (scope, (patterns, _, pattern_rules)) in by_scope {
            let built = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                // A DFA is fastest but grows with the pattern count (all DFAs together were
                // ~107 MB of 240 on SigmaHQ); big sets use the contiguous NFA.
                .kind(Some(if patterns.len() <= DFA_MAX_PATTERNS {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                }))
                .build(&patterns)
                .or_else(|_| {
                    AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns)
                });
            match built {
                Ok(ac) => scans.push(Scan {
                    field: match scope {
                        Scope::Field(f) => Some(f),
                        Scope::Keyword => None,
                    },
                    ac,
                    pattern_rules,
                }),
                Err(e) => {
                    // No automaton: evaluate those rules unfiltered (correct, slower).
                    tracing::warn!(error = %e, "prefilter automaton not built; rules evaluated unfiltered");
                    for rs in pattern_rules {
                        for r in rs {
                            always[r as usize] = true;
                        }
                    }
                }
            }
        }
        Plan { rules, always, scans }
    }

    /// Evaluate one event; every match is appended to `out`.
    pub fn evaluate_event(&self, event: &Event, out: &mut Vec<Hit>) {
        self.events.fetch_add(1, Ordering::Relaxed);
        let plan = self.plan(event);
        if plan.rules.is_empty() {
            return;
        }
        let view = SigmaView::new(event);
        let mut marks = plan.always.clone();
        let mut lower = String::new();
        for scan in &plan.scans {
            let mut visit = |s: &str| {
                let hay: &str = if s.is_ascii() {
                    if s.bytes().any(|b| b.is_ascii_uppercase()) {
                        lower.clear();
                        lower.push_str(s);
                        lower.make_ascii_lowercase();
                        &lower
                    } else {
                        s
                    }
                } else {
                    lower = s.to_lowercase();
                    &lower
                };
                for m in scan.ac.find_overlapping_iter(hay) {
                    for &r in &scan.pattern_rules[m.pattern().as_usize()] {
                        marks[r as usize] = true;
                    }
                }
            };
            match &scan.field {
                None => view.visit_strings(&mut |_, s| visit(s)),
                Some(f) => {
                    use rsigma_eval::Event as _;
                    if let Some(v) = view.get_field(f) {
                        visit_leaves(&v, &mut visit);
                    }
                }
            }
        }
        let mut evaluated = 0u64;
        let before = out.len();
        for (local, &r) in plan.rules.iter().enumerate() {
            if !marks[local] {
                continue;
            }
            evaluated += 1;
            if let Some(result) = rsigma_eval::evaluate_rule(&self.rules[r as usize], &view) {
                out.push(Hit { rule: r as usize, result });
            }
        }
        self.evaluations.fetch_add(evaluated, Ordering::Relaxed);
        self.hits.fetch_add((out.len() - before) as u64, Ordering::Relaxed);
    }
}

fn visit_leaves(v: &rsigma_eval::EventValue<'_>, scan: &mut dyn FnMut(&str)) {
    use rsigma_eval::EventValue;
    match v {
        EventValue::Str(s) => scan(s),
        EventValue::Int(n) => scan(&n.to_string()),
        EventValue::Float(f) => scan(&f.to_string()),
        EventValue::Bool(b) => scan(if *b { "true" } else { "false" }),
        EventValue::Array(items) => items.iter().for_each(|i| visit_leaves(i, scan)),
        EventValue::Map(_) | EventValue::Null => {}
    }
}

impl DetectionEngine for SigmaEngine {
    fn rules(&self) -> &[RuleInfo] {
        &self.info
    }

    fn evaluate(&self, event: &Event, out: &mut Vec<Hit>) {
        self.evaluate_event(event, out)
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
