#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test against a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> Building and running the test suite (swift test)"
exec scripts/with-test-postgres.sh swift test "$@"
