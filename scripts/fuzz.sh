#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while (default 60 s each): GSTIN parsing, the INV-01
# validator, NIC envelope decoding, and the ClearTax request bodies. Any crash fails the run
# and leaves its input under fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked || {
  echo "cargo-fuzz could not be installed; skipped"; exit 0; }
# cargo fuzz passes nightly-only sanitizer flags; the one stable toolchain here accepts them so.
export RUSTC_BOOTSTRAP=1
mkdir -p corpus/inv01 corpus/cleartax_bodies
# Seed the validator with real invoices, when the shared vectors are beside the project.
if compgen -G "../../shared/reference/vectors/invoices/*.json" >/dev/null; then
  cp ../../shared/reference/vectors/invoices/*.json corpus/inv01/
fi
cp ../docs/demo-invoice.json corpus/cleartax_bodies/
# Non-ASCII seeds: multibyte text where GSTINs, state codes and names go.
mkdir -p corpus/gstin
cp seeds/inv01/*.json corpus/inv01/
cp seeds/gstin/* corpus/gstin/
cargo fuzz build -O
for target in gstin inv01 envelope cleartax_bodies; do
  echo "== fuzzing $target for ${seconds}s"
  cargo fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 |
    grep -E '^Done [0-9]+ runs|DONE|ERROR|panicked|SUMMARY|Test unit written' || true
  if compgen -G "artifacts/$target/crash-*" >/dev/null; then
    echo "fuzz target $target crashed; inputs in fuzz/artifacts/$target/"; exit 1
  fi
done
