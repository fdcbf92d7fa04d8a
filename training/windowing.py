"""Cuts examples into the detector's short spans and the windows that group them, labelled by
what they hold."""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.scanner.domain.learned.features import normalize
from mailmoat.scanner.domain.learned.spans import spans
from mailmoat.scanner.domain.learned.windows import span_windows
from training.synth import Example

WINDOW = 1000
OVERLAP = 250
SPAN = 300
_CHUNK = 30
_SPAN_CHUNK = 12


@dataclass(frozen=True)
class Window:
    """One normalised window or span (a window's spans separated by newlines), its label and
    the example it came from (-1 for a lone row that belongs to no mail)."""

    norm: str
    label: int
    example: int


def example_windows(examples: list[Example]) -> list[Window]:
    """Every window of every segment; an attack mail's window is positive only when it holds
    a good part of the attack (after decoding), so benign text around an attack stays benign."""
    out = []
    for index, example in enumerate(examples):
        chunks = _chunks(normalize(example.attack), _CHUNK) if example.label else []
        for norms, cuts in _segments(example):
            for first, last in span_windows(cuts, WINDOW, OVERLAP):
                norm = "\n".join(norms[first:last])
                out.append(Window(norm, int(bool(chunks) and _holds(norm, chunks)), index))
    return out


def example_spans(examples: list[Example], *, mixed: bool = False) -> list[Window]:
    """Every short span of every segment: positive when at least half of it is attack text,
    negative when none of it is. Spans that mix the two are left out unless ``mixed`` (scoring
    mail as the detector does), so the model learns what attack sentences look like, not
    where the carrier text happens to be cut."""
    out = []
    for index, example in enumerate(examples):
        chunks = _chunks(normalize(example.attack), _SPAN_CHUNK) if example.label else []
        for norms, _ in _segments(example):
            for norm in norms:
                share = _share(norm, chunks)
                if mixed or share == 0 or share >= 0.5:
                    out.append(Window(norm, int(share >= 0.5), index))
    return out


def _segments(example: Example) -> list[tuple[list[str], list[tuple[int, int]]]]:
    """(normalised spans, their offsets) of each segment, as the detector cuts them."""
    out = []
    for segment in example.content.segments:
        cuts = spans(segment.text, SPAN)
        out.append(([normalize(segment.text[s:e]) for s, e in cuts], cuts))
    return out


def _chunks(norm: str, size: int) -> list[str]:
    return [norm[i : i + size] for i in range(0, len(norm), size) if norm[i : i + size]]


def _holds(norm: str, chunks: list[str]) -> bool:
    found = sum(len(chunk) for chunk in chunks if chunk in norm)
    total = sum(len(chunk) for chunk in chunks)
    return found >= min(0.5 * total, 3 * _CHUNK)


def _share(norm: str, chunks: list[str]) -> float:
    found = sum(len(chunk) for chunk in chunks if chunk in norm)
    return min(1.0, found / max(len(norm), 1))
