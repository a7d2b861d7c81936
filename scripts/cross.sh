#!/usr/bin/env bash
# Cross builds of the sans-I/O blocks (docs/firmware.md). Installs Debian's cross
# toolchains when they are missing (as root, or with sudo), then:
#   cortex-m4  builds baremetal, core, topic and mqtt for Cortex-M4 (-Os -fno-exceptions -fno-rtti),
#              compiles the sans-I/O objects of anomaly, policy, shadow and sql,
#              prints each block's object text (arm-none-eabi-size), and links the
#              programs of benchmarks/footprint (flash and static RAM), and
#              examples/firmware, run under qemu-system-arm (netduinoplus2)
#   aarch64    builds core, topic, mqtt and their unit tests for 64-bit Arm Linux
#   armhf      the same for 32-bit Arm Linux (ARMv7-A, hard float)
#   linux      both: builds aarch64 then armhf, then runs the six test programs
#              under qemu-user, two at a time (what CI runs)
# The Linux targets run each test program once under qemu-user (every test of it in
# one process); `ctest --preset aarch64` runs them one test per process instead.
# Usage: scripts/cross.sh [cortex-m4|aarch64|armhf|linux|all]   (default: all)
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

# What every Cortex-M4 compile and link below uses (the preset's flags).
m4=(-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti
    -std=c++20)

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
  # Linked: programs of benchmarks/footprint with --gc-sections and newlib-nano, their
  # text + data less an empty program's; with iotblocks::baremetal (libstdc++'s
  # system_error.o left out, lib/baremetal/system_error.cpp) and, to compare, without.
  local baremetal=$build/lib/baremetal/libiotblocks_baremetal.a
  local flags=("${m4[@]}" -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs -Iinclude)
  link_program() {
    local name=$1
    shift
    arm-none-eabi-g++ "${flags[@]}" "$@" -o "$build/$name.elf" \
      2> >(grep -v "is not implemented and will always fail" >&2)
  }
  flash_of() { arm-none-eabi-size "$build/$1.elf" | awk 'NR == 2 { print $1 + $2 }'; }
  local codec=benchmarks/footprint/mqtt_codec.cpp errc=benchmarks/footprint/error_code.cpp
  link_program empty benchmarks/footprint/empty.cpp
  link_program mqtt_codec "$codec" "$mqtt" "$topic" "$core" "$baremetal"
  link_program mqtt_codec_libstdcxx "$codec" "$mqtt" "$topic" "$core"
  # A program that only sets a std::error_code of the mqtt category.
  link_program error_code "$errc" "$mqtt" "$core" "$baremetal"
  link_program error_code_libstdcxx "$errc" "$mqtt" "$core"
  # One error category of its own, without iotblocks: what system_error.o costs.
  link_program error_category benchmarks/footprint/error_category.cpp
  link_program error_category_baremetal benchmarks/footprint/error_category.cpp "$baremetal"
  # iotblocks::baremetal yields to libstdc++ when a program needs system_error.o:
  # the link succeeds and std::generic_category is libstdc++'s (strong), while the
  # codec program keeps the library's weak std::system_category.
  link_program system_error benchmarks/footprint/system_error.cpp "$baremetal"
  # (grep reads all of nm's output: with -q, pipefail would see nm's SIGPIPE)
  arm-none-eabi-nm "$build/system_error.elf" | grep -c " T _ZNSt3_V216generic_categoryEv$" >/dev/null ||
    { echo "cross: system_error.elf does not use libstdc++'s generic_category" >&2; return 1; }
  arm-none-eabi-nm "$build/mqtt_codec.elf" | grep -c " W _ZNSt3_V215system_categoryEv$" >/dev/null ||
    { echo "cross: mqtt_codec.elf does not use iotblocks::baremetal's system_category" >&2; return 1; }
  local empty
  empty=$(flash_of empty)
  printf '| %-46s | %7s |\n' "decode + encode program, linked, less empty" \
    "$(($(flash_of mqtt_codec) - empty))"
  printf '| %-46s | %7s |\n' "the same with libstdc++'s system_error.o" \
    "$(($(flash_of mqtt_codec_libstdcxx) - empty))"
  printf '| %-46s | %7s |\n' "std::error_code (mqtt category) only" "$(($(flash_of error_code) - empty))"
  printf '| %-46s | %7s |\n' "the same with libstdc++'s system_error.o" \
    "$(($(flash_of error_code_libstdcxx) - empty))"
  printf '| %-46s | %7s |\n' "an error category of one's own (libstdc++)" \
    "$(($(flash_of error_category) - empty))"
  printf '| %-46s | %7s |\n' "the same with iotblocks::baremetal" \
    "$(($(flash_of error_category_baremetal) - empty))"
  printf '| %-46s | %7s |\n' "decode + encode, less the error_code program" \
    "$(($(flash_of mqtt_codec) - $(flash_of error_code)))"
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
#   sql      evaluator.cpp, json_index.cpp (simdjson), functions_hash.cpp (OpenSSL libcrypto),
#            functions_string.cpp (locale_t), tz.cpp (std::mutex, zoneinfo files)
sans_io_objects() {
  install rapidjson-dev libfmt-dev
  local build=$1 out=$1/sans-io
  mkdir -p "$out/include"
  ln -sfn /usr/include/rapidjson "$out/include/rapidjson"
  ln -sfn /usr/include/fmt "$out/include/fmt"
  local flags=("${m4[@]}" -Wno-psabi -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror
               -Iinclude -Ilib -isystem "$out/include" -DFMT_HEADER_ONLY)
  local -A sources=(
    [anomaly]="error parameters normal_tail crc32 series factory pewma pewma_x86 ewma series_csv
               nab_score nab_validate nab_search ensemble bocpd"
    [policy]="action cache context document error evaluate ip json_offsets parse pattern
              resource_policy variables"
    [shadow]="tree document_state document error service"
    [sql]="error value lexer parser compiler json_scan convert json_out interpreter template regex
           time_format functions functions_math functions_collection functions_time
           functions_context md2")
  sources[core_json]=json  # lib/core/json.cpp
  local block file pairs=()
  for block in anomaly policy shadow sql core_json; do
    for file in ${sources[$block]}; do
      pairs+=("lib/${block%_json}/$file.cpp" "$out/$block/$file.o")
    done
  done
  rm -rf "$out"/{anomaly,policy,shadow,sql,core_json}{,.a}
  mkdir -p "$out"/{anomaly,policy,shadow,sql,core_json}
  # One compiler per core: a source and its object per call, the flags in a response file.
  printf '%s\n' "${flags[@]}" >"$out/flags"
  printf '%s\n' "${pairs[@]}" |
    xargs -P "$(nproc)" -n 2 sh -c 'arm-none-eabi-g++ @"$0" -c "$1" -o "$2"' "$out/flags"
  for block in anomaly policy shadow sql core_json; do
    local objects=()  # in the listed order, as the figures were taken
    for file in ${sources[$block]}; do objects+=("$out/$block/$file.o"); done
    arm-none-eabi-ar qc "$out/$block.a" "${objects[@]}"
    rm -rf "${out:?}/$block"
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
  linked_programs "$build"
  firmware_example "$build"
}

# examples/firmware for the STM32F405 of qemu's netduinoplus2 (stm32f405.ld), linked
# with the blocks it uses and newlib's semihosting (rdimon), then run: the program
# checks itself and prints "thermostat: ok".
firmware_example() {
  install qemu-system-arm
  local build=$1 out=$1/sans-io
  local flags=("${m4[@]}" -Wno-psabi -Wall -Wextra -Werror -Iinclude -isystem "$out/include")
  local objects=() file
  for file in thermostat main startup; do
    arm-none-eabi-g++ "${flags[@]}" -c "examples/firmware/$file.cpp" -o "$build/firmware_$file.o"
    objects+=("$build/firmware_$file.o")
  done
  arm-none-eabi-g++ "${flags[@]}" -nostartfiles -T examples/firmware/stm32f405.ld \
    -Wl,--gc-sections --specs=nano.specs --specs=rdimon.specs "${objects[@]}" \
    "$out/shadow.a" "$out/anomaly.a" "$out/core_json.a" "$build/lib/mqtt/libiotblocks_mqtt.a" \
    "$build/lib/topic/libiotblocks_topic.a" "$build/lib/core/libiotblocks_core.a" \
    "$build/lib/baremetal/libiotblocks_baremetal.a" -o "$build/thermostat.elf" \
    2> >(grep -v "is not implemented and will always fail" >&2)
  echo
  arm-none-eabi-size "$build/thermostat.elf" |
    awk 'NR == 2 { printf "examples/firmware (thermostat.elf): flash %d bytes, static RAM %d bytes\n", $1 + $2, $2 + $3 }'
  local log
  log=$(timeout 120 qemu-system-arm -M netduinoplus2 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$build/thermostat.elf" 2>&1) || {
    printf '%s\nexamples/firmware failed under qemu-system-arm\n' "$log" >&2
    return 1
  }
  echo "$log"
  grep -q "^thermostat: ok" <<<"$log"
}

# Linked programs of benchmarks/footprint, one per block, with --gc-sections and
# newlib-nano: flash (text + data) and static RAM (data + bss), each less an empty
# program's.
linked_programs() {
  local build=$1 out=$1/sans-io
  local core=$build/lib/core/libiotblocks_core.a topic=$build/lib/topic/libiotblocks_topic.a
  core+=" $build/lib/baremetal/libiotblocks_baremetal.a"  # every program, last
  local flags=("${m4[@]}" -Wno-psabi -Wl,--gc-sections --specs=nano.specs --specs=nosys.specs
               -Iinclude)
  local -A archives=(
    [topic_match]="$topic $core"
    [pewma_score]="$out/anomaly.a $core"
    [shadow_update]="$out/shadow.a $out/core_json.a $core"
    [policy_evaluate]="$out/policy.a $out/core_json.a $core")
  local -A labels=(
    [topic_match]="topic: validate filter and name, match"
    [pewma_score]="anomaly: PEWMA create and score"
    [shadow_update]="shadow: update (parse, merge, delta, JSON out)"
    [policy_evaluate]="policy: parse a document, evaluate a request")
  local empty_flash empty_ram program sizes
  read -r empty_flash empty_ram < <(arm-none-eabi-size "$build/empty.elf" |
                                    awk 'NR == 2 { print $1 + $2, $2 + $3 }')
  echo
  echo "Linked (benchmarks/footprint/<program>.cpp, --gc-sections, newlib-nano), less an empty" \
       "program: bytes"
  printf '| %-46s | %7s | %7s |\n' "program" "flash" "RAM"
  for program in topic_match pewma_score shadow_update policy_evaluate; do
    # shellcheck disable=SC2086  # the archive lists split on purpose
    arm-none-eabi-g++ "${flags[@]}" "benchmarks/footprint/$program.cpp" ${archives[$program]} \
      -o "$build/$program.elf" 2> >(grep -v "is not implemented and will always fail" >&2)
    read -r -a sizes < <(arm-none-eabi-size "$build/$program.elf" |
                         awk 'NR == 2 { print $1 + $2, $2 + $3 }')
    printf '| %-46s | %7s | %7s |\n' "${labels[$program]} ($program)" \
      "$((sizes[0] - empty_flash))" "$((sizes[1] - empty_ram))"
  done
}

# build_linux <preset>: configures and builds the preset's unit tests (build/<preset>).
build_linux() {
  local preset=$1 triple
  triple=$([[ $preset == aarch64 ]] && echo aarch64-linux-gnu || echo arm-linux-gnueabihf)
  install "g++-$triple" qemu-user googletest rapidjson-dev
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
}

# run_linux <preset>...: runs each preset's test programs under qemu-user from the
# source tree (their data paths are relative to it), two at a time; fails if any does.
run_linux() {
  local preset programs=()
  for preset; do
    for t in topic mqtt core; do programs+=("$preset:$t"); done  # the longest first
  done
  printf '%s\n' "${programs[@]}" | xargs -P 2 -I{} bash -c '
    preset=${1%%:*} t=${1#*:}
    if [[ $preset == aarch64 ]]; then qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
    else qemu=(qemu-arm -L /usr/arm-linux-gnueabihf); fi
    start=$SECONDS
    if out=$("${qemu[@]}" "build/$preset/tests/$t/${t}_tests" --gtest_brief=1 2>&1); then
      echo "$preset ${t}_tests: $(grep -o "PASSED.*" <<<"$out" | tr -d "]") ($((SECONDS - start)) s)"
    else
      printf "%s\n%s ${t}_tests FAILED\n" "$out" "$preset" >&2; exit 1
    fi' _ {}
}

case $what in
  cortex-m4) cortex_m4 ;;
  aarch64 | armhf) build_linux "$what"; run_linux "$what" ;;
  linux) build_linux aarch64; build_linux armhf; run_linux aarch64 armhf ;;
  all) cortex_m4; build_linux aarch64; build_linux armhf; run_linux aarch64 armhf ;;
  *) echo "usage: $0 [cortex-m4|aarch64|armhf|linux|all]" >&2; exit 2 ;;
esac
