"""Padding: a mail too long for the detectors' budgets must not PASS on the strength of what
they skipped, and the instruction in it must never reach the agent unsanitised."""

from __future__ import annotations

from tests.support.adversary import Adversary, reachable
from tests.support.attack_mails import INSTRUCTION, padded

REMOVED = "[removed: suspected instruction]"


async def test_a_padded_three_megabyte_mail_with_one_instruction_is_not_passed(
    adversary: Adversary,
) -> None:
    slug = await adversary.inbox()
    await adversary.send(slug, padded(INSTRUCTION, body_chars=3_000_000))
    [message] = await adversary.stored(slug, timeout=180)

    assert message["consensus"] != "PASS"
    analysis = await adversary.analysis(message["id"])
    codes = {f["code"] for verdict in analysis["verdicts"] for f in verdict["findings"]}
    assert any(code.startswith(("coverage.", "injection.", "exfil.")) for code in codes), codes
    assert not reachable(INSTRUCTION, await adversary.agent_sees(slug, message["id"]))

    if message["status"] == "withheld":  # what a person's release hands over is sanitised too
        await adversary.release(message["id"])
    shown = await adversary.detail(message["id"])
    assert REMOVED in shown["text"]
    assert not reachable(INSTRUCTION, await adversary.agent_sees(slug, message["id"]))
