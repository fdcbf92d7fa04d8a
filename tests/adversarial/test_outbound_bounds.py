"""What one workspace piles up never slows or blinds outbound decisions, its own or others'.

A flood of held sends with a week-long review window must not hide another workspace's
overdue held send from the auto-reject sweep, and a workspace full of large flagged inbound
mail still gets each send decided while the caller waits, with a draft that copies a flagged
mail's text still caught by the copy check.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import update

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Inbox
from tests.adversarial.conftest import SWEEP_BATCH
from tests.support.adversary import Adversary
from tests.support.allowlist import end_cooldowns
from tests.support.attack_mails import INSTRUCTION, mime
from tests.support.waiting import eventually

WEEK = 7 * 86_400
FLOOD = SWEEP_BATCH + SWEEP_BATCH // 2
"""Held sends with a week's window: more than a sweep batch (policy's, set by the fixture)."""
FLAGGED_MAILS = 8
FLAGGED_WORDS = 60_000
"""Words of each flagged mail: about 400 KB of text, some 3 MB in all."""
COPIED = "copies_flagged_inbound: repeats text from inbound mail held for REVIEW or WITHHELD"


@contextlib.asynccontextmanager
async def _workspace(
    adversary: Adversary, name: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A workspace of its own: its person's client and its sending agent's."""
    made = await bootstrap_workspace(
        adversary.database_url, name=name, plan="enterprise", agent_key=True
    )
    assert made.agent_key is not None
    async with (
        _client(adversary, made.api_key) as person,
        _client(adversary, made.agent_key) as agent,
    ):
        yield person, agent


def _client(adversary: Adversary, key: str) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.AsyncClient(base_url=adversary.stack.api, headers=headers, timeout=30)


async def _l4_inbox(
    adversary: Adversary, person: httpx.AsyncClient, **settings: Any
) -> tuple[str, str]:
    """A new L4 inbox and an allowlisted recipient whose cooldown is over."""
    slug = f"bound-{random.getrandbits(40):010x}"
    made = await person.post("/inboxes", json={"slug": slug, "security_level": "L4", **settings})
    assert made.status_code == 201, made.text
    recipient = f"{slug}@example.org"
    assert (await person.post("/allowlist", json={"address": recipient})).status_code == 201
    await end_cooldowns(adversary.stack.settings, recipient)
    return slug, recipient


async def _send(sender: httpx.AsyncClient, slug: str, to: str, text: str) -> dict[str, Any]:
    answer = await sender.post(
        f"/inboxes/{slug}/send", json={"to": [to], "subject": "Numbers", "text": text}
    )
    assert answer.status_code in (200, 202), answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _status(client: httpx.AsyncClient, outbound_id: str) -> dict[str, Any]:
    found = await client.get(f"/outbound/{outbound_id}")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


