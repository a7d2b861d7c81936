#!/usr/bin/env bash
# Cross builds of the sans-I/O blocks (docs/firmware.md). Installs Debian's cross
# toolchains when they are missing (as root, or with sudo), then:
#   cortex-m4  builds core, topic and mqtt for Cortex-M4 (-Os -fno-exceptions -fno-rtti),
#              compiles the sans-I/O objects of anomaly, policy, shadow and sql, and
#              prints each block's object text (arm-none-eabi-size)
#   aarch64    builds core, topic, mqtt and their unit tests for aarch64 Linux and
#              runs the tests under qemu-user
# Usage: scripts/cross.sh [cortex-m4|aarch64|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  echo "cross: installing ${missing[*]}"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# text of the objects of archive $1 whose names match $2 (a grep -E pattern)
text_of() {
  arm-none-eabi-size "$1" | awk -v pat="$2" 'NR > 1 && $6 ~ pat { sum += $1 } END { print sum + 0 }'
}

cortex_m4() {
  install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
  local build=build/cortex-m4
  cmake --preset cortex-m4 -B "$build" >/dev/null
  cmake --build "$build"
  local core=$build/lib/core/libiotblocks_core.a topic=$build/lib/topic/libiotblocks_topic.a
  local mqtt=$build/lib/mqtt/libiotblocks_mqtt.a
  echo
  echo "Cortex-M4 ($(arm-none-eabi-gcc -dumpversion), -mcpu=cortex-m4 -mthumb -Os" \
       "-ffunction-sections -fdata-sections -fno-exceptions -fno-rtti): object text, bytes"
  printf '| %-46s | %7s |\n' "block (objects)" "text"
  printf '| %-46s | %7s |\n' "core (all)" "$(text_of "$core" .)"
  printf '| %-46s | %7s |\n' "topic: syntax (topic names and filters)" "$(text_of "$topic" '^syntax')"
  printf '| %-46s | %7s |\n' "topic (all: syntax, index, shapes)" "$(text_of "$topic" .)"
  printf '| %-46s | %7s |\n' "mqtt: encoder" "$(text_of "$mqtt" '^encoder')"
  printf '| %-46s | %7s |\n' "mqtt: decoder (decode, decoder)" "$(text_of "$mqtt" '^decode')"
  printf '| %-46s | %7s |\n' "mqtt (all: codec, properties, packets, errors)" "$(text_of "$mqtt" .)"
  # Linked: a program that decodes and encodes (benchmarks/footprint), --gc-sections,
  # newlib-nano; its text + data less an empty program's.
  local flags=(-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -fno-exceptions
               -fno-rtti -std=c++20 -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs)
  arm-none-eabi-g++ "${flags[@]}" -Iinclude benchmarks/footprint/mqtt_codec.cpp "$mqtt" "$topic" \
    "$core" -o "$build/mqtt_codec.elf" 2> >(grep -v "is not implemented and will always fail" >&2)
  arm-none-eabi-g++ "${flags[@]}" benchmarks/footprint/empty.cpp -o "$build/empty.elf" \
    2> >(grep -v "is not implemented and will always fail" >&2)
  local codec empty
  codec=$(arm-none-eabi-size "$build/mqtt_codec.elf" | awk 'NR == 2 { print $1 + $2 }')
  empty=$(arm-none-eabi-size "$build/empty.elf" | awk 'NR == 2 { print $1 + $2 }')
  printf '| %-46s | %7s |\n' "decode + encode program, linked, less empty" "$((codec - empty))"
  sans_io_objects "$build"
}

