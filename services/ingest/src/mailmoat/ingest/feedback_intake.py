"""Complaints and bounces sent to the feedback address: kept, matched to a send, published."""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db import tables
from mailmoat.common.events import FeedbackReceived
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.ingest.domain.feedback import parse_feedback
from mailmoat.ingest.domain.feedback.model import FeedbackKind, FeedbackReport

if TYPE_CHECKING:
    from mailmoat.ingest.adapters.store import Envelope
    from mailmoat.ingest.analysis import Analysis

log = logging.getLogger(__name__)

PRODUCER = "ingest"
PUBLISHED_KINDS = (FeedbackKind.COMPLAINT, FeedbackKind.HARD_BOUNCE, FeedbackKind.SOFT_BOUNCE)
_ANGLES = re.compile(r"^<|>$")


class FeedbackIntake:
    """``feedback@domain`` and its tagged form ``feedback+<outbound id>@domain`` (VERP)."""

    def __init__(self, address: str) -> None:
        self._local, _, self._domain = address.lower().rpartition("@")

    def is_feedback_address(self, address: str) -> bool:
        local, _, domain = address.strip().strip("<>").lower().rpartition("@")
        base = local.split("+", 1)[0]
        return domain == self._domain and base == self._local

    @staticmethod
    def tagged_outbound(rcpts: list[str]) -> uuid.UUID | None:
        """The outbound id carried in a tagged feedback address, if any."""
        for rcpt in rcpts:
            tag = rcpt.strip("<>").rpartition("@")[0].partition("+")[2]
            try:
                return uuid.UUID(tag)
            except ValueError:
                continue
        return None

    async def record(
        self, db: AsyncSession, envelope: Envelope, analysis: Analysis, rcpts: list[str]
    ) -> uuid.UUID:
        """Keep the report; publish ``feedback`` for each affected recipient of a known send."""
        report = parse_feedback(analysis.stored_raw)
        outbound = await self._find_outbound(db, self.tagged_outbound(rcpts), report)
        row = tables.FeedbackReport(
            id=uuid.uuid4(),
            workspace_id=outbound.workspace_id if outbound else None,
            outbound_id=outbound.id if outbound else None,
            kind=report.kind.value if report else "unparsed",
            original_message_id=report.original_message_id if report else None,
            report=report.model_dump(mode="json") if report else {},
            raw=analysis.stored_raw,
            mail_from=envelope.mail_from,
            client_ip=envelope.client_ip,
            note=_note(report, outbound),
        )
        db.add(row)
        if report is not None and outbound is not None:
            self._publish(db, report, outbound)
        return row.id

    async def _find_outbound(
        self, db: AsyncSession, tagged: uuid.UUID | None, report: FeedbackReport | None
    ) -> tables.OutboundMessage | None:
        if tagged is not None and (found := await db.get(tables.OutboundMessage, tagged)):
            return found
        if report is None or not report.original_message_id:
            return None
        wanted = _ANGLES.sub("", report.original_message_id.strip())
        query = select(tables.OutboundMessage).where(
            tables.OutboundMessage.smtp_message_id.in_([wanted, f"<{wanted}>"])
        )
        return (await db.scalars(query)).first()

    def _publish(
        self, db: AsyncSession, report: FeedbackReport, outbound: tables.OutboundMessage
    ) -> None:
        for entry in report.recipients:
            if entry.kind not in PUBLISHED_KINDS:
                continue
            event = FeedbackReceived(
                mail_id=outbound.id,
                workspace_id=outbound.workspace_id,
                inbox_id=outbound.inbox_id,
                kind=entry.kind.value,
                recipient=entry.recipient,
                outbound_id=outbound.id,
            )
            stage_event(db, Topic.FEEDBACK, event, producer=PRODUCER)
            record_audit(
                db,
                workspace_id=outbound.workspace_id,
                mail_id=outbound.id,
                action=f"feedback.{entry.kind.value}",
                actor=f"feedback:{report.reporting_mta or 'unknown'}",
                source="smtp",
                target=f"outbound:{outbound.id}",
                producer=PRODUCER,
            )


def _note(report: FeedbackReport | None, outbound: tables.OutboundMessage | None) -> str | None:
    if report is None:
        return "not a recognisable ARF report or DSN"
    if outbound is None:
        return "no outbound message matches this report"
    return None
