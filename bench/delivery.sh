#!/usr/bin/env bash
# Speed to lead: time from each submission's 201 to its webhook's (and its e-mail's) arrival.
#
#   bench/delivery.sh                 # 1,000 leads at a steady 100/s, webhook then e-mail
#   LEADS=500 RATE=50 bench/delivery.sh
#   SPLITMARK_BIN=target/debug/splitmark bench/delivery.sh   # another build
#
# A receiver (HTTP) and an SMTP server (aiosmtpd) run on loopback in bench/delivery.py; the
# capture server (SQLite) has one target per run. Prints p50, p99 and the worst latency, and
# the ratios to the targets (p50 20 ms, p99 1 s).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/bench/out/delivery"
bin=${SPLITMARK_BIN:-}
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --release --quiet)
  bin="$repo/target/release/splitmark"
fi
python=${PYTHON:-python3}
"$python" -c 'import aiosmtpd' 2>/dev/null || python=/usr/bin/python3
"$python" -c 'import aiosmtpd' 2>/dev/null || { echo "aiosmtpd missing: apt-get install python3-aiosmtpd" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
. "$repo/bench/site.sh"
bench_site "$bin" "$out/site"
cp "$out/site/splitmark.toml" "$out/base.toml"
"$python" "$repo/bench/delivery.py" "$bin" "$out" "${LEADS:-1000}" "${RATE:-100}"
