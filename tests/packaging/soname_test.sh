#!/usr/bin/env bash
# A shared build's component libraries carry the SONAME policy of docs/firmware.md:
# file libiotblocks_<c>.so.<version>, SONAME libiotblocks_<c>.so.<soversion>, and the
# SONAME link installed beside it.
# Usage: soname_test.sh <objdump> <version> <soversion> <installed libdir> <library>...
set -euo pipefail
objdump=$1 version=$2 soversion=$3 libdir=$4
shift 4
for lib in "$@"; do
  name=$(basename "$lib")
  base=${name%%.so*}
  [[ $name == "$base.so.$version" ]] || { echo "$name: expected $base.so.$version" >&2; exit 1; }
  soname=$("$objdump" -p "$lib" | awk '$1 == "SONAME" { print $2 }')
  [[ $soname == "$base.so.$soversion" ]] ||
    { echo "$name: SONAME '$soname', expected $base.so.$soversion" >&2; exit 1; }
  [[ -L $libdir/$soname && $(readlink -f "$libdir/$soname") == $(readlink -f "$libdir/$name") ]] ||
    { echo "$libdir/$soname is not a link to $name" >&2; exit 1; }
  echo "$name: SONAME $soname"
done
