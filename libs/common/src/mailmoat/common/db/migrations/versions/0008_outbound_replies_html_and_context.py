"""outbound messages: reply target, sanitised HTML, context and reasoning

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 07:06:31.929104
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("in_reply_to", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("context_message_ids", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("reasoning", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("reasoning")
        batch_op.drop_column("context_message_ids")
        batch_op.drop_column("in_reply_to")
        batch_op.drop_column("html")
