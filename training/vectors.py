"""Vocabulary selection and the sparse training matrix, built with the runtime featurizer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

from mailmoat.scanner.domain.learned.features import Featurizer, char_grams, word_grams
from training.windowing import Window

MIN_DF = 3
MAX_WORDS = 60_000
MAX_CHARS = 140_000


@dataclass(frozen=True)
class Matrix:
    """Window vectors (CSR), their labels, and the mail each window belongs to."""

    matrix: sp.csr_matrix
    labels: np.ndarray
    examples: np.ndarray


def build_featurizer(windows: list[Window], floor_quantile: float = 0.0) -> Featurizer:
    """Keeps the grams most typical of either class (document frequency per class), so rare
    attack phrasing is not crowded out by the much larger benign side."""
    counts = {kind: (Counter[str](), Counter[str]()) for kind in ("word", "char")}
    for window in windows:
        parts = window.norm.split("\n")  # a window's spans, read on their own as at run time
        counts["word"][window.label].update({g for p in parts for g in word_grams(p)})
        counts["char"][window.label].update({g for p in parts for g in char_grams(p)})
    sizes = (sum(w.label == 0 for w in windows), sum(w.label == 1 for w in windows))
    words = _select(counts["word"], sizes, MAX_WORDS)
    chars = _select(counts["char"], sizes, MAX_CHARS)
    df = [counts["word"][0][g] + counts["word"][1][g] for g in words]
    df += [counts["char"][0][g] + counts["char"][1][g] for g in chars]
    idf = np.log((1 + len(windows)) / (1 + np.asarray(df, np.float64))) + 1.0
    word_index = {g: i for i, g in enumerate(words)}
    char_index = {g: len(words) + i for i, g in enumerate(chars)}
    featurizer = Featurizer(word_index, char_index, idf.astype(np.float32))
    if not floor_quantile:
        return featurizer
    spans = [w.norm for w in windows if "\n" not in w.norm][:: max(1, len(windows) // 20_000)]
    norms = [_raw_norm(featurizer, norm) for norm in spans]
    floor = float(np.quantile([n for n in norms if n > 0], floor_quantile))
    return replace(featurizer, floor=floor)


def _raw_norm(featurizer: Featurizer, norm: str) -> float:
    """The length of a span's TF-IDF vector before normalisation."""
    cols, counts = np.unique(featurizer.grams(norm), return_counts=True)
    return (
        float(np.linalg.norm((1.0 + np.log(counts)) * featurizer.idf[cols])) if cols.size else 0.0
    )


def _select(
    counts: tuple[Counter[str], Counter[str]], sizes: tuple[int, int], cap: int
) -> list[str]:
    neg, pos = counts
    scored = [
        (max(neg[g] / sizes[0], pos[g] / max(sizes[1], 1)), g)
        for g in neg.keys() | pos.keys()
        if neg[g] + pos[g] >= MIN_DF
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [g for _, g in scored[:cap]]


def vectorize(featurizer: Featurizer, windows: list[Window]) -> Matrix:
    """The runtime featurizer's vectors stacked into a CSR matrix."""
    indptr, indices, data = [0], [], []
    for window in windows:
        cols, values = featurizer.vector_of_normalized(window.norm)
        indices.append(cols)
        data.append(values)
        indptr.append(indptr[-1] + len(cols))
    matrix = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.asarray(indptr)),
        shape=(len(windows), featurizer.size),
    )
    labels = np.asarray([w.label for w in windows])
    return Matrix(matrix, labels, np.asarray([w.example for w in windows]))


def email_logits(x: Matrix, weights: np.ndarray, bias: float, n_examples: int) -> np.ndarray:
    """Each mail's logit: the maximum over its windows, as the detector scores it."""
    scores = x.matrix @ weights.astype(np.float64) + bias
    out = np.full(n_examples, -np.inf)
    np.maximum.at(out, x.examples, scores)
    return out
