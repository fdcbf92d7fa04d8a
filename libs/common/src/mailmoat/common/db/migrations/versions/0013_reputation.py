"""reputation: hourly buckets, sender standing, recipients written to; workspace sending status

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 12:02:44.167523
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reputation_buckets",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("hour", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("hard_bounces", sa.Integer(), nullable=False),
        sa.Column("soft_bounces", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("first_contacts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_reputation_buckets_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint(
            "scope", "scope_id", "epoch", "hour", name=op.f("pk_reputation_buckets")
        ),
    )
    with op.batch_alter_table("reputation_buckets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reputation_buckets_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "sender_standing",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column(
            "epoch_started_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("until", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("minute", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minute_sent", sa.Integer(), nullable=False),
        sa.Column("minute_first_contacts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sender_standing_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("scope", "scope_id", name=op.f("pk_sender_standing")),
    )
    with op.batch_alter_table("sender_standing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sender_standing_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "sent_recipients",
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "first_sent_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_sent_recipients_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sent_recipients_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("inbox_id", "recipient", name=op.f("pk_sent_recipients")),
    )
    with op.batch_alter_table("sent_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_recipients_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sending_status_until",
                mailmoat.common.db.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        for table in ("reputation_buckets", "sender_standing", "sent_recipients"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY workspace_isolation ON {table} "
                f"USING ({condition}) WITH CHECK ({condition})"
            )

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sending_status", sa.String(length=20), nullable=False, server_default="active"
            )
        )
        batch_op.add_column(
            sa.Column(
                "sending_status_until",
                mailmoat.common.db.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("sending_status_until")
        batch_op.drop_column("sending_status")

    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.drop_column("sending_status_until")

    with op.batch_alter_table("sent_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_recipients_workspace_id"))

    op.drop_table("sent_recipients")
    with op.batch_alter_table("sender_standing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_standing_workspace_id"))

    op.drop_table("sender_standing")
    with op.batch_alter_table("reputation_buckets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reputation_buckets_workspace_id"))

    op.drop_table("reputation_buckets")
