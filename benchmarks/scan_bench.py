"""Detector cost by mail size: what the scan budget bounds, beside one regular-expression pass.

Each detector reads every segment of a mail whole (``ScanContent``), so its cost grows with the
text. This measures both offline detectors on an ordinary mail, on padded mails of one and three
megabytes (parsed by ingest's parser, as in production), and at the scan budget itself (8 M
characters of distinct text), beside the cheapest possible reading of the same text: one
case-insensitive regular expression over each segment.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from tests.support.attack_mails import INSTRUCTION, mime, ordinary_text, padded

from mailmoat.ingest.domain.mime import parse_message
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.content import SCAN_BUDGET_CHARS, ScanContent, Segment
from mailmoat.scanner.domain.primary import LearnedDetector

_BASELINE = re.compile(r"ignore (?:all )?previous instructions", re.IGNORECASE)
Judge = Callable[[ScanContent], object]


def _contents() -> list[tuple[str, ScanContent]]:
    ordinary = mime("Subject: lunch\r\n", ordinary_text(1500) + "\r\n")
    at_budget = tuple(
        Segment(part, ordinary_text(SCAN_BUDGET_CHARS // 4 + 1)[: SCAN_BUDGET_CHARS // 4 - n])
        for n, part in enumerate(("visible", "quoted", "text", "html"))
    )
    return [
        ("ordinary mail (1.7 KB)", _parsed(ordinary)),
        ("padded mail, 1 MB, one instruction", _parsed(padded(INSTRUCTION, body_chars=1_000_000))),
        ("padded mail, 3 MB, one instruction", _parsed(padded(INSTRUCTION, body_chars=3_000_000))),
        ("at the scan budget (8 M characters)", ScanContent(at_budget)),
    ]


def _parsed(raw: bytes) -> ScanContent:
    return ScanContent.from_structured(parse_message(raw).message)


def _baseline(content: ScanContent) -> object:
    return [_BASELINE.search(segment.text) for segment in content.segments]


def _seconds(judge: Judge, content: ScanContent) -> float:
    started = time.perf_counter()
    judge(content)
    return time.perf_counter() - started


Row = tuple[str, int, float, float, float, str]


def run() -> list[Row]:
    """(mail, characters read, baseline s, checker s, model s, which flag) per mail."""
    checker, model = RuleChecker(), LearnedDetector()
    rows = []
    for name, content in _contents():
        chars = sum(len(text) for text in {s.text for s in content.segments})
        flags = [side for side, d in (("checker", checker), ("model", model)) if _flags(d, content)]
        base, checking, modelling = (
            _seconds(judge, content) for judge in (_baseline, checker.judge, model.judge)
        )
        rows.append((name, chars, base, checking, modelling, ", ".join(flags) or "neither"))
    return rows


def _flags(detector: RuleChecker | LearnedDetector, content: ScanContent) -> bool:
    assessment: Assessment = detector.judge(content)
    return assessment.flagged


def section(rows: list[Row]) -> list[str]:
    lines = [
        "## Detector cost by mail size (benchmarks/scan_bench.py)",
        "",
        "One process, one thread per detector. Baseline: one case-insensitive regular expression",
        "over each segment. Characters: distinct segment text read (the scan budget counts these).",
        "",
        "| mail | characters read | baseline (s) | checker (s) | model (s) | checker M chars/s "
        "| model M chars/s | flagged by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, chars, base, checker, model, flags in rows:
        rates = f"{chars / checker / 1e6:.2f} | {chars / model / 1e6:.2f}"
        lines.append(
            f"| {name} | {chars:,} | {base:.3f} | {checker:.2f} | {model:.2f} | {rates} | {flags} |"
        )
    lines += [
        "",
        "The last row is the most a detector reads of one mail: text past the budget is a",
        "`coverage.budget` gap, which flags rather than adds work. The flags are the detectors'",
        "own, before the coverage check (which also flags the 3 MB mail: ingest cut its body).",
    ]
    return lines