# anomaly, policy, shadow and sql have no bare-metal CMake build: their components
# link SQLite (the persisting stores), and sql also simdjson and OpenSSL, none of
# which Debian builds for arm-none-eabi. Their sans-I/O sources are compiled one by
# one with the same flags; RapidJSON and {fmt} (FMT_HEADER_ONLY) are header-only and
# taken from the build machine (rapidjson-dev, libfmt-dev). Left out, and why:
#   anomaly  keyed_store*.cpp (SQLite; __int128 hashing and aligned_alloc for the
#            million-series table), nab_corpus.cpp, nab_results.cpp (files)
#   policy   store.cpp (SQLite, std::mutex)
#   shadow   sqlite_store.cpp (SQLite), memory_store.cpp, router.cpp (std::mutex:
#            newlib's libstdc++ has no threads)
#   sql      evaluator.cpp (simdjson), functions_hash.cpp (OpenSSL libcrypto),
#            functions_string.cpp (locale_t), tz.cpp (std::mutex, zoneinfo files)
sans_io_objects() {
  install rapidjson-dev libfmt-dev
  local build=$1 out=$1/sans-io
  mkdir -p "$out/include"
  ln -sfn /usr/include/rapidjson "$out/include/rapidjson"
  ln -sfn /usr/include/fmt "$out/include/fmt"
  local flags=(-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -fno-exceptions
               -fno-rtti -std=c++20 -Wno-psabi -Wall -Wextra -Wpedantic -Wconversion -Wshadow
               -Werror -Iinclude -Ilib -isystem "$out/include" -DFMT_HEADER_ONLY)
  local -A sources=(
    [anomaly]="error parameters normal_tail crc32 series factory pewma pewma_x86 ewma series_csv
               nab_score nab_validate nab_search ensemble bocpd"
    [policy]="action cache context document error evaluate ip json_offsets parse pattern
              resource_policy variables"
    [shadow]="tree document_state document error service"
    [sql]="error value lexer parser compiler json_scan convert json_out interpreter template regex
           time_format functions functions_math functions_collection functions_time
           functions_context md2")
  local block file
  for block in anomaly policy shadow sql core_json; do
    rm -f "$out/$block.a"
    if [[ $block == core_json ]]; then
      arm-none-eabi-g++ "${flags[@]}" -c lib/core/json.cpp -o "$out/core_json.o"
      arm-none-eabi-ar qc "$out/core_json.a" "$out/core_json.o"
      continue
    fi
    local objects=()
    for file in ${sources[$block]}; do
      arm-none-eabi-g++ "${flags[@]}" -c "lib/$block/$file.cpp" -o "$out/$file.o"
      objects+=("$out/$file.o")
    done
    arm-none-eabi-ar qc "$out/$block.a" "${objects[@]}"
    rm -f "${objects[@]}"
  done
  printf '| %-46s | %7s |\n' "anomaly: pewma (pewma, normal_tail)" \
    "$(text_of "$out/anomaly.a" '^(pewma|normal_tail)\.o')"
  printf '| %-46s | %7s |\n' "anomaly (the sources kept)" "$(text_of "$out/anomaly.a" .)"
  printf '| %-46s | %7s |\n' "policy: evaluation (evaluate, pattern, ...)" \
    "$(text_of "$out/policy.a" '^(evaluate|pattern|variables|ip|context|action)\.o')"
  printf '| %-46s | %7s |\n' "policy (the sources kept)" "$(text_of "$out/policy.a" .)"
  printf '| %-46s | %7s |\n' "core: JSON helpers (policy's parser uses them)" \
    "$(text_of "$out/core_json.a" .)"
  printf '| %-46s | %7s |\n' "shadow: delta/merge (tree, document_state)" \
    "$(text_of "$out/shadow.a" '^(tree|document_state)\.o')"
  printf '| %-46s | %7s |\n' "shadow (the sources kept)" "$(text_of "$out/shadow.a" .)"
  printf '| %-46s | %7s |\n' "sql (the sources kept)" "$(text_of "$out/sql.a" .)"
}

aarch64() {
  install g++-aarch64-linux-gnu qemu-user libgtest-dev libgmock-dev rapidjson-dev
  cmake --workflow --preset aarch64
}

case $what in
  cortex-m4) cortex_m4 ;;
  aarch64) aarch64 ;;
  all) cortex_m4; aarch64 ;;
  *) echo "usage: $0 [cortex-m4|aarch64|all]" >&2; exit 2 ;;
esac
