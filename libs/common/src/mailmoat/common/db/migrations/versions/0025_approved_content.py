"""approved content: a send remembers the fingerprint of the draft that was approved

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 06:00:00.000000

Dispatch sends only a draft whose fingerprint is the one approved. Sends already approved and
waiting for dispatch are given the fingerprint of their draft as it stands, so an upgrade does
not fail them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mailmoat.common.mail.draft import content_sha256

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_outbound = sa.table(
    "outbound_messages",
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("recipients", sa.JSON()),
    sa.column("subject", sa.Text()),
    sa.column("text", sa.Text()),
    sa.column("html", sa.Text()),
    sa.column("approved_sha256", sa.String(64)),
)


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch rebuild of the table would drop it under
    # the cap ledger's foreign keys, which SQLite refuses once sends exist.
    op.add_column("outbound_messages", sa.Column("approved_sha256", sa.String(64), nullable=True))
    bind = op.get_bind()
    waiting = bind.execute(
        sa.select(_outbound.c.id, _outbound.c.recipients, _outbound.c.subject,
                  _outbound.c.text, _outbound.c.html)
        .where(_outbound.c.status == "approved")
    )  # fmt: skip
    for row in waiting.all():
        fingerprint = content_sha256(row.recipients, row.subject, row.text, row.html)
        bind.execute(
            sa.update(_outbound).where(_outbound.c.id == row.id).values(approved_sha256=fingerprint)
        )


def downgrade() -> None:
    op.drop_column("outbound_messages", "approved_sha256")
