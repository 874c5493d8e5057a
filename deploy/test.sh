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
  # Keep the dependencies, rebuild Sen's own crates: an artifact built from another clone can
  # look fresh here (older sources) yet carry that clone's paths (env!("CARGO_MANIFEST_DIR")).
  cargo clean --quiet -p sen -p sen-core -p sen-parse -p sen-analyzer -p sen-collector \
    -p sen-console -p sen-sensors -p sen-rules 2>/dev/null || true
fi
export CARGO_TERM_COLOR=never

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "== console UI tests (node --test)"
node --test console/ui/test/ 2>&1 | tee -a "$log"
echo "== cargo test"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee -a "$log"
# One closing line over every runner: `total: N passed, N failed`.
awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  /^# pass /      { p += $3 }
  /^# fail /      { f += $3 }
  END { printf "total: %d passed, %d failed\n", p, f }
' "$log"
