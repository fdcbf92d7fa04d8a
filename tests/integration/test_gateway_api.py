"""The gateway API over real HTTP (the gateway service on its own) on SQLite and PostgreSQL:
keys, the workspace's kill switch, the audit log, and isolation between two workspaces."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from mailmoat.cli.bootstrap import BOOTSTRAP_SCOPES, bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import (
    Inbox,
    Message,
    OutboundMessage,
    OutboxRecord,
    RawMessage,
    SenderEdge,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from mailmoat.gateway.keys import SCOPES, SEND_SCOPE
from mailmoat.ingest.adapters.store import recipient
from tests.support.duties import both_keys
from tests.support.stack import LoneGateway, gateway_alone

PROBLEM = "application/problem+json"


@dataclass
class Tenant:
    """A workspace with a client holding its bootstrap (every scope) key."""

    workspace_id: uuid.UUID
    client: httpx.AsyncClient

    async def key(self, *scopes: str) -> httpx.AsyncClient:
        """A client with a new key holding exactly ``scopes``."""
        made = await self.client.post("/keys", json={"name": "k", "scopes": list(scopes)})
        assert made.status_code == 201, made.text
        return _client(self.client.base_url, made.json()["token"])


def _client(base_url: httpx.URL | str, token: str) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=str(base_url), headers=headers, timeout=10)


@pytest.fixture
async def gateway(settings: CommonSettings, tmp_path: Path) -> AsyncIterator[LoneGateway]:
    async with gateway_alone(settings, tmp_path) as stack:
        yield stack


async def _tenant(
    gateway: LoneGateway, settings: CommonSettings, name: str, plan: str = "startup"
) -> Tenant:
    made = await bootstrap_workspace(settings.database_url, name=name, plan=plan, agent_key=True)
    auth = both_keys(made.api_key, made.agent_key)
    client = httpx.AsyncClient(base_url=gateway.api, auth=auth, timeout=10)
    return Tenant(made.workspace_id, client)


@pytest.fixture
async def tenants(
    gateway: LoneGateway, settings: CommonSettings
) -> AsyncIterator[tuple[Tenant, Tenant]]:
    a, b = await _tenant(gateway, settings, "a"), await _tenant(gateway, settings, "b")
    try:
        yield a, b
    finally:
        await a.client.aclose()
        await b.client.aclose()


async def test_a_key_secret_is_shown_once_and_revocation_takes_effect_at_once(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    made = await a.client.post("/keys", json={"name": "reader", "scopes": ["read-only"]})
    assert made.status_code == 201
    created = made.json()
    assert created["token"].startswith(f"mm_{created['prefix']}_")
    assert created["scopes"] == ["read:audit", "read:mail"]
    listed = (await a.client.get("/keys")).json()["items"]
    assert {k["id"] for k in listed} >= {created["id"]}
    assert all("token" not in k and "secret_hash" not in k for k in listed)

    async with _client(a.client.base_url, created["token"]) as reader:
        assert (await reader.get("/workspace")).status_code == 200
        used = next(
            k for k in (await a.client.get("/keys")).json()["items"] if k["id"] == created["id"]
        )
        assert used["last_used_at"] is not None
        assert (await a.client.delete(f"/keys/{created['id']}")).status_code == 204
        refused = await reader.get("/workspace")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["code"] == "unauthenticated"
    actions = [e["action"] for e in (await a.client.get("/audit")).json()["items"]]
    assert actions[:2] == ["api_key.revoked", "api_key.created"]


async def test_presets_and_wildcards_never_grant_the_send_scope(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    full = await a.client.post("/keys", json={"name": "f", "scopes": ["full-access"]})
    assert full.status_code == 201
    assert SEND_SCOPE not in full.json()["scopes"]
    assert set(full.json()["scopes"]) == SCOPES - {SEND_SCOPE}
    for bad in (["*"], ["write:*"], ["write:mail.*"], ["admin"]):
        refused = await a.client.post("/keys", json={"name": "w", "scopes": bad})
        assert refused.status_code == 422, bad
        problem = refused.json()
        assert problem["code"] == "invalid_request"
        assert problem["errors"][0]["loc"] == ["body", "scopes"]
    unknown = await a.client.post("/keys", json={"name": "x", "scopes": ["read:mail"], "ttl": 3})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "ttl"]


async def test_a_key_can_only_create_keys_with_scopes_it_holds(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    async with await a.key("admin:workspace", "read:mail") as admin:
        refused = await admin.post(
            "/keys", json={"name": "escalate", "scopes": ["read:mail", "approve:mail"]}
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "scope_escalation"
        assert refused.json()["scopes"] == ["approve:mail"]
        allowed = await admin.post("/keys", json={"name": "ok", "scopes": ["read:mail"]})
        assert allowed.status_code == 201
        # The send scope is the exception: only an admin mints an agent's key.
        agent = await admin.post("/keys", json={"name": "agent", "scopes": [SEND_SCOPE]})
        assert agent.status_code == 201, agent.text


async def test_no_key_mixes_an_agents_duties_with_a_persons(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    for person_scope in ("approve:mail", "admin:workspace", "write:allowlist", "write:inbox"):
        mixed = await a.client.post(
            "/keys", json={"name": "both", "scopes": [SEND_SCOPE, person_scope]}
        )
        assert mixed.status_code == 422, person_scope
        assert mixed.json()["code"] == "mixed_duties"
        assert mixed.json()["scopes"] == [person_scope]
    full = await a.client.post("/keys", json={"name": "f", "scopes": ["full-access", SEND_SCOPE]})
    assert full.json()["code"] == "mixed_duties"


async def test_a_replayed_key_creation_never_shows_the_token_again(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    body = {"name": "once", "scopes": ["read:mail"]}
    headers = {"Idempotency-Key": "key-once"}
    first = await a.client.post("/keys", json=body, headers=headers)
    again = await a.client.post("/keys", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["token"].startswith("mm_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert "token" not in again.json()


async def test_the_kill_switch_is_patched_and_audited(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    patched = await a.client.patch("/workspace", json={"outbound_enabled": False})
    assert patched.status_code == 200
    assert patched.json()["outbound_enabled"] is False
    assert (await a.client.get("/workspace")).json()["outbound_enabled"] is False
    assert (await b.client.get("/workspace")).json()["outbound_enabled"] is True
    audit = (await a.client.get("/audit", params={"action": "workspace.outbound_disabled"})).json()
    assert [e["actor"].startswith("api_key:") for e in audit["items"]] == [True]
    assert (await b.client.get("/audit")).json()["items"] == []
    invalid = await a.client.patch("/workspace", json={"plan": "enterprise"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["body", "plan"]


async def test_the_audit_log_pages_by_cursor_without_gaps_or_repeats(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    for n in range(7):
        added = await a.client.post("/allowlist", json={"address": f"r{n}@example.org"})
        assert added.status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "action": "allowlist.added"}
        if cursor:
            params["cursor"] = cursor
        page = (await a.client.get("/audit", params=params)).json()
        seen += [e["target"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"r{n}@example.org" for n in reversed(range(7))]
    broken = await a.client.get("/audit", params={"cursor": "not-a-cursor"})
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_the_sender_graph_is_listed_per_inbox_newest_first_and_paged(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, b = tenants
    inbox = (await a.client.post("/inboxes", json={"slug": "graph"})).json()
    start = utcnow() - timedelta(days=3)
    rows = [
        ("address", f"s{n}@corp.example", start + timedelta(hours=n), n + 1, n % 2)
        for n in range(5)
    ] + [("domain", "corp.example", start + timedelta(hours=10), 15, 2)]
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            for kind, sender, seen, messages, withheld in rows:
                db.add(
                    SenderEdge(
                        inbox_id=uuid.UUID(inbox["id"]),
                        kind=kind,
                        sender=sender,
                        workspace_id=a.workspace_id,
                        first_seen=start,
                        last_seen=seen,
                        messages=messages,
                        passed=messages - withheld,
                        reviewed=0,
                        withheld=withheld,
                        dmarc_pass=messages,
                        dmarc_fail=0,
                        last_dmarc="pass",
                    )
                )
    finally:
        await engine.dispose()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "kind": "address"}
        if cursor:
            params["cursor"] = cursor
        page = await a.client.get("/inboxes/graph/senders", params=params)
        assert page.status_code == 200, page.text
        seen += [item["sender"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"s{n}@corp.example" for n in reversed(range(5))]
    everything = (await a.client.get("/inboxes/graph/senders")).json()["items"]
    assert everything[0]["kind"] == "domain"
    assert {k: everything[0][k] for k in ("sender", "messages", "withheld", "passed")} == {
        "sender": "corp.example",
        "messages": 15,
        "withheld": 2,
        "passed": 13,
    }
    assert (await b.client.get("/inboxes/graph/senders")).status_code == 404
    broken = await a.client.get("/inboxes/graph/senders", params={"cursor": "bm90LWpzb24"})
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["loc"] == ["query", "cursor"]


# (method, path template, body, the one scope it needs)
ENDPOINTS = (
    ("GET", "/keys", None, "admin:workspace"),
    ("POST", "/keys", {"name": "n", "scopes": ["admin:workspace"]}, "admin:workspace"),
    ("DELETE", "/keys/{key_id}", None, "admin:workspace"),
    ("PATCH", "/workspace", {"outbound_enabled": True}, "admin:workspace"),
    ("GET", "/audit", None, "read:audit"),
    ("GET", "/workspace/credits", None, "read:audit"),
    ("POST", "/inboxes", {"slug": "new-{n}", "security_level": "L2"}, "write:inbox"),
    ("GET", "/inboxes", None, "read:mail"),
    ("GET", "/inboxes/{slug}", None, "read:mail"),
    ("PATCH", "/inboxes/{slug}", {"daily_send_limit": 10}, "write:inbox"),
    ("POST", "/inboxes/{slug}/reinstate", {"reason": "checked"}, "admin:workspace"),
    ("POST", "/workspace/reinstate", None, "admin:workspace"),
    ("DELETE", "/inboxes/{slug}", None, "write:inbox"),
    ("GET", "/inboxes/{slug}/messages", None, "read:mail"),
    ("GET", "/inboxes/{slug}/senders", None, "read:mail"),
    ("GET", "/messages/{message_id}", None, "read:mail"),
    ("GET", "/outbound/{outbound_id}", None, "read:mail"),
    ("GET", "/messages/{message_id}/raw", None, "read:mail.raw"),
    ("GET", "/messages/{message_id}/analysis", None, "read:mail.raw"),
    ("POST", "/messages/{message_id}/release", None, "approve:mail"),
    ("GET", "/threads/{thread_id}", None, "read:mail"),
    ("GET", "/allowlist", None, "read:mail"),
    ("POST", "/allowlist", {"address": "x{n}@example.org"}, "write:allowlist"),
    ("DELETE", "/allowlist/{entry_id}", None, "write:allowlist"),
    ("GET", "/webhooks", None, "write:webhooks"),
    ("POST", "/webhooks", {"url": "https://hooks.example.org/{n}"}, "write:webhooks"),
    ("DELETE", "/webhooks/{webhook_id}", None, "write:webhooks"),
    (
        "POST",
        "/inboxes/{slug}/send",
        {"to": ["x@example.org"], "subject": "s", "text": "t"},
        SEND_SCOPE,
    ),
    ("GET", "/approvals", None, "approve:mail"),
    ("GET", "/approvals/{approval_id}", None, "approve:mail"),
    ("POST", "/approvals/{approval_id}/approve", {"note": "ok"}, "approve:mail"),
    ("POST", "/approvals/{approval_id}/reject", {"reason": "no"}, "approve:mail"),
)


async def _objects(tenant: Tenant, settings: CommonSettings) -> dict[str, str]:
    """An inbox, a key and a stored message of ``tenant``, named for the path templates."""
    inbox = await tenant.client.post("/inboxes", json={"slug": f"in-{uuid.uuid4().hex[:6]}"})
    assert inbox.status_code == 201, inbox.text
    key = await tenant.client.post("/keys", json={"name": "victim", "scopes": ["read:mail"]})
    thread_id = uuid.uuid4()
    message_id = await _store_message(
        settings,
        tenant.workspace_id,
        uuid.UUID(inbox.json()["id"]),
        status="withheld",
        thread_id=thread_id,
    )
    inbox_id = uuid.UUID(inbox.json()["id"])
    outbound_id = await _store_outbound(settings, tenant.workspace_id, inbox_id)
    approval_id = await _store_outbound(
        settings, tenant.workspace_id, inbox_id, status="pending_approval"
    )
    entry = await tenant.client.post("/allowlist", json={"address": f"{uuid.uuid4().hex}@x.org"})
    hook = await tenant.client.post("/webhooks", json={"url": "https://hooks.example.org/a"})
    return {
        "slug": inbox.json()["slug"],
        "key_id": key.json()["id"],
        "message_id": str(message_id),
        "thread_id": str(thread_id),
        "entry_id": entry.json()["id"],
        "webhook_id": hook.json()["id"],
        "outbound_id": str(outbound_id),
        "approval_id": str(approval_id),
    }


async def _store_outbound(
    settings: CommonSettings,
    workspace_id: uuid.UUID,
    inbox_id: uuid.UUID,
    status: str = "rejected",
    **columns: object,
) -> uuid.UUID:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            outbound = OutboundMessage(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                inbox_id=inbox_id,
                recipients=["bob@example.org"],
                subject="secret",
                text="secret body",
                source="api",
                status=status,
                **columns,
            )
            db.add(outbound)
            return outbound.id
    finally:
        await engine.dispose()


async def _store_message(
    settings: CommonSettings,
    workspace_id: uuid.UUID,
    inbox_id: uuid.UUID,
    status: str = "delivered",
    *,
    sender: str = "alice@example.org",
    received_at: datetime | None = None,
    thread_id: uuid.UUID | None = None,
    subject: str = "secret",
    text: str = "secret body",
) -> uuid.UUID:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            inbox = await db.get(Inbox, inbox_id)
            assert inbox is not None
            mail_id = uuid.uuid4()
            body = f"Subject: {subject}\r\n\r\n{text}\r\n".encode()
            raw = RawMessage(
                id=mail_id,
                workspace_id=workspace_id,
                inbox_id=inbox_id,
                mail_from=sender,
                rcpt_to=inbox.address,
                raw=body,
                sha256=hashlib.sha256(body).hexdigest(),
                size=len(body),
            )
            db.add(raw)
            await db.flush()
            message = Message(
                workspace_id=workspace_id,
                inbox_id=inbox_id,
                mail_id=mail_id,
                raw_id=raw.id,
                from_address=sender,
                subject=subject,
                text=text,
                status=status,
                consensus="PASS" if status == "delivered" else "WITHHOLD",
                risk_score=0 if status == "delivered" else 90,
                received_at=received_at or utcnow(),
                thread_id=thread_id,
            )
            db.add(message)
            await db.flush()
            return message.id
    finally:
        await engine.dispose()


def _call(client: httpx.AsyncClient, method: str, path: str, body: object, n: int) -> httpx.Request:
    if isinstance(body, dict):
        body = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
    return client.build_request(method, path, json=body)


async def test_every_endpoint_needs_exactly_its_scope(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, _ = tenants
    names = await _objects(a, settings)
    for n, (method, template, body, scope) in enumerate(ENDPOINTS):
        path = template.format(**names)
        async with await a.key(*(s for s in BOOTSTRAP_SCOPES if s != scope)) as lacking:
            answer = await lacking.send(_call(lacking, method, path, body, n))
            assert answer.status_code == 403, (method, template, answer.text)
            assert answer.headers["content-type"] == PROBLEM
            assert answer.json()["code"] == "missing_scope"
            assert answer.json()["scope"] == scope
        async with await a.key(scope) as only:
            answer = await only.send(_call(only, method, path, body, n + 100))
            assert answer.status_code < 400 or answer.json()["code"] not in (
                "missing_scope",
                "unauthenticated",
            ), (method, template, answer.text)


async def test_another_workspaces_objects_answer_404_like_missing_ones(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, b = tenants
    theirs = await _objects(a, settings)
    missing = {
        "slug": "nope",
        "key_id": str(uuid.uuid4()),
        "message_id": str(uuid.uuid4()),
        "thread_id": str(uuid.uuid4()),
        "entry_id": str(uuid.uuid4()),
        "webhook_id": str(uuid.uuid4()),
        "outbound_id": str(uuid.uuid4()),
        "approval_id": str(uuid.uuid4()),
    }
    for n, (method, template, body, _) in enumerate(ENDPOINTS):
        if "{" not in template:
            continue
        answers = [
            await b.client.send(_call(b.client, method, template.format(**names), body, n))
            for names in (theirs, missing)
        ]
        assert [r.status_code for r in answers] == [404, 404], (method, template)
        assert answers[0].json()["code"] == answers[1].json()["code"] == "not_found"
        assert "secret" not in answers[0].text
    # Lists never show the other workspace's rows.
    assert theirs["key_id"] not in {k["id"] for k in (await b.client.get("/keys")).json()["items"]}
    assert all(
        e["target"] not in {f"api_key:{k}" for k in theirs.values()}
        for e in (await b.client.get("/audit")).json()["items"]
    )
    # The victim's key still works and the inbox still exists: B's DELETEs did nothing.
    keys = (await a.client.get("/keys")).json()["items"]
    assert next(k for k in keys if k["id"] == theirs["key_id"])["revoked_at"] is None
    inbox = await a.client.get(f"/inboxes/{theirs['slug']}")
    assert inbox.status_code == 200
    assert inbox.json()["daily_send_limit"] is None
    assert (await b.client.get("/inboxes")).json()["items"] == []
    still = (await a.client.get(f"/messages/{theirs['message_id']}")).json()
    assert still["status"] == "withheld"
    assert theirs["entry_id"] in {
        e["id"] for e in (await a.client.get("/allowlist")).json()["items"]
    }
    assert theirs["webhook_id"] in {
        w["id"] for w in (await a.client.get("/webhooks")).json()["items"]
    }
    assert (await b.client.get("/allowlist")).json()["items"] == []
    assert (await b.client.get("/webhooks")).json()["items"] == []
    # B could neither see nor decide A's held send.
    assert (await b.client.get("/approvals")).json()["items"] == []
    held = await a.client.get(f"/approvals/{theirs['approval_id']}")
    assert held.status_code == 200
    assert held.json()["to"] == ["bob@example.org"]


async def test_a_held_send_is_approved_only_in_its_window_and_never_by_its_asker(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    """Only the gateway runs here, so no sweep rejects the lapsed send first."""
    a, _ = tenants
    inbox = await a.client.post("/inboxes", json={"slug": "held", "security_level": "L4"})
    assert inbox.status_code == 201, inbox.text
    inbox_id = uuid.UUID(inbox.json()["id"])
    past = utcnow() - timedelta(minutes=1)
    lapsed = await _store_outbound(
        settings, a.workspace_id, inbox_id, status="pending_approval", expires_at=past
    )
    refused = await a.client.post(f"/approvals/{lapsed}/approve", json={})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "approval_expired"
    old = await _store_outbound(  # held before deadlines were stored: the inbox's window
        settings,
        a.workspace_id,
        inbox_id,
        status="pending_approval",
        created_at=utcnow() - timedelta(days=2),
    )
    assert (await a.client.post(f"/approvals/{old}/approve", json={})).status_code == 409
    person = next(
        k for k in (await a.client.get("/keys")).json()["items"] if k["name"] == "bootstrap"
    )
    asked = await _store_outbound(
        settings,
        a.workspace_id,
        inbox_id,
        status="pending_approval",
        requested_by_key_id=uuid.UUID(person["id"]),
    )
    for decision, body in (("approve", {}), ("reject", {"reason": "no"})):
        mine = await a.client.post(f"/approvals/{asked}/{decision}", json=body)
        assert mine.status_code == 403, mine.text
        assert mine.json()["code"] == "self_approval"


async def test_security_levels_follow_the_plan(
    gateway: LoneGateway, settings: CommonSettings
) -> None:
    for plan, level, needed in (("free", "L3", "developer"), ("developer", "L4", "startup")):
        tenant = await _tenant(gateway, settings, plan, plan=plan)
        async with tenant.client as client:
            refused = await client.post("/inboxes", json={"slug": plan, "security_level": level})
            assert refused.status_code == 403
            assert refused.json()["code"] == "plan_required"
            assert refused.json()["required_plan"] == needed
            made = await client.post("/inboxes", json={"slug": plan, "security_level": "L2"})
            assert made.status_code == 201
            raised = await client.patch(f"/inboxes/{plan}", json={"security_level": level})
            assert raised.status_code == 403
            assert raised.json()["required_plan"] == needed
            assert (await client.get(f"/inboxes/{plan}")).json()["security_level"] == "L2"


async def test_inbox_settings_are_validated_replaced_and_audited(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    made = await a.client.post(
        "/inboxes",
        json={
            "slug": "agent",
            "security_level": "L3",
            "sender_allowlist": ["Boss@Example.org", "partner.example"],
            "daily_send_limit": 50,
        },
    )
    assert made.status_code == 201, made.text
    inbox = made.json()
    assert inbox["address"].startswith("agent@")
    assert inbox["sender_allowlist"] == ["boss@example.org", "partner.example"]
    assert inbox["approval_timeout_seconds"] == 86_400
    for bad, field in (
        ({"daily_send_limit": 501}, "daily_send_limit"),
        ({"hourly_send_limit": 0}, "hourly_send_limit"),
        ({"sender_blocklist": ["not an address"]}, "sender_blocklist"),
        ({"security_level": "L5"}, "security_level"),
        ({"approval_timeout_seconds": 10}, "approval_timeout_seconds"),
        ({"forward_to": "x@example.org"}, "forward_to"),
    ):
        refused = await a.client.patch("/inboxes/agent", json=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["loc"][:2] == ["body", field]
    both = await a.client.patch(
        "/inboxes/agent", json={"sender_blocklist": ["partner.example"], "sender_allowlist": []}
    )
    assert both.status_code == 200
    # A pattern in both lists at once is refused, and so is an hourly limit above the daily.
    for bad in (
        {"sender_allowlist": ["x.example"], "sender_blocklist": ["x.example"]},
        {"hourly_send_limit": 60},
    ):
        assert (await a.client.patch("/inboxes/agent", json=bad)).status_code == 422
    patched = await a.client.patch(
        "/inboxes/agent", json={"security_level": "L4", "hourly_send_limit": 5}
    )
    assert patched.status_code == 200
    out = patched.json()
    assert (out["security_level"], out["hourly_send_limit"], out["daily_send_limit"]) == (
        "L4",
        5,
        50,
    )
    assert (out["sender_allowlist"], out["sender_blocklist"]) == ([], ["partner.example"])
    actions = {e["action"] for e in (await a.client.get("/audit")).json()["items"]}
    assert {"inbox.security_level.L3_to_L4", "inbox.hourly_send_limit.changed"} <= actions


async def test_lowering_the_level_never_releases_withheld_mail(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, _ = tenants
    made = await a.client.post("/inboxes", json={"slug": "strict", "security_level": "L4"})
    withheld = await _store_message(
        settings, a.workspace_id, uuid.UUID(made.json()["id"]), status="withheld"
    )
    lowered = await a.client.patch("/inboxes/strict", json={"security_level": "L1"})
    assert lowered.status_code == 200
    message = (await a.client.get(f"/messages/{withheld}")).json()
    assert message["status"] == "withheld"
    assert "text" not in message


async def test_a_deleted_inbox_receives_nothing_and_keeps_its_address(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, _ = tenants
    made = (await a.client.post("/inboxes", json={"slug": "gone"})).json()
    assert (await a.client.delete("/inboxes/gone")).status_code == 204
    assert (await a.client.get("/inboxes/gone")).status_code == 404
    assert all(i["slug"] != "gone" for i in (await a.client.get("/inboxes")).json()["items"])
    again = await a.client.post("/inboxes", json={"slug": "gone"})
    assert again.status_code == 409
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db:
            assert await recipient(db, made["address"]) == (None, ())
    finally:
        await engine.dispose()


async def test_messages_filter_and_page_by_cursor(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, _ = tenants
    inbox = uuid.UUID((await a.client.post("/inboxes", json={"slug": "pages"})).json()["id"])
    start = utcnow() - timedelta(hours=1)
    ids = []
    for n in range(6):
        sender = "bob@example.org" if n % 2 else "carol@example.org"
        at = start + timedelta(minutes=n)
        ids.append(
            await _store_message(settings, a.workspace_id, inbox, sender=sender, received_at=at)
        )
    withheld = await _store_message(settings, a.workspace_id, inbox, status="withheld")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = (await a.client.get("/inboxes/pages/messages", params=params)).json()
        seen += [m["id"] for m in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [str(withheld)] + [str(i) for i in reversed(ids)]  # withheld: a stub
    bob = await a.client.get("/inboxes/pages/messages", params={"from": "Bob@example.org"})
    assert [m["id"] for m in bob.json()["items"]] == [str(ids[5]), str(ids[3]), str(ids[1])]
    since = (start + timedelta(minutes=4)).isoformat()
    recent = await a.client.get("/inboxes/pages/messages", params={"since": since})
    assert [m["id"] for m in recent.json()["items"]] == [str(withheld), str(ids[5]), str(ids[4])]
    held = (await a.client.get("/inboxes/pages/messages", params={"status": "withheld"})).json()
    assert [(m["id"], m["status"]) for m in held["items"]] == [(str(withheld), "withheld")]
    assert not {"subject", "text", "html", "attachments"} & set(held["items"][0])
    bad = await a.client.get("/inboxes/pages/messages", params={"from": "not an address"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "from"]


async def test_raw_and_analysis_reads_and_releases_are_audited(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, _ = tenants
    inbox = uuid.UUID((await a.client.post("/inboxes", json={"slug": "held"})).json()["id"])
    thread = uuid.uuid4()
    withheld = await _store_message(
        settings, a.workspace_id, inbox, status="withheld", thread_id=thread
    )
    async with await a.key("read:mail", "read:mail.raw", "approve:mail") as human:
        detail = (await human.get(f"/messages/{withheld}")).json()
        assert (detail["status"], detail["thread_id"]) == ("withheld", str(thread))
        assert not {"subject", "text"} & set(detail)
        raw = await human.get(f"/messages/{withheld}/raw")
        assert raw.status_code == 200
        assert raw.headers["content-type"] == "message/rfc822"
        assert raw.content == b"Subject: secret\r\n\r\nsecret body\r\n"
        analysis = await human.get(f"/messages/{withheld}/analysis")
        assert analysis.status_code == 200, analysis.text
        assert (analysis.json()["status"], analysis.json()["verdicts"]) == ("withheld", [])
        released = await human.post(f"/messages/{withheld}/release")
        assert released.status_code == 200
        assert (released.json()["status"], released.json()["text"]) == ("delivered", "secret body")
        again = await human.post(f"/messages/{withheld}/release")
        assert again.status_code == 409
        assert again.json()["code"] == "not_withheld"
        threaded = (await human.get(f"/threads/{thread}")).json()
        assert [m["id"] for m in threaded["messages"]] == [str(withheld)]
    audit = (await a.client.get("/audit")).json()["items"]
    assert [e["action"] for e in audit[:3]] == [
        "message.released",
        "message.analysis_read",
        "message.raw_read",
    ]
    assert audit[0]["target"] == f"message:{withheld}"
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db:
            rows = (await db.execute(select(OutboxRecord.topic, OutboxRecord.producer))).all()
    finally:
        await engine.dispose()
    assert any(t.endswith("inbox-events") and p == "gateway" for t, p in rows)


async def test_webhook_secrets_are_shown_once_and_events_checked(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, _ = tenants
    made = await a.client.post(
        "/webhooks",
        json={"url": "https://hooks.example.org/in", "events": ["message.withheld"]},
    )
    assert made.status_code == 201
    hook = made.json()
    assert hook["secret"].startswith("whsec_")
    assert (hook["kind"], hook["format"], hook["events"]) == (
        "message",
        "json",
        ["message.withheld"],
    )
    audit = await a.client.post(
        "/webhooks",
        json={"url": "https://chat.example.org/x", "kind": "audit", "format": "slack"},
    )
    assert audit.json()["events"] == ["*"]
    listed = (await a.client.get("/webhooks")).json()["items"]
    assert len(listed) == 2
    assert all("secret" not in w for w in listed)
    for bad, field in (
        ({"url": "https://h.example.org", "events": ["message.deleted"]}, None),
        ({"url": "https://h.example.org", "kind": "audit", "events": ["DROP TABLE"]}, None),
        ({"url": "https://user:pw@h.example.org"}, "url"),
        ({"url": "ftp://h.example.org"}, "url"),
        ({"url": "https://h.example.org", "format": "teams"}, "format"),
    ):
        refused = await a.client.post("/webhooks", json=bad)
        assert refused.status_code == 422, bad
        if field:
            assert refused.json()["errors"][0]["loc"][:2] == ["body", field]
    assert (await a.client.delete(f"/webhooks/{hook['id']}")).status_code == 204
    assert [w["id"] for w in (await a.client.get("/webhooks")).json()["items"]] == [
        audit.json()["id"]
    ]


async def test_an_idempotency_key_replays_the_first_response(
    tenants: tuple[Tenant, Tenant],
) -> None:
    a, b = tenants
    headers = {"Idempotency-Key": "create-inbox-1"}
    body = {"slug": "once", "security_level": "L2"}
    # Concurrent repeats: one inbox, every answer the same.
    answers = await asyncio.gather(
        *(a.client.post("/inboxes", json=body, headers=headers) for _ in range(4))
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 3
    assert [i["slug"] for i in (await a.client.get("/inboxes")).json()["items"]] == ["once"]
    reused = await a.client.post(
        "/inboxes", json={"slug": "twice", "security_level": "L2"}, headers=headers
    )
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    # Keys belong to a workspace: B's request with the same key is B's own.
    theirs = await b.client.post("/allowlist", json={"address": "z@example.org"}, headers=headers)
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    bad = await a.client.post(
        "/allowlist", json={"address": "y@example.org"}, headers={"Idempotency-Key": "x" * 256}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_oversized_bodies_are_refused_before_parsing(tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    huge = b'{"address": "' + b"a" * 2_000_000 + b'@example.org"}'
    declared = await a.client.post("/allowlist", content=huge)
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 65_536):
            yield huge[start : start + 65_536]

    streamed = await a.client.post("/allowlist", content=chunks())
    assert streamed.status_code == 413
    small = await a.client.post(
        "/allowlist",
        content=b'{"address": "ok@example.org"}',
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 201
    assert [e["address"] for e in (await a.client.get("/allowlist")).json()["items"]] == [
        "ok@example.org"
    ]


async def test_each_key_is_rate_limited_on_its_own(
    settings: CommonSettings, tmp_path: Path
) -> None:
    async with gateway_alone(settings, tmp_path, MAILMOAT_API_RATE_PER_MINUTE="5") as stack:
        a = await _tenant(stack, settings, "limited")
        async with a.client, await a.key("read:mail") as other:
            codes = [(await a.client.get("/workspace")).status_code for _ in range(5)]
            # The bootstrap key spent one token creating ``other``.
            assert codes == [200, 200, 200, 200, 429]
            limited = await a.client.get("/workspace")
            assert limited.status_code == 429
            assert limited.json()["code"] == "rate_limited"
            assert 1 <= int(limited.headers["retry-after"]) <= 12
            assert (await other.get("/inboxes")).status_code == 200


async def test_the_send_api_refuses_what_agents_may_not_do(
    tenants: tuple[Tenant, Tenant], settings: CommonSettings
) -> None:
    a, b = tenants
    await a.client.post("/inboxes", json={"slug": "l2", "security_level": "L2"})
    await a.client.post("/inboxes", json={"slug": "l3", "security_level": "L3"})
    mail = {"to": ["x@example.org"], "subject": "s", "text": "t"}
    for field, value in (
        ("cc", ["y@example.org"]),
        ("bcc", ["z@example.org"]),
        ("attachments", []),
    ):
        refused = await a.client.post("/inboxes/l3/send", json={**mail, field: value})
        assert refused.status_code == 422
        error = refused.json()["errors"][0]
        assert error["loc"] == ["body", field]
        assert "not supported for agents" in error["msg"]
        assert error["msg"].startswith(f"Value error, {field} ")
    low = await a.client.post("/inboxes/l2/send", json=mail)
    assert low.status_code == 403
    assert low.json()["code"] == "sending_not_allowed"
    theirs = await _objects(b, settings)
    foreign = await a.client.post(
        "/inboxes/l3/send", json={**mail, "in_reply_to": theirs["message_id"]}
    )
    assert foreign.status_code == 404
