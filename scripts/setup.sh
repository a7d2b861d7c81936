#!/usr/bin/env bash
# Installs the Debian packages in scripts/deps.txt that are missing (run as root,
# or with sudo available), and the npm test peers when a test needs them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < "$here/deps.txt"

# Node.js and npm run test peers only; keep an existing installation.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm peers (pinned by package-lock.json) for each folder that declares some.
for dir in "$here/../tests/peers" "$here/../benchmarks/peers"; do
  if [[ -f "$dir/package-lock.json" && ! -d "$dir/node_modules" ]]; then
    echo "setup: npm ci in ${dir#$here/../}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
