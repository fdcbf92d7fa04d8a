"""Scanner subscribers: each detector judges raw mail; the consensus joins the two verdicts."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.db.tables import RawMessage, ScanVerdictRecord
from mailmoat.common.events import DetectorVerdict, MailScanned, RawMailReceived
from mailmoat.common.mailtext import read_mail_text
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.assessment import Assessment, Detector
from mailmoat.scanner.domain.consensus import SideVerdict, decide_consensus

SIDES = ("primary", "checker")


class DetectorHandler:
    """Runs one detector side on every raw mail and publishes its verdict."""

    def __init__(self, side: str, detector: Detector) -> None:
        self.side = side
        self.detector = detector
        self.producer = f"scanner-{side}"

    async def on_raw_mail(self, event: RawMailReceived, session: AsyncSession) -> None:
        raw = await session.get(RawMessage, event.raw_ref)
        if raw is None or raw.workspace_id != event.workspace_id:
            raise PoisonEvent(f"raw message {event.raw_ref} not found")
        started = time.perf_counter()
        assessment, error = self._assess(raw.raw)
        verdict = DetectorVerdict(
            mail_id=event.mail_id,
            workspace_id=event.workspace_id,
            detector=self.side,
            detector_name=self.detector.name,
            detector_version=self.detector.version,
            score=assessment.score,
            flagged=assessment.flagged,
            findings=assessment.findings,
            error=error,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        stage_event(session, Topic.SCAN_VERDICTS, verdict, producer=self.producer)

    def _assess(self, raw: bytes) -> tuple[Assessment, str | None]:
        try:
            return self.detector.assess(read_mail_text(raw)), None
        except Exception as exc:  # a detector that fails counts as a flag (fail closed)
            return Assessment(score=100, flagged=True, findings=()), f"{type(exc).__name__}: {exc}"


async def on_scan_verdict(event: DetectorVerdict, session: AsyncSession) -> None:
    """Record the verdict; once both sides are in, decide and publish ``scanned-mail``."""
    if event.detector not in SIDES:
        raise PoisonEvent(f"unknown detector side {event.detector!r}")
    session.add(_record(event))
    await session.flush()
    query = select(ScanVerdictRecord).where(ScanVerdictRecord.mail_id == event.mail_id)
    verdicts = {v.detector: v for v in (await session.scalars(query)).all()}
    if set(verdicts) != set(SIDES):
        return
    raw = await session.get(RawMessage, event.mail_id)
    if raw is None or raw.workspace_id != event.workspace_id:
        raise PoisonEvent(f"raw message {event.mail_id} not found")
    primary, checker = (SideVerdict(verdicts[s].score, verdicts[s].flagged) for s in SIDES)
    decision = decide_consensus(primary, checker)
    scanned = MailScanned(
        mail_id=event.mail_id,
        workspace_id=event.workspace_id,
        inbox_id=raw.inbox_id,
        raw_ref=raw.id,
        consensus=decision.consensus,
        risk_score=decision.risk_score,
        withheld=decision.withheld,
        verdict_ids=tuple(verdicts[s].id for s in SIDES),
    )
    stage_event(session, Topic.SCANNED_MAIL, scanned, producer="scanner-consensus")


def _record(event: DetectorVerdict) -> ScanVerdictRecord:
    return ScanVerdictRecord(
        id=event.event_id,
        workspace_id=event.workspace_id,
        mail_id=event.mail_id,
        detector=event.detector,
        detector_name=event.detector_name,
        detector_version=event.detector_version,
        score=event.score,
        flagged=event.flagged,
        findings=[f.model_dump() for f in event.findings],
        error=event.error,
        latency_ms=event.latency_ms,
    )
