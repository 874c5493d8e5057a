//! `sen-core`: the pieces every other crate of Sen shares.
//!
//! - [`event`]: the normalized event (ECS field names, typed hot fields, flexible remainder,
//!   one dotted-path lookup, JSON round trip, stable origin-derived ids).
//! - [`raw`]: the envelope intake writes to the `raw` topic (a received line or JSON event plus
//!   where and when it came from).
//! - [`fsutil`]: atomic, durable replacement of state files.
//! - [`bus`]: the [`bus::Bus`] trait with its embedded durable log implementation and the
//!   conformance suite every implementation must pass.
//!
//! Architecture invariant: this crate depends on nothing internal and knows nothing of parsing,
//! indexing or HTTP.

pub mod bus;
pub mod event;
pub mod fields;
pub mod fsutil;
pub mod metrics;
pub mod raw;

pub use event::{Event, FieldRef, Value, derive_id};
pub use fields::{Fields, Name};
