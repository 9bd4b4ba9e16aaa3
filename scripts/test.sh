#!/usr/bin/env bash
# The test command: installs what the tests need into .venv, then runs the whole suite.
# Extra arguments go to the test runner, e.g. `bash scripts/test.sh -k sniff -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# Services the tests talk to. On a laptop without them those tests skip and say so;
# under CI (CI=true) they must be there, so start them if they are installed but down.
if [ "${CI:-}" = "true" ]; then
  if command -v pg_ctlcluster >/dev/null && ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
fi

exec .venv/bin/python -m pytest "$@"
