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
# Install only when what the install reads changed (pyproject.toml: dependencies, entry points):
# the install is editable, so code changes need none, and pip costs seconds on every command.
stamp=.venv/.gongkai-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "scripts/run.sh: installing gongkai into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
  echo "$want" > "$stamp"
fi
# LibreOffice reads .doc/.wps/.rtf (installed when run as root with apt-get).
bash scripts/install_libreoffice.sh || true
# A CJK font for the public PDFs of documents with personal data (unpacked into .venv).
bash scripts/install_fonts.sh || true
# OCR: opencv-python (pulled in by rapidocr-onnxruntime) links libGL and GLib.
if ! ldconfig -p | grep -q 'libGL.so.1 ' || ! ldconfig -p | grep -q 'libglib-2.0.so.0 '; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null
  else
    echo "scripts/run.sh: OCR needs libGL and GLib: apt-get install libgl1 libglib2.0-0" >&2
  fi
fi
if [ $# -eq 0 ]; then
  set -- serve
fi
exec .venv/bin/gongkai "$@"
