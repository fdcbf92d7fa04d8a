"""The surfaces added for people and agents, attacked over HTTP as a stranger, a hijacked agent
or a hostile web page would: the review pages refuse an agent's key, a form posted without its
token or from another site, and a forged session; they show mail and agents' text as text; the
MCP endpoint refuses a caller without a key; and no caller can write its own audit source."""

from __future__ import annotations

import re

import httpx

from mailmoat.common.settings import CommonSettings
from tests.support.adversary import Adversary
from tests.support.allowlist import end_cooldowns

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _key(client: httpx.AsyncClient) -> str:
    return client.headers["authorization"].removeprefix("Bearer ")


def _ui(adversary: Adversary) -> str:
    return adversary.stack.api.removesuffix("/api/v1") + "/ui"


async def _signed_in(adversary: Adversary) -> httpx.AsyncClient:
    """A browser-like client holding a person's session (same-origin posts)."""
    origin = adversary.stack.api.removesuffix("/api/v1")
    client = httpx.AsyncClient(base_url=_ui(adversary) + "/", headers={"Origin": origin})
    answer = await client.post("login", data={"key": _key(adversary.person)})
    assert answer.status_code == 303, answer.text
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def test_an_agents_key_never_opens_the_review_pages(adversary: Adversary) -> None:
    origin = adversary.stack.api.removesuffix("/api/v1")
    async with httpx.AsyncClient(headers={"Origin": origin}) as browser:
        answer = await browser.post(f"{_ui(adversary)}/login", data={"key": _key(adversary.sender)})
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert "key never reviews" in answer.text


async def test_a_forged_form_or_session_changes_nothing(adversary: Adversary) -> None:
    slug = await adversary.inbox(level="L3")
    client = await _signed_in(adversary)
    try:
        token = _csrf((await client.get("inboxes")).text)
        url = f"inboxes/{slug}/level"
        cross_site = await client.post(
            url, data={"level": "L1", "csrf": token}, headers={"Origin": "http://evil.example"}
        )
        fetched_cross_site = await client.post(
            url, data={"level": "L1", "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        tokenless = await client.post(url, data={"level": "L1"})
        wrong_token = await client.post(url, data={"level": "L1", "csrf": token + "x"})
        refusals = [a.status_code for a in (cross_site, fetched_cross_site, tokenless, wrong_token)]
        assert refusals == [403, 403, 403, 403]
        level = (await adversary.person.get(f"/inboxes/{slug}")).json()["security_level"]
        assert level == "L3"
        sealed = client.cookies["mailmoat_ui"]
        forged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        client.cookies.set("mailmoat_ui", forged, path="/ui")
        tampered = await client.get("approvals")
        assert (tampered.status_code, tampered.headers["location"]) == (303, "/ui/login")
    finally:
        await client.aclose()


async def test_an_agents_words_reach_a_reviewer_as_text(adversary: Adversary) -> None:
    slug = await adversary.inbox(level="L4")
    recipient = "reviewed@corp.example"
    added = await adversary.person.post("/allowlist", json={"address": recipient})
    assert added.status_code in (201, 409), added.text
    await end_cooldowns(CommonSettings(database_url=adversary.database_url), recipient)
    draft = {"to": [recipient], "subject": XSS, "text": XSS, "metadata": {"reasoning": XSS}}
    asked = await adversary.sender.post(f"/inboxes/{slug}/send", json=draft)
    assert asked.json()["status"] == "pending_approval", asked.text
    held = (await adversary.person.get("/approvals", params={"inbox": slug})).json()["items"][0]
    client = await _signed_in(adversary)
    try:
        pages = [(await client.get(p)).text for p in ("approvals", f"approvals/{held['id']}")]
    finally:
        await client.aclose()
    for page in pages:
        assert "<img src=x" not in page
        assert "<script>alert" not in page
        assert "&lt;img src=x onerror=" in page
    csp = (await adversary.person.get(_ui(adversary) + "/login")).headers
    assert "script-src" not in csp["content-security-policy"]
    assert csp["content-security-policy"].startswith("default-src 'none'")


async def test_the_mcp_endpoint_wants_a_key(adversary: Adversary) -> None:
    url = adversary.stack.api.removesuffix("/api/v1") + "/mcp"
    ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient() as stranger:
        nobody = await stranger.post(url, json=ping)
        bogus = await stranger.post(url, json=ping, headers={"Authorization": "Bearer mm_x_y"})
    assert (nobody.status_code, nobody.json()["code"]) == (401, "unauthenticated")
    assert (bogus.status_code, bogus.json()["code"]) == (401, "unauthenticated")


async def test_no_caller_writes_its_own_audit_source(adversary: Adversary) -> None:
    for forged in ("person:alice", "mcp:", "apis", "ui;admin", "MCP:send"):
        answer = await adversary.sender.get("/inboxes", headers={"Mailmoat-Source": forged})
        assert answer.status_code == 400, forged
        assert answer.json()["code"] == "invalid_source"
