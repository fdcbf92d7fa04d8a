"""Keyset pagination: a page of rows sorted by (time, id), the next page starting after the
last row's pair, so a page costs the same however deep it is and rows written meanwhile are
neither skipped nor repeated."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

Keyset = tuple[datetime, uuid.UUID]
"""The (time, id) of a page's last row."""

Ts = TypeVarTuple("Ts")


def oldest_first(
    query: Select[*Ts],
    at_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    after: Keyset | None,
    limit: int | None,
) -> Select[*Ts]:
    """``query`` sorted oldest first, from the row after ``after``, ``limit`` rows at most."""
    if after is not None:
        at, last = after
        query = query.where((at_column > at) | ((at_column == at) & (id_column > last)))
    query = query.order_by(at_column, id_column)
    return query if limit is None else query.limit(limit)
