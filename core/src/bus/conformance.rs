//! The bus conformance suite (being written).
