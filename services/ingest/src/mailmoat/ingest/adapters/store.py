"""Mail store: inbox lookup at RCPT time and the durable write of a received message."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.credits import INBOUND, charge
from mailmoat.common.db.tables import Inbox, InboxSenderRule, RawMessage
from mailmoat.common.events import RawMailReceived
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.ingest.analysis import Analysis
from mailmoat.ingest.domain.senders import SenderRule

PRODUCER = "ingest"


@dataclass(frozen=True)
class Envelope:
    """What the SMTP session told us about one message."""

    mail_from: str
    client_ip: str
    helo: str


@dataclass(frozen=True)
class Delivery:
    """One recipient's copy: where it goes and what ingest decided about it."""

    inbox: Inbox
    rcpt_to: str
    quarantine_reason: str | None
    trusted_sender: bool


async def recipient(
    session: AsyncSession, address: str
) -> tuple[Inbox | None, tuple[SenderRule, ...]]:
    """The live inbox owning ``address`` (case-insensitive), if any (deleted ones receive
    nothing), and its inbound sender allow/block rules: in one query."""
    query = (
        select(Inbox, InboxSenderRule)
        .outerjoin(InboxSenderRule, InboxSenderRule.inbox_id == Inbox.id)
        .where(func.lower(Inbox.address) == address.lower(), Inbox.deleted_at.is_(None))
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None, ()
    inbox = rows[0][0]
    rules = (row[1] for row in rows if row[0] is inbox and row[1] is not None)
    return inbox, tuple(SenderRule(rule.pattern, rule.action) for rule in rules)


async def store_message(
    session: AsyncSession, envelope: Envelope, analysis: Analysis, delivery: Delivery
) -> uuid.UUID:
    """Write the stamped MIME, its analysis, its ``raw-mail`` event, its credit charge and an
    audit row."""
    mail_id, inbox, raw = uuid.uuid4(), delivery.inbox, analysis.stored_raw
    digest = hashlib.sha256(raw).hexdigest()
    findings = [f.model_dump(mode="json") for f in analysis.findings]
    session.add(
        RawMessage(
            id=mail_id,
            workspace_id=inbox.workspace_id,
            inbox_id=inbox.id,
            mail_from=envelope.mail_from,
            rcpt_to=delivery.rcpt_to,
            raw=raw,
            sha256=digest,
            size=len(raw),
            client_ip=envelope.client_ip,
            helo=envelope.helo[:255],
            structured=analysis.message.model_dump(mode="json"),
            authentication=analysis.authentication.model_dump(mode="json"),
            findings=findings,
            invalid_mime=analysis.message.invalid_mime,
            quarantine_reason=delivery.quarantine_reason,
        )
    )
    event = RawMailReceived(
        mail_id=mail_id,
        workspace_id=inbox.workspace_id,
        inbox_id=inbox.id,
        raw_ref=mail_id,
        sha256=digest,
        size=len(raw),
        mail_from=envelope.mail_from,
        rcpt_to=delivery.rcpt_to,
        security_level=inbox.security_level,
        invalid_mime=analysis.message.invalid_mime,
        l1_findings=analysis.findings,
        quarantine_reason=delivery.quarantine_reason,
        dmarc=analysis.authentication.dmarc.result,
        trusted_sender=delivery.trusted_sender,
        header_from=analysis.header_from,
    )
    stage_event(session, Topic.RAW_MAIL, event, producer=PRODUCER)
    # The mail's id is also its message's id (policy stores the message under it), so the
    # charge names what the API shows.
    await charge(session, inbox.workspace_id, INBOUND, mail_id, new_ref=True)
    record_audit(
        session,
        workspace_id=inbox.workspace_id,
        mail_id=mail_id,
        action="inbound.quarantined" if delivery.quarantine_reason else "inbound.received",
        actor=f"smtp:{envelope.mail_from or '<>'}",
        source="smtp",
        target=f"inbox:{inbox.id}",
        producer=PRODUCER,
    )
    return mail_id
