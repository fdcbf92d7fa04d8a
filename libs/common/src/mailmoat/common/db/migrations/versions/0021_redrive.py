"""redrive: an outbox row remembers when it was settled and how often it was published again

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 21:00:00.000000

An outbox row is settled once every consumer owed its event was seen to have taken it
(``outbox.settled_at``); until then redrive may publish it again (``redriven_at``, ``redrives``).
Rows published more than seven days before this revision are taken as settled: their consumers
had days to take them, and redrive would otherwise read the whole history once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTLED_BEFORE = timedelta(days=7)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "settled_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "redriven_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("redrives", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index("ix_outbox_unsettled", ["producer", "settled_at", "id"])
        batch_op.create_index("ix_outbox_topic_key", ["topic", "key"])
    outbox = sa.table(
        "outbox",
        sa.column("published_at", mailmoat.common.db.base.UTCDateTime(timezone=True)),
        sa.column("settled_at", mailmoat.common.db.base.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.execute(
        outbox.update().where(outbox.c.published_at < now - SETTLED_BEFORE).values(settled_at=now)
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_topic_key")
        batch_op.drop_index("ix_outbox_unsettled")
        batch_op.drop_column("redrives")
        batch_op.drop_column("redriven_at")
        batch_op.drop_column("settled_at")
