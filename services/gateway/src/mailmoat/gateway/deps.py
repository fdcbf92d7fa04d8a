"""Request dependencies: a database session per request and the authenticated caller."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from mailmoat.common.audit import record_audit
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import ApiKey
from mailmoat.common.events.base import utcnow
from mailmoat.common.service import Runtime
from mailmoat.gateway.keys import SEND_SCOPE, grants, mixes_duties, token_matches, token_prefix
from mailmoat.gateway.problems import Problem

WORKSPACE_SETTING = "mailmoat.workspace_id"
"""The PostgreSQL setting row-level security reads (migration 0006)."""


@event.listens_for(Session, "after_begin")
def _scope_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    """Once a request's caller is known, each of its transactions on PostgreSQL sees only the
    caller's workspace: row-level security is a second wall behind the repository."""
    workspace_id = session.info.get("workspace_id")
    if workspace_id is not None and connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": WORKSPACE_SETTING, "value": str(workspace_id)},
        )


def runtime(request: Request) -> Runtime:
    """The service runtime the app was built with."""
    return request.app.state.runtime  # type: ignore[no-any-return]


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; routes open their own transaction."""
    async with runtime(request).sessions() as db:
        yield db


SessionDep = Annotated[AsyncSession, Depends(session)]


LAST_USED_RESOLUTION = timedelta(minutes=1)
SOURCE_HEADER = "Mailmoat-Source"
"""Which path a call came by, for the audit log: ``api`` (the default), ``ui`` (the review
pages) or ``mcp:<tool>``, which the MCP server sets. A label for the people reading the log,
not a permission: whatever it says, the key's scopes and every rule apply the same."""
SOURCES = re.compile(r"api|ui|mcp:[a-z][a-z_]{0,39}")
REALM = "mailmoat"
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="mm_<prefix>_<secret>",
    description="An API key: 'Authorization: Bearer mm_<prefix>_<secret>'.",
    auto_error=False,
)
"""The one security scheme: every route that depends on ``caller`` declares it in OpenAPI."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key and its workspace."""

    key_id: uuid.UUID
    key_prefix: str
    workspace_id: uuid.UUID
    scopes: tuple[str, ...]
    source: str = "api"

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"api_key:{self.key_prefix}"

    def audit(
        self,
        db: AsyncSession,
        *,
        action: str,
        ref: uuid.UUID,
        target: str,
        subject: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record an API action by this caller in the request's transaction."""
        record_audit(
            db,
            workspace_id=self.workspace_id,
            mail_id=ref,
            action=action,
            actor=self.actor,
            source=self.source,
            target=target,
            subject=subject,
            detail=detail,
            producer="gateway",
        )


def unauthenticated(detail: str, *, token_given: bool) -> Problem:
    """A 401 with the challenge RFC 6750 asks for (``invalid_token`` when one was sent)."""
    challenge = f'Bearer realm="{REALM}"'
    if token_given:
        challenge += ', error="invalid_token"'
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": challenge})


async def caller(
    request: Request,
    db: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Caller:
    """Authenticate the bearer key; revoked or unknown keys get 401."""
    if credentials is None:
        raise unauthenticated("Send 'Authorization: Bearer <api key>'", token_given=False)
    token = credentials.credentials
    prefix = token_prefix(token)
    if prefix is None:
        raise unauthenticated("The API key is malformed", token_given=True)
    with reading():
        async with db.begin():
            key = (await db.scalars(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if key is None or key.revoked_at is not None or not token_matches(token, key.secret_hash):
        raise unauthenticated("The API key is unknown or revoked", token_given=True)
    if mixed := mixes_duties(key.scopes):
        raise Problem(
            403,
            "mixed_duties",
            f"This key can send and also holds {', '.join(mixed)}; an agent's key and a "
            "person's are kept apart: run 'mailmoat admin split-keys' to split it",
            scopes=mixed,
        )
    source = request.headers.get(SOURCE_HEADER, "api")
    if not SOURCES.fullmatch(source):
        raise Problem(
            400,
            "invalid_source",
            f"{SOURCE_HEADER} is 'api', 'ui' or 'mcp:<tool>', not {source[:60]!r}",
        )
    now = utcnow()
    # To the minute: writing it on every call would make every call a durable write.
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        async with db.begin():
            await db.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    who = Caller(key.id, key.prefix, key.workspace_id, tuple(key.scopes), source)
    db.sync_session.info["workspace_id"] = who.workspace_id
    request.app.state.rate_limiter.take(who.key_prefix)
    return who


CallerDep = Annotated[Caller, Depends(caller)]


def reviewer(who: CallerDep) -> Caller:
    """A person deciding on mail (approve, reject, release): ``approve:mail``, and never a key
    that can send, so an agent never approves its own sends or releases its own mail."""
    if SEND_SCOPE in who.scopes:
        raise Problem(
            403, "self_approval", "A key that can send never approves, rejects or releases mail"
        )
    return require("approve:mail")(who)


ReviewerDep = Annotated[Caller, Depends(reviewer)]


def require(scope: str) -> Callable[[Caller], Caller]:
    """Dependency factory: the caller must hold ``scope`` literally."""

    def check(who: CallerDep) -> Caller:
        if not grants(list(who.scopes), scope):
            raise Problem(403, "missing_scope", f"This key lacks the scope '{scope}'", scope=scope)
        return who

    return check
