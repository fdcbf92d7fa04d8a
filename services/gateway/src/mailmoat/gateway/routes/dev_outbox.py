"""Embedded mode's outbox: the mail dispatch relayed to ``mailmoat dev``'s SMTP sink, as the
recipients would have got it. Mounted only when ``MAILMOAT_DEV_OUTBOX_DIR`` is set.

A caller sees the relayed copies of its own workspace's sends only (the sink is shared by every
workspace of the stack): a copy is matched to its send by ``X-Mailmoat-Outbound-Id``. Reading
one is reading mail (``read:mail``: the person's key and the agent's, whose own sends these
are); the bytes as relayed need ``read:mail.raw``, as an inbound message's do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.dev_outbox import (
    RelayedMail,
    find_mail,
    list_mail,
    parse_message,
    read_raw,
    text_body,
)
from mailmoat.gateway.cursors import CursorParam, LimitParam, decode_cursor, page_of
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.problems import Problem

Reader = Annotated[Caller, Depends(require("read:mail"))]
RawReader = Annotated[Caller, Depends(require("read:mail.raw"))]
_IN_CHUNK = 500  # ids per IN (...) query: well under every database's parameter limit


class RelayedMailPage(BaseModel):
    """A page of relayed mail, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[RelayedMail]
    next_cursor: str | None


class HeaderOut(BaseModel):
    """One header field as relayed."""

    name: str
    value: str


class RelayedMailDetail(RelayedMail):
    """A relayed message: its envelope, every header field and its plain-text body."""

    headers: list[HeaderOut] = Field(description="Every header field, in order.")
    text: str | None = Field(description="The text/plain body, if it has one.")


def build_router(directory: Path) -> APIRouter:
    """The ``/dev/outbox`` routes reading the sink's ``directory``."""
    router = APIRouter(prefix="/api/v1/dev/outbox", tags=["dev"])

    @router.get("")
    async def list_relayed(
        db: SessionDep, who: Reader, cursor: CursorParam = None, limit: LimitParam = 50
    ) -> RelayedMailPage:
        """The workspace's relayed mail, newest first."""
        after = decode_cursor(cursor) if cursor else None
        stored = await asyncio.to_thread(list_mail, directory)
        if after is not None:
            stored = [m for m in stored if (m.received_at, m.id) < after]
        owned = await _owned(db, who, (m.outbound_id for m in stored))
        rows = [m for m in stored if m.outbound_id in owned][: limit + 1]
        page, next_cursor = page_of(rows, limit, lambda m: (m.received_at, m.id))
        return RelayedMailPage(items=page, next_cursor=next_cursor)

    @router.get("/{mail_id}")
    async def get_relayed(mail_id: uuid.UUID, db: SessionDep, who: Reader) -> RelayedMailDetail:
        """One relayed message with its headers and text."""
        mail = await _visible(directory, mail_id, db, who)
        message = parse_message(await asyncio.to_thread(read_raw, directory, mail))
        return RelayedMailDetail(
            **mail.model_dump(),
            headers=[HeaderOut(name=k, value=str(v)) for k, v in message.items()],
            text=text_body(message),
        )

    @router.get(
        "/{mail_id}/raw",
        response_class=Response,
        responses={200: {"content": {"message/rfc822": {}}}},
    )
    async def get_relayed_raw(mail_id: uuid.UUID, db: SessionDep, who: RawReader) -> Response:
        """The message's bytes as relayed (DKIM signature included)."""
        mail = await _visible(directory, mail_id, db, who)
        raw = await asyncio.to_thread(read_raw, directory, mail)
        return Response(raw, media_type="message/rfc822")

    return router


async def _visible(directory: Path, mail_id: uuid.UUID, db: SessionDep, who: Caller) -> RelayedMail:
    """The stored message when it carries one of the caller's sends; else 404, whether it is
    missing or another workspace's."""
    mail = await asyncio.to_thread(find_mail, directory, mail_id)
    if mail is None or mail.outbound_id not in await _owned(db, who, [mail.outbound_id]):
        raise Problem(404, "not_found", "No relayed mail with that id in this workspace")
    return mail


async def _owned(
    db: SessionDep, who: Caller, outbound_ids: Iterable[uuid.UUID | None]
) -> set[uuid.UUID]:
    """Those of ``outbound_ids`` that are the caller's workspace's sends."""
    wanted = sorted({i for i in outbound_ids if i is not None})
    owned: set[uuid.UUID] = set()
    with reading():
        async with db.begin():
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                found = await db.scalars(
                    select(OutboundMessage.id).where(
                        OutboundMessage.workspace_id == who.workspace_id,
                        OutboundMessage.id.in_(chunk),
                    )
                )
                owned.update(found)
    return owned
