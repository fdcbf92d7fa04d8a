"""An inbox webhook's signing secret: the first read shows it, later reads are refused, and a
rotation shows the new one once while the old one signs nothing more. Secrets are derived from
the deployment's key and a generation, never stored (``mailmoat.common.webhook_secrets``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import Inbox
from mailmoat.common.events.base import utcnow
from mailmoat.common.webhook_secrets import inbox_webhook_secret, shown
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/inboxes", tags=["webhooks"])

Manager = Annotated[Caller, Depends(require("write:webhooks"))]


class WebhookSecretOut(BaseModel):
    """An inbox's webhook signing secret, shown once."""

    inbox: str = Field(description="The inbox's slug.")
    generation: int = Field(description="How many times the secret was rotated.")
    secret: str = Field(description="Standard Webhooks form: ``whsec_`` and base64.")


@router.get("/{slug}/webhook-secret")
async def read_webhook_secret(
    slug: str, request: Request, db: SessionDep, who: Manager
) -> WebhookSecretOut:
    """The secret that signs the inbox's webhooks, the first time it is asked for; after that
    409 ``secret_already_shown`` (rotate it to see a new one)."""
    async with db.begin():
        inbox = await _locked(db, who, slug)
        if inbox.webhook_secret_shown_at is not None:
            raise Problem(
                409,
                "secret_already_shown",
                f"The webhook secret of '{slug}' was shown at "
                f"{inbox.webhook_secret_shown_at.isoformat()}; it is shown once. Rotate it "
                f"(POST /api/v1/inboxes/{slug}/webhook-secret) to see a new one.",
            )
        inbox.webhook_secret_shown_at = utcnow()
        who.audit(db, action="webhook.secret_shown", ref=inbox.id, target=f"inbox:{slug}")
        return _out(request, inbox)


@router.post("/{slug}/webhook-secret", response_model=WebhookSecretOut)
async def rotate_webhook_secret(slug: str, request: Request, db: SessionDep, who: Manager) -> Any:
    """A new secret for the inbox's webhooks, shown here once; the old one signs no delivery
    attempted from now on. A replay (``Idempotency-Key``) answers without the secret."""
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
        inbox = await _locked(db, who, slug)
        inbox.webhook_secret_generation += 1
        inbox.webhook_secret_shown_at = utcnow()
        who.audit(db, action="webhook.secret_rotated", ref=inbox.id, target=f"inbox:{slug}")
        out = _out(request, inbox)
        held.finish(200, out, conceal=("secret",))
    return out


async def _locked(db: AsyncSession, who: Caller, slug: str) -> Inbox:
    """The caller's inbox, locked (PostgreSQL) so that of two concurrent reads only one shows."""
    inbox = await WorkspaceRepository(db, who.workspace_id).inbox(slug)
    await db.refresh(inbox, with_for_update=True)
    return inbox


def _out(request: Request, inbox: Inbox) -> WebhookSecretOut:
    key = request.app.state.runtime.settings.webhook_secret_key.get_secret_value().encode()
    secret = inbox_webhook_secret(key, inbox.id, inbox.webhook_secret_generation)
    return WebhookSecretOut(
        inbox=inbox.slug, generation=inbox.webhook_secret_generation, secret=shown(secret)
    )
