//! Threat intelligence: indicators of compromise (IOCs) from feeds, matched against events.
//!
//! - [`ioc`]: the indicator model ([`Ioc`], [`IocValue`], [`IocKind`]) and canonical forms.
//! - [`parse`]: pure parsers for STIX 2.1 bundles, MISP JSON and CSV; every bad entry is an
//!   [`Issue`] with its location, the good ones are kept.
//! - [`set`]: [`IocSet`], the compiled matcher, and [`IocHit`].
//! - [`detect`]: an [`IocHit`] as an alert [`Detection`](crate::alerts::Detection).

pub mod detect;
pub mod ioc;
pub mod parse;
pub mod set;

pub use ioc::{FeedInfo, Ioc, IocKind, IocValue, UrlIoc};
pub use parse::{FeedFormat, Issue, IssueKind, ParseError, ParseOptions, ParseStats, Parsed};
pub use set::{IocHit, IocSet};
