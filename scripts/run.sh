#!/usr/bin/env bash
# The run command: installs what is missing, builds, and serves on the embedded database with a demo caseload.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> Building ehcp (release; the first build takes a few minutes)"
swift build -c release --product ehcp
echo "==> Starting ehcp serve (embedded PostgreSQL under ./.ehcp; Ctrl-C stops both)"
exec .build/release/ehcp serve --demo "$@"
