//! The volume-spike detector: events per bucket of event time per series, an exponentially
//! weighted mean and variance of the bucket counts, and one finding per bucket whose count
//! crosses the line.
//!
//! The mean and variance follow the incremental exponentially weighted update (Finch, 2009):
//! `d = x − μ; μ += α·d; σ² = (1 − α)(σ² + α·d²)`, with `α = 1 − 2^(−bucket/half_life)`, and
//! `α = max(α, 1/(n+1))` for the first buckets, so the start is a plain average rather than a
//! mean dragged towards zero. A bucket that raised a finding enters the baseline clamped to
//! its line, so an attack does not teach the detector that attacks are normal.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::config::{VolumeConfig, VolumeRule};
use super::fields::{EventFields, FieldTable, combine};
use super::{
    AnomalyStats, IdMap, MAX_VALUE_TEXT_BYTES, RuleCommon, cut, describe_entity, finding,
    make_room, paths, secs,
};
use crate::alerts::Detection;

/// Key component of events with none of the category fields.
const NO_CATEGORY: u64 = 0x6e6f_6e65_0000_0001;

/// One series' state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Series {
    /// When first seen (caller's clock, Unix seconds).
    created: i64,
    /// When last seen (caller's clock).
    last: i64,
    /// Current bucket (event time / bucket length).
    bucket: i64,
    /// Events in the current bucket.
    count: u64,
    mean: f64,
    var: f64,
    /// Decayed peak of closed buckets.
    peak: f64,
    /// Buckets closed (empty ones included).
    buckets: u64,
    /// Whether the current bucket raised a finding.
    alerted: bool,
    /// Whether the current bucket reached its line (finding or learning).
    crossed: bool,
    /// Count at which the current bucket crosses (derived, recomputed on restore).
    #[serde(skip)]
    need: u64,
}

impl Series {
    pub(crate) fn last(&self) -> i64 {
        self.last
    }

    fn sigma(&self) -> f64 {
        self.var.max(0.0).sqrt().max(self.mean.max(0.0).sqrt()).max(1.0)
    }

    /// The statistical line `μ + z·σ`.
    fn line(&self, z: f64) -> f64 {
        self.mean + z * self.sigma()
    }

    fn compute_need(&mut self, z: f64, min_count: u64, peak_factor: f64) {
        // Float-to-integer casts saturate; `count > line` ⇔ `count ≥ ⌊line⌋ + 1`.
        let mut need = min_count.max((self.line(z).floor() as u64).saturating_add(1));
        if peak_factor > 0.0 {
            need = need.max(((peak_factor * self.peak).floor() as u64).saturating_add(1));
        }
        self.need = need;
    }

    fn update(&mut self, x: f64, alpha: f64) {
        let a = alpha.max(1.0 / (self.buckets as f64 + 1.0));
        let d = x - self.mean;
        let incr = a * d;
        self.mean += incr;
        self.var = (1.0 - a) * (self.var + d * incr);
        self.buckets = self.buckets.saturating_add(1);
    }

    /// Close the current bucket and the empty ones up to `b`.
    fn advance(&mut self, b: i64, z: f64, min_count: u64, p: &Params) {
        let gap = u64::try_from(b.saturating_sub(self.bucket)).unwrap_or(0).max(1);
        let mut x = self.count as f64;
        if self.alerted {
            x = x.min(self.line(z));
        }
        self.update(x, p.alpha);
        self.peak = self.peak.max(x);
        let zeros = gap - 1;
        for _ in 0..zeros.min(p.zero_cap) {
            self.update(0.0, p.alpha);
        }
        self.buckets = self.buckets.saturating_add(zeros.saturating_sub(p.zero_cap));
        self.peak *= p.peak_decay.powf(gap as f64);
        self.bucket = b;
        self.count = 0;
        self.alerted = false;
        self.crossed = false;
        self.compute_need(z, min_count, p.peak_factor);
    }
}

/// Detector-wide parameters.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    bucket_ms: i64,
    bucket_secs: i64,
    learning: i64,
    min_buckets: u64,
    alpha: f64,
    /// Empty buckets replayed at most (beyond, the baseline is zero to 1e-6 anyway).
    zero_cap: u64,
    peak_factor: f64,
    /// Peak decay per bucket.
    peak_decay: f64,
    max_lateness_ms: i64,
    max_series: usize,
}

