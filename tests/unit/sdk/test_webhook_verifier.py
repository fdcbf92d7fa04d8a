"""The SDK's Standard Webhooks verifier against the reference library's signatures and the
gateway's own signer, and its payload parser on each kind of event."""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from mailmoat.dispatch.adapters.webhooks import sign
from mailmoat_sdk import (
    AuditEvent,
    MessageEvent,
    OutboundEvent,
    SenderEvent,
    WebhookVerificationError,
    parse,
    verify,
    verify_and_parse,
)

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
BODY = json.dumps(
    {
        "type": "message.received",
        "timestamp": "2026-12-03T10:00:00+00:00",
        "data": {
            "message_id": "6f1c0e4e-8a51-4d5e-9f3b-0c2a7d9e1b11",
            "inbox": "agent@agents.example.com",
            "from": "ann@example.net",
            "subject": "Lunch",
            "text": "Lunch at noon?",
            "risk_reasons": [],
        },
    }
).encode()


def signed(body: bytes = BODY, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(stamp, UTC), body.decode())
    return {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": signature}


def test_a_reference_signature_verifies_and_parses() -> None:
    event = verify_and_parse(SECRET, BODY, signed())
    assert isinstance(event, MessageEvent)
    assert event.data.from_address == "ann@example.net"


def test_the_gateways_own_signature_verifies() -> None:
    stamp = int(time.time())
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    headers = {
        "Webhook-Id": "msg_2",
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": sign(key, "msg_2", stamp, BODY),
    }
    verify(SECRET, BODY, headers)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(BODY.replace(b"noon", b"nine"), signed(), id="tampered-body"),
        pytest.param(
            BODY, signed(secret="whsec_" + base64.b64encode(b"x" * 32).decode()), id="other-secret"
        ),
        pytest.param(BODY, signed(at=int(time.time()) - 3600), id="an-hour-old"),
        pytest.param(BODY, signed(at=int(time.time()) + 3600), id="from-the-future"),
        pytest.param(BODY, {**signed(), "webhook-id": "msg_other"}, id="other-id"),
        pytest.param(
            BODY, {k: v for k, v in signed().items() if k != "webhook-signature"}, id="unsigned"
        ),
        pytest.param(BODY, {**signed(), "webhook-timestamp": "soon"}, id="bad-timestamp"),
    ],
)
def test_what_the_gateway_did_not_sign_is_refused(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, body, headers)


def test_one_good_signature_among_several_suffices() -> None:
    headers = signed()
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    verify(SECRET, BODY, headers)


def test_each_kind_of_payload_parses_to_its_type() -> None:
    outbound = {"message_id": "6f1c0e4e-8a51-4d5e-9f3b-0c2a7d9e1b11", "inbox": "a@x", "to": ["b@y"]}
    sender = {"inbox": "a@x", "status": "suspended", "reason": "complaints"}
    audit = {"audit_id": "6f1c0e4e-8a51-4d5e-9f3b-0c2a7d9e1b12", "action": "outbound.sent"}
    at = "2026-12-03T10:00:00+00:00"
    assert isinstance(
        parse(json.dumps({"type": "outbound.sent", "timestamp": at, "data": outbound})),
        OutboundEvent,
    )
    assert isinstance(
        parse(json.dumps({"type": "sender.suspended", "timestamp": at, "data": sender})),
        SenderEvent,
    )
    # The audit stream names its events by action, so "outbound.sent" there is an audit row.
    assert isinstance(
        parse(json.dumps({"type": "outbound.sent", "timestamp": at, "data": audit})), AuditEvent
    )
