# The capture benchmarks' site: one lead form with six fields and qualification rules, on a
# landing page with a running two-variant experiment. Sourced by capture.sh and cpu.sh.
#
#   bench_site BIN DIR    # writes DIR/splitmark.toml and DIR/content/lp.md, then builds DIR
bench_site() {
mkdir -p "$2/content"
cat >"$2/splitmark.toml" <<'TOML'
base_url = "https://bench.example.com"
title = "Bench"
[capture]
rate_limit_per_minute = 100000000
rate_limit_burst = 100000000
max_fields = 100
[forms.lead]
[[forms.lead.fields]]
name = "email"
type = "email"
label = "Email"
required = true
[[forms.lead.fields]]
name = "name"
label = "Name"
[[forms.lead.fields]]
name = "company"
label = "Company"
[[forms.lead.fields]]
name = "employees"
type = "select"
label = "Employees"
options = ["1-10", "11-50", "51-200", "201+"]
[[forms.lead.fields]]
name = "message"
type = "textarea"
label = "Message"
[[forms.lead.fields]]
name = "consent"
type = "consent"
label = "You may contact me."
[forms.lead.qualification]
threshold = 30
rules = [{ field = "employees", points = { "51-200" = 30, "201+" = 50 } }]
TOML
printf '+++\ntitle = "LP"\n[experiment]\nid = "bench"\ngoal = "lead"\nstatus = "running"\nvariants = [{ id = "a" }, { id = "b" }]\n+++\n{{ form(id="lead") }}\n' >"$2/content/lp.md"
"$1" build --root "$2" >/dev/null
}
