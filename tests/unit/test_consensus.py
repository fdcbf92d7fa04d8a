"""The consensus engine: both safe PASS, either flags REVIEW, both flag WITHHOLD, risk > 70."""

from __future__ import annotations

import pytest

from mailmoat.common.events import Consensus, SenderSignal
from mailmoat.scanner.domain.consensus import (
    SideVerdict,
    decide_consensus,
    decide_with_missing,
    with_sender_signals,
)


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


def _signal(code: str, points: int) -> SenderSignal:
    return SenderSignal(code=code, points=points, detail=code)


@pytest.mark.parametrize(
    ("signals", "risk"),
    [
        ((_signal("first_contact", 5),), 70),
        ((_signal("past_withheld", 25), _signal("known_sender_unauthenticated", 30)), 70),
    ],
)
def test_sender_points_alone_do_not_withhold_a_single_flag(
    signals: tuple[SenderSignal, ...], risk: int
) -> None:
    """A stranger's newsletter one detector flags at 66 is REVIEW, not withheld: the graph's
    points other than a look-alike raise the risk to the line, never over it."""
    review = decide_consensus(SideVerdict(0, False), SideVerdict(66, True))
    assert (review.consensus, review.risk_score) == (Consensus.REVIEW, 40)
    nudged = with_sender_signals(
        decide_consensus(SideVerdict(70, True), SideVerdict(60, False)), signals
    )
    assert (nudged.consensus, nudged.risk_score, nudged.withheld) == (Consensus.REVIEW, risk, False)
    assert nudged.withheld_reason is None


def test_a_lookalike_domain_still_withholds_even_a_clean_mail() -> None:
    clean = decide_consensus(SideVerdict(0, False), SideVerdict(0, False))
    signals = (_signal("lookalike_domain", 70), _signal("first_contact", 5))
    decision = with_sender_signals(clean, signals)
    assert (decision.consensus, decision.risk_score, decision.withheld) == (
        Consensus.PASS,
        75,
        True,
    )
    assert decision.withheld_reason == "lookalike_domain, first_contact"


def test_points_still_add_above_the_line_once_the_detectors_withheld() -> None:
    withheld = decide_consensus(SideVerdict(100, True), SideVerdict(60, False))
    decision = with_sender_signals(withheld, (_signal("past_withheld", 25),))
    assert (decision.risk_score, decision.withheld, decision.withheld_reason) == (
        100,
        True,
        "detectors",
    )
