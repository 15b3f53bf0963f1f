#!/usr/bin/env bash
# Fails when code starts the `kill` command to signal processes: procps-ng's `kill` reads
# `kill -KILL -12345` as `kill(-1, SIGKILL)`. Tests and tools signal what they started through
# kill(2)/killpg(2) (the nix crate), or at least with `--` before a negative id.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
if grep -rn --include='*.rs' -E 'Command::new\("kill"\)' crates fuzz 2>/dev/null; then
  echo "error: use nix::sys::signal::{kill, killpg}, not the kill command"; status=1
fi
# A shell `kill` with a signal and then a negative id, without `--` between them.
if grep -rn -E '^[^#]*\bkill +-[A-Z0-9]+ +-[0-9$]' scripts .ci crates --include='*.sh' --include='run' --include='*.rs' 2>/dev/null | grep -v -- ' -- '; then
  echo "error: write kill -SIG -- -PGID"; status=1
fi
exit $status
