"""The From header as a channel: whatever an attacker writes there is bounded, read by both
detectors and never shown to the agent unexamined; a long one never loses accepted mail."""

from __future__ import annotations

from tests.support.adversary import Adversary, reachable
from tests.support.attack_mails import INSTRUCTION, mime, ordinary_text


async def test_an_instruction_written_as_the_from_address_never_reaches_the_agent(
    adversary: Adversary,
) -> None:
    slug = await adversary.inbox()
    sender = f"{ordinary_text(1900)} {INSTRUCTION}"  # no angle brackets: all of it is the address
    await adversary.send(slug, mime(f"From: {sender}\r\nSubject: hello\r\n", "See you soon.\r\n"))

    [message] = await adversary.stored(slug)  # stored on PostgreSQL too, however long it was
    assert len(message["from_address"]) <= 254
    assert not reachable(INSTRUCTION, await adversary.agent_sees(slug, message["id"]))


async def test_an_instruction_in_the_display_name_is_read_by_both_detectors(
    adversary: Adversary,
) -> None:
    slug = await adversary.inbox()
    headers = f'From: "{INSTRUCTION}" <mallory@evil.example>\r\nSubject: hello\r\n'
    await adversary.send(slug, mime(headers, "See you soon.\r\n"))

    [message] = await adversary.stored(slug)
    assert message["consensus"] != "PASS"
    for verdict in (await adversary.analysis(message["id"]))["verdicts"]:
        assert "from" in verdict["coverage"], verdict
    assert not reachable(INSTRUCTION, await adversary.agent_sees(slug, message["id"]))
