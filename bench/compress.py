#!/usr/bin/env python3
"""compress.py - data-aware compression of real nets without fine-tuning
(docs/compress.md): the layer truncation that preserves the outputs on
calibration inputs (lowrank_svd_data, with the bias shift) against the plain
SVD and the lp factorisation, rank allocation across a whole net, the costs,
and the sensitivity to the defaults.

    make && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/compress.py \
        [--cache bench/compress.json]
        [--calib 1000] [--only MODEL,...] [--parts 1,2,3,4] [--reps 5]

The nets, their test sets and the forward passes are nn_eval's
(../shared/tools/nn_eval.py), imported from its file; the first --calib test
examples (MNIST images, PTB tokens) give the inputs of each layer (as
nn_eval --calib --dump-inputs defines them: one row per input vector, im2col
patches for a convolution, every time step for the LSTM), and every accuracy
is measured on the remaining examples only.  The library is used through the
Python binding (bindings/python), on the build in this tree.

1. One layer at a time, at the ranks of docs/lp.md's table: the SVD (nn_eval's
   svd_rank_k, bias unchanged), the SVD with the bias shift mean(X)(W - W_k),
   the data-aware truncation with its bias shift, and `lowrank lp -p 1` as
   shipped (default options, bias unchanged).  Next to each method's
   accuracy, + or - when its paired difference from the SVD's is significant
   at 5%: McNemar's exact test over the MNIST images; for the PTB next-word
   predictions, which are not independent, a paired bootstrap over the
   35-token windows of each of nn_eval's 10 streams (2000 resamples).
2. Whole nets, every weight matrix compressed at once, at budgets of 20% to
   60% of their stored numbers: the same share for every layer, the ranks of
   lowrank_allocate_ranks, and its ranks with importances probed on the
   calibration examples (probed_allocation), with the data-aware truncation
   and with the plain SVD.  The statistics of every layer come from the
   uncompressed net.
3. Costs per layer: accumulating the statistics, the data-aware truncation,
   and lowrank_svd at the same rank, timed interleaved (median of --reps).
4. Sensitivity: the ridge (LOWRANK_OPT_RIDGE, default 0) and the number of
   calibration examples (100, 300, 1000 of the calibration set; the held-out
   set fixed).
5. A diagnosis for ptb_rnnlm, not a valid compression: the data-aware
   truncation with statistics of the held-out inputs themselves (every 10th
   for the embedding), against the calibration set's, to tell an
   unrepresentative calibration set from a wrong objective.

--cache FILE keeps every score, keyed by the bytes of the replaced arrays
rounded to float32 (and stamped with nn_eval.py's fingerprint), so a rerun
scores only what changed beyond the last bits; approximations are always
recomputed.  ptb_rnnlm scores take 15-50 s
each on 2 cores; an empty cache means about 90 minutes on the shared machine.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy.stats

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILDDIR", SRC)
os.environ.setdefault("LOWRANK_LIBRARY", os.path.join(BUILD, "lib", "liblowrank.so.0"))
sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
import lowrank  # noqa: E402

SHARED = os.path.join(SRC, "..", "shared")
# docs/lp.md's table: nn_eval's full grids for MNIST, its --quick grid for PTB
PLAN = {
    "mnist_simple_convnet": {"W2": [1, 2, 4, 8, 12, 16, 24, 32, 48, 64], "W3": [1, 2, 4, 6, 8]},
    "mnist_mlp": {"W1": [1, 2, 4, 8, 12, 16, 24, 32], "W2": [1, 2, 4, 8, 16, 32]},
    "ptb_rnnlm": {"embed_W": [5, 20, 50, 80], "affine_W": [5, 20, 50, 80],
                  "lstm_Wh": [5, 20, 50, 80]},
}
METHODS = ["SVD", "SVD+bias", "data-aware", "lp"]
BUDGETS = [0.2, 0.3, 0.4, 0.5, 0.6]
RIDGES = [0, 0.01, 0.1, 1, 10]
CALIB_SIZES = [100, 300, 1000]
# part 2's probes: rounds of probing and allocating again; a probe's loss
# gain is taken as at least PROBE_FLOOR (nats), so that no layer's
# importance is 0 for a gain below what 1000 calibration examples resolve
PROBE_ROUNDS = 3
PROBE_FLOOR = 1e-6
# sensitivity cells: the lowest ranks of each layer's grid, where methods differ
SENSITIVITY = {"mnist_simple_convnet": {"W2": [2, 4, 8], "W3": [2, 4, 6]},
               "mnist_mlp": {"W1": [2, 4, 8], "W2": [2, 4, 8]},
               "ptb_rnnlm": {"embed_W": [20], "affine_W": [20], "lstm_Wh": [5]}}


def load_nn_eval(path):
    spec = importlib.util.spec_from_file_location("nn_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fingerprint(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


class Cache:
    """Scores by the bytes of the replacements, in a JSON file when given."""

    def __init__(self, path, stamp):
        self.path, self.data = path, {"stamp": stamp}
        if path and os.path.exists(path):
            with open(path) as f:
                cached = json.load(f)
            if cached.get("stamp") == stamp:
                self.data = cached
            else:
                print(f"({path} was made with another nn_eval.py: not used)")

    @staticmethod
    def key(model, reps):
        h = hashlib.sha1(model.encode())
        for name in sorted(reps):  # to float32: a rebuilt library's last bits reuse the score
            a = np.ascontiguousarray(reps[name], dtype=np.float32)
            h.update(name.encode() + str(a.shape).encode() + a.tobytes())
        return h.hexdigest()

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value):
        self.data[key] = value
        if self.path:
            with open(self.path + ".tmp", "w") as f:
                json.dump(self.data, f)
            os.replace(self.path + ".tmp", self.path)


def pack(hits):
    return np.packbits(hits.astype(bool)).tobytes().hex()


def unpack(text, n):
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), np.uint8))[:n].astype(bool)


class Net:
    """A net of nn_eval's: its weight matrices (2-D forms), the bias each
    one's shift goes to, calibration inputs per layer, and scores on the
    held-out examples with any replacements."""

    def score(self, reps, cache):
        key = Cache.key(self.name, reps)
        hit = cache.get(key)
        if hit is None:
            start = time.time()
            acc, ppl, hits = self.evaluate(reps)
            hit = {"acc": acc, "ppl": ppl, "hits": pack(hits)}
            cache.put(key, hit)
            print(f"  scored {self.name} {','.join(sorted(reps)) or 'baseline'}: acc {acc:.4f}"
                  f" ({time.time() - start:.1f} s)", file=sys.stderr, flush=True)
        return hit["acc"], hit["ppl"], unpack(hit["hits"], self.n_test)

    def stats(self, layer, limit=None):
        """lowrank.Stats of the layer's inputs on the first `limit`
        calibration examples (all by default)."""
        st = None
        for rows in self.calib_batches(layer, limit):
            st = st or lowrank.Stats(rows.shape[1])
            st.add(rows)
        return st

    def calibration_loss(self, reps):
        """The mean cross-entropy of the net with reps on its calibration
        examples (what the probes of part 2 measure)."""
        scores, targets = self.calibration_scores(reps)
        return float(mean_nll(scores, targets).mean())

    def with_shift(self, reps, layer, shift):
        """reps plus the layer's bias changed by shift (where it acts)."""
        name, through = self.bias_of[layer]
        base = reps.get(name, self.params[name])
        add = shift @ reps.get(through, self.params[through]) if through else shift
        out = dict(reps)
        out[name] = (base.astype(np.float64) + add).astype(self.params[name].dtype)
        return out


