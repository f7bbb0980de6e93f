"""Accuracy, macro-F1, per-class precision/recall, confusion, ECE, temperature fitting and the
paired McNemar test."""
from __future__ import annotations

import math
from typing import Dict

import numpy as np

from . import LABELS


def log_softmax(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    return np.exp(log_softmax(logits, t))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising NLL of softmax(logits / T): a fine grid is exact enough and cannot diverge."""
    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 400))
    losses = [nll(softmax(logits, t), labels) for t in grid]
    return float(grid[int(np.argmin(losses))])


def summarize(probs: np.ndarray, labels: np.ndarray) -> Dict:
    k = len(LABELS)
    pred = probs.argmax(1)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (labels, pred), 1)
    per = {}
    f1s = []
    for i, name in enumerate(LABELS):
        tp = conf[i, i]
        p = tp / max(conf[:, i].sum(), 1)
        r = tp / max(conf[i, :].sum(), 1)
        f1 = 2 * p * r / max(p + r, 1e-12)
        f1s.append(f1)
        per[name] = {"precision": float(p), "recall": float(r), "f1": float(f1), "support": int(conf[i, :].sum())}
    return {
        "n": int(len(labels)),
        "accuracy": float((pred == labels).mean()),
        "macroF1": float(np.mean(f1s)),
        "ece": ece(probs, labels),
        "nll": nll(probs, labels),
        "perClass": per,
        "confusion": conf.tolist(),
    }


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> Dict:
    """Exact two-sided McNemar test of two classifiers on the same samples: only the samples one
    gets right and the other wrong count, and under "equally accurate" each such sample is a fair
    coin. The p-value is the exact binomial tail, doubled (no normal approximation: the counts can
    be small)."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"mcnemar: {a.shape} against {b.shape} samples; both must score the same samples")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1))
    # int / int: Python divides big integers exactly rounded, where 2.0 ** n would overflow past n ~ 1000
    p = min(1.0, 2 * tail / 2**n)
    return {"onlyA": only_a, "onlyB": only_b, "p": p}
