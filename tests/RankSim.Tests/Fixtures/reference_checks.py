"""Reference checks: tie order of PyTorch's descending rank, RankSim loss under
three tie rules, and LDS re-weighting with an integer count array in SciPy.

Usage (from the repository root):

    /usr/bin/python3 tests/RankSim.Tests/Fixtures/reference_checks.py

Environment the recorded numbers come from (Debian 12 "bookworm" packages,
installed with `apt-get install python3-torch python3-scipy python3-numpy`):

    python3.11     3.11.2-6+deb12u6   (sys.version 3.11.2)
    python3-numpy  1:1.24.2-1+deb12u1 (numpy.__version__ 1.24.2)
    python3-scipy  1.10.1-2           (scipy.__version__ 1.10.1)
    python3-torch  1.13.1+dfsg-4      (torch.__version__ reports "1.13.0a0"), CPU only

The script prints the versions it actually runs with.

Written from the papers' descriptions only, not from any research code:
  * RankSim: Gong, Mori, Tung, "RankSim: Ranking Similarity Regularization for
    Deep Imbalanced Regression", ICML 2022 -- for each anchor i, rank the row
    of feature similarities (cosine) and the row of label similarities
    (s_ij = -|y_i - y_j|) in descending order, normalise ranks to
    (position+1)/N, and penalise the squared difference of the two rank rows.
  * LDS: Yang, Zha, Chen, Wang, Katabi, "Delving into Deep Imbalanced
    Regression", ICML 2021 -- smooth the per-bin label counts with a Gaussian
    kernel (here: size 5, sigma 2, max-normalised, mode 'constant') and weight
    each sample by the inverse of the smoothed count of its bin.

Part 1 measures which of two tied elements gets the better (smaller) rank when
the descending order is built as torch.argsort(x, dim=1).flip(1).
Part 2 shows that scipy.ndimage.convolve1d keeps the input dtype, so an
integer count array is smoothed into a truncated integer array, and measures
the effect of that on the per-sample weights.
"""

import json
import os
import sys

import numpy as np
import scipy
import scipy.ndimage
import torch

torch.set_num_threads(1)  # keep it light; results do not depend on it

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
HIST = os.path.join(REPO, "samples", "DirExperiment", "Data", "agedb_dir_label_histogram.json")


def f64(x):
    """float64 printout of a float32 scalar."""
    return repr(float(np.float64(np.float32(x))))


# --------------------------------------------------------------------------
# Part 1: tie order
# --------------------------------------------------------------------------

def positions_from_order(order):
    """order[r, p] = index at descending position p -> pos[r, index] = p."""
    pos = torch.empty_like(order)
    ar = torch.arange(order.shape[1]).expand_as(order)
    pos.scatter_(1, order, ar)
    return pos


def tie_stats(x, order):
    """For every group of exactly equal values in every row, compare the
    descending positions of tied elements in index order.
    Returns (adjacent pairs where the earlier index ranks first,
             adjacent pairs where the later index ranks first,
             groups fully earlier-first, groups fully later-first, mixed groups)."""
    pos = positions_from_order(order).numpy()
    xs = x.numpy()
    earlier = later = g_e = g_l = g_m = 0
    for r in range(xs.shape[0]):
        row = xs[r]
        vals, inv, cnt = np.unique(row, return_inverse=True, return_counts=True)
        for g in np.nonzero(cnt > 1)[0]:
            idx = np.nonzero(inv == g)[0]  # ascending index order
            d = np.diff(pos[r, idx])
            e, l = int((d > 0).sum()), int((d < 0).sum())
            earlier += e
            later += l
            if l == 0:
                g_e += 1
            elif e == 0:
                g_l += 1
            else:
                g_m += 1
    return earlier, later, g_e, g_l, g_m


def verdict(e, l):
    if e == 0 and l == 0:
        return "no ties"
    if e == 0:
        return "later index ranks first"
    if l == 0:
        return "earlier index ranks first"
    return "mixed"


