//! `sen-collector`: intake (being written).
