"""The audit chain's row hash: one row, one hash, whatever the database gave back for its time
(naive UTC, or aware in any zone), and any field or link changed changes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from mailmoat.common.audit_chain import genesis, row_hash


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    workspace_id: uuid.UUID
    action: str
    actor: str
    source: str
    provider: str | None
    target: str
    subject_sha256: str | None
    detail: dict[str, Any] | None
    created_at: datetime
    seq: int | None = None
    prev_sha256: str | None = None
    row_sha256: str | None = None


ROW = Row(
    id=uuid.uuid4(),
    workspace_id=uuid.uuid4(),
    action="inbox.created",
    actor="api_key:mm_abc",
    source="api",
    provider=None,
    target="inbox:sales",
    subject_sha256=None,
    detail={"b": [1, 2], "a": "ünïcode"},
    created_at=datetime(2026, 12, 5, 10, 30, 0, 123456),
)


def test_the_same_moment_in_any_zone_hashes_alike() -> None:
    link = genesis(ROW.workspace_id)
    aware = ROW.created_at.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    assert row_hash(ROW, 1, link) == row_hash(replace(ROW, created_at=aware), 1, link)


def test_every_field_place_and_link_is_covered() -> None:
    link = genesis(ROW.workspace_id)
    base = row_hash(ROW, 1, link)
    changed = [
        replace(ROW, action="inbox.deleted"),
        replace(ROW, actor="api_key:mm_xyz"),
        replace(ROW, source="ui"),
        replace(ROW, provider="smtp:relay:25"),
        replace(ROW, target="inbox:other"),
        replace(ROW, subject_sha256="0" * 64),
        replace(ROW, detail={"b": [2, 1], "a": "ünïcode"}),
        replace(ROW, created_at=ROW.created_at + timedelta(microseconds=1)),
        replace(ROW, id=uuid.uuid4()),
        replace(ROW, workspace_id=uuid.uuid4()),
    ]
    assert all(row_hash(row, 1, link) != base for row in changed)
    assert row_hash(ROW, 2, link) != base
    assert row_hash(ROW, 1, "f" * 64) != base
    assert row_hash(replace(ROW, detail={"a": "ünïcode", "b": [1, 2]}), 1, link) == base
