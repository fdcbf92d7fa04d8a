"""send reservations: the write-ahead cap ledger

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:03:32.872586
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("outbound_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column(
            "reserved_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_send_reservations_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["outbound_id"],
            ["outbound_messages.id"],
            name=op.f("fk_send_reservations_outbound_id_outbound_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_send_reservations_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_reservations")),
        sa.UniqueConstraint(
            "outbound_id", "recipient", name=op.f("uq_send_reservations_outbound_id_recipient")
        ),
    )
    with op.batch_alter_table("send_reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_send_reservations_inbox_id"), ["inbox_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_send_reservations_recipient"), ["recipient"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_send_reservations_reserved_at"), ["reserved_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_send_reservations_workspace_id"), ["workspace_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        op.execute("ALTER TABLE send_reservations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE send_reservations FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY workspace_isolation ON send_reservations "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    with op.batch_alter_table("send_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_send_reservations_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_send_reservations_reserved_at"))
        batch_op.drop_index(batch_op.f("ix_send_reservations_recipient"))
        batch_op.drop_index(batch_op.f("ix_send_reservations_inbox_id"))

    op.drop_table("send_reservations")
