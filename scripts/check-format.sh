#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted with .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.cpp' '*.hpp' | xargs -0 -r clang-format --dry-run -Werror
echo "format: clean"
