"""Echoed findings: what the sanitiser removed, or what withholding kept back, must not come
back to the agent through the verdicts' reasons; the excerpts are a person's, and audited."""

from __future__ import annotations

import json

import pytest

from tests.support.adversary import Adversary, reachable
from tests.support.attack_mails import ADDRESSED, INSTRUCTION, mime


@pytest.mark.parametrize(
    ("attack", "status"),
    [(ADDRESSED, "review"), (INSTRUCTION, "withheld")],
    ids=["review", "withheld"],
)
async def test_the_detail_view_gives_back_nothing_it_removed_or_withheld(
    adversary: Adversary, attack: str, status: str
) -> None:
    slug = await adversary.inbox()
    body = f"Hi team, lunch is at noon on Friday. {attack}\r\nBest, Ann\r\n"
    await adversary.send(slug, mime("Subject: lunch\r\n", body))
    [message] = await adversary.stored(slug)
    assert message["status"] == status

    detail = await adversary.detail(message["id"])
    assert not reachable(attack, json.dumps(detail))
    assert not reachable(attack, await adversary.agent_sees(slug, message["id"]))

    refused = await adversary.agent.get(f"/messages/{message['id']}/analysis")
    assert refused.status_code == 403
    analysis = await adversary.person.get(f"/messages/{message['id']}/analysis")
    assert analysis.status_code == 200, analysis.text
    assert reachable(attack, analysis.text)  # a person sees what matched, and that is audited
    audit = await adversary.person.get("/audit", params={"limit": 5})
    assert "message.analysis_read" in {row["action"] for row in audit.json()["items"]}
