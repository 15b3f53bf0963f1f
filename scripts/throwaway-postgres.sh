#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for benchmarks and prints its URL.
# Usage: scripts/throwaway-postgres.sh [PORT]   (stop it with: pg_ctl -D <dir>/data stop)
set -euo pipefail
port="${1:-55432}"
bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort | tail -1)")"
dir="$(mktemp -d /tmp/einvoice-pg-XXXXXX)"
run=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  run=(runuser -u postgres --)
fi
"${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
"${run[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE bench" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/bench"
echo "stop with: ${run[*]} $bin/pg_ctl -D $dir/data stop" >&2
