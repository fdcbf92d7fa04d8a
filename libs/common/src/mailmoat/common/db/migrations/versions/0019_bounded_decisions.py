"""bounded decisions: flagged mail fingerprinted and indexed once, held sends given a deadline

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 17:00:00.000000

An inbound mail held for REVIEW or WITHHELD keeps the fingerprint of its text
(``messages.fingerprint``, ``messages.fingerprint_shingles``) and each of its hashes is a row of
``flagged_shingles``, so that the outbound copy check looks a draft's hashes up instead of
reading the workspace's flagged mail. Mails stored before this revision have no fingerprint:
policy's backfill gives them one, a few at a time, newest first (only those of the copy check's
seven-day lookback are ever needed).

A held send gets its deadline (``outbound_messages.expires_at``, indexed with ``status``) so that
the auto-reject sweep reads held sends by deadline. The sends held now get theirs here: their
request time plus their inbox's review window, as the sweep computed it until now.
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = mailmoat.common.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("fingerprint_shingles", sa.Integer(), nullable=True))
    op.create_table(
        "flagged_shingles",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("shingle_hash", sa.BigInteger(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_flagged_shingles_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_flagged_shingles_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("message_id", "shingle_hash", name=op.f("pk_flagged_shingles")),
    )
    with op.batch_alter_table("flagged_shingles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_flagged_shingles_lookup", ["workspace_id", "shingle_hash", "received_at"]
        )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTC_DATETIME, nullable=True))
        batch_op.create_index("ix_outbound_messages_status_expires_at", ["status", "expires_at"])
    _deadlines_of_held_sends()
    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        op.execute("ALTER TABLE flagged_shingles ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE flagged_shingles FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY workspace_isolation ON flagged_shingles "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def _deadlines_of_held_sends() -> None:
    outbound = sa.table(
        "outbound_messages",
        sa.column("id", sa.Uuid()),
        sa.column("inbox_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("created_at", UTC_DATETIME),
        sa.column("expires_at", UTC_DATETIME),
    )
    inboxes = sa.table(
        "inboxes", sa.column("id", sa.Uuid()), sa.column("approval_timeout_seconds", sa.Integer())
    )
    bind = op.get_bind()
    held = bind.execute(
        sa.select(outbound.c.id, outbound.c.created_at, inboxes.c.approval_timeout_seconds)
        .join(inboxes, inboxes.c.id == outbound.c.inbox_id)
        .where(outbound.c.status == "pending_approval")
    )
    for outbound_id, created_at, window in held.all():
        bind.execute(
            sa.update(outbound)
            .where(outbound.c.id == outbound_id)
            .values(expires_at=created_at + timedelta(seconds=window))
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_messages_status_expires_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("flagged_shingles", schema=None) as batch_op:
        batch_op.drop_index("ix_flagged_shingles_lookup")
    op.drop_table("flagged_shingles")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("fingerprint_shingles")
        batch_op.drop_column("fingerprint")
