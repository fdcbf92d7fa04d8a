"""Gateway wiring: the FastAPI app served by uvicorn inside the service runtime."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from mailmoat.common.db.tables import ApiKey
from mailmoat.common.outbox import OutboxRelay
from mailmoat.common.service import Runtime, Service
from mailmoat.gateway import mcp_tools
from mailmoat.gateway.canaries import export_canary_series
from mailmoat.gateway.content_type import JsonBodies
from mailmoat.gateway.decisions import DecisionWaiter
from mailmoat.gateway.docs import install_docs
from mailmoat.gateway.keys import mixes_duties
from mailmoat.gateway.limits import BodyLimit, RateLimiter
from mailmoat.gateway.problems import install_problem_handlers
from mailmoat.gateway.routes import (
    allowlist,
    approvals,
    audit,
    dev_outbox,
    inboxes,
    keys,
    messages,
    outbound,
    senders,
    standing,
    webhook_secrets,
    webhooks,
    workspace,
)
from mailmoat.gateway.settings import GatewaySettings
from mailmoat.gateway.tracing import TraceRequests
from mailmoat.gateway.ui import UiHeaders, mount_ui
from mailmoat.gateway.ui.pages import install_ui_errors

log = logging.getLogger(__name__)


ROUTES = (
    workspace,
    keys,
    inboxes,
    messages,
    outbound,
    approvals,
    standing,
    senders,
    allowlist,
    webhooks,
    webhook_secrets,
    audit,
)
TITLE = "Mailmoat API"
VERSION = "0.1.0"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the API serves at ``/api/v1/openapi.json``, from its routes alone (no
    database, no broker): ``mailmoat openapi`` prints it and the SDK's models are made from it."""
    app = FastAPI(title=TITLE, version=VERSION, openapi_url=None, docs_url=None, redoc_url=None)
    for module in ROUTES:
        app.include_router(module.router)
    install_docs(app)
    return app.openapi()


class WakeRelay:
    """Pure ASGI middleware: once a call other than a GET is answered, the outbox relay looks for
    what it committed (a fallback: most routes hand their rows to the relay themselves)."""

    def __init__(self, app: ASGIApp, relay: OutboxRelay) -> None:
        self.app = app
        self.relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] != "GET":
            self.relay.wake()


def create_app(
    runtime: Runtime, limits: GatewaySettings, decisions: DecisionWaiter | None = None
) -> FastAPI:
    """The HTTP API bound to a running service's database and outbox; ``decisions`` carries
    policy's replies to waiting send calls (without it, sends answer ``queued`` at once)."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.rate_limiter = RateLimiter(limits.api_rate_per_minute)
    app.state.decisions = decisions or DecisionWaiter(limits)
    app.state.send_wait_seconds = limits.api_send_wait_seconds if decisions else 0.0
    app.add_middleware(JsonBodies)  # inside the body limit, which bounds what it may read
    app.add_middleware(BodyLimit, limit=limits.api_max_body_bytes)
    install_problem_handlers(app)
    for module in ROUTES:
        app.include_router(module.router)
    if limits.dev_outbox_dir:
        app.include_router(dev_outbox.build_router(Path(limits.dev_outbox_dir)))

    app.add_middleware(WakeRelay, relay=runtime.relay)

    install_docs(app)
    app.state.mcp_sessions = mcp_tools.mount(app)
    mount_ui(app, limits.webhook_secret_key.get_secret_value().encode())
    install_ui_errors(app)
    app.add_middleware(UiHeaders)
    app.add_middleware(TraceRequests)  # outermost: the span covers every other layer

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _warn_of_mixed_keys(runtime: Runtime) -> None:
    """Keys of an earlier version may hold the send scope beside a person's: the API refuses
    them; say so once at start-up, with the command that splits them."""
    async with runtime.sessions() as db, db.begin():
        keys = await db.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None)))
        mixed = [key.prefix for key in keys if mixes_duties(key.scopes)]
    if mixed:
        log.error(
            "%d API key(s) hold both an agent's send scope and a person's scopes and are "
            "refused (403 mixed_duties): %s. Run 'mailmoat admin split-keys' to split them.",
            len(mixed),
            ", ".join(mixed),
        )


def build_service(settings: GatewaySettings) -> Service:
    """The gateway service: uvicorn serving the API, and the reader of policy's replies."""
    decisions = DecisionWaiter(settings)
    export_canary_series()

    async def read_decisions(runtime: Runtime) -> None:
        await decisions.run(runtime.pace)

    async def serve_http(runtime: Runtime) -> None:
        app = create_app(runtime, settings, decisions)
        config = uvicorn.Config(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        # The service runtime owns SIGTERM/SIGINT; uvicorn must not take them over.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        await _warn_of_mixed_keys(runtime)
        log.info("API listening on http://%s:%d", settings.api_host, settings.api_port)
        try:
            async with app.state.mcp_sessions.run():  # the MCP endpoint's request handling
                await server.serve()
        finally:  # cancelled at stop: uvicorn leaves its listening sockets to whoever cancels
            for listener in getattr(server, "servers", []):
                listener.close()

    return Service(name="gateway", settings=settings, tasks=[read_decisions, serve_http])
