#!/usr/bin/env bash
# The README's quick start. On a fresh Debian 12 machine, as root:
#   scripts/quickstart.sh demo   install what is missing, build, run the demo
#   scripts/quickstart.sh test   install what is missing, build, run every test
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}
preset=dev
[[ "${CI:-}" == "true" ]] && preset=ci   # CI builds with -Werror

scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"

case "$what" in
  test)
    ctest --preset "$preset"
    ;;
  demo)
    scripts/demo.sh "build/$preset/apps/iotblocks/iotblocks"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
