"""Evaluates the primary, the checker and their consensus on the frozen evaluation split, and
writes the results as Markdown.

Run with ``make eval`` (``python -m training.evaluate --output EVALUATION.md``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.consensus import SideVerdict, decide_consensus
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.domain.primary import LearnedDetector
from training.dataset import build_split
from training.report import report
from training.sources import load_corpus
from training.synth import Example

Judge = Callable[[ScanContent], Assessment]


@dataclass(frozen=True)
class Run:
    """One detector's verdicts on every evaluation mail, with the time each took."""

    name: str
    scores: np.ndarray
    flagged: np.ndarray
    seconds: list[float]
    assessed: list[int]
    """The Assessment scores (0-100) the consensus sees."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("EVALUATION.md"))
    args = parser.parse_args()
    examples = build_split(load_corpus(), "evaluation")
    primary = LearnedDetector()
    runs = [_run(f"primary ({primary.name} {primary.version})", primary.judge, examples)]
    # Scores for ROC AUC and TPR at fixed FPR: the unrounded probability, so ties at 100
    # do not hide the ranking.
    runs[0] = replace(runs[0], scores=np.asarray([primary.scan(e.content)[0] for e in examples]))
    checker = _checker()
    if checker is not None:
        runs.append(_run("checker (RuleChecker)", checker, examples))
    consensus = _consensus(runs)
    text = report(examples, runs, consensus, _command(args.output), _threads())
    args.output.write_text(text, encoding="utf-8")
    print(text)


def _checker() -> Judge | None:
    try:
        from mailmoat.scanner.domain.checker import RuleChecker
    except ImportError as exc:
        print(f"checker not importable, evaluating the primary alone: {exc}")
        return None
    return RuleChecker().judge


def _run(name: str, judge: Judge, examples: list[Example]) -> Run:
    scores: list[int] = []
    flagged: list[bool] = []
    seconds: list[float] = []
    for example in examples:
        started = time.perf_counter()
        assessment = judge(example.content)
        seconds.append(time.perf_counter() - started)
        scores.append(assessment.score)
        flagged.append(assessment.flagged)
    return Run(name, np.asarray(scores, float), np.asarray(flagged, bool), seconds, scores)


def _consensus(runs: list[Run]) -> tuple[np.ndarray, np.ndarray]:
    """(not PASS, withheld) per mail; a missing checker counts as a clean PASS side."""
    primary = runs[0]
    silent = Run("none", primary.scores * 0, primary.flagged & False, [], [0] * len(primary.scores))
    checker = runs[1] if len(runs) > 1 else silent
    caught, withheld = [], []
    for i in range(len(primary.scores)):
        decision = decide_consensus(
            SideVerdict(primary.assessed[i], bool(primary.flagged[i])),
            SideVerdict(checker.assessed[i], bool(checker.flagged[i])),
        )
        caught.append(decision.consensus.value != "PASS")
        withheld.append(decision.withheld)
    return np.asarray(caught), np.asarray(withheld)


def _command(output: Path) -> str:
    return f"make eval  (python -m training.evaluate --output {output})"


def _threads() -> str:
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return ", ".join(f"{n}={os.environ.get(n, 'unset')}" for n in names)


if __name__ == "__main__":
    main()
