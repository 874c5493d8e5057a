//! What the benches share: the public corpora and reading a sample from them.

use std::path::PathBuf;

pub const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/public");

/// The lines of a corpus file (`rel` under [`CORPORA`]), or `None` (with a SKIP message) when
/// it is absent.
pub fn lines(rel: &str) -> Option<Vec<String>> {
    let p = PathBuf::from(CORPORA).join(rel);
    match std::fs::read(&p) {
        Ok(b) => Some(String::from_utf8_lossy(&b).lines().map(str::to_owned).collect()),
        Err(_) => {
            eprintln!("SKIP: {} not found", p.display());
            None
        }
    }
}
