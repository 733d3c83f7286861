#!/bin/sh
# test_hostile.sh - issue 13's cases through the tool: no wrong answer with
# exit status 0.  Extreme magnitudes give the right answer or a clear
# LOWRANK_ERANGE; hostile, truncated or mismatched frames are errors naming
# the file (or skipped under --skip-bad-frames), never trained on or crashed
# on; a missing ground-truth folder is an error; messages say what is wrong.
# Inputs come from tests/hostile_files.py (standard library only).
# Run by `make check` with LOWRANK, SRCDIR, LD_LIBRARY_PATH and PYTHON.
set -u
. "$SRCDIR/tests/lib.sh"
h="$SRCDIR/tests/data/highway"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() { "$PYTHON" "$SRCDIR/tests/hostile_files.py" "$@" || fail "hostile_files.py $*"; }

# expect_error_below LIMIT CMD...: CMD succeeds and prints error=E with E < LIMIT.
expect_error_below() {
    limit=$1; shift
    checks=$((checks + 1))
    out=$("$@" 2>&1)
    status=$?
    [ "$status" -eq 0 ] || { fail "$* exited $status: $out"; return; }
    e=$(printf '%s\n' "$out" | sed -n 's/.*error=\([^ ]*\).*/\1/p')
    awk -v e="$e" -v l="$limit" 'BEGIN { exit !(e != "" && e + 0 < l + 0) }' ||
        fail "$* printed '$out': error not below $limit"
}

# 1. lp on an exactly rank-3 matrix at 1e-200, 1e-170 and 1e306 (it said
# cost=0 error=0 with a true error of 0.81, or EINTERNAL): error ~ 1e-15.
for s in 1e-200 1e-170 1e306; do
    gen npy "$tmp/a$s.npy" '<f8' "$s" lowrank
    for method in lewis lowner; do
        for objective in rows entries; do
            expect_error_below 1e-10 "$LOWRANK" lp -k 3 -p 1 --method $method \
                --objective $objective "$tmp/a$s.npy" "$tmp/o.npy"
        done
    done
    # (lowrank_svd's error estimate resolves down to about 1e-7)
    expect_error_below 1e-6 "$LOWRANK" svd -k 3 "$tmp/a$s.npy" "$tmp/o.npy"
done

# 2. svd near the top of the range: the singular value overflows (it said
# rank=1 error=0 and wrote inf).
gen npy "$tmp/fmax.npy" '<f4' 3.4028234663852886e38 const
gen npy "$tmp/dmax.npy" '<f8' 8.98846567431158e307 const
expect_failure_mentioning "overflows float32" "$LOWRANK" svd -k 1 "$tmp/fmax.npy" "$tmp/max.npy"
expect_failure_mentioning "overflows float64" "$LOWRANK" svd -k 1 "$tmp/dmax.npy" "$tmp/max.npy"
checks=$((checks + 1))
[ ! -e "$tmp/max.npy" ] || fail "svd wrote an output it could not represent"

# 4. the entry-wise lp on float32 near 3e38: ERANGE, not cost=nan.
gen npy "$tmp/f3e38.npy" '<f4' 3e37 lowrank
expect_failure_mentioning "overflows float32" \
    "$LOWRANK" lp -k 3 -p 1 --objective entries "$tmp/f3e38.npy" "$tmp/o.npy"

# 7. p: 1000 gives a cost beyond double (ERANGE, not cost=inf); the
# rounding is right for p = 1e5 (it was EDEGENERATE); p = 1e-320 and
# --tol 1 are refused with the range that holds.
gen npy "$tmp/full.npy" '<f8' 1 full
expect_failure_mentioning "outside the range of double" \
    "$LOWRANK" lp -k 3 -p 1000 "$tmp/full.npy" "$tmp/o.npy"
expect_status 0 "$LOWRANK" ellipsoid -p 1e5 "$tmp/full.npy" "$tmp/g.npy"
expect_status 0 "$LOWRANK" ellipsoid -p 1000 "$tmp/full.npy" "$tmp/g.npy"
expect_failure_mentioning "p = 9.99989e-321 is outside [1, infinity]" \
    "$LOWRANK" lp -k 3 -p 1e-320 "$tmp/full.npy" "$tmp/o.npy"
expect_failure_mentioning "outside [0, 1)" "$LOWRANK" svd --tol 1 "$tmp/full.npy" "$tmp/o.npy"
checks=$((checks + 1))
err=$("$LOWRANK" lp -k 3 -p 1e400 "$tmp/full.npy" "$tmp/o.npy" 2>&1)
case "$err" in *"'1e400' is out of range"*) ;; *) fail "-p 1e400 said '$err'" ;; esac

