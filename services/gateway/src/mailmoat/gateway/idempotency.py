"""``Idempotency-Key`` on POSTs that create things: the first response is stored in the same
transaction as what it created, and a repeat with the same key and the same request gets that
response again (``Idempotent-Replayed: true``) instead of a second object."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import IdempotentResponse
from mailmoat.common.events.base import utcnow
from mailmoat.gateway.problems import Problem, invalid

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")
_PENDING = 0


@dataclass
class Claim:
    """A key this request holds until its transaction ends; ``finish`` stores the answer."""

    row: IdempotentResponse | None

    def finish(self, status: int, body: BaseModel, *, conceal: tuple[str, ...] = ()) -> None:
        """Store the answer; the fields named in ``conceal`` (secrets shown once) are left out,
        so a replay shows the object without them and the table never holds them."""
        if self.row is not None:
            self.row.status = status
            self.row.body = body.model_dump(mode="json", exclude=set(conceal))


async def claim(
    request: Request, db: AsyncSession, workspace_id: uuid.UUID
) -> JSONResponse | Claim:
    """Inside the route's transaction: the stored response when the key was used before,
    else a claim on the key (a concurrent request with the same key waits, then replays)."""
    key = request.headers.get(HEADER)
    if key is None:
        return Claim(None)
    if not _VALID.match(key):
        raise invalid(["header", HEADER], "1 to 255 visible ASCII characters")
    fingerprint = await _fingerprint(request)
    if (stored := await _stored(db, workspace_id, key)) is not None:
        return _replay(stored, fingerprint)
    row = IdempotentResponse(
        workspace_id=workspace_id,
        key=key,
        fingerprint=fingerprint,
        status=_PENDING,
        body=None,
        created_at=utcnow(),
    )
    try:
        async with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # Another request with this key committed first (PostgreSQL made this insert wait).
        stored = await _stored(db, workspace_id, key)
        if stored is None:  # pragma: no cover - the conflicting row cannot vanish
            raise
        return _replay(stored, fingerprint)
    return Claim(row)


async def restate(db: AsyncSession, held: Claim, status: int, body: BaseModel) -> None:
    """Replace the stored answer, in its own transaction, once the request's outcome is known
    (a send learns policy's decision after its creating transaction committed)."""
    if held.row is None:
        return
    async with db.begin():
        row = await db.get(IdempotentResponse, held.row.id)
        if row is not None:
            row.status = status
            row.body = body.model_dump(mode="json")


async def _stored(db: AsyncSession, workspace_id: uuid.UUID, key: str) -> IdempotentResponse | None:
    query = select(IdempotentResponse).where(
        IdempotentResponse.workspace_id == workspace_id, IdempotentResponse.key == key
    )
    return await db.scalar(query)


def _replay(stored: IdempotentResponse, fingerprint: str) -> JSONResponse:
    if stored.fingerprint != fingerprint:
        raise invalid(
            ["header", HEADER],
            "was used for a different request",
            code="idempotency_key_reused",
        )
    if stored.status == _PENDING:  # pragma: no cover - a claim is never committed pending
        raise Problem(409, "idempotency_key_in_use", "A request with this key is in progress")
    return JSONResponse(
        stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
    )


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()