impl Params {
    pub(crate) fn max_series(&self) -> usize {
        self.max_series
    }
}

/// A compiled volume rule and its series.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) common: RuleCommon,
    entity: Vec<usize>,
    category: Vec<usize>,
    extra: Vec<String>,
    z: f64,
    min_count: u64,
    pub(crate) series: IdMap<Series>,
}

/// The volume detector: its parameters and rules.
#[derive(Debug)]
pub(crate) struct Detector {
    pub(crate) params: Params,
    pub(crate) rules: Vec<Rule>,
}

impl Detector {
    pub(crate) fn new(cfg: &VolumeConfig, on: bool, table: &mut FieldTable) -> Detector {
        let bucket_secs = secs(cfg.bucket).max(1);
        let half_life_buckets = (cfg.half_life.as_secs_f64() / bucket_secs as f64).max(1.0);
        let alpha = 1.0 - 0.5f64.powf(1.0 / half_life_buckets);
        let zero_cap = ((1e-6f64).ln() / (1.0 - alpha).ln()).ceil().clamp(1.0, 1e7) as u64;
        let peak_buckets = (cfg.peak_half_life.as_secs_f64() / bucket_secs as f64).max(1.0);
        let params = Params {
            bucket_ms: bucket_secs * 1000,
            bucket_secs,
            learning: secs(cfg.learning_period),
            min_buckets: cfg.min_buckets,
            alpha,
            zero_cap,
            peak_factor: cfg.peak_factor,
            peak_decay: 0.5f64.powf(1.0 / peak_buckets),
            max_lateness_ms: i64::try_from(cfg.max_lateness.as_millis()).unwrap_or(i64::MAX),
            max_series: cfg.max_series,
        };
        let rules = if on {
            cfg.rules
                .iter()
                .filter(|r| r.enabled)
                .map(|r| Rule::new(r, cfg, bucket_secs, table))
                .collect()
        } else {
            Vec::new()
        };
        Detector { params, rules }
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.iter().map(|r| r.series.len()).sum()
    }

    pub(crate) fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.common.meta.id.as_str())
    }

    /// Recompute the derived part of a restored series.
    pub(crate) fn prepare(&self, rule: usize, s: &mut Series) {
        let (r, p) = (&self.rules[rule], &self.params);
        s.compute_need(r.z, r.min_count, p.peak_factor);
    }

    pub(crate) fn observe(
        &mut self,
        f: &mut EventFields<'_, '_>,
        now: DateTime<Utc>,
        stats: &mut AnomalyStats,
        out: &mut Vec<Detection>,
    ) {
        if self.rules.is_empty() {
            return;
        }
        let p = &self.params;
        let now_ms = now.timestamp_millis();
        let now_s = now.timestamp();
        let mut ts = f.event().timestamp.timestamp_millis();
        if ts > now_ms.saturating_add(p.bucket_ms) {
            stats.volume_future_clamped += 1;
            ts = now_ms;
        }
        let b = ts.div_euclid(p.bucket_ms);
        for rule in &mut self.rules {
            if !rule.common.filter.accepts(f) {
                continue;
            }
            let Some(mut key) = f.key(&rule.entity) else { continue };
            let cat = f.first_present(&rule.category);
            key = match cat {
                Some((i, h)) => combine(combine(key, i as u64), h),
                None => combine(key, NO_CATEGORY),
            };
            if rule.series.len() >= p.max_series && !rule.series.contains_key(&key) {
                stats.volume.evicted += make_room(&mut rule.series, p.max_series, Series::last);
            }
            let (z, min_count) = (rule.z, rule.min_count);
            let s = rule.series.entry(key).or_insert_with(|| {
                let mut s = Series {
                    created: now_s,
                    last: now_s,
                    bucket: b,
                    count: 0,
                    mean: 0.0,
                    var: 0.0,
                    peak: 0.0,
                    buckets: 0,
                    alerted: false,
                    crossed: false,
                    need: 0,
                };
                s.compute_need(z, min_count, p.peak_factor);
                s
            });
            if b > s.bucket {
                s.advance(b, z, min_count, p);
            } else if b < s.bucket
                && ts < (s.bucket.saturating_mul(p.bucket_ms)).saturating_sub(p.max_lateness_ms)
            {
                stats.volume_late_dropped += 1;
                continue;
            }
            s.count = s.count.saturating_add(1);
            s.last = s.last.max(now_s);
            if s.crossed || s.count < s.need {
                continue;
            }
            s.crossed = true;
            let learned =
                now_s.saturating_sub(s.created) >= p.learning && s.buckets >= p.min_buckets;
            if !learned {
                stats.volume.learning += 1;
                continue;
            }
            s.alerted = true;
            stats.volume.findings += 1;
            let snapshot = *s;
            out.push(rule.explain(f, &snapshot, cat.map(|(i, _)| i), p));
        }
    }
}

