#!/usr/bin/env bash
# CPU per request of the capture server, by thread kind, for one or more binaries in
# alternating runs: the figure to compare builds by on a noisy machine, where requests per
# second swing between runs of the same binary.
#
#   bench/cpu.sh                       # this checkout's release build, 3 runs
#   RUNS=5 bench/cpu.sh OLD_BIN NEW_BIN
#   LOAD=exposures bench/cpu.sh OLD_BIN NEW_BIN
#
# Thread names: tokio-rt-worker, splitmark-write (the SQLite writer).
# Each run: a fresh SQLite database, wrk -t2 -c64 for DURATION (5s), then per-thread user and
# system CPU from /proc/PID/task/*/stat divided by the requests wrk completed. The last two
# columns put the server's figure in context: wrk's own CPU per request (it shares the
# machine, and costs more per request when the server answers later) and the machine's idle
# and iowait time per request (/proc/stat), which grows when requests wait for the writer.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared="$repo/../shared/bench"
out="$repo/bench/out/cpu"
runs=${RUNS:-3}
duration=${DURATION:-5s}
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
if [ $# -eq 0 ]; then
  (cd "$repo" && cargo build --release --quiet)
  set -- "$repo/target/release/splitmark"
fi
case ${LOAD:-submissions} in
  submissions) script="$repo/bench/submit_unique.lua"; path=/api/v1/forms/lead ;;
  exposures) script="$repo/bench/exposure.lua"; path=/api/v1/events ;;
  *) echo "LOAD is submissions or exposures" >&2; exit 2 ;;
esac

rm -rf "$out" && mkdir -p "$out"
. "$repo/bench/site.sh"
bench_site "$1" "$out/site"
port=18932
ticks() { # pid -> "kind utime stime" per thread
  for t in /proc/"$1"/task/*; do
    echo "$(tr ' ' _ <"$t/comm") $(awk '{print $14, $15}' "$t/stat")"
  done
}

idle() { awk '/^cpu / {print $5 + $6}' /proc/stat; } # idle + iowait ticks, all CPUs
printf '%-40s %8s %10s %10s %10s %10s %8s %7s %7s\n' binary req/s tokio_usr tokio_sys writer_usr writer_sys total_us wrk_us idle_us
for _ in $(seq "$runs"); do
  for bin in "$@"; do
    rm -f "$out"/leads.db*
    "$bin" capture --root "$out/site" --bind "127.0.0.1:$port" --db "sqlite:$out/leads.db" >/dev/null 2>&1 & pid=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
    ticks "$pid" >"$out/before"
    idle0=$(idle)
    # bash's `time` reports wrk's user and system CPU seconds.
    { TIMEFORMAT='%U %S'; time SHARED_SUBMIT="$shared/submit.lua" wrk -t2 -c64 -d"$duration" -s "$script" "http://127.0.0.1:$port$path" >"$out/load"; } 2>"$out/wrk_cpu"
    idle1=$(idle)
    load=$(cat "$out/load")
    ticks "$pid" >"$out/after"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    n=$(awk '/requests in/ {print $1}' <<<"$load")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$load")
    hz=$(getconf CLK_TCK)
    wrk_cpu=$(awk '{print $1 + $2}' "$out/wrk_cpu")
    paste "$out/before" "$out/after" | awk -v n="$n" -v hz="$hz" -v rps="$rps" -v bin="$bin" \
      -v wrk="$wrk_cpu" -v idle=$((idle1 - idle0)) '
      { u = $5 - $2; s = $6 - $3
        if ($1 ~ /tokio/) { tu += u; ts += s } else if ($1 ~ /write/) { wu += u; ws += s } }
      END { f = 1e6 / hz / n
            printf "%-40s %8.0f %10.1f %10.1f %10.1f %10.1f %8.1f %7.1f %7.1f\n", bin, rps, tu*f, ts*f, wu*f, ws*f, (tu+ts+wu+ws)*f, wrk*1e6/n, idle*f }'
  done
done
