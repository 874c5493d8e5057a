//! `sen-analyzer` (being written).
