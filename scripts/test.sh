#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test against a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> Checking the format (swift format lint, configuration in .swift-format)"
swift format lint --strict --recursive --parallel Sources Tests Fuzz Package.swift || {
    echo "Format check failed: run 'make format' (swift format format --in-place) and commit the result." >&2
    exit 1
}
echo "==> Building and running the test suite (swift test)"
exec scripts/with-test-postgres.sh swift test "$@"
