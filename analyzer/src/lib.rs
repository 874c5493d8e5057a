//! `sen-analyzer`: turns raw records from the bus into searchable events.
//!
//! - [`index`]: the Tantivy event store (one index per day), the query language, search,
//!   histogram and top values.
//! - [`enrich`]: GeoIP (country, ASN) and asset enrichment.
//! - [`intel`]: threat intelligence: IOC feeds (STIX, MISP, CSV), the ingest-time matcher and
//!   the retro-hunt.
//! - [`pipeline`]: the consumer loop: bus `raw` topic → parse and normalize (`sen-parse`) →
//!   enrich → detect → index, committing bus offsets only after the index commit.
//! - [`detect`]: Sigma rules, correlation and alert grouping inside the pipeline.
//! - [`alerts`]: the alert model and grouper.
//! - [`anomaly`]: per-entity baselines (first-seen values, rare values, volume spikes) with
//!   explainable findings.

pub mod alerts;
pub mod anomaly;
pub mod detect;
pub mod enrich;
pub mod index;
pub mod intel;
pub mod pipeline;