def mean_nll(scores, targets):
    """Per row, the negative log-likelihood of its target under a softmax."""
    s = scores - scores.max(1, keepdims=True)
    return np.log(np.exp(s).sum(1)) - s[np.arange(len(targets)), targets]


class Mnist(Net):
    def __init__(self, nn, data, name, ncal):
        self.nn, self.name = nn, name
        self.ops = nn.MNIST_NETS[name]
        self.params = nn.load_dir(os.path.join(data, name))
        x, t = nn.mnist_test(data)
        self.cal, self.test, self.labels = x[:ncal], x[ncal:], t[ncal:]
        self.cal_labels = t[:ncal]
        self.n_test = len(self.labels)
        self.layers = [op[1] for op in self.ops if op[0] in ("fc", "conv")]
        self.bias_of = {op[1]: (op[2], None) for op in self.ops if op[0] in ("fc", "conv")}
        self.feats = {}

    def weight(self, layer):
        w = self.params[layer]
        return self.nn.conv_to_2d(w) if w.ndim == 4 else w

    def calib_batches(self, layer, limit=None):
        i = self.nn.op_index(self.ops, layer)
        cal = self.cal[:limit]
        for s in range(0, len(cal), 100):
            rec = {layer: []}
            self.nn.mnist_apply(self.ops[:i + 1], self.params, cal[s:s + 100], rec)
            yield rec[layer][0]

    def with_reps(self, reps):
        q = dict(self.params)
        for name, a in reps.items():
            ref = self.params[name]
            q[name] = self.nn.conv_from_2d(a, ref.shape) if ref.ndim == 4 else a.reshape(ref.shape)
        return q

    def calibration_scores(self, reps):
        return self.nn.mnist_apply(self.ops, self.with_reps(reps), self.cal), self.cal_labels

    def evaluate(self, reps):
        q = self.with_reps(reps)
        i0 = min([self.nn.op_index(self.ops, n) for n in reps], default=len(self.ops))
        if i0 not in self.feats:
            self.feats[i0] = self.nn.batched(
                lambda z: self.nn.mnist_apply(self.ops[:i0], self.params, z), self.test)
        out = self.nn.batched(lambda z: self.nn.mnist_apply(self.ops[i0:], q, z), self.feats[i0])
        hits = out.argmax(1) == self.labels
        return float(hits.mean()), None, hits

    def blocks(self, hits):
        return hits[:, None]  # independent images


