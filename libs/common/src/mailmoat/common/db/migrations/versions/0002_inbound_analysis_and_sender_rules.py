"""inbound analysis and sender rules

Rows already in raw_messages get empty analysis columns (server defaults), so the
upgrade works on a populated database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:17:52.008818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("outbound_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("original_message_id", sa.String(length=300), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "received_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_reports_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reports")),
    )
    with op.batch_alter_table("feedback_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_reports_outbound_id"), ["outbound_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_reports_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_reports_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "inbox_sender_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("pattern", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("created_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_inbox_sender_rules_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_inbox_sender_rules_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_sender_rules")),
        sa.UniqueConstraint(
            "inbox_id", "pattern", name=op.f("uq_inbox_sender_rules_inbox_id_pattern")
        ),
    )
    with op.batch_alter_table("inbox_sender_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_sender_rules_inbox_id"), ["inbox_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbox_sender_rules_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withheld_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("raw_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_ip", sa.String(length=45), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("helo", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("structured", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("authentication", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("findings", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("invalid_mime", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("quarantine_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_messages", schema=None) as batch_op:
        batch_op.drop_column("quarantine_reason")
        batch_op.drop_column("invalid_mime")
        batch_op.drop_column("findings")
        batch_op.drop_column("authentication")
        batch_op.drop_column("structured")
        batch_op.drop_column("helo")
        batch_op.drop_column("client_ip")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("withheld_reason")

    with op.batch_alter_table("inbox_sender_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_sender_rules_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_sender_rules_inbox_id"))

    op.drop_table("inbox_sender_rules")
    with op.batch_alter_table("feedback_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_reports_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_reports_received_at"))
        batch_op.drop_index(batch_op.f("ix_feedback_reports_outbound_id"))

    op.drop_table("feedback_reports")
