#!/usr/bin/env bash
# A shared build exports the public API and nothing else (docs/firmware.md, "Shared
# libraries"). For each installed libiotblocks_<component>.so, `nm -D --defined-only`
# must show:
#   - the symbols tests/packaging/exports.txt lists for the component;
#   - no symbol of an anonymous namespace, and none outside namespaces iotblocks and std
#     (std: libstdc++'s templates instantiated for public types, which its headers
#     declare with default visibility): RapidJSON, {fmt}, simdjson stay inside;
#   - no iotblocks symbol whose name appears in no public header (nor in the private
#     headers other components link, lib/core/json.hpp and lib/sqlite/*.hpp): a
#     helper of the component's .cpp files.
# Usage: exports_test.sh <nm> <source-dir> <installed libdir> <component>...
set -euo pipefail
nm=$1 source=$2 libdir=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every identifier of the public headers (and of the private ones exported on purpose),
# comments left out.
find "$source/include" -name '*.hpp' -print0 | xargs -0 sed 's://.*$::' "$source/lib/core/json.hpp" \
    "$source"/lib/sqlite/*.hpp | grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u >"$work/declared"
failed=0
for component; do
  lib=$libdir/libiotblocks_$component.so
  "$nm" -DC --defined-only "$lib" | cut -d' ' -f3- | sed -E 's/\[abi:[a-z0-9]+\]//g' >"$work/symbols"
  count=$(wc -l <"$work/symbols")
  while read -r expected; do
    grep -qF -- "$expected" "$work/symbols" ||
      { echo "$component: public symbol '$expected' is not exported" >&2; failed=1; }
  done < <(sed -n "s/^$component: *//p" "$here/exports.txt" | tr ' ' '\n' | grep .)
  [[ -n $(sed -n "s/^$component: *//p" "$here/exports.txt") ]] ||
    { echo "$component is not in exports.txt" >&2; failed=1; }
  if grep -F '(anonymous namespace)' "$work/symbols" >"$work/bad"; then
    echo "$component: exports anonymous-namespace symbols:" >&2; head -5 "$work/bad" >&2; failed=1
  fi
  # The qualified name of the entity each symbol is for: "vtable for X" -> X; template
  # arguments, parameters and a template function's return type dropped.
  sed -E 's/^(typeinfo name for|typeinfo for|vtable for|VTT for|guard variable for) //;
          :a; s/<[^<>]*>//g; ta; s/\(.*//; s/::operator .*/::operator/; s/.* //' \
    "$work/symbols" >"$work/entities"
  if grep -vE '^(iotblocks|std)::' "$work/entities" >"$work/bad"; then
    echo "$component: exports symbols outside iotblocks:: and std:: ($(wc -l <"$work/bad")):" >&2
    head -5 "$work/bad" >&2; failed=1
  fi
  grep -E '^iotblocks::' "$work/entities" | awk -F'::' '{ print $NF }' | sed 's/^~//' |
    grep -vE '^(operator|\{lambda)' | sort -u | comm -23 - "$work/declared" >"$work/bad" || true
  if [[ -s $work/bad ]]; then
    echo "$component: exports iotblocks symbols that no public header declares" \
         "($(wc -l <"$work/bad")):" "$(head -8 "$work/bad" | tr '\n' ' ')" >&2
    failed=1
  fi
  echo "$component: $count symbols exported"
done
exit $failed
