"""Request bodies are JSON: a body sent without ``Content-Type: application/json`` is a 415
before any route reads it (FastAPI would otherwise validate the bytes and answer a puzzling 422)."""

from __future__ import annotations

import email.message

from starlette.types import ASGIApp, Receive, Scope, Send

from mailmoat.gateway.limits import replaying
from mailmoat.gateway.problems import problem_response

WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters (charset) allowed."""
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class JsonBodies:
    """ASGI middleware answering 415 for a non-empty API request body that is not declared
    JSON. Bodiless calls (``POST .../release``) need no Content-Type."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._checked(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if is_json(headers.get(b"content-type", b"").decode("latin-1")):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None:
            # The body limit, outside this, has already refused a length that is not a number.
            empty = int(declared) == 0
            await (self.app if empty else self._refuse)(scope, receive, send)
            return
        await self._by_body(scope, receive, send)

    def _checked(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in WITH_BODY
            and str(scope["path"]).startswith(self.prefix)
        )

    async def _by_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A chunked body: read it (the body limit has already bounded it) to see if it is
        empty, then hand it on."""
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            415,
            "unsupported_media_type",
            "Request bodies are JSON: send them with 'Content-Type: application/json'",
        )
        await response(scope, receive, send)
