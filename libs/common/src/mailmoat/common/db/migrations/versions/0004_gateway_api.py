"""gateway API: inbox settings, webhook endpoints, credit ledger, idempotent responses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:10:55.509977
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=50), nullable=False),
        sa.Column("ref_id", sa.Uuid(), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("created_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_credit_ledger_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
    )
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_ledger_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_ledger_ref_id"), ["ref_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_ledger_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "idempotent_responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_idempotent_responses_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_responses")),
        sa.UniqueConstraint(
            "workspace_id", "key", name=op.f("uq_idempotent_responses_workspace_id_key")
        ),
    )
    with op.batch_alter_table("idempotent_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotent_responses_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_idempotent_responses_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_webhook_endpoints_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoints_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "approval_timeout_seconds", sa.Integer(), nullable=False, server_default="86400"
            )
        )
        batch_op.add_column(sa.Column("hourly_send_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("daily_send_limit", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "deleted_at", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("daily_send_limit")
        batch_op.drop_column("hourly_send_limit")
        batch_op.drop_column("approval_timeout_seconds")

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_workspace_id"))

    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("idempotent_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotent_responses_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_idempotent_responses_created_at"))

    op.drop_table("idempotent_responses")
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_ledger_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_credit_ledger_ref_id"))
        batch_op.drop_index(batch_op.f("ix_credit_ledger_created_at"))

    op.drop_table("credit_ledger")
