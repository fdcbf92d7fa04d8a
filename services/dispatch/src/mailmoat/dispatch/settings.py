"""Dispatch settings: the smarthost outbound mail is relayed through, and webhook limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

from mailmoat.common.settings import CommonSettings


class DkimKeySetting(BaseModel):
    """Where a sending domain's DKIM key lives and the selector its public half is under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selector: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$")
    private_key_file: Path = Field(description="PEM, RSA (2048 bits or more advised) or Ed25519.")


class DispatchSettings(CommonSettings):
    """Relay and webhook settings (``MAILMOAT_RELAY_*``, ``MAILMOAT_WEBHOOK_*``)."""

    relay_host: str = Field(default="127.0.0.1", description="Smarthost for outbound mail.")
    relay_port: int = Field(default=2526)
    relay_starttls: bool = Field(
        default=True, description="Require STARTTLS; turn off only for a local relay."
    )
    relay_timeout_seconds: float = Field(default=30.0, gt=0)
    dkim_keys: dict[str, DkimKeySetting] = Field(
        default_factory=dict,
        description=(
            "DKIM signing keys by sending domain, as JSON: "
            '{"agents.example.com": {"selector": "mm1", "private_key_file": "/keys/mm1.pem"}}.'
        ),
    )
    interrupted_send_seconds: float = Field(
        default=600.0,
        ge=60,
        description=(
            "A send still 'sending' this long after dispatch claimed it was interrupted "
            "mid-exchange: it is failed with its outcome unknown, never retried."
        ),
    )
    dkim_required: bool = Field(
        default=False,
        description="Fail, rather than send unsigned, mail from a domain without a DKIM key.",
    )
    webhook_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description=(
            "Longest one webhook attempt may take in all: resolving, connecting, sending and "
            "reading the whole answer. Past it the attempt failed and waits for its retry."
        ),
    )
    webhook_concurrency: int = Field(
        default=32, ge=1, le=1000, description="Webhook attempts in flight at once, in all."
    )
    webhook_per_workspace: int = Field(
        default=4,
        ge=1,
        description=(
            "Webhook attempts in flight at once for one workspace: its fair share, so one "
            "tenant's slow endpoints never hold another's deliveries."
        ),
    )
    webhook_per_target: int = Field(
        default=2, ge=1, description="Webhook attempts in flight at once to one host and port."
    )
    webhook_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How often the delivery worker looks for due deliveries (retries, and fresh ones a "
            "consumer could not hand over)."
        ),
    )
    egress_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description=(
            "Networks outbound HTTP may reach although they are not public (loopback, private, "
            'link-local...), as JSON: ["10.20.0.0/16"]. Empty: public addresses only.'
        ),
    )
