//! `sen-console` (being written).
