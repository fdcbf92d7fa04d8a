"""messages: Message-ID header and thread id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:20:51.383740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id_header", sa.String(length=998), nullable=True))
        batch_op.add_column(sa.Column("thread_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_messages_message_id_header"), ["message_id_header"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_thread_id"), ["thread_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_thread_id"))
        batch_op.drop_index(batch_op.f("ix_messages_message_id_header"))
        batch_op.drop_column("thread_id")
        batch_op.drop_column("message_id_header")
