"""``mailmoat dlq`` prints a letter's payload as JSON when it is JSON, else as base64, and keeps
``list`` lines short."""

from __future__ import annotations

import base64
import uuid

from mailmoat.cli.dlq import decode_payload, detail, summary
from mailmoat.common.db.tables import DeadLetter
from mailmoat.common.events.base import utcnow


def letter(payload: bytes, error: str = "boom") -> DeadLetter:
    return DeadLetter(
        id=7,
        consumer="scanner-primary",
        topic="raw-mail",
        event_id=None,
        workspace_id=uuid.uuid4(),
        key="k",
        payload=payload,
        headers={"event-type": "RawMailReceived"},
        error_type="ValueError",
        error=error,
        original_partition=1,
        original_offset=42,
        created_at=utcnow(),
        replayed_at=None,
        replayed_by=None,
        replays=0,
    )


def test_a_json_payload_is_shown_as_json_and_anything_else_as_base64() -> None:
    assert decode_payload(b'{"a": 1}') == ("json", {"a": 1})
    for raw in (b"{not json", b"\xff\xfe"):
        assert decode_payload(raw) == ("base64", base64.b64encode(raw).decode())


def test_list_lines_leave_the_payload_out_and_cut_the_error() -> None:
    line = summary(letter(b"{}", error="x" * 500))
    assert "payload" not in line
    assert len(line["error"]) == 200
    assert line["event_id"] is None
    assert line["replayed_at"] is None


def test_show_has_everything() -> None:
    shown = detail(letter(b"\x00", error="x" * 500))
    assert shown["payload_encoding"] == "base64"
    assert len(shown["error"]) == 500
    assert shown["headers"] == {"event-type": "RawMailReceived"}
    assert (shown["original_partition"], shown["original_offset"]) == (1, 42)
