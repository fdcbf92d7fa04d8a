"""Scanner subscribers: each detector judges L2+ mail; the consensus joins, or fails closed."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import ProcessedEvent, RawMessage
from mailmoat.common.events import DetectorVerdict, Finding, RawMailReceived
from mailmoat.common.events.inbound import capped
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.mailtext import html_to_text, read_mail_text
from mailmoat.common.observability.metrics import (
    DETECTOR_COVERAGE_FLAGS,
    DETECTOR_DURATION,
    DETECTOR_FAILURES,
    EVENTS_TRIMMED,
)
from mailmoat.common.outbox import stage_event
from mailmoat.common.subscription import Job, PoisonEvent
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.assessment import Assessment, Detector
from mailmoat.scanner.domain.content import ScanContent
from mailmoat.scanner.domain.coverage import COVERAGE_CODES, enforce_coverage
from mailmoat.scanner.offload import Offload

NO_AI_LEVELS = frozenset({"L1"})
WRITE_EVERY_SECONDS = 1.0
"""In a batch that takes long to judge, verdicts are written at least this often."""


def scan_content(structured: dict[str, Any] | None, raw: bytes) -> ScanContent:
    """What the detectors read: ingest's parse (``structured``) when it has one, else the raw
    text (and a gap saying so, since the raw text is a rougher reading than the parse)."""
    parsed = None if structured is None else StructuredMessage.model_validate(structured)
    if parsed is not None and not parsed.stands_in:
        return ScanContent.from_structured(parsed)
    text = read_mail_text(raw)
    visible = text.text or html_to_text(text.html)
    return ScanContent.unanalysed(text.subject, text.from_address, visible, text.html)


class DetectorHandler:
    """Runs one detector on every L2+ mail and publishes its verdict (or its failure).

    Its subscription is not transactional: the mail is read in a short read-only transaction,
    judged with none open, and the verdict staged and the event recorded as processed (by
    ``consumer``, the group's id) in one short write transaction. A detector may take seconds;
    on SQLite a transaction open all along would hold the database's one write lock, and every
    writer (the SMTP door's commit, the API) would wait for the detector. A batch of records
    (``on_raw_mails``) is judged the same way and written in one transaction."""

    def __init__(
        self,
        side: str,
        detector: Detector,
        *,
        producer: str,
        timeout: float,
        consumer: str,
        shadow: bool = False,
        offload: Offload | None = None,
    ) -> None:
        self.side, self.detector, self.timeout, self.shadow = side, detector, timeout, shadow
        self.producer = producer  # the service's name: its outbox relay publishes these rows
        self.consumer = consumer
        # Reading a large mail (a parse of megabytes) must not hold the event loop, which the
        # SMTP door and the API share with this consumer when services share a process.
        self.offload = offload or Offload(name=f"{producer}-read")
        DETECTOR_DURATION.labels(side, detector.name)  # read as 0 before the first mail
        for kind in ("error", "timeout"):
            DETECTOR_FAILURES.labels(side, detector.name, kind)
        for code in COVERAGE_CODES:
            DETECTOR_COVERAGE_FLAGS.labels(side, code)

    async def on_raw_mail(self, event: RawMailReceived, session: AsyncSession) -> None:
        if event.security_level in NO_AI_LEVELS:
            async with session.begin():
                await self._record(session, event)
            return  # L1: no AI analysis, and no AI credits
        with reading():
            async with session.begin():
                if await self._taken(session, event):
                    return
                structured, body = await _raw(session, event)
        verdict = await self._judge(event, structured, body)
        async with session.begin():
            if await self._record(session, event):
                stage_event(session, Topic.SCAN_VERDICTS, verdict, producer=self.producer)

    async def on_raw_mails(self, jobs: list[Job[RawMailReceived]], session: AsyncSession) -> None:
        """A batch: each new mail read and judged as ``on_raw_mail`` does, with no transaction
        open while it is judged; then the verdicts staged and the records marked processed in
        one write transaction for them all (one commit, where each mail paid its own), or one
        per ``WRITE_EVERY_SECONDS`` of judging in a long batch. If anything fails (a raw
        message missing), the records not written yet go to ``on_raw_mail`` one at a time."""
        with reading():
            async with session.begin():
                taken = await self._taken_of(session, [job.event for job in jobs])
        judged: list[tuple[Job[RawMailReceived], DetectorVerdict | None]] = []
        poisoned: PoisonEvent | None = None
        since = time.monotonic()
        for job in jobs:
            event = job.event
            if event.event_id in taken:
                continue
            taken.add(event.event_id)
            verdict = None
            if event.security_level not in NO_AI_LEVELS:  # L1: recorded, never analysed
                with job.traced():
                    try:
                        with reading():
                            async with session.begin():
                                structured, body = await _raw(session, event)
                    except PoisonEvent as exc:
                        poisoned = exc  # left unwritten: taken alone, and dead-lettered
                        continue
                    verdict = await self._judge(event, structured, body)
            judged.append((job, verdict))
            if time.monotonic() - since > WRITE_EVERY_SECONDS:
                await self._write(session, judged)
                judged, since = [], time.monotonic()
        await self._write(session, judged)
        if poisoned is not None:
            raise poisoned  # the records written are skipped as taken; the bad one goes alone

    async def _write(
        self,
        session: AsyncSession,
        judged: list[tuple[Job[RawMailReceived], DetectorVerdict | None]],
    ) -> None:
        """Stage ``judged``'s verdicts and mark their records processed, in one transaction;
        a record another member of the group recorded meanwhile is left as it is."""
        if not judged:
            return
        async with session.begin():
            recorded = await self._taken_of(session, [job.event for job, _ in judged])
            for job, verdict in judged:
                event = job.event
                if event.event_id in recorded:
                    continue
                session.add(
                    ProcessedEvent(
                        consumer=self.consumer,
                        event_id=event.event_id,
                        workspace_id=event.workspace_id,
                    )
                )
                if verdict is not None:
                    with job.traced():
                        stage_event(session, Topic.SCAN_VERDICTS, verdict, producer=self.producer)

    async def _taken(self, session: AsyncSession, event: RawMailReceived) -> bool:
        """Whether this group recorded ``event`` already (a redelivery)."""
        return bool(await self._taken_of(session, [event]))

    async def _taken_of(self, session: AsyncSession, events: list[RawMailReceived]) -> set[UUID]:
        """Which of ``events`` this group recorded already, in one query."""
        query = select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == self.consumer,
            ProcessedEvent.event_id.in_([event.event_id for event in events]),
        )
        return set(await session.scalars(query))

    async def _record(self, session: AsyncSession, event: RawMailReceived) -> bool:
        """Record ``event`` as processed by this group; False if it was already."""
        if await self._taken(session, event):
            return False
        session.add(
            ProcessedEvent(
                consumer=self.consumer, event_id=event.event_id, workspace_id=event.workspace_id
            )
        )
        return True

    async def _judge(
        self, event: RawMailReceived, structured: dict[str, Any] | None, body: bytes
    ) -> DetectorVerdict:
        started = time.perf_counter()
        content = await self.offload.run(scan_content, structured, body)
        assessment, error = await self._assess(content)
        assessment = enforce_coverage(content, assessment)
        for finding in assessment.findings:
            if finding.code.startswith("coverage."):
                DETECTOR_COVERAGE_FLAGS.labels(self.side, finding.code).inc()
        findings, dropped = capped(assessment.findings)
        if dropped:
            EVENTS_TRIMMED.labels(Topic.SCAN_VERDICTS.value).inc()
        return DetectorVerdict(
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

    async def _assess(self, content: ScanContent) -> tuple[Assessment, str | None]:
        labels = (self.side, self.detector.name)
        started = time.perf_counter()
        try:
            assessed = await asyncio.wait_for(self.detector.assess(content), self.timeout)
        except Exception as exc:  # a detector that fails or overruns counts as a flag
            kind = "timeout" if isinstance(exc, TimeoutError) else "error"
            DETECTOR_FAILURES.labels(*labels, kind).inc()
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            finding = Finding(code="detector.error", reason=f"detector failed: {error}")
            return Assessment(score=100, flagged=True, findings=(finding,)), error
        finally:
            DETECTOR_DURATION.labels(*labels).observe(time.perf_counter() - started)
        return assessed, None


async def _raw(
    session: AsyncSession, event: RawMailReceived
) -> tuple[dict[str, Any] | None, bytes]:
    """The mail's parse and bytes as ingest stored them (in the caller's transaction)."""
    raw = await session.get(RawMessage, event.raw_ref)
    if raw is None or raw.workspace_id != event.workspace_id:
        raise PoisonEvent(f"raw message {event.raw_ref} not found")
    return raw.structured, raw.raw
