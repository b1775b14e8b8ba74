#!/usr/bin/env bash
# Capture-server benchmark against a bare hyper ceiling, in alternating rounds on loopback.
#
#   bench/capture.sh            # 5 rounds of 10 s each, 64 connections
#   ROUNDS=7 DURATION=5s CONNECTIONS=64 bench/capture.sh
#   SPLITMARK_BIN=/path/to/splitmark bench/capture.sh   # another build (not rebuilt)
#   CEILING_BIN=/path/to/ceiling                       # likewise for the ceiling
#   WEBHOOK=1 bench/capture.sh  # the same with a signed webhook per lead, to a loopback
#                               # receiver (the ceiling binary on another port), so every
#                               # stored lead also writes its delivery row and is delivered
#   DB=postgres bench/capture.sh  # the capture server on PostgreSQL: SPLITMARK_BENCH_POSTGRES_URL,
#                               # else the local test cluster of scripts/ci-postgres.sh; every
#                               # run gets a new empty schema, dropped after the run
#   PACED=1 bench/capture.sh    # also submissions at half of each run's measured rate, for p99,
#                               # on a fresh store and process (no backlog of the other phases)
#   PACE_RATE=5000 bench/capture.sh  # the paced submissions (PACED=1 implied) at a fixed
#                               # offered rate, the same for every run: compare two configurations
#
# Prints, per round and as medians: durable submissions/s (2xx answers, each sent only after
# its transaction committed with synchronous=FULL), p99 latency, the ratio to the ceiling, the
# same for exposure beacons, and the capture server's peak RSS.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PGOPTIONS="${PGOPTIONS:---client-min-messages=warning}"
shared=${SHARED_BENCH:-"$repo/../shared/bench"}
out=${OUT:-"$repo/bench/out/capture"}
rounds=${ROUNDS:-5}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
db=${DB:-sqlite}
paced=${PACED:-0}
# A fixed paced rate asks for the paced phase.
[ -n "${PACE_RATE:-}" ] && paced=1
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
case "$db" in
  sqlite) ;;
  postgres)
    command -v psql >/dev/null || { echo "psql missing: apt-get install postgresql-client" >&2; exit 1; }
    pg_url=${SPLITMARK_BENCH_POSTGRES_URL:-$(bash "$repo/scripts/ci-postgres.sh")}
    ;;
  *) echo "DB must be sqlite or postgres, not $db" >&2; exit 1 ;;
esac
bin=${SPLITMARK_BIN:-}
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --release --quiet)
  bin="$repo/target/release/splitmark"
fi
ceiling=${CEILING_BIN:-}
if [ -z "$ceiling" ]; then
  (cd "$repo" && cargo build --release --quiet --example ceiling)
  ceiling="$repo/target/release/examples/ceiling"
fi

rm -rf "$out" && mkdir -p "$out"
. "$repo/bench/site.sh"
bench_site "$bin" "$out/site"
receiver=""
if [ "${WEBHOOK:-0}" = 1 ]; then
  # One standard webhook for every lead, to a receiver that answers 204 at once. It runs on
  # the same machine, so its CPU is part of what the capture server's throughput pays.
  hook_port=18932
  sed -i 's/^\[capture\]$/[capture]\nallow_private_targets = true/' "$out/site/splitmark.toml"
  printf '[[capture.webhooks]]\nurl = "http://127.0.0.1:%s/hook"\nsecret_env = "BENCH_HOOK_SECRET"\n' "$hook_port" >>"$out/site/splitmark.toml"
  export BENCH_HOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  "$bin" build --root "$out/site" >/dev/null
  "$ceiling" "127.0.0.1:$hook_port" >/dev/null & receiver=$!
fi

port=18931
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/$1" && return 0; sleep 0.05; done; return 1; }

run_wrk() { # script path -> prints wrk output
  SHARED_SUBMIT="$shared/submit.lua" COUNT_2XX=1 wrk -t2 -c"$conns" -d"$duration" --latency -s "$1" "http://127.0.0.1:$port$2" 2>&1
}

# CPU seconds (user + system) of every process named postgres that this user can read: the
# server's share of the machine during a run. Backends that start during the run count whole;
# other clients of the same cluster count too, so keep it otherwise idle.
pg_cpu() {
  local ticks
  ticks=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" {t += $14 + $15} END {print t + 0}')
  python3 -c "import os; print($ticks / os.sysconf('SC_CLK_TCK'))"
}
schema=""
drop_schema() { [ -n "$schema" ] && psql -qAt "$pg_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null; schema=""; }
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null
  [ "$db" = postgres ] && drop_schema
  return 0
}
trap cleanup EXIT

# Starts the capture server of round $1 on a new empty store.
start_capture() {
  if [ "$db" = postgres ]; then
    schema="bench_capture_$$_$1"
    psql -qAt "$pg_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    local sep='?'; case "$pg_url" in *\?*) sep='&' ;; esac
    url="$pg_url${sep}options=-c%20search_path%3D$schema"
  else
    rm -f "$out/leads.db"*
    url="sqlite:$out/leads.db"
  fi
  "$bin" capture --root "$out/site" --bind "127.0.0.1:$port" --db "$url" >/dev/null 2>&1 & pid=$!
  wait_up healthz
}

