"""human review of held sends, per-inbox domain and keyword restrictions, audit detail

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mailmoat.common.db.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("policy_checks", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("held_reasons", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowed_recipient_domains", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("blocked_keywords", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("detail")
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.drop_column("blocked_keywords")
        batch_op.drop_column("allowed_recipient_domains")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("held_reasons")
        batch_op.drop_column("policy_checks")
