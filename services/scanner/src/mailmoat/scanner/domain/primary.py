"""Primary detector: a linear classifier over word and character n-grams, trained offline."""

from __future__ import annotations

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.content import ScanContent, Segment
from mailmoat.scanner.domain.learned.model import LinearModel, load_model
from mailmoat.scanner.domain.learned.windows import windows

FINDING_CODE = "injection.model"


class LearnedDetector:
    """Scores every segment in overlapping windows; the mail's score is the likeliest window's."""

    name = "minimail-linear"

    def __init__(self, model: LinearModel | None = None) -> None:
        self.model = model or load_model()
        self.version = self.model.card.version

    async def assess(self, content: ScanContent) -> Assessment:
        return self.judge(content)

    def judge(self, content: ScanContent) -> Assessment:
        """Flag the mail when any window reaches the tuned threshold."""
        return self.scan(content)[1]

    def scan(self, content: ScanContent) -> tuple[float, Assessment]:
        """The highest window probability (unrounded, for evaluation) and the assessment."""
        best = 0.0
        findings: list[Finding] = []
        for segment in content.segments:
            for start, end, probability in self.window_probabilities(segment):
                best = max(best, probability)
                if probability >= self.model.card.threshold:
                    findings.append(_finding(segment.part, start, end, probability))
        return best, Assessment(
            score=round(best * 100),
            flagged=bool(findings),
            findings=tuple(findings),
            coverage=tuple(s.part for s in content.segments),
        )

    def window_probabilities(self, segment: Segment) -> list[tuple[int, int, float]]:
        """(start, end, calibrated probability) of each window of ``segment``."""
        card = self.model.card
        return [
            (start, end, self.model.probability(segment.text[start:end]))
            for start, end in windows(len(segment.text), card.window, card.overlap)
        ]


def _finding(part: str, start: int, end: int, probability: float) -> Finding:
    return Finding(
        code=FINDING_CODE,
        reason=f"classifier rates this window an injection with probability {probability:.2f}",
        part=part,
        start=start,
        end=end,
    )
