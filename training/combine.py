"""Joins window and span scores into one mail score: picks the span offset, the calibration and
the threshold on the validation split."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

TARGET_FPR = 0.01
# Candidate logit offsets for spans: a short span holds fewer n-grams, so its logit is noisier.
OFFSETS = tuple(round(x, 2) for x in np.arange(-3.0, 4.01, 0.1))


def margins(windows: np.ndarray, spans: np.ndarray, offset: float) -> np.ndarray:
    """Each mail's logit as the detector sees it: its best window or offset span."""
    out: np.ndarray = np.maximum(windows, spans - offset)
    return out


def pick_offset(windows: np.ndarray, spans: np.ndarray, labels: np.ndarray) -> float:
    """The offset with the best validation TPR at ``TARGET_FPR``; the largest such on ties, so
    spans only add what windows miss."""
    scored = [(tpr_at(margins(windows, spans, o), labels), o) for o in OFFSETS]
    return max(scored)[1]


def tpr_at(scores: np.ndarray, labels: np.ndarray) -> float:
    """Share of attacks above the threshold that flags at most ``TARGET_FPR`` of benign mail."""
    return float((scores[labels == 1] >= threshold(scores[labels == 0])).mean())


def calibrate(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling of the mail-level logit on the validation split."""
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), labels)
    return float(platt.coef_[0][0]), float(platt.intercept_[0])


def threshold(benign: np.ndarray) -> float:
    """The smallest score that flags at most ``TARGET_FPR`` of validation benign mail."""
    ranked = np.sort(benign)[::-1]
    allowed = int(np.floor(TARGET_FPR * len(ranked)))
    return float(np.nextafter(ranked[allowed], np.inf))
