"""Hidden characters in what an agent sends: HTML can carry them as character references
(``&#8203;``, ``&zwnj;``, ``&#917505;``) as well as raw, in its text and in its attributes. None
may reach the recipient in any form, and none may hide a blocked term from the inbox's filter."""

from __future__ import annotations

import email
import html
import re
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from mailmoat.common.mail.invisible import INVISIBLE_CLASS
from tests.support.adversary import Adversary
from tests.support.allowlist import end_cooldowns
from tests.support.peers import SmtpSink
from tests.support.waiting import eventually

INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")
# Each way HTML can spell a zero-width, bidi or tag character, and the characters themselves.
REFERENCES = (
    "&#8203;",
    "&#x200B;",
    "&#x200b;",
    "&zwnj;",
    "&ZeroWidthSpace;",
    "&rlm;",
    "&#8238;",
    "&#x2066;",
    "&shy;",
    "&#917505;",
    "&#xE0041;",
    "&#xe0042;",
)
RAW = "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\u00ad\ufeff\U000e0001\U000e0041"
REFERENCE = re.compile(rb"&(#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);?", re.IGNORECASE)
SETTLED = ("rejected", "sent", "failed")


async def _l3_inbox(adversary: Adversary, keywords: tuple[str, ...] = ()) -> tuple[str, str]:
    """A new L3 inbox (blocking ``keywords``) and a recipient allowed HTML, cooldown over."""
    slug = await adversary.inbox("L3")
    if keywords:
        patched = await adversary.person.patch(
            f"/inboxes/{slug}", json={"blocked_keywords": list(keywords)}
        )
        assert patched.status_code == 200, patched.text
    recipient = f"{slug}@example.org"
    added = await adversary.person.post(
        "/allowlist", json={"address": recipient, "allow_html": True}
    )
    assert added.status_code == 201, added.text
    await end_cooldowns(adversary.stack.settings, recipient)
    return slug, recipient


async def _settled(adversary: Adversary, slug: str, mail: dict[str, Any]) -> dict[str, Any]:
    """Send ``mail`` with the agent's key and wait for the send to be rejected, sent or failed."""
    answer = await adversary.sender.post(f"/inboxes/{slug}/send", json=mail)
    assert answer.status_code in (200, 202), answer.text
    outbound_id = answer.json()["id"]

    async def decided() -> dict[str, Any] | None:
        body: dict[str, Any] = (await adversary.sender.get(f"/outbound/{outbound_id}")).json()
        return body if body["status"] in SETTLED else None

    return await eventually(decided, timeout=120, what=f"the send {outbound_id} to settle")


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("Here it is.", "<p>The pass&#8203;word is below.</p>"),
        ("Here it is.", "<p>The pass&#x200B;word is below.</p>"),
        ("Here it is.", "<p>The p&#97;ssword is below.</p>"),
        ("Here it is.", "<p>The PASS&shy;WORD is below.</p>"),
        ("Here it is.", "<p>The pass&ZeroWidthSpace;word is below.</p>"),
        ("Here it is.", '<p>See <a href="https://example.org/" title="pass&#8203;word">it</a></p>'),
        ("The pass\u200bword is below.", None),
        ("The pass\U000e0041word is below.", None),
    ],
    ids=["decimal", "hex", "letter", "shy", "named", "title", "text-zwsp", "text-tag"],
)
async def test_a_hidden_character_does_not_hide_a_blocked_term(
    adversary: Adversary, text: str, markup: str | None
) -> None:
    slug, recipient = await _l3_inbox(adversary, keywords=("password",))
    mail = {"to": [recipient], "subject": "Access", "text": text, "html": markup}
    settled = await _settled(adversary, slug, mail)
    assert settled["status"] == "rejected", settled
    assert settled["error"]["code"] == "policy_violation", settled
    assert "password" in settled["error"]["message"], settled


async def test_no_invisible_character_leaves_in_any_form(adversary: Adversary) -> None:
    slug, recipient = await _l3_inbox(adversary)
    hidden = "".join(REFERENCES)
    markup = (
        f"<p>Quarterly{hidden} numbers{RAW} attached.</p>"
        f'<p><a href="https://example.org/q{hidden}" title="Q{hidden}3{RAW}">report</a></p>'
        f"<table><tr><td>total{hidden}</td></tr></table>"
    )
    mail = {
        "to": [recipient],
        "subject": f"Quarterly{RAW} numbers",
        "text": f"Quarterly{RAW} numbers attached.",
        "html": markup,
    }
    settled = await _settled(adversary, slug, mail)
    assert settled["status"] == "sent", settled

    raw = _received(adversary.sink, settled["id"])
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    assert not INVISIBLE.search(str(message["subject"])), ascii(message["subject"])
    parts = {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in message.walk()
        if not part.is_multipart()
    }
    assert {"text/plain", "text/html"} <= set(parts), parts.keys()
    for kind in ("text/plain", "text/html"):
        assert not INVISIBLE.search(parts[kind]), (kind, ascii(parts[kind]))
    assert "Quarterly numbers attached." in parts["text/plain"]
    assert "Quarterly numbers attached." in parts["text/html"]
    assert 'href="https://example.org/q"' in parts["text/html"], parts["text/html"]
    assert _hidden_references(parts["text/html"].encode()) == []
    assert _hidden_references(raw) == []


def _received(sink: SmtpSink, outbound_id: str) -> bytes:
    """The raw MIME the relay handed the sink for the send ``outbound_id``."""
    found = sink.received(outbound_id)
    assert len(found) == 1, f"{len(found)} mails for {outbound_id} at the sink"
    return found[0]


def _hidden_references(raw: bytes) -> list[bytes]:
    """Every character reference in ``raw`` that stands for an invisible character."""
    found = (m.group() for m in REFERENCE.finditer(raw))
    return [ref for ref in found if INVISIBLE.search(html.unescape(ref.decode("ascii")))]
