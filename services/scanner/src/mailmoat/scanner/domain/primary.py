"""Primary detector: a linear classifier over word and character n-grams, trained offline."""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.content import ScanContent, Segment
from mailmoat.scanner.domain.learned.features import normalize
from mailmoat.scanner.domain.learned.model import LinearModel, load_model
from mailmoat.scanner.domain.learned.spans import spans
from mailmoat.scanner.domain.learned.windows import span_windows

FINDING_CODE = "injection.model"

Scored = list[tuple[int, int, float]]
"""(start, end, calibrated probability) of each scored piece of a segment."""
_Memo = dict[str, npt.NDArray[np.int64]]


class LearnedDetector:
    """Scores every segment in short spans (so an attack paragraph is not diluted by the mail
    around it) and in overlapping windows of those spans; the mail's score is the likeliest."""

    name = "minimail-linear"

    def __init__(self, model: LinearModel | None = None) -> None:
        self.model = model or load_model()
        self.version = self.model.card.version

    async def assess(self, content: ScanContent) -> Assessment:
        # A worker thread: a long mail takes seconds, and the consumer must keep heartbeating.
        return await asyncio.to_thread(self.judge, content)

    def judge(self, content: ScanContent) -> Assessment:
        """Flag the mail when any span or window reaches the tuned threshold."""
        return self.scan(content)[1]

    def scan(self, content: ScanContent) -> tuple[float, Assessment]:
        """The highest span or window probability (unrounded, for evaluation) and the
        assessment."""
        best = 0.0
        findings: list[Finding] = []
        memo: _Memo = {}
        for segment in content.segments:
            for start, end, probability in self._score(segment, memo)[2]:
                best = max(best, probability)
                if probability >= self.model.card.threshold:
                    findings.append(_finding(segment.part, start, end, probability))
        return best, Assessment(
            score=round(best * 100),
            flagged=bool(findings),
            findings=tuple(findings),
            coverage=tuple(s.part for s in content.segments),
        )

    def window_probabilities(self, segment: Segment) -> Scored:
        """(start, end, calibrated probability) of each window of ``segment``."""
        return self._score(segment, {})[1]

    def span_probabilities(self, segment: Segment) -> Scored:
        """(start, end, calibrated probability) of each short span of ``segment``."""
        return self._score(segment, {})[0]

    def _score(self, segment: Segment, memo: _Memo) -> tuple[Scored, Scored, Scored]:
        """(spans, windows, both): each span is read once per mail (the plain, visible and
        quoted parts repeat paragraphs); a window sums its spans' grams."""
        model, card = self.model, self.model.card
        cuts = spans(segment.text, card.span)
        grams = [self._grams(segment.text[s:e], memo) for s, e in cuts]
        groups = span_windows(cuts, card.window, card.overlap)
        logits = model.logits_of_many(grams + [np.concatenate(grams[a:b]) for a, b in groups])
        by_span = zip(cuts, model.probabilities(logits[: len(cuts)], card.span_offset), strict=True)
        by_window = zip(groups, model.probabilities(logits[len(cuts) :]), strict=True)
        scored_spans = [(s, e, float(p)) for (s, e), p in by_span]
        scored_windows = [(cuts[a][0], cuts[b - 1][1], float(p)) for (a, b), p in by_window]
        return scored_spans, scored_windows, scored_spans + scored_windows

    def _grams(self, text: str, memo: _Memo) -> npt.NDArray[np.int64]:
        """A span's grams, remembered for the rest of the mail."""
        if text not in memo:
            memo[text] = self.model.featurizer.grams(normalize(text))
        return memo[text]


def _finding(part: str, start: int, end: int, probability: float) -> Finding:
    return Finding(
        code=FINDING_CODE,
        reason=f"classifier rates this text an injection with probability {probability:.2f}",
        part=part,
        start=start,
        end=end,
    )
