"""A person reinstates a sender that reputation suspended (or throttled): the inbox or the whole
workspace may send again, reputation counts afresh, and the audit log and webhooks are told."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from mailmoat.common.db.tables import Inbox, Workspace
from mailmoat.common.standing import announce_standing
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1", tags=["reputation"])

Admin = Annotated[Caller, Depends(require("admin:workspace"))]
RESTRICTED = ("suspended", "throttled")


class ReinstateRequest(BaseModel):
    """Why the sender may send again (kept in the audit log)."""

    reason: str = Field(default="", max_length=1000)


class StandingOut(BaseModel):
    """A sender's standing after the call."""

    sending_status: str
    reason: str


@router.post("/inboxes/{slug}/reinstate")
async def reinstate_inbox(
    slug: str, db: SessionDep, who: Admin, body: ReinstateRequest | None = None
) -> StandingOut:
    """Lift reputation's suspension (or throttle) of an inbox; its rates are counted afresh."""
    async with db.begin():
        inbox = await WorkspaceRepository(db, who.workspace_id).inbox(slug)
        return _reinstate(db, who, inbox, f"inbox '{slug}'", body)


@router.post("/workspace/reinstate")
async def reinstate_workspace(
    db: SessionDep, who: Admin, body: ReinstateRequest | None = None
) -> StandingOut:
    """Lift reputation's suspension (or throttle) of the workspace as a whole."""
    async with db.begin():
        workspace = await WorkspaceRepository(db, who.workspace_id).workspace()
        return _reinstate(db, who, workspace, "the workspace", body)


def _reinstate(
    db: SessionDep,
    who: Caller,
    sender: Inbox | Workspace,
    name: str,
    body: ReinstateRequest | None,
) -> StandingOut:
    if sender.sending_status not in RESTRICTED:
        raise Problem(
            409,
            "not_suspended",
            f"{name[0].upper()}{name[1:]} is {sender.sending_status}: nothing to reinstate",
        )
    note = body.reason.strip() if body is not None else ""
    reason = f"reinstated by {who.actor}" + (f": {note}" if note else "")
    sender.sending_status, sender.sending_status_until = "active", None
    announce_standing(
        db,
        workspace_id=who.workspace_id,
        inbox_id=sender.id if isinstance(sender, Inbox) else None,
        status="active",
        reason=reason,
        producer="gateway",
        actor=who.actor,
        source="api",
    )
    return StandingOut(sending_status="active", reason=reason)
