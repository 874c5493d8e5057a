#!/usr/bin/env bash
# The whole test suite: formatting, lints, the console UI tests and every Rust test (unit,
# property, corpus, end-to-end on the real binary). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/lib.sh
ensure_tools cc:build-essential pkg-config:pkg-config node:nodejs
rustup component add rustfmt clippy >/dev/null 2>&1 || true

if [ "${CI:-}" = "true" ]; then
  # CI runs on a fresh clone: keep compiled dependencies between runs.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cargo/sen-ci-target}"
fi
export CARGO_TERM_COLOR=never

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== console UI tests (node --test)"
node --test console/ui/test/
echo "== cargo test"
cargo test --workspace --locked
