"""The gateway calling its own API in process, with a caller's key: the MCP endpoint's tools and
the review pages act through it, so the API's authentication, scopes, rate limit, rules and
audit apply to them exactly as to any other client."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from mailmoat.gateway.deps import SOURCE_HEADER
from mailmoat_sdk import AsyncMailmoat

IN_PROCESS = "http://gateway.internal"
"""The base URL of in-process calls (never resolved: the ASGI transport carries them)."""


def api_client(app: ASGIApp, token: str, source: str) -> AsyncMailmoat:
    """An SDK client of ``app``'s API with ``token``, audited as coming by ``source``."""
    return AsyncMailmoat(
        IN_PROCESS,
        token,
        transport=httpx.ASGITransport(app=app),
        extra_headers={SOURCE_HEADER: source},
    )
