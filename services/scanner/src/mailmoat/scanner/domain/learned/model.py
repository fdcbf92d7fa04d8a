"""The learned detector's linear model: loads the committed artefact, scores windows and spans."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from mailmoat.scanner.domain.learned.features import Featurizer, normalize

ARTEFACT = "primary-v1"
_PACKAGE = "mailmoat.scanner.models"


@dataclass(frozen=True, slots=True)
class ModelCard:
    """The sidecar facts the detector needs at run time."""

    version: str
    threshold: float
    """Calibrated probability at and above which a window flags the mail."""
    calibration: tuple[float, float]
    """Platt scaling (slope, intercept) applied to the raw logit, less the span offset."""
    window: int
    overlap: int
    span: int
    """Longest short span (sentences and lines grouped) scored beside the windows."""
    span_offset: float
    """Subtracted from a span's logit: short spans need more evidence than whole windows."""


@dataclass(frozen=True, slots=True)
class LinearModel:
    """TF-IDF features, one weight per feature, a bias and a calibration."""

    featurizer: Featurizer
    weights: npt.NDArray[np.float32]
    bias: float
    card: ModelCard

    def logit(self, text: str) -> float:
        return self.logit_of_grams(self.featurizer.grams(normalize(text)))

    def logit_of_grams(self, found: npt.NDArray[np.int64]) -> float:
        cols, values = self.featurizer.vector_of_grams(found)
        return float(values @ self.weights[cols]) + self.bias

    def logits_of_many(self, groups: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.float64]:
        """``logit_of_grams`` of many gram arrays in one pass: a mail has hundreds of spans,
        and numpy's per-call overhead would otherwise cost more than the arithmetic."""
        size, count = self.featurizer.size, len(groups)
        lengths = np.fromiter(map(len, groups), np.int64, count)
        if not lengths.sum():
            return np.full(count, self.bias)
        owner = np.repeat(np.arange(count, dtype=np.int64), lengths)
        keys, counts = np.unique(owner * size + np.concatenate(groups), return_counts=True)
        owners, cols = np.divmod(keys, size)
        values = ((1.0 + np.log(counts)) * self.featurizer.idf[cols]).astype(np.float64)
        norms = np.maximum(
            np.sqrt(np.bincount(owners, values * values, count)), self.featurizer.floor
        )
        dots = np.bincount(owners, values * self.weights[cols], count)
        return np.divide(dots, norms, out=np.zeros(count), where=norms > 0) + self.bias

    def probabilities(
        self, logits: npt.NDArray[np.float64], offset: float = 0.0
    ) -> npt.NDArray[np.float64]:
        """``calibrated`` of many logits."""
        slope, intercept = self.card.calibration
        # The logistic function written with tanh, which cannot overflow for large logits.
        out: npt.NDArray[np.float64] = 0.5 * (
            1.0 + np.tanh(0.5 * (slope * (logits - offset) + intercept))
        )
        return out

    def probability(self, text: str, offset: float = 0.0) -> float:
        """Calibrated probability that ``text`` carries a prompt injection; ``offset`` is
        ``card.span_offset`` when ``text`` is a short span."""
        return self.calibrated(self.logit(text), offset)

    def calibrated(self, logit: float, offset: float = 0.0) -> float:
        slope, intercept = self.card.calibration
        return _sigmoid(slope * (logit - offset) + intercept)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The artefact's arrays, as ``load_model`` reads them back."""
        return {
            "words": _blob(self.featurizer.words),
            "chars": _blob(self.featurizer.chars),
            "idf": self.featurizer.idf,
            "floor": np.asarray([self.featurizer.floor], np.float64),
            "weights": self.weights,
            "bias": np.asarray([self.bias], np.float64),
        }


def load_model(name: str = ARTEFACT) -> LinearModel:
    """Read ``<name>.npz`` and its ``<name>.json`` sidecar from the models package."""
    root = resources.files(_PACKAGE)
    sidecar = json.loads((root / f"{name}.json").read_text(encoding="utf-8"))
    with (root / f"{name}.npz").open("rb") as handle, np.load(handle) as arrays:
        words = _vocabulary(arrays["words"], 0)
        chars = _vocabulary(arrays["chars"], len(words))
        floor = float(arrays["floor"][0]) if "floor" in arrays else 0.0
        featurizer = Featurizer(words, chars, arrays["idf"].astype(np.float32), floor)
        weights = arrays["weights"].astype(np.float32)
        bias = float(arrays["bias"][0])
    return LinearModel(featurizer, weights, bias, _card(sidecar))


def _card(sidecar: dict[str, Any]) -> ModelCard:
    slope, intercept = sidecar["calibration"]
    return ModelCard(
        version=str(sidecar["version"]),
        threshold=float(sidecar["threshold"]),
        calibration=(float(slope), float(intercept)),
        window=int(sidecar["window"]),
        overlap=int(sidecar["overlap"]),
        span=int(sidecar["span"]),
        span_offset=float(sidecar["span_offset"]),
    )


def _blob(vocabulary: dict[str, int]) -> npt.NDArray[np.uint8]:
    # Grams never hold a newline (normalisation folds whitespace), so it can separate them.
    ordered = sorted(vocabulary, key=vocabulary.__getitem__)
    return np.frombuffer("\n".join(ordered).encode("utf-8"), dtype=np.uint8)


def _vocabulary(blob: npt.NDArray[np.uint8], offset: int) -> dict[str, int]:
    grams = blob.tobytes().decode("utf-8").split("\n") if blob.size else []
    return {gram: offset + i for i, gram in enumerate(grams)}


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
