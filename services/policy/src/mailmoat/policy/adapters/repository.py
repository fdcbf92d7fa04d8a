"""The rows policy reads to store inbound mail and to judge a send, scoped to one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import (
    AllowlistEntry,
    ApiKey,
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    ScanVerdictRecord,
    Workspace,
)
from mailmoat.common.mail.auth import AuthenticationResults
from mailmoat.common.outbound_status import COUNTED
from mailmoat.common.subscription import PoisonEvent

APPROVE_SCOPE = "approve:mail"
REFERENCES_LOOKED_UP = 50
"""A mail's In-Reply-To and References looked up for its thread, at most."""


class PolicyRepository:
    """One workspace's rows as policy needs them; another workspace's row is never returned."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def raw(self, raw_id: uuid.UUID) -> RawMessage:
        raw = await self.session.get(RawMessage, raw_id)
        if raw is None or raw.workspace_id != self.workspace_id:
            raise PoisonEvent(f"raw message {raw_id} not found")
        return raw

    async def verdicts(self, ids: Sequence[uuid.UUID]) -> list[ScanVerdictRecord]:
        query = select(ScanVerdictRecord).where(
            ScanVerdictRecord.id.in_(ids), ScanVerdictRecord.workspace_id == self.workspace_id
        )
        return list(await self.session.scalars(query))

    async def thread_of(self, inbox_id: uuid.UUID, refs: Sequence[str]) -> uuid.UUID | None:
        """The thread of the newest earlier message of the inbox whose Message-ID is one of
        ``refs``, if any."""
        if not refs:
            return None
        query = (
            select(Message.thread_id)
            .where(
                Message.workspace_id == self.workspace_id,
                Message.inbox_id == inbox_id,
                Message.message_id_header.in_(refs[:REFERENCES_LOOKED_UP]),
                Message.thread_id.is_not(None),
            )
            .order_by(Message.received_at.desc())
            .limit(1)
        )
        return await self.session.scalar(query)

    async def sender(self, inbox_id: uuid.UUID | None) -> Inbox | Workspace:
        """The inbox, or with no inbox the workspace, whose sending standing changed."""
        sender: Inbox | Workspace | None
        if inbox_id is None:
            sender = await self.session.get(Workspace, self.workspace_id)
        else:
            sender = await self.session.get(Inbox, inbox_id)
            if sender is not None and sender.workspace_id != self.workspace_id:
                sender = None
        if sender is None:
            raise PoisonEvent(f"sender {inbox_id or self.workspace_id} not found")
        return sender

    async def outbound(self, outbound_id: uuid.UUID, *, fresh: bool = False) -> OutboundMessage:
        found = await self.session.get(OutboundMessage, outbound_id, populate_existing=fresh)
        if found is None or found.workspace_id != self.workspace_id:
            raise PoisonEvent(f"outbound message {outbound_id} not found")
        return found

    async def inbox(self, inbox_id: uuid.UUID) -> Inbox:
        found = await self.session.get(Inbox, inbox_id)
        if found is None or found.workspace_id != self.workspace_id:
            raise PoisonEvent(f"inbox {inbox_id} not found")
        return found

    async def canaries(self) -> dict[str, str]:
        """The canary tokens of the workspace's inboxes, each with its inbox's slug
        (``mailmoat.common.canary``)."""
        query = select(Inbox.canary_token, Inbox.slug).where(
            Inbox.workspace_id == self.workspace_id, Inbox.canary_token.is_not(None)
        )
        return {token: slug for token, slug in await self.session.execute(query) if token}

    async def locked_workspace(self) -> Workspace:
        """The workspace row, locked until the transaction ends (PostgreSQL; SQLite's write
        transaction is already exclusive): the cap counts read under it hold until the
        reservations are written."""
        workspace = await self.session.scalar(
            select(Workspace)
            .where(Workspace.id == self.workspace_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if workspace is None:
            raise PoisonEvent(f"workspace {self.workspace_id} not found")
        return workspace

    async def allowlist(self) -> list[AllowlistEntry]:
        query = select(AllowlistEntry).where(AllowlistEntry.workspace_id == self.workspace_id)
        return list(await self.session.scalars(query))

    async def context_of(
        self, ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, str, AuthenticationResults | None]]:
        """Each inbound message a send answers or draws on: its status and authentication."""
        if not ids:
            return []
        rows = await self.session.execute(
            select(Message.id, Message.status, RawMessage.authentication)
            .join(RawMessage, RawMessage.id == Message.raw_id)
            .where(Message.workspace_id == self.workspace_id, Message.id.in_(ids))
        )
        return [
            (message_id, status, _authentication(authentication))
            for message_id, status, authentication in rows.all()
        ]

    async def has_approver(self) -> bool:
        """Whether a live key of the workspace may approve a held send."""
        keys = await self.session.scalars(
            select(ApiKey.scopes).where(
                ApiKey.workspace_id == self.workspace_id, ApiKey.revoked_at.is_(None)
            )
        )
        return any(APPROVE_SCOPE in scopes for scopes in keys)

    async def participants(self, answered_id: uuid.UUID) -> frozenset[str]:
        """Everyone in the thread of the answered message: the senders of its inbound messages
        and the recipients of the sends that answered them (none when it is not found)."""
        answered = await self.session.get(Message, answered_id)
        if answered is None or answered.workspace_id != self.workspace_id:
            return frozenset()
        in_thread = (
            Message.thread_id == answered.thread_id
            if answered.thread_id
            else Message.id == answered.id
        )
        rows = await self.session.execute(
            select(Message.id, Message.from_address).where(
                Message.workspace_id == self.workspace_id, in_thread
            )
        )
        messages = rows.all()
        people = {sender.lower() for _, sender in messages}
        replies = await self.session.scalars(
            select(OutboundMessage.recipients).where(
                OutboundMessage.workspace_id == self.workspace_id,
                OutboundMessage.in_reply_to.in_([m for m, _ in messages]),
                OutboundMessage.status.in_(COUNTED),
            )
        )
        for recipients in replies:
            people.update(r.lower() for r in recipients)
        return frozenset(people)


def _authentication(stored: dict[str, Any] | None) -> AuthenticationResults | None:
    """Ingest's results as it stored them (None: not analysed, or stored in a form no longer
    read, which the taint check treats as it treats a mail that was not analysed)."""
    if stored is None:
        return None
    try:
        return AuthenticationResults.model_validate(stored)
    except ValidationError:
        return None