# 1. mvee of full-rank points: at 1e100 the shape is 1e-200 (right); at 1e200
# it would be 1e-400: ERANGE naming the shape (it was ENOCONV after 0
# iterations); at 1e-200 it would overflow.
gen npy "$tmp/p1e100.npy" '<f8' 1e100 full
gen npy "$tmp/p1e200.npy" '<f8' 1e200 full
gen npy "$tmp/pm200.npy" '<f8' 1e-200 full
expect_status 0 "$LOWRANK" mvee "$tmp/p1e100.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_failure_mentioning "the shape Q" "$LOWRANK" mvee "$tmp/p1e200.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_failure_mentioning "the shape Q" "$LOWRANK" mvee "$tmp/pm200.npy" "$tmp/c.npy" "$tmp/q.npy"
expect_status 0 "$LOWRANK" coreset -p 1 -m 10 "$tmp/p1e200.npy" "$tmp/i.npy" "$tmp/w.npy"

# 3. a training frame of another size (it was a double free): an error
# naming the file, or skipped with --skip-bad-frames.
mkdir "$tmp/sizes"
for i in 1 2 3 4 5 6; do gen png "$tmp/sizes/in00000$i.png" 40 30; done
gen png "$tmp/sizes/in000003.png" 40 31
expect_failure_mentioning "in000003.png: 40x31 pixels, the frames before it 40x30" \
    "$LOWRANK" background --grey --train 4 "$tmp/sizes" "$tmp/o1"
expect_status 0 "$LOWRANK" background --grey --train 4 --skip-bad-frames "$tmp/sizes" "$tmp/o2"
checks=$((checks + 1))
[ "$(ls "$tmp/o2" | tr '\n' ' ')" = "bin000001.png bin000002.png bin000004.png bin000005.png bin000006.png " ] ||
    fail "--skip-bad-frames wrote $(ls "$tmp/o2" | tr '\n' ' ')"

# 7. a truncated JPEG: refused (it was trained on after a warning).
mkdir "$tmp/trunc"
cp "$h/input/in000001.jpg" "$h/input/in000002.jpg" "$h/input/in000003.jpg" "$tmp/trunc/"
head -c 2000 "$h/input/in000004.jpg" > "$tmp/trunc/in000004.jpg"
expect_failure_mentioning "in000004.jpg: corrupt or truncated JPEG" \
    "$LOWRANK" background --train 4 "$tmp/trunc" "$tmp/o3"
expect_status 0 "$LOWRANK" background --train 4 --skip-bad-frames "$tmp/trunc" "$tmp/o4"

# 6. a header that claims 20000 x 20000 (or 65000 x 65000) pixels: refused
# from the header, at once, and the cap can be raised.
mkdir "$tmp/huge"
cp "$h/input/in000001.jpg" "$tmp/huge/"
gen jpeg-size "$h/input/in000002.jpg" "$tmp/huge/in000002.jpg" 20000 20000
gen jpeg-size "$h/input/in000003.jpg" "$tmp/huge/in000003.jpg" 65000 65000
expect_failure_mentioning "in000002.jpg: its header claims 20000 x 20000 pixels, more than the limit of 33554432" \
    "$LOWRANK" background --train 2 "$tmp/huge" "$tmp/o5"
expect_failure_mentioning "limit of 100 (--max-pixels)" \
    "$LOWRANK" background --train 2 --max-pixels 100 "$h/input" "$tmp/o6"
expect_failure_mentioning "corrupt or truncated" \
    "$LOWRANK" background --train 2 --max-pixels 500000000 "$tmp/huge" "$tmp/o7"
expect_status 2 "$LOWRANK" background --max-pixels 0 "$h/input" "$tmp/o8"
mkdir "$tmp/pngs"
gen png "$tmp/pngs/in000001.png" 300 200
gen png "$tmp/pngs/in000002.png" 300 200
expect_failure_mentioning "claims 300 x 200 pixels" \
    "$LOWRANK" background --grey --train 2 --max-pixels 59999 "$tmp/pngs" "$tmp/o9"

# 7. a missing --groundtruth folder, or one without a single ground truth,
# is an error (it printed scored=0 F=0.0000).
expect_failure_mentioning "--groundtruth $tmp/none" \
    "$LOWRANK" background --train 10 --groundtruth "$tmp/none" "$h/input" "$tmp/o10"
expect_failure_mentioning "holds no ground truth" \
    "$LOWRANK" background --train 10 --groundtruth "$tmp" "$h/input" "$tmp/o11"

# 7. the seed mode with --energy 1 (all components; it always failed).
expect_status 0 "$LOWRANK" background --train 10 --seed-method --energy 1 "$h/input" "$tmp/o12"
finish
