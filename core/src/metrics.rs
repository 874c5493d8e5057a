//! Process-wide metrics: named counters and gauges rendered in the Prometheus text format.
//!
//! Components register their metrics once (a `static` via [`counter`] / [`gauge`]) and update
//! them with relaxed atomics; the console renders them at `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Add `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Add one.
    pub fn inc(&self) {
        self.add(1);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Set the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Add (or subtract) `n`.
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

enum Metric {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
}

struct Entry {
    name: String,
    labels: String,
    help: String,
    metric: Metric,
}

fn registry() -> &'static Mutex<Vec<Entry>> {
    static REG: OnceLock<Mutex<Vec<Entry>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(Vec::new()))
}

fn render_labels(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Get or register a counter (name in Prometheus style, e.g. `sen_intake_records_total`).
pub fn counter(name: &str, labels: &[(&str, &str)], help: &str) -> Arc<Counter> {
    let labels = render_labels(labels);
    let mut reg = registry().lock();
    for e in reg.iter() {
        if e.name == name
            && e.labels == labels
            && let Metric::Counter(c) = &e.metric
        {
            return c.clone();
        }
    }
    let c = Arc::new(Counter::default());
    reg.push(Entry {
        name: name.into(),
        labels,
        help: help.into(),
        metric: Metric::Counter(c.clone()),
    });
    c
}

/// Get or register a gauge.
pub fn gauge(name: &str, labels: &[(&str, &str)], help: &str) -> Arc<Gauge> {
    let labels = render_labels(labels);
    let mut reg = registry().lock();
    for e in reg.iter() {
        if e.name == name
            && e.labels == labels
            && let Metric::Gauge(g) = &e.metric
        {
            return g.clone();
        }
    }
    let g = Arc::new(Gauge::default());
    reg.push(Entry {
        name: name.into(),
        labels,
        help: help.into(),
        metric: Metric::Gauge(g.clone()),
    });
    g
}

/// Render every registered metric in the Prometheus text exposition format.
pub fn render() -> String {
    let reg = registry().lock();
    let mut order: Vec<&Entry> = reg.iter().collect();
    order.sort_by(|a, b| a.name.cmp(&b.name).then(a.labels.cmp(&b.labels)));
    let mut out = String::new();
    let mut last = "";
    for e in order {
        if e.name != last {
            let kind = match e.metric {
                Metric::Counter(_) => "counter",
                Metric::Gauge(_) => "gauge",
            };
            let _ = writeln!(out, "# HELP {} {}", e.name, e.help);
            let _ = writeln!(out, "# TYPE {} {}", e.name, kind);
            last = &e.name;
        }
        let v = match &e.metric {
            Metric::Counter(c) => c.get() as i64,
            Metric::Gauge(g) => g.get(),
        };
        let _ = writeln!(out, "{}{} {}", e.name, e.labels, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_and_render() {
        let c = counter("sen_test_total", &[("transport", "udp")], "test counter");
        c.add(3);
        let same = counter("sen_test_total", &[("transport", "udp")], "test counter");
        same.inc();
        gauge("sen_test_depth", &[], "test gauge").set(7);
        let text = render();
        assert!(text.contains("# TYPE sen_test_total counter"), "{text}");
        assert!(text.contains("sen_test_total{transport=\"udp\"} 4"), "{text}");
        assert!(text.contains("sen_test_depth 7"), "{text}");
    }
}
