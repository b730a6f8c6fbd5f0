#!/usr/bin/env bash
# Debian packages the reports need: Graphviz (the `diagrams` library draws through `dot`) and
# Chromium (the report test opens the pages headless). Installs only what is missing.
set -euo pipefail
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "drtiers: please install ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "drtiers: installing ${missing[*]} from Debian's packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
