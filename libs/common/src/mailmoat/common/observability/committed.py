"""Metrics that only committed work moves.

A handler counts what it decided inside the transaction that records it; if that transaction
rolls back (a batch with a failing record, handled again record by record, or a retry after a
lost connection), the same decision is made and counted again. ``on_commit`` keeps the count
with the session's transaction instead: dropped when the transaction, or the savepoint it was
taken in, rolls back, and made when the outermost transaction commits. A stage's latency is
observed then too, so "stored" means committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from mailmoat.common.observability.metrics import observe_stage

_PENDING = "mailmoat.metrics.on_commit"

Pending = list[tuple[SessionTransaction, Callable[[], None]]]


def on_commit(session: AsyncSession | Session, action: Callable[[], None]) -> None:
    """Run ``action`` (a metric's increment) once the session's outermost transaction commits;
    never if the work it counts rolls back. Outside a transaction it runs at once."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    if transaction is None:
        action()
        return
    pending: Pending = sync.info.setdefault(_PENDING, [])
    pending.append((transaction, action))


def observe_stage_on_commit(session: AsyncSession | Session, stage: str, since: datetime) -> None:
    """``observe_stage`` when the work that ends the stage commits."""
    on_commit(session, lambda: observe_stage(stage, since))


def _within(transaction: SessionTransaction, outer: SessionTransaction) -> bool:
    found: SessionTransaction | None = transaction
    while found is not None:
        if found is outer:
            return True
        found = found.parent
    return False


def _split(session: Session, ended: SessionTransaction) -> Pending:
    """Take the pending actions taken within ``ended`` out of the session; return them."""
    pending: Pending = session.info.get(_PENDING, [])
    taken = [p for p in pending if _within(p[0], ended)]
    if taken:
        session.info[_PENDING] = [p for p in pending if not _within(p[0], ended)]
    return taken


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.get_nested_transaction() is not None or _PENDING not in session.info:
        return  # a savepoint released: its counts wait for the outermost commit
    root = session.get_transaction()
    if root is None:
        return
    for _, action in _split(session, root):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if _PENDING in session.info:
        _split(session, previous_transaction)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and _PENDING in session.info:
        _split(session, transaction)  # closed without a commit: nothing it counted happened
