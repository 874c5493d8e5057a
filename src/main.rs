//! The `sen` binary: subcommand dispatch only.
fn main() {}
