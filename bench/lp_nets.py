#!/usr/bin/env python3
"""lp_nets.py - compression without fine-tuning on real pretrained nets: every
weight matrix that ../shared/tools/nn_eval.py knows and whose data is present,
replaced by its rank-k approximation, by the SVD and by `lowrank lp` (p = 1
and 1.5, rows and columns, the construction alone and refined), scored by
nn_eval's own functions.

    make && $PYTHON bench/lp_nets.py [--data DIR] [--nn-eval PATH] [--cache FILE]
                                     [--only MODEL,...] [--full-grid | --quick]

The nets, their test sets and the scoring (the forward passes, accuracy and
perplexity) are nn_eval's, imported from its file into this process so that
the features before each layer are computed once; the SVD column is
nn_eval's own svd_rank_k, so its numbers are those nn_eval prints.  Each lp
approximation is the output of the `lowrank lp` subcommand (Lewis weights,
default options apart from those named in its column).

The ranks: nn_eval's grid for the MNIST layers.  For the PTB language model
one score costs a softmax over 10000 words at each of 82,430 test positions
(10-20 s on 2 cores), so by default its three layers get the ranks of
nn_eval's own --quick grid, 5, 20, 50 and 80; --full-grid adds the rest of
nn_eval's grid (1, 10, 30, 40, 60, 70, 90: 189 more scores, about 45
minutes).  nn_eval keeps the PTB and seq2seq grids inside its run_
functions: the constants below repeat them.  --quick is for development: nn_eval's --quick selection
of MNIST ranks and the PTB embedding and output layers at k = 20.

Layers are applied as y = x W, W of shape (in, out): orientation rows fits
the rows of W (one point per input unit: the paper's setting), cols its
columns.  When the points are no more than their dimension (the rows of a
wide W, the columns of a tall one) the construction's subspace is the
SVD's whatever p is (the lp Lewis weights of n points spanning R^n are all
1); such cells are marked "=", and only refinement can move them.  The
parameter fraction is k (in + out) / (in out).

With --cache FILE the scores are kept in a JSON file, and a rerun computes
only what is missing; the file records a fingerprint of the library, the
tool and nn_eval.py, and is not used when they have changed.  Prints one
markdown table (accuracy, or perplexity / next-word accuracy for the
language model) and a summary of each method's differences from the SVD.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILDDIR", SRC)
TOOL = os.path.join(BUILD, "tools", "lowrank")
LIBRARY = os.path.join(BUILD, "lib", "liblowrank.so")
ENV = dict(os.environ, LD_LIBRARY_PATH=os.path.join(BUILD, "lib"))
SHARED = os.path.join(SRC, "..", "shared")

RNNLM_RANKS = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90]  # nn_eval's run_rnnlm
RNNLM_QUICK_RANKS = [5, 20, 50, 80]  # the same with --quick
RNNLM_LAYERS = ["embed_W", "affine_W", "lstm_Wh"]
SEQ2SEQ_PLAN = {"enc_Wh": [2, 4, 8, 16, 32, 64, 128], "dec_Wh": [4, 8, 16],
                "affine_W": [4, 8, 16]}  # nn_eval's run_seq2seq
# (label, p, orientation, refinement steps: 0 = the construction, -1 = default)
METHODS = [(f"l{p:g} {o}{' +IRLS' if r else ''}", p, o, r)
           for p in (1.0, 1.5) for o in ("rows", "cols") for r in (0, -1)]
LABELS = ["SVD"] + [m[0] for m in METHODS]
# An approximation within this of the SVD's, relative to ||W||, is the SVD's
# (the tool writes float32 for float32 weights).
SAME = 1e-5


def load_nn_eval(path):
    spec = importlib.util.spec_from_file_location("nn_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fingerprint(paths):
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


class Approximations:
    """Rank-k approximations of one matrix by the SVD (nn_eval's) and by
    `lowrank lp`, through files in a temporary directory."""

    def __init__(self, nn, w, tmp):
        self.nn, self.w, self.tmp = nn, w, tmp
        self.src = os.path.join(tmp, "w.npy")
        np.save(self.src, w)

    def get(self, method, k):
        if method == "SVD":
            return self.nn.svd_rank_k(self.w, k)[0]
        _, p, orientation, refine = next(m for m in METHODS if m[0] == method)
        out = os.path.join(self.tmp, "wk.npy")
        subprocess.run([TOOL, "lp", "-k", str(k), "-p", str(p), "--orientation", orientation,
                        "--refine", str(refine), self.src, out],
                       env=ENV, check=True, capture_output=True)
        return np.load(out).astype(self.w.dtype)


class Results:
    """Scores by (model, layer, k, method), kept in a JSON cache when given."""

    def __init__(self, path, stamp):
        self.path, self.scores = path, {"fingerprint": stamp}
        if path and os.path.exists(path):
            with open(path) as f:
                cached = json.load(f)
            if cached.get("fingerprint") == stamp:
                self.scores = cached
            else:
                print(f"({path} was made by another build or nn_eval: not used)\n")

    def key(self, *parts):
        return "|".join(str(p) for p in parts)

    def have(self, *parts):
        return self.key(*parts) in self.scores

    def put(self, score, *parts):
        self.scores[self.key(*parts)] = score
        if self.path:
            with open(self.path + ".tmp", "w") as f:
                json.dump(self.scores, f)
            os.replace(self.path + ".tmp", self.path)

    def get(self, *parts):
        return self.scores.get(self.key(*parts))


def evaluate_layer(nn, results, model, layer, w, ranks, score, tmp):
    """Score W itself and every (rank, method) not yet in results; each lp
    score also records how far its approximation is from the SVD's."""
    if not results.have(model, layer, "full", "-"):
        results.put(score(w), model, layer, "full", "-")
    approx = Approximations(nn, w, tmp)
    norm = np.linalg.norm(w.astype(float))
    for k in ranks:
        missing = [m for m in LABELS if not results.have(model, layer, k, m)]
        svd = approx.get("SVD", k).astype(float) if missing else None
        for method in missing:
            start = time.time()
            wk = approx.get(method, k)
            s = score(wk)
            if method != "SVD":
                s["dsvd"] = float(np.linalg.norm(wk - svd) / norm)
            results.put(s, model, layer, k, method)
            print(f"  {model} {layer} k={k} {method}: {s} ({time.time() - start:.1f} s)",
                  file=sys.stderr, flush=True)


def mnist_models(nn, data):
    """(name, parameters, labels, {layer: (features, head, ranks)}) for each MNIST net of
    nn_eval whose data is in data: the test set's activations entering each layer of nn_eval's
    rank sweep (MNIST_SWEEP) and the rest of the net after it, both from nn_eval's own layer
    sequences (MNIST_NETS, mnist_apply), as its run_mnist computes them."""
    x, labels = nn.mnist_test(data)
    for name, ops in nn.MNIST_NETS.items():
        if not os.path.isdir(os.path.join(data, name)):
            continue
        params = nn.load_dir(os.path.join(data, name))
        layers = {}
        for layer, ranks in nn.MNIST_SWEEP[name].items():
            i = nn.op_index(ops, layer)
            feat = nn.batched(lambda z, i=i: nn.mnist_apply(ops[:i], params, z), x)
            head = (lambda y, q, i=i: nn.mnist_apply(ops[i + 1:], q, y + q[ops[i][2]]))
            layers[layer] = (feat, head, ranks)
        yield name, params, labels, layers


def run_mnist(nn, data, results, tmp, only, quick):
    for name, params, labels, layers in mnist_models(nn, data):
        if name not in only:
            continue
        for layer, (feat, head, ranks) in layers.items():
            def score(wk, feat=feat, head=head):
                return {"acc": float((head(feat @ wk, params).argmax(1) == labels).mean())}

            if quick:  # nn_eval's own --quick selection
                ranks = sorted(set(ranks[:6:2] + ranks[-2:]))
            evaluate_layer(nn, results, name, layer, params[layer], ranks, score, tmp)
            yield name, layer, params[layer].shape, ranks


def rnnlm_scorer(nn, data):
    """The PTB language model's parameters and score(layer, wk): its test
    perplexity and next-word accuracy with layer replaced by wk."""
    params = nn.load_dir(os.path.join(data, "ptb_rnnlm"))
    corpus = params.pop("ptb.test.ids").astype(np.int64)
    hidden = []  # the unchanged model's hidden states, computed when first needed

    def score(layer, wk):
        q = dict(params)
        q[layer] = wk.astype(np.float32)
        if layer != "affine_W":
            h2, t2 = nn.rnnlm_hidden(q, corpus)
        else:
            if not hidden:
                hidden.extend(nn.rnnlm_hidden(params, corpus))
            h2, t2 = hidden
        p2, a2 = nn.rnnlm_score(h2, t2, q["affine_W"], q["affine_b"])
        return {"ppl": p2, "acc": a2}

    return params, score


def run_rnnlm(nn, data, results, tmp, plan):
    params, score = rnnlm_scorer(nn, data)
    for layer, ranks in plan.items():
        evaluate_layer(nn, results, "ptb_rnnlm", layer, params[layer], ranks,
                       lambda wk, layer=layer: score(layer, wk), tmp)
        yield "ptb_rnnlm", layer, params[layer].shape, ranks


def run_seq2seq(nn, data, results, tmp):
    params = nn.load_dir(os.path.join(data, "date_seq2seq"))
    x, t = params.pop("test_x")[:, ::-1], params.pop("test_t")

    for layer, ranks in SEQ2SEQ_PLAN.items():
        def score(wk, layer=layer):
            q = dict(params)
            q[layer] = wk.astype(np.float32)
            out = nn.seq2seq_generate(q, x, t[0, 0], t.shape[1] - 1)
            return {"acc": float((out == t[:, 1:]).all(1).mean())}

        evaluate_layer(nn, results, "date_seq2seq", layer, params[layer], ranks, score, tmp)
        yield "date_seq2seq", layer, params[layer].shape, ranks


def cell(s):
    if s is None:
        return "-"
    text = f"{s['ppl']:.1f} / {s['acc']:.4f}" if "ppl" in s else f"{s['acc']:.4f}"
    return text + (" =" if s.get("dsvd", 1) < SAME else "")


def print_table(results, done):
    print("| model | layer | k | params | " + " | ".join(LABELS) + " |")
    print("|---|---|---|---|" + "---|" * len(LABELS))
    for model, layer, (m, n), ranks in done:
        full = results.get(model, layer, "full", "-")
        print(f"| {model} | {layer} {m}x{n} | full | 1 | {cell(full)} |"
              + " |" * (len(LABELS) - 1))
        for k in ranks:
            cells = " | ".join(cell(results.get(model, layer, k, lab)) for lab in LABELS)
            print(f"| | | {k} | {k * (m + n) / (m * n):.3f} | {cells} |")


def pairs(results, layers, label):
    """(the method's score, the SVD's) for every rank below full of the
    layers where both were scored."""
    for model, layer, (m, n), ranks in layers:
        for k in ranks:
            a, b = results.get(model, layer, k, label), results.get(model, layer, k, "SVD")
            if k < min(m, n) and a and b:
                yield a, b


def points(a, b):
    return 100 * (a["acc"] - b["acc"])


def perplexity_change(a, b):
    return 100 * (a["ppl"] / b["ppl"] - 1)


def print_by_layer(results, done, measure, keep):
    """Per layer (those keep accepts) and method, the mean of measure over
    its ranks below full and its range."""
    print("| layer | " + " | ".join(LABELS[1:]) + " |")
    print("|---|" + "---|" * (len(LABELS) - 1))
    for entry in [e for e in done if keep(e)]:
        cells = []
        for label in LABELS[1:]:
            d = np.array([measure(a, b) for a, b in pairs(results, [entry], label)])
            cells.append(f"{d.mean():+.2f} ({d.min():+.2f}..{d.max():+.2f})" if len(d) else "-")
        print(f"| {entry[0]} {entry[1]} | " + " | ".join(cells) + " |")


def print_summary(results, done):
    """Per method: accuracy minus the SVD's, in points, over all layers and by
    layer; for the language model the change of perplexity, in percent."""
    print("\nAccuracy minus the SVD's, in points (next-word accuracy for ptb_rnnlm), over every "
          "layer and rank below full:\n")
    print("| method | cells | better than SVD | worse | equal | of which the SVD's subspace "
          "| mean | most below | most above |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label in LABELS[1:]:
        both = list(pairs(results, done, label))
        d = np.array([points(a, b) for a, b in both])
        same = sum(a["dsvd"] < SAME for a, _ in both)
        if len(d):
            print(f"| {label} | {len(d)} | {(d > 0).sum()} | {(d < 0).sum()} | {(d == 0).sum()} "
                  f"| {same} | {d.mean():+.2f} | {d.min():+.2f} | {d.max():+.2f} |")
    print("\nThe same by layer: mean (lowest..highest) over its ranks below full:\n")
    print_by_layer(results, done, points, lambda e: True)
    ptb = [e for e in done if e[0] == "ptb_rnnlm"]
    if ptb:
        print("\nptb_rnnlm perplexity against the SVD's, in percent (negative: better), by "
              "layer: mean (lowest..highest) over its ranks:\n")
        print_by_layer(results, ptb, perplexity_change, lambda e: True)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(SHARED, "data", "nn"))
    parser.add_argument("--nn-eval", default=os.path.join(SHARED, "tools", "nn_eval.py"))
    parser.add_argument("--cache", help="JSON file of scores, read and updated")
    parser.add_argument("--only", default="mnist_simple_convnet,mnist_mlp,mnist_deep_convnet,"
                                          "ptb_rnnlm,date_seq2seq")
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--full-grid", action="store_true", help="nn_eval's full PTB rank grid")
    grid.add_argument("--quick", action="store_true", help="a few ranks, for development")
    args = parser.parse_args()
    nn = load_nn_eval(args.nn_eval)
    only = args.only.split(",")
    results = Results(args.cache, fingerprint([os.path.realpath(LIBRARY), TOOL, args.nn_eval]))
    if args.quick:
        rnnlm_plan = {"embed_W": [20], "affine_W": [20]}
    else:
        rnnlm_plan = {lay: RNNLM_RANKS if args.full_grid else RNNLM_QUICK_RANKS
                      for lay in RNNLM_LAYERS}
    start = time.time()
    print(f"# lp compression of real nets without fine-tuning, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"data {os.path.abspath(args.data)}; scoring {os.path.abspath(args.nn_eval)}; "
          f"load average at start {load()}\n")
    done = []
    with tempfile.TemporaryDirectory(prefix="lowrank-nets-") as tmp:
        if any(o.startswith("mnist") for o in only):
            done += list(run_mnist(nn, args.data, results, tmp, only, args.quick))
        runs = (("ptb_rnnlm", lambda: run_rnnlm(nn, args.data, results, tmp, rnnlm_plan)),
                ("date_seq2seq", lambda: run_seq2seq(nn, args.data, results, tmp)))
        for model, run in runs:
            if model in only and os.path.isdir(os.path.join(args.data, model)):
                done += list(run())
            elif model in only:
                print(f"({model}: no data in {args.data}, skipped)\n")
    if "mnist_deep_convnet" in only and not any(m == "mnist_deep_convnet" for m, *_ in done):
        print(f"(mnist_deep_convnet: no data in {args.data}, skipped)\n")
    print_table(results, done)
    print_summary(results, done)
    print(f"\ntotal {time.time() - start:.0f} s; load average at end {load()}")


if __name__ == "__main__":
    main()
