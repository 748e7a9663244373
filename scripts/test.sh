#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test against a throwaway PostgreSQL,
# then a caseworker's day in a real browser (Chromium, Selenium and axe-core), and a scheduler killed mid-email.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-deps.sh
echo "==> Checking the format (swift format lint, configuration in .swift-format)"
swift format lint --strict --recursive --parallel Sources Tests Fuzz Package.swift || {
    echo "Format check failed: run 'make format' (swift format format --in-place) and commit the result." >&2
    exit 1
}
echo "==> Building and running the test suite (swift test)"
scripts/with-test-postgres.sh swift test "$@"
echo "==> Building ehcp for the browser tests"
swift build --product ehcp
echo "==> Browser tests (Chromium, headless; screenshots in .build/screenshots)"
python3 Tests/Browser/caseworker_day.py
echo "==> Email: a scheduler killed with SIGKILL between claim and send, then restarted (a real SMTP server)"
python3 Tests/Email/scheduler_crash.py
echo "==> deploy/nginx/ehcp.conf: TLS, limits and a health check in front of two instances (Debian's nginx), with a kill -9 under load"
python3 Tests/Deploy/nginx_site.py
echo "==> The backup runbook: WAL archiving, a base backup and a point-in-time restore, run as written"
python3 Tests/Deploy/point_in_time_restore.py
echo "==> deploy/prometheus: the alert rules checked and unit-tested with promtool"
promtool check rules deploy/prometheus/ehcp-alerts.yml
promtool test rules deploy/prometheus/ehcp-alerts.test.yml
