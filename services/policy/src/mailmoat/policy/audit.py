"""Policy's audit rows: every decision on a send is recorded in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.observability.committed import on_commit
from mailmoat.common.observability.metrics import CANARY_TRIPS
from mailmoat.policy.domain.outbound import OutboundDecision

PRODUCER = "policy"
ACTOR = "system:policy"


def audit_decision(
    session: AsyncSession,
    outbound: OutboundMessage,
    decision: OutboundDecision,
    shadow: dict[str, Any] | None = None,
) -> None:
    """Record what policy decided: refused (with the rule and its reason), held for a person
    (with why) or queued for dispatch (with the checks it passed), and what the shadow policy
    would have decided, if one runs."""
    action, detail = _outcome(outbound, decision)
    if shadow is not None:
        detail["shadow"] = shadow
    record_audit(
        session,
        workspace_id=outbound.workspace_id,
        mail_id=outbound.id,
        action=action,
        actor=ACTOR,
        source=outbound.source,
        target=",".join(outbound.recipients),
        subject=outbound.subject,
        detail={"send_id": str(outbound.id), "risk_score": decision.risk_score, **detail},
        producer=PRODUCER,
    )


def _outcome(outbound: OutboundMessage, decision: OutboundDecision) -> tuple[str, dict[str, Any]]:
    if (violation := decision.violation) is not None:
        why = {"rule": violation.rule, "code": violation.code, "reason": violation.message}
        return "outbound.rejected_by_policy", why
    if decision.needs_approval:
        deadline = outbound.expires_at.isoformat() if outbound.expires_at else None
        held = {"reasons": list(decision.held_reasons), "expires_at": deadline}
        return "outbound.held_for_approval", held
    return "outbound.queued", {"checks": list(decision.checks)}


def audit_canary(session: AsyncSession, outbound: OutboundMessage, inbox: str | None) -> None:
    """The alert that an agent copies received mail outward: a send carried the canary of
    ``inbox`` (its slug). Counted in ``mailmoat_canary_tripped_total{where="send"}``."""
    on_commit(session, CANARY_TRIPS.labels("send").inc)
    record_audit(
        session,
        workspace_id=outbound.workspace_id,
        mail_id=outbound.id,
        action="canary.tripped",
        actor=ACTOR,
        source=outbound.source,
        target=",".join(outbound.recipients),
        subject=outbound.subject,
        detail={"send_id": str(outbound.id), "where": "send", "canary_of": inbox},
        producer=PRODUCER,
    )
