"""Opaque pagination cursors: the sort key of a page's last row, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from mailmoat.gateway.problems import Problem


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor that resumes after the row sorted at (``at``, ``row_id``)."""
    return _pack(f"{at.isoformat()}|{row_id}")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (timestamp, id) a cursor holds; a malformed one is a 422 naming the parameter."""
    try:
        at, _, row_id = _unpack(cursor).partition("|")
        return _aware(at), uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def encode_sender_cursor(at: datetime, kind: str, sender: str) -> str:
    """The cursor that resumes after the sender-graph edge sorted at (``at``, kind, sender)."""
    return _pack(json.dumps([at.isoformat(), kind, sender]))


def decode_sender_cursor(cursor: str) -> tuple[datetime, str, str]:
    """The (timestamp, kind, sender) a sender cursor holds; a malformed one is a 422."""
    try:
        at, kind, sender = json.loads(_unpack(cursor))
        if not isinstance(kind, str) or not isinstance(sender, str):
            raise ValueError("not a sender cursor")
        return _aware(at), kind, sender
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid() from exc


def _pack(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _unpack(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _aware(at: str) -> datetime:
    parsed = datetime.fromisoformat(at)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed


def _invalid() -> Problem:
    return Problem(
        422,
        "invalid_request",
        "cursor: not a cursor this API returned",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
    )
