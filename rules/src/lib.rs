//! `sen-rules`: detection content (Sigma rules, correlation rules, mappings) and compliance
//! content, plus the code that loads and validates it.
//!
//! - [`check`]: load every Sigma file under a path (rules, correlation rules, filters), compile
//!   each rule, and report **every** error in one pass with its file and rule — a feature the
//!   engine does not support is a load error naming the rule, never a silent non-match.
//!
//! The engine itself (routing, prefilter, evaluation on `sen_core::Event`, correlation state)
//! follows ADR 0008: rsigma's parser and compiler behind Sen's own trait.

pub mod check;
pub mod packs;
pub mod sigma;
