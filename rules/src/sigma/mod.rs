//! Sen's Sigma engine (ADR 0008): rsigma's parser and compiler behind Sen's own routing
//! ([`logsource`]), field mapping ([`fields`]), literal prefilter ([`prefilter`]), zero-copy
//! event view ([`view`]) and correlation state ([`correlate`]).

pub mod cache;
pub mod compact;
pub mod correlate;
pub mod engine;
pub mod fields;
pub mod logsource;
pub mod lower;
pub mod prefilter;
pub mod scan;
pub mod view;
pub mod yesno;

pub use correlate::{CorrelationHit, Correlator, CorrelatorConfig, MAX_PARTITIONS, Restored};
pub use engine::{DetectionEngine, EngineStats, Hit, LoadReport, RuleInfo, RuleSet, SigmaEngine};
pub use view::SigmaView;

/// Helpers the modules' tests share.
#[cfg(test)]
pub(crate) mod testing {
    /// Draws from a xorshift generator started at `seed` (the same draws every run): each
    /// call returns a number below its argument.
    pub fn draws(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }
}
