#!/usr/bin/env python3
"""lp_nets_anchor.py - the refined lp approximations of the PTB language
model's layers (bench/lp_nets.py's "+IRLS" columns) from this build's tool
against those of another build (an anchor, e.g. main's), scored only where
they differ.

    make && $PYTHON bench/lp_nets_anchor.py --anchor ../main [--layers L,...]
                                            [--ranks K,...] [--score-anchor]

For every layer, rank (lp_nets' default PTB ranks) and refined method it
prints ||W_this - W_anchor|| / ||W|| and, where that is above lp_nets.SAME
(so that the two scores could differ), this build's perplexity and next-word
accuracy (and the anchor's with --score-anchor; without it, compare with the
anchor's own lp_nets table).  A PTB score takes 10-80 s, so scoring only the
cells that changed makes a re-run of the table's refined columns after a
change of the search take minutes instead of the hour of lp_nets.py.
"""
import argparse
import os
import subprocess
import tempfile
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lp_nets  # noqa: E402


def fit(build, src, out, k, p, orientation):
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(build, "lib"))
    subprocess.run([os.path.join(build, "tools", "lowrank"), "lp", "-k", str(k), "-p", str(p),
                    "--orientation", orientation, "--refine", "-1", src, out],
                   env=env, check=True, capture_output=True)
    return np.load(out).astype(float)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anchor", required=True, help="a build directory of liblowrank")
    parser.add_argument("--data", default=os.path.join(lp_nets.SHARED, "data", "nn"))
    parser.add_argument("--nn-eval", default=os.path.join(lp_nets.SHARED, "tools", "nn_eval.py"))
    parser.add_argument("--layers", default=",".join(lp_nets.RNNLM_LAYERS))
    parser.add_argument("--ranks", default=",".join(map(str, lp_nets.RNNLM_QUICK_RANKS)))
    parser.add_argument("--score-anchor", action="store_true")
    args = parser.parse_args()
    nn = lp_nets.load_nn_eval(args.nn_eval)
    params, score = lp_nets.rnnlm_scorer(nn, args.data)
    refined = [m for m in lp_nets.METHODS if m[3]]
    print(f"# {lp_nets.BUILD} against {os.path.abspath(args.anchor)}; load {lp_nets.load()}")
    with tempfile.TemporaryDirectory(prefix="lowrank-anchor-") as tmp:
        src, out = os.path.join(tmp, "w.npy"), os.path.join(tmp, "wk.npy")
        for layer in args.layers.split(","):
            w = params[layer]
            np.save(src, w)
            norm = np.linalg.norm(w.astype(float))
            for k in map(int, args.ranks.split(",")):
                for label, p, orientation, _ in refined:
                    mine = fit(lp_nets.BUILD, src, out, k, p, orientation)
                    theirs = fit(args.anchor, src, out, k, p, orientation)
                    d = np.linalg.norm(mine - theirs) / norm
                    line = f"| {layer} {w.shape[0]}x{w.shape[1]} | {k} | {label} | {d:.2e} |"
                    if d > lp_nets.SAME:
                        line += " " + lp_nets.cell(score(layer, mine)) + " |"
                        if args.score_anchor:
                            line += " " + lp_nets.cell(score(layer, theirs)) + " |"
                    print(line, flush=True)


if __name__ == "__main__":
    main()
