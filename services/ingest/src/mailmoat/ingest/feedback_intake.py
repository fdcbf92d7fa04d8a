"""Complaints and bounces: accepted only where they prove they answer our mail, kept, matched to
the send, and published for the recipients that send went to.

Two addresses take reports. A send's bounce address (``bounces+<outbound id>.<mac>@``, the
envelope sender dispatch gives the relay) names the send, and its MAC proves it. The plain
feedback address (``feedback@``, where feedback loops send ARF) names nothing, so a report there
counts only when the mail it reports carries our own DKIM signature over its Message-ID. Any
other address on either base (a wrong or missing MAC, ``feedback+<tag>@``) is refused at RCPT.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db import tables
from mailmoat.common.events import FeedbackReceived
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.common.verp import VerpKey
from mailmoat.ingest.domain.feedback import parse_feedback
from mailmoat.ingest.domain.feedback.model import FeedbackRecipient, FeedbackReport
from mailmoat.ingest.domain.feedback.proof import OwnKey, signed_message_id
from mailmoat.ingest.domain.feedback.recipients import recipients_to_count

if TYPE_CHECKING:
    from mailmoat.ingest.adapters.store import Envelope
    from mailmoat.ingest.analysis import Analysis

log = logging.getLogger(__name__)

PRODUCER = "ingest"
_ANGLES = re.compile(r"^<|>$")


class FeedbackIntake:
    """The feedback address and the bounce addresses: which to take, which to refuse."""

    def __init__(self, address: str, verp: VerpKey, own_keys: Sequence[OwnKey] = ()) -> None:
        self._local, _, self._domain = address.lower().rpartition("@")
        self._verp = verp
        self._own_keys = tuple(own_keys)

    def is_feedback_address(self, address: str) -> bool:
        """A report may be sent here: the plain feedback address, or a bounce address whose MAC
        is ours."""
        local, _, domain = _bare(address).rpartition("@")
        plain = domain == self._domain and local == self._local
        return plain or self._verp.verify(address) is not None

    def refuses(self, address: str) -> bool:
        """On a feedback base but unproven: a bounce address with a wrong or missing MAC, or a
        tagged feedback address. Refused at RCPT, never delivered to an inbox."""
        if self.is_feedback_address(address):
            return False
        local, _, domain = _bare(address).rpartition("@")
        tagged = domain == self._domain and local.partition("+")[0] == self._local
        return tagged or self._verp.is_bounce_address(address)

    async def record(
        self, db: AsyncSession, envelope: Envelope, analysis: Analysis, rcpts: list[str]
    ) -> uuid.UUID:
        """Keep the report; publish ``feedback`` for each counted recipient of a proven send."""
        report = parse_feedback(analysis.stored_raw)
        outbound, note = await self._proven_send(db, rcpts, analysis.stored_raw)
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
            note="not a recognisable ARF report or DSN" if report is None else note,
        )
        db.add(row)
        if report is not None and outbound is not None:
            row.note = _publish(db, report, outbound)
        return row.id

    async def _proven_send(
        self, db: AsyncSession, rcpts: list[str], raw: bytes
    ) -> tuple[tables.OutboundMessage | None, str | None]:
        """The send the report proves it answers, or why none."""
        named = next((found for r in rcpts if (found := self._verp.verify(r)) is not None), None)
        if named is not None:
            outbound = await db.get(tables.OutboundMessage, named)
            return outbound, None if outbound else "the bounce address names no send of ours"
        message_id = signed_message_id(raw, self._own_keys)
        if message_id is None:
            return None, "the reported message carries no signature of ours over its Message-ID"
        wanted = _ANGLES.sub("", message_id.strip())
        query = select(tables.OutboundMessage).where(
            tables.OutboundMessage.smtp_message_id.in_([wanted, f"<{wanted}>"])
        )
        outbound = (await db.scalars(query)).first()
        return outbound, None if outbound else "no send of ours has that Message-ID"


def _publish(
    db: AsyncSession, report: FeedbackReport, outbound: tables.OutboundMessage
) -> str | None:
    """One event per counted recipient; what was left out, as the row's note."""
    if outbound.status != OutboundStatus.SENT:
        return f"the send did not leave (it is {outbound.status}): nothing counts"
    counted = recipients_to_count(report, outbound.recipients)
    for entry in counted:
        _stage(db, report, outbound, entry)
    left_out = len(report.recipients) - len(counted)
    if left_out > 0:
        return f"{left_out} recipient(s) not counted: not ones the send went to, or repeated"
    return None


def _stage(
    db: AsyncSession,
    report: FeedbackReport,
    outbound: tables.OutboundMessage,
    entry: FeedbackRecipient,
) -> None:
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


def _bare(address: str) -> str:
    return address.strip().strip("<>").lower()
