#!/bin/sh
# mpi.sh - liblowrank_mpi's "must show" in one command: the distributed SVD
# and lp fit against the single-process library, the bytes they send, and
# ScaLAPACK's pdgesvd on the same matrices and ranks (bench/mpi.py has the
# details; docs/mpi.md the results and the cost model).
#
#   bench/mpi.sh [--ranks 4] [--rounds 3] [--coreset-ranks 16] [--wait SECONDS] [--quick]
#                [--only svd,pdgesvd,lp,coreset]
#
# Builds first (make, make bench: bench_pdgesvd needs libscalapack-openmpi-dev);
# runs $PYTHON (default /usr/bin/python3, with numpy and OpenCV) on the data
# in ../shared/data.
set -eu
cd "$(dirname "$0")/.."
make -s
make -s bench
exec "${PYTHON:-/usr/bin/python3}" bench/mpi.py "$@"