impl Rule {
    fn new(r: &VolumeRule, cfg: &VolumeConfig, bucket_secs: i64, table: &mut FieldTable) -> Rule {
        let mut group_by = r.entity.clone();
        group_by.extend(r.category.iter().cloned());
        // Bucket indexes mean nothing under another bucket length: part of the signature.
        let bucket = [format!("bucket={bucket_secs}")];
        let common = RuleCommon::new(
            "volume",
            &r.name,
            &r.title,
            r.level.unwrap_or(cfg.level),
            &r.tags,
            group_by,
            &[&r.entity, &r.category, &bucket],
            &r.when,
            &r.unless,
            table,
        );
        Rule {
            common,
            entity: r.entity.iter().map(|f| table.slot(f)).collect(),
            category: r.category.iter().map(|f| table.slot(f)).collect(),
            extra: r.category.clone(),
            z: r.z.unwrap_or(cfg.z),
            min_count: r.min_count.unwrap_or(cfg.min_count),
            series: IdMap::default(),
        }
    }

    fn explain(
        &self,
        f: &mut EventFields<'_, '_>,
        s: &Series,
        cat: Option<usize>,
        p: &Params,
    ) -> Detection {
        let category = match cat {
            Some(i) => {
                let slot = self.category[i];
                let v = cut(f.text(slot).unwrap_or_default(), MAX_VALUE_TEXT_BYTES);
                (format!("{}={v}", f.table().path(slot)), v)
            }
            None if self.category.is_empty() => (String::new(), String::new()),
            None => ("category (none)".to_owned(), "(none)".to_owned()),
        };
        let mut entity = describe_entity(f, &self.entity);
        if !category.0.is_empty() {
            entity = format!("{entity} {}", category.0);
        }
        let sigma = s.sigma();
        let z = (s.count as f64 - s.mean) / sigma;
        let start_ms = s.bucket.saturating_mul(p.bucket_ms);
        let start = Utc.timestamp_millis_opt(start_ms).single().unwrap_or_default();
        let start_text = start.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let bucket = humantime::format_duration(std::time::Duration::from_secs(
            u64::try_from(p.bucket_secs).unwrap_or(60),
        ));
        let peak = if p.peak_factor > 0.0 {
            format!("; busiest bucket lately {:.0}", s.peak)
        } else {
            String::new()
        };
        let reason = format!(
            "{entity}: {} events in the {bucket} bucket from {start_text} (so far), \
             expected {:.1} ± {:.1} (z = {z:.1}, line at {}){peak}",
            s.count, s.mean, sigma, s.need,
        );
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        finding(
            &self.common.meta,
            f,
            &extra,
            reason,
            vec![
                (paths::DETECTOR, "volume".to_owned()),
                (paths::RULE, self.common.name.clone()),
                (paths::VALUE, category.1),
                (paths::OBSERVED, s.count.to_string()),
                (paths::EXPECTED, format!("{:.3}", s.mean)),
                (paths::STDDEV, format!("{sigma:.3}")),
                (paths::Z, format!("{z:.3}")),
                (paths::THRESHOLD, s.need.to_string()),
                (paths::PEAK, format!("{:.3}", s.peak)),
                (paths::BUCKET_START, start.to_rfc3339()),
                (paths::BUCKET_SECONDS, p.bucket_secs.to_string()),
            ],
        )
    }
}
