"""``/api/v1/dev/outbox`` over real HTTP (the gateway process), reading what the dev outbox's real
SMTP sink stored: a workspace sees the relayed copies of its own sends only, and without
``MAILMOAT_DEV_OUTBOX_DIR`` the route does not exist."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from pathlib import Path

import httpx
import pytest

from mailmoat.cli.bootstrap import Bootstrapped, bootstrap_workspace
from mailmoat.cli.dev_sink import DevOutbox
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from tests.support.stack import gateway_alone

PROBLEM = "application/problem+json"


def _client(api: str, token: str | None) -> httpx.AsyncClient:
    assert token is not None
    headers = {"authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=api, headers=headers, timeout=10)


async def _sends(settings: CommonSettings, made: Bootstrapped, api: str, count: int) -> list[str]:
    """``count`` sends of the workspace, as rows (dispatch is not running)."""
    async with _client(api, made.api_key) as person:
        inbox = await person.post("/inboxes", json={"slug": f"out-{uuid.uuid4().hex[:6]}"})
    assert inbox.status_code == 201, inbox.text
    ids = [uuid.uuid4() for _ in range(count)]
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            for outbound_id in ids:
                db.add(
                    OutboundMessage(
                        id=outbound_id,
                        workspace_id=made.workspace_id,
                        inbox_id=uuid.UUID(inbox.json()["id"]),
                        recipients=["bob@example.org"],
                        subject="s",
                        text="t",
                        source="api",
                        status="sent",
                    )
                )
    finally:
        await engine.dispose()
    return [str(i) for i in ids]


def _relay(port: int, outbound_ids: list[str | None]) -> None:
    """One message per id (``None``: a message that carries no send), as dispatch relays."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for n, outbound_id in enumerate(outbound_ids):
            marker = f"X-Mailmoat-Outbound-Id: {outbound_id}\r\n" if outbound_id else ""
            message = (
                f"From: agent@agents.example\r\nTo: bob@example.org\r\nSubject: mail {n}\r\n"
                f"{marker}\r\nBody {n}.\r\n"
            )
            smtp.sendmail("bounces@agents.example", ["bob@example.org"], message.encode())


async def test_a_workspace_reads_its_own_relayed_mail_newest_first(
    settings: CommonSettings, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    async with gateway_alone(settings, tmp_path, MAILMOAT_DEV_OUTBOX_DIR=str(folder)) as gateway:
        a = await bootstrap_workspace(settings.database_url, name="a", plan="free", agent_key=True)
        b = await bootstrap_workspace(settings.database_url, name="b", plan="free")
        a_ids = await _sends(settings, a, gateway.api, 3)
        [b_id] = await _sends(settings, b, gateway.api, 1)
        async with DevOutbox(folder, port=free_port()) as sink:
            await asyncio.to_thread(_relay, sink.port, [a_ids[0], b_id, None, *a_ids[1:]])
        async with (
            _client(gateway.api, a.api_key) as person,
            _client(gateway.api, a.agent_key) as agent,
            _client(gateway.api, b.api_key) as other,
        ):
            first = (await person.get("/dev/outbox", params={"limit": 2})).json()
            assert [m["subject"] for m in first["items"]] == ["mail 4", "mail 3"]
            params = {"limit": 2, "cursor": first["next_cursor"]}
            rest = (await person.get("/dev/outbox", params=params)).json()
            assert ([m["subject"] for m in rest["items"]], rest["next_cursor"]) == (
                ["mail 0"],
                None,
            )
            assert [m["outbound_id"] for m in rest["items"]] == [a_ids[0]]
            assert (await agent.get("/dev/outbox")).json()["items"] == [
                *first["items"],
                *rest["items"],
            ]
            theirs = (await other.get("/dev/outbox")).json()["items"]
            assert [m["outbound_id"] for m in theirs] == [b_id]

            mail_id = rest["items"][0]["id"]
            detail = (await agent.get(f"/dev/outbox/{mail_id}")).json()
            assert (detail["text"], detail["envelope_to"]) == ("Body 0.\n", ["bob@example.org"])
            assert {"name": "Subject", "value": "mail 0"} in detail["headers"]
            raw = await person.get(f"/dev/outbox/{mail_id}/raw")
            assert raw.headers["content-type"] == "message/rfc822"
            assert raw.content.endswith(b"\r\n\r\nBody 0.\r\n")
            refused = await agent.get(f"/dev/outbox/{mail_id}/raw")
            assert (refused.status_code, refused.json()["code"]) == (403, "missing_scope")

            for unknown in (theirs[0]["id"], str(uuid.uuid4())):
                missing = await person.get(f"/dev/outbox/{unknown}")
                assert missing.status_code == 404
                assert missing.headers["content-type"] == PROBLEM
                assert missing.json()["code"] == "not_found"
            assert (await person.get(f"/dev/outbox/{theirs[0]['id']}/raw")).status_code == 404
            broken = await person.get("/dev/outbox", params={"cursor": "bm90LWEtY3Vyc29y"})
            assert (broken.status_code, broken.json()["code"]) == (422, "invalid_request")
        async with httpx.AsyncClient(base_url=gateway.api, timeout=10) as anonymous:
            assert (await anonymous.get("/dev/outbox")).status_code == 401


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_without_the_setting_there_is_no_dev_outbox(
    settings: CommonSettings, tmp_path: Path
) -> None:
    async with gateway_alone(settings, tmp_path) as gateway:
        made = await bootstrap_workspace(settings.database_url, name="prod", plan="free")
        async with _client(gateway.api, made.api_key) as person:
            absent = await person.get("/dev/outbox")
            schema = (await person.get("/openapi.json")).json()
    assert absent.status_code == 404
    assert absent.json()["code"] == "not_found"
    assert not [path for path in schema["paths"] if "/dev/" in path]
