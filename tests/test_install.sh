#!/bin/sh
# test_install.sh - `make install DESTDIR=... prefix=/usr` gives a library a
# separate program finds with pkg-config and runs against; `make uninstall`
# removes every file it installed.
set -u
. "$SRCDIR/tests/lib.sh"
if [ -n "${SANITIZE:-}" ]; then
    # a sanitized library cannot be loaded by a program built without the
    # sanitizer; the plain `make check` runs this test
    echo "skipped in the sanitizer build"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"
make_() { ${MAKE:-make} --no-print-directory -f "$SRCDIR/Makefile" B="$B" "$@" >"$tmp/make.log" 2>&1; }

checks=$((checks + 1))
make_ install DESTDIR="$dest" prefix=/usr || fail "make install failed: $(tail -5 "$tmp/make.log")"

for f in usr/include/lowrank.h usr/lib/liblowrank.so.0 usr/lib/liblowrank.so usr/lib/liblowrank.a \
         usr/lib/pkgconfig/lowrank.pc usr/lib/cmake/lowrank/lowrankConfig.cmake \
         usr/lib/cmake/lowrank/lowrankConfigVersion.cmake usr/bin/lowrank usr/share/man/man3/lowrank_strerror.3 \
         usr/share/man/man7/lowrank.7 usr/share/man/man1/lowrank.1; do
    checks=$((checks + 1))
    [ -e "$dest/$f" ] || fail "$f was not installed"
done

cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <lowrank.h>
int main(void)
{
    printf("%s %s\n", lowrank_version_string(), lowrank_strerror(LOWRANK_ENOMEM));
    return strcmp(lowrank_version_string(), LOWRANK_VERSION_STRING) != 0;
}
C
export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
checks=$((checks + 1))
flags=$(pkg-config --cflags --libs lowrank) || fail "pkg-config cannot find lowrank"
checks=$((checks + 1))
${CC:-cc} "$tmp/prog.c" $flags -o "$tmp/prog" 2>"$tmp/cc.log" || fail "compiling: $(cat "$tmp/cc.log")"
checks=$((checks + 1))
out=$(LD_LIBRARY_PATH="$dest/usr/lib" "$tmp/prog") || fail "the program failed"
case "$out" in
    *"out of memory") ;;
    *) fail "the program printed '$out'" ;;
esac
checks=$((checks + 1))
ldd_out=$(LD_LIBRARY_PATH="$dest/usr/lib" ldd "$tmp/prog" | grep liblowrank)
case "$ldd_out" in
    *"$dest/usr/lib/liblowrank.so.0"*) ;;
    *) fail "the program did not load the installed library: $ldd_out" ;;
esac

checks=$((checks + 1))
make_ uninstall DESTDIR="$dest" prefix=/usr || fail "make uninstall failed"
left=$(find "$dest" ! -type d)
checks=$((checks + 1))
[ -z "$left" ] || fail "left behind after uninstall: $left"
finish
