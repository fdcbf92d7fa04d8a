"""inbound integrity: outbox rows set aside when unpublishable, verdicts that dropped findings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "failed_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
    with op.batch_alter_table("scan_verdicts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("findings_dropped", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_verdicts", schema=None) as batch_op:
        batch_op.drop_column("findings_dropped")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("failed_at")
