#!/usr/bin/env bash
# LibreOffice for .doc/.wps/.rtf (plugins/legacy_word.py): Writer without a GUI, and
# python3-uno, through which the warm converter drives it. Called by scripts/test.sh and
# scripts/run.sh. Installs only as root with apt-get; otherwise says what is missing.
# --no-install-recommends: the recommended fonts include CJK ones, and a CJK font in
# /usr/share/fonts changes what PDFium extracts (see scripts/test.sh).
set -euo pipefail

have_libreoffice() {
  command -v soffice >/dev/null && /usr/bin/python3 -c "import uno" >/dev/null 2>&1
}

if have_libreoffice; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libreoffice-writer-nogui python3-uno >/dev/null; } \
    || echo "scripts/install_libreoffice.sh: could not install LibreOffice" >&2
fi
if ! have_libreoffice; then
  echo "LibreOffice is missing: .doc/.wps/.rtf files will end as converter_missing" \
       "(install: apt-get install --no-install-recommends libreoffice-writer-nogui python3-uno)" >&2
fi
