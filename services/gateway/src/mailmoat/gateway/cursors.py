"""Opaque pagination cursors: the sort key of a page's last row, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Query

from mailmoat.gateway.problems import Problem, invalid

T = TypeVar("T")
CursorParam = Annotated[
    str | None, Query(max_length=200, description="A page's ``next_cursor``: the next page.")
]
LimitParam = Annotated[int, Query(ge=1, le=200, description="At most this many items.")]


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor that resumes after the row sorted at (``at``, ``row_id``)."""
    return _pack(f"{at.isoformat()}|{row_id}")


def page_of(
    rows: Sequence[T], limit: int, key: Callable[[T], tuple[datetime, uuid.UUID]]
) -> tuple[list[T], str | None]:
    """The first ``limit`` of ``rows`` (fetched with one more, to know if there is a next
    page) and the cursor of the next page, or None on the last."""
    page = list(rows[:limit])
    return page, encode_cursor(*key(page[-1])) if len(rows) > limit else None


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
    return invalid(["query", "cursor"], "not a cursor this API returned")
