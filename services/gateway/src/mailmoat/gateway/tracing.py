"""A server span per API request (HTTP semantic conventions), the parent of what the request
stages: a send's trace runs from this call to the relay. A caller's ``traceparent`` is honoured,
so an agent's own trace can include its sends."""

from __future__ import annotations

from typing import Any

from opentelemetry import context, propagate
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailmoat.common.observability.tracing import tracer


class TraceRequests:
    """Pure ASGI middleware: no body is read or buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        token = context.attach(propagate.extract(carrier))
        status = 500
        attributes: dict[str, Any] = {"http.request.method": method, "url.path": scope["path"]}

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with tracer().start_as_current_span(
                method, kind=SpanKind.SERVER, attributes=attributes
            ) as span:
                try:
                    await self.app(scope, receive, sending)
                finally:
                    route = getattr(scope.get("route"), "path", None)
                    if route:
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
        finally:
            context.detach(token)
