"""Durable audit rows plus their real-time copy on the ``audit`` topic, in one transaction."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import AuditEntry
from mailmoat.common.events import AuditRecorded
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic


def subject_hash(subject: str) -> str:
    """SHA-256 of a subject: audit records hash subjects, they never store them."""
    return hashlib.sha256(subject.encode()).hexdigest()


def record_audit(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    mail_id: uuid.UUID,
    action: str,
    actor: str,
    source: str,
    target: str,
    producer: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    provider: str | None = None,
) -> AuditEntry:
    """Append an audit row and stage its ``audit`` event in the caller's transaction.

    ``detail`` (a reviewer's edit, say) stays in the row: the event never carries it.
    ``provider`` names the outside service an outbound call went to."""
    entry = AuditEntry(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        action=action,
        actor=actor,
        source=source,
        provider=provider,
        target=target,
        subject_sha256=subject_hash(subject) if subject is not None else None,
        detail=detail,
    )
    session.add(entry)
    event = AuditRecorded(
        mail_id=mail_id,
        workspace_id=workspace_id,
        action=action,
        actor=actor,
        source=source,
        provider=provider,
        target=target,
        subject_sha256=entry.subject_sha256,
        audit_id=entry.id,
    )
    stage_event(session, Topic.AUDIT, event, producer=producer)
    return entry
