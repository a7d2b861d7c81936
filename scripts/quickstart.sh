#!/usr/bin/env bash
# The README's quick start. On a fresh Debian 12 machine, as root:
#   scripts/quickstart.sh demo   install what is missing, build, run the gateway demo
#                                (scripts/demo.sh: the CLI tour of the components)
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
    # The reference gateway with the scenario rules and simulated devices, in
    # the embedded default (127.0.0.1: 1883 MQTT, 8083 WebSocket, 8080 HTTP),
    # data in ./iotblocks-data. Stop it with Ctrl-C.
    exec "build/$preset/apps/iotblocks/iotblocks" gateway run --demo
    ;;
  tour)
    scripts/demo.sh "build/$preset/apps/iotblocks/iotblocks"
    ;;
  *)
    echo "usage: $0 demo|test|tour" >&2
    exit 2
    ;;
esac
