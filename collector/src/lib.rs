//! `sen-collector`: intake (being written).
pub mod demo;
