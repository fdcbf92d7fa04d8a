"""Each outbound rule through the real API, broker and policy: the call waits for policy and
answers with exactly the documented shape; a refused send costs nothing and never leaves."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from mailmoat.common.settings import CommonSettings
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.waiting import eventually


def rejected(body: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {
        "id": body["id"],
        "status": "rejected",
        "risk_score": body["risk_score"],
        "credits_consumed": 0,
        "error": {"code": code, "message": message},
    }


async def test_each_rule_refuses_with_its_code_and_allows_what_it_should(
    api: httpx.AsyncClient, smtp_sink: SmtpSink, settings: CommonSettings
) -> None:
    for slug, level in (("agent", "L3"), ("reader", "L2")):
        made = await api.post("/inboxes", json={"slug": slug, "security_level": level})
        assert made.status_code == 201
    for address in ("bob@example.com", "eve@competitor.com"):
        assert (await api.post("/allowlist", json={"address": address})).status_code == 201

    async def send(**fields: Any) -> httpx.Response:
        mail = {"to": ["bob@example.com"], "subject": "Hello", "text": "Hi Bob", **fields}
        return await api.post("/inboxes/agent/send", json=mail)

    async def answered() -> httpx.Response | None:
        # Until policy's consumers have joined, a call may stop waiting and answer queued.
        answer = await send(to=["nobody@example.com"])
        return answer if answer.status_code == 200 else None

    unlisted = await eventually(answered, what="policy to answer in time")
    assert unlisted.json() == rejected(
        unlisted.json(),
        "policy_violation",
        "Recipient 'nobody@example.com' is not in the outbound allowlist",
    )
    assert unlisted.headers["location"] == f"/api/v1/outbound/{unlisted.json()['id']}"

    cooling = await send()
    assert cooling.status_code == 200
    assert cooling.json()["error"]["code"] == "recipient_cooldown"
    assert cooling.json() == rejected(
        cooling.json(), "recipient_cooldown", cooling.json()["error"]["message"]
    )
    await end_cooldowns(settings)

    restricted = await api.patch(
        "/inboxes/agent",
        json={"allowed_recipient_domains": ["example.com"], "blocked_keywords": ["password"]},
    )
    assert restricted.status_code == 200
    assert restricted.json()["allowed_recipient_domains"] == ["example.com"]
    assert restricted.json()["blocked_keywords"] == ["password"]
    domain = await send(to=["eve@competitor.com"])
    assert domain.json() == rejected(
        domain.json(),
        "policy_violation",
        "Recipient domain 'competitor.com' is not in the inbox's allowed domains",
    )
    keyword = await send(text="Your Password is hunter2")
    assert keyword.json() == rejected(
        keyword.json(), "policy_violation", "The message contains the blocked term 'password'"
    )

    assert (await api.patch("/workspace", json={"outbound_enabled": False})).status_code == 200
    killed = await send()
    assert killed.json() == rejected(
        killed.json(), "capability_disabled", "Outbound sending is turned off"
    )
    assert (await api.patch("/workspace", json={"outbound_enabled": True})).status_code == 200

    allowed = await send()
    assert allowed.status_code == 202
    assert allowed.json() == {
        "id": allowed.json()["id"],
        "status": "queued",
        "risk_score": allowed.json()["risk_score"],
        "credits_consumed": 0,
        "error": None,
    }

    async def sent() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/outbound/{allowed.json()['id']}")).json()
        return body if body["status"] == "sent" else None

    assert (await eventually(sent, what="the allowed send"))["credits_consumed"] == 3

    # Refused before policy: the level (403) and fields agents may not use (422).
    level = await api.post(
        "/inboxes/reader/send", json={"to": ["bob@example.com"], "subject": "s", "text": "t"}
    )
    assert level.status_code == 403
    assert level.json()["code"] == "sending_not_allowed"
    for field, value in (
        ("cc", ["x@example.com"]),
        ("bcc", ["x@example.com"]),
        ("attachments", [{}]),
    ):
        refused = await send(**{field: value})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", field]
        assert "not supported for agents" in refused.json()["errors"][0]["msg"]

    await asyncio.sleep(1)
    assert [e.rcpt_tos for e in smtp_sink.envelopes] == [["bob@example.com"]]
