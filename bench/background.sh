#!/bin/sh
# background.sh - liblowrank's background models against OpenCV's MOG2 and KNN on CDnet 2014
# "highway", in one run: F, precision, recall (CDnet's scorer, frames 470..1100) and frames/s on
# one core, side by side.
#
#   bench/background.sh [--wait SECONDS] [SEQUENCE_DIR]
#
# Then the same methods on the sequence with global illumination changes added (gain and offset
# over the whole frame, from frame 700 on), the held-out check on real video of what the unit
# tests check on synthesised frames.
#
# Run from a built tree (make).  SEQUENCE_DIR defaults to ../shared/data/highway; the anchors
# and the scorer are ../shared/tools/bg_anchors.py and cdnet_score.py (TOOLS overrides), run by
# $PYTHON (default /usr/bin/python3, with numpy, PIL and OpenCV).  Ours runs with
# OPENBLAS_NUM_THREADS=1, the anchors with --threads 1.  Our frames/s counts the model alone,
# training included (decoding and writing excluded); "apply fps" leaves the training out, as
# the anchors have none.  The anchors' frames/s time OpenCV's apply calls from Python.
#
# --wait SECONDS: first wait (up to SECONDS) until the 1-minute load average is below 0.7, so
# that other work on the machine does not distort the frames/s; the load is printed anyway.
set -u
cd "$(dirname "$0")/.."
wait=0
if [ "${1:-}" = "--wait" ]; then
    wait=$2
    shift 2
fi
seq=${1:-../shared/data/highway}
tools=${TOOLS:-../shared/tools}
PYTHON=${PYTHON:-/usr/bin/python3}
lowrank="env LD_LIBRARY_PATH=$PWD/lib OPENBLAS_NUM_THREADS=1 $PWD/tools/lowrank"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

load() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while [ "$waited" -lt "$wait" ] && awk -v l="$(load)" 'BEGIN { exit !(l > 0.7) }'; do
    sleep 30
    waited=$((waited + 30))
done

echo "sequence: $seq"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "BLAS: $(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null |
    sed -n 's/^Value: //p')"
echo "load before: $(cat /proc/loadavg)"
echo

# score NAME DIR: CDnet's F, precision, recall of the masks in DIR.
score() {
    "$PYTHON" "$tools/cdnet_score.py" "$seq" "$2" |
        awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1); printf "%.4f %.4f %.4f", v["F"], v["Pr"], v["Re"] }'
}

printf '%-44s %7s %9s %7s %9s %9s\n' method F precision recall fps "apply fps"
# ours NAME OPTIONS...: run the tool, print its row.
ours() {
    name=$1
    shift
    dir="$out/$(echo "$name" | tr -c 'a-z0-9' _)"
    line=$($lowrank background --verbose "$@" "$seq/input" "$dir" 2>"$dir.err") || {
        echo "$name: failed: $(cat "$dir.err")"
        return
    }
    fps=$(echo "$line" | sed -n 's/.*fps=\([0-9.]*\).*/\1/p')
    apply=$(sed -n 's/.*apply_fps=\([0-9.]*\).*/\1/p' "$dir.err")
    set -- $(score "$name" "$dir")
    printf '%-44s %7s %9s %7s %9s %9s\n' "$name" "$1" "$2" "$3" "$fps" "$apply"
}
# anchor NAME OPTIONS...: run bg_anchors.py, print its row.
anchor() {
    name=$1
    shift
    dir="$out/$(echo "$name" | tr -c 'a-z0-9' _)"
    line=$("$PYTHON" "$tools/bg_anchors.py" "$seq" "$dir" --threads 1 "$@") || {
        echo "$name: failed"
        return
    }
    fps=$(echo "$line" | sed -n 's/.*fps \([0-9.]*\).*/\1/p')
    set -- $(score "$name" "$dir")
    printf '%-44s %7s %9s %7s %9s %9s\n' "$name" "$1" "$2" "$3" "$fps" "$fps"
}

all_methods() {
    ours "lowrank default (l1 fit, adaptive)"
    ours "lowrank --least-squares (SVD fit, adaptive)" --least-squares
    ours "lowrank --no-update (l1 fit, per-pixel)" --no-update
    ours "lowrank --grey" --grey
    ours "lowrank --no-update --threshold 25 --rank 1" --no-update --threshold 25 --rank 1
    ours "  the same, --least-squares" --no-update --threshold 25 --rank 1 --least-squares
    ours "lowrank --seed-method (90% contribution)" --seed-method
    ours "lowrank --seed-method --rank 1" --seed-method --rank 1
    ours "lowrank --seed-method --rank 1 --median 0" --seed-method --rank 1 --median 0
    anchor "OpenCV MOG2 defaults" --method mog2
    anchor "OpenCV MOG2 no shadows, median 5" --method mog2 --no-shadows --median 5
    anchor "OpenCV KNN no shadows, median 5" --method knn --no-shadows --median 5
}
all_methods
echo
echo "load after: $(cat /proc/loadavg)"

# The held-out check of global illumination changes on real video: the same frames with the
# light changing over the whole frame, as clouds or a camera's exposure do (gain 1.25 and
# offset +10 from frame 700 to 849, gain 0.8 from frame 850 on; clipped to 0..255).  The
# ground truth is unchanged.  Only default-ish methods are run.
lit="$out/lit"
mkdir -p "$lit/input"
ln -s "$(cd "$seq" && pwd)/groundtruth" "$lit/groundtruth"
cp "$seq/ROI.bmp" "$seq/temporalROI.txt" "$lit/"
"$PYTHON" - "$seq" "$lit" <<'PY'
import os, sys
import cv2
import numpy as np
seq, lit = sys.argv[1], sys.argv[2]
i = 1
while os.path.exists(os.path.join(seq, 'input', 'in%06d.jpg' % i)):
    src = os.path.join(seq, 'input', 'in%06d.jpg' % i)
    dst = os.path.join(lit, 'input', 'in%06d.jpg' % i)
    if i < 700:
        os.symlink(os.path.abspath(src), dst)
    else:
        gain, offset = (1.25, 10) if i < 850 else (0.8, 0)
        img = cv2.imread(src).astype(np.float32) * gain + offset
        cv2.imwrite(dst, np.clip(np.rint(img), 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 95])
    i += 1
PY
echo
echo "the same with global illumination changes from frame 700 on ($lit):"
seq=$lit
printf '%-44s %7s %9s %7s %9s %9s\n' method F precision recall fps "apply fps"
ours "lowrank default (l1 fit, adaptive)"
ours "lowrank --seed-method --rank 1" --seed-method --rank 1
anchor "OpenCV MOG2 defaults" --method mog2
anchor "OpenCV KNN no shadows, median 5" --method knn --no-shadows --median 5
