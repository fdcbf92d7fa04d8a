"""Consensus engine: joins the primary and checker verdicts into PASS, REVIEW or WITHHOLD.

Risk score (0-100) = round(0.6 * higher score + 0.4 * lower score), plus 20 when both detectors
flag, capped at 100. A failed detector, or one whose verdict is missing at the deadline, counts as
flagged with score 100 (fail closed). A mail is withheld when both flag or when the risk exceeds
``WITHHOLD_ABOVE``. So one failed side alone gives REVIEW at risk >= 60; both gone, WITHHOLD.
The sender graph's signals (see ``sender_graph``) add their points to that risk afterwards, and
the threshold is applied again: the consensus itself stays the detectors' word. Only a look-alike
domain's points may carry a mail over the line; the others stop at 70 (``with_sender_signals``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailmoat.common.events import Consensus, SenderSignal

WITHHOLD_ABOVE = 70
BOTH_FLAG_BONUS = 20


@dataclass(frozen=True)
class SideVerdict:
    """The part of one detector's verdict the consensus needs."""

    score: int
    flagged: bool


@dataclass(frozen=True)
class Decision:
    """The consensus outcome."""

    consensus: Consensus
    risk_score: int
    withheld: bool
    signals: tuple[SenderSignal, ...] = ()
    withheld_reason: str | None = None


def decide_consensus(primary: SideVerdict, checker: SideVerdict) -> Decision:
    """Both safe PASS, either flags REVIEW, both flag WITHHOLD; risk > 70 withholds."""
    flags = primary.flagged + checker.flagged
    consensus = (Consensus.PASS, Consensus.REVIEW, Consensus.WITHHOLD)[flags]
    high, low = max(primary.score, checker.score), min(primary.score, checker.score)
    risk = round(0.6 * high + 0.4 * low) + (BOTH_FLAG_BONUS if flags == 2 else 0)
    risk = min(100, risk)
    withheld = consensus is Consensus.WITHHOLD or risk > WITHHOLD_ABOVE
    reason = "detectors" if withheld else None
    return Decision(consensus=consensus, risk_score=risk, withheld=withheld, withheld_reason=reason)


CROSSES_THE_LINE = frozenset({"lookalike_domain"})
"""Sender-graph signals whose points alone may withhold a mail."""

FAILED_SIDE = SideVerdict(score=100, flagged=True)


def decide_with_missing(primary: SideVerdict | None, checker: SideVerdict | None) -> Decision:
    """``decide_consensus`` where an absent verdict (``None``) counts as a flag at score 100."""
    return decide_consensus(primary or FAILED_SIDE, checker or FAILED_SIDE)


def with_sender_signals(decision: Decision, signals: tuple[SenderSignal, ...]) -> Decision:
    """``decision`` with the signals' points added to its risk (capped at 100), judged again.

    Only with a signal in ``CROSSES_THE_LINE`` (a look-alike of a known correspondent) may the
    points carry the risk over ``WITHHOLD_ABOVE``; without one they raise it at most to the line,
    so a stranger's mail that one detector flags stays in REVIEW, and every risk above 70 is
    still a withheld mail."""
    if not signals:
        return decision
    risk = min(100, decision.risk_score + sum(s.points for s in signals))
    if not decision.withheld and not any(s.code in CROSSES_THE_LINE for s in signals):
        risk = min(risk, WITHHOLD_ABOVE)
    withheld = decision.consensus is Consensus.WITHHOLD or risk > WITHHOLD_ABOVE
    reason = decision.withheld_reason
    if withheld and reason is None:  # codes only: the details (domains) are in risk_reasons
        reason = ", ".join(s.code for s in signals)
    return Decision(decision.consensus, risk, withheld, signals, reason)
