"""Inboxes: ``{slug}@{domain}`` addresses with a security level and per-inbox settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from sqlalchemy.exc import IntegrityError

from mailmoat.common import plans
from mailmoat.common.canary import new_token
from mailmoat.common.caps import WORKSPACE_DAILY_CAP
from mailmoat.common.db.tables import Inbox, InboxSenderRule
from mailmoat.common.events.base import utcnow
from mailmoat.gateway.canaries import refuse_tripped_url
from mailmoat.gateway.cursors import CursorParam, LimitParam, decode_cursor, page_of
from mailmoat.gateway.deps import Caller, SessionDep, require, runtime
from mailmoat.gateway.idempotency import Claim, claim
from mailmoat.gateway.problems import Problem, invalid
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])

Level = Literal["L1", "L2", "L3", "L4"]
MAX_SENDER_RULES = 500
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
# No control characters (PostgreSQL refuses NUL in text): a local part is printable.
SenderPattern = Annotated[
    str, Field(max_length=320, pattern=rf"^(?:[^@\s\x00-\x1f\x7f]{{1,64}}@)?{_DOMAIN}$")
]
DomainName = Annotated[str, Field(max_length=253, pattern=rf"^{_DOMAIN}$")]
Keyword = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")
]
MAX_RESTRICTIONS = 500
LeakKind = Literal[
    "private_key", "api_key", "card_number", "iban", "national_id", "password", "inbound_copy"
]
Writer = Annotated[Caller, Depends(require("write:inbox"))]
RESERVED_SLUGS = frozenset({"bounces", "feedback"})
"""Local parts ingest keeps for feedback: an inbox there would never receive mail."""
HELD_SENDS_AUDITED = 500
"""How many held sends a level change out of L4 names in its audit row."""
Reader = Annotated[Caller, Depends(require("read:mail"))]


class InboxSettings(BaseModel):
    """Settings shared by create and update; every field is optional on update."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: HttpUrl | None = None
    sender_allowlist: list[SenderPattern] | None = Field(default=None, max_length=MAX_SENDER_RULES)
    sender_blocklist: list[SenderPattern] | None = Field(default=None, max_length=MAX_SENDER_RULES)
    approval_timeout_seconds: int | None = Field(default=None, ge=300, le=7 * 86_400)
    hourly_send_limit: int | None = Field(default=None, ge=1, le=WORKSPACE_DAILY_CAP)
    daily_send_limit: int | None = Field(default=None, ge=1, le=WORKSPACE_DAILY_CAP)
    allowed_recipient_domains: list[DomainName] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_RESTRICTIONS,
        description="Only these domains (and their subdomains) may be mailed; null lifts it.",
    )
    blocked_keywords: list[Keyword] | None = Field(
        default=None,
        max_length=MAX_RESTRICTIONS,
        description="Sends containing any of these words or phrases are rejected.",
    )

    data_leak_action: Literal["hold", "reject"] | None = Field(
        default=None,
        description="What a send carrying a secret or a large copy of inbound mail does: held "
        "for a person (hold, the default) or refused (reject).",
    )
    canary: bool | None = Field(
        default=None,
        description="Place a canary token in every mail stored for the inbox (true makes one if "
        "there is none; false removes it): a send or webhook URL carrying it is refused.",
    )
    data_leak_exempt: list[LeakKind] | None = Field(
        default=None,
        description="Kinds of data leak that only raise the send's risk score for this inbox "
        "(an invoicing agent sends IBANs); the caps are never touched.",
    )

    @field_validator("allowed_recipient_domains")
    @classmethod
    def _domains(cls, domains: list[str] | None) -> list[str] | None:
        return None if domains is None else sorted({d.lower() for d in domains})

    @field_validator("blocked_keywords")
    @classmethod
    def _keywords(cls, keywords: list[str] | None) -> list[str] | None:
        return None if keywords is None else sorted({" ".join(k.split()) for k in keywords})

    @field_validator("sender_allowlist", "sender_blocklist")
    @classmethod
    def _lower(cls, patterns: list[str] | None) -> list[str] | None:
        return None if patterns is None else sorted({p.lower() for p in patterns})

    @model_validator(mode="after")
    def _consistent(self) -> InboxSettings:
        both = set(self.sender_allowlist or ()) & set(self.sender_blocklist or ())
        if both:
            raise ValueError(f"{', '.join(sorted(both))} cannot be both allowed and blocked")
        hourly, daily = self.hourly_send_limit, self.daily_send_limit
        if hourly is not None and daily is not None and hourly > daily:
            raise ValueError("hourly_send_limit cannot exceed daily_send_limit")
        return self


