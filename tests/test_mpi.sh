#!/bin/sh
# test_mpi.sh - liblowrank_mpi and lowrank-mpi, when configure found MPI:
# the shared object's promise (as test_exports.sh for liblowrank) and
# liblowrank's freedom from MPI; tests/check_mpi under mpirun with 1 to 4
# ranks; the tool's usage and error exits, and its results against the
# single-process `lowrank` on the same files.
# Run by `make check` with LOWRANK, LOWRANK_MPI, MPIRUN, HAVE_MPI, SRCDIR,
# BUILDDIR, LD_LIBRARY_PATH and PYTHON.
set -u
. "$SRCDIR/tests/lib.sh"
if [ "${HAVE_MPI:-no}" != yes ]; then
    echo "skipped: configure found no MPI (apt-get install libopenmpi-dev openmpi-bin)"
    exit 0
fi
if [ -z "${MPIRUN:-}" ]; then
    echo "skipped: configure found no mpirun (apt-get install openmpi-bin)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
so="$BUILDDIR/mpi/liblowrank_mpi.so.0"

# ------------------------------------------------------------ the shared object
check_exports "$so" liblowrank_mpi.so.0 lowrank_mpi_ "$SRCDIR/mpi/lowrank_mpi.h" \
    LOWRANK_MPI_API "$SRCDIR/mpi/lowrank_mpi.map" "$SRCDIR/mpi/man"
checks=$((checks + 1))
readelf -d "$so" | grep -q 'NEEDED.*\[liblowrank\.so\.0\]' || fail "$so does not need liblowrank.so.0"
# liblowrank itself knows nothing of MPI
checks=$((checks + 1))
if readelf -d "$BUILDDIR/lib/liblowrank.so.0" | grep -q 'NEEDED.*mpi'; then
    fail "liblowrank.so.0 needs an MPI library"
fi
checks=$((checks + 1))
if nm -D --undefined-only "$BUILDDIR/lib/liblowrank.so.0" | grep -q ' MPI_'; then
    fail "liblowrank.so.0 calls MPI"
fi

# ------------------------------------------------------------ check_mpi under mpirun
# Under the sanitizers, Open MPI keeps what MPI_Init allocated: LeakSanitizer
# is told so (tests/lsan-mpi.supp), with full stacks to see it; and one and
# three ranks (a tree of two levels) keep the slower run short.
counts="1 2 3 4"
if [ -n "${SANITIZE:-}" ]; then
    export ASAN_OPTIONS=fast_unwind_on_malloc=0 \
        LSAN_OPTIONS="suppressions=$SRCDIR/tests/lsan-mpi.supp:print_suppressions=0"
    counts="1 3"
fi
for np in $counts; do
    checks=$((checks + 1))
    mpi_run -np $np "$BUILDDIR/tests/check_mpi" > "$tmp/out" 2>&1 ||
        fail "check_mpi with $np ranks: $(grep -v '^$' "$tmp/out" | tail -20)"
    grep '^check_mpi' "$tmp/out"
done

# ------------------------------------------------------------ the tool
d="$SRCDIR/tests/data"
version=$(sed -n 's/^#define LOWRANK_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
    "$SRCDIR/include/lowrank.h" | paste -sd. -)
expect_output "lowrank-mpi $version" mpi_run -np 1 "$LOWRANK_MPI" --version
expect_status 0 mpi_run -np 2 "$LOWRANK_MPI" --help
: > "$tmp/helps"
for cmd in svd lp; do
    expect_status 0 mpi_run -np 1 "$LOWRANK_MPI" $cmd --help
    mpi_run -np 1 "$LOWRANK_MPI" $cmd --help >> "$tmp/helps" 2>&1
done
for flag in $(grep -o '[{(]"-[-a-z0-9]*",' "$SRCDIR/tools/lowrank-mpi.c" | sed 's/^[{(]"//; s/",$//' | sort -u); do
    checks=$((checks + 1))
    grep -q -- "^  $flag\( \|$\)" "$tmp/helps" || fail "lowrank-mpi --help does not name $flag"
done

# usage errors: status 2, said once
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" frobnicate
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" svd "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" svd -k 2 --tol 0.1 "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" svd -k 2 --method lewis "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" svd -k 2 -p 1 "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" lp -k 2 "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" lp -k 2 -p 1 --method exact "$d/v1_f8_c.npy"
expect_status 2 mpi_run -np 2 "$LOWRANK_MPI" lp -k 2 -p 1 "$d/v1_f8_c.npy" "$tmp/o.npy"
mpi_run -np 3 "$LOWRANK_MPI" svd "$d/v1_f8_c.npy" > /dev/null 2> "$tmp/err"
checks=$((checks + 1))
[ "$(grep -c '^usage:' "$tmp/err")" -eq 1 ] || fail "the usage was not said once: $(cat "$tmp/err")"

# errors: status 1 and the library's message, said once
expect_failure_mentioning "rank 0: k = 4 is outside [0, min(rows, cols) = 3]" \
    mpi_run -np 2 "$LOWRANK_MPI" svd -k 4 "$d/v1_f8_c.npy"
expect_failure_mentioning "p = 0.5 is outside [1, infinity)" \
    mpi_run -np 2 "$LOWRANK_MPI" lp -k 1 -p 0.5 "$d/v1_f8_c.npy"
