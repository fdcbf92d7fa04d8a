"""What a webhook says, field by field: the ``data`` of each event type, as the SDK's webhook
models read it. A message or send deleted before its event was delivered is named by id alone
(``Named``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    def dumped(self) -> dict[str, Any]:
        """The JSON object a delivery carries (``from`` spelled as the API spells it)."""
        return self.model_dump(mode="json", by_alias=True)


class Named(_Data):
    """A message or send, by id and inbox."""

    message_id: str
    inbox: str


class MessageData(Named):
    """An inbound message as the API shows it to an agent (a withheld one without its subject
    or text: ``exposure.shown``)."""

    url: str
    status: str
    from_address: str = Field(alias="from")
    subject: str | None
    subject_sha256: str
    consensus: str
    risk_score: int
    risk_reasons: list[str]
    withheld_reason: str | None
    received_at: str
    thread_id: str | None
    text: str | None


class OutboundData(Named):
    """A send's new state."""

    url: str
    status: str
    to: list[str]
    subject: str
    risk_score: int
    error: dict[str, str] | None


class SenderData(_Data):
    """Reputation's word on the inbox as a sender."""

    inbox: str
    status: str
    reason: str | None
    url: str


class AuditData(_Data):
    """An audit row: who did what, by which path, through which provider, to whom; the subject
    only as its SHA-256."""

    action: str
    actor: str
    source: str
    provider: str | None
    target: str
    subject_sha256: str | None
    audit_id: str


Payload = Named | SenderData | AuditData
"""The ``data`` of any delivery."""
