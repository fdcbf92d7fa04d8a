"""API keys: create (the secret is shown once), list and revoke. A key can only hand out the
scopes it holds itself, with one exception: a workspace admin mints agents' keys, which hold the
send scope that no person's key may hold. No key mixes an agent's and a person's duties."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mailmoat.common.db.tables import ApiKey
from mailmoat.common.events.base import utcnow
from mailmoat.gateway.cursors import CursorParam, LimitParam, decode_cursor, page_of
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim
from mailmoat.gateway.keys import SEND_SCOPE, expand_scopes, generate_key, mixes_duties
from mailmoat.gateway.problems import Problem, invalid
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])

Admin = Annotated[Caller, Depends(require("admin:workspace"))]


class KeyCreate(BaseModel):
    """Request body of ``POST /api/v1/keys``: literal scopes and presets (``read-only``,
    ``full-access``); no preset includes ``write:mail.send``, which must be named, and a key
    with it (an agent's) may not also approve, release, reinstate, administer, or change
    inboxes or the allowlist (a person's)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=20)

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        return expand_scopes(scopes)  # ValueError names the unknown scope


class KeyOut(BaseModel):
    """A key as listed: never its secret."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyPage(BaseModel):
    """Keys, oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[KeyOut]
    next_cursor: str | None


class KeyCreated(KeyOut):
    """A new key; ``token`` is shown in this response only."""

    token: str


@router.post("", status_code=201, response_model=KeyCreated)
async def create_key(body: KeyCreate, request: Request, db: SessionDep, who: Admin) -> Any:
    """Mint a key; its token is in this answer only (a replay of the request omits it)."""
    if mixed := mixes_duties(body.scopes):
        raise invalid(
            ["body", "scopes"],
            f"a key that can send is an agent's and may not also hold {', '.join(mixed)}: "
            "mint one key for the agent and another for the person",
            code="mixed_duties",
            scopes=mixed,
        )
    beyond = sorted(set(body.scopes) - set(who.scopes) - {SEND_SCOPE})
    if beyond:
        raise Problem(
            403,
            "scope_escalation",
            f"A key can only grant scopes it holds; this one lacks {', '.join(beyond)}",
            scopes=beyond,
        )
    new = generate_key()
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
        key = ApiKey(
            workspace_id=who.workspace_id,
            name=body.name,
            prefix=new.prefix,
            secret_hash=new.secret_hash,
            scopes=body.scopes,
            created_at=utcnow(),
        )
        db.add(key)
        await db.flush()
        who.audit(db, action="api_key.created", ref=key.id, target=f"api_key:{key.prefix}")
        out = KeyCreated(**_out(key).model_dump(), token=new.token)
        held.finish(201, out, conceal=("token",))
    return out


@router.get("")
async def list_keys(
    db: SessionDep, who: Admin, cursor: CursorParam = None, limit: LimitParam = 50
) -> KeyPage:
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        rows = await WorkspaceRepository(db, who.workspace_id).keys(after=after, limit=limit + 1)
    page, next_cursor = page_of(rows, limit, lambda k: (k.created_at, k.id))
    return KeyPage(items=[_out(k) for k in page], next_cursor=next_cursor)


@router.delete("/{key_id}", status_code=204)
async def revoke_key(key_id: uuid.UUID, db: SessionDep, who: Admin) -> Response:
    """Revoke a key; the next request made with it is refused. Revoking twice is harmless."""
    async with db.begin():
        key = await WorkspaceRepository(db, who.workspace_id).key(key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            who.audit(db, action="api_key.revoked", ref=key.id, target=f"api_key:{key.prefix}")
    return Response(status_code=204)


def _out(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key, from_attributes=True)
