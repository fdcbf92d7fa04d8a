"""Evaluation arithmetic: ROC AUC, TPR at a fixed FPR, rates and latency percentiles."""

from __future__ import annotations

import numpy as np


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random attack outscores a random benign mail (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    values = np.concatenate([pos, neg])
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    """Best share of attacks caught by a threshold that flags at most ``fpr`` of benign mail."""
    benign = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(fpr * len(benign)))
    # Flag strictly above the (allowed+1)-th highest benign score.
    cut = benign[allowed] if allowed < len(benign) else -np.inf
    return float((scores[labels == 1] > cut).mean())


def rate(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000, q))


def pct(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.1f}%"