async def _shorten_review_window(database_url: str, slug: str, seconds: int) -> None:
    """Test time travel: an inbox window shorter than the API allows (300 s), rather than
    wait five minutes for a held send to fall due."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(
                update(Inbox).where(Inbox.slug == slug).values(approval_timeout_seconds=seconds)
            )
    finally:
        await engine.dispose()


async def _hold_many(sender: httpx.AsyncClient, slug: str, to: str, count: int) -> list[str]:
    """``count`` held sends from ``slug``, a few calls at a time; their ids, once each is held."""
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> tuple[str, str]:
        async with gate:
            held = await _send(sender, slug, to, f"Held send number {n}.")
        assert held["status"] in ("pending_approval", "queued"), held
        return str(held["id"]), str(held["status"])

    answers = await asyncio.gather(*(one(n) for n in range(count)))
    late = [outbound_id for outbound_id, status in answers if status == "queued"]

    async def all_held() -> bool:
        statuses = [(await _status(sender, outbound_id))["status"] for outbound_id in late]
        return all(status == "pending_approval" for status in statuses)

    await eventually(all_held, what="every send of the flood to be held")
    return [outbound_id for outbound_id, _ in answers]


async def test_a_flood_of_long_held_sends_never_hides_an_overdue_one_elsewhere(
    adversary: Adversary,
) -> None:
    async with _workspace(adversary, "patient") as (person, sender):
        slug, to = await _l4_inbox(adversary, person, approval_timeout_seconds=WEEK)
        flood = await _hold_many(sender, slug, to, FLOOD)
        due_slug, due_to = await _l4_inbox(adversary, adversary.person)
        await _shorten_review_window(adversary.database_url, due_slug, seconds=1)
        due = await _send(adversary.sender, due_slug, due_to, "This one falls due at once.")

        async def lapsed() -> dict[str, Any] | None:
            body = await _status(adversary.person, due["id"])
            return body if body["status"] == "rejected" else None

        body = await eventually(lapsed, timeout=30, what="the overdue send's auto-rejection")
        assert body["error"]["code"] == "approval_timeout", body
        for outbound_id in (flood[0], flood[len(flood) // 2], flood[-1]):
            assert (await _status(person, outbound_id))["status"] == "pending_approval"


def _flagged_text(seed: int) -> str:
    """Prose nobody else writes (words drawn at random), about ``FLAGGED_WORDS`` long."""
    draw = random.Random(seed)
    syllables = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pe", "dra", "qu", "zen")
    vocabulary = ["".join(draw.choices(syllables, k=draw.randint(2, 4))) for _ in range(5000)]
    return " ".join(draw.choices(vocabulary, k=FLAGGED_WORDS))


def _flagged_mail(text: str) -> bytes:
    """``text`` in lines of about 70 characters, the instruction in the middle."""
    words = text.split(" ")
    half = len(words) // 2
    words = [*words[:half], INSTRUCTION, *words[half:]]
    lines = [" ".join(words[i : i + 10]) for i in range(0, len(words), 10)]
    return mime("Subject: account update\r\n", "\r\n".join(lines) + "\r\n")


async def _flagged(person: httpx.AsyncClient, slug: str) -> bool:
    """Whether every mail sent to ``slug`` is stored, each held for REVIEW or WITHHELD."""
    stored = []
    for status in ("delivered", "review", "withheld"):
        page = await person.get(f"/inboxes/{slug}/messages", params={"status": status})
        assert page.status_code == 200, page.text
        stored += [(status, m["id"]) for m in page.json()["items"]]
    assert all(status != "delivered" for status, _ in stored), stored
    return len(stored) == FLAGGED_MAILS


async def _decided(sender: httpx.AsyncClient, slug: str, to: str, text: str) -> dict[str, Any]:
    """Send ``text``: the call answers with policy's decision (held, on L4) while it waits,
    not ``queued`` after giving up."""
    answer = await _send(sender, slug, to, text)
    assert answer["status"] == "pending_approval", answer
    return answer


async def _risk_reasons(person: httpx.AsyncClient, outbound_id: str) -> list[str]:
    held = await person.get(f"/approvals/{outbound_id}")
    assert held.status_code == 200, held.text
    reasons: list[str] = held.json()["risk_reasons"]
    return reasons


async def test_large_flagged_mail_neither_slows_decisions_nor_hides_copies(
    adversary: Adversary,
) -> None:
    async with _workspace(adversary, "hoarder") as (person, sender):
        slug, to = await _l4_inbox(adversary, person)
        texts = [_flagged_text(seed) for seed in range(FLAGGED_MAILS)]
        for text in texts:
            await adversary.send(slug, _flagged_mail(text))
        await eventually(
            lambda: _flagged(person, slug), timeout=170, what="the flagged mails to be stored"
        )

        own = "The numbers for the quarter are attached, with the notes from the Tuesday meeting."
        clean = await _decided(sender, slug, to, own)
        assert COPIED not in await _risk_reasons(person, clean["id"])

        # A quarter of one flagged mail, from well before its instruction.
        words = texts[3].split(" ")
        copied = " ".join(words[1000 : 1000 + FLAGGED_WORDS // 4])
        copy = await _decided(sender, slug, to, f"As you asked, here it is:\n{copied}")
        assert COPIED in await _risk_reasons(person, copy["id"])
