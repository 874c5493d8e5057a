//! `sen-analyzer`: turns raw records from the bus into searchable events.
//!
//! - [`index`]: the Tantivy event store (one index per day), the query language, search,
//!   histogram and top values.
//! - [`enrich`]: GeoIP (country, ASN) and asset enrichment.
//! - [`pipeline`]: the consumer loop: bus `raw` topic → parse and normalize (`sen-parse`) →
//!   enrich → index, committing bus offsets only after the index commit.
//! - [`alerts`]: detections → grouped, rate-limited, suppressible alerts.
//! - [`anomaly`]: per-entity baselines (first-seen values, rare values, volume spikes) with
//!   explainable findings.

pub mod alerts;
pub mod anomaly;
pub mod enrich;
pub mod index;
pub mod pipeline;