class Ptb(Net):
    def __init__(self, nn, data, ncal):
        self.nn, self.name = nn, "ptb_rnnlm"
        self.params = nn.load_dir(os.path.join(data, "ptb_rnnlm"))
        corpus = self.params.pop("ptb.test.ids").astype(np.int64)
        self.cal, self.test = corpus[:ncal], corpus[ncal:]
        self.layers = ["embed_W", "lstm_Wx", "lstm_Wh", "affine_W"]
        # the embedding's output enters the LSTM through Wx: its shift goes there
        self.bias_of = {"embed_W": ("lstm_b", "lstm_Wx"), "lstm_Wx": ("lstm_b", None),
                        "lstm_Wh": ("lstm_b", None), "affine_W": ("affine_b", None)}
        self.hidden = self.nn.rnnlm_hidden(self.params, self.test)
        self.n_test = len(self.hidden[1])
        self.recorded = None

    def weight(self, layer):
        return self.params[layer]

    def calib_batches(self, layer, limit=None):
        if self.recorded is None:
            self.recorded = self.nn.rnnlm_calib_inputs(self.params, self.cal)
        rows = np.concatenate(self.recorded[layer])
        if layer == "embed_W":  # token ids: one-hot rows
            rows = rows[:limit]
            for s in range(0, len(rows), 100):
                ids = rows[s:s + 100]
                onehot = np.zeros((len(ids), len(self.params["embed_W"])))
                onehot[np.arange(len(ids)), ids] = 1
                yield onehot
        else:
            yield rows[:limit].astype(np.float64)

    def calibration_scores(self, reps):
        # the calibration stream read from a zero state, as its inputs were
        q = dict(self.params, **{k: v.astype(np.float32) for k, v in reps.items()})
        hout = self.nn.rnnlm_calib_inputs(q, self.cal)["affine_W"]
        return np.concatenate(hout[:-1]) @ q["affine_W"] + q["affine_b"], self.cal[1:]

    def evaluate(self, reps):
        q = dict(self.params, **{k: v.astype(np.float32) for k, v in reps.items()})
        hs, ts = self.hidden if set(reps) <= {"affine_W", "affine_b"} else \
            self.nn.rnnlm_hidden(q, self.test)
        nll, hits = 0.0, []
        for i in range(0, len(ts), 4000):  # as nn_eval's rnnlm_score, keeping each hit
            s = hs[i:i + 4000] @ q["affine_W"] + q["affine_b"]
            tt = ts[i:i + 4000]
            s = s - s.max(1, keepdims=True)
            nll += float((np.log(np.exp(s).sum(1)) - s[np.arange(len(tt)), tt]).sum())
            hits.append(s.argmax(1) == tt)
        hits = np.concatenate(hits)
        return float(hits.mean()), float(np.exp(nll / len(ts))), hits

    def blocks(self, hits):
        # predictions come step by step for 10 streams: (window, step, stream)
        per = hits[:len(hits) // 350 * 350].reshape(-1, 35, 10)
        return per.transpose(0, 2, 1).reshape(-1, 35)  # one row per stream window


def paired_p(net, a, b, seed=20261128):
    """Two-sided p-value of the paired difference of hit vectors a and b:
    McNemar's exact test for independent examples, a block bootstrap for
    PTB's windows."""
    ba, bb = net.blocks(a), net.blocks(b)
    if ba.shape[1] == 1:
        n01, n10 = int((~a & b).sum()), int((a & ~b).sum())
        if n01 + n10 == 0:
            return 1.0
        return float(scipy.stats.binomtest(n01, n01 + n10, 0.5).pvalue)
    diff = ba.sum(1).astype(float) - bb.sum(1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), (2000, len(diff)))
    means = diff[idx].mean(1)
    below, above = (means <= 0).mean(), (means >= 0).mean()
    return float(min(1.0, 2 * min(below, above)))


