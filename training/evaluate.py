"""Evaluates the detectors leave-one-family-out and writes EVALUATION.md.

For each fold (``training.protocol``) the primary is trained on every family but the two it
holds out, and the primary, the checker and their consensus judge the held-out mails: CRLF MIME
parsed by ingest's parser into the scanner's content, the pipeline's own path. Nothing a fold is
judged on was used for its training, its threshold or its calibration.

Run with ``make eval`` (``python -m training.evaluate --output EVALUATION.md``), or
``make eval BACKEND=anthropic`` to judge the same held-out mails with the Anthropic detectors
(``MAILMOAT_ANTHROPIC_API_KEY`` and the scanner's other ``MAILMOAT_ANTHROPIC_*`` settings).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mailmoat.policy.domain.sanitise import sanitise
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.consensus import SideVerdict, decide_consensus
from mailmoat.scanner.domain.content import ScanContent
from training.synth import Example

Judge = Callable[[ScanContent], Assessment]
BACKENDS = ("offline", "anthropic")
SURVIVES_AT = 0.5
"""An instruction survives when at least this share of its word trigrams reach the agent."""
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Verdict:
    """One detector's word on one mail, with the time it took."""

    score: int
    flagged: bool
    probability: float
    seconds: float


@dataclass(frozen=True)
class Scored:
    """One held-out mail and what the detectors and the consensus made of it."""

    fold: str
    family: str
    label: int
    placement: str
    chars: int
    primary: Verdict
    checker: Verdict
    consensus: str
    withheld: bool
    survived: bool | None
    """For an attack placed in the visible text: whether the agent would still read it."""


@dataclass(frozen=True)
class Side:
    """A detector to evaluate: its name and how it judges a mail. ``scan``, when the detector
    has one, also gives an unrounded score for ranking (ROC AUC), so ties at 100 do not hide
    the order."""

    name: str
    judge: Judge
    scan: Callable[[ScanContent], tuple[float, Assessment]] | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("EVALUATION.md"))
    parser.add_argument(
        "--backend", choices=BACKENDS, default=os.environ.get("BACKEND") or "offline"
    )
    args = parser.parse_args()
    from training.families import load_families
    from training.report import report
    from training.sources import load_corpus

    started = time.perf_counter()
    families = load_families(load_corpus())
    if args.backend == "anthropic":
        from training.runs import anthropic_run

        run = anthropic_run(families)
    else:
        from training.runs import offline_run

        run = offline_run(families, lambda m: print(f"[{time.perf_counter() - started:7.1f}s] {m}"))
    text = report(run, _command(args.output, args.backend), _threads())
    args.output.write_text(text, encoding="utf-8")
    print(text)


def score_mails(
    fold: str, examples: Iterable[Example], primary: Side, checker: Side
) -> list[Scored]:
    """Each mail judged by both sides and the consensus, as the scanner would."""
    out = []
    for example in examples:
        first, second = _verdict(primary, example.content), _verdict(checker, example.content)
        decision = decide_consensus(
            SideVerdict(first[0].score, first[0].flagged),
            SideVerdict(second[0].score, second[0].flagged),
        )
        out.append(
            Scored(
                fold=fold,
                family=example.source.split("+")[0],
                label=example.label,
                placement=example.placement,
                chars=sum(len(s.text) for s in example.content.segments),
                primary=first[0],
                checker=second[0],
                consensus=decision.consensus.value,
                withheld=decision.withheld,
                survived=_survived(example, (first[1], second[1]), withheld=decision.withheld),
            )
        )
    return out


def _verdict(side: Side, content: ScanContent) -> tuple[Verdict, Assessment]:
    began = time.perf_counter()
    if side.scan is not None:
        probability, assessment = side.scan(content)
    else:
        assessment = side.judge(content)
        probability = assessment.score / 100
    seconds = time.perf_counter() - began
    verdict = Verdict(assessment.score, assessment.flagged, probability, seconds)
    return verdict, assessment


def _survived(
    example: Example, assessments: tuple[Assessment, ...], *, withheld: bool
) -> bool | None:
    """None unless the attack is in the visible text; else whether the agent's text (the visible
    text with every located span's sentence removed, nothing if withheld) still holds it."""
    if example.label != 1:
        return None
    visible = next((s.text for s in example.content.segments if s.part == "visible"), "")
    words = _WORD.findall(example.attack.lower())
    size = min(3, len(words))
    attack = _grams(words, size)
    if not attack or _share(attack, visible, size) < SURVIVES_AT:
        return None
    if withheld:
        return False
    spans = [(f.start, f.end) for a in assessments for f in a.findings if f.part == "visible"]
    return _share(attack, sanitise(visible, spans), size) >= SURVIVES_AT


def _grams(words: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)} if size else set()


def _share(grams: set[tuple[str, ...]], text: str, size: int) -> float:
    return len(grams & _grams(_WORD.findall(text.lower()), size)) / len(grams)


class Closable(Protocol):
    """An async detector with a client to close (the Anthropic one)."""

    async def assess(self, content: ScanContent) -> Assessment: ...
    async def aclose(self) -> None: ...


class Blocking:
    """An async detector driven from plain code, on one event loop kept for the whole run."""

    def __init__(self, detector: Closable) -> None:
        self._detector = detector
        self._loop = asyncio.new_event_loop()

    def judge(self, content: ScanContent) -> Assessment:
        return self._loop.run_until_complete(self._detector.assess(content))

    def close(self) -> None:
        self._loop.run_until_complete(self._detector.aclose())
        self._loop.close()


def _command(output: Path, backend: str) -> str:
    suffix = " BACKEND=anthropic" if backend == "anthropic" else ""
    return f"make eval{suffix}  (python -m training.evaluate --output {output} --backend {backend})"


def _threads() -> str:
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return ", ".join(f"{n}={os.environ.get(n, 'unset')}" for n in names)


if __name__ == "__main__":
    main()
