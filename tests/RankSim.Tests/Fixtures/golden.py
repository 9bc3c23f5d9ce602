#!/usr/bin/env python3
"""Recompute the expected values of the golden fixtures in this folder from their inputs.

Environment (exactly what this was run with; Debian 12 packages, no pip):
    apt-get install python3 python3-numpy python3-scipy python3-torch
    -> Python 3.11.2, NumPy 1.24.2, SciPy 1.10.1, PyTorch 1.13.1 (CPU; Debian's build reports 1.13.0a0)
    (run as /usr/bin/python3 where another Python comes first on PATH)

Usage, from the repository root:
    python3 tests/RankSim.Tests/Fixtures/golden.py            # check: recompute, compare, exit 1 on a difference
    python3 tests/RankSim.Tests/Fixtures/golden.py --write    # rewrite every expected value (inputs stay as they are)

The inputs (scores, features, labels, predictions, label lists) are data stored in the JSON files; this script derives
every expected value from them with an independent implementation of the published formulas, written for this
repository (MIT) from the papers, not from any research code:

- ranksim_official.json: RankSim (Gong, Mori, Tung, ICML 2022, Eq. 2-3) with the blackbox ranker of Vlastelica et al.
  (ICLR 2020): rk(s) = (position in descending order + 1) / N; backward -(rk(s) - rk(s + lambda g)) / (lambda + 1e-8);
  per anchor the MSE of the feature-similarity ranks (cosine) against the label-similarity ranks (-|y_i - y_j|), summed
  over anchors. The file was first produced by the reference PyTorch implementation (float32, CPU); this script
  reproduces those values in float32 within the tests' tolerance (1e-5).
- loss_reference.json: weighted MSE / L1 / Huber, Focal-R (Yang et al., ICML 2021), Balanced MSE BMC and GAI (Ren et
  al., CVPR 2022, Eq. 8 and the GMM form), in float64.
- lds_reference.json: LDS kernel windows (gaussian = scipy's gaussian_filter1d of an impulse, truncate 4.0, mode
  reflect; triang; laplace) and the SQINV / INV re-weighting with and without LDS (Yang et al., ICML 2021), in float64
  (the stored per-sample weights have float32 precision, so they are compared at 1e-6 relative, as the tests do).

Checked on 2026-11-29 with the environment above: every expected value of the three files recomputed within the
tests' tolerances (ranksim 1e-5; per-sample weights 1e-6 relative; everything else 1e-12 relative).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- RankSim (float32)
def ranks(scores):
    """Row-wise normalised descending ranks: (position + 1) / N, position 0 = largest (inputs have no ties)."""
    n = scores.shape[-1]
    order = torch.argsort(scores, dim=-1, descending=True)
    positions = torch.empty_like(order)
    positions.scatter_(-1, order, torch.arange(n).expand_as(order))
    return (positions + 1).to(scores.dtype) / n


class BlackboxRank(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, lam):
        r = ranks(scores)
        ctx.lam = lam
        ctx.save_for_backward(scores, r)
        return r

    @staticmethod
    def backward(ctx, grad):
        scores, r = ctx.saved_tensors
        perturbed = scores + ctx.lam * grad
        return -(r - ranks(perturbed)) / (ctx.lam + 1e-8), None


def ranksim_loss(features, labels, lam):
    f = torch.nn.functional.normalize(features.reshape(features.shape[0], -1), dim=1)
    similarity = f @ f.t()
    y = labels.reshape(-1, 1)
    label_ranks = ranks(-(y - y.t()).abs())
    loss = 0.0
    for i in range(similarity.shape[0]):
        feature_ranks = BlackboxRank.apply(similarity[i:i + 1], lam)
        loss = loss + torch.nn.functional.mse_loss(feature_ranks, label_ranks[i:i + 1])
    return loss


def ranksim_case(case):
    lam = case["interpolation_lambda"]
    if case["kind"] == "ranker":
        scores = torch.tensor(case["scores"], dtype=torch.float32).reshape(case["shape"]).requires_grad_()
        r = BlackboxRank.apply(scores, lam)
        r.backward(torch.tensor(case["grad_output"], dtype=torch.float32).reshape(case["shape"]))
        return {"ranks": r.detach().flatten().tolist(), "scores_grad": scores.grad.flatten().tolist()}
    features = torch.tensor(case["features"], dtype=torch.float32).reshape(case["feature_shape"]).requires_grad_()
    labels = torch.tensor(case["labels"], dtype=torch.float32)
    loss = ranksim_loss(features, labels, lam)
    loss.backward()
    return {"loss": loss.item(), "features_grad": features.grad.flatten().tolist()}


# ---------------------------------------------------------------- regression losses (float64)
def regression_case(data, case):
    pred = np.array(data["pred"], dtype=np.float64)
    target = np.array(data["target"], dtype=np.float64)
    w = np.array(data["weights"], dtype=np.float64)
    e = pred - target
    a = np.abs(e)
    name = case["name"]
    if name == "weighted_mse":
        return {"value": float(np.mean(w * e * e))}
    if name == "weighted_l1":
        return {"value": float(np.mean(w * a))}
    if name.startswith("weighted_huber"):
        beta = case["beta"]
        return {"value": float(np.mean(w * np.where(a < beta, 0.5 * e * e / beta, a - 0.5 * beta)))}
    if name.startswith("weighted_focal"):
        beta, gamma = case["beta"], case["gamma"]
        modulation = np.tanh(beta * a) if case["activate"] == "tanh" else 2 / (1 + np.exp(-beta * a)) - 1
        base = a if "_l1_" in name else e * e
        return {"value": float(np.mean(w * base * modulation ** gamma))}
    if name.startswith("bmc"):
        p = torch.tensor(pred, requires_grad=True)
        var = torch.tensor(case["noise_var"], dtype=torch.float64, requires_grad=True)
        logits = -(p.reshape(-1, 1) - torch.tensor(target).reshape(1, -1)) ** 2 / (2 * var)
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(pred))) * (2 * var.detach())
        loss.backward()
        return {"value": loss.item(), "pred_grad": p.grad.tolist(), "noise_var_grad": var.grad.item()}
    if name.startswith("gai"):
        var = case["noise_var"]
        gmm = case["gmm"]
        means = np.array(gmm["means"])[None, :]
        component_vars = np.array(gmm["variances"])[None, :] + var
        log_weights = np.log(np.array(gmm["weights"]))[None, :]
        mse = e ** 2 / (2 * var) + 0.5 * math.log(var)
        terms = -0.5 * np.log(component_vars) - (pred[:, None] - means) ** 2 / (2 * component_vars) + log_weights
        top = terms.max(axis=1, keepdims=True)
        balancing = (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True)))[:, 0]
        return {"value": float(np.mean((mse + balancing) * 2 * var))}
    raise ValueError(f"unknown loss case {name}")


# ---------------------------------------------------------------- LDS (float64)
def window(kernel, size, sigma):
    half = (size - 1) // 2
    if kernel == "gaussian":
        impulse = np.zeros(size)
        impulse[half] = 1.0
        w = gaussian_filter1d(impulse, sigma=sigma, truncate=4.0, mode="reflect")
    elif kernel == "triang":
        w = triang(size)
    elif kernel == "laplace":
        x = np.arange(-half, half + 1, dtype=np.float64)
        w = np.exp(-np.abs(x) / sigma) / (2.0 * sigma)
    else:
        raise ValueError(kernel)
    return w


def kernel_case(case):
    w = window(case["kernel"], case["size"], case["sigma"])
    return {"lds_window_max_normalised": (w / w.max()).tolist(), "fds_window_sum_normalised": (w / w.sum()).tolist()}


def reweighting_case(reweighting, case):
    labels = np.minimum(np.array(reweighting["labels"], dtype=np.int64), 30)
    counts = np.bincount(labels, minlength=31).astype(np.float64)
    effective = np.sqrt(counts) if case["reweight"] == "sqrt_inv" else np.clip(counts, 5, 1000)
    result = {"smoothed_effective_counts": None}
    if case["lds"]:
        w = window(case["kernel"], case["size"], case["sigma"])
        effective = convolve1d(effective, weights=w / w.max(), mode="constant")
        result["smoothed_effective_counts"] = effective.tolist()
    per_sample = 1.0 / effective[labels]
    result["weights"] = (per_sample * len(per_sample) / per_sample.sum()).tolist()
    return result


# ---------------------------------------------------------------- driver
KEY_TOLERANCE = {"weights": 1e-6}


def compare(expected, actual, path, tolerance, problems):
    if isinstance(expected, dict):
        for key, value in actual.items():
            compare(expected.get(key), value, f"{path}.{key}", KEY_TOLERANCE.get(key, tolerance), problems)
    elif isinstance(actual, list):
        if expected is None or len(expected) != len(actual):
            problems.append(f"{path}: length {None if expected is None else len(expected)} != {len(actual)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}[{i}]", tolerance, problems)
    elif actual is None or expected is None:
        if actual != expected:
            problems.append(f"{path}: {expected} != {actual}")
    elif abs(expected - actual) > tolerance * max(1.0, abs(expected)):
        problems.append(f"{path}: expected {expected!r}, recomputed {actual!r}")


def main():
    write = "--write" in sys.argv
    torch.manual_seed(0)
    problems = []
    files = {
        "ranksim_official.json": (lambda d: [(c, ranksim_case(c)) for c in d["cases"]], 1e-5),
        "loss_reference.json": (lambda d: [(c, regression_case(d, c)) for c in d["cases"]], 1e-12),
        "lds_reference.json": (
            lambda d: [(c, kernel_case(c)) for c in d["kernels"]]
            + [(c, reweighting_case(d["reweighting"], c)) for c in d["reweighting"]["cases"]],
            1e-12,
        ),
    }
    for name, (recompute, tolerance) in files.items():
        path = HERE / name
        data = json.loads(path.read_text())
        for case, values in recompute(data):
            label = case.get("name") or f"{case.get('kernel')}/{case.get('reweight')}/{case.get('size')}/{case.get('sigma')}"
            if write:
                case.update(values)
            else:
                compare(case, values, f"{name}:{label}", tolerance, problems)
        if write:
            # Keep each file's layout: ranksim_official.json is one line, the others are indented by one space.
            text = path.read_text()
            path.write_text(json.dumps(data, indent=1 if text.startswith("{\n") else None) + ("\n" if text.endswith("\n") else ""))
    for problem in problems:
        print(problem)
    print(f"{'written' if write else 'checked'}: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
