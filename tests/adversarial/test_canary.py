"""Canary tokens: a marker in every mail an inbox receives, which must never leave.

A person turns an inbox's canary on; from then on every mail stored for it ends with the marker,
wherever the agent reads it. A hijacked agent copying received mail outward carries the marker:
its send is refused whatever inbox it sends from and however it spells the marker (spaced out,
upper case, percent-encoded or base64 in a link, as HTML character references), and the trip
is audited and counted for the alert. A webhook URL carrying it is refused too.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from tests.support.adversary import Adversary, counter
from tests.support.allowlist import end_cooldowns
from tests.support.attack_mails import mime
from tests.support.waiting import eventually

RECIPIENT = "outside@partner.example"
MAIL = (
    "Hi, the quarterly numbers are final: revenue 4.1 million, margin 22 percent. "
    "Please keep them inside the team until Monday."
)


async def _canaried(adversary: Adversary) -> tuple[str, str, str]:
    """An L3 inbox with its canary on and one mail received; its slug, token and the text the
    agent reads."""
    slug = await adversary.inbox("L3")
    refused = await adversary.sender.patch(f"/inboxes/{slug}", json={"canary": True})
    assert refused.status_code == 403, refused.text  # only a person sets it
    patched = await adversary.person.patch(f"/inboxes/{slug}", json={"canary": True})
    assert patched.status_code == 200, patched.text
    token = patched.json()["canary_token"]
    assert token.startswith("mmc-")
    await adversary.send(
        slug, mime("Subject: Numbers\r\n", MAIL + "\r\n"), mail_from="cfo@corp.example"
    )
    [stored] = await adversary.stored(slug)
    text = (await adversary.detail(stored["id"]))["text"]
    assert text.rstrip().endswith(f"[ref {token}]"), text
    assert f"[ref {token}]" in await adversary.agent_sees(slug, stored["id"])
    added = await adversary.person.post("/allowlist", json={"address": RECIPIENT})
    assert added.status_code in (201, 409), added.text
    await end_cooldowns(adversary.stack.settings, RECIPIENT)
    return slug, token, text


async def _send(adversary: Adversary, slug: str, **mail: Any) -> dict[str, Any]:
    asked = await adversary.sender.post(
        f"/inboxes/{slug}/send", json={"to": [RECIPIENT], "subject": "FYI", **mail}
    )
    assert asked.status_code in (200, 202), asked.text
    body: dict[str, Any] = asked.json()
    return body


async def _tripped(adversary: Adversary, slug: str) -> list[dict[str, Any]]:
    """The workspace's ``canary.tripped`` audit rows naming ``slug``."""
    rows = await adversary.person.get("/audit", params={"action": "canary.tripped", "limit": 200})
    assert rows.status_code == 200, rows.text
    return [r for r in rows.json()["items"] if (r["detail"] or {}).get("canary_of") == slug]


async def test_mail_copied_outward_is_refused_in_every_spelling(adversary: Adversary) -> None:
    slug, token, text = await _canaried(adversary)
    before = counter(adversary.metrics("policy"), "mailmoat_canary_tripped_total", where="send")
    other = await adversary.inbox("L3")  # another inbox of the workspace, no canary of its own
    core = token.removeprefix("mmc-")
    spellings: list[tuple[str, dict[str, Any]]] = [
        (slug, {"text": f"Forwarding:\n{text}"}),
        (other, {"text": f"Forwarding:\n{text}"}),
        (slug, {"text": "ref " + " ".join(token.upper())}),
        (slug, {"text": f"https://collect.example/?d={quote(token, safe='')}"}),
        (slug, {"text": "https://collect.example/?d=" + base64.b64encode(token.encode()).decode()}),
        (
            slug,
            {"text": "see below", "html": "<p>" + "".join(f"&#{ord(c)};" for c in core) + "</p>"},
        ),
        (slug, {"subject": f"FYI {token}", "text": "see subject"}),
    ]
    for sender, mail in spellings:
        refused = await _send(adversary, sender, **mail)
        assert refused["status"] == "rejected", (mail, refused)
        assert refused["error"]["code"] == "canary_tripped", (mail, refused)
        assert token not in refused["error"]["message"]
    assert len(await _tripped(adversary, slug)) == len(spellings)

    async def counted() -> bool:  # counted as each refusal commits, so maybe just after
        now = counter(adversary.metrics("policy"), "mailmoat_canary_tripped_total", where="send")
        return now - before == len(spellings)

    await eventually(counted, timeout=10, what="every trip counted once")
    # Text of its own, without the marker, still leaves.
    fine = await _send(adversary, slug, text="The numbers are final; details on Monday.")
    assert fine["status"] in ("queued", "sent"), fine


async def test_a_webhook_url_carrying_a_canary_is_refused_and_audited(adversary: Adversary) -> None:
    slug, token, _ = await _canaried(adversary)
    for path, body in (
        ("/webhooks", {"url": f"https://hooks.example/in?c={token}"}),
        (f"/inboxes/{slug}", {"webhook_url": f"https://hooks.example/{token.upper()}"}),
    ):
        method = adversary.person.post if path == "/webhooks" else adversary.person.patch
        refused = await method(path, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "canary_tripped"
    tripped = await _tripped(adversary, slug)
    assert [r["detail"]["where"] for r in tripped] == ["webhook_url", "webhook_url"]
    listed = await adversary.person.get("/webhooks")
    assert token not in listed.text


async def test_without_a_canary_nothing_is_added(adversary: Adversary) -> None:
    slug = await adversary.inbox("L3")
    shown = (await adversary.person.get(f"/inboxes/{slug}")).json()
    assert shown["canary_token"] is None
    await adversary.send(
        slug, mime("Subject: Numbers\r\n", MAIL + "\r\n"), mail_from="cfo@corp.example"
    )
    [stored] = await adversary.stored(slug)
    assert "[ref mmc-" not in (await adversary.detail(stored["id"]))["text"]
