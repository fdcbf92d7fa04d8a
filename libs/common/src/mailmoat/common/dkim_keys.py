"""Our DKIM keys as the settings name them: dispatch signs outbound mail with them, and ingest
checks its own signature on the mail a complaint reports."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class DkimKeySetting(BaseModel):
    """Where a sending domain's DKIM key lives and the selector its public half is under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selector: str = Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$")
    private_key_file: Path = Field(description="PEM, RSA (2048 bits or more advised) or Ed25519.")


DKIM_KEYS_DESCRIPTION = (
    "DKIM signing keys by sending domain, as JSON: "
    '{"agents.example.com": {"selector": "mm1", "private_key_file": "/keys/mm1.pem"}}.'
)
