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

# liblowrank_mpi, when built: its files, and a program that pkg-config's
# lowrank-mpi (with lowrank and MPI) lets build and run on two ranks.
if [ "${HAVE_MPI:-no}" = yes ] && [ -n "${MPIRUN:-}" ]; then
    for f in usr/include/lowrank_mpi.h usr/lib/liblowrank_mpi.so.0 usr/lib/liblowrank_mpi.so \
             usr/lib/liblowrank_mpi.a usr/lib/pkgconfig/lowrank-mpi.pc usr/bin/lowrank-mpi \
             usr/share/man/man3/lowrank_mpi_svd.3 usr/share/man/man7/lowrank_mpi.7 \
             usr/share/man/man1/lowrank-mpi.1; do
        checks=$((checks + 1))
        [ -e "$dest/$f" ] || fail "$f was not installed"
    done
    cat > "$tmp/mpiprog.c" <<'C'
#include <stdio.h>
#include <lowrank_mpi.h>
int main(int argc, char **argv)
{
    int rank, ok = 0;
    double x[2] = {3, 4};
    lowrank_matrix *a;
    lowrank_factors *f;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    x[1] += rank;
    lowrank_matrix_wrap(LOWRANK_FLOAT64, LOWRANK_ROW_MAJOR, 1, 2, x, 2, &a);
    if (lowrank_mpi_svd(MPI_COMM_WORLD, a, 1, NULL, &f, NULL) == LOWRANK_OK) {
        ok = lowrank_factors_rows(f) == 1;
        lowrank_factors_free(f);
    }
    if (rank == 0)
        printf("%s\n", ok ? "ok" : lowrank_mpi_last_error());
    lowrank_matrix_free(a);
    MPI_Finalize();
    return !ok;
}
C
    checks=$((checks + 1))
    flags=$(pkg-config --cflags --libs lowrank-mpi) || fail "pkg-config cannot find lowrank-mpi"
    case "$flags" in
        *-llowrank_mpi*-llowrank*) ;;
        *) fail "pkg-config lowrank-mpi gave '$flags'" ;;
    esac
    # pkg-config's sysroot also prefixes MPI's own directories: mpicc gives them
    checks=$((checks + 1))
    mpicc "$tmp/mpiprog.c" $flags -o "$tmp/mpiprog" 2>"$tmp/cc.log" ||
        fail "compiling: $(cat "$tmp/cc.log")"
    checks=$((checks + 1))
    out=$(LD_LIBRARY_PATH="$dest/usr/lib" mpi_run -np 2 "$tmp/mpiprog" 2>&1)
    [ "$out" = ok ] || fail "the MPI program printed '$out'"
fi

checks=$((checks + 1))
make_ uninstall DESTDIR="$dest" prefix=/usr || fail "make uninstall failed"
left=$(find "$dest" ! -type d)
checks=$((checks + 1))
[ -z "$left" ] || fail "left behind after uninstall: $left"
finish
