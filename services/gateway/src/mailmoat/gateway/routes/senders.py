"""The inbound sender graph as a person reads it: who has written to an inbox, since when, how
often, and what became of their mail (the graph reputation keeps; the consensus engine reads
its own copy from the ``sender-graph`` topic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mailmoat.gateway.cursors import decode_sender_cursor, encode_sender_cursor
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1", tags=["reputation"])

Reader = Annotated[Caller, Depends(require("read:mail"))]


class SenderOut(BaseModel):
    """One external sender (an address, or a whole domain) of an inbox."""

    kind: Literal["address", "domain"]
    sender: str
    first_seen: datetime
    last_seen: datetime
    messages: int
    passed: int
    reviewed: int
    withheld: int
    released: int
    dmarc_pass: int
    dmarc_fail: int
    last_dmarc: str


class SenderPage(BaseModel):
    """Senders heard from most recently first; pass ``next_cursor`` as ``cursor`` for more."""

    items: list[SenderOut]
    next_cursor: str | None


@router.get("/inboxes/{slug}/senders")
async def list_senders(
    slug: str,
    db: SessionDep,
    who: Reader,
    kind: Annotated[Literal["address", "domain"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=1500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SenderPage:
    """The inbox's correspondents with their counts and past verdicts."""
    after = decode_sender_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        rows = await repo.senders(await repo.inbox(slug), kind=kind, after=after, limit=limit + 1)
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return SenderPage(
        items=[SenderOut.model_validate(row, from_attributes=True) for row in page],
        next_cursor=encode_sender_cursor(last.last_seen, last.kind, last.sender) if last else None,
    )
