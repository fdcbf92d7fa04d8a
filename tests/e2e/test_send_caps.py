"""The caps under concurrency, through the real API, broker, policy, two dispatch processes and
the SMTP sink: simultaneous sends can never share the last slots, nor be sent twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import select

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import (
    AllowlistEntry,
    Inbox,
    OutboundMessage,
    SendReservation,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from tests.support.peers import SmtpSink
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

SETTLED = ("sent", "failed", "rejected")


class Workspace:
    """A bootstrap-keyed workspace with one L3 inbox, set up straight in the database."""

    def __init__(self, settings: CommonSettings, stack: ProcessStack) -> None:
        self.settings = settings
        self.stack = stack
        self.engine = create_engine(settings.database_url)
        self.sessions = create_session_factory(self.engine)

    async def create(self, slug: str, recipients: list[str], *, already_sent: int) -> str:
        """An inbox whose workspace has ``already_sent`` messages in the last 24 h and every
        recipient allowlisted (cooldown over); returns the agent's API key."""
        made = await bootstrap_workspace(
            self.settings.database_url, name=slug, plan="developer", agent_key=True
        )
        now = utcnow()
        async with self.sessions() as db, db.begin():
            inbox = Inbox(
                workspace_id=made.workspace_id,
                slug=slug,
                address=f"{slug}@{self.settings.mail_domain}",
                security_level="L3",
            )
            db.add(inbox)
            await db.flush()
            for address in recipients:
                db.add(
                    AllowlistEntry(
                        workspace_id=made.workspace_id,
                        address=address,
                        added_at=now - timedelta(minutes=5),
                        active_from=now - timedelta(minutes=4),
                    )
                )
            for n in range(already_sent):
                earlier = OutboundMessage(
                    id=uuid.uuid4(),
                    workspace_id=made.workspace_id,
                    inbox_id=inbox.id,
                    recipients=[f"past{n}@example.org"],
                    subject="earlier",
                    text="earlier",
                    source="api",
                    status="sent",
                )
                db.add(earlier)
                await db.flush()
                db.add(
                    SendReservation(
                        workspace_id=made.workspace_id,
                        inbox_id=inbox.id,
                        outbound_id=earlier.id,
                        recipient=f"past{n}@example.org",
                        reserved_at=now - timedelta(hours=1),
                        outcome="sent",
                    )
                )
        assert made.agent_key is not None
        return made.agent_key

    async def settled(self, ids: list[str]) -> list[OutboundMessage] | None:
        async with self.sessions() as db:
            wanted = [uuid.UUID(i) for i in ids]
            rows = list(
                await db.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(wanted)))
            )
        return rows if len(rows) == len(ids) and all(r.status in SETTLED for r in rows) else None


async def _send_all(stack: ProcessStack, key: str, slug: str, recipients: list[str]) -> list[str]:
    headers = {"authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(
        base_url=stack.api, headers=headers, timeout=60, limits=limits
    ) as api:
        answers = await asyncio.gather(
            *(
                api.post(f"/inboxes/{slug}/send", json={"to": [to], "subject": "s", "text": "t"})
                for to in recipients
            )
        )
    # Each call waits for policy: a refusal answers 200 with the rule; the rest are queued
    # (approved, or still undecided when the call stopped waiting).
    for answer in answers:
        body = answer.json()
        if answer.status_code == 200:
            assert body == {
                "id": body["id"],
                "status": "rejected",
                "risk_score": body["risk_score"],
                "credits_consumed": 0,
                "error": {"code": "cap_exceeded", "message": body["error"]["message"]},
            }
        else:
            assert answer.status_code == 202, answer.text
            assert body["status"] == "queued"
    return [a.json()["id"] for a in answers]


async def test_simultaneous_sends_never_pass_the_caps(
    stack: ProcessStack, settings: CommonSettings, smtp_sink: SmtpSink
) -> None:
    stack.start_replica("dispatch", 2)  # two dispatchers race for the same approvals
    workspaces = Workspace(settings, stack)
    try:
        # 200 sends to 200 recipients at 495 of the workspace's 500: exactly 5 go.
        many = [f"r{n}@example.org" for n in range(200)]
        key = await workspaces.create("busy", many, already_sent=495)
        ids = await _send_all(stack, key, "busy", many)
        rows = await eventually(lambda: workspaces.settled(ids), what="200 decisions", timeout=120)
        assert Counter(r.status for r in rows) == {"sent": 5, "rejected": 195}
        assert {r.decision_code for r in rows if r.status == "rejected"} == {"cap_exceeded"}
        await eventually(lambda: _count(smtp_sink, 5), what="5 mails at the sink")

        # 20 sends to one recipient at 0 of its 5: exactly 5 go.
        key = await workspaces.create("chatty", ["bob@example.org"], already_sent=0)
        ids = await _send_all(stack, key, "chatty", ["bob@example.org"] * 20)
        rows = await eventually(lambda: workspaces.settled(ids), what="20 decisions", timeout=120)
        assert Counter(r.status for r in rows) == {"sent": 5, "rejected": 15}
        await eventually(lambda: _count(smtp_sink, 10), what="5 more mails at the sink")
        await asyncio.sleep(1)  # nothing else trickles in
        assert [e.rcpt_tos for e in smtp_sink.envelopes].count(["bob@example.org"]) == 5
        assert len(smtp_sink.envelopes) == 10
    finally:
        await workspaces.engine.dispose()


async def _count(sink: SmtpSink, expected: int) -> bool | None:
    return True if len(sink.envelopes) >= expected else None
