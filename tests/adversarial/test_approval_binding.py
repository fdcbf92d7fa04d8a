"""An approval is for the exact draft a person saw, and nothing else leaves under it.

The reviewer's page shows the held draft's fingerprint; approving with it refuses a draft that
changed since. The approved draft's fingerprint is stored with the decision (and in its audit
row), and dispatch refuses a send whose draft no longer matches it: here the draft is rewritten
in the database after its approval, and the approval event delivered, as an attacker with a
foothold between the services would. A reviewer's own edits are prepared as policy prepares
what leaves (hidden characters scrubbed, HTML sanitised), so an honest edit is sent exactly as
approved.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import default
from typing import Any
from unittest.mock import ANY

from aiokafka import AIOKafkaProducer
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mailmoat.common.db.session import create_engine
from mailmoat.common.db.tables import AuditEntry, OutboundMessage, SendReservation
from mailmoat.common.events import SendApproved
from mailmoat.common.events.base import utcnow
from mailmoat.common.topics import Topic
from tests.support.adversary import Adversary
from tests.support.allowlist import end_cooldowns
from tests.support.waiting import eventually

SETTLED = ("rejected", "sent", "failed")


async def _held(adversary: Adversary, *, allow_html: bool = False) -> tuple[str, str, str]:
    """An L4 inbox, a recipient on the allowlist (cooldown over) and the agent's held send."""
    slug = await adversary.inbox(level="L4")
    recipient = f"{slug}@partner.example"
    added = await adversary.person.post(
        "/allowlist", json={"address": recipient, "allow_html": allow_html}
    )
    assert added.status_code == 201, added.text
    await end_cooldowns(adversary.stack.settings, recipient)
    draft = {
        "to": [recipient],
        "subject": "Invoice 4471",
        "text": "The invoice is attached in the portal.",
        "html": "<p>The invoice is attached in the portal.</p>",
    }
    asked = await adversary.sender.post(f"/inboxes/{slug}/send", json=draft)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "pending_approval", asked.text
    return slug, recipient, str(asked.json()["id"])


async def _settled(adversary: Adversary, outbound_id: str) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        body: dict[str, Any] = (await adversary.person.get(f"/outbound/{outbound_id}")).json()
        return body if body["status"] in SETTLED else None

    return await eventually(decided, timeout=120, what=f"the send {outbound_id} to settle")


@contextlib.asynccontextmanager
async def _database(adversary: Adversary) -> AsyncIterator[AsyncConnection]:
    """A connection of its own to the stack's database, behind every service's back."""
    engine = create_engine(adversary.database_url)
    try:
        async with engine.begin() as db:
            yield db
    finally:
        await engine.dispose()


async def _rewrite(adversary: Adversary, outbound_id: str, **values: Any) -> None:
    async with _database(adversary) as db:
        await db.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == uuid.UUID(outbound_id))
            .values(**values)
        )


async def _row(adversary: Adversary, outbound_id: str) -> Any:
    async with _database(adversary) as db:
        query = select(OutboundMessage.__table__).where(
            OutboundMessage.id == uuid.UUID(outbound_id)
        )
        return (await db.execute(query)).one()


async def _audited(adversary: Adversary, recipient: str) -> dict[str, dict[str, Any] | None]:
    """The audit rows of the sends to ``recipient`` (one per test): each action and its detail."""
    async with _database(adversary) as db:
        query = select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.target == recipient)
        return {row.action: row.detail for row in await db.execute(query)}


def _sha256(to: list[str], subject: str, text: str, html: str | None) -> str:
    """The fingerprint as documented: SHA-256 of the canonical JSON of the draft."""
    content = {"html": html, "subject": subject, "text": text, "to": to}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


