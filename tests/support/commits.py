"""Counting the commits that did a kind of write: how batching is seen from outside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counted_commits(statement_prefix: str) -> Iterator[list[int]]:
    """Commits, on any engine in this process while the block runs, of transactions that ran a
    statement starting with ``statement_prefix`` (``INSERT INTO processed_events``)."""
    counter = [0]

    def wrote(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(statement_prefix):
            connection.info["mailmoat.counted"] = True

    def committed(connection: Any) -> None:
        if connection.info.pop("mailmoat.counted", False):
            counter[0] += 1

    event.listen(Engine, "before_cursor_execute", wrote)
    event.listen(Engine, "commit", committed)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", wrote)
        event.remove(Engine, "commit", committed)


@contextmanager
def counted_statements(statement_prefix: str, containing: str = "") -> Iterator[list[int]]:
    """Statements starting with ``statement_prefix`` (``SAVEPOINT``), and holding
    ``containing``, run on any engine in this process while the block runs."""
    counter = [0]

    def ran(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(statement_prefix) and containing in statement:
            counter[0] += 1

    event.listen(Engine, "before_cursor_execute", ran)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", ran)
