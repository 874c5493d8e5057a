//! `sen-rules`: detection content (Sigma rules, correlation rules, mappings) and compliance
//! content, plus the code that loads and validates it.
//!
//! Intentionally empty until the detection issue; the folder layout it will fill is
//! `rules/sigma/`, `rules/correlation/`, `rules/mappings/`, `rules/compliance/`.
