"""The reviewer's web UI under ``/ui``: server-rendered pages (Jinja2, every value escaped), no
script at all, a Content-Security-Policy that allows none, forms guarded by a CSRF token and an
Origin check, and every action an API call made in-process with the reviewer's own key, so the
API's scopes, rules and audit apply unchanged. Mail HTML is never rendered, only shown as
source."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailmoat.gateway.ui.pages import build_router
from mailmoat.gateway.ui.session import Sealer

PREFIX = "/ui"
STATIC = Path(__file__).parent / "static"
HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}


def mount_ui(app: FastAPI, deployment_secret: bytes) -> None:
    """Serve the pages and their stylesheet on ``app``."""
    app.include_router(build_router(app, Sealer(deployment_secret)), prefix=PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="ui-static")


class UiHeaders:
    """ASGI middleware putting the UI's security headers on every ``/ui`` answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message["headers"] if k.decode().lower() not in HEADERS]
                message["headers"] = kept + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)
