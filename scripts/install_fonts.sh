#!/usr/bin/env bash
# gongkai's CJK fonts (Noto CJK), unpacked into .venv/share/fonts-cjk rather than installed:
# PDFium reads the fonts in /usr/share/fonts, and a CJK font there changes the text it
# extracts from PDFs whose fonts lack a ToUnicode map. The public PDF (service/rendition)
# typesets with them and gives them to LibreOffice; the browser tests give them to Chromium.
# Both through their own fontconfig file. Called by scripts/test.sh and scripts/run.sh;
# fetches the Debian package only as root with apt-get, otherwise says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${GONGKAI_FONT_DIR:-.venv/share/fonts-cjk}
if [ -d "$target/usr" ] || ls "$target"/*.tt[cf] "$target"/*.otf >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
  fonts_tmp=$(mktemp -d)
  (cd "$fonts_tmp" && { apt-get download -qq fonts-noto-cjk 2>/dev/null \
    || { [ "$(id -u)" = "0" ] && apt-get update -qq && apt-get download -qq fonts-noto-cjk 2>/dev/null; }; }) \
    && mkdir -p "$target" && dpkg -x "$fonts_tmp"/fonts-noto-cjk_*.deb "$target"
  rm -rf "$fonts_tmp"
fi
if [ ! -d "$target/usr" ]; then
  echo "scripts/install_fonts.sh: no CJK font in $target: public PDFs of documents with personal data" \
       "cannot be made (unpack fonts-noto-cjk there, or set GONGKAI_FONT_DIR)" >&2
fi
