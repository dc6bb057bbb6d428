#!/usr/bin/env bash
# The independent validators the tests read documents back with (qpdf, poppler's
# pdftotext/pdffonts, LibreOffice, pyHanko) and the SoftHSM2 token the signing
# tests keep their keys in, installed from Debian's packages and PyPI when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyHanko validates every signature Sigillo makes (test/support/pyhanko.ts).
if ! python3 -c 'import pyhanko, pyhanko_certvalidator' >/dev/null 2>&1; then
  echo "Installing pyHanko from PyPI (first run only)…"
  python3 -m pip install --quiet --disable-pip-version-check -r test/support/requirements.txt
fi

missing=()
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
# Metric-compatible with Times New Roman, the DOCX body font, so LibreOffice lays it out as Word does.
[ -d /usr/share/fonts/truetype/liberation2 ] || missing+=(fonts-liberation2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "The tests need these Debian packages: ${missing[*]} (apt-get install them as root)" >&2
  exit 1
fi
as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)
echo "Installing ${missing[*]} from Debian's packages (first run only)…"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