class InboxCreate(InboxSettings):
    """Request body of ``POST /api/v1/inboxes``."""

    slug: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$")
    security_level: Level = "L2"

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, slug: str) -> str:
        if slug in RESERVED_SLUGS:
            raise ValueError(f"'{slug}' is reserved for bounces and complaints")
        return slug


class InboxPatch(InboxSettings):
    """Request body of ``PATCH /api/v1/inboxes/{slug}``; ``webhook_url: null`` removes it."""

    security_level: Level | None = None


class InboxOut(BaseModel):
    """An inbox as the API shows it."""

    id: uuid.UUID
    slug: str
    address: str
    security_level: str
    webhook_url: str | None
    sending_status: str
    """Reputation's word: active, warned, throttled (until ``sending_status_until``) or
    suspended (until ``POST /inboxes/{slug}/reinstate``)."""
    sending_status_until: datetime | None = None
    sender_allowlist: list[str]
    sender_blocklist: list[str]
    approval_timeout_seconds: int
    hourly_send_limit: int | None
    daily_send_limit: int | None
    allowed_recipient_domains: list[str] | None
    blocked_keywords: list[str]
    data_leak_action: str
    data_leak_exempt: list[str]
    canary_token: str | None = Field(
        description="The marker at the end of every mail stored for the inbox since it was set."
    )
    created_at: datetime


