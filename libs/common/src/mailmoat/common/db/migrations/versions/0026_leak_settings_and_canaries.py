"""leak settings and canaries: what an inbox does with a send that carries a secret, and the
canary token placed in the mail it receives

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 06:30:00.000000

``data_leak_action`` (hold, the default, or reject) and ``data_leak_exempt`` (kinds of leak
that only raise the risk score for the inbox), and ``canary_token`` (none unless enabled).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE: a batch rebuild would drop the table under the foreign keys of the
    # inbox's mail, which SQLite refuses once there is any.
    op.add_column(
        "inboxes",
        sa.Column("data_leak_action", sa.String(10), nullable=False, server_default="hold"),
    )
    op.add_column(
        "inboxes", sa.Column("data_leak_exempt", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column("inboxes", sa.Column("canary_token", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("inboxes", "canary_token")
    op.drop_column("inboxes", "data_leak_exempt")
    op.drop_column("inboxes", "data_leak_action")
