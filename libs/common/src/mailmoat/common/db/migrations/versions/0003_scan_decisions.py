"""scan decisions, verdict coverage and shadow

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:06:17.751072
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_decisions",
        sa.Column("mail_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("raw_ref", sa.Uuid(), nullable=False),
        sa.Column("deadline", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consensus", sa.String(length=10), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("withheld", sa.Boolean(), nullable=True),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_scan_decisions_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["raw_ref"], ["raw_messages.id"], name=op.f("fk_scan_decisions_raw_ref_raw_messages")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_scan_decisions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("mail_id", name=op.f("pk_scan_decisions")),
    )
    with op.batch_alter_table("scan_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_decisions_deadline"), ["deadline"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_scan_decisions_decided_at"), ["decided_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scan_decisions_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("scan_verdicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coverage", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("shadow", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_verdicts", schema=None) as batch_op:
        batch_op.drop_column("shadow")
        batch_op.drop_column("coverage")

    with op.batch_alter_table("scan_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_decisions_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_scan_decisions_decided_at"))
        batch_op.drop_index(batch_op.f("ix_scan_decisions_deadline"))

    op.drop_table("scan_decisions")
