#!/usr/bin/env bash
# Before `npm start`: the embedded default (no SIGNING_KEYS_FILE) keeps its
# development signing keys in a SoftHSM2 token, so SoftHSM2 comes from Debian's
# packages when it is missing. With SIGNING_KEYS_FILE set nothing is needed here.
set -euo pipefail
[ -n "${SIGNING_KEYS_FILE:-}" ] && exit 0
command -v softhsm2-util >/dev/null 2>&1 && exit 0
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "The embedded default needs SoftHSM2 for its development keys: apt-get install softhsm2 (as root), or set SIGNING_KEYS_FILE" >&2
    exit 1
  fi
  as_root=(sudo)
fi
echo "Installing SoftHSM2 from Debian's packages (first run only)…"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends softhsm2 >/dev/null
