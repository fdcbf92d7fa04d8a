"""Gateway settings: where the HTTP API listens."""

from __future__ import annotations

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """HTTP API settings (``MAILMOAT_API_*``)."""

    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8080)
