#!/bin/sh
# test_readme.sh - the README's C example of an implicit matrix (the
# operator section) compiles against the built library, runs, and prints
# the Hilbert matrix's leading singular values as numpy computes them from
# the matrix made explicit.
set -u
. "$SRCDIR/tests/lib.sh"
if [ -n "${SANITIZE:-}" ]; then
    echo "skipped in the sanitizer build (the example is built without the sanitizer)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^### Sparse, implicit and out-of-core matrices/ {on = 1}
     on && /^```c$/ {code = 1; next}
     code && /^```$/ {exit}
     code {print}' "$SRCDIR/README.md" > "$tmp/implicit.c"
checks=$((checks + 1))
grep -q lowrank_operator_new "$tmp/implicit.c" || fail "no example found in README.md"
checks=$((checks + 1))
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$SRCDIR/include" -o "$tmp/implicit" \
    "$tmp/implicit.c" -L"$BUILDDIR/lib" -llowrank 2>"$tmp/cc.log" ||
    fail "the README example does not compile: $(cat "$tmp/cc.log")"
checks=$((checks + 1))
LD_LIBRARY_PATH="$BUILDDIR/lib" "$tmp/implicit" 300 200 >"$tmp/out" 2>&1 ||
    fail "the README example failed: $(cat "$tmp/out")"
checks=$((checks + 1))
[ "$(grep -c '^sigma_[1-5] = ' "$tmp/out")" -eq 5 ] || fail "printed '$(cat "$tmp/out")'"
if "${PYTHON:-python3}" -c 'import numpy' 2>/dev/null; then
    checks=$((checks + 1))
    "$PYTHON" - "$tmp/out" <<'PY' || fail "the values differ from numpy's"
import sys, numpy as np
i, j = np.mgrid[0:300, 0:200]
truth = np.linalg.svd(1.0 / (i + j + 1), compute_uv=False)[:5]
got = [float(line.split('=')[1]) for line in open(sys.argv[1])]
sys.exit(0 if np.max(np.abs(np.array(got) - truth)) <= 1e-12 * truth[0] else 1)
PY
fi
finish
