#!/usr/bin/env bash
# Build benchmark: splitmark against Hugo on the same generated corpus.
#
#   bench/build.sh [POSTS ...]          # default: 1000 10000
#   RUNS=5 bench/build.sh 1000
#   THEMES=init FLAVORS=hugo bench/build.sh 10000
#
# For each size it generates the corpus with ../shared/bench/gen_corpus.py, sets up Hugo's
# anchor site with ../shared/bench/anchor_build.sh, runs all builds in alternating rounds with
# ../shared/bench/run_anchors.py, and prints min/median/max plus, per splitmark variant, the
# ratio to Hugo of the median wall time with the min-max of the per-round ratios, and of the
# median peak RSS (below 1.0 means splitmark is faster or smaller).
#
# Environment:
#   RUNS=5                  measured rounds (after one warm-up round)
#   THEMES="anchor init"    splitmark variants: `anchor` = bench/anchor/templates, the same
#                           pages as Hugo's anchor layouts; `init` = the site `splitmark init`
#                           writes (its config and the default theme: SEO head, JSON-LD, menu)
#   FLAVORS="hugo zola"     corpus front-matter flavors splitmark builds (both unchanged)
#   HIGHLIGHT=1             Hugo highlights fenced code (its default; splitmark always does);
#                           HIGHLIGHT=0 turns Hugo's off
#   SHARED_BENCH=DIR        the shared benchmark inputs (default: ../shared/bench beside the
#                           repository, or two levels up for a worktree)
#   BIN=path                splitmark binary to measure (default: cargo build --release)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
[ -d "$shared" ] || shared=$repo/../../shared/bench
[ -d "$shared" ] || { echo "shared bench inputs not found: set SHARED_BENCH" >&2; exit 1; }
out="$repo/bench/out/build"
runs=${RUNS:-5}
themes=(${THEMES:-anchor init})
flavors=(${FLAVORS:-hugo zola})
export HIGHLIGHT=${HIGHLIGHT:-1}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

command -v hugo >/dev/null || { echo "hugo missing: apt-get install hugo" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  (cd "$repo" && cargo build --release --quiet)
  BIN="$repo/target/release/splitmark"
fi
mkdir -p "$out"

splitmark_site() {
  local corpus=$1 site=$2 theme=$3
  rm -rf "$site"
  case "$theme" in
    anchor)
      mkdir -p "$site"
      cp -r "$repo/bench/anchor/templates" "$site/templates"
      cp -r "$shared/anchors/hugo-site/static" "$site/static"
      # Same shape as the Hugo anchor: lists and tag pages paginated by 10.
      printf 'base_url = "https://bench.example.com"\ntitle = "Bench"\ndescription = "Benchmark corpus"\npaginate_by = 10\n' \
        >"$site/splitmark.toml" ;;
    init)
      "$BIN" init "$site" >/dev/null
      rm -rf "$site/content" ;;
    *) echo "unknown theme $theme (anchor, init)" >&2; exit 2 ;;
  esac
  cp -r "$corpus/content" "$site/content"
}

for n in "${sizes[@]}"; do
  echo "== $n posts (themes: ${themes[*]}; flavors: ${flavors[*]}; Hugo highlighting: $HIGHLIGHT)"
  specs=()
  for flavor in "${flavors[@]}"; do
    python3 "$shared/gen_corpus.py" --pages "$n" --out "$out/corpus-$n-$flavor" --flavor "$flavor" >/dev/null
    for theme in "${themes[@]}"; do
      site="$out/splitmark-$n-$flavor-$theme"
      splitmark_site "$out/corpus-$n-$flavor" "$site" "$theme"
      specs+=("splitmark($theme,$flavor)=$site=$BIN build --root $site")
    done
  done
  [ -d "$out/corpus-$n-hugo" ] ||
    python3 "$shared/gen_corpus.py" --pages "$n" --out "$out/corpus-$n-hugo" --flavor hugo >/dev/null
  bash "$shared/anchor_build.sh" setup hugo "$out/corpus-$n-hugo" "$out/hugo-$n" >/dev/null
  specs+=("hugo=$out/hugo-$n=$(bash "$shared/anchor_build.sh" cmd hugo "$out/hugo-$n")")
  json="$out/result-$n.json"
  python3 "$shared/run_anchors.py" --runs "$runs" --warmup 1 --json "$json" "${specs[@]}"
  python3 - "$json" <<'PY'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
hugo = data["hugo"]
by_round = {r["round"]: r for r in hugo["runs"]}
for label, res in data.items():
    if label == "hugo":
        continue
    per_round = [r["wall"] / by_round[r["round"]]["wall"] for r in res["runs"]]
    wall = res["wall"]["median"] / hugo["wall"]["median"]
    rss = res["maxrss_mib"]["median"] / hugo["maxrss_mib"]["median"]
    print(f"ratio {label}/hugo: wall {wall:.2f} (rounds {min(per_round):.2f}-{max(per_round):.2f}), "
          f"peak RSS {rss:.2f}")
PY
done
