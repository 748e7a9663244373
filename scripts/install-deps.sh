#!/usr/bin/env bash
# Installs the system packages the service needs on Debian: libpq (client library and headers) and the
# PostgreSQL server (for the embedded database and the tests). Safe to run repeatedly.
set -euo pipefail
need=()
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
dpkg -s postgresql >/dev/null 2>&1 || need+=(postgresql)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -eq 0 ]; then
  echo "==> System packages present (libpq-dev, postgresql, pkg-config)."
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "==> Missing packages: ${need[*]}. Run as root, or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "==> Installing with apt: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
