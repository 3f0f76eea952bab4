"""site reports: periodic and on-demand PDF reports per site (issue 13)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:01:35.536154
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "site_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("scheduled", "on_demand", name="reporttrigger", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("schedule_key", sa.String(length=32), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "ready", "failed", name="reportstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("object_key", sa.String(length=1024), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_site_reports_requested_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_reports_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_reports")),
        sa.UniqueConstraint("object_key", name=op.f("uq_site_reports_object_key")),
        sa.UniqueConstraint("site_id", "schedule_key", name=op.f("uq_site_reports_site_id_schedule_key")),
    )
    with op.batch_alter_table("site_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_reports_site_id"), ["site_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("site_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_reports_site_id"))

    op.drop_table("site_reports")
