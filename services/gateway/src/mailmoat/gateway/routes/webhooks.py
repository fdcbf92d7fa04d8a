"""Webhook endpoints of the workspace: message events or the audit stream, in raw JSON or a chat
service's message shape, up to a number per workspace (``webhook_max_endpoints``). The signing
secret is shown once, when the endpoint is created."""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import WebhookEndpoint, Workspace
from mailmoat.common.events import InboxEventKind
from mailmoat.common.events.base import utcnow
from mailmoat.gateway.canaries import refuse_tripped_url
from mailmoat.gateway.cursors import CursorParam, LimitParam, decode_cursor, page_of
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository
from mailmoat.gateway.settings import GatewaySettings

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

Manager = Annotated[Caller, Depends(require("write:webhooks"))]
MESSAGE_EVENTS = tuple(kind.value for kind in InboxEventKind)
# Audit endpoints take action names ("outbound.sent"), a family ("outbound.*") or "*".
_AUDIT_PATTERN = r"^(?:\*|[a-z_]+(?:\.[a-z0-9_]+)*(?:\.\*)?)$"


class WebhookCreate(BaseModel):
    """Request body of ``POST /api/v1/webhooks``; ``events`` defaults to every event of the
    kind."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    kind: Literal["message", "audit"] = "message"
    format: Literal["json", "slack", "discord", "telegram"] = "json"
    events: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=50
    )

    @field_validator("url")
    @classmethod
    def _plain(cls, url: HttpUrl) -> HttpUrl:
        if url.username or url.password:
            raise ValueError("credentials do not belong in a webhook URL; use the signature")
        if len(str(url)) > 2000:
            raise ValueError("at most 2000 characters")
        return url

    @model_validator(mode="after")
    def _events_of_kind(self) -> WebhookCreate:
        if self.events is None:
            return self
        if self.kind == "message":
            unknown = sorted(set(self.events) - set(MESSAGE_EVENTS))
            if unknown:
                raise ValueError(
                    f"unknown message events {', '.join(unknown)}; "
                    f"known: {', '.join(MESSAGE_EVENTS)}"
                )
        else:
            bad = sorted(e for e in self.events if not re.fullmatch(_AUDIT_PATTERN, e))
            if bad:
                raise ValueError(f"not an audit action or family: {', '.join(bad)}")
        return self


class WebhookOut(BaseModel):
    """An endpoint as listed: never its secret."""

    id: uuid.UUID
    url: str
    kind: str
    format: str
    events: list[str]
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookCreated(WebhookOut):
    """A new endpoint; ``secret`` (Standard Webhooks ``whsec_`` form) is shown here only."""

    secret: str


@router.post("", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate, request: Request, db: SessionDep, who: Manager
) -> Any:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    default = list(MESSAGE_EVENTS) if body.kind == "message" else ["*"]
    await refuse_tripped_url(db, who, str(body.url))
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
        await _make_room(db, who.workspace_id, _endpoint_cap(request))
        endpoint = WebhookEndpoint(
            workspace_id=who.workspace_id,
            url=str(body.url),
            kind=body.kind,
            format=body.format,
            events=sorted(set(body.events)) if body.events else default,
            secret=secret,
            created_at=utcnow(),
        )
        db.add(endpoint)
        await db.flush()
        who.audit(db, action="webhook.created", ref=endpoint.id, target=endpoint.url)
        out = WebhookCreated(**_out(endpoint).model_dump(), secret=secret)
        held.finish(201, out, conceal=("secret",))
    return out


class WebhookPage(BaseModel):
    """Webhook endpoints, oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[WebhookOut]
    next_cursor: str | None


@router.get("")
async def list_webhooks(
    db: SessionDep, who: Manager, cursor: CursorParam = None, limit: LimitParam = 50
) -> WebhookPage:
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        rows = await repo.webhooks(after=after, limit=limit + 1)
    page, next_cursor = page_of(rows, limit, lambda e: (e.created_at, e.id))
    return WebhookPage(items=[_out(e) for e in page], next_cursor=next_cursor)


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: uuid.UUID, db: SessionDep, who: Manager) -> Response:
    async with db.begin():
        endpoint = await WorkspaceRepository(db, who.workspace_id).webhook(webhook_id)
        await db.delete(endpoint)
        who.audit(db, action="webhook.deleted", ref=endpoint.id, target=endpoint.url)
    return Response(status_code=204)


def _endpoint_cap(request: Request) -> int:
    settings = request.app.state.runtime.settings
    if isinstance(settings, GatewaySettings):
        return settings.webhook_max_endpoints
    default: int = GatewaySettings.model_fields["webhook_max_endpoints"].default
    return default


async def _make_room(db: AsyncSession, workspace_id: uuid.UUID, cap: int) -> None:
    """Refuse an endpoint past the workspace's cap. The workspace row is locked first
    (PostgreSQL; SQLite's write transaction is exclusive), so two concurrent creations cannot
    both take the last place."""
    await db.get(Workspace, workspace_id, with_for_update=True)
    held = len(await WorkspaceRepository(db, workspace_id).webhooks())
    if held >= cap:
        raise Problem(
            409,
            "too_many_endpoints",
            f"The workspace holds {held} webhook endpoints, the most it may; delete one first",
            limit=cap,
        )


def _out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut.model_validate(endpoint, from_attributes=True)