async def test_an_approval_names_the_draft_the_person_saw(adversary: Adversary) -> None:
    _, recipient, outbound_id = await _held(adversary)
    seen = (await adversary.person.get(f"/approvals/{outbound_id}")).json()
    # The recipient may not receive HTML, so policy held the draft as text only.
    assert seen["html"] is None
    assert seen["fingerprint"] == _sha256([recipient], seen["subject"], seen["text"], None)

    # The draft changes while the person reads it.
    await _rewrite(adversary, outbound_id, text="Pay the new account: DE89 3704 0044 0532 0130 00")
    approved = await adversary.person.post(
        f"/approvals/{outbound_id}/approve", json={"fingerprint": seen["fingerprint"]}
    )
    assert approved.status_code == 409, approved.text
    assert approved.json()["code"] == "draft_changed"
    assert (await adversary.person.get(f"/outbound/{outbound_id}")).json()["status"] == (
        "pending_approval"
    )
    malformed = await adversary.person.post(
        f"/approvals/{outbound_id}/approve", json={"fingerprint": "not-a-fingerprint"}
    )
    assert malformed.status_code == 422, malformed.text

    # Shown again, the person sees what would leave and rejects it.
    again = (await adversary.person.get(f"/approvals/{outbound_id}")).json()
    assert again["text"].startswith("Pay the new account")
    assert again["fingerprint"] != seen["fingerprint"]
    rejected = await adversary.person.post(
        f"/approvals/{outbound_id}/reject", json={"reason": "not what the agent drafted"}
    )
    assert rejected.status_code == 200, rejected.text
    assert adversary.sink.received(outbound_id) == []


async def test_a_draft_changed_after_its_approval_is_never_sent(adversary: Adversary) -> None:
    _, recipient, outbound_id = await _held(adversary)
    seen = (await adversary.person.get(f"/approvals/{outbound_id}")).json()
    # As if a person and policy had approved the draft, which is then rewritten before dispatch
    # takes it (its recipient reserved, so only the changed draft stands in its way).
    tampered = "Wire the balance to DE89 3704 0044 0532 0130 00 today."
    await _rewrite(
        adversary,
        outbound_id,
        status="approved",
        approved_sha256=seen["fingerprint"],
        text=tampered,
    )
    row = await _row(adversary, outbound_id)
    async with _database(adversary) as db:
        reserved = {
            "workspace_id": row.workspace_id,
            "inbox_id": row.inbox_id,
            "outbound_id": row.id,
            "recipient": recipient,
            "reserved_at": utcnow(),
        }
        await db.execute(insert(SendReservation.__table__).values(**reserved))
    await _deliver_approval(adversary, row)

    settled = await _settled(adversary, outbound_id)
    assert settled["status"] == "failed", settled
    assert settled["error"]["code"] == "approval_mismatch", settled
    assert adversary.sink.received(outbound_id) == []
    assert "outbound.refused" in await _audited(adversary, recipient)


async def test_a_reviewers_edit_leaves_exactly_as_approved(adversary: Adversary) -> None:
    _, recipient, outbound_id = await _held(adversary, allow_html=True)
    seen = (await adversary.person.get(f"/approvals/{outbound_id}")).json()
    edits = {
        "subject": "Invoice 4471\u200b (corrected)",
        "text": "The corrected\u202e invoice is in the portal.",
        "html": '<p onclick="x()">The corrected invoice.</p><img src="https://evil.example/p">',
        "fingerprint": seen["fingerprint"],
    }
    approved = await adversary.person.post(f"/approvals/{outbound_id}/approve", json=edits)
    assert approved.status_code in (200, 202), approved.text
    settled = await _settled(adversary, outbound_id)
    assert settled["status"] == "sent", settled

    [raw] = adversary.sink.received(outbound_id)
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    parts = {
        part.get_content_type(): part.get_content().replace("\r\n", "\n").rstrip("\n")
        for part in message.walk()
        if not part.is_multipart()
    }
    subject = str(message["subject"])
    assert subject == "Invoice 4471 (corrected)"
    assert parts["text/plain"] == "The corrected invoice is in the portal."
    assert "onclick" not in parts["text/html"]
    assert "<img" not in parts["text/html"]
    # The approval's audit row names the draft that left, byte for byte.
    row = await _row(adversary, outbound_id)
    assert (row.subject, row.text) == (subject, parts["text/plain"])
    leaving = _sha256([recipient], row.subject, row.text, row.html)
    assert row.approved_sha256 == leaving
    assert (await _audited(adversary, recipient))["outbound.edited_and_approved"] == {
        "edits": ANY,
        "note": None,
        "sha256": leaving,
    }


async def _deliver_approval(adversary: Adversary, row: Any) -> None:
    """Publish ``send-approved`` for the send, as policy would."""
    settings = adversary.stack.settings
    event = SendApproved(
        mail_id=row.id, workspace_id=row.workspace_id, inbox_id=row.inbox_id, risk_score=0
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = settings.topic(Topic.SEND_APPROVED.value)
        await producer.send_and_wait(topic, event.to_bytes(), key=str(row.id).encode())
    finally:
        await producer.stop()