def tie_inputs(n):
    """Named float32 [rows, n] inputs with many exact ties."""
    out = []
    a = n // 2 - 1
    y = torch.arange(n, dtype=torch.float32)
    out.append((f"-|arange({n}) - {a}| (1 row)", (-(y - a).abs()).unsqueeze(0)))
    g = torch.Generator().manual_seed(0)
    yi = torch.randint(0, 10, (n,), generator=g).to(torch.float32)
    out.append((f"-|y - y[0]|, y = randint(0,10,({n},)) seed 0 (1 row)",
                (-(yi - yi[0]).abs()).unsqueeze(0)))
    out.append((f"zeros(1, {n})", torch.zeros(1, n)))
    rows = min(n, 256)  # label-similarity matrix rows, as in a batch
    out.append((f"S[i,j] = -|y_i - y_j|, same y, rows i < {rows} ([{rows}, {n}])",
                -(yi[:rows, None] - yi[None, :]).abs()))
    return out


def part1():
    print("=" * 78)
    print("PART 1: tie order of torch.argsort(x, dim=1).flip(1) (torch CPU, float32)")
    print("=" * 78)
    try:
        torch.argsort(torch.zeros(1, 3), dim=1, stable=True)
        has_stable = True
    except TypeError as ex:
        has_stable = False
        print("torch.argsort(..., stable=True) raises:", ex)
    print("torch.argsort(..., stable=True) exists:", has_stable)
    print()

    methods = [
        ("argsort(x, dim=1).flip(1)  [default, stable=False]",
         lambda x: torch.argsort(x, dim=1).flip(1)),
        ("argsort(x, dim=1, descending=True)",
         lambda x: torch.argsort(x, dim=1, descending=True)),
    ]
    if has_stable:
        methods += [
            ("argsort(x, dim=1, stable=True).flip(1)",
             lambda x: torch.argsort(x, dim=1, stable=True).flip(1)),
            ("argsort(-x, dim=1, stable=True)",
             lambda x: torch.argsort(-x, dim=1, stable=True)),
            ("argsort(x, dim=1, descending=True, stable=True)",
             lambda x: torch.argsort(x, dim=1, descending=True, stable=True)),
        ]

    # The 6-element row in full, so the order can be read directly.
    x6 = (-(torch.arange(6, dtype=torch.float32) - 2).abs()).unsqueeze(0)
    print("Example row (N=6): x =", x6[0].tolist())
    for name, fn in methods:
        print(f"  {name:50s} descending order of indices = {fn(x6)[0].tolist()}")
    print()

    summary = {}
    for n in (6, 64, 2000):
        print(f"--- N = {n} ---")
        for iname, x in tie_inputs(n):
            print(f"  input: {iname}")
            for mname, fn in methods:
                e, l, ge, gl, gm = tie_stats(x, fn(x))
                v = verdict(e, l)
                print(f"    {mname:50s} adjacent tied pairs earlier-first={e:7d} later-first={l:7d}"
                      f"  groups earlier/later/mixed={ge}/{gl}/{gm}  -> {v}")
                summary.setdefault((n, mname), set()).add(v)
        print()
    # Where the default (stable=False) sort stops matching the stable one.
    same = []
    for n in range(2, 41):
        y = torch.arange(n, dtype=torch.float32)
        rows = [torch.zeros(1, n), (-(y - (n // 2 - 1)).abs()).unsqueeze(0)]
        same.append((n, all(bool((torch.argsort(r, dim=1) == torch.argsort(r, dim=1, stable=True)).all())
                            for r in rows)))
    print("default argsort == stable argsort on zeros(1,N) and -|arange(N) - (N//2-1)|:")
    print("  equal for N =", [n for n, ok in same if ok])
    print("  differ for N =", [n for n, ok in same if not ok])
    x = tie_inputs(2000)[3][1]
    print("default argsort repeatable (same [256, 2000] input sorted 3 times gives the same order):",
          all(bool((torch.argsort(x, dim=1) == torch.argsort(x, dim=1)).all()) for _ in range(3)))
    print()
    print("Summary per N and method (over all inputs above):")
    for (n, mname), vs in summary.items():
        vs = vs - {"no ties"}
        print(f"  N={n:5d}  {mname:50s} {' / '.join(sorted(vs))}")
    print()
    return has_stable


# --------------------------------------------------------------------------
# Part 1b: RankSim loss under three tie rules
# --------------------------------------------------------------------------

def rank_A(x):
    """Reference tie behaviour: descending order from argsort(x).flip(1)."""
    n = x.shape[1]
    pos = positions_from_order(torch.argsort(x, dim=1).flip(1))
    return (pos + 1).to(torch.float32) / n


def rank_B(x):
    """Ties broken by index: the earlier index gets the better rank."""
    n = x.shape[1]
    pos = positions_from_order(torch.argsort(-x, dim=1, stable=True))
    return (pos + 1).to(torch.float32) / n


def rank_C(x):
    """Tied values share the average of their ranks."""
    n = x.shape[1]
    greater = (x[:, None, :] > x[:, :, None]).sum(2).to(torch.float32)  # [r, i]
    equal = (x[:, None, :] == x[:, :, None]).sum(2).to(torch.float32)
    return (greater + (equal + 1) / 2) / n


def ranksim_loss(features, y, rank):
    fn = torch.nn.functional.normalize(features, dim=1)
    sim_f = fn @ fn.T
    sim_y = -(y[:, None] - y[None, :]).abs()
    rf, ry = rank(sim_f), rank(sim_y)
    per_anchor = ((rf - ry) ** 2).mean(1)
    return per_anchor.sum(), sim_f, sim_y


def ties_per_anchor(s):
    out = []
    for i in range(s.shape[0]):
        row = s[i].tolist()
        groups = {}
        for j, v in enumerate(row):
            groups.setdefault(v, []).append(j)
        tied = [g for g in groups.values() if len(g) > 1]
        if tied:
            out.append((i, tied))
    return out


def part1b(has_stable):
    print("=" * 78)
    print("PART 1b: RankSim loss (sum over anchors of mean_j (rank_f - rank_y)^2)")
    print("=" * 78)
    if not has_stable:
        print("variant B needs argsort(stable=True); skipped")
        return
    cases = [
        ("y = [1, 3, 4, 7, 10, 15]; manual_seed(0); randn(6, 4)",
         [1, 3, 4, 7, 10, 15], 0, 6),
        ("y = 0..7; manual_seed(1); randn(8, 4)", list(range(8)), 1, 8),
    ]
    for name, ys, seed, n in cases:
        y = torch.tensor(ys, dtype=torch.float32)
        torch.manual_seed(seed)
        feats = torch.randn(n, 4)
        print(f"case: {name}")
        print("  features =", [[float(v) for v in r] for r in feats.tolist()])
        la, sim_f, sim_y = ranksim_loss(feats, y, rank_A)
        lb, _, _ = ranksim_loss(feats, y, rank_B)
        lc, _, _ = ranksim_loss(feats, y, rank_C)
        ty = ties_per_anchor(sim_y)
        tf = ties_per_anchor(sim_f)
        print("  label-similarity ties (anchor: tied index groups):",
              "; ".join(f"{i} (y={ys[i]}): {g}" for i, g in ty) or "none")
        print("  feature-similarity ties (exact float32):",
              "; ".join(f"{i}: {g}" for i, g in tf) or "none")
        print("  label ranks A (argsort.flip):\n   ", rank_A(sim_y).tolist())
        print("  label ranks B (earlier first):\n   ", rank_B(sim_y).tolist())
        print("  label ranks C (average):\n   ", rank_C(sim_y).tolist())
        print("  feature ranks A:\n   ", rank_A(sim_f).tolist())
        print(f"  loss A (argsort(x).flip(1), reference ties) = {f64(la)}")
        print(f"  loss B (stable, earlier index first)         = {f64(lb)}")
        print(f"  loss C (average rank for ties)               = {f64(lc)}")
        print()


# --------------------------------------------------------------------------
# Part 2: LDS with an integer count array
# --------------------------------------------------------------------------

def lds_window(ks=5, sigma=2.0):
    impulse = np.zeros(ks)
    impulse[ks // 2] = 1.0
    base = scipy.ndimage.gaussian_filter1d(impulse, sigma=sigma, truncate=4.0)
    return base / base.max()


def sample_weights(counts, reweight, as_float, window):
    """counts: per-bin ints. Samples: counts[b] samples with label b."""
    c = np.asarray(list(counts))  # Python ints -> integer numpy array
    if reweight == "inverse":
        c = np.clip(c, 5, 1000)
    elif reweight == "sqrt_inv":
        c = np.sqrt(c)
    if as_float:
        c = c.astype(float)
    smoothed = scipy.ndimage.convolve1d(c, window, mode="constant")
    labels = np.repeat(np.arange(len(counts)), counts)
    w = 1.0 / smoothed[labels]
    w = w * (len(w) / w.sum())
    return c, smoothed, w


def part2():
    print("=" * 78)
    print("PART 2: LDS, scipy.ndimage.convolve1d on an integer count array")
    print("=" * 78)
    window = lds_window()
    print("window (gaussian_filter1d of unit impulse, size 5, sigma 2, truncate 4.0, / max):")
    print("  ", [repr(float(v)) for v in window])
    demo = np.asarray([50, 30, 20, 12, 8, 5, 3, 2, 1, 1])
    ri = scipy.ndimage.convolve1d(demo, window, mode="constant")
    rf = scipy.ndimage.convolve1d(demo.astype(float), window, mode="constant")
    print("counts dtype:", demo.dtype)
    print("convolve1d(int counts)   dtype:", ri.dtype, "values:", ri.tolist())
    print("convolve1d(float counts) dtype:", rf.dtype, "values:", [round(v, 6) for v in rf.tolist()])
    print("float values truncated toward zero == int result:", bool(np.array_equal(np.trunc(rf), ri)),
          "| rounded == int result:", bool(np.array_equal(np.round(rf), ri)))
    print("np.clip(int counts, 5, 1000) dtype:", np.clip(demo, 5, 1000).dtype,
          "| np.sqrt(int counts) dtype:", np.sqrt(demo).dtype)
    print()

    with open(HIST) as fh:
        hist = json.load(fh)
    ages = hist["ages"]
    assert ages == list(range(len(ages)))
    cases = [("(a) small: counts per bin 0..9", [50, 30, 20, 12, 8, 5, 3, 2, 1, 1])]
    for split in ("train", "val", "test"):
        counts = list(hist[split]) + [0] * (121 - len(hist[split]))
        cases.append((f"(b) AgeDB-DIR {split} histogram ({len(hist[split])} ages 0..{ages[-1]}"
                      f" in the JSON, zero-padded to 121 bins 0..120; {sum(counts)} samples)", counts))
    print(f"histogram JSON: {os.path.relpath(HIST, REPO)} (keys: {', '.join(hist)})")
    print()
    train = list(hist["train"])
    for rw in ("inverse", "sqrt_inv"):
        w121 = sample_weights(train + [0] * (121 - len(train)), rw, False, window)[2]
        w102 = sample_weights(train, rw, False, window)[2]
        print(f"train, {rw}, integer path: max |w(121 bins) - w({len(train)} bins)| = "
              f"{repr(float(np.abs(w121 - w102).max()))}")
    print()
    for name, counts in cases:
        print(name)
        for rw in ("inverse", "sqrt_inv"):
            ci, si, wi = sample_weights(counts, rw, False, window)
            cf, sf, wf = sample_weights(counts, rw, True, window)
            diff = np.abs(wi - wf)
            occupied = np.asarray(counts) > 0
            print(f"  {rw:8s}: pre-smoothing dtype={ci.dtype}, smoothed dtype={si.dtype}"
                  f" (float path: {sf.dtype})")
            print(f"            max |smoothed_int - smoothed_float| over occupied bins = "
                  f"{repr(float(np.abs(si - sf)[occupied].max()))}")
            print(f"            max |w_int - w_float| over samples = {repr(float(diff.max()))}"
                  f"  (relative: {repr(float((diff / wf).max()))});"
                  f" weight range float = [{repr(float(wf.min()))}, {repr(float(wf.max()))}]")
            if name.startswith("(a)"):
                print("            smoothed int  :", si.tolist())
                print("            smoothed float:", [round(v, 6) for v in sf.tolist()])
                print("            per-bin weight int  :",
                      [round(float(wi[np.repeat(np.arange(10), counts) == b][0]), 6) for b in range(10)])
                print("            per-bin weight float:",
                      [round(float(wf[np.repeat(np.arange(10), counts) == b][0]), 6) for b in range(10)])
        print()


def main():
    print("python", sys.version.split()[0], "| numpy", np.__version__, "| scipy", scipy.__version__,
          "| torch", torch.__version__, "| torch threads", torch.get_num_threads())
    print()
    has_stable = part1()
    part1b(has_stable)
    part2()


if __name__ == "__main__":
    main()