results="$out/results.tsv"
: >"$results"
for r in $(seq "$rounds"); do
  order="ceiling capture"
  [ $((r % 2)) -eq 0 ] && order="capture ceiling"
  for who in $order; do
    pgcpu=""
    if [ "$who" = ceiling ]; then
      "$ceiling" "127.0.0.1:$port" >/dev/null & pid=$!
      wait_up "" || true
      sub=$(run_wrk "$repo/bench/submit_unique.lua" /api/v1/forms/lead)
      exp=$(run_wrk "$repo/bench/exposure.lua" /api/v1/events)
      rss=0
    else
      start_capture "$r"
      cpu0=0; [ "$db" = postgres ] && cpu0=$(pg_cpu)
      sub=$(run_wrk "$repo/bench/submit_unique.lua" /api/v1/forms/lead)
      exp=$(run_wrk "$repo/bench/exposure.lua" /api/v1/events)
      pgcpu=""; [ "$db" = postgres ] && pgcpu=$(python3 -c "print(round(($(pg_cpu) - $cpu0) / (2 * ${duration%s}), 3))")
      rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    fi
    paced_out=""
    if [ "$who" = capture ] && [ "$paced" = 1 ]; then
      acked=$(printf '%s\n' "$sub" | sed -n 's/.*acked_2xx=\([0-9]*\).*/\1/p' | head -1)
      # Half the rate this run reached: each of the connections waits conns * 2000 / rate ms;
      # or PACE_RATE requests/s in all: conns * 1000 / PACE_RATE ms.
      if [ -n "${PACE_RATE:-}" ]; then
        pace=$(python3 -c "print(max(1, round($conns * 1000 / $PACE_RATE)))")
      else
        pace=$(python3 -c "print(max(1, round($conns * 2000 / max(1, ${acked:-0} / ${duration%s}))))")
      fi
      # On a fresh store and process: no backlog of the full-rate phases (deliveries still
      # draining, a larger table) in the paced figure.
      kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
      [ "$db" = postgres ] && drop_schema
      start_capture "$r"
      paced_out=$(SUBMIT_UNIQUE="$repo/bench/submit_unique.lua" PACE_MS=$pace run_wrk "$repo/bench/paced.lua" /api/v1/forms/lead)
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    [ "$who" = capture ] && [ "$db" = postgres ] && drop_schema
    secs=${duration%s}
    python3 - "$who" "$r" "$secs" "$rss" "$results" "${pgcpu:-}" <<PY
import re, sys
who, r, secs, rss, path, pgcpu = sys.argv[1:]
sub = """$sub"""
exp = """$exp"""
paced = """$paced_out"""
def num(pat, text, default=0):
    m = re.search(pat, text)
    return int(m.group(1)) if m else default
acked = num(r"acked_2xx=(\d+)", sub) if who == "capture" else num(r"requests=(\d+)", sub)
line = [who, r, acked / float(secs), num(r"p99_us=(\d+)", sub) / 1000.0,
        num(r"requests=(\d+)", exp) / float(secs) - num(r"errors_status=(\d+)", exp) / float(secs),
        num(r"p99_us=(\d+)", exp) / 1000.0, int(rss) / 1024.0, num(r"non_2xx=(\d+)", sub),
        num(r"acked_2xx=(\d+)", paced) / float(secs), num(r"p99_us=(\d+)", paced) / 1000.0, pgcpu or ""]
open(path, "a").write("\t".join(str(x) for x in line) + "\n")
extra = f"  paced {line[8]:7.0f}/s p99 {line[9]:6.2f} ms" if paced else ""
extra += f"  postgres cpu {float(pgcpu):.0%} of 2 vCPUs" if pgcpu else ""
print(f"round {r} {who:8} submissions/s {line[2]:9.0f}  p99 {line[3]:6.2f} ms   exposures/s {line[4]:9.0f}  p99 {line[5]:6.2f} ms   rss {line[6]:5.1f} MiB  non-2xx {line[7]}{extra}")
PY
  done
done

python3 - "$results" <<'PY'
import os, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def med(who, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == who)
def ratios(i):
    by = {}
    for r in rows:
        by.setdefault(r[1], {})[r[0]] = float(r[i])
    return [v["capture"] / v["ceiling"] for v in by.values() if "capture" in v and v.get("ceiling")]
print()
print(f"submissions: capture {med('capture', 2):.0f}/s (p99 {med('capture', 3):.2f} ms) vs ceiling {med('ceiling', 2):.0f}/s -> ratio median {statistics.median(ratios(2)):.2f} (rounds: {', '.join(f'{x:.2f}' for x in ratios(2))})")
print(f"exposures:   capture {med('capture', 4):.0f}/s (p99 {med('capture', 5):.2f} ms) vs ceiling {med('ceiling', 4):.0f}/s -> ratio median {statistics.median(ratios(4)):.2f}")
cap = [r for r in rows if r[0] == "capture"]
if any(float(r[8]) for r in cap):
    rate = os.environ.get("PACE_RATE")
    label = f"about {rate}/s offered" if rate else "half of each run's rate"
    print(f"paced submissions ({label}): {statistics.median(float(r[8]) for r in cap):.0f}/s, p99 median {statistics.median(float(r[9]) for r in cap):.2f} ms (runs: {', '.join(r[9] for r in cap)})")
if any(r[10] for r in cap):
    print(f"postgres CPU during the capture runs: median {statistics.median(float(r[10]) for r in cap):.0%} of 2 vCPUs")
print(f"capture peak RSS: {max(float(r[6]) for r in rows if r[0] == 'capture'):.1f} MiB")
PY
