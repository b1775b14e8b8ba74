# The capture benchmarks' site: one lead form with six fields and qualification rules, on a
# landing page with a running two-variant experiment. Sourced by capture.sh and cpu.sh.
#
#   bench_site BIN DIR    # writes DIR/splitmark.toml and DIR/content/lp.md, then builds DIR
bench_site() {
mkdir -p "$2/content"
cp "$(dirname "${BASH_SOURCE[0]}")/site.toml" "$2/splitmark.toml"
printf '+++\ntitle = "LP"\n[experiment]\nid = "bench"\ngoal = "lead"\nstatus = "running"\nvariants = [{ id = "a" }, { id = "b" }]\n+++\n{{ form(id="lead") }}\n' >"$2/content/lp.md"
"$1" build --root "$2" >/dev/null
}
