"""Gateway settings: where the HTTP API listens."""

from __future__ import annotations

from pydantic import Field

from mailmoat.common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """HTTP API settings (``MAILMOAT_API_*``)."""

    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8080)
    api_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (413 above)."
    )
    api_rate_per_minute: int = Field(
        default=600, ge=1, description="Requests per API key per minute, in a burst or spread."
    )
    api_send_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a send call waits for policy's decision before answering queued.",
    )
    webhook_max_endpoints: int = Field(
        default=10,
        ge=1,
        le=1000,
        description=(
            "Webhook endpoints one workspace may hold (``MAILMOAT_WEBHOOK_MAX_ENDPOINTS``); "
            "one more is refused with 409 too_many_endpoints."
        ),
    )
    dev_outbox_dir: str = Field(
        default="",
        description=(
            "Embedded mode only (``MAILMOAT_DEV_OUTBOX_DIR``): the folder ``mailmoat dev``'s SMTP "
            "sink keeps relayed mail in, served at /api/v1/dev/outbox. Empty: no such route."
        ),
    )
