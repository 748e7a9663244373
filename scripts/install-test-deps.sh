#!/usr/bin/env bash
# Installs what the tests need beyond scripts/install-deps.sh: Debian's chromium and chromium-driver
# and openssl, nginx (deploy/nginx/ehcp.conf's test), PgBouncer (the transaction-pooling test), Prometheus's
# promtool (the alert rules' unit tests), Selenium with axe-core for the browser tests, and
# aiosmtpd (a real SMTP server for the email tests) from PyPI. Safe to run repeatedly.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
dpkg -s fonts-liberation >/dev/null 2>&1 || need+=(fonts-liberation)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
[ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "==> Missing packages for the browser, deployment and pooling tests: ${need[*]}. Run as root, or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "==> Installing with apt, for the browser, deployment and pooling tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "==> Test packages present (chromium, chromium-driver, nginx, pgbouncer, promtool)."
fi
if ! python3 -c "import selenium, axe_core_python, aiosmtpd" >/dev/null 2>&1; then
  echo "==> Installing with pip, for the browser and email tests: selenium axe-core-python aiosmtpd"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore selenium axe-core-python aiosmtpd
else
  echo "==> Python packages present (selenium, axe-core-python, aiosmtpd)."
fi
