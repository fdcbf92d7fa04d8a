"""The outbound check for large verbatim copies of inbound mail: an agent tricked into mailing
out what it received (another customer's mail, a colleague's message) repeats it word for word.

Policy keeps every stored inbound mail's fingerprint (``domain.fingerprint``: at most 128 of
its shingle hashes, about 1 KB) in a narrow table of its own (``MailFingerprint``). A draft is
compared with the fingerprints of the workspace's newest ``SCANNED`` mails of the lookback, so a
decision reads a bounded number of small rows whatever the workspace has received (sends are
capped at 500 a day, so the read is bounded in total too).

A copy is large when the draft repeats an estimated ``LARGE_COPY`` eight-word runs of one mail
(about forty words in a row, or several shorter passages). It is no leak when every recipient
already took part in the copied mail's thread (its senders, and those the workspace's sends in
it went to): quoting a mail back to the people who wrote or received it tells them nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import MailFingerprint, Message
from mailmoat.policy.adapters.repository import PolicyRepository
from mailmoat.policy.domain.fingerprint import Fingerprint, containment

LOOKBACK = timedelta(days=30)
"""How far back inbound mail is compared with a draft."""
SCANNED = 500
"""Inbound mails compared with one draft, newest first."""
LARGE_COPY = 32
"""Eight-word runs of one mail a draft may repeat before it is a large copy."""


@dataclass(frozen=True)
class CopiedMail:
    """An inbound mail the draft repeats at length, to someone outside its thread."""

    message_id: uuid.UUID
    from_address: str
    runs: int
    """The estimated number of the mail's eight-word runs the draft repeats."""

    @property
    def detail(self) -> str:
        return (
            f"repeats about {self.runs + 7} words of inbound message {self.message_id} "
            f"(from {self.from_address}) to recipients outside its thread"
        )


def keep_fingerprint(session: AsyncSession, message: Message, found: Fingerprint) -> None:
    """Keep ``found`` (the fingerprint of ``message``'s text) for the copy check, in a row of
    its own. The message must be flushed (it has its id)."""
    session.add(
        MailFingerprint(
            message_id=message.id,
            workspace_id=message.workspace_id,
            received_at=message.received_at,
            from_address=message.from_address,
            hashes=list(found.hashes),
            shingles=found.shingles,
        )
    )


async def copied_inbound(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    draft: Fingerprint,
    recipients: list[str],
    now: datetime,
) -> tuple[CopiedMail, ...]:
    """The workspace's recent inbound mails the draft copies at length to someone who never
    took part in their thread."""
    if draft.shingles < LARGE_COPY:
        return ()
    kept = MailFingerprint
    rows = await session.execute(
        select(kept.message_id, kept.from_address, kept.hashes, kept.shingles)
        .where(kept.workspace_id == workspace_id, kept.received_at >= now - LOOKBACK)
        .order_by(kept.received_at.desc())
        .limit(SCANNED)
    )
    repo = PolicyRepository(session, workspace_id)
    found = []
    for message_id, sender, hashes, shingles in rows.all():
        mail = Fingerprint(tuple(hashes), shingles)
        runs = round(containment(mail, draft) * mail.shingles)
        if runs < LARGE_COPY:
            continue
        people = await repo.participants(message_id)
        if not all(r.lower() in people for r in recipients):
            found.append(CopiedMail(message_id, sender, runs))
    return tuple(found)
