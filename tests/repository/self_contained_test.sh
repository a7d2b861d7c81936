#!/usr/bin/env bash
# A clone must pass its own tests: nothing the repository's tests, examples or
# documented commands read may live outside it.
#   self_contained_test.sh <source dir> [<iotblocks CLI>]
# 1. No tracked file names a path into the development machine's shared folder
#    (the data sets that used to live there are copied in, with their licences).
# 2. `iotblocks anomaly nab` finds the bundled NAB subset on its own, from the
#    repository root and (through the source directory compiled in) from elsewhere.
set -euo pipefail
src=$(cd "$1" && pwd)
cli=${2:-}
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$src"
pattern='\.\./'"shared"'|'"shared"'/(data|reference)'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files)
else
  files=$(find . -type f -not -path './build/*' -not -path './.git/*' | sed 's|^\./||')
fi
hits=$(printf '%s\n' "$files" | grep -v -x -e tests/repository/self_contained_test.sh |
       xargs -d '\n' grep -I -n -E "$pattern" -- 2>/dev/null || true)
[[ -z "$hits" ]] || fail "files refer to a folder outside the repository:"$'\n'"$hits"

for f in data/nab/LICENSE.txt data/nab/README.md tests/data/x509/limbo/LICENSE.APACHE \
         tests/data/x509/limbo/README.md tests/data/x509/limbo/limbo.json; do
  [[ -s "$f" ]] || fail "$f is missing"
done

if [[ -n "$cli" ]]; then
  unset IOTBLOCKS_NAB_DATA
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  for dir in "$src" "$scratch"; do
    out=$(cd "$dir" && "$cli" anomaly nab --detector ewma --json) ||
      fail "anomaly nab from $dir exited $?"
    # The bundled subset: 44 files with 83 labelled windows.
    grep -q '"detector":"ewma","profile":"standard".*"windows":83' <<<"$out" ||
      fail "anomaly nab from $dir printed: $out"
  done
fi
echo "self-contained: ok"
