#!/bin/sh
# test-debs.sh DEBDIR - the packages hold what they promise: liblowrank0
# needs no MPI and liblowrank-mpi0 needs liblowrank0 and MPI; python3-lowrank
# depends on liblowrank0 and python3-numpy and ships the module, and
# `import lowrank` from the packages alone (unpacked into a scratch root, not
# the build tree) loads their liblowrank.so.0 and computes an SVD.
set -eu
debs=$(readlink -f "$1")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "test-debs: $*" >&2; exit 1; }

lib=$(ls "$debs"/liblowrank0_*.deb 2>/dev/null) || fail "no liblowrank0 package in $debs"
mpi=$(ls "$debs"/liblowrank-mpi0_*.deb 2>/dev/null) || fail "no liblowrank-mpi0 package in $debs"
dpkg-deb -f "$lib" Depends | grep -qi mpi && fail "liblowrank0 depends on MPI: $(dpkg-deb -f "$lib" Depends)"
for dep in liblowrank0 libopenmpi; do
    dpkg-deb -f "$mpi" Depends | grep -q "$dep" ||
        fail "liblowrank-mpi0 does not depend on $dep: $(dpkg-deb -f "$mpi" Depends)"
done
for p in liblowrank-mpi-dev lowrank-mpi-tools; do
    ls "$debs"/${p}_*.deb > /dev/null 2>&1 || fail "no $p package in $debs"
done

py=$(ls "$debs"/python3-lowrank_*_all.deb 2>/dev/null) || fail "no python3-lowrank package in $debs"
depends=$(dpkg-deb -f "$py" Depends)
for dep in liblowrank0 python3-numpy python3; do
    echo "$depends" | tr ',' '\n' | sed 's/^ *//; s/[ :(].*//' | grep -qx "$dep" ||
        fail "python3-lowrank does not depend on $dep: $depends"
done
dpkg-deb -c "$py" | grep -q ' ./usr/lib/python3/dist-packages/lowrank/__init__.py$' ||
    fail "python3-lowrank does not ship lowrank/__init__.py"

for p in "$py" "$debs"/liblowrank0_*.deb; do dpkg-deb -x "$p" "$root"; done
libdir=$(dirname "$(find "$root" -name 'liblowrank.so.0' | head -n 1)")
cd "$root"
env -u LOWRANK_LIBRARY PYTHONPATH="$root/usr/lib/python3/dist-packages" \
    LD_LIBRARY_PATH="$libdir" PYTHONDONTWRITEBYTECODE=1 ROOT="$root" /usr/bin/python3 - <<'PY' ||
import os
import numpy as np
import lowrank
root = os.environ['ROOT']
assert lowrank.__file__.startswith(root), lowrank.__file__
maps = [l.split()[-1] for l in open('/proc/self/maps') if 'liblowrank.so' in l]
assert maps and all(m.startswith(root) for m in maps), maps
a = np.outer([1.0, 2.0, 2.0], [3.0, 4.0])
f = lowrank.svd(a, 1)
assert abs(f.s[0] - 15.0) < 1e-12, f.s
print('test-debs: import lowrank %s from the packages: ok' % lowrank.version())
PY
    fail "import lowrank from the unpacked packages failed"
