#!/bin/sh
# build-deb.sh TARBALL OUTDIR - build the Debian packages from the release
# tarball (what a distribution packages) with packaging/debian as debian/,
# then run lintian, which must report no error.
set -eu
tarball=$(readlink -f "$1")
out=$(readlink -f "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src=$(echo "$work"/liblowrank-*)
cp -r "$src/packaging/debian" "$src/debian"
# The tests ran already; the packages need not run them again.
(cd "$src" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b)
mkdir -p "$out"
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
lintian --fail-on error --info "$out"/*.changes