def mark(net, hits, base):
    if hits is base:
        return ""
    p = paired_p(net, hits, base)
    if p >= 0.05:
        return ""
    return " +" if hits.mean() > base.mean() else " -"


# ------------------------------------------------------------ approximations

def data_aware(w, st, k, ridge=None):
    """W_k, its bias shift and its squared relative output error."""
    f = lowrank.svd_data(w, st, k, ridge=ridge)
    return f.reconstruct().astype(w.dtype), lowrank.bias_shift(f, w, st.mean), f.error ** 2


def truncated(net, reps, layer, w, st, k, aware, ridge=None):
    """reps plus layer w at rank k, data-aware with its bias shift or by the
    SVD (bias unchanged), and its squared relative output error."""
    if aware:
        wk, shift, e = data_aware(w, st, k, ridge)
        return net.with_shift(dict(reps, **{layer: wk}), layer, shift), e
    f = lowrank.svd(w.astype(np.float64), k, method="exact")
    return dict(reps, **{layer: f.reconstruct().astype(w.dtype)}), f.error ** 2


def shift_of(w, wk, st):
    return st.mean @ (w.astype(np.float64) - wk)


def approximations(net, layer, k, st, nn):
    """{method: replacements} for one layer at rank k."""
    w = net.weight(layer)
    wsvd = nn.svd_rank_k(w, k)[0]
    wd, shift, _ = data_aware(w, st, k)
    wlp = lowrank.lp(w, k, p=1.0).reconstruct().astype(w.dtype)
    return {"SVD": {layer: wsvd},
            "SVD+bias": net.with_shift({layer: wsvd}, layer, shift_of(w, wsvd, st)),
            "data-aware": net.with_shift({layer: wd}, layer, shift),
            "lp": {layer: wlp}}


# ------------------------------------------------------------ part 1

def cell_text(acc, ppl, m):
    return (f"{ppl:.1f} / {acc:.4f}" if ppl else f"{acc:.4f}") + m


def part1(nets, nn, cache):
    print("\n## 1. One layer at a time\n")
    diffs = {m: [] for m in METHODS[1:]}
    print("| model | layer | k | params | " + " | ".join(METHODS) + " |")
    print("|---|---|---|---|" + "---|" * len(METHODS))
    for net in nets:
        acc0, ppl0, _ = net.score({}, cache)
        for layer, ranks in PLAN[net.name].items():
            w = net.weight(layer)
            n, d = w.shape
            st = net.stats(layer)
            print(f"| {net.name} | {layer} {n}x{d} | full | 1 | {cell_text(acc0, ppl0, '')} |"
                  + " |" * (len(METHODS) - 1), flush=True)
            for k in ranks:
                reps = approximations(net, layer, k, st, nn)
                scores = {m: net.score(r, cache) for m, r in reps.items()}
                base = scores["SVD"][2]
                cells = []
                for m in METHODS:
                    acc, ppl, hits = scores[m]
                    sign = mark(net, hits, base)
                    cells.append(cell_text(acc, ppl, sign))
                    if m != "SVD":
                        diffs[m].append((100 * (acc - scores["SVD"][0]), sign, net.name, layer, k))
                print(f"| | | {k} | {k * (n + d) / (n * d):.3f} | " + " | ".join(cells) + " |",
                      flush=True)
    print("\nAgainst the SVD, accuracy points (next-word accuracy for ptb_rnnlm) over the "
          f"{len(diffs['data-aware'])} cells; better/worse: significant at 5%:\n")
    print("| method | cells | better | worse | mean | median | lowest | highest |")
    print("|---|---|---|---|---|---|---|---|")
    for m, ds in diffs.items():
        v = np.array([x[0] for x in ds])
        better = sum(s == " +" for _, s, *_ in ds)
        worse = sum(s == " -" for _, s, *_ in ds)
        print(f"| {m} | {len(v)} | {better} | {worse} | {v.mean():+.2f} | {np.median(v):+.2f} "
              f"| {v.min():+.2f} | {v.max():+.2f} |")
    worst = sorted(diffs["data-aware"])[:3]
    print("\nData-aware's largest losses: " + "; ".join(
        f"{model} {layer} k={k} {d:+.2f}{s}" for d, s, model, layer, k in worst))


