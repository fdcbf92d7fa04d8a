"""Scanner subscribers: each detector judges L2+ mail; the consensus joins, or fails closed."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.db.tables import RawMessage
from mailmoat.common.events import DetectorVerdict, Finding, RawMailReceived
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.mailtext import html_to_text, read_mail_text
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.assessment import Assessment, Detector
from mailmoat.scanner.domain.content import ScanContent

NO_AI_LEVELS = frozenset({"L1"})


def scan_content(raw: RawMessage) -> ScanContent:
    """What the detectors read: ingest's parse when it has one, else the raw text."""
    if raw.structured is not None:
        return ScanContent.from_structured(StructuredMessage.model_validate(raw.structured))
    text = read_mail_text(raw.raw)
    return ScanContent.from_text(text.subject, text.text or html_to_text(text.html))


class DetectorHandler:
    """Runs one detector on every L2+ mail and publishes its verdict (or its failure)."""

    def __init__(
        self, side: str, detector: Detector, *, producer: str, timeout: float, shadow: bool = False
    ) -> None:
        self.side, self.detector, self.timeout, self.shadow = side, detector, timeout, shadow
        self.producer = producer  # the service's name: its outbox relay publishes these rows

    async def on_raw_mail(self, event: RawMailReceived, session: AsyncSession) -> None:
        if event.security_level in NO_AI_LEVELS:
            return  # L1: no AI analysis, and no AI credits
        raw = await session.get(RawMessage, event.raw_ref)
        if raw is None or raw.workspace_id != event.workspace_id:
            raise PoisonEvent(f"raw message {event.raw_ref} not found")
        started = time.perf_counter()
        content = scan_content(raw)
        assessment, error = await self._assess(content)
        verdict = DetectorVerdict(
            mail_id=event.mail_id,
            workspace_id=event.workspace_id,
            detector=self.side,
            detector_name=self.detector.name,
            detector_version=self.detector.version,
            score=assessment.score,
            flagged=assessment.flagged,
            findings=assessment.findings + content.unscannable,
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
            coverage=assessment.coverage,
            shadow=self.shadow,
        )
        stage_event(session, Topic.SCAN_VERDICTS, verdict, producer=self.producer)

    async def _assess(self, content: ScanContent) -> tuple[Assessment, str | None]:
        try:
            return await asyncio.wait_for(self.detector.assess(content), self.timeout), None
        except Exception as exc:  # a detector that fails or overruns counts as a flag
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            finding = Finding(code="detector.error", reason=f"detector failed: {error}")
            return Assessment(score=100, flagged=True, findings=(finding,)), error
