"""The audit chain in the database: sealing committed rows into their workspace's chain, signing
checkpoints of its head, and checking a workspace's chain (``audit_chain`` holds the rules).

Rows are written unsealed by whoever audits (in their own transactions, so no writer waits for
another workspace-wide), and policy's sealer links them, oldest first, about a second later.
Each workspace's chain is extended under its turn (``turns_for``, all of a round's at once), so
two sealers never give two rows one place; the unique (workspace, place) key would refuse it
anyway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.audit_chain import (
    CHECKPOINT_ACTION,
    Break,
    CheckpointKey,
    Walk,
    genesis,
    key_id,
    naive_utc,
    public_key_from_text,
    row_hash,
)
from mailmoat.common.db.locks import turns_for
from mailmoat.common.db.tables import AuditEntry
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings

CHAIN = "audit-chain"
"""The turn scope of a workspace's chain."""
PAGE = 1000
"""Rows a check reads at a time."""
WORKSPACES_A_ROUND = 100
"""Workspaces a sealing round takes at most, those whose rows waited longest first."""


async def seal(
    session: AsyncSession,
    *,
    limit: int,
    key: CheckpointKey,
    checkpoint_every: timedelta,
    producer: str,
) -> int:
    """Seal up to ``limit`` rows of each workspace that has unsealed ones, oldest first, in the
    caller's transaction (the ``WORKSPACES_A_ROUND`` whose rows waited longest). A workspace
    whose rows are all sealed now, with rows since its newest checkpoint and that checkpoint
    older than ``checkpoint_every`` (or none), gets a checkpoint of its head: an audit row,
    sealed in a later round. Returns how many rows were sealed."""
    waiting = (
        select(AuditEntry.workspace_id)
        .where(AuditEntry.seq.is_(None))
        .group_by(AuditEntry.workspace_id)
        .order_by(func.min(AuditEntry.created_at))  # the longest waiting first: none starves
        .limit(WORKSPACES_A_ROUND)
    )
    workspaces = list(await session.scalars(waiting))
    await turns_for(session, CHAIN, workspaces)  # at once, in one order: sealers never cycle
    sealed = 0
    for workspace_id in workspaces:
        seq, head, head_action = await _head(session, workspace_id)
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.workspace_id == workspace_id, AuditEntry.seq.is_(None))
            .order_by(AuditEntry.created_at, AuditEntry.id)
            .limit(limit)
        )
        taken = 0
        for row in rows:
            seq, taken = seq + 1, taken + 1
            row.seq, row.prev_sha256 = seq, head
            row.row_sha256 = head = row_hash(row, seq, head)
            head_action = row.action
        sealed += taken
        # Rows came since the newest checkpoint when the head is not that checkpoint.
        signable = taken < limit and head_action not in (None, CHECKPOINT_ACTION)
        if signable and await _checkpoint_due(session, workspace_id, checkpoint_every):
            _checkpoint(session, key, workspace_id, seq, head, producer)
    return sealed


async def has_unsealed(session: AsyncSession) -> bool:
    """Whether any workspace has rows to seal (a read the sealer makes before it writes)."""
    waiting = select(AuditEntry.id).where(AuditEntry.seq.is_(None)).limit(1)
    return (await session.scalar(waiting)) is not None


