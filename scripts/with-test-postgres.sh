#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: initdb into a temporary directory, start it on a
# private Unix socket, export EHCP_TEST_DATABASE_URL, run the command, then stop and delete the cluster
# whatever happens. As root, the server runs as the 'postgres' OS user (PostgreSQL refuses root).
set -euo pipefail
bin=""
for candidate in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent)")" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bin="$candidate"; break; fi
done
[ -n "$bin" ] || { echo "initdb/pg_ctl not found: run scripts/install-deps.sh (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/ehcp-test-pg.XXXXXX)
as_server() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
cleanup() {
  as_server "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

echo "==> Starting a throwaway PostgreSQL ($("$bin/postgres" --version | awk '{print $3}')) in $dir"
as_server "$bin/initdb" -D "$dir/data" -U ehcp --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_server "$bin/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600" \
  >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
export EHCP_TEST_DATABASE_URL="host=$dir port=5432 user=ehcp dbname=postgres"
export EHCP_TEST_PG_BIN="$bin"
export EHCP_TEST_PG_DATA="$dir/data"
"$@"
