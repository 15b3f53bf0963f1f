#!/usr/bin/env bash
# Runs schemathesis (PyPI) against the gateway's /openapi.json in sandbox mode: it must find
# no 5xx and no answer that contradicts the document. Usage: scripts/schemathesis.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v schemathesis >/dev/null 2>&1 || pip install --quiet schemathesis || {
  echo "schemathesis could not be installed from PyPI; skipped"; exit 0; }
# The binary the tests ran (the same command builds nothing new after `cargo test --workspace`;
# `cargo build -p einvoice` alone unifies features differently and rebuilds much of the tree).
cargo test --workspace --no-run --quiet
data="$(mktemp -d)"
log="$data/gateway.log"
./target/debug/einvoice serve --listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
# The first line the gateway prints is its address: wait for it without polling.
addr=$(timeout 120 tail -n +1 -f "$log" | grep -m1 -o 'listening on http://[0-9.:]*' | sed 's/listening on //') || true
if [ -z "${addr:-}" ]; then cat "$log"; exit 1; fi
echo "schemathesis against $addr for ${seconds}s"
out="$data/schemathesis.log"
set +e
schemathesis run "$addr/openapi.json" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-time "$seconds" --workers 2 >"$out" 2>&1
set -e
grep -E 'generated|^=+ .* in [0-9.]+s =+$' "$out" || true
if grep -q panicked "$log"; then
  echo "the gateway panicked:"; grep -A5 panicked "$log"; exit 1
fi
# A failure is an answer that breaks the document (5xx, undocumented status, wrong schema). An
# "error" is schemathesis failing inside itself (seen: a Python AST error in hypothesis); it is
# shown but does not fail the run.
if grep -Eq '^=+ .*[0-9]+ failures?' "$out"; then
  sed -n '/FAILURES/,/SUMMARY/p' "$out"; exit 1
fi
if grep -Eq '^=+ .*[0-9]+ errors?' "$out"; then
  echo "schemathesis reported internal errors:"; grep -A3 'Runtime Error' "$out" | head -20
fi
