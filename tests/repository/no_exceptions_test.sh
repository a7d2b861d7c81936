#!/bin/sh
# A -fno-exceptions -fno-rtti build (IOTBLOCKS_NO_EXCEPTIONS) compiles no throw, catch,
# unwinding or dynamic_cast into the component libraries: none of their objects
# refers to the C++ runtime's exception or RTTI entry points.
# usage: no_exceptions_test.sh <nm> <library>...
set -eu
nm=$1
shift
status=0
for lib in "$@"; do
  found=$("$nm" --undefined-only "$lib" 2>/dev/null | awk '{print $NF}' |
          grep -Ex '(__cxa_(allocate_exception|throw|rethrow|begin_catch|end_catch)|__gxx_personality_v0|__dynamic_cast)(@.*)?' |
          sort -u | tr '\n' ' ' || true)
  if [ -n "$found" ]; then
    echo "$(basename "$lib") refers to $found" >&2
    status=1
  fi
  "$nm" --defined-only "$lib" | grep -q ' T ' || { echo "$lib: nm saw no code" >&2; exit 1; }
done
[ "$status" -eq 0 ] && echo "no exception or RTTI entry point in: $(for l; do basename "$l"; done | tr '\n' ' ')"
exit "$status"
