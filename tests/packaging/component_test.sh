#!/usr/bin/env bash
# Builds and runs a program that uses one component of an installed iotblocks with
# only the packages tests/packaging/components.txt lists for it visible: by CMake
# (find_package(iotblocks COMPONENTS <c>), every other package disabled with
# CMAKE_DISABLE_FIND_PACKAGE_<P>) and by pkg-config (PKG_CONFIG_LIBDIR holding
# iotblocks' .pc files and those of the listed packages only). The component's
# archive is linked whole, so a dependency missing from its files fails the link.
# Usage: component_test.sh <prefix> <libdir> <component> <source-dir> <work-dir> <c++>
set -euo pipefail
prefix=$1 libdir=$2 component=$3 source=$4 work=$5 cxx=$6
here=$(cd "$(dirname "$0")" && pwd)
listed=$(sed -n "s/^$component:\(.*\)/\1/p" "$here/components.txt")
[[ -n "$(grep "^$component:" "$here/components.txt")" ]] || {
  echo "$component is not in components.txt" >&2; exit 1; }
read -r -a packages <<<"$listed"
rm -rf "$work" && mkdir -p "$work"

# CMake: every package a component may use that is not listed is unfindable.
disabled=()
for p in Threads OpenSSL SQLite3 fmt simdjson Boost PostgreSQL; do
  [[ " ${packages[*]} " == *" $p "* ]] || disabled+=("-DCMAKE_DISABLE_FIND_PACKAGE_$p=ON")
done
cmake -S "$source/tests/find_package/component" -B "$work/cmake" -G Ninja \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
      -DCOMPONENT="$component" "${disabled[@]}" >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log" >&2; echo "cmake: find_package(iotblocks COMPONENTS $component) failed" \
      "with only '${packages[*]}' visible" >&2; exit 1; }
cmake --build "$work/cmake" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
"$work/cmake/consumer"

# pkg-config: iotblocks' .pc files (where they are installed: they find the prefix
# from their own folder) and the listed packages' only.
pcdir=$work/pkgconfig
mkdir -p "$pcdir"
for p in "${packages[@]}"; do
  case $p in
    OpenSSL) modules=(libssl libcrypto) ;;
    SQLite3) modules=(sqlite3) ;;
    PostgreSQL) modules=(libpq) ;;
    fmt | simdjson) modules=("$p") ;;
    *) modules=() ;;
  esac
  for m in "${modules[@]}"; do
    ln -sf "$(pkg-config --variable=pcfiledir "$m")/$m.pc" "$pcdir/"
  done
done
export PKG_CONFIG_LIBDIR=$prefix/$libdir/pkgconfig:$pcdir PKG_CONFIG_PATH=
cflags=$(pkg-config --cflags "iotblocks-$component") ||
  { echo "pkg-config: iotblocks-$component needs a module not listed for it" >&2; exit 1; }
libs=$(pkg-config --libs "iotblocks-$component")
umbrella=()
[[ -f "$prefix/include/iotblocks/$component.hpp" ]] &&
  umbrella=("-DIOTBLOCKS_UMBRELLA=<iotblocks/$component.hpp>")
archive=$prefix/$libdir/libiotblocks_$component.a
whole=()
# A shared install outside the loader's paths: the program finds it by its RUNPATH,
# as the CMake consumer does.
[[ -f "$archive" ]] && whole=(-Wl,--whole-archive "$archive" -Wl,--no-whole-archive) ||
  whole=(-Wl,-rpath,"$prefix/$libdir")
# shellcheck disable=SC2086  # pkg-config output is a list of flags
"$cxx" -o "$work/consumer_pc" "$source/tests/find_package/component/main.cpp" $cflags \
       "-DIOTBLOCKS_COMPONENT=\"$component\"" "${umbrella[@]}" "${whole[@]}" $libs
"$work/consumer_pc"
