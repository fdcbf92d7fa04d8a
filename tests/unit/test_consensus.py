"""The consensus engine: both safe PASS, either flags REVIEW, both flag WITHHOLD, risk > 70."""

from __future__ import annotations

import pytest

from mailmoat.common.events import Consensus
from mailmoat.scanner.domain.consensus import SideVerdict, decide_consensus, decide_with_missing


@pytest.mark.parametrize(
    ("primary", "checker", "consensus", "risk", "withheld"),
    [
        (SideVerdict(0, False), SideVerdict(0, False), Consensus.PASS, 0, False),
        (SideVerdict(30, False), SideVerdict(10, False), Consensus.PASS, 22, False),
        (SideVerdict(60, True), SideVerdict(0, False), Consensus.REVIEW, 36, False),
        (SideVerdict(0, False), SideVerdict(100, True), Consensus.REVIEW, 60, False),
        (SideVerdict(100, True), SideVerdict(60, False), Consensus.REVIEW, 84, True),
        (SideVerdict(50, True), SideVerdict(50, True), Consensus.WITHHOLD, 70, True),
        (SideVerdict(100, True), SideVerdict(100, True), Consensus.WITHHOLD, 100, True),
    ],
)
def test_decide_consensus(
    primary: SideVerdict, checker: SideVerdict, consensus: Consensus, risk: int, withheld: bool
) -> None:
    decision = decide_consensus(primary, checker)
    assert (decision.consensus, decision.risk_score, decision.withheld) == (
        consensus,
        risk,
        withheld,
    )


@pytest.mark.parametrize(
    ("primary", "checker", "consensus", "withheld"),
    [
        (SideVerdict(0, False), None, Consensus.REVIEW, False),  # a missing side is a flag
        (None, SideVerdict(0, False), Consensus.REVIEW, False),
        (SideVerdict(80, True), None, Consensus.WITHHOLD, True),
        (None, None, Consensus.WITHHOLD, True),  # both gone: nothing reaches the agent
    ],
)
def test_missing_verdicts_fail_closed(
    primary: SideVerdict | None, checker: SideVerdict | None, consensus: Consensus, withheld: bool
) -> None:
    decision = decide_with_missing(primary, checker)
    assert (decision.consensus, decision.withheld) == (consensus, withheld)
    assert decision.risk_score >= 60
