"""Replay stored mail through a candidate detector, changing nothing: what would it have caught,
what would it have let through, and what would each mail's outcome have been.

Each stored mail of the window (L1 mail, which no detector reads, is left out) is read as the
scanner read it (ingest's parse, else the raw text) and judged by the candidate in place of one
side. The baseline is the consensus of the two verdicts the mail got; the candidate's is the
consensus of its verdict and the other side's stored one (``domain.consensus``). The sender
graph's points and quarantine are outside the replay: both are the same either way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.keyset import Keyset, oldest_first
from mailmoat.common.db.session import SessionFactory
from mailmoat.common.db.tables import Message, RawMessage, ScanVerdictRecord
from mailmoat.common.events import Consensus
from mailmoat.scanner.domain.assessment import Detector
from mailmoat.scanner.domain.consensus import SideVerdict, decide_with_missing
from mailmoat.scanner.domain.coverage import enforce_coverage
from mailmoat.scanner.handlers import scan_content

PAGE = 100


@dataclass(frozen=True)
class Replayed:
    """One mail as it was judged and as the candidate would have judged it."""

    mail_id: uuid.UUID
    received_at: datetime
    from_address: str
    was_flagged: bool | None
    """The replaced side's stored verdict (None: it had none, which counts as a flag)."""
    flagged: bool
    score: int
    codes: tuple[str, ...]
    """The candidate's finding codes."""
    was: str
    """The baseline outcome: delivered, review or withheld."""
    now: str
    """The candidate's."""


@dataclass
class DetectorReplay:
    """What the candidate would have changed, counted and listed."""

    candidate: str
    side: str
    mails: int = 0
    failed: int = 0
    """Mails the candidate raised on or timed out (each counts as a flag, as live)."""
    newly_caught: list[Replayed] = field(default_factory=list)
    newly_passed: list[Replayed] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(baseline outcome, candidate outcome) for every mail."""
    caught_by_rule: Counter[str] = field(default_factory=Counter)
    """The finding codes of the newly caught mails."""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "detector",
            "candidate": self.candidate,
            "side": self.side,
            "mails": self.mails,
            "candidate_failed": self.failed,
            "newly_caught": len(self.newly_caught),
            "newly_passed": len(self.newly_passed),
            "caught_by_rule": dict(self.caught_by_rule.most_common()),
            "outcomes": [
                {"was": was, "now": now, "mails": count}
                for (was, now), count in sorted(self.outcomes.items())
            ],
            "changed": [_mail_json(r) for r in self.newly_caught + self.newly_passed],
        }


async def replay_detector(
    sessions: SessionFactory,
    detector: Detector,
    side: str,
    *,
    since: datetime,
    until: datetime,
    workspace_id: uuid.UUID | None = None,
    per_mail_seconds: float = 30.0,
) -> DetectorReplay:
    """Judge every analysed mail received in [since, until) with ``detector`` as ``side``."""
    report = DetectorReplay(candidate=f"{detector.name} {detector.version}", side=side)
    async for message, raw, verdicts in _stored(sessions, since, until, workspace_id):
        content = scan_content(raw.structured, raw.raw)
        try:
            assessment = await asyncio.wait_for(detector.assess(content), per_mail_seconds)
            assessment = enforce_coverage(content, assessment)
            flagged, score = assessment.flagged, assessment.score
            codes = tuple(dict.fromkeys(f.code for f in assessment.findings))
        except Exception:  # a failing candidate flags, as a live detector does (fail closed)
            report.failed += 1
            flagged, score, codes = True, 100, ("candidate.failed",)
        mine, other = verdicts.get(side), verdicts.get(_other(side))
        candidate = SideVerdict(score=score, flagged=flagged)
        pair = (candidate, other) if side == "primary" else (other, candidate)
        baseline = (mine, other) if side == "primary" else (other, mine)
        replayed = Replayed(
            mail_id=message.id,
            received_at=message.received_at,
            from_address=message.from_address,
            was_flagged=None if mine is None else mine.flagged,
            flagged=flagged,
            score=score,
            codes=codes,
            was=_outcome(*baseline),
            now=_outcome(*pair),
        )
        report.mails += 1
        report.outcomes[(replayed.was, replayed.now)] += 1
        was_flagged = mine is None or mine.flagged
        if flagged and not was_flagged:
            report.newly_caught.append(replayed)
            report.caught_by_rule.update(codes or ("(no finding)",))
        elif was_flagged and not flagged:
            report.newly_passed.append(replayed)
    return report


async def _stored(
    sessions: SessionFactory, since: datetime, until: datetime, workspace_id: uuid.UUID | None
) -> AsyncIterator[tuple[Message, RawMessage, dict[str, SideVerdict]]]:
    """The analysed mails of the window, oldest first, a page at a time, each with its stored
    (not shadow) verdicts by side."""
    after: Keyset | None = None
    while True:
        async with sessions() as session, session.begin():
            page = await _page(session, since, until, workspace_id, after)
            verdicts = await _verdicts(session, [message.id for message, _ in page])
        for message, raw in page:
            if verdicts.get(message.id):  # L1 mail: no detector read it
                yield message, raw, verdicts[message.id]
        if len(page) < PAGE:
            return
        last = page[-1][0]
        after = (last.received_at, last.id)


async def _page(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    workspace_id: uuid.UUID | None,
    after: Keyset | None,
) -> list[tuple[Message, RawMessage]]:
    query = (
        select(Message, RawMessage)
        .join(RawMessage, RawMessage.id == Message.raw_id)
        .where(Message.received_at >= since, Message.received_at < until)
    )
    if workspace_id is not None:
        query = query.where(Message.workspace_id == workspace_id)
    query = oldest_first(query, Message.received_at, Message.id, after, PAGE)
    return [(message, raw) for message, raw in (await session.execute(query)).all()]


async def _verdicts(
    session: AsyncSession, mail_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, SideVerdict]]:
    rows = await session.execute(
        select(
            ScanVerdictRecord.mail_id,
            ScanVerdictRecord.detector,
            ScanVerdictRecord.score,
            ScanVerdictRecord.flagged,
            ScanVerdictRecord.error,
        ).where(ScanVerdictRecord.mail_id.in_(mail_ids), ScanVerdictRecord.shadow.is_(False))
    )
    found: dict[uuid.UUID, dict[str, SideVerdict]] = {}
    for mail_id, side, score, flagged, error in rows.all():
        failed = error is not None  # a failed side counted as a flag at 100
        found.setdefault(mail_id, {})[side] = SideVerdict(
            score=100 if failed else score, flagged=flagged or failed
        )
    return found


def _other(side: str) -> str:
    return "checker" if side == "primary" else "primary"


def _outcome(primary: SideVerdict | None, checker: SideVerdict | None) -> str:
    decision = decide_with_missing(primary, checker)
    if decision.withheld:
        return "withheld"
    return "delivered" if decision.consensus is Consensus.PASS else "review"


def _mail_json(replayed: Replayed) -> dict[str, Any]:
    return {
        "mail_id": str(replayed.mail_id),
        "received_at": replayed.received_at.isoformat(),
        "from": replayed.from_address,
        "was_flagged": replayed.was_flagged,
        "flagged": replayed.flagged,
        "score": replayed.score,
        "codes": list(replayed.codes),
        "was": replayed.was,
        "now": replayed.now,
    }