expect_failure_mentioning "3 rows for 4 ranks" mpi_run -np 4 "$LOWRANK_MPI" svd -k 1 "$d/v1_f8_c.npy"
expect_failure_mentioning "missing.npy" mpi_run -np 2 "$LOWRANK_MPI" svd -k 1 "$tmp/missing.npy"
mpi_run -np 2 "$LOWRANK_MPI" svd -k 4 "$d/v1_f8_c.npy" > /dev/null 2> "$tmp/err"
checks=$((checks + 1))
[ "$(grep -c 'outside' "$tmp/err")" -eq 1 ] || fail "the error was not said once: $(cat "$tmp/err")"

# what it prints: every run, bytes_communicated (none with one rank)
expect_status 0 mpi_run -np 2 "$LOWRANK_MPI" svd -k 2 "$d/v2_f8_f.npy" --factors "$tmp/l.npy" "$tmp/r.npy"
expect_output "shape=(5, 2) dtype=float64 order=C" "$LOWRANK" info "$tmp/l.npy"
expect_output "shape=(2, 2) dtype=float64 order=C" "$LOWRANK" info "$tmp/r.npy"
mpi_run -np 1 "$LOWRANK_MPI" svd -k 1 "$d/v1_f4_f_be.npy" > "$tmp/out"
checks=$((checks + 1))
grep -q '^ranks=1 bytes_communicated=0 ' "$tmp/out" || fail "one rank printed '$(cat "$tmp/out")'"
mpi_run -np 3 "$LOWRANK_MPI" lp -k 1 -p 1 "$d/v1_f8_c.npy" --time > "$tmp/out" 2> "$tmp/err"
checks=$((checks + 1))
grep -q '^cost=[0-9.e+-]* error=[0-9.e+-]*$' "$tmp/out" &&
    grep -q '^ranks=3 bytes_communicated=[1-9][0-9]* fraction_of_matrix=' "$tmp/out" &&
    grep -q '^compute_seconds=[0-9.]*$' "$tmp/err" || fail "lp printed '$(cat "$tmp/out" "$tmp/err")'"

# With numpy: the results of 1 to 4 ranks against `lowrank` on the same file
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    "$PYTHON" - "$tmp" <<'EOF'
import sys, numpy as np
rng = np.random.default_rng(3)
u, _ = np.linalg.qr(rng.standard_normal((600, 40)))
v, _ = np.linalg.qr(rng.standard_normal((40, 40)))
a = (u * 0.9 ** np.arange(40)) @ v.T
np.save(sys.argv[1] + '/a.npy', a)
np.save(sys.argv[1] + '/a32f.npy', np.asfortranarray(a, dtype=np.float32))
EOF
    "$PYTHON" "$SRCDIR/bench/lp_data.py" haystack -n 3000 -d 12 -k 3 "$tmp/h.npy" "$tmp/hu.npy"
    for m in exact randomized; do
        "$LOWRANK" svd -k 5 --method $m "$tmp/a.npy" --factors "$tmp/l-$m.npy" "$tmp/r-$m.npy" \
            > /dev/null
        for np in 1 2 3 4; do
            expect_status 0 mpi_run -np $np "$LOWRANK_MPI" svd -k 5 --method $m "$tmp/a.npy" \
                --factors "$tmp/l-$m-$np.npy" "$tmp/r-$m-$np.npy"
        done
    done
    expect_status 0 mpi_run -np 3 "$LOWRANK_MPI" svd -k 5 --method exact "$tmp/a32f.npy" \
        --factors "$tmp/l32.npy" "$tmp/r32.npy"
    "$LOWRANK" lp -k 3 -p 1 "$tmp/h.npy" --factors "$tmp/hl.npy" "$tmp/hr.npy" > "$tmp/lp-1"
    for np in 2 4; do
        expect_status 0 mpi_run -np $np "$LOWRANK_MPI" lp -k 3 -p 1 "$tmp/h.npy" \
            --factors "$tmp/hl-$np.npy" "$tmp/hr-$np.npy"
        mpi_run -np $np "$LOWRANK_MPI" lp -k 3 -p 1 "$tmp/h.npy" > "$tmp/lp-$np"
    done
    checks=$((checks + 1))
    "$PYTHON" - "$tmp" "$SRCDIR/bench" <<'EOF' || fail "the results differ from lowrank's (above)"
import sys, numpy as np
t = sys.argv[1] + '/'
sys.path.insert(0, sys.argv[2])
import lp_data
ok = True
def product(l, r):
    return np.load(t + l).astype(float) @ np.load(t + r).astype(float)
for m in ('exact', 'randomized'):
    ref = product(f'l-{m}.npy', f'r-{m}.npy')
    for np_ in (1, 2, 3, 4):
        d = np.abs(product(f'l-{m}-{np_}.npy', f'r-{m}-{np_}.npy') - ref).max() / np.abs(ref).max()
        if d > 1e-10:
            print(f'{m}, {np_} ranks: L R differs from lowrank svd by {d:.2e}')
            ok = False
d = np.abs(product('l32.npy', 'r32.npy') - product('l-exact.npy', 'r-exact.npy')).max()
if d > 1e-4:
    print(f'float32, Fortran order: L R differs by {d:.2e}')
    ok = False
u = np.load(t + 'hu.npy')
serial = float(open(t + 'lp-1').read().split()[0].split('=')[1])
for np_ in (2, 4):
    angle = lp_data.largest_angle(u, np.linalg.qr(np.load(t + f'hr-{np_}.npy').T)[0])
    cost = float(open(t + f'lp-{np_}').read().split()[0].split('=')[1])
    print(f'lp, {np_} ranks: {angle:.3f} degrees from the planted subspace, cost {cost:.6g} '
          f'(lowrank lp: {serial:.6g})')
    ok &= angle < 1 and cost <= 1.05 * serial
sys.exit(0 if ok else 1)
EOF
fi
finish
