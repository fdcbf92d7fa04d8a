"""mail fingerprints: every stored mail's fingerprint in a narrow table of its own

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 07:00:00.000000

The outbound check for large copies of inbound mail reads a few hundred fingerprints a draft.
Kept on the message row, after its text, a fingerprint cost SQLite a walk through the text's
pages to reach. The fingerprints stored so far (on the message row) are copied over.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = mailmoat.common.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_fingerprints",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_mail_fingerprints_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_mail_fingerprints_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_mail_fingerprints")),
    )
    op.create_index(
        "ix_mail_fingerprints_workspace_id_received_at",
        "mail_fingerprints",
        ["workspace_id", "received_at"],
    )
    op.execute(
        "INSERT INTO mail_fingerprints "
        "(message_id, workspace_id, received_at, from_address, hashes, shingles) "
        "SELECT id, workspace_id, received_at, from_address, fingerprint, fingerprint_shingles "
        "FROM messages WHERE fingerprint IS NOT NULL AND fingerprint_shingles IS NOT NULL"
    )
    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        op.execute("ALTER TABLE mail_fingerprints ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE mail_fingerprints FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY workspace_isolation ON mail_fingerprints "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    op.drop_index("ix_mail_fingerprints_workspace_id_received_at", table_name="mail_fingerprints")
    op.drop_table("mail_fingerprints")
