"""A sender whose complaint rate passes 0.3% is suspended by reputation: its next send through
the API is refused and nothing reaches the relay, the audit log and the inbox's webhook hear of
it, and a person's reinstatement (audited) lets it send again with its rates counted afresh."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import SenderStats
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from tests.support.allowlist import end_cooldowns
from tests.support.duties import both_keys
from tests.support.feedback_events import complaints, delivered, publish_all
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

SENDS = 400


async def sent_count(settings: CommonSettings, inbox_id: uuid.UUID) -> int:
    engine = create_engine(settings.database_url)
    try:
        # A read, so never queued behind reputation's write transactions for SQLite's lock.
        with reading():
            async with create_session_factory(engine)() as db:
                stats = await db.get(SenderStats, inbox_id)
                return 0 if stats is None else stats.sent_count
    finally:
        await engine.dispose()


async def test_a_suspended_sender_sends_nothing_until_a_person_reinstates_it(
    stack: ProcessStack,
    smtp_sink: SmtpSink,
    webhooks: WebhookReceiver,
    settings: CommonSettings,
) -> None:
    made = await bootstrap_workspace(
        settings.database_url, name="noisy", plan="startup", agent_key=True
    )
    auth = both_keys(made.api_key, made.agent_key)
    async with httpx.AsyncClient(base_url=stack.api, auth=auth, timeout=10) as api:
        created = await api.post(
            "/inboxes", json={"slug": "desk", "security_level": "L3", "webhook_url": webhooks.url}
        )
        assert created.status_code == 201, created.text
        inbox_id = uuid.UUID(created.json()["id"])
        assert (await api.post("/allowlist", json={"address": "bob@example.org"})).is_success
        await end_cooldowns(settings)

        # 400 delivered messages over the last day, then 2 complaints: 0.5%.
        start = utcnow() - timedelta(hours=20)
        sends = delivered(
            made.workspace_id, inbox_id, SENDS, start=start, step=timedelta(minutes=3)
        )
        await publish_all(settings, Topic.SENT, sends)

        async def counted() -> bool:
            return await sent_count(settings, inbox_id) == SENDS

        await eventually(counted, what="the sends counted", timeout=120)
        await publish_all(settings, Topic.FEEDBACK, complaints(made.workspace_id, inbox_id, 2))

        async def standing(status: str) -> bool:
            return bool((await api.get("/inboxes/desk")).json()["sending_status"] == status)

        await eventually(lambda: standing("suspended"), what="the suspension")

        refused = await api.post(
            "/inboxes/desk/send", json={"to": ["bob@example.org"], "subject": "Hi", "text": "x"}
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["status"] == "rejected"
        assert refused.json()["error"] == {
            "code": "capability_disabled",
            "message": "The sending inbox is suspended",
        }
        # The inbox, and its workspace (whose sends are the same 400), are both suspended.
        audit = (await api.get("/audit", params={"action": "sender.suspended"})).json()["items"]
        assert sorted(row["target"].split(":")[0] for row in audit) == ["inbox", "workspace"]
        for row in audit:
            assert row["actor"] == "system:reputation"
            assert "2 complaints in 400 messages over 24 h (0.50%)" in row["target"]
        workspace = (await api.get("/workspace")).json()
        assert workspace["sending_status"] == "suspended"

        async def heard(kind: str) -> dict[str, object] | None:
            for delivery in webhooks.deliveries:
                if delivery.json()["type"] == kind:
                    return dict(delivery.json()["data"])
            return None

        told = await eventually(lambda: heard("sender.suspended"), what="the webhook")
        assert told["status"] == "suspended"
        assert told["url"] == "/api/v1/inboxes/desk"

        reinstated = await api.post("/inboxes/desk/reinstate", json={"reason": "list cleaned"})
        assert reinstated.status_code == 200, reinstated.text
        assert reinstated.json()["sending_status"] == "active"
        assert reinstated.json()["reason"].startswith("reinstated by api_key:")
        assert reinstated.json()["reason"].endswith(": list cleaned")
        again = await api.post("/inboxes/desk/reinstate")
        assert again.status_code == 409
        assert again.json()["code"] == "not_suspended"
        await eventually(lambda: heard("sender.active"), what="the reinstatement webhook")
        still = await api.post(
            "/inboxes/desk/send", json={"to": ["bob@example.org"], "subject": "Hi", "text": "x"}
        )
        assert still.json()["error"] == {
            "code": "capability_disabled",
            "message": "The workspace is suspended for its complaint or bounce rate until "
            "reinstated",
        }
        assert (await api.post("/workspace/reinstate", json={"reason": "ok"})).status_code == 200
        audit = (await api.get("/audit", params={"action": "sender.reinstated"})).json()["items"]
        assert sorted(row["target"].split(":")[0] for row in audit) == ["inbox", "workspace"]
        assert all(row["actor"].startswith("api_key:") for row in audit)

        # It sends again; its own new send does not bring the old complaints back.
        allowed = await api.post(
            "/inboxes/desk/send", json={"to": ["bob@example.org"], "subject": "Hi", "text": "x"}
        )
        assert allowed.status_code == 202, allowed.text

        async def delivered_once() -> bool:
            return await sent_count(settings, inbox_id) == SENDS + 1

        await eventually(delivered_once, what="the new send counted")
        assert (await api.get("/inboxes/desk")).json()["sending_status"] == "active"
    assert len(smtp_sink.envelopes) == 1  # only the send after the reinstatement
