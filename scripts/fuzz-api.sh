#!/usr/bin/env bash
# Feeds the OpenAPI document to an independent API fuzzer (Schemathesis, from PyPI) against a real
# server: a fresh embedded database with the demo caseload, as the demo manager and then the demo admin
# (FUZZ_ROLES="caseworker auditor" for the others), every check on.
# Usage: scripts/fuzz-api.sh [extra 'st run' options, e.g. --max-examples 200]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null || { echo "==> Installing schemathesis (pip)"; python3 -m pip install --quiet schemathesis; }
python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install --quiet openapi-spec-validator
echo "==> Validating the OpenAPI document against the 3.1 specification"
python3 -m openapi_spec_validator Sources/EHCPAPI/Resources/openapi.json
echo "==> Building ehcp (release)"
swift build -c release --product ehcp
data=$(mktemp -d /tmp/ehcp-fuzz.XXXXXX)
port=${FUZZ_PORT:-18181}
log="$data/serve.log"
echo "==> Starting ehcp serve --demo on port $port (database under $data)"
.build/release/ehcp serve --demo --no-scheduler --data-dir "$data" --port "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
# Managers log events and read reports; admins manage webhooks, the access log and erasure;
# caseworkers and auditors meet the 403s.
for role in ${FUZZ_ROLES:-manager admin}; do
    token=$(awk -v role="$role" 'NF > 1 && $(NF-1) == role && $NF ~ /^ehcp_/ { print $NF; exit }' "$log")
    [ -n "$token" ] || { echo "no demo $role token in $log" >&2; cat "$log" >&2; exit 1; }
    echo "==> Running schemathesis as the demo $role against http://127.0.0.1:$port/v1/openapi.json"
    st --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/v1/openapi.json" \
        -H "Authorization: Bearer $token" --checks all --workers 2 "$@"
done
