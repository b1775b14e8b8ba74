#!/usr/bin/env bash
# Installs (if needed) and starts a local PostgreSQL for the store tests on a Debian machine,
# creates a test role and database, and prints the URL to use as SPLITMARK_TEST_POSTGRES_URL.
# Idempotent; listens on 127.0.0.1 only.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_lsclusters >/dev/null; then
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
fi
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
if [ -z "$version" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  as_root pg_createcluster "$version" main >&2
fi
as_root pg_ctlcluster "$version" main start >&2 || true
for _ in $(seq 50); do as_root su postgres -c "psql -qAtc 'SELECT 1'" >/dev/null 2>&1 && break; sleep 0.2; done
as_root su postgres -c "psql -qAtc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'splitmark') THEN CREATE ROLE splitmark LOGIN PASSWORD 'splitmark'; END IF; END\\\$\\\$\"" >&2
if ! as_root su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'splitmark_test'\"" | grep -q 1; then
  as_root su postgres -c "createdb -O splitmark splitmark_test" >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
echo "postgres://splitmark:splitmark@127.0.0.1:${port:-5432}/splitmark_test"