# ------------------------------------------------------------ part 2

def uniform_ranks(weights, share):
    ranks = []
    for w in weights:
        n, d = w.shape
        ranks.append(max(1, min(min(n, d), int(share * n * d / (n + d)))))
    return ranks


def kept_whole(w, k):
    """Whether rank k keeps layer w whole (its factors would store as much)."""
    return k >= min(w.shape) or k * sum(w.shape) >= w.size


def stored(weights, ranks):
    total = 0
    for w, k in zip(weights, ranks):
        n, d = w.shape
        total += n * d if kept_whole(w, k) else k * (n + d)
    return total / sum(w.size for w in weights)


def compressed(net, layers, weights, stats, ranks, aware):
    """The replacements; from the last layer back, so that a shift passed
    on through a later layer's weights (PTB's embedding through Wx) meets
    them compressed."""
    reps = {}
    for layer, w, st, k in reversed(list(zip(layers, weights, stats, ranks))):
        if not kept_whole(w, k):
            reps = truncated(net, reps, layer, w, st, k, aware)[0]
    return reps


def probe(net, layers, weights, stats, ranks, aware, base, previous):
    """Each layer's importance at ranks: the calibration loss the net gains
    when that layer alone is compressed (data-aware or by the SVD, at its
    rank), per unit of its squared relative output error.  A layer kept
    whole keeps its previous importance (at first: the median of the
    others')."""
    measured = {}
    for i, (layer, w, st, k) in enumerate(zip(layers, weights, stats, ranks)):
        if kept_whole(w, k):
            continue
        reps, e = truncated(net, {}, layer, w, st, k, aware)
        measured[i] = max(net.calibration_loss(reps) - base, PROBE_FLOOR) / max(e, 1e-300)
    first = statistics.median(measured.values()) if measured else 1.0
    return [measured.get(i, previous[i] if previous else first) for i in range(len(layers))]


def probed_allocation(net, layers, weights, stats, budget, aware):
    """Ranks allocated with importances measured on the calibration set
    (docs/compress.md, section 4): from the same share, PROBE_ROUNDS rounds
    of probing every layer at its rank and allocating again; of the
    allocations met (the same share and the unweighted one included), the
    one with the least calibration loss.  Returns it and its importances."""
    base = net.calibration_loss({})
    inputs = stats if aware else None
    ranks = uniform_ranks(weights, budget)
    tried = [(ranks, None), (lowrank.allocate_ranks(weights, inputs, budget)[0], None)]
    importance = None
    for _ in range(PROBE_ROUNDS):
        importance = probe(net, layers, weights, stats, ranks, aware, base, importance)
        ranks = lowrank.allocate_ranks(weights, inputs, budget, importance=importance)[0]
        tried.append((ranks, importance))
    return min(tried, key=lambda t: net.calibration_loss(
        compressed(net, layers, weights, stats, t[0], aware)))


def probed_ranks(net, layers, weights, stats, budget, aware, notes):
    """probed_allocation's ranks; notes gets a line on where they come from."""
    ranks, importance = probed_allocation(net, layers, weights, stats, budget, aware)
    notes.append(f"{net.name} {budget:.1f}, {'data-aware' if aware else 'SVD'}: " + (
        "importances " + ", ".join(f"{a:.3g}" for a in importance) if importance else
        "the " + ("same share" if ranks == uniform_ranks(weights, budget)
                  else "unweighted allocation")))
    return ranks