class InboxPage(BaseModel):
    """Inboxes, oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[InboxOut]
    next_cursor: str | None


def inbox_out(inbox: Inbox, rules: list[InboxSenderRule]) -> InboxOut:
    return InboxOut(
        id=inbox.id,
        slug=inbox.slug,
        address=inbox.address,
        security_level=inbox.security_level,
        webhook_url=inbox.webhook_url,
        sending_status=inbox.sending_status,
        sending_status_until=inbox.sending_status_until,
        sender_allowlist=[r.pattern for r in rules if r.action == "allow"],
        sender_blocklist=[r.pattern for r in rules if r.action == "block"],
        approval_timeout_seconds=inbox.approval_timeout_seconds,
        hourly_send_limit=inbox.hourly_send_limit,
        daily_send_limit=inbox.daily_send_limit,
        allowed_recipient_domains=inbox.allowed_recipient_domains,
        blocked_keywords=list(inbox.blocked_keywords),
        data_leak_action=inbox.data_leak_action,
        data_leak_exempt=list(inbox.data_leak_exempt),
        canary_token=inbox.canary_token,
        created_at=inbox.created_at,
    )


def check_plan(plan: str, level: str) -> None:
    """L3 needs Developer or above, L4 Startup or above (403 naming the plan needed)."""
    if not plans.allows(plan, level):
        needed = plans.minimum_plan(level)
        raise Problem(
            403, "plan_required", f"{level} needs the {needed} plan or above", required_plan=needed
        )


@router.post("", status_code=201, response_model=InboxOut)
async def create_inbox(body: InboxCreate, request: Request, db: SessionDep, who: Writer) -> Any:
    address = f"{body.slug}@{runtime(request).settings.mail_domain}"
    await refuse_tripped_url(db, who, str(body.webhook_url) if body.webhook_url else None)
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
        repo = WorkspaceRepository(db, who.workspace_id)
        check_plan((await repo.workspace()).plan, body.security_level)
        inbox = Inbox(
            workspace_id=who.workspace_id,
            slug=body.slug,
            address=address,
            security_level=body.security_level,
            created_at=utcnow(),
        )
        try:
            # The unique constraints decide: the address across all workspaces (row-level
            # security hides the others' rows from a query) and the slug within this one,
            # deleted inboxes included, so their addresses stay reserved.
            async with db.begin_nested():
                db.add(inbox)
        except IntegrityError as exc:
            raise Problem(409, "inbox_exists", f"The address {address} is taken") from exc
        await _apply(repo, inbox, body)
        who.audit(db, action="inbox.created", ref=inbox.id, target=f"inbox:{inbox.slug}")
        out = inbox_out(inbox, await repo.sender_rules(inbox))
        held.finish(201, out)
        return out


@router.get("")
async def list_inboxes(
    db: SessionDep, who: Reader, cursor: CursorParam = None, limit: LimitParam = 50
) -> InboxPage:
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        rows = await repo.inboxes(after=after, limit=limit + 1)
        page, next_cursor = page_of(rows, limit, lambda i: (i.created_at, i.id))
        items = [inbox_out(i, await repo.sender_rules(i)) for i in page]
    return InboxPage(items=items, next_cursor=next_cursor)


@router.get("/{slug}")
async def get_inbox(slug: str, db: SessionDep, who: Reader) -> InboxOut:
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        inbox = await repo.inbox(slug)
        return inbox_out(inbox, await repo.sender_rules(inbox))


@router.patch("/{slug}")
async def patch_inbox(slug: str, body: InboxPatch, db: SessionDep, who: Writer) -> InboxOut:
    """Changes take effect for the next mail and the next send. Lowering the level never
    releases mail already withheld: only ``POST /messages/{id}/release`` does. Lowering it from
    L4 is audited with the held sends it affects (they stay held; below L3 none can be
    approved)."""
    await refuse_tripped_url(db, who, str(body.webhook_url) if body.webhook_url else None)
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        inbox = await repo.inbox(slug)
        target = f"inbox:{inbox.slug}"
        level = body.security_level
        if level is not None and level != inbox.security_level:
            check_plan((await repo.workspace()).plan, level)
            action = f"inbox.security_level.{inbox.security_level}_to_{level}"
            detail = None
            if inbox.security_level == "L4":
                held = await repo.held_send_ids(inbox, limit=HELD_SENDS_AUDITED + 1)
                detail = {
                    "held_sends": [str(i) for i in held[:HELD_SENDS_AUDITED]],
                    "held_sends_truncated": len(held) > HELD_SENDS_AUDITED,
                }
            inbox.security_level = level
            who.audit(db, action=action, ref=inbox.id, target=target, detail=detail)
        await _apply(repo, inbox, body)
        for field in sorted(body.model_fields_set - {"security_level"}):
            who.audit(db, action=f"inbox.{field}.changed", ref=inbox.id, target=target)
        return inbox_out(inbox, await repo.sender_rules(inbox))


@router.delete("/{slug}", status_code=204)
async def delete_inbox(slug: str, db: SessionDep, who: Writer) -> Response:
    """The inbox stops receiving at once (RCPT is refused); its messages and audit trail stay,
    and its address stays reserved."""
    async with db.begin():
        inbox = await WorkspaceRepository(db, who.workspace_id).inbox(slug)
        inbox.deleted_at = utcnow()
        who.audit(db, action="inbox.deleted", ref=inbox.id, target=f"inbox:{inbox.slug}")
    return Response(status_code=204)


async def _apply(repo: WorkspaceRepository, inbox: Inbox, body: InboxSettings) -> None:
    """Copy the settings the request named onto the inbox (an explicit null clears one)."""
    named = body.model_fields_set
    if "webhook_url" in named:
        inbox.webhook_url = str(body.webhook_url) if body.webhook_url else None
    for field in ("approval_timeout_seconds", "hourly_send_limit", "daily_send_limit"):
        if field in named:
            value = getattr(body, field)
            if value is None and field == "approval_timeout_seconds":
                raise invalid(["body", field], "may not be null")
            setattr(inbox, field, value)
    if "allowed_recipient_domains" in named:
        inbox.allowed_recipient_domains = body.allowed_recipient_domains
    if "blocked_keywords" in named:
        inbox.blocked_keywords = body.blocked_keywords or []
    if "data_leak_action" in named:
        if body.data_leak_action is None:
            raise invalid(["body", "data_leak_action"], "may not be null")
        inbox.data_leak_action = body.data_leak_action
    if "data_leak_exempt" in named:
        inbox.data_leak_exempt = sorted(set(body.data_leak_exempt or ()))
    if "canary" in named:
        if body.canary is None:
            raise invalid(["body", "canary"], "may not be null")
        if not body.canary:
            inbox.canary_token = None
        elif inbox.canary_token is None:
            inbox.canary_token = new_token()
    hourly, daily = inbox.hourly_send_limit, inbox.daily_send_limit
    if hourly is not None and daily is not None and hourly > daily:
        raise invalid(["body", "hourly_send_limit"], "cannot exceed daily_send_limit")
    for field, action in (("sender_allowlist", "allow"), ("sender_blocklist", "block")):
        if field in named:
            await repo.replace_sender_rules(inbox, action, getattr(body, field) or [])
    await repo.session.flush()
