"""The checker detector: a rule engine with no learned weights, so it fails unlike the model.

Every segment is read whole (``ScanContent`` keeps the total within the scan budget), in
overlapping windows so that no single regular-expression pass sees more than ``WINDOW``
characters; concealed text (tag characters, bidi overrides, zero-width splitting,
base64/hex/rot13) is decoded and read by the same rules. Scoring is in ``rules/scoring.py``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.content import ScanContent, Segment
from mailmoat.scanner.domain.rules import CONTENT_RULES, DECODERS, SEGMENT_RULES
from mailmoat.scanner.domain.rules.base import SegmentRule
from mailmoat.scanner.domain.rules.scoring import (
    CONCEALED_CODE,
    CONCEALED_WEIGHT,
    FLAG_AT,
    is_instruction,
    score_findings,
)
from mailmoat.scanner.domain.rules.views import View, base_views, decoded_views

WINDOW = 20_000
OVERLAP = 1_000
"""Longer than any rule's match, so a phrase cut by one window lies whole in the next."""
MAX_DECODED_VIEWS = 40
_SPAN_SUFFIX = re.compile(r" at \d+-\d+$")

WEIGHTS: dict[str, int] = {
    **{rule.code: rule.weight for rule in SEGMENT_RULES},
    **{rule.code: rule.weight for rule in CONTENT_RULES},
    CONCEALED_CODE: CONCEALED_WEIGHT,
}


class RuleChecker:
    """The checker side of the consensus: regular expressions, decoders and fixed weights."""

    name = "rules"
    version = "1"

    async def assess(self, content: ScanContent) -> Assessment:
        # A worker thread: a long mail takes seconds, and the consumer must keep heartbeating.
        return await asyncio.to_thread(self.judge, content)

    def judge(self, content: ScanContent) -> Assessment:
        """Run every rule over every segment and score what they found."""
        found: dict[tuple[str, str, int, int], Finding] = {}
        concealed: list[Finding] = []
        memo: dict[tuple[str, str], list[tuple[Finding, bool]]] = {}
        for segment in content.segments:  # the content is within the scan budget already
            for finding, hidden in _scan_once(segment, memo):
                key = (finding.code, finding.part, finding.start, finding.end)
                if key not in found:
                    found[key] = finding
                    concealed += [finding] if hidden else []
        for rule in CONTENT_RULES:
            found.update({(f.code, f.part, f.start, f.end): f for f in rule.check(content)})
        findings = tuple(found.values()) + _concealment(concealed)
        score = score_findings(findings, WEIGHTS)
        covered = tuple(segment.part for segment in content.segments)
        return Assessment(score, score >= FLAG_AT, findings, covered)


def _scan_once(
    segment: Segment, memo: dict[tuple[str, str], list[tuple[Finding, bool]]]
) -> list[tuple[Finding, bool]]:
    """Findings for the segment, reusing those of an earlier segment with the same text (the
    text body and the visible text are often identical)."""
    special = segment.part == "html" or segment.part.startswith("hidden:")
    key = (segment.text, segment.part if special else "")
    if key not in memo:
        memo[key] = list(_scan(segment))
        return memo[key]
    return [(f.model_copy(update={"part": segment.part}), c) for f, c in memo[key]]


def _scan(segment: Segment) -> Iterator[tuple[Finding, bool]]:
    """Findings of every view of the segment, each marked True when it was concealed."""
    hidden = segment.part.startswith("hidden:")
    for view in _views(segment):
        rules = [
            r for r in SEGMENT_RULES if (r.markup and view.markup) or (not r.markup and view.prose)
        ]
        for finding in _run(rules, view):
            yield finding, is_instruction(finding.code) and (hidden or bool(view.how))


def _views(segment: Segment) -> list[View]:
    views = base_views(segment)
    pending = [v for v in views if v.prose]
    while pending and len(views) < MAX_DECODED_VIEWS:
        children = decoded_views(pending.pop(0), DECODERS)
        views += children
        pending += children
    return views[:MAX_DECODED_VIEWS]


def _run(rules: list[SegmentRule], view: View) -> Iterator[Finding]:
    """Every rule over each window in turn: the window's lower-cased text and word set, which
    the rules share through a small cache, are computed once per window, not once per rule."""
    text = view.segment.text
    for offset in range(0, max(len(text) - OVERLAP, 1), WINDOW - OVERLAP):
        window = Segment(view.segment.part, text[offset : offset + WINDOW])
        for rule in rules:
            for finding in rule.check(window):
                yield _placed(finding, view, offset)


def _placed(finding: Finding, view: View, offset: int) -> Finding:
    start, end = view.place(finding.start + offset, finding.end + offset)
    if view.how:
        reason = f"{finding.reason}, in text decoded from {view.how} at {start}-{end}"
    else:  # the rule saw a window: its reason must name the span in the whole segment
        reason = _SPAN_SUFFIX.sub(f" at {start}-{end}", finding.reason)
    return finding.model_copy(update={"start": start, "end": end, "reason": reason})


def _concealment(concealed: list[Finding]) -> tuple[Finding, ...]:
    """One ``hidden.instructions`` finding per part where an instruction was concealed."""
    by_part: dict[str, Finding] = {}
    for finding in concealed:
        by_part.setdefault(finding.part, finding)
    return tuple(
        Finding(
            code=CONCEALED_CODE,
            reason=f"instruction ({first.code}) where a person cannot see it, in {part}",
            part=part,
            start=first.start,
            end=first.end,
        )
        for part, first in by_part.items()
    )
