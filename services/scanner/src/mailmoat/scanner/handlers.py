"""Scanner subscribers: each detector judges L2+ mail; the consensus joins, or fails closed."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.db.tables import RawMessage
from mailmoat.common.events import DetectorVerdict, Finding, RawMailReceived
from mailmoat.common.events.inbound import capped
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.mailtext import html_to_text, read_mail_text
from mailmoat.common.observability.metrics import EVENTS_TRIMMED
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.assessment import Assessment, Detector
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.domain.coverage import enforce_coverage

NO_AI_LEVELS = frozenset({"L1"})


def scan_content(raw: RawMessage) -> ScanContent:
    """What the detectors read: ingest's parse when it has one, else the raw text (and a gap
    saying so, since the raw text is a rougher reading than the parse)."""
    parsed = None if raw.structured is None else StructuredMessage.model_validate(raw.structured)
    if parsed is not None and not parsed.stands_in:
        return ScanContent.from_structured(parsed)
    text = read_mail_text(raw.raw)
    visible = text.text or html_to_text(text.html)
    return ScanContent.unanalysed(text.subject, text.from_address, visible, text.html)


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
        assessment = enforce_coverage(content, assessment)
        findings, dropped = capped(assessment.findings)
        if dropped:
            EVENTS_TRIMMED.labels(Topic.SCAN_VERDICTS.value).inc()
        verdict = DetectorVerdict(
            mail_id=event.mail_id,
            workspace_id=event.workspace_id,
            detector=self.side,
            detector_name=self.detector.name,
            detector_version=self.detector.version,
            score=assessment.score,
            flagged=assessment.flagged,
            findings=findings,
            findings_dropped=dropped,
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
