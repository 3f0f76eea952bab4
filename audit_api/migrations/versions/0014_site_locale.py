"""site locale: the language of a site's alerts and PDF reports, and an alert channel's own (issue 13)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), server_default="zh-CN", nullable=False))
    with op.batch_alter_table("alert_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_channels", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("locale")
