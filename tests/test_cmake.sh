#!/bin/sh
# test_cmake.sh - a CMake project finds the installed library with
# find_package(lowrank 0.1 REQUIRED) and links it, shared (lowrank::lowrank)
# and static (lowrank::lowrank_static), against a DESTDIR installation; the
# version file refuses another major version.
set -u
. "$SRCDIR/tests/lib.sh"
if [ -n "${SANITIZE:-}" ]; then
    echo "skipped in the sanitizer build (test_install.sh says why)"
    exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
    echo "FAIL: cmake is not installed (apt-get install cmake)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"
checks=$((checks + 1))
${MAKE:-make} --no-print-directory -f "$SRCDIR/Makefile" B="$B" install DESTDIR="$dest" \
    prefix=/usr libdir=/usr/lib/x86_64-linux-gnu >"$tmp/make.log" 2>&1 ||
    fail "make install failed: $(tail -5 "$tmp/make.log")"

mkdir -p "$tmp/src"
cat > "$tmp/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.13)
project(consumer C)
find_package(lowrank 0.1 REQUIRED)
add_executable(shared main.c)
target_link_libraries(shared PRIVATE lowrank::lowrank)
add_executable(static main.c)
target_link_libraries(static PRIVATE lowrank::lowrank_static)
file(WRITE "${CMAKE_BINARY_DIR}/found_version" "${lowrank_VERSION}")
CMAKE
cat > "$tmp/src/main.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <lowrank.h>
int main(void)
{
    /* the static archive must bring its BLAS and LAPACK: an SVD needs both */
    double a[6] = {3, 4, 0, 0, 0, 0}; /* rank 1, sigma = 5 */
    lowrank_matrix *m;
    lowrank_factors *f;
    double s;
    if (lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 3, 2, a, 2, &m) != 0 ||
        lowrank_svd(m, 1, NULL, &f) != 0 || lowrank_matrix_get(lowrank_factors_s(f), 0, 0, &s))
        return 1;
    printf("%s %g\n", lowrank_version_string(), s);
    lowrank_factors_free(f);
    lowrank_matrix_free(m);
    return strcmp(lowrank_version_string(), LOWRANK_VERSION_STRING) != 0;
}
C
checks=$((checks + 1))
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$dest/usr" >"$tmp/cmake.log" 2>&1 ||
    fail "cmake could not configure the consumer: $(tail -20 "$tmp/cmake.log")"
checks=$((checks + 1))
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 ||
    fail "the consumer did not build: $(tail -20 "$tmp/build.log")"
version=$(sed -n 's/^#define LOWRANK_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
    "$SRCDIR/include/lowrank.h" | paste -sd. -)
checks=$((checks + 1))
[ "$(cat "$tmp/build/found_version" 2>/dev/null)" = "$version" ] ||
    fail "find_package reported version '$(cat "$tmp/build/found_version" 2>/dev/null)'"
for kind in shared static; do
    checks=$((checks + 1))
    out=$(LD_LIBRARY_PATH="$dest/usr/lib/x86_64-linux-gnu" "$tmp/build/$kind" 2>&1)
    [ "$out" = "$version 5" ] || fail "the $kind consumer printed '$out'"
done
checks=$((checks + 1))
case "$(readelf -d "$tmp/build/static" 2>/dev/null)" in
    *liblowrank*) fail "the static consumer needs liblowrank.so" ;;
esac
checks=$((checks + 1))
case "$(readelf -d "$tmp/build/shared" 2>/dev/null)" in
    *"[liblowrank.so.0]"*) ;;
    *) fail "the shared consumer does not need liblowrank.so.0" ;;
esac

# another major version is refused
sed -i 's/find_package(lowrank 0.1 REQUIRED)/find_package(lowrank 1.0 REQUIRED)/' \
    "$tmp/src/CMakeLists.txt"
checks=$((checks + 1))
cmake -S "$tmp/src" -B "$tmp/build1" -DCMAKE_PREFIX_PATH="$dest/usr" >"$tmp/cmake1.log" 2>&1 &&
    fail "find_package(lowrank 1.0) accepted version $version"
finish
