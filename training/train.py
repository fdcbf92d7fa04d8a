"""Trains the primary detector: fits the model on windows and short spans of every family's
training mails, tunes the span offset, calibration and threshold on their validation slice, and
writes the artefact with its sidecar. ``fit`` is also what each evaluation fold runs.

Run with ``make train-detector`` (``python -m training.train``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from mailmoat.scanner.domain.learned.features import Featurizer, normalize
from mailmoat.scanner.domain.learned.model import ARTEFACT, LinearModel, ModelCard
from training.combine import calibrate, margins, pick_offset, threshold, tpr_at
from training.families import load_families
from training.protocol import ALL, SEED, FoldData, LoneRow, fold_data
from training.sources import ROOT, load_corpus
from training.synth import Example
from training.vectors import Matrix, build_featurizer, email_logits, vectorize
from training.windowing import (
    OVERLAP,
    SPAN,
    WINDOW,
    Window,
    example_spans,
    example_windows,
)

MODELS = ROOT / "services" / "scanner" / "src" / "mailmoat" / "scanner" / "models"
VERSION = "2.0.0"
C = 1.0
FLOOR_QUANTILE = 0.25
"""Spans shorter than a quarter of the training spans are not stretched to unit length."""
CLASS_WEIGHT = {0: 2.0, 1: 1.0}  # ordinary mail outnumbers attacks in production


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=MODELS)
    args = parser.parse_args()
    started = time.perf_counter()
    corpus = load_corpus()
    data = fold_data(load_families(corpus), ALL)
    model, metrics, digest = fit(data, lambda message: _log(started, message))
    _log(started, json.dumps(metrics))
    _write(args.output, model, corpus.hashes | {"train_examples": digest}, metrics)
    _log(started, f"wrote {args.output / ARTEFACT}.npz")


def fit(
    data: FoldData, say: Callable[[str], None] = lambda _message: None
) -> tuple[LinearModel, dict[str, float], str]:
    """The model fitted on ``data.train`` and its lone rows, its span offset, calibration and
    threshold tuned on ``data.validation``: the model, its metrics and a digest of the training
    matrix."""
    featurizer, weights, bias, digest = _fitted(data.train, data.lone, say)
    labels = np.array([e.label for e in data.validation])
    card, metrics = _tune(*_mail_logits(featurizer, weights, bias, data.validation), labels)
    return LinearModel(featurizer, weights, bias, card), metrics, digest


def prefixed(say: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda message: say(f"{prefix}: {message}")


def _fitted(
    mails: list[Example], lone: list[LoneRow], say: Callable[[str], None]
) -> tuple[Featurizer, np.ndarray, float, str]:
    examples = example_windows(mails) + example_spans(mails)
    examples += [Window(normalize(row.text), row.label, -1) for row in lone]
    say(f"{len(mails)} train mails, {len(examples)} windows, spans and lone rows")
    featurizer = build_featurizer(examples, FLOOR_QUANTILE)
    x_train = vectorize(featurizer, examples)
    say(f"{featurizer.size} features")
    classifier = LogisticRegression(
        C=C, class_weight=CLASS_WEIGHT, max_iter=2000, solver="liblinear"
    )
    classifier.fit(x_train.matrix, x_train.labels)
    weights, bias = classifier.coef_[0].astype(np.float32), float(classifier.intercept_[0])
    return featurizer, weights, bias, _digest(x_train)


def _mail_logits(
    featurizer: Featurizer, weights: np.ndarray, bias: float, mails: list[Example]
) -> tuple[np.ndarray, np.ndarray]:
    """Each mail's best window logit and best span logit, as the detector reads it."""
    logits = [
        email_logits(vectorize(featurizer, part), weights, bias, len(mails))
        for part in (example_windows(mails), example_spans(mails, mixed=True))
    ]
    # A mail with no readable text has no span or window (the detector scores it 0).
    floor = min(float(part[np.isfinite(part)].min()) for part in logits)
    return np.maximum(logits[0], floor), np.maximum(logits[1], floor)


def _tune(
    windows: np.ndarray, spans: np.ndarray, labels: np.ndarray
) -> tuple[ModelCard, dict[str, float]]:
    """Span offset, calibration and threshold, all on the validation mails."""
    offset = pick_offset(windows, spans, labels)
    logits = margins(windows, spans, offset)
    slope, intercept = calibrate(logits, labels)
    probabilities = 1.0 / (1.0 + np.exp(-(slope * logits + intercept)))
    cut = threshold(probabilities[labels == 0])
    card = ModelCard(VERSION, cut, (slope, intercept), WINDOW, OVERLAP, SPAN, offset)
    return card, _metrics(windows, probabilities, labels, cut) | {"span_offset": offset}


def _metrics(
    windows: np.ndarray, probabilities: np.ndarray, labels: np.ndarray, cut: float
) -> dict[str, float]:
    flagged = probabilities >= cut
    return {
        "validation_mail_roc_auc": round(float(roc_auc_score(labels, probabilities)), 4),
        "validation_tpr": round(float(flagged[labels == 1].mean()), 4),
        "validation_fpr": round(float(flagged[labels == 0].mean()), 4),
        "validation_windows_only_tpr_at_1pct": round(tpr_at(windows, labels), 4),
        "threshold": round(cut, 6),
    }


def _write(
    folder: Path, model: LinearModel, hashes: dict[str, str], metrics: dict[str, float]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / f"{ARTEFACT}.npz", **model.arrays())  # type: ignore[arg-type]
    card = model.card
    sidecar = {
        "version": card.version,
        "threshold": card.threshold,
        "calibration": list(card.calibration),
        "window": card.window,
        "overlap": card.overlap,
        "span": card.span,
        "span_offset": card.span_offset,
        "regularisation_c": C,
        "norm_floor": model.featurizer.floor,
        "norm_floor_quantile": FLOOR_QUANTILE,
        "seed": SEED,
        "features": model.featurizer.size,
        "artefact_sha256": hashlib.sha256((folder / f"{ARTEFACT}.npz").read_bytes()).hexdigest(),
        "data_sha256": hashes,
        "validation": metrics,
        "command": "make train-detector",
    }
    (folder / f"{ARTEFACT}.json").write_text(json.dumps(sidecar, indent=2) + "\n", "utf-8")


def _digest(matrix: Matrix) -> str:
    digest = hashlib.sha256(matrix.labels.tobytes())
    for array in (matrix.matrix.indices, matrix.matrix.indptr, matrix.matrix.data):
        digest.update(array.tobytes())
    return digest.hexdigest()


def _log(started: float, message: str) -> None:
    print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)


if __name__ == "__main__":
    main()
