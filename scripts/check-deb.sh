#!/usr/bin/env bash
# Builds the Debian packages of a build tree (cmake/iotblocks_packaging.cmake) and
# checks each one's files and dependencies, then unpacks them into a scratch root
# (dpkg -x: nothing is installed on the machine), runs the CLI from it and builds a
# consumer against the -dev package by CMake (find_package) and pkg-config.
#   shared build (BUILD_SHARED_LIBS=ON): libiotblocks<soversion> (the libraries and
#     their SONAME links, a shlibs file), libiotblocks-dev (headers, .so links, CMake
#     and .pc files; depends on the library package at exactly this version),
#     iotblocks (the CLI; depends on the library package at this version)
#   static build: libiotblocks-dev (with the static libraries) and iotblocks
# Usage: scripts/check-deb.sh [build-dir]   (default: build/ci)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/ci}
out=$build/packages
rm -rf "$out" && mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
  { cat "$out/cpack.log" >&2; exit 1; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")/\1/p' "$build/CPackConfig.cmake")
shared=$(sed -n 's/^BUILD_SHARED_LIBS:[A-Z]*=//p' "$build/CMakeCache.txt")
fail() { echo "deb: $*" >&2; exit 1; }
# has <deb> <extended regex>: a file of the package matches
files() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's:^\./:/:'; }
# (grep without -q reads the whole list: -q would stop dpkg-deb with SIGPIPE, which
# pipefail reports as a failure.)
has() { files "$1" | grep -E "$2" >/dev/null || fail "$(basename "$1") has no file matching $2"; }
hasnt() {
  local found
  found=$(files "$1" | grep -E "$2" | head -3) || true
  [[ -z $found ]] || fail "$(basename "$1") must not hold $found"
}
depends() { dpkg-deb -f "$1" Depends; }

cli=$(ls "$out"/iotblocks_*.deb)
dev=$(ls "$out"/libiotblocks-dev_*.deb)
has "$cli" '^/usr/bin/iotblocks$'
hasnt "$cli" '^/usr/(include|lib/[^/]*\.(so|a)|lib/cmake|lib/pkgconfig)'
has "$dev" '^/usr/include/iotblocks/core/export\.hpp$'
has "$dev" '^/usr/lib/cmake/iotblocks/iotblocksConfig\.cmake$'
has "$dev" '^/usr/lib/pkgconfig/iotblocks-core\.pc$'
hasnt "$dev" '\.so\.[0-9]|^/usr/bin/'
grep -q -- '-dev' <<<"$(depends "$cli")" && fail "iotblocks depends on -dev packages: $(depends "$cli")"
packages=("$cli" "$dev")
if [[ $shared == ON ]]; then
  # The SONAME version (cmake/iotblocks_helpers.cmake): major.minor before 1.0, then major.
  soversion=${version%%.*}
  [[ $soversion == 0 ]] && soversion=$(cut -d. -f1-2 <<<"$version")
  lib=$(ls "$out"/libiotblocks"$soversion"_*.deb) ||
    fail "no library package libiotblocks$soversion in $out"
  name=libiotblocks$soversion
  has "$lib" "^/usr/lib/libiotblocks_core\.so\.$version$"
  has "$lib" "^/usr/lib/libiotblocks_core\.so\.$soversion$"
  # Only the libraries and their SONAME links.
  hasnt "$lib" '^/usr/(include|bin)|\.so$|\.a$|\.pc$|\.cmake$'
  files "$lib" | grep -E '\.so\.' | grep -vE "\.so\.($version|$soversion)$" &&
    fail "$name holds a library file outside the SONAME policy"
  has "$dev" '^/usr/lib/libiotblocks_core\.so$'
  hasnt "$dev" '\.a$'
  [[ $(dpkg-deb -f "$lib" Section) == libs ]] || fail "$name is not in section libs"
  grep -q -- '-dev' <<<"$(depends "$lib")" && fail "$name depends on -dev packages: $(depends "$lib")"
  grep -q 'libc6' <<<"$(depends "$lib")" || fail "$name has no dependencies from dpkg-shlibdeps"
  # shlibs: every library, for dpkg-shlibdeps of the programs built against it.
  dpkg-deb --ctrl-tarfile "$lib" | tar -xO ./shlibs >"$out/shlibs" || fail "$name has no shlibs file"
  while read -r so; do
    base=$(basename "$so" ".so.$version")
    grep -qx "$base $soversion $name (= $version)" "$out/shlibs" ||
      fail "$name's shlibs has no line '$base $soversion $name (= $version)'"
  done < <(files "$lib" | grep -E "\.so\.$version$")
  # Exactly this version: the -dev package's .so links and headers fit no other.
  grep -qE "(^|, )$name \(= $version\)(,|$)" <<<"$(depends "$dev")" ||
    fail "libiotblocks-dev does not depend on $name (= $version): $(depends "$dev")"
  grep -qE "(^|, )$name \(= $version\)(,|$)" <<<"$(depends "$cli")" ||
    fail "iotblocks does not depend on $name (= $version): $(depends "$cli")"
  packages=("$lib" "${packages[@]}")
else
  has "$dev" '^/usr/lib/libiotblocks_core\.a$'
fi
for deb in "${packages[@]}"; do
  echo "deb: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version):" \
       "$(files "$deb" | grep -vc '/$') files; Depends: $(depends "$deb")"
done

# Unpacked into a scratch root, the way dpkg would place them.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
for deb in "${packages[@]}"; do dpkg -x "$deb" "$root"; done
export LD_LIBRARY_PATH=$root/usr/lib
"$root/usr/bin/iotblocks" --version
components=$("$root/usr/bin/iotblocks" info | sed -E 's/.*"components":\[([^]]*)\].*/\1/; s/"//g')
PKG_CONFIG_PATH=$root/usr/lib/pkgconfig cmake -S tests/find_package -B "$root/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$root/usr" \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCONSUMER_COMPONENTS="$components" >"$out/consumer.log" 2>&1 ||
  { cat "$out/consumer.log" >&2; fail "find_package(iotblocks) against the -dev package failed"; }
cmake --build "$root/consumer" >>"$out/consumer.log" 2>&1 ||
  { cat "$out/consumer.log" >&2; fail "the consumer did not build against the -dev package"; }
"$root/consumer/consumer"
if [[ $shared == ON ]]; then
  # The consumer runs on the library package's libraries.
  ldd "$root/consumer/consumer" | grep "$root/usr/lib/libiotblocks_core.so.$soversion" >/dev/null ||
    fail "the consumer does not load libiotblocks_core.so.$soversion from the library package"
fi
echo "deb: ${#packages[@]} packages checked, unpacked, the CLI run, a consumer built by CMake and pkg-config"
