"""authenticated feedback: the complaints and bounces reputation counted, each once

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counted_feedback",
        sa.Column("outbound_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("counted_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_counted_feedback_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint(
            "outbound_id", "recipient", "kind", name=op.f("pk_counted_feedback")
        ),
    )
    with op.batch_alter_table("counted_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counted_feedback_workspace_id"), ["workspace_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        op.execute("ALTER TABLE counted_feedback ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE counted_feedback FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY workspace_isolation ON counted_feedback "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    with op.batch_alter_table("counted_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counted_feedback_workspace_id"))

    op.drop_table("counted_feedback")
