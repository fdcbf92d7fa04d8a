"""The learned detector's linear model: loads the committed artefact and scores text windows."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from mailmoat.scanner.domain.learned.features import Featurizer

ARTEFACT = "primary-v1"
_PACKAGE = "mailmoat.scanner.models"


@dataclass(frozen=True, slots=True)
class ModelCard:
    """The sidecar facts the detector needs at run time."""

    version: str
    threshold: float
    """Calibrated probability at and above which a window flags the mail."""
    calibration: tuple[float, float]
    """Platt scaling (slope, intercept) applied to the raw logit."""
    window: int
    overlap: int


@dataclass(frozen=True, slots=True)
class LinearModel:
    """TF-IDF features, one weight per feature, a bias and a calibration."""

    featurizer: Featurizer
    weights: npt.NDArray[np.float32]
    bias: float
    card: ModelCard

    def logit(self, text: str) -> float:
        cols, values = self.featurizer.vector(text)
        return float(values @ self.weights[cols]) + self.bias

    def probability(self, text: str) -> float:
        """Calibrated probability that ``text`` carries a prompt injection."""
        slope, intercept = self.card.calibration
        return _sigmoid(slope * self.logit(text) + intercept)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The artefact's arrays, as ``load_model`` reads them back."""
        return {
            "words": _blob(self.featurizer.words),
            "chars": _blob(self.featurizer.chars),
            "idf": self.featurizer.idf,
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
        featurizer = Featurizer(words, chars, arrays["idf"].astype(np.float32))
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
