"""Analysis that fails closed: DNS that never answers must not buy malware a way in."""

from __future__ import annotations

from tests.adversarial.conftest import BLACK_HOLE
from tests.support.adversary import Adversary
from tests.support.attack_mails import EICAR, dkim_signatures, with_attachments


async def test_eicar_is_quarantined_when_its_analysis_runs_out_of_time(
    adversary: Adversary,
) -> None:
    slug = await adversary.inbox()
    mail = with_attachments("The invoice is attached.", [("invoice.txt", EICAR, "text/plain")])
    # Ten signatures whose keys live where DNS never answers: more DNS waiting than allowed.
    await adversary.send(slug, dkim_signatures(BLACK_HOLE, 10).encode() + mail)

    [message] = await adversary.stored(slug)
    assert message["status"] == "withheld"
    assert "text" not in message  # a stub: its content is never listed
    assert "analysis_failed" in message["withheld_reason"]
    analysis = await adversary.analysis(message["id"])
    assert "malware.eicar" in {f["code"] for f in analysis["findings"]}
