"""Opaque pagination cursors: the sort key of a page's last row, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from mailmoat.gateway.problems import Problem


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor that resumes after the row sorted at (``at``, ``row_id``)."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (timestamp, id) a cursor holds; a malformed one is a 422 naming the parameter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(
            422,
            "invalid_request",
            "cursor: not a cursor this API returned",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        ) from exc
