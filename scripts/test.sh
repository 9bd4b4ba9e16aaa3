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

exec .venv/bin/python -m pytest "$@"