async def _head(session: AsyncSession, workspace_id: uuid.UUID) -> tuple[int, str, str | None]:
    """The place, hash and action of the workspace's newest sealed row (0, its genesis and
    none: no row yet)."""
    newest = await session.execute(
        select(AuditEntry.seq, AuditEntry.row_sha256, AuditEntry.action)
        .where(AuditEntry.workspace_id == workspace_id, AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    row = newest.first()
    if row is None or row.seq is None or row.row_sha256 is None:
        return 0, genesis(workspace_id), None
    return row.seq, row.row_sha256, row.action


async def _checkpoint_due(session: AsyncSession, workspace_id: uuid.UUID, every: timedelta) -> bool:
    """Whether the workspace's newest checkpoint is older than ``every``, or there is none."""
    last = await session.scalar(
        select(AuditEntry.created_at)
        .where(
            AuditEntry.workspace_id == workspace_id,
            AuditEntry.action == CHECKPOINT_ACTION,
            AuditEntry.seq.is_not(None),
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    return last is None or naive_utc(utcnow()) - naive_utc(last) >= every


def _checkpoint(
    session: AsyncSession,
    key: CheckpointKey,
    workspace_id: uuid.UUID,
    seq: int,
    head: str,
    producer: str,
) -> None:
    detail = key.sign(workspace_id, seq, head)
    record_audit(
        session,
        workspace_id=workspace_id,
        mail_id=uuid.uuid5(workspace_id, f"audit-checkpoint:{seq}"),
        action=CHECKPOINT_ACTION,
        actor="mailmoat",
        source=producer,
        target=f"seq={seq} sha256={head} key={detail['key_id']} signature={detail['signature']}",
        detail=detail,
        producer=producer,
    )


@dataclass(frozen=True)
class Verdict:
    """A workspace's chain as checked: ``broken`` is None when every link holds."""

    workspace_id: uuid.UUID
    rows: int
    head_sha256: str
    checkpoints: int
    unsealed: int
    broken: Break | None

    def as_json(self) -> dict[str, Any]:
        broken = self.broken
        return {
            "workspace_id": str(self.workspace_id),
            "intact": broken is None,
            "rows_checked": self.rows,
            "head": {"seq": self.rows, "sha256": self.head_sha256},
            "checkpoints_verified": self.checkpoints,
            "unsealed_rows": self.unsealed,
            "first_broken_link": None
            if broken is None
            else {
                "seq": broken.seq,
                "row_id": str(broken.row_id) if broken.row_id else None,
                "reason": broken.reason,
            },
        }


async def verify(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    trusted: list[Ed25519PublicKey],
    expected: tuple[int, str] | None = None,
) -> Verdict:
    """Check the workspace's chain from its first row, a page at a time, stopping at the first
    broken link; then the heads its checkpoints (and ``expected``, one kept elsewhere) signed."""
    walk = Walk(workspace_id, {key_id(k): k for k in trusted})
    after = 0
    while True:
        page = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.workspace_id == workspace_id, AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(PAGE)
            )
        )
        if not walk.feed(page) or len(page) < PAGE:
            break
        after = walk.rows
        session.expunge_all()  # a long chain is not kept in memory
    places = sorted({seq for seq, _ in walk.claims} | ({expected[0]} if expected else set()))
    signed = await session.execute(
        select(AuditEntry.seq, AuditEntry.row_sha256).where(
            AuditEntry.workspace_id == workspace_id, AuditEntry.seq.in_(places)
        )
    )
    walk.settle({seq: digest for seq, digest in signed if seq and digest}, expected)
    unsealed = await session.scalar(
        select(func.count()).where(
            AuditEntry.workspace_id == workspace_id, AuditEntry.seq.is_(None)
        )
    )
    return Verdict(workspace_id, walk.rows, walk.head, walk.checkpoints, unsealed or 0, walk.broken)


def checkpoint_key(settings: CommonSettings) -> CheckpointKey:
    """The deployment's checkpoint key: the configured file's, else derived from its secret."""
    if settings.audit_checkpoint_key_file is not None:
        return CheckpointKey.load(settings.audit_checkpoint_key_file)
    return CheckpointKey.derive(settings.webhook_secret_key.get_secret_value())


def trusted_keys(settings: CommonSettings) -> list[Ed25519PublicKey]:
    """The public keys whose checkpoints a check accepts: this deployment's and those listed."""
    listed = [public_key_from_text(text) for text in settings.audit_trusted_keys]
    return [checkpoint_key(settings).public, *listed]
