"""The consensus engine's subscribers and deadline sweep: every mail gets exactly one decision,
its risk raised by what the sender graph knows of its sender."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.credits import AI_ANALYSIS, charge
from mailmoat.common.db.locks import turn_for
from mailmoat.common.db.tables import ScanDecision, ScanVerdictRecord, SenderGraphView
from mailmoat.common.events import (
    Consensus,
    DetectorVerdict,
    MailScanned,
    RawMailReceived,
    SenderEdgeUpdated,
    SenderSignal,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.lookalike import domain_skeleton, split_address
from mailmoat.common.observability.committed import on_commit
from mailmoat.common.observability.metrics import CONSENSUS_OUTCOMES, SENDER_SIGNALS
from mailmoat.common.outbox import stage_event
from mailmoat.common.service import Runtime
from mailmoat.common.subscription import PoisonEvent
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.consensus import (
    Decision,
    SideVerdict,
    decide_with_missing,
    with_sender_signals,
)
from mailmoat.scanner.domain.sender_graph import Edge, SenderFacts, sender_signals
from mailmoat.scanner.handlers import NO_AI_LEVELS

log = logging.getLogger(__name__)

PRODUCER = "scanner-consensus"
SIDES = ("primary", "checker")
JOIN = "consensus"
"""The lock scope that makes a mail's intake and its verdicts take turns: otherwise, on
PostgreSQL, each can commit without seeing the other and the mail waits for its deadline."""
NO_ANALYSIS = Decision(consensus=Consensus.PASS, risk_score=0, withheld=False)


class ConsensusEngine:
    """Opens a decision per mail, closes it when both sides answered or its deadline passed."""

    def __init__(self, deadline_seconds: float) -> None:
        self.deadline = timedelta(seconds=deadline_seconds)

    async def on_raw_mail(self, event: RawMailReceived, session: AsyncSession) -> None:
        """Open the mail's decision with its deadline; L1 mail is decided at once, unanalysed."""
        await turn_for(session, JOIN, event.mail_id)
        decision = await self._open(session, event)
        if decision.decided_at is not None:
            return
        if event.security_level in NO_AI_LEVELS:
            _publish(session, decision, NO_ANALYSIS, verdicts=[], analysed=False)
            return
        verdicts = await _verdicts(session, event.mail_id)  # both may have come first
        if {v.detector for v in verdicts} == set(SIDES):
            await _decide(session, decision, verdicts)

    async def on_scan_verdict(self, event: DetectorVerdict, session: AsyncSession) -> None:
        """Record every verdict; decide once both sides are in (shadow ones never decide)."""
        if event.detector not in SIDES:
            raise PoisonEvent(f"unknown detector side {event.detector!r}")
        await turn_for(session, JOIN, event.mail_id)
        session.add(_record(event))
        if event.shadow:
            return
        decision, verdicts = await _joined(session, event.mail_id)
        if decision is None or decision.decided_at is not None:
            return  # no raw-mail yet: the decision opens (and decides) when it arrives
        if {v.detector for v in verdicts} == set(SIDES):
            await _decide(session, decision, verdicts)

    async def on_sender_edge(self, event: SenderEdgeUpdated, session: AsyncSession) -> None:
        """Keep this engine's copy of one sender-graph edge (a replayed older state is ignored)."""
        key = (event.inbox_id, event.kind, event.sender)
        row = await session.get(SenderGraphView, key, with_for_update=True)
        if row is None:
            row = SenderGraphView(
                inbox_id=event.inbox_id,
                kind=event.kind,
                sender=event.sender,
                workspace_id=event.workspace_id,
                skeleton=domain_skeleton(event.sender)[:1000] if event.kind == "domain" else "",
            )
            session.add(row)
        elif row.messages > event.messages:
            return
        row.first_seen, row.last_seen = event.first_seen, event.last_seen
        row.messages, row.withheld, row.dmarc_pass = (
            event.messages,
            event.withheld,
            event.dmarc_pass,
        )

    async def sweep(self, session: AsyncSession, now: datetime) -> int:
        """Decide every mail whose deadline passed, counting absent sides as flags."""
        query = (
            select(ScanDecision)
            .where(ScanDecision.decided_at.is_(None), ScanDecision.deadline < now)
            .limit(100)
            .with_for_update(skip_locked=True)
        )
        overdue = list(await session.scalars(query))
        for decision in overdue:
            await _decide(session, decision, await _verdicts(session, decision.mail_id))
        return len(overdue)

    async def sweep_round(self, runtime: Runtime) -> None:
        """One round of the consensus service's deadline sweep."""
        async with runtime.sessions() as session, session.begin():
            decided = await self.sweep(session, utcnow())
        if decided:
            log.warning("%d mails decided at their deadline (a side was missing)", decided)
            runtime.relay.wake()

    async def _open(self, session: AsyncSession, event: RawMailReceived) -> ScanDecision:
        decision = await session.get(ScanDecision, event.mail_id, with_for_update=True)
        if decision is not None:
            return decision
        decision = ScanDecision(
            mail_id=event.mail_id,
            workspace_id=event.workspace_id,
            inbox_id=event.inbox_id,
            raw_ref=event.raw_ref,
            deadline=utcnow() + self.deadline,
            missing=[],
            sender=event.header_from[:320],
            dmarc=event.dmarc[:20],
            trusted_sender=event.trusted_sender,
            quarantined=event.quarantine_reason is not None,
        )
        session.add(decision)
        return decision


