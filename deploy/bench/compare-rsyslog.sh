#!/usr/bin/env bash
# Same-run comparison of Sen and rsyslog on the same syslog stream (docs/PERFORMANCE.md).
#
#   deploy/bench/compare-rsyslog.sh [ROUNDS] [EVENTS]
#
# Builds the release binary, writes EVENTS RFC 3164 sshd lines (the rsyslog peer's own
# generator format) to a temp file, then alternates, ROUNDS times: `sen bench` over TCP on that
# file (end-to-end: until every event is searchable) and ../shared/bench/rsyslog_peer.py on the
# same file (until every line is written as JSON). Report ratios from the same run only.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
events="${2:-200000}"
peer="../shared/bench/rsyslog_peer.py"
[ -f "$peer" ] || { echo "missing $peer"; exit 1; }
cargo build --release --locked --bin sen >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$events" "$work/input.log" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    for i in range(n):
        out.write(f"<38>Nov 26 12:00:{i%60:02d} host{i%50} sshd[{i}]: Failed password for invalid user "
                  f"u{i%20} from 198.51.100.{i%200} port {i%60000} ssh2\n")
PY
for r in $(seq 1 "$rounds"); do
  sen=$(./target/release/sen bench --events "$events" --input "$work/input.log" --json \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f %.0f %.0f %.0f %.2f %.0f" % (d["end_to_end_eps"], d["accepted_eps"], d["latency_p50_ms"], d["latency_p99_ms"], d["server_cpu_seconds"], d["server_peak_rss_mib"]))')
  rs=$(python3 "$peer" --lines "$work/input.log" | sed -n 's/.*= \([0-9,]*\) lines\/s/\1/p' | tr -d ,)
  read -r e2e acc p50 p99 cpu rss <<<"$sen"
  ratio=$(python3 -c "print(f'{$e2e/$rs:.2f}')")
  echo "round $r: sen end-to-end ${e2e} EPS (accepted ${acc}, p50 ${p50} ms, p99 ${p99} ms, cpu ${cpu} s, rss ${rss} MiB) | rsyslog ${rs} lines/s | sen/rsyslog ${ratio}"
done
