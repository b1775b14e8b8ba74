#!/usr/bin/env bash
# Build benchmark: splitmark against Hugo on the same generated corpus.
#
#   bench/build.sh [POSTS ...]     # default: 1000 10000
#   RUNS=5 bench/build.sh 1000
#
# For each size it generates the corpus with ../shared/bench/gen_corpus.py in both the Hugo and
# the Zola front-matter flavor (splitmark builds both unchanged), sets up Hugo's comparable
# anchor site with ../shared/bench/anchor_build.sh, runs all builds in alternating rounds with
# ../shared/bench/run_anchors.py, and prints min/median/max plus the median ratio
# splitmark/Hugo (below 1.0 means splitmark is faster).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared="$repo/../shared/bench"
out="$repo/bench/out/build"
runs=${RUNS:-5}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

command -v hugo >/dev/null || { echo "hugo missing: apt-get install hugo" >&2; exit 1; }
(cd "$repo" && cargo build --release --quiet)
bin="$repo/target/release/splitmark"
mkdir -p "$out"

splitmark_site() {
  local corpus=$1 site=$2
  rm -rf "$site"
  mkdir -p "$site"
  cp -r "$corpus/content" "$site/content"
  # Same shape as the Hugo anchor: lists and tag pages paginated by 10.
  printf 'base_url = "https://bench.example.com"\ntitle = "Bench"\ndescription = "Benchmark corpus"\npaginate_by = 10\n' \
    >"$site/splitmark.toml"
}

for n in "${sizes[@]}"; do
  echo "== $n posts"
  for flavor in hugo zola; do
    python3 "$shared/gen_corpus.py" --pages "$n" --out "$out/corpus-$n-$flavor" --flavor "$flavor" >/dev/null
  done
  splitmark_site "$out/corpus-$n-hugo" "$out/splitmark-$n-hugo"
  splitmark_site "$out/corpus-$n-zola" "$out/splitmark-$n-zola"
  bash "$shared/anchor_build.sh" setup hugo "$out/corpus-$n-hugo" "$out/hugo-$n" >/dev/null
  json="$out/result-$n.json"
  python3 "$shared/run_anchors.py" --runs "$runs" --warmup 1 --json "$json" \
    "splitmark(hugo-flavor)=$out/splitmark-$n-hugo=$bin build --root $out/splitmark-$n-hugo" \
    "splitmark(zola-flavor)=$out/splitmark-$n-zola=$bin build --root $out/splitmark-$n-zola" \
    "hugo=$out/hugo-$n=$(bash "$shared/anchor_build.sh" cmd hugo "$out/hugo-$n")"
  python3 - "$json" <<'PY'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
runs = data.get("results", data) if isinstance(data, dict) else data
def walls(label):
    for key, val in (runs.items() if isinstance(runs, dict) else []):
        if key == label:
            return [r["wall"] for r in (val["runs"] if isinstance(val, dict) and "runs" in val else val)]
    return None
hugo = walls("hugo")
for label in ("splitmark(hugo-flavor)", "splitmark(zola-flavor)"):
    w = walls(label)
    if w and hugo:
        print(f"ratio {label}/hugo (median wall): {statistics.median(w) / statistics.median(hugo):.2f}")
PY
done
