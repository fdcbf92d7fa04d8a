"""Coverage enforced in one place, whatever the detector: what it did not read is a flag.

A detector reports the segments it read whole (``Assessment.coverage``). Every segment it did
not, and every gap in the content itself (``ScanContent.unscannable``), becomes a ``coverage.*``
finding and makes the verdict a flag, so no mail passes on text nobody read.
"""

from __future__ import annotations

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.content import ScanContent

COVERAGE_SCORE = 50
"""The least score of a verdict with a coverage gap: a flag, which alone makes REVIEW."""

COVERAGE_CODES = (
    "coverage.unread",
    "coverage.analysis_failed",
    "coverage.truncated",
    "coverage.budget",
)
"""Every coverage gap a verdict may carry (``mailmoat_detector_coverage_flags_total``'s codes)."""


def enforce_coverage(content: ScanContent, assessment: Assessment) -> Assessment:
    """``assessment`` with the content's gaps and the segments it left unread as findings,
    flagged at ``COVERAGE_SCORE`` or more when there is any."""
    read = set(assessment.coverage)
    read |= {f.part for f in assessment.findings if f.code.startswith("coverage.")}  # said so
    unread = tuple(_unread(s.part) for s in content.segments if s.part not in read)
    gaps = content.unscannable + unread
    if not gaps:
        return assessment
    return Assessment(
        score=max(assessment.score, COVERAGE_SCORE),
        flagged=True,
        findings=assessment.findings + gaps,
        coverage=assessment.coverage,
    )


def _unread(part: str) -> Finding:
    return Finding(code="coverage.unread", reason="the detector did not read this part", part=part)
