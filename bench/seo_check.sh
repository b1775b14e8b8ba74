#!/usr/bin/env bash
# External SEO/validity checks of a built site (issue: SEO and mobile).
#
#   bench/seo_check.sh                 # the example site in the repository root
#   bench/seo_check.sh --corpus 200    # also a generated corpus of N posts
#
# Runs, and prints a summary of:
#   - the W3C Nu HTML checker (npm vnu-jar, on the machine's Java) over every HTML file,
#   - xmllint against the sitemaps.org 0.9 XSD shipped in npm `sitemap`,
#   - Lighthouse 12 (mobile) in headless Debian Chromium on the home page, a post and the
#     landing page, served by `splitmark capture --site` on loopback.
# Tools are installed into bench/.tools (npm) the first time; Chromium, Java and xmllint
# come from Debian packages (`apt-get install chromium default-jre-headless libxml2-utils`).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared="$repo/../shared"
tools="$repo/bench/.tools"
out="$repo/bench/out/seo"
corpus=0
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

install_tools() {
  if [ ! -x "$tools/node_modules/.bin/lighthouse" ]; then
    mkdir -p "$tools"
    (cd "$tools" && npm i --silent --no-audit --no-fund vnu-jar lighthouse@12 sitemap >/dev/null)
  fi
  command -v xmllint >/dev/null || { echo "xmllint missing: apt-get install libxml2-utils" >&2; exit 1; }
  command -v chromium >/dev/null || { echo "chromium missing: apt-get install chromium" >&2; exit 1; }
}

build_release() {
  (cd "$repo" && cargo build --release --quiet)
  bin="$repo/target/release/splitmark"
}

# vnu over every .html file below $1; prints the error count.
check_html() {
  local dir=$1 report="$out/vnu-$(basename "$1").json"
  local jar="$tools/node_modules/vnu-jar/build/dist/vnu.jar"
  find "$dir" -name '*.html' -print0 | xargs -0 java -jar "$jar" --errors-only --format json \
    2>"$report" || true
  python3 - "$report" <<'PY'
import json, sys
msgs = json.load(open(sys.argv[1])).get("messages", [])
errs = [m for m in msgs if m.get("type") == "error"]
for m in errs[:20]:
    print("  vnu:", m.get("url", "").split("/")[-2:], m.get("lastLine"), m.get("message"))
print(f"vnu errors: {len(errs)}")
PY
}

check_sitemap() {
  local dir=$1
  local xsd="$tools/node_modules/sitemap/schema/sitemap.xsd"
  for f in "$dir"/sitemap*.xml; do
    # sitemap.xsd covers <urlset>; an index (<sitemapindex>) is checked for well-formedness
    # here and its children against the XSD.
    if grep -q '<sitemapindex' "$f"; then
      xmllint --noout "$f" && echo "$f: sitemap index well-formed"
    else
      xmllint --noout --schema "$xsd" "$f" 2>&1 | tail -1
    fi
  done
}

lighthouse_pages() {
  local site=$1; shift
  local port=18931
  SPLITMARK_ADMIN_TOKEN=seo-check "$bin" capture --root "$repo" --bind "127.0.0.1:$port" \
    --db "sqlite:$out/leads.db" --site "$site" >"$out/capture.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  for path in "$@"; do
    local name; name=$(echo "$path" | tr '/' '_')
    CHROME_PATH=/usr/bin/chromium "$tools/node_modules/.bin/lighthouse" "http://127.0.0.1:$port$path" \
      --quiet --output json --output-path "$out/lh$name.json" --form-factor=mobile \
      --chrome-flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$(mktemp -d)" \
      >/dev/null 2>&1 || echo "lighthouse failed on $path"
    python3 - "$out/lh$name.json" "$path" <<'PY'
import json, sys
try:
    cats = json.load(open(sys.argv[1]))["categories"]
except Exception as e:
    print(f"lighthouse {sys.argv[2]}: no report ({e})"); sys.exit(0)
scores = " ".join(f"{k}={round((v['score'] or 0)*100)}" for k, v in cats.items())
print(f"lighthouse {sys.argv[2]}: {scores}")
PY
  done
}

page_weight() {
  local site=$1; shift
  for path in "$@"; do
    local f="$site${path}index.html"
    printf 'weight %s: %s bytes html, %s bytes gzip -9\n' "$path" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)"
  done
}

mkdir -p "$out"
install_tools
build_release
site="$out/example"
"$bin" build --root "$repo" --output "$site" >/dev/null
echo "== example site"
check_html "$site"
check_sitemap "$site"
post=$(cd "$site" && ls -d blog/*/ | grep -v '^blog/page' | head -1)
page_weight "$site" / "/$post" /demo/
lighthouse_pages "$site" / "/$post" /demo/

if [ "$corpus" -gt 0 ]; then
  echo "== corpus of $corpus posts"
  cdir="$out/corpus-$corpus"
  rm -rf "$cdir"
  python3 "$shared/bench/gen_corpus.py" --pages "$corpus" --out "$cdir" --flavor zola >/dev/null
  printf 'base_url = "https://corpus.example.com"\ntitle = "Corpus"\ndescription = "Generated benchmark corpus"\n' \
    >"$cdir/splitmark.toml"
  "$bin" build --root "$cdir" --output "$cdir/public" >/dev/null
  check_html "$cdir/public"
  check_sitemap "$cdir/public"
fi
