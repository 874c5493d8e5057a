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
