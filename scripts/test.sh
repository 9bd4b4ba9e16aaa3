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

# The browser tests drive Debian's Chromium. Their screenshots, and the public PDFs, need a
# CJK font: scripts/install_fonts.sh unpacks one into .venv/share/fonts-cjk rather than
# installing it (tests/plugins/test_pdf.py expects PDFium's bare-system result).
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  # OCR: opencv-python (pulled in by rapidocr-onnxruntime) links libGL and GLib.
  if ! ldconfig -p | grep -q 'libGL.so.1 ' || ! ldconfig -p | grep -q 'libglib-2.0.so.0 '; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null; } \
      || echo "scripts/test.sh: could not install libgl1/libglib2.0-0; OCR will not load" >&2
  fi
  if [ ! -x /usr/bin/chromium ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "scripts/test.sh: could not install chromium; the browser tests will skip (or fail under CI)" >&2
  fi
fi
bash scripts/install_fonts.sh || true

# LibreOffice for the .doc/.wps/.rtf tests (they skip without it, and fail under CI).
bash scripts/install_libreoffice.sh || true

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
