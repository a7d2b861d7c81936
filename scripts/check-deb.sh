#!/usr/bin/env bash
# Builds the .deb packages from a build tree, checks that the runtime package
# depends on runtime libraries only, installs both with dpkg -i, runs the
# installed CLI, builds tests/find_package against /usr, then removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/ci}
out=$build/packages
rm -rf "$out" && mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" >/dev/null
runtime=$(ls "$out"/iotblocks_*.deb)
dev=$(ls "$out"/iotblocks-dev_*.deb)
depends=$(dpkg-deb -f "$runtime" Depends)
echo "deb: $runtime depends on: $depends"
if grep -q -- '-dev' <<<"$depends"; then
  echo "deb: the runtime package must not depend on -dev packages" >&2
  exit 1
fi
trap 'dpkg -r iotblocks-dev iotblocks >/dev/null 2>&1 || true' EXIT
dpkg -i "$runtime" "$dev"
/usr/bin/iotblocks --version
/usr/bin/iotblocks info
work=$(mktemp -d)
components=$(/usr/bin/iotblocks info | sed -E 's/.*"components":\[([^]]*)\].*/\1/; s/"//g')
cmake -S tests/find_package -B "$work" -G Ninja -DCONSUMER_COMPONENTS="$components" >/dev/null
cmake --build "$work" >/dev/null
"$work/consumer"
rm -rf "$work"
echo "deb: installed, used through find_package and pkg-config, removed"
