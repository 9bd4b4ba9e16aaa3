#!/usr/bin/env bash
# Install gongkai into .venv and run it. Without arguments: `gongkai serve` — the web
# server, workers and an embedded Redis on this machine, data in ./data.
# With arguments they go to the `gongkai` command: `bash scripts/run.sh parse 通知.docx`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
# LibreOffice reads .doc/.wps/.rtf (installed when run as root with apt-get).
bash scripts/install_libreoffice.sh || true
if [ $# -eq 0 ]; then
  set -- serve
fi
exec .venv/bin/gongkai "$@"
