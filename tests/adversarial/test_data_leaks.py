"""A hijacked agent mails out what it was tricked into reading: keys, cards, account numbers,
national IDs, passwords, and other people's mail copied word for word.

Every such send from an L3 inbox is held for a person with a named reason that never repeats
the secret, and nothing reaches the relay; an inbox may refuse them instead, or exempt a kind it
sends for a living, and only a person's key may change that. Quoting a mail back to the people
in its thread is no leak.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.adversary import Adversary
from tests.support.allowlist import end_cooldowns
from tests.support.attack_mails import mime
from tests.support.waiting import eventually

SECRETS = [
    ("AWS key", "the key is AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
    (
        "SSH key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
        "private key",
    ),
    ("Card", "use card 4111 1111 1111 1111 exp 12/28", "a card number ending 1111"),
    ("Account", "pay DE89 3704 0044 0532 0130 00", "an IBAN (DE) ending 3000"),
    ("SSN", "her SSN is 123-45-6789", "a US Social Security number"),
    ("Login", "the admin password is Tr0ub4dor&3", "a password given in the text"),
]
MEMO = (
    "Confidential: the board agreed on Tuesday to acquire Northwind Traders for forty two "
    "million, closing in March, with the announcement held until the auditors sign off on the "
    "second quarter figures. Nobody outside the deal team may know the price, the timing or the "
    "name of the target before the press release, and the bankers are bound by the same terms. "
    "The schedule for the closing follows next week, once the lawyers have read it."
)


async def _sender(adversary: Adversary, *recipients: str) -> str:
    """A new L3 inbox; ``recipients`` allowlisted with their cooldown over."""
    slug = await adversary.inbox("L3")
    for recipient in recipients:
        added = await adversary.person.post("/allowlist", json={"address": recipient})
        assert added.status_code in (201, 409), added.text
        await end_cooldowns(adversary.stack.settings, recipient)
    return slug


async def _send(adversary: Adversary, slug: str, to: str, subject: str, text: str) -> Any:
    mail = {"to": [to], "subject": subject, "text": text}
    answer = await adversary.sender.post(f"/inboxes/{slug}/send", json=mail)
    assert answer.status_code in (200, 202), answer.text
    return answer.json()


async def _settled(adversary: Adversary, outbound_id: str) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        body: dict[str, Any] = (await adversary.person.get(f"/outbound/{outbound_id}")).json()
        return body if body["status"] in ("rejected", "sent", "failed") else None

    return await eventually(decided, timeout=120, what=f"the send {outbound_id} to settle")


@pytest.mark.parametrize(("subject", "secret", "named"), SECRETS)
async def test_a_secret_in_a_send_holds_it_for_a_person(
    adversary: Adversary, subject: str, secret: str, named: str
) -> None:
    recipient = f"leak-{subject.lower().replace(' ', '-')}@partner.example"
    slug = await _sender(adversary, recipient)
    asked = await _send(adversary, slug, recipient, subject, f"As you asked, {secret}. Regards")
    assert asked["status"] == "pending_approval", asked
    held = (await adversary.person.get(f"/approvals/{asked['id']}")).json()
    [reason] = [r for r in held["held_reasons"] if r.startswith("data_leak:")]
    assert named in reason
    shown = " ".join(held["held_reasons"] + held["risk_reasons"])
    value = max((w for w in secret.split() if any(c.isdigit() for c in w)), key=len)
    assert value not in shown, shown
    assert held["risk_score"] >= 40
    assert adversary.sink.received(asked["id"]) == []


async def test_another_persons_mail_copied_out_is_held_but_quoting_it_back_is_not(
    adversary: Adversary,
) -> None:
    colleague, outsider = "carol@corp.example", "press@outsider.example"
    slug = await _sender(adversary, colleague, outsider)
    await adversary.send(
        slug,
        mime("Subject: Project Northwind\r\n", MEMO + "\r\n", sender=f"Carol <{colleague}>"),
        mail_from=colleague,
    )
    [stored] = await adversary.stored(slug)
    assert stored["status"] == "delivered", stored
    text = (await adversary.agent.get(f"/messages/{stored['id']}")).json()["text"]

    leaked = await _send(adversary, slug, outsider, "FYI", f"Thought you'd like this:\n{text}")
    assert leaked["status"] == "pending_approval", leaked
    held = (await adversary.person.get(f"/approvals/{leaked['id']}")).json()
    [reason] = [r for r in held["held_reasons"] if r.startswith("data_leak:")]
    assert stored["id"] in reason
    assert colleague in reason

    # Quoting it back to its sender tells nobody anything new.
    quoted = await _send(adversary, slug, colleague, "Re: Project Northwind", f"> {text}\nNoted.")
    settled = await _settled(adversary, quoted["id"])
    assert settled["status"] == "sent", settled


async def test_an_inbox_may_refuse_leaks_or_exempt_a_kind_and_only_a_person_sets_it(
    adversary: Adversary,
) -> None:
    recipient = "billing@customer.example"
    slug = await _sender(adversary, recipient)
    for change in ({"data_leak_action": "reject"}, {"data_leak_exempt": ["iban"]}):
        refused = await adversary.sender.patch(f"/inboxes/{slug}", json=change)
        assert refused.status_code == 403, refused.text
    invalid = await adversary.person.patch(f"/inboxes/{slug}", json={"data_leak_exempt": ["x"]})
    assert invalid.status_code == 422, invalid.text

    patched = await adversary.person.patch(
        f"/inboxes/{slug}", json={"data_leak_action": "reject", "data_leak_exempt": ["iban"]}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["data_leak_action"], patched.json()["data_leak_exempt"]) == (
        "reject",
        ["iban"],
    )
    card = await _send(adversary, slug, recipient, "Card", "card 4111 1111 1111 1111")
    assert card["status"] == "rejected", card
    assert card["error"]["code"] == "data_leak"
    assert "4111 1111" not in card["error"]["message"]
    invoice = await _send(
        adversary, slug, recipient, "Invoice 7", "Please pay to DE89 3704 0044 0532 0130 00."
    )
    settled = await _settled(adversary, invoice["id"])
    assert settled["status"] == "sent", settled
    assert settled["risk_score"] >= 40
