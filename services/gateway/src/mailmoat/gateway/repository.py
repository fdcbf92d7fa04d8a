"""Workspace-scoped data access: every query the API runs is filtered by the caller's workspace."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mailmoat.common.db.keyset import Keyset, oldest_first
from mailmoat.common.db.tables import (
    AllowlistEntry,
    ApiKey,
    AuditEntry,
    CreditEntry,
    Inbox,
    InboxSenderRule,
    Message,
    OutboundMessage,
    RawMessage,
    ScanVerdictRecord,
    SenderEdge,
    WebhookEndpoint,
    Workspace,
)
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.gateway.problems import Problem

T = TypeVar("T")
"""The sort key of a page's last row: where the next page starts."""


class WorkspaceRepository:
    """Reads and writes of one workspace; other workspaces' rows are invisible (404)."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def workspace(self) -> Workspace:
        found = await self.session.get(Workspace, self.workspace_id)
        if found is None:
            raise Problem(404, "not_found", "Workspace not found")
        return found

    async def inbox(self, slug: str) -> Inbox:
        query = select(Inbox).where(
            Inbox.workspace_id == self.workspace_id, Inbox.slug == slug, Inbox.deleted_at.is_(None)
        )
        return _found(await self.session.scalar(query), f"Inbox '{slug}' not found")

    async def inboxes(
        self, *, after: Keyset | None = None, limit: int | None = None
    ) -> list[Inbox]:
        """Oldest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = select(Inbox).where(
            Inbox.workspace_id == self.workspace_id, Inbox.deleted_at.is_(None)
        )
        return await self._oldest_first(query, Inbox.created_at, Inbox.id, after, limit)

    async def sender_rules(self, inbox: Inbox) -> list[InboxSenderRule]:
        query = select(InboxSenderRule).where(
            InboxSenderRule.workspace_id == self.workspace_id, InboxSenderRule.inbox_id == inbox.id
        )
        return list((await self.session.scalars(query.order_by(InboxSenderRule.pattern))).all())

    async def replace_sender_rules(self, inbox: Inbox, action: str, patterns: list[str]) -> None:
        """Make ``patterns`` the inbox's whole ``action`` list."""
        await self.session.execute(
            delete(InboxSenderRule).where(
                InboxSenderRule.workspace_id == self.workspace_id,
                InboxSenderRule.inbox_id == inbox.id,
                InboxSenderRule.action == action,
            )
        )
        await self.session.flush()
        for pattern in patterns:
            self.session.add(
                InboxSenderRule(
                    workspace_id=self.workspace_id,
                    inbox_id=inbox.id,
                    pattern=pattern,
                    action=action,
                )
            )

    async def messages(
        self,
        inbox: Inbox,
        *,
        statuses: tuple[str, ...],
        sender: str | None,
        since: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Message]:
        """Newest first; ``after`` is the (received_at, id) of the previous page's last row."""
        query = select(Message).where(
            Message.workspace_id == self.workspace_id,
            Message.inbox_id == inbox.id,
            Message.status.in_(statuses),
        )
        if sender is not None:
            query = query.where(func.lower(Message.from_address) == sender.lower())
        if since is not None:
            query = query.where(Message.received_at >= since)
        query = _older_than(query, Message.received_at, Message.id, after)
        query = query.order_by(Message.received_at.desc(), Message.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def senders(
        self,
        inbox: Inbox,
        *,
        kind: str | None,
        after: tuple[datetime, str, str] | None,
        limit: int,
    ) -> list[SenderEdge]:
        """The inbox's sender-graph edges, most recently heard from first; ``after`` is the
        (last_seen, kind, sender) of the previous page's last row."""
        query = select(SenderEdge).where(
            SenderEdge.workspace_id == self.workspace_id, SenderEdge.inbox_id == inbox.id
        )
        if kind is not None:
            query = query.where(SenderEdge.kind == kind)
        order = (SenderEdge.last_seen, SenderEdge.kind, SenderEdge.sender)
        if after is not None:
            query = query.where(tuple_(*order) < tuple_(*after))
        query = query.order_by(*(column.desc() for column in order)).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def thread(self, thread_id: uuid.UUID) -> list[Message]:
        query = select(Message).where(
            Message.workspace_id == self.workspace_id, Message.thread_id == thread_id
        )
        query = query.order_by(Message.received_at, Message.id)
        return list((await self.session.scalars(query)).all())

    async def raw(self, message: Message) -> RawMessage:
        query = select(RawMessage).where(
            RawMessage.workspace_id == self.workspace_id, RawMessage.id == message.raw_id
        )
        return _found(await self.session.scalar(query), "Message not found")

    async def message(self, message_id: uuid.UUID) -> Message:
        query = select(Message).where(
            Message.workspace_id == self.workspace_id, Message.id == message_id
        )
        return _found(await self.session.scalar(query), "Message not found")

    async def verdicts(self, mail_id: uuid.UUID) -> list[ScanVerdictRecord]:
        query = select(ScanVerdictRecord).where(
            ScanVerdictRecord.workspace_id == self.workspace_id,
            ScanVerdictRecord.mail_id == mail_id,
        )
        return list((await self.session.scalars(query.order_by(ScanVerdictRecord.detector))).all())

    async def outbound(self, outbound_id: uuid.UUID) -> OutboundMessage:
        query = select(OutboundMessage).where(
            OutboundMessage.workspace_id == self.workspace_id, OutboundMessage.id == outbound_id
        )
        return _found(await self.session.scalar(query), "Outbound message not found")

    async def outbound_for_update(self, outbound_id: uuid.UUID) -> OutboundMessage:
        """The outbound row, locked until the transaction ends (PostgreSQL; SQLite's write
        transaction is already exclusive), so two reviewers cannot both decide it."""
        query = select(OutboundMessage).where(
            OutboundMessage.workspace_id == self.workspace_id, OutboundMessage.id == outbound_id
        )
        query = query.with_for_update().execution_options(populate_existing=True)
        return _found(await self.session.scalar(query), "Approval not found")

    async def held_sends(
        self, *, inbox: Inbox | None, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[OutboundMessage]:
        """Sends waiting for a person, oldest first (each shows its own deadline)."""
        query = select(OutboundMessage).where(
            OutboundMessage.workspace_id == self.workspace_id,
            OutboundMessage.status == OutboundStatus.PENDING_APPROVAL,
        )
        if inbox is not None:
            query = query.where(OutboundMessage.inbox_id == inbox.id)
        if after is not None:
            at, last = after
            query = query.where(
                (OutboundMessage.created_at > at)
                | ((OutboundMessage.created_at == at) & (OutboundMessage.id > last))
            )
        query = query.order_by(OutboundMessage.created_at, OutboundMessage.id).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def held_send_ids(self, inbox: Inbox, limit: int) -> list[uuid.UUID]:
        """The ids of an inbox's sends waiting for a person, at most ``limit``."""
        query = (
            select(OutboundMessage.id)
            .where(
                OutboundMessage.workspace_id == self.workspace_id,
                OutboundMessage.inbox_id == inbox.id,
                OutboundMessage.status == OutboundStatus.PENDING_APPROVAL,
            )
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def inboxes_by_id(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Inbox]:
        query = select(Inbox).where(Inbox.workspace_id == self.workspace_id, Inbox.id.in_(ids))
        return {inbox.id: inbox for inbox in await self.session.scalars(query)}

    async def credits_spent(self, ref_id: uuid.UUID) -> int:
        """Credits charged for one object (a send: its review event and its delivery)."""
        query = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
            CreditEntry.workspace_id == self.workspace_id, CreditEntry.ref_id == ref_id
        )
        return -int(await self.session.scalar(query) or 0)

    async def allowlist(
        self, *, after: Keyset | None = None, limit: int | None = None
    ) -> list[AllowlistEntry]:
        """Oldest first; ``after`` is the (added_at, id) of the previous page's last row."""
        query = select(AllowlistEntry).where(AllowlistEntry.workspace_id == self.workspace_id)
        return await self._oldest_first(
            query, AllowlistEntry.added_at, AllowlistEntry.id, after, limit
        )

    async def html_recipients(self) -> set[str]:
        """The allowlisted addresses that may receive HTML (lower case)."""
        query = select(AllowlistEntry.address).where(
            AllowlistEntry.workspace_id == self.workspace_id, AllowlistEntry.allow_html
        )
        return {address.lower() for address in await self.session.scalars(query)}

    async def allowlist_row(self, entry_id: uuid.UUID) -> AllowlistEntry:
        query = select(AllowlistEntry).where(
            AllowlistEntry.workspace_id == self.workspace_id, AllowlistEntry.id == entry_id
        )
        return _found(await self.session.scalar(query), "Allowlist entry not found")

    async def webhooks(
        self, *, after: Keyset | None = None, limit: int | None = None
    ) -> list[WebhookEndpoint]:
        """Oldest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == self.workspace_id)
        return await self._oldest_first(
            query, WebhookEndpoint.created_at, WebhookEndpoint.id, after, limit
        )

    async def webhook(self, webhook_id: uuid.UUID) -> WebhookEndpoint:
        query = select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == self.workspace_id, WebhookEndpoint.id == webhook_id
        )
        return _found(await self.session.scalar(query), "Webhook not found")

    async def allowlist_entry(self, address: str) -> AllowlistEntry | None:
        query = select(AllowlistEntry).where(
            AllowlistEntry.workspace_id == self.workspace_id, AllowlistEntry.address == address
        )
        return await self.session.scalar(query)

    async def keys(self, *, after: Keyset | None = None, limit: int | None = None) -> list[ApiKey]:
        """Oldest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = select(ApiKey).where(ApiKey.workspace_id == self.workspace_id)
        return await self._oldest_first(query, ApiKey.created_at, ApiKey.id, after, limit)

    async def key(self, key_id: uuid.UUID) -> ApiKey:
        query = select(ApiKey).where(ApiKey.workspace_id == self.workspace_id, ApiKey.id == key_id)
        return _found(await self.session.scalar(query), "API key not found")

    async def audit(
        self,
        *,
        after: tuple[datetime, uuid.UUID] | None,
        action: str | None,
        since: datetime | None,
        limit: int,
    ) -> list[AuditEntry]:
        """Newest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = select(AuditEntry).where(AuditEntry.workspace_id == self.workspace_id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if since is not None:
            query = query.where(AuditEntry.created_at >= since)
        query = _older_than(query, AuditEntry.created_at, AuditEntry.id, after)
        query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def credit_entries(
        self, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[CreditEntry]:
        """Newest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = select(CreditEntry).where(CreditEntry.workspace_id == self.workspace_id)
        query = _older_than(query, CreditEntry.created_at, CreditEntry.id, after)
        query = query.order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def _oldest_first(
        self,
        query: Select[T],
        at_column: InstrumentedAttribute[datetime],
        id_column: InstrumentedAttribute[uuid.UUID],
        after: Keyset | None,
        limit: int | None,
    ) -> list[T]:
        """Keyset pagination, oldest first: the rows sorted after (``at``, ``id``)."""
        query = oldest_first(query, at_column, id_column, after, limit)
        return list((await self.session.scalars(query)).all())


def _older_than(
    query: Select[T],
    at_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    after: tuple[datetime, uuid.UUID] | None,
) -> Select[T]:
    """Keyset pagination, newest first: the rows sorted after (``at``, ``id``)."""
    if after is None:
        return query
    at, last = after
    return query.where((at_column < at) | ((at_column == at) & (id_column < last)))


def _found(row: T | None, detail: str) -> T:
    if row is None:
        raise Problem(404, "not_found", detail)
    return row
