#!/usr/bin/env bash
# Edit-to-reload benchmark: `splitmark serve` against `hugo server` on the same generated corpus.
#
#   bench/incr.sh [POSTS ...]          # default: 1000 10000
#   ROUNDS=4 TRIALS=5 bench/incr.sh 10000
#
# For each size it generates the corpus with ../shared/bench/gen_corpus.py (Hugo front-matter
# flavor) under ${TMPDIR:-/tmp}, sets up our site (the default theme) and Hugo's anchor site,
# starts both dev servers on loopback ports, then runs ../shared/bench/incr_probe.py against
# each in alternating rounds: every trial appends a paragraph to the middle post and polls that
# post's URL until the edit is served. Prints p50/p90 (and min-max) of write-to-served for each
# and the ratio splitmark/Hugo (below 1.0 means splitmark is faster). The corpora are deleted
# at the end; both servers are stopped by their PIDs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-"$repo/../shared/bench"}
[ -d "$shared" ] || shared="$repo/../../shared/bench"  # from a worktree one level deeper
rounds=${ROUNDS:-4}
trials=${TRIALS:-5}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

command -v hugo >/dev/null || { echo "hugo missing: apt-get install hugo" >&2; exit 1; }
(cd "$repo" && cargo build --release --quiet)
bin="$repo/target/release/splitmark"
work=$(mktemp -d "${TMPDIR:-/tmp}/splitmark-incr.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for n in "${sizes[@]}"; do
  echo "== $n posts (rounds: $rounds, trials per round: $trials)"
  python3 "$shared/gen_corpus.py" --pages "$n" --out "$work/corpus-$n" --flavor hugo >/dev/null
  ours="$work/splitmark-$n"
  mkdir -p "$ours"
  cp -r "$work/corpus-$n/content" "$ours/content"
  printf 'base_url = "https://bench.example.com"\ntitle = "Bench"\ndescription = "Benchmark corpus"\npaginate_by = 10\n' \
    >"$ours/splitmark.toml"
  bash "$shared/anchor_build.sh" setup hugo "$work/corpus-$n" "$work/hugo-$n" >/dev/null
  post=$(printf 'post-%05d' $((n / 2)))

  p1=$(free_port)
  "$bin" serve --root "$ours" --port "$p1" >"$work/serve-$n.log" 2>&1 &
  pids+=($!)
  p2=$(free_port)
  hugo server --quiet -s "$work/hugo-$n" --bind 127.0.0.1 --port "$p2" \
    >"$work/hugo-$n.log" 2>&1 &
  pids+=($!)

  : >"$work/lat-ours-$n"
  : >"$work/lat-hugo-$n"
  for r in $(seq "$rounds"); do
    python3 "$shared/incr_probe.py" --url "http://127.0.0.1:$p1/blog/$post/" \
      --file "$ours/content/blog/$post.md" --trials "$trials" --settle 1 \
      | tee -a "$work/probe-ours-$n.log" | sed -n 's/^trial [0-9]*: \([0-9.]*\)s$/\1/p' >>"$work/lat-ours-$n"
    python3 "$shared/incr_probe.py" --url "http://127.0.0.1:$p2/blog/$post/" \
      --file "$work/hugo-$n/content/blog/$post.md" --trials "$trials" --settle 1 \
      | tee -a "$work/probe-hugo-$n.log" | sed -n 's/^trial [0-9]*: \([0-9.]*\)s$/\1/p' >>"$work/lat-hugo-$n"
    echo "round $r done"
  done
  python3 - "$work/lat-ours-$n" "$work/lat-hugo-$n" <<'PY'
import statistics, sys
def load(p):
    return sorted(float(x) for x in open(p) if x.strip())
def q(v, f):
    return statistics.quantiles(v, n=10, method="inclusive")[int(f * 10) - 1] if len(v) > 1 else v[0]
res = {}
for label, path in (("splitmark", sys.argv[1]), ("hugo", sys.argv[2])):
    v = load(path)
    res[label] = (statistics.median(v), q(v, 0.9))
    print(f"{label:10s} n={len(v):3d}  p50 {res[label][0]*1000:7.0f} ms  p90 {res[label][1]*1000:7.0f} ms  min {v[0]*1000:.0f} max {v[-1]*1000:.0f} ms")
print(f"ratio splitmark/hugo: p50 {res['splitmark'][0]/res['hugo'][0]:.3f}  p90 {res['splitmark'][1]/res['hugo'][1]:.3f}")
PY
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  grep -E "^(Built|Updated)" "$work/serve-$n.log" | tail -3 || true
  rm -rf "$work/corpus-$n" "$ours" "$work/hugo-$n"
done
