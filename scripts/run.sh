#!/usr/bin/env bash
# Install gongkai into .venv and run it. Without arguments: `gongkai --help`.
# Examples: `bash scripts/run.sh parse 通知.docx`, `bash scripts/run.sh classify 通知.pdf`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
if [ $# -eq 0 ]; then
  set -- --help
fi
exec .venv/bin/gongkai "$@"
