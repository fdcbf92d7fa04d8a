"""Replay stored sends through a candidate policy (``candidate``), changing nothing: which sends
would it have refused, held or let through that today's policy did not, and by which rule.

Each send of the window is judged twice, as a new request at the time it was asked for: with
today's settings (the baseline) and with the candidate's, on the same facts (the allowlist as it
stood then, the cap ledger up to then, the thread, the context's taint, the copy checks), by the
same rules. Comparing the two, rather than the candidate with the decision recorded then, shows
what the candidate changes and nothing else (a recipient's cooldown since over, an inbox since
deleted). The recorded outcome is reported beside them."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.caps import CapLedger
from mailmoat.common.db.keyset import Keyset, oldest_first
from mailmoat.common.db.session import SessionFactory
from mailmoat.common.db.tables import AllowlistEntry, OutboundMessage, Workspace
from mailmoat.common.mail.draft import html_allowed
from mailmoat.policy.adapters.copies import copied_inbound
from mailmoat.policy.adapters.flagged import flagged_repeated
from mailmoat.policy.adapters.repository import PolicyRepository
from mailmoat.policy.candidate import CandidatePolicy, outcome
from mailmoat.policy.domain.fingerprint import PROBE_SIZE, fingerprint
from mailmoat.policy.domain.outbound import OutboundFacts, evaluate_outbound
from mailmoat.policy.domain.rules import OUTBOUND_RULES
from mailmoat.policy.outbound import send_context

PAGE = 100


@dataclass(frozen=True)
class SendReplayed:
    """One send's three outcomes: recorded, today's policy, the candidate's."""

    send_id: uuid.UUID
    requested_at: datetime
    inbox: str
    recipients: tuple[str, ...]
    recorded: str
    baseline: str
    candidate: str


@dataclass
class PolicyReplay:
    """What the candidate would have changed, counted and listed."""

    candidate: str
    sends: int = 0
    changed: list[SendReplayed] = field(default_factory=list)
    newly_refused: Counter[str] = field(default_factory=Counter)
    """By the rule (code) that would refuse them."""
    newly_held: Counter[str] = field(default_factory=Counter)
    """By why they would wait for a person."""
    newly_passed: Counter[str] = field(default_factory=Counter)
    """By what stopped them under today's policy."""
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "policy",
            "candidate": self.candidate,
            "sends": self.sends,
            "changed": len(self.changed),
            "newly_refused": dict(self.newly_refused.most_common()),
            "newly_held": dict(self.newly_held.most_common()),
            "newly_passed": dict(self.newly_passed.most_common()),
            "outcomes": [
                {"baseline": was, "candidate": now, "sends": count}
                for (was, now), count in sorted(self.outcomes.items())
            ],
            "sends_changed": [
                {
                    "send_id": str(s.send_id),
                    "requested_at": s.requested_at.isoformat(),
                    "inbox": s.inbox,
                    "to": list(s.recipients),
                    "recorded": s.recorded,
                    "baseline": s.baseline,
                    "candidate": s.candidate,
                }
                for s in self.changed
            ],
        }


async def replay_policy(
    sessions: SessionFactory,
    candidate: CandidatePolicy,
    name: str,
    *,
    since: datetime,
    until: datetime,
    workspace_id: uuid.UUID | None = None,
) -> PolicyReplay:
    """Judge every send requested in [since, until) by today's policy and by ``candidate``."""
    report = PolicyReplay(candidate=name)
    after: Keyset | None = None
    while True:
        async with sessions() as session, session.begin():
            page = await _page(session, since, until, workspace_id, after)
            for outbound in page:
                facts, slug = await _facts(session, outbound)
                baseline = outcome(evaluate_outbound(facts, OUTBOUND_RULES))
                judged = outcome(evaluate_outbound(candidate.apply(facts, slug), OUTBOUND_RULES))
                report.sends += 1
                report.outcomes[(baseline, judged)] += 1
                if baseline != judged:
                    _count(report, baseline, judged)
                    report.changed.append(
                        SendReplayed(
                            outbound.id,
                            outbound.created_at,
                            slug,
                            tuple(outbound.recipients),
                            outbound.status,
                            baseline,
                            judged,
                        )
                    )
        if len(page) < PAGE:
            return report
        after = (page[-1].created_at, page[-1].id)


def _count(report: PolicyReplay, baseline: str, judged: str) -> None:
    kind, _, why = judged.partition(":")
    if kind == "refused":
        report.newly_refused[why] += 1
    elif kind == "held":
        report.newly_held[why] += 1
    else:
        report.newly_passed[baseline] += 1


async def _page(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    workspace_id: uuid.UUID | None,
    after: Keyset | None,
) -> list[OutboundMessage]:
    query = select(OutboundMessage).where(
        OutboundMessage.created_at >= since, OutboundMessage.created_at < until
    )
    if workspace_id is not None:
        query = query.where(OutboundMessage.workspace_id == workspace_id)
    query = oldest_first(query, OutboundMessage.created_at, OutboundMessage.id, after, PAGE)
    return list(await session.scalars(query))


async def _facts(session: AsyncSession, outbound: OutboundMessage) -> tuple[OutboundFacts, str]:
    """The send's facts as a new request at the time it was asked for, with today's settings."""
    repo = PolicyRepository(session, outbound.workspace_id)
    workspace = await session.get(Workspace, outbound.workspace_id)
    if workspace is None:  # the foreign key holds it
        raise LookupError(f"workspace {outbound.workspace_id} not found")
    inbox = await repo.inbox(outbound.inbox_id)
    now = outbound.created_at
    rows = list(
        await session.scalars(
            select(AllowlistEntry).where(
                AllowlistEntry.workspace_id == outbound.workspace_id,
                AllowlistEntry.added_at <= now,
            )
        )
    )
    caps = await CapLedger(session, outbound.workspace_id).counts(
        inbox.id, outbound.recipients, now, as_of=True
    )
    facts = await send_context(repo, outbound, workspace, inbox, rows, caps, now)
    found = fingerprint(f"{outbound.subject}\n{outbound.text}", PROBE_SIZE)
    copies = await copied_inbound(session, outbound.workspace_id, found, outbound.recipients, now)
    html_ok = {row.address.lower() for row in rows if row.allow_html}
    facts = replace(
        facts,
        subject=outbound.subject,
        text=outbound.text,
        html=outbound.html,
        html_sent=outbound.html if html_allowed(outbound.recipients, html_ok) else None,
        draft_fingerprint=found,
        flagged_inbound=await flagged_repeated(session, outbound.workspace_id, found, now),
        canaries=await repo.canaries(),
        copied_inbound=tuple(copy.detail for copy in copies),
        inbox_active=inbox.deleted_at is None or inbox.deleted_at > now,  # deleted since
    )
    return facts, inbox.slug
