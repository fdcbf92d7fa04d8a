"""The pages: sign-in, the approval queue and a held send (approve, edit with a diff shown before
confirming, reject), the review and withheld queues (findings, the original behind an audited
step, release), the kill switch, inboxes (level, canary, data-leak checks) and the allowlist, and
the audit log."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args
from uuid import UUID

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from mailmoat.common.plans import allows, minimum_plan
from mailmoat.gateway.in_process import api_client
from mailmoat.gateway.routes.inboxes import LeakKind
from mailmoat.gateway.ui.session import COOKIE, LIFETIME_SECONDS, Sealer, Session, csrf_matches
from mailmoat_sdk import APIError, AsyncMailmoat
from mailmoat_sdk.models import WithheldOut

TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every value from mail or from an agent is text, never markup
        undefined=StrictUndefined,
    )
)
Queue = Literal["review", "withheld"]
LEVELS = ("L1", "L2", "L3", "L4")
LEAK_NAMES = {
    "private_key": "private keys",
    "api_key": "API keys",
    "card_number": "card numbers",
    "iban": "IBANs",
    "national_id": "national IDs",
    "password": "passwords",
    "inbound_copy": "copies of received mail",
}
"""How people read each data-leak kind an inbox may exempt."""
LEAK_KINDS = tuple((kind, LEAK_NAMES[kind]) for kind in get_args(LeakKind))
"""The kinds the API takes (``routes.inboxes.LeakKind``), in its order, each with its name."""


class SignIn(Exception):
    """No valid session: to the sign-in page."""


class Refused(Exception):
    """A form without its CSRF token, or posted from another site."""


def build_router(app: FastAPI, sealer: Sealer) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def api(token: str) -> AsyncMailmoat:
        return api_client(app, token, "ui")

    def session_of(request: Request) -> Session:
        session = sealer.open(request.cookies.get(COOKIE))
        if session is None:
            raise SignIn
        return session

    async def posted(request: Request) -> Session:
        """The session of a form post: same origin, and carrying the session's CSRF token."""
        _same_origin(request)
        session = session_of(request)
        if not csrf_matches(session, str((await request.form()).get("csrf", ""))):
            raise Refused
        return session

    @asynccontextmanager
    async def reviewer(session: Session) -> AsyncIterator[AsyncMailmoat]:
        client = api(session.token)
        try:
            yield client
        finally:
            await client.aclose()

    def page(
        request: Request, name: str, session: Session | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        context = {"done": None, "error": None, **context, "now": datetime.now(UTC)}
        context |= {"csrf": session.csrf if session else "", "signed_in": session is not None}
        answer: HTMLResponse = TEMPLATES.TemplateResponse(
            request, name, context, status_code=status
        )
        return answer

    @router.get("")
    async def home() -> Response:
        return RedirectResponse("/ui/approvals", status_code=303)

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        return page(request, "login.html", None)

    @router.post("/login")
    async def login(request: Request, key: Annotated[str, Form()] = "") -> Response:
        _same_origin(request)
        client = api(key.strip())
        try:
            await client.approvals.list(limit=1)  # a reviewer's key, and never one that can send
        except APIError as refused:
            reason = (
                "This key can send mail: an agent's key never reviews. Sign in with a person's key."
                if refused.code == "self_approval"
                else f"This key cannot review mail ({refused.code})."
            )
            return page(request, "login.html", None, status=refused.status, error=reason)
        finally:
            await client.aclose()
        cookie, _session = sealer.seal(key.strip())
        answer = RedirectResponse("/ui/approvals", status_code=303)
        secure = request.url.scheme == "https"
        answer.set_cookie(COOKIE, cookie, max_age=LIFETIME_SECONDS, path="/ui", httponly=True,
                          samesite="strict", secure=secure)  # fmt: skip
        return answer

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await posted(request)
        answer = RedirectResponse("/ui/login", status_code=303)
        answer.delete_cookie(COOKIE, path="/ui")
        return answer

    @router.get("/approvals")
    async def approvals(request: Request) -> Response:
        session = session_of(request)
        async with reviewer(session) as client:
            held = [a async for a in client.approvals.iterate()]
        return page(
            request, "approvals.html", session, held=held, done=request.query_params.get("done")
        )

    @router.get("/approvals/{approval_id}")
    async def approval(request: Request, approval_id: UUID) -> Response:
        session = session_of(request)
        async with reviewer(session) as client:
            held = await client.approvals.get(approval_id)
            context = [await client.messages.get(m) for m in held.context_message_ids]
        return page(request, "approval.html", session, held=held, context=context)

    @router.post("/approvals/{approval_id}/preview")
    async def preview(request: Request, approval_id: UUID) -> Response:
        session = await posted(request)
        form = await request.form()
        subject, text = str(form.get("subject", "")), str(form.get("text", ""))
        async with reviewer(session) as client:
            held = await client.approvals.get(approval_id)
        diff = "".join(difflib.unified_diff(
            [f"Subject: {held.subject}\n", "\n", *held.text.splitlines(keepends=True)],
            [f"Subject: {subject}\n", "\n", *text.splitlines(keepends=True)],
            "draft", "edited",
        ))  # fmt: skip
        return page(request, "preview.html", session, held=held, subject=subject, text=text,
                    diff=diff, note=str(form.get("note", "")),
                    fingerprint=str(form.get("fingerprint", "")))  # fmt: skip

    @router.post("/approvals/{approval_id}/approve")
    async def approve(request: Request, approval_id: UUID) -> Response:
        session = await posted(request)
        form = await request.form()
        # The fingerprint of the draft the page showed: a draft changed since is not approved.
        fields = ("subject", "text", "note", "fingerprint")
        edits = {k: str(form[k]) for k in fields if form.get(k)}
        async with reviewer(session) as client:
            await client.approvals.approve(approval_id, **edits)
        return RedirectResponse("/ui/approvals?done=approved", status_code=303)

    @router.post("/approvals/{approval_id}/reject")
    async def reject(request: Request, approval_id: UUID) -> Response:
        session = await posted(request)
        reason = str((await request.form()).get("reason", "")).strip()
        async with reviewer(session) as client:
            await client.approvals.reject(approval_id, reason or "Rejected by a reviewer")
        return RedirectResponse("/ui/approvals?done=rejected", status_code=303)

    @router.get("/messages")
    async def queue(request: Request) -> Response:
        session = session_of(request)
        asked = request.query_params.get("status", "withheld")
        queue = cast(Queue, asked if asked in ("review", "withheld") else "withheld")
        async with reviewer(session) as client:
            inboxes = [i async for i in client.inboxes.iterate()]
            mail = [
                (i.slug, m)
                for i in inboxes
                for m in (await client.messages.list(i.slug, status=queue)).items
            ]
        done = request.query_params.get("done")
        return page(request, "messages.html", session, mail=mail, queue=queue, done=done)

    @router.get("/messages/{message_id}")
    async def message(request: Request, message_id: UUID) -> Response:
        session = session_of(request)
        async with reviewer(session) as client:
            shown = await client.messages.get(message_id)
            analysis = await client.messages.analysis(message_id)
        withheld = isinstance(shown, WithheldOut)
        return page(
            request, "message.html", session, message=shown, analysis=analysis, withheld=withheld
        )

    @router.post("/messages/{message_id}/original")
    async def original(request: Request, message_id: UUID) -> Response:
        session = await posted(request)  # a deliberate, audited step: a POST, never a link
        async with reviewer(session) as client:
            raw = await client.messages.raw(message_id)
        return page(request, "original.html", session, message_id=message_id,
                    raw=raw.decode("utf-8", errors="replace"))  # fmt: skip

    @router.post("/messages/{message_id}/release")
    async def release(request: Request, message_id: UUID) -> Response:
        session = await posted(request)
        async with reviewer(session) as client:
            await client.messages.release(message_id)
        return RedirectResponse("/ui/messages?done=released", status_code=303)

    @router.get("/outbound")
    async def outbound(request: Request) -> Response:
        session = session_of(request)
        async with reviewer(session) as client:
            workspace = await client.workspace.get()
        return page(request, "outbound.html", session, workspace=workspace)

    @router.post("/outbound")
    async def switch(request: Request) -> Response:
        session = await posted(request)
        form = await request.form()
        if form.get("confirm") != "yes":
            async with reviewer(session) as client:
                workspace = await client.workspace.get()
            return page(request, "outbound.html", session, status=400, workspace=workspace,
                        error="Tick the confirmation to change the kill switch.")  # fmt: skip
        async with reviewer(session) as client:
            await client.workspace.update(outbound_enabled=form.get("enabled") == "on")
        return RedirectResponse("/ui/outbound", status_code=303)

    @router.get("/inboxes")
    async def inboxes(request: Request) -> Response:
        session = session_of(request)
        async with reviewer(session) as client:
            workspace = await client.workspace.get()
            rows = [i async for i in client.inboxes.iterate()]
            allowed = [e async for e in client.allowlist.iterate()]
        levels = [(name, allows(workspace.plan, name), minimum_plan(name)) for name in LEVELS]
        done = request.query_params.get("done")
        return page(request, "inboxes.html", session, workspace=workspace, inboxes=rows,
                    allowlist=allowed, levels=levels, leak_kinds=LEAK_KINDS, done=done)  # fmt: skip

    @router.post("/inboxes/{slug}/level")
    async def level(request: Request, slug: str) -> Response:
        session = await posted(request)
        chosen = str((await request.form()).get("level", ""))
        async with reviewer(session) as client:
            await client.inboxes.update(slug, security_level=chosen)
        return RedirectResponse("/ui/inboxes?done=level+changed", status_code=303)

    @router.post("/inboxes/{slug}/leaks")
    async def leaks(request: Request, slug: str) -> Response:
        """The inbox's canary and data-leak settings, as the form shows them all: an unticked
        box turns its setting off."""
        session = await posted(request)
        form = await request.form()
        async with reviewer(session) as client:
            await client.inboxes.update(
                slug,
                canary=form.get("canary") == "on",
                data_leak_action=str(form.get("data_leak_action", "")),
                data_leak_exempt=[str(kind) for kind in form.getlist("exempt")],
            )
        return RedirectResponse("/ui/inboxes?done=leak+checks+saved", status_code=303)

    @router.get("/audit")
    async def audit(request: Request) -> Response:
        session = session_of(request)
        action = request.query_params.get("action") or None
        since_text = request.query_params.get("since") or ""
        try:
            since = datetime.fromisoformat(since_text) if since_text else None
        except ValueError:
            since, since_text = None, ""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        async with reviewer(session) as client:
            rows = (await client.audit.list(action=action, since=since, limit=200)).items
        return page(
            request, "audit.html", session, rows=rows, action=action or "", since=since_text
        )

    return router


def install_ui_errors(app: FastAPI) -> None:
    """Sign-in redirects, refused forms and the API's refusals as pages, not JSON."""

    @app.exception_handler(SignIn)
    async def to_sign_in(request: Request, _: SignIn) -> Response:
        return RedirectResponse("/ui/login", status_code=303)

    @app.exception_handler(APIError)
    async def api_refused(request: Request, refused: APIError) -> Response:
        return _error(request, f"{refused.code}: {refused.detail}", refused.status)

    @app.exception_handler(Refused)
    async def refused(request: Request, _: Refused) -> Response:
        return _error(
            request,
            "This form was not sent from this site's own page (its token is missing or wrong). "
            "Reload the page and try again.",
            403,
        )


def _error(request: Request, error: str, status: int) -> Response:
    context = {"signed_in": False, "csrf": "", "done": None, "error": error}
    answer: Response = TEMPLATES.TemplateResponse(
        request, "error.html", context, status_code=status
    )
    return answer


def _same_origin(request: Request) -> None:
    """A form post from our own pages: the browser's Origin (or Sec-Fetch-Site) says so."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise Refused
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        raise Refused
