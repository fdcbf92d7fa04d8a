"""dead letters: every record a consumer group gave up on, kept to be listed and replayed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:00:00.000000

A consumer that dead-letters a record writes a ``dead_letters`` row (its group, logical topic,
the record's key, payload and headers, the error, and the event's id and workspace when the
record parsed) before it publishes the record to ``<topic>.dlq``. ``mailmoat dlq replay`` puts
the payload back on its topic and stamps ``replayed_at``, ``replayed_by`` and ``replays``.
Nothing before this revision was recorded: the letters already on the ``.dlq`` topics stay
there only. On PostgreSQL the table gets the workspace wall of migration 0006; a letter with no
workspace is visible only to sessions that set none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = mailmoat.common.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("original_partition", sa.Integer(), nullable=False),
        sa.Column("original_offset", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("replayed_at", UTC_DATETIME, nullable=True),
        sa.Column("replayed_by", sa.String(length=200), nullable=True),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letters_consumer_event_id", ["consumer", "event_id"])
        batch_op.create_index("ix_dead_letters_replayed_at", ["replayed_at"])
    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        op.execute("ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE dead_letters FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY workspace_isolation ON dead_letters "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letters_replayed_at")
        batch_op.drop_index("ix_dead_letters_consumer_event_id")
    op.drop_table("dead_letters")
