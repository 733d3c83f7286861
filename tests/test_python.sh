#!/bin/sh
# test_python.sh - the Python binding's tests (bindings/python/tests), run
# against the library just built, when the interpreter has numpy.
set -u
if [ -n "${SANITIZE:-}" ]; then
    # Python cannot load a sanitized library; the plain make check runs these
    echo "skipped in the sanitizer build"
    exit 0
fi
if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "skipped: $PYTHON has no numpy (apt-get install python3-numpy)"
    exit 0
fi
# No __pycache__ in the source tree (distcheck checks that nothing is written there).
PYTHONDONTWRITEBYTECODE=1 LOWRANK_LIBRARY="$BUILDDIR/lib/liblowrank.so.0" \
    PYTHONPATH="$SRCDIR/bindings/python" \
    "$PYTHON" -m unittest discover -s "$SRCDIR/bindings/python/tests" 2>&1