def part2(nets, cache):
    print("\n## 2. Whole nets: every weight matrix compressed\n")
    print("| model | budget | variant | stored | ranks | accuracy |")
    print("|---|---|---|---|---|---|")
    chosen = []
    for net in nets:
        layers = net.layers
        weights = [net.weight(layer) for layer in layers]
        stats = [net.stats(layer) for layer in layers]
        acc0, ppl0, _ = net.score({}, cache)
        print(f"| {net.name} | 1 | uncompressed | 1.000 | - | {cell_text(acc0, ppl0, '')} |")
        for budget in BUDGETS:
            uni = uniform_ranks(weights, budget)
            plain = lowrank.allocate_ranks(weights, None, budget)[0]
            alloc = lowrank.allocate_ranks(weights, stats, budget)[0]
            variants = [("SVD, same share", uni, False), ("SVD, allocated", plain, False)]
            probed = [probed_ranks(net, layers, weights, stats, budget, aware, chosen)
                      for aware in (False, True)]
            variants += [("SVD, allocated, probed", probed[0], False),
                         ("data-aware, same share", uni, True),
                         ("data-aware, allocated", alloc, True),
                         ("data-aware, allocated, probed", probed[1], True)]
            base = None
            for label, ranks, aware in variants:
                acc, ppl, hits = net.score(compressed(net, layers, weights, stats, ranks, aware),
                                           cache)
                if label.endswith("same share"):
                    base = hits
                sign = mark(net, hits, base) if "allocated" in label else ""
                print(f"| | {budget:.1f} | {label} | {stored(weights, ranks):.3f} | "
                      f"{','.join(map(str, ranks))} | {cell_text(acc, ppl, sign)} |", flush=True)
    print("\n(+/-: allocated against the same share of the same method, significant at 5%; "
          "ranks in the order " + "; ".join(f"{n.name}: {','.join(n.layers)}" for n in nets)
          + "; a rank of min(n, d) keeps the layer whole)")
    print("\nProbed: the allocation of least calibration loss was made with")
    for line in chosen:
        print(f"- {line}")


# ------------------------------------------------------------ part 3

