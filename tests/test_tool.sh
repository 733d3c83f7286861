#!/bin/sh
# tool.sh - the lowrank program: version, help, info, and its error exits.
# Run by `make check` with LOWRANK (the program), SRCDIR and LD_LIBRARY_PATH.
set -u
. "$SRCDIR/tests/lib.sh"

version=$(sed -n 's/^#define LOWRANK_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
    "$SRCDIR/include/lowrank.h" | paste -sd. -)
expect_output "lowrank $version" "$LOWRANK" --version
expect_status 0 "$LOWRANK" --help
expect_status 2 "$LOWRANK"
expect_status 2 "$LOWRANK" frobnicate
expect_status 2 "$LOWRANK" info
expect_status 2 "$LOWRANK" info a.npy b.npy

d="$SRCDIR/tests/data"
expect_output "shape=(3, 4) dtype=float64 order=C" "$LOWRANK" info "$d/v1_f8_c.npy"
expect_output "shape=(3, 4) dtype=float32 order=F" "$LOWRANK" info "$d/v1_f4_f_be.npy"
expect_output "shape=(5, 2) dtype=float64 order=F" "$LOWRANK" info "$d/v2_f8_f.npy"
expect_output "shape=(5, 1) dtype=float64 order=C" "$LOWRANK" info "$d/v1_f8_1d.npy"

# Truncated, corrupted and unsupported files: exit status 1 and a message
# naming the file, never a signal.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 100 "$d/v1_f8_c.npy" > "$tmp/short-header.npy"
head -c 200 "$d/v1_f8_c.npy" > "$tmp/short-data.npy"
printf 'PK\003\004 not numpy at all' > "$tmp/zip.npy"
sed 's/(3, 4)/(3, 9)/' "$d/v1_f8_c.npy" > "$tmp/lying.npy"
: > "$tmp/empty.npy"
for f in short-header short-data zip lying empty; do
    expect_failure_mentioning "$tmp/$f.npy" "$LOWRANK" info "$tmp/$f.npy"
done
expect_failure_mentioning "truncated" "$LOWRANK" info "$tmp/short-data.npy"
expect_failure_mentioning "not float32 or float64" "$LOWRANK" info "$d/v1_i8.npy"
expect_failure_mentioning "No such file" "$LOWRANK" info "$tmp/missing.npy"
finish
