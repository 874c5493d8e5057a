//! Threat intelligence: indicators of compromise (IOCs) from feeds, matched against events at
//! ingest and hunted for in past events when new ones arrive.
//!
//! - [`ioc`]: the indicator model ([`Ioc`], [`IocValue`], [`IocKind`]) and canonical forms.
//! - [`parse`]: pure parsers for STIX 2.1 bundles, MISP JSON and CSV. Every bad entry is an
//!   [`Issue`] with its location; the good ones are kept.
//! - [`set`]: [`IocSet`], the compiled matcher (no allocation when nothing matches), and
//!   [`IocHit`].
//! - [`detect`]: an [`IocHit`] as an alert [`Detection`](crate::alerts::Detection) (rule
//!   `ioc:<feed>:<type>`, title naming the indicator and the feed).
//! - [`config`]: the `[intel]` configuration ([`IntelConfig`], [`FeedConfig`]).
//! - [`manager`]: [`IntelManager`], which loads the feeds from files and HTTPS URLs, refreshes
//!   them on schedule, keeps the last good set when a refresh fails, reports [`FeedStatus`],
//!   and sends [`NewIocs`] for the retro-hunt.
//! - [`hunt`]: [`retro_hunt`], the new indicators searched in the index and checked with the
//!   same matcher.
//!
//! # Wiring
//!
//! ```text
//! let (intel, mut new_iocs) = IntelManager::start(cfg.intel, Some(data_dir.join("state"))).await?;
//! // per batch of events (pipeline worker):
//! let set = intel.current();
//! let mut hits = Vec::new();
//! for event in &batch { hits.clear(); set.match_event(event, &mut hits);
//!     for h in &hits { grouper.observe(h.detection(event, grouper.capture_fields(&h.rule())), now); } }
//! // a task (it waits a little longer than the index commit interval first, so that events
//! // matched with the previous set are searchable; later ones were matched with the new set):
//! while let Some(n) = new_iocs.recv().await {
//!     if let Some((since, until)) = intel.retro_hunt_window(Utc::now()) {
//!         let found = spawn_blocking(move || retro_hunt(&store, &n.iocs, since, until, limit)).await??;
//!     }
//! }
//! ```

pub mod config;
pub mod detect;
mod fetch;
pub mod hunt;
pub mod ioc;
pub mod manager;
pub mod parse;
pub mod set;

#[cfg(test)]
mod proptests;

use std::path::PathBuf;

pub use config::{FeedConfig, IntelConfig};
pub use hunt::{RetroHunt, retro_hunt};
pub use ioc::{FeedInfo, Ioc, IocKind, IocValue, UrlIoc};
pub use manager::{FeedStatus, IntelManager, NewIocs, RefreshOutcome};
pub use parse::{FeedFormat, Issue, IssueKind, ParseError, ParseOptions, ParseStats, Parsed};
pub use set::{IocHit, IocSet};

/// Errors of the threat intel module.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    /// The configuration has problems (each names its field).
    #[error("invalid intel configuration: {}", .0.join("; "))]
    Config(Vec<String>),
    /// The HTTPS client could not be built.
    #[error("intel http client: {0}")]
    Client(String),
    /// No enabled feed has this name.
    #[error("no enabled intel feed named `{0}`")]
    UnknownFeed(String),
    /// The state directory cannot be used.
    #[error("intel state directory {path}: {source}")]
    State {
        /// The directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A retro-hunt search failed.
    #[error("retro-hunt search failed: {0}")]
    Index(#[from] crate::index::IndexError),
}
