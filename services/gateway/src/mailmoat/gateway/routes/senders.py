"""The inbound sender graph as a person reads it: who has written to an inbox, since when, how
often, and what became of their mail (the graph reputation keeps; the consensus engine reads
its own copy from the ``sender-graph`` topic)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select, tuple_

from mailmoat.common.db.tables import SenderEdge
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.problems import Problem
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
    after = _decode(cursor) if cursor else None
    async with db.begin():
        inbox = await WorkspaceRepository(db, who.workspace_id).inbox(slug)
        query = select(SenderEdge).where(
            SenderEdge.workspace_id == who.workspace_id, SenderEdge.inbox_id == inbox.id
        )
        if kind is not None:
            query = query.where(SenderEdge.kind == kind)
        order = (SenderEdge.last_seen, SenderEdge.kind, SenderEdge.sender)
        if after is not None:
            query = query.where(tuple_(*order) < tuple_(*after))
        query = query.order_by(*(column.desc() for column in order)).limit(limit + 1)
        rows = list(await db.scalars(query))
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return SenderPage(
        items=[SenderOut.model_validate(row, from_attributes=True) for row in page],
        next_cursor=_encode(last) if last is not None else None,
    )


def _encode(edge: SenderEdge) -> str:
    key = json.dumps([edge.last_seen.isoformat(), edge.kind, edge.sender])
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, kind, sender = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(kind, str) or not isinstance(sender, str):
            raise ValueError("not a sender cursor")
        return parsed, kind, sender
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(
            422,
            "invalid_request",
            "cursor: not a cursor this API returned",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        ) from exc
