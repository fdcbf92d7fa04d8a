"""Cuts examples into the detector's scan windows and labels each window by what it holds."""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.scanner.domain.learned.features import normalize
from mailmoat.scanner.domain.learned.windows import windows
from training.synth import Example

WINDOW = 1000
OVERLAP = 250
_CHUNK = 30


@dataclass(frozen=True)
class Window:
    """One normalised scan window, its label and the example it came from."""

    norm: str
    label: int
    example: int


def example_windows(examples: list[Example]) -> list[Window]:
    """Every window of every segment; an attack mail's window is positive only when it holds
    a good part of the attack (after decoding), so benign text around an attack stays benign."""
    out = []
    for index, example in enumerate(examples):
        chunks = _chunks(normalize(example.attack)) if example.label else []
        for segment in example.content.segments:
            for start, end in windows(len(segment.text), WINDOW, OVERLAP):
                norm = normalize(segment.text[start:end])
                out.append(Window(norm, int(bool(chunks) and _holds(norm, chunks)), index))
    return out


def _chunks(norm: str) -> list[str]:
    return [norm[i : i + _CHUNK] for i in range(0, len(norm), _CHUNK) if norm[i : i + _CHUNK]]


def _holds(norm: str, chunks: list[str]) -> bool:
    found = sum(len(chunk) for chunk in chunks if chunk in norm)
    total = sum(len(chunk) for chunk in chunks)
    return found >= min(0.5 * total, 3 * _CHUNK)
