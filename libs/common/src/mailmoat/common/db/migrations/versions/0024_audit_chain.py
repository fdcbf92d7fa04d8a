"""audit chain: each audit row linked to the one before it in its workspace

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 02:20:00.000000

Policy's sealer gives each committed audit row its place in its workspace's chain (``seq``),
the hash of the row before it (``prev_sha256``) and its own (``row_sha256``). Rows already there
are sealed by its first rounds, oldest first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_sha256", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_seq"), ["seq"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_log_workspace_id_seq"), ["workspace_id", "seq"]
        )
        batch_op.create_index(
            "ix_audit_log_workspace_id_action_seq", ["workspace_id", "action", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_workspace_id_action_seq")
        batch_op.drop_constraint(batch_op.f("uq_audit_log_workspace_id_seq"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_audit_log_seq"))
        batch_op.drop_column("row_sha256")
        batch_op.drop_column("prev_sha256")
        batch_op.drop_column("seq")
