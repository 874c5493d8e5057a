//! `sen-parse`: log parsers and ECS normalization (being written).