async def _joined(
    session: AsyncSession, mail_id: uuid.UUID
) -> tuple[ScanDecision | None, list[ScanVerdictRecord]]:
    """The mail's decision, locked, and its verdicts, in one query (none without a decision)."""
    verdict = and_(
        ScanVerdictRecord.mail_id == ScanDecision.mail_id, ScanVerdictRecord.shadow.is_(False)
    )
    query = (
        select(ScanDecision, ScanVerdictRecord)
        .outerjoin(ScanVerdictRecord, verdict)
        .where(ScanDecision.mail_id == mail_id)
        .with_for_update(of=ScanDecision)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None, []
    return rows[0][0], [row[1] for row in rows if row[1] is not None]


async def _verdicts(session: AsyncSession, mail_id: uuid.UUID) -> list[ScanVerdictRecord]:
    query = select(ScanVerdictRecord).where(
        ScanVerdictRecord.mail_id == mail_id, ScanVerdictRecord.shadow.is_(False)
    )
    return list(await session.scalars(query))


async def _decide(
    session: AsyncSession, decision: ScanDecision, verdicts: list[ScanVerdictRecord]
) -> None:
    """Decide from the verdicts in; the analysis is charged whether or not both sides came."""
    by_side = {v.detector: v for v in verdicts}
    sides = [by_side.get(s) for s in SIDES]
    primary, checker = (None if v is None else SideVerdict(v.score, v.flagged) for v in sides)
    decision.missing = [s for s, v in zip(SIDES, sides, strict=True) if v is None]
    signals = await _sender_signals(session, decision)
    for signal in signals:
        on_commit(session, SENDER_SIGNALS.labels(signal.code).inc)
    outcome = with_sender_signals(decide_with_missing(primary, checker), signals)
    _publish(session, decision, outcome, verdicts, analysed=True)
    # A mail is decided once (its decision's decided_at, set under the mail's turn), so nothing
    # can have charged its analysis yet.
    await charge(session, decision.workspace_id, AI_ANALYSIS, decision.mail_id, new_ref=True)


def _publish(
    session: AsyncSession,
    decision: ScanDecision,
    outcome: Decision,
    verdicts: list[ScanVerdictRecord],
    *,
    analysed: bool,
) -> None:
    decision.decided_at = utcnow()
    decision.consensus, decision.risk_score = outcome.consensus.value, outcome.risk_score
    decision.withheld = outcome.withheld
    decision.sender_signals = [signal.model_dump() for signal in outcome.signals]
    scanned = MailScanned(
        mail_id=decision.mail_id,
        workspace_id=decision.workspace_id,
        inbox_id=decision.inbox_id,
        raw_ref=decision.raw_ref,
        consensus=outcome.consensus,
        risk_score=outcome.risk_score,
        withheld=outcome.withheld,
        verdict_ids=tuple(v.id for v in verdicts),
        missing=tuple(decision.missing or ()),
        analysed=analysed,
        sender=decision.sender,
        dmarc=decision.dmarc,
        quarantined=decision.quarantined,
        sender_signals=outcome.signals,
        withheld_reason=outcome.withheld_reason,
    )
    stage_event(session, Topic.SCANNED_MAIL, scanned, producer=PRODUCER)
    on_commit(session, CONSENSUS_OUTCOMES.labels(outcome.consensus.value).inc)


async def _sender_signals(
    session: AsyncSession, decision: ScanDecision
) -> tuple[SenderSignal, ...]:
    """What this engine's copy of the sender graph says of the mail's sender."""
    address, domain = split_address(decision.sender)
    if not address:
        return ()
    mine = or_(
        and_(SenderGraphView.kind == "address", SenderGraphView.sender == address),
        and_(SenderGraphView.kind == "domain", SenderGraphView.sender == domain),
    )
    rows = await session.scalars(
        select(SenderGraphView).where(SenderGraphView.inbox_id == decision.inbox_id, mine)
    )
    edges = {row.kind: Edge(row.messages, row.withheld, row.dmarc_pass) for row in rows}
    known = select(SenderGraphView.sender).where(
        SenderGraphView.inbox_id == decision.inbox_id,
        SenderGraphView.kind == "domain",
        SenderGraphView.skeleton == domain_skeleton(domain)[:1000],
        SenderGraphView.sender != domain,
        SenderGraphView.messages > SenderGraphView.withheld,
    )
    lookalike_of = tuple(sorted(await session.scalars(known.limit(10))))
    facts = SenderFacts(address, domain, decision.dmarc, decision.trusted_sender)
    return sender_signals(facts, edges.get("address"), edges.get("domain"), lookalike_of)


def _record(event: DetectorVerdict) -> ScanVerdictRecord:
    return ScanVerdictRecord(
        id=event.event_id,
        workspace_id=event.workspace_id,
        mail_id=event.mail_id,
        detector=f"{event.detector}-shadow" if event.shadow else event.detector,
        detector_name=event.detector_name,
        detector_version=event.detector_version,
        score=event.score,
        flagged=event.flagged,
        findings=[f.model_dump() for f in event.findings],
        error=event.error,
        latency_ms=event.latency_ms,
        coverage=list(event.coverage),
        shadow=event.shadow,
    )