def timed(f, reps):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def part3(nets, reps):
    print("\n## 3. Costs per layer (seconds, median of %d, interleaved)\n" % reps)
    print("| model | layer | n x d | calibration rows | k | statistics | data-aware | "
          "lowrank_svd | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for net in nets:
        for layer in net.layers:
            w = net.weight(layer)
            batches = list(net.calib_batches(layer))
            rows = sum(len(b) for b in batches)
            k = max(1, min(w.shape) // 5)
            st = net.stats(layer)
            t_stats, t_data, t_svd = [], [], []
            for _ in range(reps):  # interleaved, so that load affects all alike
                t_stats.append(timed(lambda: _add_all(w.shape[0], batches), 1))
                t_data.append(timed(lambda: lowrank.svd_data(w, st, k), 1))
                t_svd.append(timed(lambda: lowrank.svd(w, k), 1))
            ts, td, tv = (statistics.median(t) for t in (t_stats, t_data, t_svd))
            print(f"| {net.name} | {layer} | {w.shape[0]}x{w.shape[1]} | {rows} | {k} | "
                  f"{ts:.4f} | {td:.4f} | {tv:.4f} | {td / tv:.1f} |", flush=True)


def _add_all(dim, batches):
    st = lowrank.Stats(dim)
    for b in batches:
        st.add(b)
    return st


# ------------------------------------------------------------ part 4

def part4(nets, cache):
    print("\n## 4. Sensitivity: the ridge and the number of calibration examples\n")
    cols = [f"ridge {r:g}" for r in RIDGES] + [f"N = {c}" for c in CALIB_SIZES]
    print("| model | layer | k | SVD | " + " | ".join(cols) + " |")
    print("|---|---|---|---|" + "---|" * len(cols))
    for net in nets:
        for layer, ranks in SENSITIVITY[net.name].items():
            w = net.weight(layer)
            cells = {k: [] for k in ranks}

            def score_all(st, ridge=None):
                for k in ranks:
                    reps = truncated(net, {}, layer, w, st, k, True, ridge)[0]
                    acc, ppl, _ = net.score(reps, cache)
                    cells[k].append(cell_text(acc, ppl, ""))

            st = net.stats(layer)  # one at a time: an embedding's takes 800 MB
            for r in RIDGES:
                score_all(st, r)
            for c in CALIB_SIZES:
                st = None
                st = net.stats(layer, c)
                score_all(st)
            st = None
            for k in ranks:
                base = net.score({layer: net.nn.svd_rank_k(w, k)[0]}, cache)
                print(f"| {net.name} | {layer} | {k} | {cell_text(base[0], base[1], '')} | "
                      + " | ".join(cells[k]) + " |", flush=True)


def part5(nets, cache):
    ptb = [n for n in nets if n.name == "ptb_rnnlm"]
    if not ptb:
        return
    net = ptb[0]
    print("\n## 5. ptb_rnnlm with the held-out inputs' own statistics (a diagnosis)\n")
    hs, ts = net.hidden
    oracle_rows = {"affine_W": hs, "lstm_Wh": hs[:-10]}  # h_(t-1): 10 streams back
    print("| layer | k | SVD | data-aware, calibration | data-aware, held-out |")
    print("|---|---|---|---|---|")
    for layer, ranks in PLAN["ptb_rnnlm"].items():
        w = net.weight(layer)
        if layer == "embed_W":
            oracle = lowrank.Stats(w.shape[0])
            ids = net.test[:-1:10]
            for s in range(0, len(ids), 100):
                onehot = np.zeros((len(ids[s:s + 100]), w.shape[0]))
                onehot[np.arange(len(ids[s:s + 100])), ids[s:s + 100]] = 1
                oracle.add(onehot)
        else:
            oracle = lowrank.Stats(w.shape[0]).add(oracle_rows[layer].astype(np.float64))
        calib = net.stats(layer)
        for k in ranks:
            cells = [net.score({layer: net.nn.svd_rank_k(w, k)[0]}, cache)]
            for st in (calib, oracle):
                cells.append(net.score(truncated(net, {}, layer, w, st, k, True)[0], cache))
            print(f"| {layer} | {k} | " + " | ".join(cell_text(a, p, "") for a, p, _ in cells)
                  + " |", flush=True)
        oracle = calib = None


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def blas():
    try:
        return os.path.realpath("/etc/alternatives/libblas.so.3-x86_64-linux-gnu")
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(SHARED, "data", "nn"))
    ap.add_argument("--nn-eval", default=os.path.join(SHARED, "tools", "nn_eval.py"))
    ap.add_argument("--cache", help="JSON file of scores, read and updated")
    ap.add_argument("--calib", type=int, default=1000)
    ap.add_argument("--only", default="mnist_simple_convnet,mnist_mlp,ptb_rnnlm")
    ap.add_argument("--parts", default="1,2,3,4,5")
    ap.add_argument("--reps", type=int, default=5, help="timing repetitions (part 3)")
    args = ap.parse_args()
    nn = load_nn_eval(args.nn_eval)
    cache = Cache(args.cache, fingerprint(args.nn_eval))
    parts = {int(p) for p in args.parts.split(",")}
    start = time.time()
    print(f"# Data-aware compression, {time.strftime('%Y-%m-%d %H:%M')}, liblowrank "
          f"{lowrank.version()}, BLAS {blas()}")
    print(f"data {os.path.abspath(args.data)}; calibration: the first {args.calib} test examples; "
          f"load average at start {load()}")
    nets = []
    for name in args.only.split(","):
        if not os.path.isdir(os.path.join(args.data, name)):
            print(f"({name}: no data, skipped)")
        elif name == "ptb_rnnlm":
            nets.append(Ptb(nn, args.data, args.calib))
        elif name in PLAN:
            nets.append(Mnist(nn, args.data, name, args.calib))
    for net in nets:
        acc, ppl, _ = net.score({}, cache)
        print(f"{net.name}: baseline {cell_text(acc, ppl, '')} on {net.n_test} held-out "
              f"{'predictions' if ppl else 'images'}")
    if 1 in parts:
        part1(nets, nn, cache)
    if 2 in parts:
        part2(nets, cache)
    if 3 in parts:
        part3(nets, args.reps)
    if 4 in parts:
        part4([n for n in nets if n.name in SENSITIVITY], cache)
    if 5 in parts:
        part5(nets, cache)
    print(f"\ntotal {time.time() - start:.0f} s; load average at end {load()}")


if __name__ == "__main__":
    main()
