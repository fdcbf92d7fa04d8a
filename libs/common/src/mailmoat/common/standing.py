"""A sender's standing changed: say so on ``sender-status``, in the audit log and to the inbox's
webhooks, in the caller's transaction. Reputation calls it for what it decides, the gateway for
a person's reinstatement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.tables import Inbox, Workspace
from mailmoat.common.events import InboxEvent, InboxEventKind, SenderStatusChanged
from mailmoat.common.observability.metrics import REPUTATION_STANDING_CHANGES
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic

Status = Literal["active", "warned", "throttled", "suspended"]
REPUTATION = "system:reputation"


def announce_standing(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    inbox_id: uuid.UUID | None,
    status: Status,
    reason: str,
    producer: str,
    until: datetime | None = None,
    actor: str = REPUTATION,
    source: str = "reputation",
) -> None:
    """Publish the new standing of an inbox (or, with ``inbox_id`` None, of a workspace)."""
    correlation = inbox_id or workspace_id
    changed = SenderStatusChanged(
        mail_id=correlation,
        workspace_id=workspace_id,
        inbox_id=inbox_id,
        status=status,
        reason=reason,
        until=until,
        actor=actor,
    )
    stage_event(session, Topic.SENDER_STATUS, changed, producer=producer)
    reinstated = status == "active" and actor != REPUTATION
    what = "inbox" if inbox_id is not None else "workspace"
    REPUTATION_STANDING_CHANGES.labels("reinstated" if reinstated else status).inc()
    record_audit(
        session,
        workspace_id=workspace_id,
        mail_id=correlation,
        action=f"sender.{'reinstated' if reinstated else status}",
        actor=actor,
        source=source,
        target=f"{what}:{correlation}: {reason}",
        producer=producer,
    )
    if inbox_id is not None:
        event = InboxEvent(
            mail_id=correlation,
            workspace_id=workspace_id,
            inbox_id=inbox_id,
            kind=InboxEventKind(f"sender.{status}"),
            message_id=inbox_id,
            reason=reason,
        )
        stage_event(session, Topic.INBOX_EVENTS, event, producer=producer)


def standing_refusal(workspace: Workspace, inbox: Inbox, now: datetime) -> str | None:
    """Why reputation's word forbids the inbox to send now, or None: a suspended inbox or
    workspace (until a person reinstates it), or one throttled after a burst (until a time)."""
    for what, status, until in (
        ("sending inbox", inbox.sending_status, inbox.sending_status_until),
        ("workspace", workspace.sending_status, workspace.sending_status_until),
    ):
        if status == "suspended":
            return f"The {what} is suspended for its complaint or bounce rate until reinstated"
        if status == "throttled" and until is not None and until > now:
            return f"The {what} is throttled after a burst of sends until {until:%H:%M:%S} UTC"
    return None
